package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/testutil/golden"
	"github.com/crashbench/crashbench/workspace"
)

// workspaceDir lays out a folder of dumps with fixed modification times:
// the sample crash twice (one copy a duplicate) with its symbols, two
// synthesized crashes, a snapshot (no exception), a damaged dump and a
// note.
func workspaceDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	put := func(rel string, data []byte) {
		p := filepath.Join(dir, "dumps", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(rel string) []byte {
		b, err := os.ReadFile(fixture.Testdata(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	build := func(b *minidumptest.Builder) []byte {
		d, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sc := minidumptest.Scenarios()
	put("sample.dmp", read("sample/sample.dmp"))
	put("sample-copy.dmp", read("sample/sample.dmp"))
	put("symbols/app.pdb/5A9832E5287241C1838ED98914E9B7FF1/app.sym", read("sample/symbols/app.pdb/5A9832E5287241C1838ED98914E9B7FF1/app.sym"))
	put("av-write.dmp", build(sc["amd64-av-write"]()))
	put("linux-sigsegv.dmp", build(sc["linux-sigsegv"]().Timestamp(1_709_251_200)))
	put("snapshot.dmp", build(sc["x86-threads"]().Timestamp(1_709_337_600)))
	put("damaged.dmp", build(minidumptest.New(minidumptest.LE).Truncate(20)))
	put("README.txt", []byte("dumps from the field\n"))
	mtime := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	filepath.Walk(filepath.Join(dir, "dumps"), func(p string, _ os.FileInfo, _ error) error {
		return os.Chtimes(p, mtime, mtime)
	})
	return dir
}

func TestWorkspaceCommands(t *testing.T) {
	dir := workspaceDir(t)
	clean := func(s string) string { return strings.ReplaceAll(s, dir+string(filepath.Separator), "") }

	out, errs, code := runCLI(t, dir, "index", "--db", "ws.db", "--workers", "2", "dumps")
	if code != ExitOK {
		t.Fatalf("index: exit %d, stderr %q", code, errs)
	}
	if want := "8 files: 4 added, 0 unchanged, 1 duplicates, 2 not dumps, 1 errors\n"; out != want {
		t.Errorf("index summary %q, want %q", out, want)
	}
	if !strings.Contains(clean(errs), "crashbench index: dumps/damaged.dmp: dumps/damaged.dmp: looks like a Windows user-mode minidump") {
		t.Errorf("index stderr %q", errs)
	}
	out, _, code = runCLI(t, dir, "index", "--db", "ws.db", "dumps/sample.dmp", "dumps")
	if want := "8 files: 0 added, 8 unchanged, 0 duplicates, 0 not dumps, 0 errors\n"; code != ExitOK || out != want {
		t.Errorf("second index: exit %d, %q", code, out)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"buckets.txt", []string{"buckets", "--db", "ws.db"}},
		{"buckets.json", []string{"buckets", "--db", "ws.db", "--json"}},
		{"search-ntdll.txt", []string{"search", "--db", "ws.db", "ntdll.dll"}},
		{"search-version.json", []string{"search", "--json", "--db", "ws.db", "module:app.exe", "version:1.2"}},
		{"search-function.txt", []string{"search", "--db", "ws.db", "CrashFunction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, dir, tc.args...)
			if code != ExitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden.Check(t, tc.name, []byte(clean(out)))
		})
	}

	// The JSON contract of cli.md.
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db", "--json")
	var bs []map[string]any
	if err := json.Unmarshal([]byte(out), &bs); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, b := range bs {
		for _, k := range []string{"signature", "count", "first_seen", "last_seen", "dumps", "why"} {
			if _, ok := b[k]; !ok {
				t.Errorf("bucket lacks %q: %v", k, b)
			}
		}
		for _, k := range []string{"first_seen", "last_seen"} {
			if _, err := time.Parse(time.RFC3339, b[k].(string)); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
		dumps := b["dumps"].([]any)
		if int(b["count"].(float64)) != len(dumps) {
			t.Errorf("count %v, %d dumps", b["count"], len(dumps))
		}
		for _, d := range dumps {
			if strings.Contains(d.(string), "snapshot") || strings.Contains(d.(string), "damaged") {
				t.Errorf("%s is in a crash bucket", d)
			}
		}
		total += len(dumps)
	}
	if total != 3 {
		t.Errorf("%d dumps in buckets, want 3 (sample, av-write, linux-sigsegv)", total)
	}

	// An empty index prints an empty array, not null.
	out, _, code = runCLI(t, dir, "buckets", "--db", "empty.db", "--json")
	if code != ExitOK || strings.TrimSpace(out) != "[]" {
		t.Errorf("empty buckets: %d %q", code, out)
	}
	_, errs, code = runCLI(t, dir, "index", "--db", "ws.db", "no/such/dir")
	if code != ExitBadInput || !strings.Contains(errs, "no/such/dir") {
		t.Errorf("missing path: %d %q", code, errs)
	}
}

// TestWatchCommand runs `crashbench watch` on a temporary folder, writes
// a dump into it in chunks, and checks that it is indexed exactly once,
// after its last byte, and that Ctrl-C (the context) stops the command.
func TestWatchCommand(t *testing.T) {
	dir, db := t.TempDir(), filepath.Join(t.TempDir(), "ws.db")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() { done <- Main(ctx, []string{"watch", "--db", db, "--stable", "300ms", dir}, &stdout, &stderr) }()
	data, err := os.ReadFile(fixture.Testdata(t, "sample/sample.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "new.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(data); i += len(data)/5 + 1 {
		f.Write(data[i:min(len(data), i+len(data)/5+1)])
		time.Sleep(100 * time.Millisecond) // slower than nothing, faster than --stable
	}
	f.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "indexed ") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(600 * time.Millisecond) // a second hand-off would come by now
	if n := strings.Count(stdout.String(), "indexed "); n != 1 {
		t.Fatalf("indexed %d times:\n%s\n%s", n, stdout.String(), stderr.String())
	}
	// Deleted: the index forgets it.
	if err := os.Remove(filepath.Join(dir, "new.dmp")); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "forgot ") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "forgot "+filepath.Join(dir, "new.dmp")+" (deleted) and its dump") {
		t.Errorf("the deleted dump was not forgotten:\n%s\n%s", stdout.String(), stderr.String())
	}
	ws, err := workspace.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	st, err := ws.Stats(context.Background())
	if err != nil || st.Dumps != 0 || st.Errors != 0 {
		t.Errorf("index holds %+v, %v; want nothing after the delete", st, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
