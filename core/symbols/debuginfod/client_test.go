package debuginfod

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// crashc is an ELF file with a GNU build id from the corpus.
func crashc(t *testing.T) (data, id []byte) {
	t.Helper()
	p := fixture.Corpus(t, "generated/linux-core/crashc")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	id, err = elfsym.BuildID(p)
	if err != nil || len(id) == 0 {
		t.Fatalf("build id %x, %v", id, err)
	}
	return data, id
}

// server serves files by URL path and counts requests.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
	// chunked leaves Content-Length out; block, when set, stops after
	// half the body until it is closed or the request ends.
	chunked bool
	block   chan struct{}
}

func newServer(t *testing.T) *server {
	s := &server{files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		data, ok := s.files[r.URL.Path]
		chunked, block := s.chunked, s.block
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		if !chunked {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		}
		if block != nil {
			w.Write(data[:len(data)/2])
			w.(http.Flusher).Flush()
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
			w.Write(data[len(data)/2:])
			return
		}
		w.Write(data)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) put(id []byte, kind string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files["/buildid/"+hex.EncodeToString(id)+"/"+kind] = data
}

// set changes the serving mode.
func (s *server) set(chunked bool, block chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chunked, s.block = chunked, block
}

func (s *server) count(id []byte, kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits["/buildid/"+hex.EncodeToString(id)+"/"+kind]
}

// files lists what is under dir, hidden files included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

func TestFetchHitAndProgress(t *testing.T) {
	data, id := crashc(t)
	srv := newServer(t)
	srv.put(id, KindDebuginfo, data)
	var mu sync.Mutex
	var calls [][2]int64
	c := &Client{URLs: []string{srv.URL + "/"}, CacheDir: t.TempDir(), Progress: func(done, total int64) {
		mu.Lock()
		calls = append(calls, [2]int64{done, total})
		mu.Unlock()
	}}
	p, err := c.Fetch(context.Background(), id, KindDebuginfo)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir, hex.EncodeToString(id), "debuginfo"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, data) {
		t.Error("cached file differs from the served one")
	}
	n := int64(len(data))
	if len(calls) < 2 || calls[0] != [2]int64{0, n} || calls[len(calls)-1] != [2]int64{n, n} {
		t.Errorf("progress calls %v; want from (0,%d) to (%d,%d)", calls, n, n, n)
	}
	for i := 1; i < len(calls); i++ {
		if calls[i][0] < calls[i-1][0] {
			t.Errorf("progress went back: %v", calls)
		}
	}
	// A hit needs no request.
	if p2, err := c.Fetch(context.Background(), id, KindDebuginfo); err != nil || p2 != p || srv.count(id, KindDebuginfo) != 1 {
		t.Errorf("second Fetch: %q, %v, %d requests", p2, err, srv.count(id, KindDebuginfo))
	}
	// Without Content-Length the total is unknown, or X-Debuginfod-Size.
	srv.set(true, nil)
	calls = nil
	if _, err := c.Fetch(context.Background(), id, KindExecutable); !errors.Is(err, ErrNotFound) {
		t.Errorf("executable not served: %v", err)
	}
	srv.put(id, KindExecutable, data)
	c.MissTTL = -1
	if _, err := c.Fetch(context.Background(), id, KindExecutable); err != nil {
		t.Fatal(err)
	}
	// The size stays unknown while the bytes come; the last call, done ==
	// total, says the transfer ended.
	if len(calls) < 2 || calls[len(calls)-2] != [2]int64{n, -1} || calls[len(calls)-1] != [2]int64{n, n} {
		t.Errorf("chunked progress %v, want (%d,-1) then (%d,%d)", calls, n, n, n)
	}
}

func TestFetchMissCache(t *testing.T) {
	_, id := crashc(t)
	srv := newServer(t)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), now: func() time.Time { return now }}
	for i := range 3 {
		if _, err := c.Fetch(context.Background(), id, KindDebuginfo); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Fetch %d: %v", i, err)
		}
	}
	if n := srv.count(id, KindDebuginfo); n != 1 {
		t.Errorf("%d requests for a known miss, want 1", n)
	}
	// The miss is on disk: another client (next session) remembers it.
	c2 := &Client{URLs: c.URLs, CacheDir: c.CacheDir, now: c.now}
	if _, err := c2.Fetch(context.Background(), id, KindDebuginfo); !errors.Is(err, ErrNotFound) || srv.count(id, KindDebuginfo) != 1 {
		t.Errorf("new client: %v, %d requests", err, srv.count(id, KindDebuginfo))
	}
	// After MissTTL it asks again.
	now = now.Add(DefaultMissTTL + time.Second)
	if _, err := c.Fetch(context.Background(), id, KindDebuginfo); !errors.Is(err, ErrNotFound) || srv.count(id, KindDebuginfo) != 2 {
		t.Errorf("after the TTL: %v, %d requests", err, srv.count(id, KindDebuginfo))
	}
	// Other kinds are separate.
	c.Fetch(context.Background(), id, KindExecutable)
	if srv.count(id, KindExecutable) != 1 {
		t.Error("executable miss not asked for")
	}
}

func TestFetchWrongBuildID(t *testing.T) {
	data, id := crashc(t)
	bad, good := newServer(t), newServer(t)
	// The right bytes under another build id's URL.
	other := bytes.Repeat([]byte{0x5a}, len(id))
	bad.put(other, KindDebuginfo, data)
	good.put(other, KindDebuginfo, data)
	c := &Client{URLs: []string{bad.URL, good.URL}, CacheDir: t.TempDir()}
	_, err := c.Fetch(context.Background(), other, KindDebuginfo)
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrBuildIDMismatch) {
		t.Errorf("wrong build id served: %v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusOK {
		t.Errorf("error %v lacks a per-server *Error", err)
	}
	if bad.count(other, KindDebuginfo) != 1 || good.count(other, KindDebuginfo) != 1 {
		t.Error("not every server was asked")
	}
	if got := files(t, c.CacheDir); len(got) != 1 || filepath.Base(got[0]) != ".debuginfo.miss" {
		t.Errorf("cache holds %v; want only the miss marker", got)
	}
	// The first server fails, the second has it.
	good.put(id, KindDebuginfo, data)
	bad.put(id, KindDebuginfo, []byte("\x7fELF truncated"))
	if p, err := c.Fetch(context.Background(), id, KindDebuginfo); err != nil || filepath.Base(p) != "debuginfo" {
		t.Errorf("Fetch with a bad first server: %q, %v", p, err)
	}
}

func TestFetchCancel(t *testing.T) {
	data, id := crashc(t)
	srv := newServer(t)
	srv.put(id, KindDebuginfo, data)
	block := make(chan struct{})
	defer close(block)
	srv.set(false, block)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), Progress: func(done, total int64) {
		if done > 0 {
			cancel() // mid-download
		}
	}}
	if _, err := c.Fetch(ctx, id, KindDebuginfo); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Fetch: %v", err)
	}
	if got := files(t, c.CacheDir); len(got) != 0 {
		t.Errorf("cancelled download left %v", got)
	}
	// A cancellation is not a miss: the next Fetch downloads.
	srv.set(false, nil)
	c.Progress = nil
	if _, err := c.Fetch(context.Background(), id, KindDebuginfo); err != nil {
		t.Errorf("Fetch after a cancelled one: %v", err)
	}
}

func TestFetchStallAndLimits(t *testing.T) {
	data, id := crashc(t)
	srv := newServer(t)
	srv.put(id, KindDebuginfo, data)
	block := make(chan struct{})
	defer close(block)
	srv.set(false, block)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), Timeout: 50 * time.Millisecond}
	_, err := c.Fetch(context.Background(), id, KindDebuginfo)
	var e *Error
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrNotFound) || !errors.As(err, &e) {
		t.Fatalf("stalled download: %v", err)
	}
	if got := files(t, c.CacheDir); len(got) != 0 {
		t.Errorf("stalled download left %v", got)
	}
	// A failing server is remembered in memory, not asked at every walk.
	if _, err := c.Fetch(context.Background(), id, KindDebuginfo); err == nil || srv.count(id, KindDebuginfo) != 1 {
		t.Errorf("retry of a failed download: %v, %d requests", err, srv.count(id, KindDebuginfo))
	}

	// Too large, announced or not.
	for _, chunked := range []bool{false, true} {
		srv := newServer(t)
		srv.put(id, KindDebuginfo, data)
		srv.set(chunked, nil)
		c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), MaxSize: int64(len(data)) / 2}
		if _, err := c.Fetch(context.Background(), id, KindDebuginfo); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("chunked %v: oversized download: %v", chunked, err)
		}
		if got := files(t, c.CacheDir); len(got) != 0 {
			t.Errorf("chunked %v: oversized download left %v", chunked, got)
		}
	}
}

func TestFetchConcurrent(t *testing.T) {
	data, id := crashc(t)
	srv := newServer(t)
	srv.put(id, KindDebuginfo, data)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Fetch(context.Background(), id, KindDebuginfo); err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d concurrent Fetches failed", failed.Load())
	}
	if got := files(t, c.CacheDir); len(got) != 1 {
		t.Errorf("cache holds %v", got)
	}
}

func TestFetchArguments(t *testing.T) {
	_, id := crashc(t)
	c := &Client{CacheDir: t.TempDir()}
	if _, err := c.Fetch(context.Background(), id, "source"); err == nil {
		t.Error("unknown kind accepted")
	}
	if _, err := c.Fetch(context.Background(), nil, KindDebuginfo); err == nil {
		t.Error("empty build id accepted")
	}
	if _, err := c.Fetch(context.Background(), id, KindDebuginfo); !errors.Is(err, ErrNotFound) {
		t.Errorf("no servers: %v", err)
	}
	t.Setenv("DEBUGINFOD_URLS", " https://a.example/  https://b.example ")
	if got := NewClient().URLs; len(got) != 2 || got[0] != "https://a.example/" {
		t.Errorf("NewClient URLs %q", got)
	}
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if d, err := DefaultCacheDir(); err != nil || d != filepath.Join("/x/cache", "crashbench", "debuginfod") {
		t.Errorf("DefaultCacheDir = %q, %v", d, err)
	}
}

// TestFinderHook plugs the client into elfsym.Finder, as the session does.
func TestFinderHook(t *testing.T) {
	data, id := crashc(t)
	srv := newServer(t)
	srv.put(id, KindDebuginfo, data)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	f := &elfsym.Finder{DebugDirs: []string{}, Fetch: c.Fetch}
	m := model.Module{Base: 0x555555554000, Path: "/nowhere/crashc", BuildID: id}
	p, ok := f.FindDebug(m, "")
	if !ok || p != filepath.Join(c.CacheDir, hex.EncodeToString(id), "debuginfo") {
		t.Errorf("FindDebug through debuginfod = %q, %v", p, ok)
	}
	if _, ok := f.Find(m); ok {
		t.Error("Find got an executable the server does not have")
	}
	// The cache is a debuginfod layout the Finder reads without the hook.
	if p2, ok := (&elfsym.Finder{Dirs: []string{c.CacheDir}, DebugDirs: []string{}}).FindDebug(m, ""); !ok || p2 != p {
		t.Errorf("FindDebug in the cache dir = %q, %v", p2, ok)
	}
}
