package workspace

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestBuckets synthesizes recurrence sets and checks the exact groups:
// the same crash site across runs (different PIDs, ASLR bases, times) is
// one bucket; another function, another exception code are others; a
// snapshot is in none.
func TestBuckets(t *testing.T) {
	dir := t.TempDir()
	writeBucketDumps(t, dir)
	db := openTemp(t)
	res, err := db.Index(context.Background(), []string{dir}, IndexOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 10 || res.NotDumps != 1 || res.Errors != 0 {
		t.Fatalf("index: %+v", res)
	}
	bs, err := db.Buckets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Key         string
		Dumps       []string
		First, Last string
	}
	var gs []got
	for _, b := range bs {
		g := got{Key: b.Key, First: b.FirstSeen.Format("2006-01-02"), Last: b.LastSeen.Format("2006-01-02")}
		for _, d := range b.Dumps {
			g.Dumps = append(g.Dumps, filepath.Base(d))
		}
		if b.Count != len(b.Dumps) {
			t.Errorf("%s: count %d, %d dumps", b.Key, b.Count, len(b.Dumps))
		}
		gs = append(gs, g)
		t.Logf("%s (%d): %s", b.Key, b.Count, b.Why)
	}
	want := []got{
		{"NULL_CLASS_PTR_WRITE_c0000005_app.exe!CrashFunction", []string{"a2.dmp", "a1.dmp", "a3.dmp"}, "2024-03-01", "2024-03-06"},
		{"INTEGER_DIVIDE_BY_ZERO_c0000094_vendorhook.dll!unknown_function vendorhook.dll@0x1500", []string{"e1.dmp", "e2.dmp"}, "2024-03-08", "2024-03-09"},
		{"INVALID_POINTER_READ_c0000005_app.exe!Parse", []string{"b1.dmp", "b2.dmp"}, "2024-03-02", "2024-03-04"},
		{"INTEGER_DIVIDE_BY_ZERO_c0000094_vendorhook.dll!unknown_function vendorhook.dll@0x1600", []string{"e3.dmp"}, "2024-03-09", "2024-03-09"},
		{"INTEGER_DIVIDE_BY_ZERO_c0000094_app.exe!CrashFunction", []string{"c1.dmp"}, "2024-03-05", "2024-03-05"},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Errorf("buckets:\n got %+v\nwant %+v", gs, want)
	}
	if len(bs) > 0 {
		for _, s := range []string{"same bucket id NULL_CLASS_PTR_WRITE_c0000005_app.exe!CrashFunction", "exception code 0xc0000005", "same faulting frame app!CrashFunction+0x18", "3 runs"} {
			if !strings.Contains(bs[0].Why, s) {
				t.Errorf("why %q lacks %q", bs[0].Why, s)
			}
		}
	}
	if len(bs) > 2 && !strings.Contains(bs[2].Why, "same faulting function app!Parse (at different offsets)") {
		t.Errorf("why %q", bs[2].Why)
	}
	if len(bs) > 1 && !strings.Contains(bs[1].Why, "same location vendorhook.dll@0x1500") {
		t.Errorf("why %q", bs[1].Why)
	}

	// A user merge puts C into A's bucket, a split takes a3 out.
	if err := db.MergeBuckets(context.Background(), want[4].Key, want[0].Key); err != nil {
		t.Fatal(err)
	}
	var a3 int64
	db.sql.QueryRow("SELECT id FROM dumps WHERE path LIKE '%a3.dmp'").Scan(&a3)
	if err := db.SplitDump(context.Background(), a3, "mine"); err != nil {
		t.Fatal(err)
	}
	bs, _ = db.Buckets(context.Background())
	keys := map[string]int{}
	for _, b := range bs {
		keys[b.Key] = b.Count
	}
	if !reflect.DeepEqual(keys, map[string]int{want[0].Key: 3, want[1].Key: 2, want[2].Key: 2, want[3].Key: 1, "mine": 1}) {
		t.Errorf("after merge and split: %v", keys)
	}
}

// writeBucketDumps writes TestBuckets' recurrence sets into dir: A (3
// runs), B (2), C (1), E (3 at two sites) and a snapshot D.
func writeBucketDumps(t *testing.T, dir string) {
	t.Helper()
	writeSymbols(t, dir)
	const day = 86400
	base := uint32(1_709_251_200) // 2024-03-01
	specs := map[string]crashSpec{
		// A: null write in CrashFunction, 3 runs.
		"a1.dmp": {pid: 100, appBase: 0x7ff6_1000_0000, time: base + 2*day},
		"a2.dmp": {pid: 200, appBase: 0x7ff7_2000_0000, time: base},
		"a3.dmp": {pid: 300, appBase: 0x7ff8_3000_0000, time: base + 5*day},
		// B: a read at a wild address in Parse, 2 runs, at different
		// offsets in the function.
		"b1.dmp": {pid: 400, appBase: 0x7ff6_4000_0000, rip: 0x3010, params: []uint64{0, 0xdead0000}, time: base + day},
		"b2.dmp": {pid: 500, appBase: 0x7ff6_5000_0000, rip: 0x3020, params: []uint64{0, 0xdead0000}, time: base + 3*day},
		// C: integer division by zero in CrashFunction: another code.
		"c1.dmp": {pid: 600, appBase: 0x7ff6_6000_0000, code: 0xc0000094, time: base + 4*day},
		// E: a crash in vendorhook.dll, which has no symbols: the
		// module-relative offset separates the sites.
		"e1.dmp": {pid: 800, inOther: true, other: "vendorhook.dll", rip: 0x1500, code: 0xc0000094, time: base + 7*day},
		"e2.dmp": {pid: 801, inOther: true, other: "vendorhook.dll", rip: 0x1500, code: 0xc0000094, time: base + 8*day},
		"e3.dmp": {pid: 802, inOther: true, other: "vendorhook.dll", rip: 0x1600, code: 0xc0000094, time: base + 8*day},
		// D: a snapshot of the same process: no crash, no bucket.
		"d1.dmp": {pid: 700, appBase: 0x7ff6_7000_0000, noCrash: true, time: base + 6*day},
	}
	for name, s := range specs {
		writeFile(t, filepath.Join(dir, name), s.bytes(t))
	}
}

// TestBucketOverridesUndo: merges and moves are refused for unknown
// buckets and dumps, and undone one by one.
func TestBucketOverridesUndo(t *testing.T) {
	dir := t.TempDir()
	writeBucketDumps(t, dir)
	db := openTemp(t)
	ctx := context.Background()
	if _, err := db.Index(ctx, []string{dir}, IndexOptions{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	counts := func() map[string]int {
		bs, err := db.Buckets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, b := range bs {
			m[b.Key] = b.Count
		}
		return m
	}
	before := counts()
	const a = "NULL_CLASS_PTR_WRITE_c0000005_app.exe!CrashFunction"
	const c = "INTEGER_DIVIDE_BY_ZERO_c0000094_app.exe!CrashFunction"
	if before[a] != 3 || before[c] != 1 {
		t.Fatalf("buckets before: %v", before)
	}
	if err := db.MergeBuckets(ctx, "no such bucket", a); !errors.Is(err, ErrNoBucket) {
		t.Errorf("merging an unknown bucket: %v, want ErrNoBucket", err)
	}
	if err := db.MergeBuckets(ctx, a, a); err == nil {
		t.Error("merging a bucket into itself: no error")
	}
	if err := db.SplitDump(ctx, 1<<40, "x"); !errors.Is(err, ErrNoDump) {
		t.Errorf("moving an unknown dump: %v, want ErrNoDump", err)
	}

	// C into a new name, then that name into A: a chain.
	if err := db.MergeBuckets(ctx, c, "TICKET-42"); err != nil {
		t.Fatal(err)
	}
	if known, err := db.BucketKnown(ctx, "TICKET-42"); err != nil || !known {
		t.Errorf("BucketKnown(target of a merge) = %v, %v", known, err)
	}
	if got := counts(); got["TICKET-42"] != 1 || got[c] != 0 {
		t.Errorf("after merging C into TICKET-42: %v", got)
	}
	if err := db.MergeBuckets(ctx, "TICKET-42", a); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got[a] != 4 {
		t.Errorf("after the chain into A: %v", got)
	}
	bs, _ := db.Buckets(ctx)
	if i := slices.IndexFunc(bs, func(b Bucket) bool { return b.Key == a }); i < 0 || !reflect.DeepEqual(bs[i].Merged, []string{c}) {
		t.Errorf("A's merged buckets: %+v, want [%s] (the dump's own key, whatever the chain)", bs, c)
	}
	var a3 int64
	db.sql.QueryRow("SELECT id FROM dumps WHERE path LIKE '%a3.dmp'").Scan(&a3)
	if err := db.SplitDump(ctx, a3, "mine"); err != nil {
		t.Fatal(err)
	}
	if got := counts(); got[a] != 3 || got["mine"] != 1 {
		t.Errorf("after moving a3: %v", got)
	}
	if into, ok, err := db.MovedTo(ctx, a3); into != "mine" || !ok || err != nil {
		t.Errorf("MovedTo(a3) = %q, %v, %v", into, ok, err)
	}

	// A note on the bucket A (with C merged in) shows on it.
	if _, err := db.AddBucketNote(ctx, "NO SUCH", "x"); !errors.Is(err, ErrNoBucket) {
		t.Errorf("a note on an unknown bucket: %v", err)
	}
	if _, err := db.AddBucketNote(ctx, a, "  "); err == nil {
		t.Error("an empty bucket note was taken")
	}
	if _, err := db.AddBucketNote(ctx, a, "known: fixed in 2.1"); err != nil {
		t.Fatal(err)
	}
	bs, _ = db.Buckets(ctx)
	for _, b := range bs {
		if want := b.Key == a; want != (len(b.Notes) == 1 && b.Notes[0].Text == "known: fixed in 2.1" && b.Notes[0].Bucket == a) {
			t.Errorf("bucket %s notes %+v", b.Key, b.Notes)
		}
	}
	if n, err := db.Unsplit(ctx, a3); err != nil || n != 1 {
		t.Fatalf("Unsplit = %d, %v", n, err)
	}
	if _, ok, err := db.MovedTo(ctx, a3); ok || err != nil {
		t.Errorf("MovedTo after Unsplit: %v, %v", ok, err)
	}
	if n, err := db.Unmerge(ctx, "TICKET-42"); err != nil || n != 1 {
		t.Fatalf("Unmerge(TICKET-42) = %d, %v", n, err)
	}
	if got := counts(); got["TICKET-42"] != 1 || got[a] != 3 {
		t.Errorf("after undoing the move and the second merge: %v", got)
	}
	if n, err := db.Unmerge(ctx, c); err != nil || n != 1 {
		t.Fatalf("Unmerge(C) = %d, %v", n, err)
	}
	if got := counts(); !reflect.DeepEqual(got, before) {
		t.Errorf("after undoing everything:\n got %v\nwant %v", got, before)
	}
}
