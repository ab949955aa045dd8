package workspace

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const childEnv = "CRASHBENCH_WORKSPACE_CHILD"

// TestCrashSafety indexes a folder of many small dumps in a child
// process (this test binary again), slowed down inside each transaction,
// kills it with SIGKILL halfway, then indexes again in this process: the
// database is intact and every dump is present exactly once, whole.
func TestCrashSafety(t *testing.T) {
	if spec := os.Getenv(childEnv); spec != "" {
		crashChild(t, spec)
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	const n = 120
	dir := t.TempDir()
	for i := range n {
		writeFile(t, filepath.Join(dir, "dumps", fmt.Sprintf("crash-%03d.dmp", i)),
			crashSpec{pid: uint32(1000 + i), appBase: 0x7ff6_0000_0000 + uint64(i)<<20, time: uint32(1_700_000_000 + i)}.bytes(t))
	}
	dbPath := filepath.Join(dir, "ws.db")
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCrashSafety$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dbPath+string(os.PathListSeparator)+filepath.Join(dir, "dumps"),
		"XDG_CACHE_HOME="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	done := 0
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "DONE "); ok {
			done, _ = strconv.Atoi(v)
			if done >= n/2 {
				break
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()
	if done < n/2 {
		t.Fatalf("the child stopped after %d dumps", done)
	}

	db, err := Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c := integrity(t, db); c != "ok" {
		t.Fatalf("integrity_check after SIGKILL: %s", c)
	}
	before := count(t, db, "SELECT COUNT(*) FROM dumps")
	if before < done || before >= n {
		t.Errorf("%d dumps after the kill, the child had reported %d of %d", before, done, n)
	}
	// Whole dumps only: each one with its file, modules, threads and
	// search row.
	for _, q := range []string{
		"SELECT COUNT(*) FROM dumps d WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.dump_id = d.id)",
		"SELECT COUNT(*) FROM dumps d WHERE (SELECT COUNT(*) FROM modules m WHERE m.dump_id = d.id) != 3",
		"SELECT COUNT(*) FROM dumps d WHERE (SELECT COUNT(*) FROM threads th WHERE th.dump_id = d.id) != 2",
		"SELECT COUNT(*) FROM dumps d WHERE NOT EXISTS (SELECT 1 FROM search s WHERE s.rowid = d.id)",
		"SELECT COUNT(*) FROM files f WHERE f.dump_id IS NULL",
	} {
		if c := count(t, db, q); c != 0 {
			t.Errorf("%s: %d", q, c)
		}
	}
	res, err := db.Index(context.Background(), []string{filepath.Join(dir, "dumps")}, IndexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed after %d reported, %d committed; the second run: %+v", done, before, res.counts())
	if res.Unchanged != before || res.Added != n-before || res.Errors != 0 {
		t.Errorf("second run: %+v", res.counts())
	}
	if c := count(t, db, "SELECT COUNT(*) FROM dumps"); c != n {
		t.Errorf("%d dumps, want %d", c, n)
	}
	if c := count(t, db, "SELECT COUNT(DISTINCT path) FROM files WHERE status = 'dump'"); c != n {
		t.Errorf("%d dump files, want %d", c, n)
	}
	if c := integrity(t, db); c != "ok" {
		t.Errorf("integrity_check: %s", c)
	}
}

// crashChild is the child's side: index slowly, telling the parent how
// far it got after each commit.
func crashChild(t *testing.T, spec string) {
	dbPath, dir, _ := strings.Cut(spec, string(os.PathListSeparator))
	testHookBeforeCommit = func() { time.Sleep(15 * time.Millisecond) }
	db, err := Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Index(context.Background(), []string{dir}, IndexOptions{Workers: 2, Progress: func(done, _ int, _ string) {
		fmt.Printf("DONE %d\n", done)
	}})
	t.Fatalf("the child was not killed: %v", err)
}
