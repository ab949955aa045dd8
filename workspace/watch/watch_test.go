package watch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// recorder is an Index that notes each call and the file's size then.
type recorder struct {
	mu    sync.Mutex
	calls []call
	ch    chan call
}

type call struct {
	path string
	size int64
}

func newRecorder() *recorder { return &recorder{ch: make(chan call, 100)} }

func (r *recorder) index(_ context.Context, path string) error {
	var size int64 = -1
	if fi, err := os.Stat(path); err == nil {
		size = fi.Size()
	}
	c := call{path, size}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	r.ch <- c
	return nil
}

func (r *recorder) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.path == path {
			n++
		}
	}
	return n
}

// wait returns the next Index call, failing after d.
func (r *recorder) wait(t *testing.T, d time.Duration) call {
	t.Helper()
	select {
	case c := <-r.ch:
		return c
	case <-time.After(d):
		t.Fatal("Index was not called in time")
		return call{}
	}
}

// quiet fails if Index is called within d.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case c := <-r.ch:
		t.Fatalf("unexpected Index(%s) (size %d)", c.path, c.size)
	case <-time.After(d):
	}
}

const (
	stable   = 150 * time.Millisecond
	debounce = 40 * time.Millisecond
	retry    = 50 * time.Millisecond
)

// start runs a watcher over dirs and stops it when the test ends.
func start(t *testing.T, rec *recorder, dirs ...string) {
	t.Helper()
	startWith(t, Options{Dirs: dirs, Index: rec.index})
}

// startWith runs a watcher with o and the tests' durations.
func startWith(t *testing.T, o Options) {
	t.Helper()
	o.Stable, o.Debounce, o.Retry, o.Logf = stable, debounce, retry, t.Logf
	w, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(2 * time.Second):
			t.Error("Run did not stop")
		}
	})
	time.Sleep(2 * debounce) // let it add its watches
}

// writeSlowly writes n chunks of size bytes, gap apart, and returns the
// full size.
func writeSlowly(t *testing.T, path string, n, size int, gap time.Duration) int64 {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{'x'}, size)
	for i := range n {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		if i < n-1 {
			time.Sleep(gap)
		}
	}
	return int64(n * size)
}

func TestSlowWriteHandedOnceWhenComplete(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := newRecorder()
	start(t, rec, dir)
	path := filepath.Join(dir, "app.dmp")
	full := writeSlowly(t, path, 20, 4096, 50*time.Millisecond)
	c := rec.wait(t, 2*time.Second)
	if c.path != path || c.size != full {
		t.Fatalf("Index(%s) with size %d, want %s with %d", c.path, c.size, path, full)
	}
	rec.quiet(t, 3*stable)
	if n := rec.count(path); n != 1 {
		t.Fatalf("Index called %d times", n)
	}
}

func TestExistingFilesHandedOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.dmp"), filepath.Join(sub, "b.dmp")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("MDMP"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := newRecorder()
	start(t, rec, dir)
	got := map[string]bool{}
	for range 2 {
		got[rec.wait(t, 2*time.Second).path] = true
	}
	if !got[a] || !got[b] {
		t.Fatalf("handed %v, want %s and %s", got, a, b)
	}
	// A chmod is not a change.
	if err := os.Chmod(a, 0o600); err != nil {
		t.Fatal(err)
	}
	rec.quiet(t, 3*stable)
}

func TestRewrittenFileHandedAgain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := newRecorder()
	start(t, rec, dir)
	path := filepath.Join(dir, "core.1")
	if err := os.WriteFile(path, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.size != 5 {
		t.Fatalf("first Index saw size %d", c.size)
	}
	rec.quiet(t, 2*stable)
	if err := os.WriteFile(path, []byte("second, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.size != 14 {
		t.Fatalf("second Index saw size %d", c.size)
	}
	rec.quiet(t, 2*stable)
}

func TestSubfolderCreatedLater(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := newRecorder()
	start(t, rec, dir)
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	// Written at once, possibly before the new folder's watch is added:
	// the scan on adding it must find it.
	p := filepath.Join(sub, "x.dmp")
	if err := os.WriteFile(p, []byte("dump"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.path != p {
		t.Fatalf("handed %s, want %s", c.path, p)
	}
	time.Sleep(2 * debounce)
	p2 := filepath.Join(sub, "y.dmp")
	writeSlowly(t, p2, 3, 10, 20*time.Millisecond)
	if c := rec.wait(t, 2*time.Second); c.path != p2 || c.size != 30 {
		t.Fatalf("handed %s (size %d), want %s (30)", c.path, c.size, p2)
	}
	rec.quiet(t, 2*stable)
}

func TestFolderDeletedAndRecreated(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "crash")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	start(t, rec, dir)
	p := filepath.Join(dir, "one.dmp")
	if err := os.WriteFile(p, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec.wait(t, 2*time.Second)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * retry)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * retry) // the retry finds it again
	p2 := filepath.Join(dir, "two.dmp")
	full := writeSlowly(t, p2, 5, 100, 30*time.Millisecond)
	c := rec.wait(t, 2*time.Second)
	if c.path != p2 || c.size != full {
		t.Fatalf("handed %s (size %d), want %s (%d)", c.path, c.size, p2, full)
	}
	// Deleted and re-created at once, faster than the retry.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p3 := filepath.Join(dir, "three.dmp")
	if err := os.WriteFile(p3, []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.path != p3 {
		t.Fatalf("handed %s, want %s", c.path, p3)
	}
	rec.quiet(t, 2*stable)
}

func TestMissingFolderWatchedWhenCreated(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "later")
	rec := newRecorder()
	start(t, rec, dir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "d.dmp")
	if err := os.WriteFile(p, []byte("d"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.path != p {
		t.Fatalf("handed %s, want %s", c.path, p)
	}
}

func TestSingleFileEntry(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "Minidump"), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	start(t, rec, filepath.Join(dir, "MEMORY.DMP"))
	for _, name := range []string{"other.log", filepath.Join("Minidump", "x.dmp")} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "MEMORY.DMP")
	if err := os.WriteFile(p, []byte("PAGEDU64"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.path != p {
		t.Fatalf("handed %s, want %s", c.path, p)
	}
	rec.quiet(t, 2*stable)
}

func TestIsDumpFilters(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := newRecorder()
	w, err := New(Options{Dirs: []string{dir}, Index: rec.index, Stable: stable, Debounce: debounce, Retry: retry,
		IsDump: func(p string) bool { return filepath.Ext(p) == ".dmp" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	time.Sleep(2 * debounce)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644)
	p := filepath.Join(dir, "a.dmp")
	os.WriteFile(p, []byte("x"), 0o644)
	if c := rec.wait(t, 2*time.Second); c.path != p {
		t.Fatalf("handed %s, want %s", c.path, p)
	}
	rec.quiet(t, 2*stable)
}

func TestCancelStopsPromptly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	w, err := New(Options{Dirs: []string{dir}, Stable: stable, Debounce: debounce,
		Index: func(ctx context.Context, _ string) error {
			entered <- struct{}{}
			select { // a well-behaved Index honours ctx
			case <-ctx.Done():
			case <-release:
			}
			return ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-entered:
	case <-time.After(2 * time.Second):
		t.Fatal("Index not called")
	}
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not stop within 1 s of cancel")
	}
	if d := time.Since(t0); d > 500*time.Millisecond {
		t.Errorf("Run took %v to stop", d)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{Dirs: []string{"x"}}); err == nil {
		t.Error("New without Index succeeded")
	}
	if _, err := New(Options{Index: func(context.Context, string) error { return nil }}); err == nil {
		t.Error("New without Dirs succeeded")
	}
}

func TestDefaultDirs(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	sr := filepath.Join(root, "Windows")
	os.MkdirAll(filepath.Join(sr, "Minidump"), 0o755)
	env := map[string]string{"SystemRoot": sr, "LOCALAPPDATA": filepath.Join(root, "none")}
	got := defaultDirs("windows", func(k string) string { return env[k] })
	want := []string{filepath.Join(sr, "Minidump"), filepath.Join(sr, "MEMORY.DMP")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("windows: %q, want %q", got, want)
	}
	if runtime.GOOS == "linux" {
		for _, d := range DefaultDirs() {
			if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
				t.Errorf("DefaultDirs returned %s, which is not a folder", d)
			}
		}
	}
}

// TestRemovedAfterMoves: a handed file deleted is reported removed, once;
// a handed file moved is indexed under its new name before its old name
// is reported removed (so an index keeps the dump); an unhanded file is
// not reported.
func TestRemovedAfterMoves(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := newRecorder()
	removed := func(_ context.Context, path string) error {
		rec.mu.Lock()
		rec.calls = append(rec.calls, call{path, -2})
		rec.mu.Unlock()
		rec.ch <- call{path, -2}
		return nil
	}
	a, b := filepath.Join(dir, "a.dmp"), filepath.Join(dir, "b.dmp")
	if err := os.WriteFile(a, []byte("dump a"), 0o644); err != nil {
		t.Fatal(err)
	}
	startWith(t, Options{Dirs: []string{dir}, Index: rec.index, Removed: removed})
	if c := rec.wait(t, 2*time.Second); c.path != a || c.size < 0 {
		t.Fatalf("first call %+v, want Index(a)", c)
	}
	if err := os.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	first, second := rec.wait(t, 2*time.Second), rec.wait(t, 2*time.Second)
	if first.path != b || first.size < 0 || second.path != a || second.size != -2 {
		t.Fatalf("after a move: %+v then %+v; want Index(b), then Removed(a)", first, second)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if c := rec.wait(t, 2*time.Second); c.path != b || c.size != -2 {
		t.Fatalf("after deleting b: %+v, want Removed(b)", c)
	}
	// Written and deleted before it was handed: nothing to report.
	c := filepath.Join(dir, "c.dmp")
	os.WriteFile(c, []byte("c"), 0o644)
	os.Remove(c)
	rec.quiet(t, 3*stable)
}
