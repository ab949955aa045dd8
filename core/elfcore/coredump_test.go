package elfcore

import (
	"testing"
	"time"
)

func TestParseCoredumpName(t *testing.T) {
	t.Parallel()
	// As systemd 252 names them (coredump.c: make_filename), comm escaped
	// with \xNN for "/", "." and " ".
	c, ok := ParseCoredumpName("core.my\\x2eapp.1000.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.4242.1763852580123456.zst")
	if !ok {
		t.Fatal("not parsed")
	}
	want := Coredump{Comm: "my.app", UID: 1000, BootID: "0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928", PID: 4242,
		Time: time.Date(2025, 11, 22, 23, 3, 0, 123456000, time.UTC)}
	if c != want {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	for _, bad := range []string{
		"core.4242", // the kernel's core_pattern default
		"core.crashc.sigsegv",
		"core.x.1000.nothex-nothex-nothex-nothex-nothex12.1.2.zst",
		"core.x.1000.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.notapid.1.zst",
		"vmcore.x.1000.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.1.2",
	} {
		if _, ok := ParseCoredumpName(bad); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}
