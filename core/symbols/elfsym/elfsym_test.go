package elfsym

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/minidump"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const (
	lldbDumpRel = "lldb/minidump-new/linux-x86_64.dmp"
	crashcRel   = "generated/linux-core/crashc"
	pieBase     = 0x555555554000
)

// symbolNamed returns the first symbol of t whose name is name.
func symbolNamed(t symbols.Table, name string) (symbols.Symbol, bool) {
	var out symbols.Symbol
	found := false
	t.Symbols(func(s symbols.Symbol) bool {
		if s.Name == name {
			out, found = s, true
			return false
		}
		return true
	})
	return out, found
}

// TestMinidumpExecutable resolves the crash PC of a Breakpad Linux
// minidump against its non-PIE (ET_EXEC) executable: symbols are absolute
// and the table must still answer LookupRVA(pc − base).
func TestMinidumpExecutable(t *testing.T) {
	dump := fixture.Corpus(t, lldbDumpRel)
	fixture.Corpus(t, "lldb/minidump-new/linux-x86_64")
	f, err := minidump.Open(dump)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	pc := ctx.PC()
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	var m model.Module
	found := false
	for _, x := range mods {
		if x.Contains(pc) {
			m, found = x, true
			break
		}
	}
	if !found {
		t.Fatalf("no module contains pc %#x", pc)
	}
	if m.Name() != "linux-x86_64" || len(m.BuildID) == 0 {
		t.Fatalf("module at pc: %q build id %x", m.Name(), m.BuildID)
	}
	finder := &Finder{Dirs: []string{filepath.Dir(dump)}}
	path, ok := finder.Find(m)
	if !ok || filepath.Base(path) != "linux-x86_64" {
		t.Fatalf("Find = %q, %v", path, ok)
	}
	tab, err := NewProvider(finder).Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	et := tab.(*Table)
	if et.typ != elf.ET_EXEC || et.LinkBase() != m.Base {
		t.Errorf("type %v link base %#x, want ET_EXEC at module base %#x", et.typ, et.LinkBase(), m.Base)
	}
	if !bytes.Equal(et.BuildID(), m.BuildID) {
		t.Errorf("table build id %x, module %x", et.BuildID(), m.BuildID)
	}
	sym, ok := tab.LookupRVA(pc - m.Base)
	if !ok || !strings.Contains(sym.Name, "crash") {
		t.Fatalf("LookupRVA(pc %#x - base %#x) = %+v, %v; want crash()", pc, m.Base, sym, ok)
	}
	if pc-m.Base < sym.Addr || (sym.Size != 0 && pc-m.Base >= sym.Addr+sym.Size) {
		t.Errorf("pc rva %#x outside %s [%#x,+%#x)", pc-m.Base, sym.Name, sym.Addr, sym.Size)
	}
	start, ok := symbolNamed(tab, "_start")
	if !ok {
		t.Fatal("no _start in the symbol table")
	}
	// readelf: _start is 0x4003f0, 16 bytes.
	if start.Addr+m.Base != 0x4003f0 || start.Size != 16 {
		t.Errorf("_start at %#x size %d, want 0x4003f0 size 16", start.Addr+m.Base, start.Size)
	}
	if s, ok := tab.LookupRVA(0x4003f0 + 8 - m.Base); !ok || s.Name != "_start" {
		t.Errorf("LookupRVA inside _start = %+v, %v", s, ok)
	}
}

// crashcModule returns a module for crashc loaded at pieBase, with the
// build id read from the file.
func crashcModule(t *testing.T, path string) model.Module {
	t.Helper()
	id, err := BuildID(path)
	if err != nil || len(id) == 0 {
		t.Fatalf("BuildID(%s) = %x, %v", path, id, err)
	}
	return model.Module{Base: pieBase, Size: 0x5000, Path: "/home/user/crashc", BuildID: id}
}

// TestPIEWithDWARF resolves the functions of a PIE (ET_DYN) with DWARF:
// RVAs are the symbol values, the load address is the module base.
func TestPIEWithDWARF(t *testing.T) {
	path := fixture.Corpus(t, crashcRel)
	m := crashcModule(t, path)
	finder := &Finder{Dirs: []string{t.TempDir(), filepath.Dir(path)}}
	tab, err := NewProvider(finder).Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	et := tab.(*Table)
	if et.typ != elf.ET_DYN || et.LinkBase() != 0 || len(et.dw.Funcs()) == 0 || len(et.dw.Lines()) == 0 {
		t.Fatalf("type %v link base %#x, %d dwarf funcs, %d line rows", et.typ, et.LinkBase(), len(et.dw.Funcs()), len(et.dw.Lines()))
	}
	if !strings.Contains(et.Source(), "dwarf") {
		t.Errorf("Source = %q", et.Source())
	}
	for _, name := range []string{"level3", "level2", "level1", "main"} {
		s, ok := symbolNamed(tab, name)
		if !ok {
			t.Errorf("%s not among Symbols", name)
			continue
		}
		if s.Size == 0 {
			t.Errorf("%s has no size", name)
		}
		addr := m.Base + s.Addr
		for _, rva := range []uint64{addr - m.Base, addr - m.Base + s.Size - 1} {
			got, ok := tab.LookupRVA(rva)
			if !ok || got.Name != name || got.Addr != s.Addr {
				t.Errorf("LookupRVA(%#x) = %+v, %v; want %s", rva, got, ok, name)
				continue
			}
			if !strings.HasSuffix(got.File, "crash.c") || got.Line <= 0 {
				t.Errorf("LookupRVA(%#x) %s at %q:%d; want crash.c and a line", rva, name, got.File, got.Line)
			}
		}
	}
	// Symbols ascend and name nothing twice at one address.
	var prev uint64
	n := 0
	tab.Symbols(func(s symbols.Symbol) bool {
		if n > 0 && s.Addr <= prev {
			t.Errorf("Symbols not ascending at %s %#x (prev %#x)", s.Name, s.Addr, prev)
		}
		prev = s.Addr
		n++
		return true
	})
	if _, ok := symbolNamed(tab, "_start"); !ok {
		t.Error("_start (ELF symbol without DWARF) missing from Symbols")
	}
}

// patchBuildIDNote returns data with the GNU build-id note's type
// changed, so the file has no build id.
func patchBuildIDNote(t *testing.T, data []byte, id []byte) []byte {
	t.Helper()
	hdr := []byte{4, 0, 0, 0, byte(len(id)), 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0}
	hdr = append(hdr, id...)
	out := bytes.Clone(data)
	n := 0
	for i := 0; ; {
		j := bytes.Index(out[i:], hdr)
		if j < 0 {
			break
		}
		out[i+j+8] = 0x7f
		i += j + len(hdr)
		n++
	}
	if n == 0 {
		t.Fatal("build-id note not found")
	}
	return out
}

func TestFinderLayouts(t *testing.T) {
	src := fixture.Corpus(t, crashcRel)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	m := crashcModule(t, src)
	hexID := hex.EncodeToString(m.BuildID)
	// The module's own name is absent: only the build-id layouts match.
	renamed := m
	renamed.Path = "/opt/app/renamed"

	write := func(p string, b []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The image layouts (Find) and the debug-file layouts (FindDebug) of
	// GDB and debuginfod caches; crashc is unstripped, so it serves as
	// both.
	debuginfod := t.TempDir()
	write(filepath.Join(debuginfod, hexID, "executable"), data)
	write(filepath.Join(debuginfod, hexID, "debuginfo"), data)
	gdb := t.TempDir()
	write(filepath.Join(gdb, ".build-id", hexID[:2], hexID[2:]), data)
	write(filepath.Join(gdb, ".build-id", hexID[:2], hexID[2:]+".debug"), data)
	// A non-ELF file and an ELF with another build id under the name.
	decoy := t.TempDir()
	write(filepath.Join(decoy, "renamed"), []byte("not an ELF file at all"))
	other := patchBuildIDNote(t, data, m.BuildID)
	wrong := t.TempDir()
	write(filepath.Join(wrong, "renamed"), other)
	noDebugDirs := []string{}

	for _, tc := range []struct {
		name      string
		dirs      []string
		want      string
		wantDebug string
	}{
		{"debuginfod", []string{decoy, debuginfod}, filepath.Join(debuginfod, hexID, "executable"), filepath.Join(debuginfod, hexID, "debuginfo")},
		{"build-id", []string{wrong, gdb}, filepath.Join(gdb, ".build-id", hexID[:2], hexID[2:]), filepath.Join(gdb, ".build-id", hexID[:2], hexID[2:]+".debug")},
		{"none", []string{decoy, wrong}, "", ""},
	} {
		f := &Finder{Dirs: tc.dirs, DebugDirs: noDebugDirs}
		got, ok := f.Find(renamed)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s: Find = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
		got, ok = f.FindDebug(renamed, "")
		if got != tc.wantDebug || ok != (tc.wantDebug != "") {
			t.Errorf("%s: FindDebug = %q, %v; want %q", tc.name, got, ok, tc.wantDebug)
		}
	}
	// DebugDirs hold the GDB layout too, searched before Dirs.
	if got, ok := (&Finder{Dirs: []string{debuginfod}, DebugDirs: []string{gdb}}).FindDebug(renamed, ""); !ok || got != filepath.Join(gdb, ".build-id", hexID[:2], hexID[2:]+".debug") {
		t.Errorf("FindDebug in DebugDirs = %q, %v", got, ok)
	}

	// CodeID as hex stands for BuildID.
	byCode := renamed
	byCode.BuildID, byCode.CodeID = nil, strings.ToUpper(hexID)
	if got, ok := (&Finder{Dirs: []string{debuginfod}}).Find(byCode); !ok {
		t.Errorf("Find by CodeID = %q, %v", got, ok)
	}
	// A module with another build id matches nothing.
	mis := renamed
	mis.BuildID = bytes.Repeat([]byte{0xab}, len(m.BuildID))
	if got, ok := (&Finder{Dirs: []string{debuginfod, gdb, filepath.Dir(src)}}).Find(mis); ok {
		t.Errorf("mismatched build id found %q", got)
	}
	if got, ok := (&Finder{Dirs: []string{debuginfod, gdb, filepath.Dir(src)}}).FindDebug(mis, ""); ok {
		t.Errorf("mismatched build id found debug file %q", got)
	}
	// A module without a build id takes only a file without one.
	noID := model.Module{Base: pieBase, Path: "/x/renamed"}
	if got, ok := (&Finder{Dirs: []string{wrong}}).Find(noID); !ok || got != filepath.Join(wrong, "renamed") {
		t.Errorf("no-id module in no-id file: %q, %v", got, ok)
	}
	noID.Path = "/x/crashc"
	if got, ok := (&Finder{Dirs: []string{filepath.Dir(src)}}).Find(noID); ok {
		t.Errorf("no-id module took a file with a build id: %q", got)
	}
	if id, err := BuildID(filepath.Join(wrong, "renamed")); err != nil || id != nil {
		t.Errorf("BuildID of patched file = %x, %v", id, err)
	}
	// Not found wraps ErrNoSymbols.
	if _, err := NewProvider(&Finder{Dirs: []string{decoy}}).Load(context.Background(), renamed); !errors.Is(err, symbols.ErrNoSymbols) {
		t.Errorf("Load without a file: %v", err)
	}
	var nilFinder *Finder
	if _, ok := nilFinder.Find(m); ok {
		t.Error("nil Finder found something")
	}
}

func TestCorruptELF(t *testing.T) {
	src := fixture.Corpus(t, crashcRel)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 3, 4, 16, 52, 63, 64, 200, len(data) / 2, len(data) - 1} {
		if _, err := ReadBytes(data[:n]); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	if _, err := ReadBytes([]byte("\x7fELF\x02\x01\x01garbage")); err == nil {
		t.Error("garbage header: no error")
	}
	// Flipped bytes anywhere: an error or a table, never a panic.
	for i := 0; i < len(data); i += 97 {
		b := bytes.Clone(data)
		b[i] ^= 0xff
		if tab, err := ReadBytes(b); err == nil {
			exercise(tab)
		}
	}
	// The Finder skips a corrupt file instead of failing.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "crashc"), data[:len(data)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := (&Finder{Dirs: []string{dir}}).Find(crashcModule(t, src)); ok {
		t.Error("Finder accepted a truncated file")
	}
}

// exercise walks every symbol and looks each up.
func exercise(tab *Table) {
	tab.Symbols(func(s symbols.Symbol) bool {
		tab.LookupRVA(s.Addr)
		tab.LookupRVA(s.Addr + s.Size)
		return true
	})
	tab.LookupRVA(0)
	tab.Line(0x1000)
	_ = tab.Source()
}

func FuzzReadBytes(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01\x00"))
	f.Add([]byte{})
	corpus := os.Getenv("CRASHBENCH_CORPUS")
	if corpus == "" {
		corpus = filepath.Join(fixture.Root(f), "..", "shared", "corpus")
	}
	if data, err := os.ReadFile(filepath.Join(corpus, filepath.FromSlash(crashcRel))); err == nil {
		f.Add(data)
	}
	if data, err := os.ReadFile("testdata/minidebuginfo/prog.minidebuginfo"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := ReadBytes(b)
		if err != nil {
			if tab != nil {
				t.Fatal("table with an error")
			}
			return
		}
		exercise(tab)
	})
}

func TestGNUBuildIDNotes(t *testing.T) {
	note := func(name string, typ byte, desc []byte) []byte {
		n := append([]byte(name), 0)
		b := []byte{byte(len(n)), 0, 0, 0, byte(len(desc)), 0, 0, 0, typ, 0, 0, 0}
		b = append(b, n...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, desc...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	id := []byte{1, 2, 3, 4, 5}
	seq := append(note("GNU", 1, []byte{9, 9, 9, 9}), note("Go", 3, []byte{7})...)
	seq = append(seq, note("GNU", 3, id)...)
	if got := gnuBuildID(seq, binary.LittleEndian); !bytes.Equal(got, id) {
		t.Errorf("gnuBuildID = %x, want %x", got, id)
	}
	for n := range len(seq) {
		gnuBuildID(seq[:n], binary.LittleEndian) // no panic on any truncation
	}
	if got := gnuBuildID([]byte{4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0, 'G', 'N', 'U', 0}, binary.LittleEndian); got != nil {
		t.Errorf("oversized desc: %x", got)
	}
}
