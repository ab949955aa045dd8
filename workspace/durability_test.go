//go:build unix

package workspace

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

// The durability tests run ingest in a child process, this test binary
// started again with -test.run=^TestIngestChild$ and ingestChildEnv set
// to a JSON childSpec. The child talks to its parent in lines on stdout.
const ingestChildEnv = "CRASHBENCH_INGEST_CHILD"

type childSpec struct {
	Mode   string   // "kill", "concurrent" or "full"
	DB     string   // the database
	Dirs   []string // what to index
	Limit  int64    // full: RLIMIT_FSIZE, bytes
	HoldAt int      // kill: stop inside the HoldAt'th transaction, its rows written but not committed
}

// childResult is what a child reports on a "RESULT " line.
type childResult struct {
	Added, Unchanged, Duplicates, Errors int
	Err                                  string
	Dumps                                int    // dumps in the database afterwards
	Integrity                            string // PRAGMA integrity_check afterwards
}

// TestIngestChild is the child's side of the durability tests; it does
// nothing unless one of them started it.
func TestIngestChild(t *testing.T) {
	v := os.Getenv(ingestChildEnv)
	if v == "" {
		t.Skip("the durability tests' child process; runs only when they start it")
	}
	var s childSpec
	if err := json.Unmarshal([]byte(v), &s); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	switch s.Mode {
	case "kill":
		// Index, naming each file once its transaction has committed,
		// until the parent kills us.
		if s.HoldAt > 0 {
			n := 0
			testHookBeforeCommit = func() {
				if n++; n == s.HoldAt {
					fmt.Println("HOLDING")
					select {}
				}
			}
		}
		fmt.Println("OPENING")
		db, err := Open(s.DB)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("OPENED")
		_, err = db.Index(ctx, s.Dirs, IndexOptions{Workers: 2, Progress: func(_, _ int, p string) {
			if p != "" {
				fmt.Println("DONE " + p)
			}
		}})
		fmt.Printf("FINISHED %v\n", err)
	case "concurrent":
		// Start indexing when the parent says so, at the same time as
		// its own two handles.
		fmt.Println("READY")
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		db, err := Open(s.DB)
		if err != nil {
			sendResult(childResult{Err: err.Error()})
			return
		}
		res, err := db.Index(ctx, s.Dirs, IndexOptions{Workers: 1})
		sendResult(result(t, db, res, err))
	case "full":
		// Index with a file-size limit a few hundred KiB above the
		// database's size, as if the disk filled up; then lift it and
		// index again on the same handle, as a GUI that stays open would.
		db, err := Open(s.DB)
		if err != nil {
			t.Fatal(err)
		}
		var old syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
		// Exceeding the limit raises SIGXFSZ; ignored, the write fails
		// with EFBIG instead, which SQLite sees as a full disk.
		signal.Ignore(syscall.SIGXFSZ)
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: uint64(s.Limit), Max: old.Max}); err != nil {
			fmt.Println("SKIP cannot set RLIMIT_FSIZE:", err)
			return
		}
		if !limitEnforced(t, s.Limit) {
			fmt.Println("SKIP RLIMIT_FSIZE is not enforced on", t.TempDir())
			return
		}
		res, err := db.Index(ctx, s.Dirs, IndexOptions{Workers: 2})
		sendResult(result(t, db, res, err))
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
		res, err = db.Index(ctx, s.Dirs, IndexOptions{Workers: 2})
		sendResult(result(t, db, res, err))
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown mode %q", s.Mode)
	}
}

func result(t *testing.T, db *DB, res IndexResult, err error) childResult {
	r := childResult{Added: res.Added, Unchanged: res.Unchanged, Duplicates: res.Duplicates, Errors: res.Errors}
	if err != nil {
		r.Err = err.Error()
	}
	if err := db.sql.QueryRow("SELECT COUNT(*) FROM dumps").Scan(&r.Dumps); err != nil {
		r.Integrity = "count: " + err.Error()
		return r
	}
	r.Integrity = freshIntegrity(t, db.Path())
	return r
}

func sendResult(r childResult) {
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
}

// limitEnforced reports whether writing past the file-size limit fails.
func limitEnforced(t *testing.T, limit int64) bool {
	f, err := os.CreateTemp(t.TempDir(), "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.WriteAt([]byte{1}, limit)
	return errors.Is(err, syscall.EFBIG)
}

// child is a running TestIngestChild.
type child struct {
	cmd    *exec.Cmd
	out    *bufio.Scanner
	in     io.WriteCloser
	stderr bytes.Buffer
}

func startChild(t *testing.T, s childSpec) *child {
	t.Helper()
	spec, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestIngestChild$", "-test.count=1")}
	c.cmd.Env = append(os.Environ(), ingestChildEnv+"="+string(spec), "XDG_CACHE_HOME="+t.TempDir())
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.in, err = c.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c.out = bufio.NewScanner(out)
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.wait()
		}
	})
	return c
}

// next returns the child's next line, or false at the end of its output.
func (c *child) next() (string, bool) {
	if c.out.Scan() {
		return c.out.Text(), true
	}
	return "", false
}

// wait reads the rest of the child's output and waits for it to end.
func (c *child) wait() ([]string, error) {
	var rest []string
	for l, ok := c.next(); ok; l, ok = c.next() {
		rest = append(rest, l)
	}
	return rest, c.cmd.Wait()
}

func results(t *testing.T, lines []string) []childResult {
	t.Helper()
	var rs []childResult
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "RESULT "); ok {
			var r childResult
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
	}
	return rs
}

// writeScenarioDumps writes n small minidumps of a few kinds into dir,
// each one different (time stamp and process id), as scripts/benchdata
// does, and returns their paths.
func writeScenarioDumps(t *testing.T, dir string, n, first int) []string {
	t.Helper()
	kinds := []string{"amd64-av-write", "linux-sigsegv", "x86-threads", "arm64-threads", "amd64-threads-modules"}
	var paths []string
	for i := first; i < first+n; i++ {
		k := kinds[i%len(kinds)]
		b, err := minidumptest.Scenarios()[k]().Timestamp(uint32(1_700_000_000+i*3600)).MiscInfo(uint32(1000+i), 0).Bytes()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%04d-%s.dmp", i, k))
		writeFile(t, p, b)
		paths = append(paths, p)
	}
	return paths
}

// dumpDigests describes each dump of db by content hash: its row and how
// many rows of each kind hang off it, so that a dump written by halves
// differs from the same dump written whole.
func dumpDigests(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rows, err := db.sql.Query(`SELECT d.sha256, d.path, d.size, d.mtime, d.status, d.error, d.format, d.arch, d.os_family,
			d.process_name, d.pid, d.crash_time, d.crash_kind, d.crash_code, d.signature, d.bucket_key, d.diagnostics,
			(SELECT COUNT(*) FROM files f WHERE f.dump_id = d.id),
			(SELECT COUNT(*) FROM modules m WHERE m.dump_id = d.id),
			(SELECT COUNT(*) FROM threads th WHERE th.dump_id = d.id),
			(SELECT COUNT(*) FROM frames fr WHERE fr.dump_id = d.id),
			(SELECT COUNT(*) FROM processes p WHERE p.dump_id = d.id),
			(SELECT COUNT(*) || ' ' || group_concat(s.process || '|' || s.crash || '|' || s.modules || '|' || s.functions)
				FROM search s WHERE s.rowid = d.id)
		FROM dumps d`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var sum string
		v := make([]any, 22)
		ptrs := []any{&sum}
		for i := range v {
			ptrs = append(ptrs, &v[i])
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, x := range v {
			if b, ok := x.([]byte); ok {
				v[i] = string(b)
			}
		}
		m[sum] = fmt.Sprintf("%q", v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// freshIntegrity runs PRAGMA integrity_check on a new handle. On a
// connection that has read the search table before another connection
// wrote to it, SQLite's FTS5 integrity check reports "fts5: corruption
// found reading blob" from its stale cache (SQLite 3.54.1), though the
// file is intact and queries on that connection see the new rows.
func freshIntegrity(t *testing.T, path string) string {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return integrity(t, db)
}

// checkWhole checks a database that a killed ingest left: it opens, is
// intact, and holds only whole dumps (each as the reference database
// has it), each once, under files whose recorded hash is their
// content's; every file the child reported done is there. It returns
// how many dumps it holds.
func checkWhole(t *testing.T, dbPath string, ref map[string]string, hashes map[string]string, reported []string) int {
	t.Helper()
	db, err := Open(dbPath)
	if err != nil {
		t.Fatalf("the database does not open after SIGKILL: %v", err)
	}
	defer db.Close()
	if c := integrity(t, db); c != "ok" {
		t.Fatalf("integrity_check after SIGKILL: %s", c)
	}
	if c := count(t, db, "SELECT COUNT(*) FROM pragma_foreign_key_check"); c != 0 {
		t.Errorf("%d rows break foreign keys", c)
	}
	got := dumpDigests(t, db)
	for sum, d := range got {
		if d != ref[sum] {
			t.Errorf("dump %s is not whole:\n got %s\nwant %s", sum[:12], d, ref[sum])
		}
	}
	for _, q := range []string{
		"SELECT COUNT(*) FROM search WHERE rowid NOT IN (SELECT id FROM dumps)",
		"SELECT COUNT(*) FROM files WHERE status != 'dump' OR dump_id IS NULL",
		"SELECT COUNT(*) FROM files f JOIN dumps d ON d.id = f.dump_id WHERE f.sha256 != d.sha256 OR f.path != d.path",
	} {
		if c := count(t, db, q); c != 0 {
			t.Errorf("%s: %d", q, c)
		}
	}
	rows, err := db.sql.Query("SELECT path, sha256 FROM files")
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for rows.Next() {
		var p, sum string
		if err := rows.Scan(&p, &sum); err != nil {
			t.Fatal(err)
		}
		recorded[p] = true
		if hashes[p] != sum {
			t.Errorf("%s recorded with hash %s, its content's is %s", p, sum, hashes[p])
		}
	}
	rows.Close()
	if len(recorded) != len(got) {
		t.Errorf("%d files for %d dumps", len(recorded), len(got))
	}
	for _, p := range reported {
		if !recorded[p] {
			t.Errorf("%s was committed before the kill but is not in the database", p)
		}
	}
	return len(got)
}

// TestIngestSIGKILL kills a child process with SIGKILL while it indexes a
// folder of a few hundred distinct minidumps, at several points (during
// Open and the schema's creation, after the first dump, a third in,
// inside a dump's transaction with all its rows written, and twice on
// the same database), then checks what it left and indexes the rest: in
// the end every dump is there once, as a clean run writes it.
func TestIngestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	const n = 240
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "dumps")
	hashes := map[string]string{}
	for _, p := range writeScenarioDumps(t, dir, n, 0) {
		b, _ := os.ReadFile(p)
		s := sha256.Sum256(b)
		hashes[p] = hex.EncodeToString(s[:])
	}

	// What a run without kills writes.
	refDB, err := Open(filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := refDB.Index(context.Background(), []string{dir}, IndexOptions{}); err != nil || res.Added != n {
		t.Fatalf("reference run: %+v %v", res.counts(), err)
	}
	ref := dumpDigests(t, refDB)
	refDB.Close()
	if len(ref) != n {
		t.Fatalf("the reference holds %d dumps, want %d", len(ref), n)
	}

	// A kill point: after a random delay of up to delay once the child
	// is about to open the database, or after it has committed `after`
	// dumps (plus a random few). Several points kill the same database
	// in turn.
	type killAt struct {
		delay  time.Duration
		after  int
		inside bool // in the transaction of dump after+1, just before it commits
	}
	rounds := []struct {
		name   string
		points []killAt
	}{
		{"while opening", []killAt{{delay: 8 * time.Millisecond}}},
		{"after the first dump", []killAt{{after: 1}}},
		{"a third in", []killAt{{after: n / 3}}},
		{"inside a transaction", []killAt{{after: n / 2, inside: true}}},
		{"twice", []killAt{{after: n / 5}, {after: n / 4}}},
	}
	for _, r := range rounds {
		t.Run(strings.ReplaceAll(r.name, " ", "_"), func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "ws.db")
			for _, k := range r.points {
				after := k.after + rand.IntN(5)
				spec := childSpec{Mode: "kill", DB: dbPath, Dirs: []string{dir}}
				if k.inside {
					spec.HoldAt = after + 1
				}
				c := startChild(t, spec)
				var reported []string
				var when string
				switch {
				case k.inside:
					when = fmt.Sprintf("inside the transaction of dump %d", after+1)
					for {
						l, ok := c.next()
						if !ok {
							break
						}
						if p, ok := strings.CutPrefix(l, "DONE "); ok {
							reported = append(reported, p)
						}
						if l == "HOLDING" {
							c.cmd.Process.Kill()
							break
						}
					}
				case k.delay > 0:
					if l, ok := c.next(); !ok || l != "OPENING" {
						rest, err := c.wait()
						t.Fatalf("child: %q %q %v\n%s", l, rest, err, c.stderr.String())
					}
					d := rand.N(k.delay)
					when = fmt.Sprintf("%v after opening", d)
					time.AfterFunc(d, func() { c.cmd.Process.Kill() })
				default:
					when = fmt.Sprintf("after %d dumps", after)
					for len(reported) < after {
						l, ok := c.next()
						if !ok {
							break
						}
						if p, ok := strings.CutPrefix(l, "DONE "); ok {
							reported = append(reported, p)
						}
					}
					c.cmd.Process.Kill()
				}
				// Lines the child wrote before it died are commits too.
				rest, err := c.wait()
				opened := k.delay == 0
				for _, l := range rest {
					if p, ok := strings.CutPrefix(l, "DONE "); ok {
						reported = append(reported, p)
					}
					opened = opened || l == "OPENED"
				}
				if !opened {
					when += ", before Open returned"
				}
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("the child was not killed (%s): %v %q\n%s", when, err, rest, c.stderr.String())
				}
				have := checkWhole(t, dbPath, ref, hashes, reported)
				t.Logf("killed %s: %d reported committed, %d dumps in the database", when, len(reported), have)
				if have >= n {
					t.Errorf("the child had indexed all %d dumps before the kill", n)
				}
				if k.inside && have != after {
					t.Errorf("killed with %d dumps committed and one more written but not committed: the database holds %d", after, have)
				}
			}

			// Index again to the end.
			db, err := Open(dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			before := count(t, db, "SELECT COUNT(*) FROM dumps")
			res, err := db.Index(context.Background(), []string{dir}, IndexOptions{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if res.Unchanged != before || res.Added != n-before || res.Errors != 0 || res.Duplicates != 0 {
				t.Errorf("the run after the kill, with %d dumps already in: %+v", before, res.counts())
			}
			if got := dumpDigests(t, db); !reflect.DeepEqual(got, ref) {
				t.Errorf("after the kill and a new run the index holds %d dumps and differs from a clean run's %d", len(got), len(ref))
			}
			if c := count(t, db, "SELECT COUNT(*) FROM files"); c != n {
				t.Errorf("%d files, want %d", c, n)
			}
			if c := freshIntegrity(t, dbPath); c != "ok" {
				t.Errorf("integrity_check: %s", c)
			}
		})
	}
}

// TestConcurrentUse opens one new database from two handles in this
// process and from a child process at the same moment (the GUI, the
// watcher and the CLI), and has all three index overlapping folders
// while this process reads buckets, searches and counts: nobody gets an
// error ("database is locked", a schema created twice), and the result
// holds each dump once under its first path.
func TestConcurrentUse(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root := t.TempDir()
	dir := func(s string) string { return filepath.Join(root, s) }
	writeScenarioDumps(t, dir("shared"), 40, 0)
	writeScenarioDumps(t, dir("a"), 40, 100)
	bs := writeScenarioDumps(t, dir("b"), 40, 200)
	writeScenarioDumps(t, dir("c"), 40, 300)
	// Copies under other names: the same content reaches two handles at
	// once through different paths.
	const copies = 15
	for i, p := range bs[:copies] {
		b, _ := os.ReadFile(p)
		writeFile(t, filepath.Join(dir("a"), fmt.Sprintf("copy-%02d.dmp", i)), b)
	}
	const dumps, files = 160, 160 + copies
	dbPath := filepath.Join(root, "ws.db")

	c := startChild(t, childSpec{Mode: "concurrent", DB: dbPath, Dirs: []string{dir("c"), dir("shared"), dir("b")}})
	if l, ok := c.next(); !ok || l != "READY" {
		rest, err := c.wait()
		t.Fatalf("child: %q %q %v\n%s", l, rest, err, c.stderr.String())
	}
	var (
		mu   sync.Mutex
		errs []string
	)
	fail := func(who string, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, who+": "+err.Error())
	}
	// All three open the new database, and so create its schema, at once.
	fmt.Fprintln(c.in, "GO")
	var handles [2]*DB
	var wg sync.WaitGroup
	for i := range handles {
		wg.Go(func() {
			db, err := Open(dbPath)
			if err != nil {
				fail(fmt.Sprintf("open %d", i+1), err)
				return
			}
			handles[i] = db
		})
	}
	wg.Wait()
	for _, db := range handles {
		if db == nil {
			t.Fatalf("%q", errs)
		}
		defer db.Close()
	}
	db1, db2 := handles[0], handles[1]

	ctx := context.Background()
	var res [2]IndexResult
	wg.Go(func() {
		var err error
		if res[0], err = db1.Index(ctx, []string{dir("a"), dir("shared")}, IndexOptions{Workers: 1}); err != nil {
			fail("index 1", err)
		}
	})
	wg.Go(func() {
		var err error
		if res[1], err = db2.Index(ctx, []string{dir("b"), dir("shared")}, IndexOptions{Workers: 1}); err != nil {
			fail("index 2", err)
		}
	})
	var childLines []string
	var childErr error
	wg.Go(func() { childLines, childErr = c.wait() })
	// Read from both handles until the three are done.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	reads := 0
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db1.Buckets(ctx); err != nil {
				fail("buckets", err)
				return
			}
			if _, err := db1.Stats(ctx); err != nil {
				fail("stats", err)
				return
			}
			reads++
		}
	})
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db2.Search(ctx, "ntdll.dll"); err != nil {
				fail("search", err)
				return
			}
			if _, err := db2.Search(ctx, "module:app.exe status:ok"); err != nil {
				fail("search", err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	if childErr != nil {
		t.Fatalf("child: %v %q\n%s", childErr, childLines, c.stderr.String())
	}
	rs := results(t, childLines)
	if len(rs) != 1 {
		t.Fatalf("child: %q\n%s", childLines, c.stderr.String())
	}
	if rs[0].Err != "" {
		fail("child", errors.New(rs[0].Err))
	}
	if len(errs) > 0 {
		t.Fatalf("errors using the database at once:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("this process: %+v, %+v; the child: %+v; %d bucket reads", res[0].counts(), res[1].counts(), rs[0], reads)

	// Each new content was added by exactly one of the three.
	if added := res[0].Added + res[1].Added + rs[0].Added; added != dumps {
		t.Errorf("%d dumps added in all, want %d", added, dumps)
	}
	if res[0].Errors+res[1].Errors+rs[0].Errors != 0 {
		t.Errorf("errors: %q %q %+v", res[0].Failures, res[1].Failures, rs[0])
	}
	st, err := db1.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Dumps != dumps || st.Files != files || st.Duplicates != copies || st.Errors != 0 {
		t.Errorf("stats %+v, want %d dumps, %d files, %d duplicates", st, dumps, files, copies)
	}
	// Whichever handle got there first, a dump's path is its first file's.
	if n := count(t, db1, `SELECT COUNT(*) FROM dumps d
		WHERE d.path != (SELECT MIN(f.path) FROM files f WHERE f.dump_id = d.id)`); n != 0 {
		t.Errorf("%d dumps not under their first path", n)
	}
	bs2, err := db2.Buckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inBuckets := 0
	for _, b := range bs2 {
		inBuckets += b.Count
	}
	if want := count(t, db2, "SELECT COUNT(*) FROM dumps WHERE bucket_key IS NOT NULL"); inBuckets != want || want == 0 {
		t.Errorf("%d dumps in buckets, %d with a bucket key", inBuckets, want)
	}
	if c := freshIntegrity(t, dbPath); c != "ok" {
		t.Errorf("integrity_check: %s", c)
	}
}

// TestIngestDiskFull indexes in a child process whose file-size limit
// (RLIMIT_FSIZE) lets the database grow by only a little, as a full disk
// would: Index stops with an error that says so, what it committed is
// intact and counted, and once there is room again the same handle
// indexes the rest.
func TestIngestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	const n = 60
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := filepath.Join(t.TempDir(), "dumps")
	writeScenarioDumps(t, dir, n, 0)
	dbPath := filepath.Join(t.TempDir(), "ws.db")
	db, err := Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	db.Close() // checkpoints the schema into the database file
	st, err := os.Stat(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, childSpec{Mode: "full", DB: dbPath, Dirs: []string{dir}, Limit: st.Size() + 256<<10})
	lines, err := c.wait()
	if err != nil {
		t.Fatalf("child: %v %q\n%s", err, lines, c.stderr.String())
	}
	for _, l := range lines {
		if m, ok := strings.CutPrefix(l, "SKIP "); ok {
			t.Skip(m)
		}
	}
	rs := results(t, lines)
	if len(rs) != 2 {
		t.Fatalf("child: %q\n%s", lines, c.stderr.String())
	}
	full, after := rs[0], rs[1]
	t.Logf("with the limit: %+v; without: %+v", full, after)
	if !regexp.MustCompile(`(?i)full|disk I/O error|write`).MatchString(full.Err) {
		t.Errorf("Index on a full disk returned %q, want an error that says the disk is full or a write failed", full.Err)
	}
	if full.Integrity != "ok" || after.Integrity != "ok" {
		t.Errorf("integrity_check: %q on the full disk, %q after", full.Integrity, after.Integrity)
	}
	// A dump whose commit failed is not counted as added.
	if full.Added != full.Dumps || full.Dumps >= n {
		t.Errorf("on the full disk Index said %d added, the database holds %d of %d", full.Added, full.Dumps, n)
	}
	if after.Err != "" || after.Unchanged != full.Dumps || after.Added != n-full.Dumps || after.Dumps != n {
		t.Errorf("with room again: %+v after %d dumps", after, full.Dumps)
	}

	db, err = Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c := freshIntegrity(t, dbPath); c != "ok" {
		t.Errorf("integrity_check: %s", c)
	}
	if c := count(t, db, "SELECT COUNT(*) FROM dumps d WHERE NOT EXISTS (SELECT 1 FROM search s WHERE s.rowid = d.id) OR NOT EXISTS (SELECT 1 FROM files f WHERE f.dump_id = d.id)"); c != 0 {
		t.Errorf("%d dumps without their file or search row", c)
	}
	if c := count(t, db, "SELECT COUNT(*) FROM files"); c != n {
		t.Errorf("%d files, want %d", c, n)
	}
}
