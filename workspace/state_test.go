package workspace

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "workbench.json")
	if _, err := LoadState(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing state: err = %v, want fs.ErrNotExist", err)
	}
	want := State{Open: []string{"/d/a.dmp", "/d/b.dmp"}, Recent: []string{"/d/b.dmp"}}
	if err := SaveState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path)
	if err != nil || !slices.Equal(got.Open, want.Open) || !slices.Equal(got.Recent, want.Recent) {
		t.Fatalf("LoadState = %+v, %v; want %+v", got, err, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600 (the paths say whose dumps these are)", fi.Mode(), err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestStateDamaged: a state file cut short, as a writer without rename
// would leave it after a crash, gives a clear error and an empty state;
// a temporary file left by an interrupted SaveState changes nothing.
func TestStateDamaged(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "workbench.json")
	os.WriteFile(path, []byte(`{"open": ["/d/a.dmp", "/d/b`), 0o600)
	s, err := LoadState(path)
	if err == nil || !strings.Contains(err.Error(), "damaged") || len(s.Open) != 0 {
		t.Fatalf("damaged state: %+v, %v", s, err)
	}
	if err := SaveState(path, State{Open: []string{"/d/c.dmp"}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".workbench.json.123.tmp"), []byte(`{"open": ["/half`), 0o600)
	if s, err := LoadState(path); err != nil || !slices.Equal(s.Open, []string{"/d/c.dmp"}) {
		t.Fatalf("with a stray temporary file: %+v, %v", s, err)
	}
}

// TestStateSavedAtomically races writers of big states against a reader:
// every read must parse and be one of the states written, whole. A plain
// os.WriteFile (truncate, then write) fails this within a few rounds.
func TestStateSavedAtomically(t *testing.T) {
	path := filepath.Join(t.TempDir(), "workbench.json")
	state := func(w int) State {
		var s State
		for i := range 2000 {
			s.Open = append(s.Open, fmt.Sprintf("/dumps/writer-%d/crash-%04d.dmp", w, i))
		}
		return s
	}
	if err := SaveState(path, state(0)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 1; w <= 3; w++ {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := SaveState(path, state(w)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 300 {
		s, err := LoadState(path)
		if err != nil {
			t.Errorf("a reader saw a partial state: %v", err)
			break
		}
		if len(s.Open) != 2000 || !strings.HasPrefix(s.Open[1999], strings.TrimSuffix(s.Open[0], "0000.dmp")) {
			t.Errorf("a reader saw a mixed state: %d entries, first %q, last %q", len(s.Open), s.Open[0], s.Open[len(s.Open)-1])
			break
		}
	}
	close(stop)
	wg.Wait()
}
