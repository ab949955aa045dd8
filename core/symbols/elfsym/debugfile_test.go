package elfsym

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const (
	libcPath    = "/usr/lib/x86_64-linux-gnu/libc.so.6"
	libcBuildID = "93ac61ec5a8eb1396f9fbd350e3169a558528a40"
	libcDebug   = "/usr/lib/debug/.build-id/93/ac61ec5a8eb1396f9fbd350e3169a558528a40.debug"
)

// TestLibcSeparateDebug names the libc frames of the corpus core
// generated/linux-core/core.crashc.sigsegv as gdb does
// (core.crashc.sigsegv.gdb.txt), from this machine's stripped libc and
// its libc6-dbg debug file. The core was written on a Debian 12 machine
// with the same libc build; anywhere else the test skips.
func TestLibcSeparateDebug(t *testing.T) {
	id, _ := hex.DecodeString(libcBuildID)
	if got, err := BuildID(libcPath); err != nil || !bytes.Equal(got, id) {
		t.Skipf("%s has build id %x (err %v), not %s: not the Debian 12 libc the corpus core was written with", libcPath, got, err, libcBuildID)
	}
	if _, err := os.Stat(libcDebug); err != nil {
		t.Skipf("libc debug file missing (Debian: apt-get install libc6-dbg): %v", err)
	}
	// The module as the core's NT_FILE note gives it.
	m := model.Module{Base: 0x7fa205849000, Size: 0x1d5000, Path: libcPath, BuildID: id}
	f := &Finder{} // DebugDirs nil: /usr/lib/debug
	img, ok := f.Find(m)
	if !ok || img != libcPath {
		t.Fatalf("Find = %q, %v; want the module's own path %s", img, ok, libcPath)
	}
	dbg, ok := f.FindDebug(m, img)
	if !ok || dbg != libcDebug {
		t.Fatalf("FindDebug = %q, %v; want %s", dbg, ok, libcDebug)
	}

	// The RVA rule holds for both files: the debug file kept libc's
	// program headers, so both link bases are 0.
	it, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	dt, err := Open(dbg)
	if err != nil {
		t.Fatal(err)
	}
	if it.LinkBase() != dt.LinkBase() || it.LinkBase() != 0 {
		t.Errorf("link bases: image %#x, debug file %#x; want both 0", it.LinkBase(), dt.LinkBase())
	}
	// Stripped: the image alone knows only exported names.
	if s, ok := it.LookupRVA(0xd3df2); !ok || s.Name != "pause" || s.Line != 0 {
		t.Errorf("image alone at 0xd3df2: %+v, %v; want .dynsym's pause without a line", s, ok)
	}

	tab, err := NewProvider(f).Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	et := tab.(*Table)
	if et.Path() != libcPath || et.DebugPath() != libcDebug || !strings.Contains(et.Source(), "dwarf") {
		t.Errorf("table from %q + %q, source %q", et.Path(), et.DebugPath(), et.Source())
	}
	// Addresses from the core minus the module base; gdb names the
	// caller frames at pc−1, hence the second line check.
	for _, c := range []struct {
		rva        uint64
		name, file string
		line       int
		lineBefore int
	}{
		{0xd3df2, "__libc_pause", "pause.c", 29, 29},
		{0x891f5, "start_thread", "pthread_create.c", 442, 442},
		{0x1098ec, "clone3", "clone3.S", 83, 81},
	} {
		s, ok := tab.LookupRVA(c.rva)
		if !ok || s.Name != c.name {
			t.Errorf("LookupRVA(%#x) = %+v, %v; want %s", c.rva, s, ok, c.name)
			continue
		}
		if c.rva < s.Addr || c.rva >= s.Addr+s.Size {
			t.Errorf("%s: rva %#x outside [%#x,+%#x)", c.name, c.rva, s.Addr, s.Size)
		}
		if !strings.HasSuffix(s.File, c.file) || s.Line != c.line {
			t.Errorf("%s at %#x: %s:%d; want %s:%d", c.name, c.rva, s.File, s.Line, c.file, c.line)
		}
		if file, line := et.Line(c.rva - 1); !strings.HasSuffix(file, c.file) || line != c.lineBefore {
			t.Errorf("%s at %#x−1: %s:%d; want %s:%d (gdb's frame line)", c.name, c.rva, file, line, c.file, c.lineBefore)
		}
		if addr := m.Base + c.rva; !m.Contains(addr) {
			t.Errorf("%#x not in the module", addr)
		}
	}
	// A C function with an asm-label linkage name is named by it, as gdb
	// does ("__GI_raise (sig=6) at ../sysdeps/posix/raise.c:26").
	if s, ok := tab.LookupRVA(0x3bfa0); !ok || s.Name != "__GI_raise" {
		t.Errorf("raise: %+v, %v; want __GI_raise", s, ok)
	}
}

// splitCrashc writes crashc's debug information to dir/crashc.debug
// (objcopy --only-keep-debug) and a stripped copy with a .gnu_debuglink
// to it to dir/crashc, as distributions package binaries. It skips the
// test without objcopy.
func splitCrashc(t *testing.T, dir string) (image, debug string) {
	t.Helper()
	objcopy, err := exec.LookPath("objcopy")
	if err != nil {
		t.Skip("objcopy (GNU binutils) not installed")
	}
	src := fixture.Corpus(t, crashcRel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	image, debug = filepath.Join(dir, "crashc"), filepath.Join(dir, "crashc.debug")
	for _, args := range [][]string{
		{"--only-keep-debug", src, debug},
		{"--strip-debug", "--add-gnu-debuglink=" + debug, src, image},
	} {
		if out, err := exec.Command(objcopy, args...).CombinedOutput(); err != nil {
			t.Fatalf("objcopy %v: %v\n%s", args, err, out)
		}
	}
	return image, debug
}

func mustMove(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// TestDebuglink finds a split debug file through the image's
// .gnu_debuglink in GDB's three places, checks its CRC, and merges it
// with the image.
func TestDebuglink(t *testing.T) {
	dir := t.TempDir()
	image, debug := splitCrashc(t, dir)
	m := crashcModule(t, image)
	if id, _ := BuildID(debug); !bytes.Equal(id, m.BuildID) {
		t.Fatalf("debug file build id %x, image %x", id, m.BuildID)
	}
	debugDir := t.TempDir()
	f := &Finder{Dirs: []string{dir}, DebugDirs: []string{debugDir}}

	// The image is found by name; the debug-only file never is.
	if got, ok := f.Find(m); !ok || got != image {
		t.Errorf("Find = %q, %v; want %s", got, ok, image)
	}
	decoy := t.TempDir()
	data, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(decoy, "crashc"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := (&Finder{Dirs: []string{decoy}, DebugDirs: []string{}}).Find(m); ok {
		t.Errorf("Find took the debug-only file %q as the image", got)
	}

	// GDB's debuglink places, in order.
	absDir, _ := filepath.Abs(dir)
	places := []string{
		debug,
		filepath.Join(dir, ".debug", "crashc.debug"),
		filepath.Join(debugDir, absDir, "crashc.debug"),
	}
	prev := debug
	for _, p := range places {
		if p != prev {
			mustMove(t, prev, p)
			prev = p
		}
		got, ok := f.FindDebug(m, image)
		if !ok || got != p {
			t.Errorf("FindDebug = %q, %v; want %s", got, ok, p)
		}
	}
	// Without a build id in the module the image's is used; the debuglink
	// still finds the file.
	noID := m
	noID.BuildID = nil
	if got, ok := f.FindDebug(noID, image); !ok || got != prev {
		t.Errorf("FindDebug without module build id = %q, %v", got, ok)
	}

	tab, err := NewProvider(f).Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	et := tab.(*Table)
	if et.DebugPath() != prev || et.Path() != image {
		t.Errorf("merged %q + %q", et.Path(), et.DebugPath())
	}
	s, ok := symbolNamed(tab, "level3")
	if !ok || s.Size == 0 {
		t.Fatalf("level3 = %+v, %v", s, ok)
	}
	if got, ok := tab.LookupRVA(s.Addr + 1); !ok || got.Name != "level3" || !strings.HasSuffix(got.File, "crash.c") || got.Line != 8 {
		t.Errorf("LookupRVA in level3 = %+v, %v; want crash.c:8", got, ok)
	}

	// A changed debug file fails the CRC, though its build id still matches.
	if err := os.WriteFile(prev, append(data, 0), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := f.FindDebug(m, image); ok {
		t.Errorf("FindDebug took %q despite a CRC mismatch", got)
	}
	// Without a debug file the stripped image still has its .symtab.
	tab, err = NewProvider(f).Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := tab.LookupRVA(s.Addr + 1); !ok || got.Name != "level3" || got.Line != 0 {
		t.Errorf("image alone: %+v, %v; want level3 without a line", got, ok)
	}
}

// TestFinderSysroot looks for module paths and debug directories under a
// sysroot, as for a dump from another machine.
func TestFinderSysroot(t *testing.T) {
	src := fixture.Corpus(t, crashcRel)
	m := crashcModule(t, src)
	m.Path = "/opt/app/crashc"
	root := t.TempDir()
	image, debug := splitCrashc(t, filepath.Join(root, "opt", "app"))
	noDebug := []string{}

	if got, ok := (&Finder{DebugDirs: noDebug}).Find(m); ok {
		t.Errorf("found %q without a sysroot", got)
	}
	f := &Finder{Sysroot: root}
	if got, ok := f.Find(m); !ok || got != image {
		t.Errorf("Find = %q, %v; want %s", got, ok, image)
	}
	// The debuglink into the sysroot's debug tree, then its build-id tree.
	linked := filepath.Join(root, "usr", "lib", "debug", "opt", "app", "crashc.debug")
	mustMove(t, debug, linked)
	if got, ok := f.FindDebug(m, image); !ok || got != linked {
		t.Errorf("FindDebug = %q, %v; want %s", got, ok, linked)
	}
	hexID := hex.EncodeToString(m.BuildID)
	byID := filepath.Join(root, "usr", "lib", "debug", ".build-id", hexID[:2], hexID[2:]+".debug")
	mustMove(t, linked, byID)
	if got, ok := f.FindDebug(m, ""); !ok || got != byID {
		t.Errorf("FindDebug by build id = %q, %v; want %s", got, ok, byID)
	}

	// Without a sysroot the module's own path is on this machine.
	m.Path = src
	if got, ok := (&Finder{DebugDirs: noDebug}).Find(m); !ok || got != src {
		t.Errorf("Find by module path = %q, %v", got, ok)
	}
	// A relative module path is not looked up in the working directory.
	m.Path = "crashc"
	if got, ok := (&Finder{DebugDirs: noDebug}).Find(m); ok {
		t.Errorf("Find took relative path %q", got)
	}
}

// TestFinderFetch calls the Fetch hook only after local lookups fail,
// with the right kind, and still checks what it returns.
func TestFinderFetch(t *testing.T) {
	src := fixture.Corpus(t, crashcRel)
	m := crashcModule(t, src)
	m.Path = "/nonexistent/crashc"
	var calls []string
	serve := src
	fetch := func(ctx context.Context, id []byte, kind string) (string, error) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if !bytes.Equal(id, m.BuildID) {
			t.Errorf("Fetch asked for %x, want %x", id, m.BuildID)
		}
		calls = append(calls, kind)
		return serve, nil
	}
	f := &Finder{Dirs: []string{t.TempDir()}, DebugDirs: []string{}, Fetch: fetch}
	if got, ok := f.Find(m); !ok || got != src {
		t.Errorf("Find = %q, %v", got, ok)
	}
	if got, ok := f.FindDebug(m, ""); !ok || got != src {
		t.Errorf("FindDebug = %q, %v", got, ok)
	}
	if strings.Join(calls, ",") != "executable,debuginfo" {
		t.Errorf("Fetch kinds %v", calls)
	}
	// A fetched file with another build id is refused.
	wrong := filepath.Join(t.TempDir(), "wrong")
	data, _ := os.ReadFile(src)
	if err := os.WriteFile(wrong, patchBuildIDNote(t, data, m.BuildID), 0o644); err != nil {
		t.Fatal(err)
	}
	serve = wrong
	if got, ok := f.Find(m); ok {
		t.Errorf("Find took fetched %q with another build id", got)
	}
	if got, ok := f.FindDebug(m, ""); ok {
		t.Errorf("FindDebug took fetched %q with another build id", got)
	}
	// The context reaches the hook.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = nil
	serve = src
	if _, ok := f.FindContext(ctx, m); ok || len(calls) != 0 {
		t.Errorf("cancelled FindContext: ok %v, calls %v", ok, calls)
	}
	// Without a build id there is nothing to fetch by.
	noID := model.Module{Path: "/x/y"}
	calls = nil
	f.Find(noID)
	f.FindDebug(noID, "")
	if len(calls) != 0 {
		t.Errorf("Fetch called for a module without build id: %v", calls)
	}
	// Load does not look for a debug file (nor fetch one) when the image
	// has DWARF.
	calls = nil
	f.Dirs = []string{filepath.Dir(src)}
	m.Path = "/opt/crashc"
	if _, err := NewProvider(f).Load(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if len(calls) != 0 {
		t.Errorf("Load of an image with DWARF fetched %v", calls)
	}
	// Nothing anywhere: ErrNoSymbols.
	f = &Finder{DebugDirs: []string{}, Fetch: func(context.Context, []byte, string) (string, error) {
		return "", errors.New("offline")
	}}
	if _, err := NewProvider(f).Load(context.Background(), m); !errors.Is(err, symbols.ErrNoSymbols) {
		t.Errorf("Load with nothing found: %v", err)
	}
}

func TestFillSymbols(t *testing.T) {
	primary := []dwarftab.Fn{{Name: "a", Low: 0x10, High: 0x20}, {Name: "b", Low: 0x40, High: 0x50}}
	extra := []dwarftab.Fn{
		{Name: "a_alias", Low: 0x10, High: 0x20}, // covered
		{Name: "inside", Low: 0x18, High: 0x1c},  // covered
		{Name: "gap", Low: 0x20, High: 0x60},     // fills the gap, cut at b
		{Name: "after", Low: 0x50, High: 0x58},
	}
	got := fillSymbols(primary, extra)
	want := []dwarftab.Fn{{Name: "a", Low: 0x10, High: 0x20}, {Name: "gap", Low: 0x20, High: 0x40}, {Name: "b", Low: 0x40, High: 0x50}, {Name: "after", Low: 0x50, High: 0x58}}
	if len(got) != len(want) {
		t.Fatalf("fillSymbols = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if primary[0].High != 0x20 || len(primary) != 2 {
		t.Error("fillSymbols changed its input")
	}
}

// TestOpenPair merges explicitly named files, and reports errors only
// when neither gives a table.
func TestOpenPair(t *testing.T) {
	dir := t.TempDir()
	image, debug := splitCrashc(t, dir)
	tab, err := OpenPair(image, debug)
	if err != nil {
		t.Fatal(err)
	}
	if tab.DebugPath() != debug || len(tab.dw.Funcs()) == 0 {
		t.Errorf("OpenPair: debug %q, %d dwarf funcs", tab.DebugPath(), len(tab.dw.Funcs()))
	}
	if tab, err := OpenPair(filepath.Join(dir, "missing"), debug); err != nil || tab.Path() != debug {
		t.Errorf("OpenPair with a missing image: %v", err)
	}
	if _, err := OpenPair("", ""); !errors.Is(err, symbols.ErrNoSymbols) {
		t.Errorf("OpenPair of nothing: %v", err)
	}
	if _, err := OpenPair(filepath.Join(dir, "missing"), ""); err == nil {
		t.Error("OpenPair of a missing file: no error")
	}
}
