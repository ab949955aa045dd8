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
	checkMiniFrames(t, a)
	frames := a.Threads[a.Crashed].Frames
	// Frame 1 comes from main's FrameData program in the PDB, not a scan.
	if frames[1].Trust.String() != "cfi" {
		t.Errorf("frame 1 found by %s", frames[1].Trust)
	}
}

// filepathSlash turns a Windows path into a slash path for filepath.Base.
func filepathSlash(p string) string { return filepath.ToSlash(strings.ReplaceAll(p, `\`, "/")) }
