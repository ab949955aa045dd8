package workspace

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestPrune deletes dumps from a folder after indexing it: a dump whose
// every copy is gone is forgotten with its notes; a dump with a copy left
// is listed under the copy; a folder that vanished whole (an unmounted
// share) keeps its dumps.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeBucketDumps(t, filepath.Join(dir, "a"))
	share := filepath.Join(dir, "share")
	writeBucketDumps(t, share) // the same contents again: duplicates of a/
	db := openTemp(t)
	if _, err := db.Index(ctx, []string{dir}, IndexOptions{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	dumps := count(t, db, "SELECT COUNT(*) FROM dumps")
	var b1 int64
	db.sql.QueryRow("SELECT id FROM dumps WHERE path = ?", filepath.Join(dir, "a", "b1.dmp")).Scan(&b1)
	if _, err := db.AddNote(ctx, b1, "about b1"); err != nil {
		t.Fatal(err)
	}

	// Nothing deleted: nothing pruned.
	if res, err := db.Prune(ctx); err != nil || res.Files != 0 || res.Dumps != 0 {
		t.Fatalf("Prune with nothing deleted: %+v, %v", res, err)
	}
	// a/a1.dmp goes (share/a1.dmp is the same dump): the dump stays under
	// the share's path. Both copies of b1 go: b1 is forgotten, its note too.
	for _, p := range []string{"a/a1.dmp", "a/b1.dmp", "share/b1.dmp"} {
		if err := os.Remove(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 3 || res.Dumps != 1 || res.Kept != 0 {
		t.Errorf("Prune: %+v, want 3 files and 1 dump", res)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM dumps"); n != dumps-1 {
		t.Errorf("%d dumps after pruning, want %d", n, dumps-1)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM notes"); n != 0 {
		t.Errorf("%d notes left, want b1's gone with it", n)
	}
	if id, ok, _ := db.DumpOfFile(ctx, filepath.Join(share, "a1.dmp")); !ok {
		t.Error("share/a1.dmp is no longer indexed")
	} else if n := count(t, db, "SELECT COUNT(*) FROM dumps WHERE id = ? AND path = ?", id, filepath.Join(share, "a1.dmp")); n != 1 {
		t.Error("a1's dump is not listed under the copy left")
	}
	bs, err := db.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		for _, p := range b.Dumps {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("bucket %s lists %s: %v", b.Key, p, err)
			}
		}
	}
	if hits, err := db.Search(ctx, "share"); err != nil || !slices.ContainsFunc(hits, func(h SearchHit) bool { return h.Path == filepath.Join(share, "a1.dmp") }) {
		t.Errorf("search by the new path: %v, %v", hits, err)
	}

	// The share vanishes whole: its dumps are kept and said to be.
	if err := os.Rename(share, share+".offline"); err != nil {
		t.Fatal(err)
	}
	res, err = db.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 0 || res.Dumps != 0 || res.Kept == 0 || !slices.Contains(res.MissingFolder, share) {
		t.Errorf("Prune with the share gone: %+v", res)
	}
}
