package platform

import (
	"errors"
	"testing"
)

// TestNativePicker checks the contract both build variants share: either a
// picker or ErrNoNativeDialog, never both and never neither. It does not
// show a dialog, which would need a desktop and a person.
func TestNativePicker(t *testing.T) {
	p, err := NativePicker()
	switch {
	case err != nil && !errors.Is(err, ErrNoNativeDialog):
		t.Fatalf("NativePicker: unexpected error %v", err)
	case err != nil && p != nil:
		t.Fatalf("NativePicker returned a picker and %v", err)
	case err == nil && p == nil:
		t.Fatal("NativePicker returned neither a picker nor an error")
	}
}

func TestDumpExtensionsHaveNoDots(t *testing.T) {
	// sqweek prepends "*." itself; a leading dot would make "*..dmp".
	for _, e := range dumpExtensions {
		if e == "" || e[0] == '.' {
			t.Errorf("extension %q: want a bare extension", e)
		}
	}
}
