// Package golden compares test output with files under testdata/golden and
// rewrites them when tests run with -update, the stdlib idiom. Review the
// rewritten files with git diff before committing them.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

// pkgDir is the test's package directory, taken before any test changes
// the working directory (t.Chdir), so goldens always land beside the test.
var pkgDir, _ = os.Getwd()

// Updating reports whether -update was given.
func Updating() bool { return *update }

// Check compares got with testdata/golden/<name> in the calling package's
// directory. With -update it writes got there instead. A mismatch fails the
// test with the first differing lines.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join(pkgDir, "testdata", "golden", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update and review git diff):\n%s", path, Diff(string(want), string(got)))
	}
}

// Diff returns the differing lines of want and got, at most 20 of them.
func Diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(":\n  want: " + wl + "\n  got:  " + gl + "\n")
		if shown++; shown == 20 {
			b.WriteString("  ...\n")
			break
		}
	}
	return b.String()
}
