package session

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestPDBFromPlainFolder opens symbolic's mini.dmp with --sympath set to
// the folder holding crash.exe and crash.pdb: the crashing frame is main
// at main.cpp:35 and its caller __scrt_common_main_seh at
// exe_common.inl:283 (unwound with the PDB's FrameData), as
// llvm-symbolizer and the oracle say.
func TestPDBFromPlainFolder(t *testing.T) {
	t.Parallel()
	_, a := analyzed(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{SymPath: fixture.Corpus(t, "symbolic-pdb/windows")})
	frames := a.Threads[a.Crashed].Frames
	for i, w := range []struct {
		fn, file string
		line     int
	}{{"main", "main.cpp", 35}, {"__scrt_common_main_seh", "exe_common.inl", 283}} {
		if i >= len(frames) {
			t.Fatalf("%d frames", len(frames))
		}
		f := frames[i].Analysis
		if f.Function != w.fn || filepath.Base(filepathSlash(f.File)) != w.file || f.Line != w.line {
			t.Errorf("frame %d = %+v, want %s at %s:%d", i, f, w.fn, w.file, w.line)
		}
	}
	// Frame 1 comes from main's FrameData program in the PDB, not a scan.
	if frames[1].Trust.String() != "cfi" {
		t.Errorf("frame 1 found by %s", frames[1].Trust)
	}
}

// filepathSlash turns a Windows path into a slash path for filepath.Base.
func filepathSlash(p string) string { return filepath.ToSlash(strings.ReplaceAll(p, `\`, "/")) }
