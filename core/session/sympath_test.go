package session

import (
	"slices"
	"strings"
	"testing"
)

func TestSymbolPathDirs(t *testing.T) {
	t.Parallel()
	store, flat := t.TempDir(), t.TempDir()
	dirs, notes := SymbolPathDirs("srv*" + store + ";" + flat + ";/no/such/dir;srv*" + store + "*https://msdl.microsoft.com/download/symbols;srv*/not/yet*https://x.invalid;symsrv*other.dll*" + flat)
	// Path order, each folder once (the second srv* names the same store).
	if want := []string{store, flat}; !slices.Equal(dirs, want) {
		t.Errorf("dirs %q, want %q", dirs, want)
	}
	// A missing folder and an unusable entry are reported; a server's
	// cache that does not exist yet is not.
	if len(notes) != 2 || !strings.Contains(notes[0], "other.dll") || !strings.Contains(notes[1], "/no/such/dir") {
		t.Errorf("notes %q", notes)
	}
}
