package session

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// countingServer serves a folder as a static symbol store and counts the
// requests.
type countingServer struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func newCountingServer(t *testing.T, root string) *countingServer {
	cs := &countingServer{}
	files := http.FileServer(http.Dir(root))
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.hits++
		cs.mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.hits
}

// run executes a console line and returns its output, errors included.
func run(t *testing.T, s *Session, line string) string {
	t.Helper()
	var b bytes.Buffer
	if err := s.Exec(context.Background(), line, console.NewTextOutput(&b)); err != nil {
		b.WriteString("error: " + err.Error() + "\n")
	}
	return b.String()
}

func openSession(t *testing.T, path string, o Options) *Session {
	t.Helper()
	s, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSymbolCommands drives .sympath, !sym noisy, .reload and lm on the
// triage dump whose amdppm.sys frames need a symbol server (rizin's store
// served over HTTP).
func TestSymbolCommands(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, fixture.Corpus(t, "rizin-symstore"))
	cache := t.TempDir()
	s := openSession(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{})

	if out := run(t, s, ".sympath"); !strings.Contains(out, "Symbol search path is empty") && !strings.Contains(out, "Symbol search path is: ") {
		t.Errorf(".sympath: %q", out)
	}
	if out := run(t, s, "k"); !strings.Contains(out, "amdppm+0x334c") {
		t.Fatalf("k without symbols:\n%s", out)
	}

	path := "srv*" + cache + "*" + srv.URL
	// .sympath takes the rest of the line (a path's entries are separated
	// by ';'), so k goes on a line of its own.
	out := run(t, s, "!sym noisy; .sympath "+path) + run(t, s, "k")
	wantAll(t, "noisy k", out,
		"noisy mode",
		"Symbol search path is: "+path,
		"amdppm!WriteIoMemRawEx",
		// Each URL tried, with its result: the image by its
		// TimeDateStamp+SizeOfImage key (rizin's store has it in lower
		// case only), then the PDB by its GUID+age.
		"symsrv: GET "+srv.URL+"/amdppm.sys/C9C030003b000/amdppm.sys: HTTP 404 (not found)",
		"symsrv: GET "+srv.URL+"/amdppm.sys/c9c030003b000/amdppm.sys: found",
		"symsrv: GET "+srv.URL+"/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb: found",
		"amdppm.sys: pdb symbols")
	if out := run(t, s, "lm m amdppm"); !strings.Contains(out, "pdb symbols") {
		t.Errorf("lm after loading:\n%s", out)
	}

	// .reload defers again; quiet, the next k reads the cache and says nothing.
	asked := srv.count()
	out = run(t, s, ".reload; !sym quiet; k")
	if !strings.Contains(out, "amdppm!WriteIoMemRawEx") || strings.Contains(out, "symsrv:") {
		t.Errorf("k after .reload, quiet:\n%s", out)
	}
	if srv.count() != asked {
		t.Errorf("the server was asked %d more times after .reload", srv.count()-asked)
	}

	// .reload /f module loads that module now and says where from.
	out = run(t, s, ".reload /f amdppm.sys")
	wantAll(t, ".reload /f", out, "amdppm.sys", "pdb symbols")
	if out := run(t, s, ".reload /f nosuch.dll"); !strings.Contains(out, "error") {
		t.Errorf(".reload of an unknown module: %q", out)
	}

	// .sympath+ appends; .symfix sets Microsoft's server.
	extra := t.TempDir()
	if out := run(t, s, ".sympath+ "+extra); !strings.Contains(out, path+";"+extra) {
		t.Errorf(".sympath+: %q", out)
	}
	if out := run(t, s, ".symfix "+cache); !strings.Contains(out, "srv*"+cache+"*https://msdl.microsoft.com/download/symbols") {
		t.Errorf(".symfix: %q", out)
	}
	if out := run(t, s, ".sympath /no/such/folder"); !strings.Contains(out, "WARNING") || !strings.Contains(out, "/no/such/folder") {
		t.Errorf(".sympath of a missing folder: %q", out)
	}
}

// TestOffline: with the offline switch the server is never asked, the
// frames fall back to module+offset, and what an earlier online run
// cached is still used.
func TestOffline(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, fixture.Corpus(t, "rizin-symstore"))
	dump := fixture.Corpus(t, "rizin/dmp/triage_x64.dmp")
	path := "srv*" + t.TempDir() + "*" + srv.URL
	_, a := analyzed(t, dump, Options{SymPath: path, Offline: true})
	if f := a.Threads[a.Crashed].Frames[0]; f.Analysis.String() != "amdppm+0x334c" {
		t.Errorf("offline, empty cache: frame 0 %q", f.Analysis.String())
	}
	if srv.count() != 0 {
		t.Fatalf("offline session asked the server %d times", srv.count())
	}
	analyzed(t, dump, Options{SymPath: path}) // online: fills the cache
	asked := srv.count()
	_, c := analyzed(t, dump, Options{SymPath: path, Offline: true})
	if f := c.Threads[c.Crashed].Frames[0]; f.Analysis.Function != "WriteIoMemRawEx" {
		t.Errorf("offline, warm cache: frame 0 %q", f.Analysis.String())
	}
	if srv.count() != asked {
		t.Errorf("offline session asked the server %d times", srv.count()-asked)
	}
}

// TestStoreWithSymInPDBPlace serves symbolicator's test store, whose
// crash.pdb is a CAB holding a Breakpad text file: mini.dmp's frames are
// named from it as symbolicator's snapshot says (main at main.cpp:35,
// __scrt_common_main_seh at exe_common.inl:283).
func TestStoreWithSymInPDBPlace(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, fixture.Corpus(t, "symbolicator/symbols"))
	_, a := analyzed(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{SymPath: "srv*" + t.TempDir() + "*" + srv.URL})
	checkMiniFrames(t, a)
}

// TestBreakpadSymbolServer serves crash.sym in a Breakpad symbol server's
// layout (crash.pdb/<ID>/crash.sym, as symbols.mozilla.org keeps them).
func TestBreakpadSymbolServer(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "crash.pdb", "3249D99D0C4049318610F4E4FB0B69361")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sym, err := os.ReadFile(fixture.Corpus(t, "symbolic-pdb/windows/crash.sym"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crash.sym"), sym, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := newCountingServer(t, root)
	_, a := analyzed(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{SymPath: "srv*" + t.TempDir() + "*" + srv.URL})
	checkMiniFrames(t, a)
}

func checkMiniFrames(t *testing.T, a *Analysis) {
	t.Helper()
	frames := a.Threads[a.Crashed].Frames
	for i, w := range []struct {
		fn, file string
		line     int
	}{{"main", "main.cpp", 35}, {"__scrt_common_main_seh", "exe_common.inl", 283}} {
		if i >= len(frames) {
			t.Fatalf("%d frames", len(frames))
		}
		f := frames[i].Analysis
		if f.Function != w.fn || filepath.Base(filepathSlash(f.File)) != w.file || f.Line != w.line {
			t.Errorf("frame %d = %+v, want %s at %s:%d", i, f, w.fn, w.file, w.line)
		}
	}
}

// TestAltSymbolPath: _NT_ALT_SYMBOL_PATH is searched before
// _NT_SYMBOL_PATH and --sympath.
func TestAltSymbolPath(t *testing.T) {
	t.Setenv("_NT_ALT_SYMBOL_PATH", fixture.Corpus(t, "symbolic-pdb/windows"))
	t.Setenv("_NT_SYMBOL_PATH", "/elsewhere")
	s := openSession(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{})
	if p := s.SymbolPath(); p != fixture.Corpus(t, "symbolic-pdb/windows")+";/elsewhere" {
		t.Errorf("path %q", p)
	}
	a, err := s.Analyze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkMiniFrames(t, a)
}

// TestCancelledSymbolLoad: a command cancelled while a symbol server
// stalls returns, its frames unnamed; the module is not marked as having
// no symbols, so the next command loads them.
func TestCancelledSymbolLoad(t *testing.T) {
	t.Parallel()
	store := fixture.Corpus(t, "rizin-symstore")
	release := make(chan struct{})
	var once sync.Once
	started := make(chan struct{})
	files := http.FileServer(http.Dir(store))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			files.ServeHTTP(w, r)
		default:
			once.Do(func() { close(started) })
			select { // stall until released or the client gives up
			case <-release:
				files.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	s := openSession(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: "srv*" + t.TempDir() + "*" + srv.URL})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	var b bytes.Buffer
	s.Exec(ctx, "k", console.NewTextOutput(&b))
	if strings.Contains(b.String(), "WriteIoMemRawEx") {
		t.Fatalf("cancelled k named the frame:\n%s", b.String())
	}
	// An analysis whose context ends stops its downloads as well.
	done, stop := context.WithCancel(context.Background())
	stop()
	if a, err := s.Analyze(done); err == nil && a.Crashed >= 0 && len(a.Threads[a.Crashed].Frames) > 0 {
		if f := a.Threads[a.Crashed].Frames[0]; f.Analysis.Function != "" {
			t.Errorf("cancelled analysis named frame 0 %q", f.Analysis.String())
		}
	}
	close(release)
	if out := run(t, s, "k"); !strings.Contains(out, "amdppm!WriteIoMemRawEx") {
		t.Errorf("k after the cancelled one:\n%s", out)
	}
}

// TestSymbolProgress: downloads report their progress to
// Options.SymbolProgress, each ending with all its bytes.
func TestSymbolProgress(t *testing.T) {
	t.Parallel()
	srv := newCountingServer(t, fixture.Corpus(t, "rizin-symstore"))
	var mu sync.Mutex
	last := map[string][2]int64{}
	progress := func(what string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		last[what] = [2]int64{done, total}
	}
	_, a := analyzed(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: "srv*" + t.TempDir() + "*" + srv.URL, SymbolProgress: progress})
	if f := a.Threads[a.Crashed].Frames[0]; f.Analysis.Function != "WriteIoMemRawEx" {
		t.Fatalf("frame 0 %q", f.Analysis.String())
	}
	mu.Lock()
	defer mu.Unlock()
	pdb := srv.URL + "/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"
	st, err := os.Stat(filepath.Join(fixture.Corpus(t, "rizin-symstore"), "amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	if got := last[pdb]; got != [2]int64{st.Size(), st.Size()} {
		t.Errorf("progress of %s ended at %v, want %d of %d (all: %v)", pdb, got, st.Size(), st.Size(), last)
	}
}

// TestMismatchedPDB: a crash.pdb from another build in the symbol path
// is not used; lm marks the module M and lm v says which file and ids,
// as WinDbg reports a mismatched PDB.
func TestMismatchedPDB(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	other, err := os.ReadFile(fixture.Corpus(t, "symbolic-pdb/windows/CrashWithException.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "crash.pdb"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, fixture.Corpus(t, "symbolic/windows/mini.dmp"), Options{SymPath: dir})
	out := run(t, s, "!sym noisy") + run(t, s, "ln crash+0x2a3d") + run(t, s, "lm m crash") + run(t, s, "lm v m crash")
	wantAll(t, "mismatch", out,
		"pdb: "+filepath.Join(dir, "crash.pdb")+": mismatched",
		") M\n",
		"Symbol errors:", "mismatched "+filepath.Join(dir, "crash.pdb"), "the module's is 3249D99D0C4049318610F4E4FB0B69361")
	if strings.Contains(out, "crash!main") {
		t.Errorf("named from the mismatched PDB:\n%s", out)
	}
}
