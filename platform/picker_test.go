package platform

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	for _, e := range DumpExtensions {
		if e == "" || e[0] == '.' {
			t.Errorf("extension %q: want a bare extension", e)
		}
	}
}

// TestHelperPicker drives the dialog helper's protocol with a stand-in
// script: a chosen path, a cancel, no desktop, and a failure.
func TestHelperPicker(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in is a shell script")
	}
	script := func(body string) helperPicker {
		p := filepath.Join(t.TempDir(), "crashbench-dialog")
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return helperPicker{path: p}
	}
	got, err := script(`[ "$1" = files ] && [ "$2" = "Open Crash Dump" ] && echo "/tmp/a b.dmp"`).OpenFiles("Open Crash Dump")
	if err != nil || len(got) != 1 || got[0] != "/tmp/a b.dmp" {
		t.Errorf("chosen: %q, %v", got, err)
	}
	if dir, err := script(`[ "$1" = folder ] && echo /var/crash`).OpenFolder("Watch"); err != nil || dir != "/var/crash" {
		t.Errorf("folder: %q, %v", dir, err)
	}
	if got, err := script(`exit 0`).OpenFiles("x"); err != nil || got != nil {
		t.Errorf("cancelled: %q, %v", got, err)
	}
	if _, err := script(`echo "no display" >&2; exit 3`).OpenFiles("x"); !errors.Is(err, ErrNoNativeDialog) {
		t.Errorf("no desktop: %v", err)
	}
	if _, err := script(`echo boom >&2; exit 1`).OpenFiles("x"); err == nil || errors.Is(err, ErrNoNativeDialog) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failure: %v", err)
	}
}
