package elfsym

import (
	"context"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
)

// TestSectionCache builds a program with zlib-compressed DWARF, looks a
// function up through a Provider with a cache, and checks that the
// inflated sections land in the cache by build id, that a later load reads
// the same answers from it, and that a damaged entry is ignored and
// rewritten.
func TestSectionCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "p.c")
	if err := os.WriteFile(src, []byte("__attribute__((noinline)) int work(int x) { return x * 7; }\nint main(int c, char **v) { return work(c); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "p")
	if out, err := exec.Command("gcc", "-g", "-O1", "-Wl,--compress-debug-sections=zlib", "-Wl,--build-id", "-o", exe, src).CombinedOutput(); err != nil {
		t.Skipf("gcc: %v\n%s", err, out)
	}
	id, err := BuildID(exe)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Open(exe) // no cache: inflated in memory
	if err != nil {
		t.Fatal(err)
	}
	var rva uint64
	for s := range want.Symbols {
		if s.Name == "work" {
			rva = s.Addr
		}
	}
	if rva == 0 {
		t.Fatal("no function work")
	}
	wantSym, _ := want.LookupRVA(rva + 1)

	cache := filepath.Join(dir, "cache")
	lookup := func() {
		t.Helper()
		p := &Provider{Finder: &Finder{Files: []string{exe}}, CacheDir: cache}
		tab, err := p.Load(context.Background(), model.Module{Base: 0x1000, Size: 0x100000, Path: exe, BuildID: id})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := tab.LookupRVA(rva + 1)
		if got.Name != wantSym.Name || got.File != wantSym.File || got.Line != wantSym.Line {
			t.Fatalf("cached lookup %+v, uncached %+v", got, wantSym)
		}
	}
	lookup()
	info := filepath.Join(cache, hex.EncodeToString(id), "debug_info")
	st, err := os.Stat(info)
	if err != nil {
		t.Fatalf("no cached .debug_info: %v", err)
	}
	if st.Size() == 0 {
		t.Fatal("empty cache entry")
	}
	lookup() // from the cache
	// A damaged entry (here cut short) is ignored and written again.
	if err := os.Truncate(info, st.Size()/2); err != nil {
		t.Fatal(err)
	}
	lookup()
	if st2, err := os.Stat(info); err != nil || st2.Size() != st.Size() {
		t.Errorf("damaged entry not rewritten: %v %v", st2, err)
	}
}

func TestPruneSectionCache(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for i, name := range []string{"aa", "bb", "cc"} {
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "debug_info"), make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
		when := old.Add(time.Duration(i) * time.Minute) // aa used longest ago
		if err := os.Chtimes(d, when, when); err != nil {
			t.Fatal(err)
		}
	}
	pruneSectionCache(root, 2500)
	for name, kept := range map[string]bool{"aa": false, "bb": true, "cc": true} {
		if _, err := os.Stat(filepath.Join(root, name)); (err == nil) != kept {
			t.Errorf("%s kept = %v, want %v", name, err == nil, kept)
		}
	}
}
