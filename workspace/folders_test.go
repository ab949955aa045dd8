package workspace

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// TestWatchedFolders records folders once each, in order, and forgets them.
func TestWatchedFolders(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b, a} {
		if err := db.AddWatchedFolder(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.WatchedFolders(ctx)
	if err != nil || !slices.Equal(got, []string{a, b}) {
		t.Fatalf("folders %q, %v; want %q", got, err, []string{a, b})
	}
	if err := db.RemoveWatchedFolder(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.WatchedFolders(ctx); !slices.Equal(got, []string{b}) {
		t.Errorf("after removing %s: %q", a, got)
	}
}

// TestDumpOfFile finds a file's dump, also through a duplicate's path, and
// says no for a file that is not a dump or not indexed.
func TestDumpOfFile(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	a := crashSpec{pid: 1, time: 1_709_251_200}.bytes(t)
	writeFile(t, filepath.Join(dir, "crash.dmp"), a)
	writeFile(t, filepath.Join(dir, "copy.dmp"), a)
	writeFile(t, filepath.Join(dir, "README"), []byte("text\n"))
	db := openTemp(t)
	ctx := context.Background()
	if _, err := db.Index(ctx, []string{dir}, IndexOptions{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	id1, ok1, err1 := db.DumpOfFile(ctx, filepath.Join(dir, "crash.dmp"))
	id2, ok2, err2 := db.DumpOfFile(ctx, filepath.Join(dir, "copy.dmp"))
	if !ok1 || !ok2 || err1 != nil || err2 != nil || id1 != id2 || id1 == 0 {
		t.Errorf("crash.dmp %d %v %v, copy.dmp %d %v %v: want the same dump", id1, ok1, err1, id2, ok2, err2)
	}
	for _, p := range []string{"README", "absent.dmp"} {
		if id, ok, err := db.DumpOfFile(ctx, filepath.Join(dir, p)); ok || err != nil {
			t.Errorf("%s: dump %d, %v, %v; want none", p, id, ok, err)
		}
	}
}
