package session

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestPDBFromPlainFolder opens symbolic's mini.dmp with --sympath set to
// the folder holding crash.exe and crash.pdb: the crashing frame is main
// at main.cpp:35, as llvm-symbolizer and the oracle say.
func TestPDBFromPlainFolder(t *testing.T) {
	t.Parallel()
	_, a := analyzed(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{SymPath: fixture.Corpus(t, "symbolic-pdb/windows")})
	f := a.Threads[a.Crashed].Frames[0].Analysis
	if f.Function != "main" || filepath.Base(filepathSlash(f.File)) != "main.cpp" || f.Line != 35 {
		t.Errorf("frame 0 = %+v, want main at main.cpp:35", f)
	}
}

// filepathSlash turns a Windows path into a slash path for filepath.Base.
func filepathSlash(p string) string { return filepath.ToSlash(strings.ReplaceAll(p, `\`, "/")) }
