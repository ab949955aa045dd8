package symsrv

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// server is a case-sensitive static symbol store: files by URL path,
// else under root (the corpus store), counting requests.
type server struct {
	*httptest.Server
	root string

	mu      sync.Mutex
	files   map[string][]byte
	hits    map[string]int
	agents  []string
	chunked bool          // leave Content-Length out
	block   chan struct{} // when set, stop after half the body until closed
	started chan struct{} // closed when a blocked body has started
}

func newServer(t *testing.T, root string) *server {
	s := &server{root: root, files: map[string][]byte{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.agents = append(s.agents, r.UserAgent())
		data, ok := s.files[r.URL.Path]
		chunked, block, started := s.chunked, s.block, s.started
		s.mu.Unlock()
		if !ok && s.root != "" {
			p := filepath.Join(s.root, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/")))
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				data, ok = readFile(t, p), true
			}
		}
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
			if started != nil {
				close(started)
			}
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

func (s *server) put(p string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[p] = data
}

func (s *server) count(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[p]
}

func (s *server) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.hits {
		n += v
	}
	return n
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// files lists what is under dir, hidden files included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func store(t *testing.T) string {
	t.Helper()
	return filepath.Dir(fixture.Corpus(t, "rizin-symstore/ORACLE-NOTES.md"))
}

func TestFetchCorpusImageKeyCase(t *testing.T) {
	root := store(t)
	srv := newServer(t, root)
	var mu sync.Mutex
	var last [2]int64
	c := &Client{URLs: []string{srv.URL + "/"}, CacheDir: t.TempDir(), Progress: func(done, total int64) {
		mu.Lock()
		last = [2]int64{done, total}
		mu.Unlock()
	}}
	// Microsoft's spelling (%08X%x); the store has the key in lower case.
	p, err := c.Fetch(context.Background(), "amdppm.sys", "C9C030003b000")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(c.CacheDir, "amdppm.sys", "C9C030003b000", "amdppm.sys"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	want := readFile(t, filepath.Join(root, "amdppm.sys", "c9c030003b000", "amdppm.sys"))
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("fetched file differs from the store's")
	}
	if n := int64(len(want)); last != [2]int64{n, n} {
		t.Errorf("last progress %v, want [%d %d]", last, n, n)
	}
	// As given, then upper case (the same spelling's forms each), then lower.
	if n := srv.count("/amdppm.sys/C9C030003b000/amdppm.sys"); n != 1 {
		t.Errorf("asked %d times for the key as given", n)
	}
	if n := srv.count("/amdppm.sys/C9C030003B000/amdppm.sys"); n != 1 {
		t.Errorf("asked %d times for the upper-case key", n)
	}
	if n := srv.count("/amdppm.sys/c9c030003b000/amdppm.sys"); n != 1 {
		t.Errorf("asked %d times for the lower-case key", n)
	}
	for _, a := range srv.agents {
		if a != UserAgent {
			t.Errorf("User-Agent %q", a)
		}
	}
	if got := files(t, c.CacheDir); !slices.Equal(got, []string{"amdppm.sys/C9C030003b000/amdppm.sys"}) {
		t.Errorf("cache holds %q", got)
	}
	// The cache answers without the network, under any spelling.
	before := srv.total()
	for _, k := range []string{"C9C030003b000", "c9c030003b000"} {
		if p2, err := c.Fetch(context.Background(), "amdppm.sys", k); err != nil || p2 != p {
			t.Errorf("second fetch (%s): %s, %v", k, p2, err)
		}
	}
	if srv.total() != before {
		t.Error("cache hit made requests")
	}
}

func TestFetchCorpusPDB(t *testing.T) {
	root := store(t)
	srv := newServer(t, root)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	const key = "1C19FDDB27BB3399D9B45973EFEAFCF31"
	p, err := c.Fetch(context.Background(), "amdppm.pdb", key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), readFile(t, filepath.Join(root, "amdppm.pdb", key, "amdppm.pdb"))) {
		t.Error("fetched PDB differs from the store's")
	}
	if n := srv.total(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestMissCached(t *testing.T) {
	srv := newServer(t, "")
	now := time.Unix(1_800_000_000, 0)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), now: func() time.Time { return now }}
	_, err := c.Fetch(context.Background(), "nope.pdb", "00112233445566778899AABBCCDDEEFF1")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v, want ErrNotFound", err)
	}
	// The key is all upper case already: as given and lower case, three forms each.
	if n := srv.total(); n != 6 {
		t.Errorf("%d requests, want 6", n)
	}
	_, err = c.Fetch(context.Background(), "nope.pdb", "00112233445566778899AABBCCDDEEFF1")
	if !errors.Is(err, ErrNotFound) || srv.total() != 6 {
		t.Errorf("cached miss: %v after %d requests", err, srv.total())
	}
	if got := files(t, c.CacheDir); !slices.Equal(got, []string{"nope.pdb/00112233445566778899AABBCCDDEEFF1/.nope.pdb.miss"}) {
		t.Errorf("cache holds %q", got)
	}
	// A miss is a marker on disk: another client with the same cache
	// trusts it too, until MissTTL has passed.
	c2 := &Client{URLs: c.URLs, CacheDir: c.CacheDir, now: func() time.Time { return now.Add(DefaultMissTTL - time.Second) }}
	if _, err := c2.Fetch(context.Background(), "nope.pdb", "00112233445566778899AABBCCDDEEFF1"); !errors.Is(err, ErrNotFound) || srv.total() != 6 {
		t.Errorf("second client: %v after %d requests", err, srv.total())
	}
	now = now.Add(DefaultMissTTL + time.Second)
	if _, err := c.Fetch(context.Background(), "nope.pdb", "00112233445566778899AABBCCDDEEFF1"); !errors.Is(err, ErrNotFound) || srv.total() != 12 {
		t.Errorf("after MissTTL: %v after %d requests", err, srv.total())
	}
}

func TestCancelMidDownload(t *testing.T) {
	srv := newServer(t, "")
	data := append([]byte("MZ"), make([]byte, 1<<20)...)
	srv.put("/a.dll/5DDC1E9A6c000/a.dll", data)
	block, started := make(chan struct{}), make(chan struct{})
	defer close(block)
	srv.block, srv.started = block, started
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err := c.Fetch(ctx, "a.dll", "5DDC1E9A6c000")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if got := files(t, c.CacheDir); len(got) != 0 {
		t.Errorf("cancelled download left %q", got)
	}
	// Cancellation is no miss: the next Fetch downloads.
	srv.mu.Lock()
	srv.block = nil
	srv.mu.Unlock()
	if _, err := c.Fetch(context.Background(), "a.dll", "5DDC1E9A6c000"); err != nil {
		t.Fatal(err)
	}
}

func TestStall(t *testing.T) {
	srv := newServer(t, "")
	srv.put("/a.dll/5DDC1E9A6c000/a.dll", append([]byte("MZ"), make([]byte, 1000)...))
	block := make(chan struct{})
	defer close(block)
	srv.block = block
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), Timeout: 50 * time.Millisecond}
	_, err := c.Fetch(context.Background(), "a.dll", "5DDC1E9A6c000")
	var e *Error
	if !errors.As(err, &e) || errors.Is(err, ErrNotFound) || errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want a stall *Error", err)
	}
	if got := files(t, c.CacheDir); len(got) != 0 {
		t.Errorf("stalled download left %q", got)
	}
	// A failing server is not asked again at once.
	before := srv.total()
	if _, err := c.Fetch(context.Background(), "a.dll", "5DDC1E9A6c000"); err == nil || srv.total() != before {
		t.Errorf("retried at once: %v, %d requests", err, srv.total()-before)
	}
}

func TestCompressedCAB(t *testing.T) {
	pd := fixture.Corpus(t, "mozilla-dump-syms/basic32.pd_")
	srv := newServer(t, "")
	const key = "34060D222DBB44E5AA72243CE8326C2F2"
	srv.put("/basic32.pdb/"+key+"/basic32.pd_", readFile(t, pd))
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	p, err := c.Fetch(context.Background(), "basic32.pdb", key)
	if err != nil {
		t.Fatal(err)
	}
	b := readFile(t, p)
	// ORACLE-NOTES: 6,590,464 bytes, MD5 a6c609e6b62cd0b9fbea5400bf370891.
	sum := md5.Sum(b)
	if len(b) != 6590464 || hex.EncodeToString(sum[:]) != "a6c609e6b62cd0b9fbea5400bf370891" {
		t.Errorf("unpacked %d bytes, MD5 %x", len(b), sum)
	}
	if got := files(t, c.CacheDir); !slices.Equal(got, []string{"basic32.pdb/" + key + "/basic32.pdb"}) {
		t.Errorf("cache holds %q", got)
	}
	var dirs []string
	filepath.WalkDir(c.CacheDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && strings.HasPrefix(d.Name(), ".") {
			dirs = append(dirs, p)
		}
		return nil
	})
	if len(dirs) != 0 {
		t.Errorf("unpack left %q", dirs)
	}
}

func TestCompressedNotCAB(t *testing.T) {
	srv := newServer(t, "")
	srv.put("/x.pdb/00112233445566778899AABBCCDDEEFF1/x.pd_", []byte("<html>not here</html>"))
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	_, err := c.Fetch(context.Background(), "x.pdb", "00112233445566778899AABBCCDDEEFF1")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrBadContent) {
		t.Fatalf("err %v, want ErrNotFound and ErrBadContent", err)
	}
}

func TestBadContentIsMiss(t *testing.T) {
	srv := newServer(t, "")
	srv.put("/x.pdb/00112233445566778899AABBCCDDEEFF1/x.pdb", []byte("<html>Sign in</html>"))
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	_, err := c.Fetch(context.Background(), "x.pdb", "00112233445566778899AABBCCDDEEFF1")
	if !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrBadContent) {
		t.Fatalf("err %v, want ErrNotFound and ErrBadContent", err)
	}
	if got := files(t, c.CacheDir); !slices.Equal(got, []string{"x.pdb/00112233445566778899AABBCCDDEEFF1/.x.pdb.miss"}) {
		t.Errorf("cache holds %q", got)
	}
}

func TestFilePtr(t *testing.T) {
	root := store(t)
	local := filepath.Join(root, "amdppm.sys", "c9c030003b000", "amdppm.sys")
	want := readFile(t, local)
	srv := newServer(t, "")
	srv.put("/remote/amdppm.sys", want)
	srv.put("/amdppm.sys/C9C030003b000/file.ptr", []byte("PATH:"+local+"\r\n"))
	srv.put("/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/file.ptr", []byte("PATH:"+srv.URL+"/remote/amdppm.sys"))
	srv.put("/amdppm.sys/C9C030003b001/file.ptr", []byte("MSG: this file was withdrawn"))
	srv.put("/amdppm.sys/C9C030003b002/file.ptr", []byte("PATH:/nonexistent/amdppm.sys"))

	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	p, err := c.Fetch(context.Background(), "amdppm.sys", "C9C030003b000")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("PATH: to a local file: content differs")
	}
	// A PATH: URL (served here as a .sys under a .pdb name, so the
	// content check refuses it: the redirection itself was followed).
	_, err = c.Fetch(context.Background(), "amdppm.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31")
	if !errors.Is(err, ErrBadContent) || srv.count("/remote/amdppm.sys") != 1 {
		t.Errorf("PATH: URL: %v, %d requests", err, srv.count("/remote/amdppm.sys"))
	}
	for _, k := range []string{"C9C030003b001", "C9C030003b002"} {
		if _, err := c.Fetch(context.Background(), "amdppm.sys", k); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err %v, want ErrNotFound", k, err)
		}
	}
}

func TestFilePtrURL(t *testing.T) {
	root := store(t)
	want := readFile(t, filepath.Join(root, "amdppm.sys", "c9c030003b000", "amdppm.sys"))
	srv := newServer(t, "")
	srv.put("/elsewhere/amdppm.sys", want)
	srv.put("/amdppm.sys/C9C030003b000/file.ptr", []byte("PATH:"+srv.URL+"/elsewhere/amdppm.sys"))
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	p, err := c.Fetch(context.Background(), "amdppm.sys", "C9C030003b000")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFile(t, p), want) {
		t.Error("content differs")
	}
}

func TestOversize(t *testing.T) {
	data := append([]byte("MZ"), make([]byte, 4096)...)
	for _, chunked := range []bool{false, true} {
		srv := newServer(t, "")
		srv.chunked = chunked
		srv.put("/a.dll/5DDC1E9A6c000/a.dll", data)
		c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir(), MaxSize: 1000}
		_, err := c.Fetch(context.Background(), "a.dll", "5DDC1E9A6c000")
		var e *Error
		if !errors.As(err, &e) || errors.Is(err, ErrNotFound) {
			t.Errorf("chunked=%v: err %v, want a size *Error", chunked, err)
		}
		if got := files(t, c.CacheDir); len(got) != 0 {
			t.Errorf("chunked=%v: cache holds %q", chunked, got)
		}
	}
}

func TestClientsChain(t *testing.T) {
	root := store(t)
	empty, full := newServer(t, ""), newServer(t, root)
	cache1, cache2 := t.TempDir(), t.TempDir()
	cs := NewClients([]Server{{Cache: cache1, URLs: []string{empty.URL}}, {Cache: cache2, URLs: []string{full.URL}}})
	p, err := cs.Fetch(context.Background(), "amdppm.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p, cache2) {
		t.Errorf("path %s not in the second cache", p)
	}
	// Several URLs in one entry, the first missing.
	c := &Client{URLs: []string{empty.URL, full.URL}, CacheDir: t.TempDir()}
	if _, err := c.Fetch(context.Background(), "amdppm.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Fetch(context.Background(), "none.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err %v, want ErrNotFound", err)
	}
}

func TestBadNameOrKey(t *testing.T) {
	c := &Client{URLs: []string{"http://127.0.0.1:1"}, CacheDir: t.TempDir()}
	for _, nk := range [][2]string{
		{"../x.pdb", "AB1"}, {"a/b.pdb", "AB1"}, {`a\b.pdb`, "AB1"}, {"..", "AB1"}, {"", "AB1"},
		{"x.pdb", ""}, {"x.pdb", "../AB"}, {"x.pdb", strings.Repeat("A", 65)},
	} {
		if _, err := c.Fetch(context.Background(), nk[0], nk[1]); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Fetch(%q, %q): %v", nk[0], nk[1], err)
		}
	}
	if got := files(t, c.CacheDir); len(got) != 0 {
		t.Errorf("cache holds %q", got)
	}
}

func TestKeyVariants(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want []string
	}{
		{"C9C030003b000", []string{"C9C030003b000", "C9C030003B000", "c9c030003b000"}},
		{"c9c030003b000", []string{"c9c030003b000", "C9C030003B000"}},
		{"ABC1", []string{"ABC1", "abc1"}},
		{"123", []string{"123"}},
	} {
		if got := keyVariants(tc.key); !slices.Equal(got, tc.want) {
			t.Errorf("keyVariants(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestConcurrentFetchShared(t *testing.T) {
	srv := newServer(t, "")
	srv.put("/a.dll/5DDC1E9A6c000/a.dll", append([]byte("MZ"), make([]byte, 1<<16)...))
	block, started := make(chan struct{}), make(chan struct{})
	srv.block, srv.started = block, started
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	var wg sync.WaitGroup
	paths := make([]string, 4)
	errs := make([]error, 4)
	for i := range paths {
		wg.Go(func() { paths[i], errs[i] = c.Fetch(context.Background(), "a.dll", "5DDC1E9A6c000") })
	}
	<-started
	close(block)
	wg.Wait()
	for i := range paths {
		if errs[i] != nil || paths[i] != paths[0] {
			t.Errorf("fetch %d: %s, %v", i, paths[i], errs[i])
		}
	}
	if n := srv.total(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestPDBThatIsACABOfASym serves symbolicator's test store, whose
// crash.pdb is a CAB holding a Breakpad text file (ORACLE-NOTES: "A client
// must sniff content, not trust the name"): the cache gets the unpacked
// text, byte-identical to symbolic-pdb's crash.sym.
func TestPDBThatIsACABOfASym(t *testing.T) {
	root := filepath.Dir(filepath.Dir(fixture.Corpus(t, "symbolicator/symbols/000Admin/lastid.txt")))
	want := readFile(t, fixture.Corpus(t, "symbolic-pdb/windows/crash.sym"))
	srv := newServer(t, root)
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	const key = "3249D99D0C4049318610F4E4FB0B69361"
	p, err := c.Fetch(context.Background(), "crash.pdb", key)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, p); !bytes.Equal(got, want) {
		t.Errorf("cached %d bytes starting %q, want crash.sym's %d bytes", len(got), got[:min(len(got), 40)], len(want))
	}
	if n := srv.count("/crash.pdb/" + key + "/crash.pdb"); n != 1 {
		t.Errorf("asked for crash.pdb %d times", n)
	}
}

// TestFetchSymFile fetches a Breakpad .sym from a Breakpad-layout server
// (<debug file>/<id>/<stem>.sym) and finds it in the cache afterwards
// without a server.
func TestFetchSymFile(t *testing.T) {
	sym := readFile(t, fixture.Corpus(t, "symbolic-pdb/windows/crash.sym"))
	srv := newServer(t, "")
	const key = "3249D99D0C4049318610F4E4FB0B69361"
	srv.put("/crash.pdb/"+key+"/crash.sym", sym)
	cache := t.TempDir()
	c := &Client{URLs: []string{srv.URL}, CacheDir: cache}
	p, err := c.FetchFile(context.Background(), "crash.pdb", key, "crash.sym")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "crash.pdb", key, "crash.sym"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	if srv.count("/crash.pdb/"+key+"/file.ptr") != 0 {
		t.Error("asked for file.ptr for a .sym")
	}
	srv.Close()
	offline := &Client{CacheDir: cache}
	if p2, err := offline.FetchFile(context.Background(), "crash.pdb", key, "crash.sym"); err != nil || p2 != p {
		t.Errorf("offline: %q, %v", p2, err)
	}
	// A .sym must be Breakpad text.
	srv2 := newServer(t, "")
	srv2.put("/x.pdb/00112233445566778899AABBCCDDEEFF1/x.sym", []byte("<html>"))
	c2 := &Client{URLs: []string{srv2.URL}, CacheDir: t.TempDir()}
	if _, err := c2.FetchFile(context.Background(), "x.pdb", "00112233445566778899AABBCCDDEEFF1", "x.sym"); !errors.Is(err, ErrBadContent) {
		t.Errorf("html .sym: %v", err)
	}
}

// TestTrace checks that a traced fetch reports every URL it asks and the
// result, and the cache hit on the second fetch.
func TestTrace(t *testing.T) {
	srv := newServer(t, "")
	const key = "00112233445566778899AABBCCDDEEFF1"
	srv.put("/x.pdb/"+key+"/file.ptr", []byte("MSG: withheld"))
	var lines []string
	var mu sync.Mutex
	ctx := symtab.WithTrace(context.Background(), func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() })
	c := &Client{URLs: []string{srv.URL}, CacheDir: t.TempDir()}
	if _, err := c.Fetch(ctx, "x.pdb", key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err %v", err)
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{
		"GET " + srv.URL + "/x.pdb/" + key + "/x.pdb: HTTP 404 (not found)",
		"GET " + srv.URL + "/x.pdb/" + key + "/x.pd_: HTTP 404 (not found)",
		"GET " + srv.URL + "/x.pdb/" + key + "/file.ptr: found",
		"GET " + srv.URL + "/x.pdb/" + strings.ToLower(key) + "/x.pdb: HTTP 404 (not found)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("trace lacks %q:\n%s", want, text)
		}
	}
	lines = nil
	c.Fetch(ctx, "x.pdb", key)
	if len(lines) != 1 || !strings.Contains(lines[0], "not asked again") {
		t.Errorf("second fetch traced %q", lines)
	}
}
