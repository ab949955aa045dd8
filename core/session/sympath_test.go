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
	// A missing folder is reported; stores and servers are not.
	if len(notes) != 1 || !strings.Contains(notes[0], "/no/such/dir") {
		t.Errorf("notes %q", notes)
	}
}
