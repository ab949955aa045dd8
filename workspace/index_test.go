package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

type fileRow struct {
	status, err string
	dump        int64
}

func files(t *testing.T, db *DB, dir string) map[string]fileRow {
	t.Helper()
	rows, err := db.sql.Query("SELECT path, status, COALESCE(error, ''), COALESCE(dump_id, 0) FROM files")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]fileRow{}
	for rows.Next() {
		var p string
		var r fileRow
		rows.Scan(&p, &r.status, &r.err, &r.dump)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = r
	}
	return m
}

// TestIndexKinds checks each kind of file a folder holds, content
// dedupe, incremental re-runs and changed files.
func TestIndexKinds(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	writeSymbols(t, dir)
	a := crashSpec{pid: 1, time: 1_709_251_200}.bytes(t)
	writeFile(t, filepath.Join(dir, "b/crash.dmp"), a)
	writeFile(t, filepath.Join(dir, "a/copy.dmp"), a) // same content, earlier path
	writeFile(t, filepath.Join(dir, "README"), []byte("Crash dumps from the field.\n"))
	writeFile(t, filepath.Join(dir, "oracle.txt"), []byte("0:000> k\n"))
	short, _ := minidumptest.New(minidumptest.LE).Truncate(20).Bytes()
	writeFile(t, filepath.Join(dir, "short.dmp"), short)
	writeFile(t, filepath.Join(dir, "empty.dmp"), nil)

	db := openTemp(t)
	ctx := context.Background()
	res, err := db.Index(ctx, []string{dir, filepath.Join(dir, "b/crash.dmp")}, IndexOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 7 || res.Added != 1 || res.Duplicates != 1 || res.NotDumps != 4 || res.Errors != 1 || len(res.Failures) != 1 {
		t.Errorf("first run: %+v", res.counts())
	}
	fs := files(t, db, dir)
	if len(fs) != 7 {
		t.Errorf("%d files recorded: %v", len(fs), fs)
	}
	for p, want := range map[string]string{"a/copy.dmp": StatusDump, "b/crash.dmp": StatusDuplicate, "README": StatusNotDump,
		"oracle.txt": StatusNotDump, "empty.dmp": StatusNotDump, "symbols/app.pdb/5A9832E5287241C1838ED98914E9B7FF1/app.sym": StatusNotDump, "short.dmp": StatusError} {
		if fs[p].status != want {
			t.Errorf("%s: %+v, want %s", p, fs[p], want)
		}
	}
	if fs["a/copy.dmp"].dump == 0 || fs["a/copy.dmp"].dump != fs["b/crash.dmp"].dump {
		t.Errorf("the copies are not one dump: %+v %+v", fs["a/copy.dmp"], fs["b/crash.dmp"])
	}
	if !strings.Contains(fs["short.dmp"].err, "header truncated") || !strings.Contains(fs["README"].err, "text") {
		t.Errorf("errors: %q, %q", fs["short.dmp"].err, fs["README"].err)
	}
	var format, dstatus string
	db.sql.QueryRow("SELECT COALESCE(format, ''), status FROM dumps WHERE id = ?", fs["short.dmp"].dump).Scan(&format, &dstatus)
	if !strings.Contains(format, "minidump") || dstatus != DumpError {
		t.Errorf("damaged dump: format %q status %q", format, dstatus)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM dumps"); n != 2 {
		t.Errorf("%d dumps, want 2 (the crash and the damaged one)", n)
	}

	// Unchanged: nothing is read.
	again, err := db.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Unchanged != 7 || again.Parsed != 0 || again.Hashed != 0 {
		t.Errorf("second run: %+v", again.counts())
	}

	// Touched, not changed: hashed, not parsed, still one dump.
	os.Chtimes(filepath.Join(dir, "a/copy.dmp"), time.Now(), time.Now().Add(-time.Hour))
	touched, err := db.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if touched.Unchanged != 7 || touched.Hashed != 1 || touched.Parsed != 0 || touched.Added != 0 {
		t.Errorf("touched run: %+v", touched.counts())
	}

	// The primary copy changes: its dump moves to the other path and the
	// new content is a new dump; then the other copy goes too and the
	// first content is forgotten.
	b := crashSpec{pid: 2, time: 1_709_251_300}.bytes(t)
	writeFile(t, filepath.Join(dir, "a/copy.dmp"), b)
	os.Chtimes(filepath.Join(dir, "a/copy.dmp"), time.Now(), time.Now().Add(time.Hour))
	third, err := db.Index(ctx, []string{dir}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if third.Added != 1 || third.Parsed != 1 || third.Unchanged != 6 {
		t.Errorf("third run: %+v", third.counts())
	}
	fs = files(t, db, dir)
	if fs["b/crash.dmp"].status != StatusDump || fs["a/copy.dmp"].dump == fs["b/crash.dmp"].dump {
		t.Errorf("after the change: %+v %+v", fs["a/copy.dmp"], fs["b/crash.dmp"])
	}
	var path string
	db.sql.QueryRow("SELECT path FROM dumps WHERE id = ?", fs["b/crash.dmp"].dump).Scan(&path)
	if path != filepath.Join(dir, "b/crash.dmp") {
		t.Errorf("dump path %q", path)
	}
	writeFile(t, filepath.Join(dir, "b/crash.dmp"), []byte("gone\n"))
	os.Chtimes(filepath.Join(dir, "b/crash.dmp"), time.Now(), time.Now().Add(time.Hour))
	if _, err := db.Index(ctx, []string{dir}, IndexOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM dumps"); n != 2 {
		t.Errorf("%d dumps, want 2 (the new crash and the damaged one)", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM modules WHERE dump_id NOT IN (SELECT id FROM dumps)"); n != 0 {
		t.Errorf("%d orphaned modules", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM search WHERE rowid NOT IN (SELECT id FROM dumps)"); n != 0 {
		t.Errorf("%d orphaned search rows", n)
	}
}

// TestIndexCancel stops a run and checks that what was written is whole
// and that the next run finishes the job.
func TestIndexCancel(t *testing.T) {
	dir := t.TempDir()
	for i := range 40 {
		writeFile(t, filepath.Join(dir, "d", name(i)), crashSpec{pid: uint32(i + 1)}.bytes(t))
	}
	db := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	res, err := db.Index(ctx, []string{dir}, IndexOptions{Workers: 2, Progress: func(done, _ int, _ string) {
		if done == 10 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if res.Added < 10 || res.Added >= 40 {
		t.Errorf("cancelled run added %d", res.Added)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM dumps"); n != res.Added {
		t.Errorf("%d dumps, result says %d", n, res.Added)
	}
	res2, err := db.Index(context.Background(), []string{dir}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added+res2.Added != 40 || res2.Unchanged != res.Added {
		t.Errorf("second run %+v after %+v", res2.counts(), res.counts())
	}
}

func name(i int) string { return "crash-" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + ".dmp" }

// TestIndexTimeout: a dump whose reading outlasts the per-dump timeout
// (and ignores its context) is recorded as an error and the others are
// indexed.
func TestIndexTimeout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "slow.dmp"), crashSpec{pid: 1}.bytes(t))
	writeFile(t, filepath.Join(dir, "fast.dmp"), crashSpec{pid: 2}.bytes(t))
	release := make(chan struct{})
	defer close(release)
	testHookAnalyse = func(path string) {
		if filepath.Base(path) == "slow.dmp" {
			<-release
		}
	}
	defer func() { testHookAnalyse = nil }()
	db := openTemp(t)
	start := time.Now()
	res, err := db.Index(context.Background(), []string{dir}, IndexOptions{Workers: 2, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: %+v", time.Since(start), res)
	if res.Added != 1 || res.Errors != 1 || len(res.Failures) != 1 || !strings.Contains(res.Failures[0], "slow.dmp: reading the dump took longer than 100ms") {
		t.Errorf("%+v", res)
	}
	fs := files(t, db, dir)
	if fs["slow.dmp"].status != StatusError || fs["fast.dmp"].status != StatusDump {
		t.Errorf("%+v", fs)
	}
}
