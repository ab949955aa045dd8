package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

// waitFor polls cond until it holds or timeout passes. Loads finish on
// their own goroutines; the poll only bounds how long a broken load may
// hang the test, it asserts nothing about timing. cond runs on the UI
// thread (onUI), after the UI work queued so far, so it reads the views
// without racing them; it must not wait for the UI itself.
func waitFor(t *testing.T, what string, cond func() bool, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		onUIWait(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeScenario writes a named minidumptest scenario to a temporary file.
func writeScenario(t *testing.T, name string) string {
	t.Helper()
	mk, ok := minidumptest.Scenarios()[name]
	if !ok {
		t.Fatalf("no minidump scenario %q", name)
	}
	b, err := mk().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, name+".dmp", b)
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// textFile is a file that is plainly not a dump.
func textFile(t *testing.T) string {
	return writeFile(t, "notes.txt", []byte("these are my notes about the crash\n"))
}
