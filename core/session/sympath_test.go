package session

import (
	"slices"
	"strings"
	"testing"
)

func TestSymbolPathDirs(t *testing.T) {
	t.Parallel()
	store, flat := t.TempDir(), t.TempDir()
	dirs, notes := SymbolPathDirs("srv*" + store + ";" + flat + ";/no/such/dir;srv*" + store + "*https://msdl.microsoft.com/download/symbols")
	if want := []string{store, flat, store}; !slices.Equal(dirs, want) {
		t.Errorf("dirs %q, want %q", dirs, want)
	}
	// A missing folder and the URL are reported; a local store alone is not.
	if len(notes) != 2 || !strings.Contains(notes[0], "/no/such/dir") || !strings.Contains(notes[1], "downloading") {
		t.Errorf("notes %q", notes)
	}
}
