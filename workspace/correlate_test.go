package workspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	keyA = "NULL_CLASS_PTR_WRITE_c0000005_app.exe!CrashFunction"
	keyB = "INVALID_POINTER_READ_c0000005_app.exe!Parse"
	keyC = "INTEGER_DIVIDE_BY_ZERO_c0000094_app.exe!CrashFunction"
)

// correlationIndex indexes ten crashes and a snapshot:
//
//   - A (null write in CrashFunction): a1–a4, all loading foo.dll
//     7.0.1.2; app.exe 2.0.0.0 in a1–a3, 1.2.3.4 in a4.
//   - B (wild read in Parse): b1 (loads foo.dll), b2, b3 (no time of its
//     own: its mtime counts), app.exe 1.2.3.4.
//   - C (division by zero): c1–c3, app.exe 1.2.3.4.
//   - s1, a snapshot loading foo.dll and app.exe 2.0.0.0: not a crash.
//
// So foo.dll is in 5 of the 10 crashes, app.exe 2.0.0.0 in 3.
func correlationIndex(t *testing.T) (*DB, map[string]int64) {
	t.Helper()
	dir := t.TempDir()
	writeSymbols(t, dir)
	const day, hour = 86400, 3600
	base := uint32(1_709_251_200) // 2024-03-01T00:00:00Z
	v2, v1 := [4]uint16{2, 0, 0, 0}, [4]uint16{1, 2, 3, 4}
	read := []uint64{0, 0xdead0000}
	specs := map[string]crashSpec{
		"a1.dmp": {pid: 1, version: v2, other: "foo.dll", time: base + hour},
		"a2.dmp": {pid: 2, version: v2, other: "foo.dll", time: base + 23*hour},
		"a3.dmp": {pid: 3, version: v2, other: "foo.dll", time: base + day},
		"a4.dmp": {pid: 4, version: v1, other: "foo.dll", time: base + 2*day},
		"b1.dmp": {pid: 5, rip: 0x3010, params: read, other: "foo.dll", time: base + day + hour},
		"b2.dmp": {pid: 6, rip: 0x3010, params: read, time: base + day + 2*hour},
		"b3.dmp": {pid: 7, rip: 0x3020, params: read},
		"c1.dmp": {pid: 8, code: 0xc0000094, time: base + 2*day + hour},
		"c2.dmp": {pid: 9, code: 0xc0000094, time: base + 3*day},
		"c3.dmp": {pid: 10, code: 0xc0000094, time: base + 3*day + 5*hour},
		"s1.dmp": {pid: 11, version: v2, other: "foo.dll", noCrash: true, time: base},
	}
	for name, s := range specs {
		p := filepath.Join(dir, name)
		writeFile(t, p, s.bytes(t))
		mtime := time.Date(2024, 3, 6, 10, 0, 0, 0, time.UTC) // b3's day
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	db := openTemp(t)
	res, err := db.Index(context.Background(), []string{dir}, IndexOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != len(specs) || res.Errors != 0 {
		t.Fatalf("index: %+v", res)
	}
	ids := map[string]int64{}
	rows, err := db.sql.Query("SELECT id, path FROM dumps")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var p string
		rows.Scan(&id, &p)
		ids[filepath.Base(p)] = id
	}
	return db, ids
}

func corrStrings(cs []Correlation) []string {
	var out []string
	for _, c := range cs {
		name := c.Module
		if c.Version != "" {
			name += "@" + c.Version
		}
		out = append(out, fmt.Sprintf("%s %d/%d %.1f%% vs %d/%d %.1f%%", name, c.InBucket, c.BucketTotal, c.BucketPercent, c.Overall, c.Total, c.OverallPercent))
	}
	return out
}

func TestCorrelations(t *testing.T) {
	db, ids := correlationIndex(t)
	ctx := context.Background()
	bs, err := db.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, b := range bs {
		keys[b.Key] = b.Count
	}
	if !reflect.DeepEqual(keys, map[string]int{keyA: 4, keyB: 3, keyC: 3}) {
		t.Fatalf("buckets %v", keys)
	}
	check := func(key string, want []string) {
		t.Helper()
		cs, err := db.Correlations(ctx, key)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if got := corrStrings(cs); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q\nwant %q", key, got, want)
		}
	}
	// foo.dll: 100% of A, 50% of the crashes (the snapshot does not
	// count): twice the share. app.exe 2.0.0.0: 75% vs 30%. app.exe
	// itself, kernel32 and ntdll are in every crash.
	check(keyA, []string{
		"foo.dll 4/4 100.0% vs 5/10 50.0%",
		"foo.dll@7.0.1.2 4/4 100.0% vs 5/10 50.0%",
		"app.exe@2.0.0.0 3/4 75.0% vs 3/10 30.0%",
	})
	// app.exe 1.2.3.4: 100% vs 70%, not twice but 30 points above (the
	// margin rule); foo.dll 33% vs 50% is under-represented.
	check(keyB, []string{"app.exe@1.2.3.4 3/3 100.0% vs 7/10 70.0%"})
	check(keyC, []string{"app.exe@1.2.3.4 3/3 100.0% vs 7/10 70.0%"})

	if _, err := db.Correlations(ctx, "NO_SUCH_BUCKET"); !errors.Is(err, ErrNoBucket) {
		t.Errorf("unknown bucket: %v", err)
	}

	// The user's merges and splits: C joins A, a4 leaves for "mine".
	if err := db.MergeBuckets(ctx, keyC, keyA); err != nil {
		t.Fatal(err)
	}
	if err := db.SplitDump(ctx, ids["a4.dmp"], "mine"); err != nil {
		t.Fatal(err)
	}
	// A is now a1–a3 and c1–c3: foo.dll 50% vs 50%, app.exe 2.0.0.0 50%
	// vs 30% (neither twice nor 25 points): nothing stands out.
	check(keyA, nil)
	check("mine", []string{
		"foo.dll 1/1 100.0% vs 5/10 50.0%",
		"foo.dll@7.0.1.2 1/1 100.0% vs 5/10 50.0%",
		"app.exe@1.2.3.4 1/1 100.0% vs 7/10 70.0%",
	})
	if _, err := db.Correlations(ctx, keyC); !errors.Is(err, ErrNoBucket) {
		t.Errorf("merged-away bucket: %v", err)
	}
}

func timelineStrings(ps []TimelinePoint) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%s %s %d\n", p.Day.Format(time.RFC3339), p.Bucket, p.Count)
	}
	return b.String()
}

func TestTimeline(t *testing.T) {
	db, ids := correlationIndex(t)
	ctx := context.Background()
	ps, err := db.Timeline(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want := "2024-03-01T00:00:00Z " + keyA + " 2\n" +
		"2024-03-02T00:00:00Z " + keyB + " 2\n" +
		"2024-03-02T00:00:00Z " + keyA + " 1\n" +
		"2024-03-03T00:00:00Z " + keyC + " 1\n" +
		"2024-03-03T00:00:00Z " + keyA + " 1\n" +
		"2024-03-04T00:00:00Z " + keyC + " 2\n" +
		"2024-03-06T00:00:00Z " + keyB + " 1\n" // b3, by its mtime
	if got := timelineStrings(ps); got != want {
		t.Errorf("timeline:\n%s\nwant\n%s", got, want)
	}
	// since is inclusive, until exclusive.
	ps, err = db.Timeline(ctx, time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 3, 1, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want = "2024-03-02T00:00:00Z " + keyB + " 2\n" +
		"2024-03-02T00:00:00Z " + keyA + " 1\n" +
		"2024-03-03T00:00:00Z " + keyA + " 1\n" // a4 at 00:00; c1 at 01:00 is excluded
	if got := timelineStrings(ps); got != want {
		t.Errorf("timeline since/until:\n%s\nwant\n%s", got, want)
	}

	if err := db.MergeBuckets(ctx, keyC, keyA); err != nil {
		t.Fatal(err)
	}
	if err := db.SplitDump(ctx, ids["a4.dmp"], "mine"); err != nil {
		t.Fatal(err)
	}
	ps, err = db.Timeline(ctx, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	want = "2024-03-01T00:00:00Z " + keyA + " 2\n" +
		"2024-03-02T00:00:00Z " + keyB + " 2\n" +
		"2024-03-02T00:00:00Z " + keyA + " 1\n" +
		"2024-03-03T00:00:00Z " + keyA + " 1\n" +
		"2024-03-03T00:00:00Z mine 1\n" +
		"2024-03-04T00:00:00Z " + keyA + " 2\n" +
		"2024-03-06T00:00:00Z " + keyB + " 1\n"
	if got := timelineStrings(ps); got != want {
		t.Errorf("timeline after merge and split:\n%s\nwant\n%s", got, want)
	}

	// The timeline agrees with Buckets' counts.
	bs, _ := db.Buckets(ctx)
	sum := map[string]int{}
	for _, p := range ps {
		sum[p.Bucket] += p.Count
	}
	for _, b := range bs {
		if sum[b.Key] != b.Count {
			t.Errorf("%s: timeline %d, buckets %d", b.Key, sum[b.Key], b.Count)
		}
	}

	empty := openTemp(t)
	if ps, err := empty.Timeline(ctx, time.Time{}, time.Time{}); err != nil || len(ps) != 0 {
		t.Errorf("empty index: %v %v", ps, err)
	}
}
