package workspace

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestIndexCorpus indexes the whole shared corpus and checks every file
// against what core/dump says it is: each dump recorded once (by
// content), damaged dumps with their error, non-dumps as not-dumps. A
// second run over the unchanged corpus parses and hashes nothing.
func TestIndexCorpus(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	if testing.Short() {
		t.Skip("indexes the whole corpus")
	}
	db := openTemp(t)
	ctx := context.Background()
	start := time.Now()
	var lastDone, lastTotal int
	res, err := db.Index(ctx, []string{corpus}, IndexOptions{Workers: 2, Timeout: 60 * time.Second,
		Progress: func(done, total int, _ string) {
			if done < lastDone {
				t.Errorf("progress went back: %d after %d", done, lastDone)
			}
			lastDone, lastTotal = done, total
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %v: %+v", time.Since(start), res.counts())
	for _, f := range res.Failures {
		t.Logf("  %s", f)
	}
	if lastDone != res.Files || lastTotal != res.Files {
		t.Errorf("last progress %d/%d, %d files", lastDone, lastTotal, res.Files)
	}

	// The oracle: core/dump's own verdict on every file.
	root, _ := filepath.Abs(corpus)
	type verdict struct {
		dump, damaged bool
		diags         bool // opened, with damage noted as diagnostics
		sha           string
	}
	want := map[string]verdict{}
	contents := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return nil
		}
		var v verdict
		dd, err := dump.Open(ctx, p, dump.Options{})
		switch {
		case err == nil:
			v.dump = true
			v.diags = len(dd.Target.Diagnostics()) > 0
			dd.Close()
		case errors.Is(err, dump.ErrUnrecognized):
		default:
			var de *dump.Error
			if !errors.As(err, &de) {
				t.Errorf("%s: not a dump.Error: %v", p, err)
			}
			v.dump, v.damaged = true, true
		}
		if v.dump {
			v.sha, _ = hashFile(p)
			contents[v.sha] = true
		}
		want[p] = v
		return nil
	})
	if len(want) != res.Files {
		t.Errorf("index saw %d files, the walk %d", res.Files, len(want))
	}
	if n := count(t, db, "SELECT COUNT(*) FROM dumps"); n != len(contents) {
		t.Errorf("%d dumps recorded, core/dump recognises %d distinct contents", n, len(contents))
	}
	var notDumps, damaged, withDiags int
	for p, v := range want {
		var status, sha string
		var dumpID *int64
		var msg *string
		err := db.sql.QueryRow("SELECT status, COALESCE(sha256, ''), dump_id, error FROM files WHERE path = ?", p).Scan(&status, &sha, &dumpID, &msg)
		if err != nil {
			t.Errorf("%s: not recorded: %v", p, err)
			continue
		}
		switch {
		case !v.dump:
			notDumps++
			if status != StatusNotDump || dumpID != nil {
				t.Errorf("%s: status %s, want not-dump", p, status)
			}
		case v.damaged:
			damaged++
			if dumpID == nil || (status != StatusError && status != StatusDuplicate) {
				t.Errorf("%s: status %s (dump %v), want a damaged dump", p, status, dumpID)
				continue
			}
			var dstatus, derr string
			db.sql.QueryRow("SELECT status, COALESCE(error, '') FROM dumps WHERE id = ?", *dumpID).Scan(&dstatus, &derr)
			if dstatus != DumpError || derr == "" {
				t.Errorf("%s: dump status %q error %q", p, dstatus, derr)
			}
		default:
			if dumpID == nil || (status != StatusDump && status != StatusDuplicate) || sha != v.sha {
				t.Errorf("%s: status %s dump %v, want a dump", p, status, dumpID)
				continue
			}
			// A malformed dump that still opens is recorded with what
			// is wrong with it.
			var diags string
			db.sql.QueryRow("SELECT COALESCE(diagnostics, '') FROM dumps WHERE id = ?", *dumpID).Scan(&diags)
			if v.diags && diags == "" {
				t.Errorf("%s: opens with diagnostics, none recorded", p)
			}
			if v.diags {
				withDiags++
			}
		}
	}
	if res.NotDumps != notDumps {
		t.Errorf("result says %d not-dumps, core/dump %d", res.NotDumps, notDumps)
	}
	// Every dump row is reachable from its path's file row.
	if n := count(t, db, "SELECT COUNT(*) FROM dumps d WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.path = d.path AND f.dump_id = d.id)"); n != 0 {
		t.Errorf("%d dumps whose path is not one of their files", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM files WHERE status = 'duplicate'"); n != len(want)-notDumps-len(contents) {
		t.Errorf("%d duplicates, want %d", n, len(want)-notDumps-len(contents))
	}
	t.Logf("%d files: %d dumps (%d damaged files, %d opened with diagnostics), %d duplicates, %d not dumps", len(want), len(contents), damaged, withDiags, res.Duplicates, notDumps)
	if withDiags == 0 {
		t.Error("no corpus dump opened with diagnostics: the malformed ones should")
	}

	// Search finds corpus dumps by driver, bug check, kernel symbol,
	// process, module and version.
	for q, want := range map[string]string{
		"amdppm":                                "rizin/dmp/triage_x64.dmp",
		"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M": "rizin/dmp/triage_x64.dmp",
		"MANUALLY_INITIATED_POWER_BUTTON_HOLD":  "rizin/dmp/triage_arm64.dmp",
		"sysrq_handle_crash":                    "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump",
		"test_app.exe CrashFunction":            "breakpad/minidump2.dmp",
		"wcrash level3":                         "generated/windows-minidump/wine-MiniDumpNormal-exception.dmp",
	} {
		hits, err := db.Search(ctx, q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		found := false
		for _, h := range hits {
			found = found || h.Path == filepath.Join(root, filepath.FromSlash(want))
		}
		if !found {
			t.Errorf("search %q: %d hits, not %s", q, len(hits), want)
		}
	}

	start = time.Now()
	again, err := db.Index(ctx, []string{corpus}, IndexOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("second run: %v: %+v", time.Since(start), again.counts())
	if again.Parsed != 0 || again.Hashed != 0 || again.Unchanged != res.Files || again.Added != 0 {
		t.Errorf("re-indexing unchanged files did work: %+v", again.counts())
	}
	if c := integrity(t, db); c != "ok" {
		t.Errorf("integrity_check: %s", c)
	}
}

func integrity(t testing.TB, db *DB) string {
	t.Helper()
	var s []string
	rows, err := db.sql.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var l string
		rows.Scan(&l)
		s = append(s, l)
	}
	return strings.Join(s, "; ")
}

func TestDumpCorpusDB(t *testing.T) {
	out := os.Getenv("CRASHBENCH_KEEP_DB")
	if out == "" {
		t.Skip("set CRASHBENCH_KEEP_DB")
	}
	db, err := Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Index(context.Background(), []string{fixture.CorpusDir(t)}, IndexOptions{})
	t.Logf("%+v %v", res, err)
}
