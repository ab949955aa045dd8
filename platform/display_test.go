package platform

import (
	"runtime"
	"testing"
)

func TestNoDisplay(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		if why := NoDisplay(env(nil)); why != "" {
			t.Fatalf("NoDisplay = %q on %s", why, runtime.GOOS)
		}
		return
	}
	if NoDisplay(env(nil)) == "" {
		t.Error("no DISPLAY and no WAYLAND_DISPLAY: NoDisplay says a window can open")
	}
	for _, k := range []string{"DISPLAY", "WAYLAND_DISPLAY"} {
		if why := NoDisplay(env(map[string]string{k: ":1"})); why != "" {
			t.Errorf("with %s set: NoDisplay = %q", k, why)
		}
	}
}
