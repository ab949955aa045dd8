//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHeadlessHandsOverToWorkbench: the headless bin/crashbench runs
// commands itself and hands a request for the window (files, or nothing)
// to crashbench-workbench beside it, in place, with the same arguments and
// its exit status; without that binary it says so.
func TestHeadlessHandsOverToWorkbench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t, "sqlite_fts5 headless")
	env := []string{"LANG=C.UTF-8", "XDG_CACHE_HOME=" + t.TempDir()}

	_, errs, code := run(t, bin, env, "a.dmp")
	if code != 1 || !strings.Contains(errs, "no crashbench-workbench beside it") {
		t.Errorf("without the workbench: exit %d, stderr %q", code, errs)
	}

	// A stand-in for the GUI build that says how it was called.
	fake := filepath.Join(filepath.Dir(bin), "crashbench-workbench")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"workbench $# $*\"\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"a.dmp", "b dump.dmp"}, {}} {
		out, errs, code := run(t, bin, env, args...)
		want := "workbench " + itoa(len(args)) + " " + strings.Join(args, " ")
		if code != 7 || errs != "" || strings.TrimSpace(out) != strings.TrimSpace(want) {
			t.Errorf("crashbench %q: exit %d, out %q, stderr %q; want the workbench called with them", args, code, out, errs)
		}
	}
	// Commands stay here.
	sample, _ := filepath.Abs("testdata/sample/sample.dmp")
	if out, _, code := run(t, bin, env, "info", sample); code != 0 || !strings.Contains(out, "minidump") {
		t.Errorf("info: exit %d, out %q", code, out)
	}
	if out, _, code := run(t, bin, env, "help"); code != 0 || strings.Contains(out, "workbench 1") {
		t.Errorf("help: exit %d, out %q", code, out)
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
