package image

import (
	"context"
	"debug/pe"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const (
	wcrashRel  = "generated/windows-minidump/wcrash.exe"
	wcrashBase = 0x140000000
	wcrashSize = 0x42000
)

// wcrashModule returns the module the Wine dump records for wcrash.exe,
// with the TimeDateStamp read from the file itself.
func wcrashModule(t *testing.T, path string) model.Module {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hdr [0x100]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		t.Fatal(err)
	}
	lfanew := uint32(hdr[0x3c]) | uint32(hdr[0x3d])<<8
	var fh [12]byte
	if _, err := f.ReadAt(fh[:], int64(lfanew)); err != nil {
		t.Fatal(err)
	}
	stamp := uint32(fh[8]) | uint32(fh[9])<<8 | uint32(fh[10])<<16 | uint32(fh[11])<<24
	return model.Module{Base: wcrashBase, Size: wcrashSize, Path: `Z:\build\wcrash.exe`,
		CodeID: fmt.Sprintf("%08X%x", stamp, wcrashSize)}
}

func TestFinderLayouts(t *testing.T) {
	src := fixture.Corpus(t, wcrashRel)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	m := wcrashModule(t, src)

	flat := t.TempDir()
	if err := os.WriteFile(filepath.Join(flat, "wcrash.exe"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	store := t.TempDir()
	storeDir := filepath.Join(store, "wcrash.exe", m.CodeID)
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(storeDir, "wcrash.exe"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory holding a different build under the same name: skipped.
	wrong := t.TempDir()
	bad := append([]byte(nil), data...)
	lfanew := int(bad[0x3c]) | int(bad[0x3d])<<8
	bad[lfanew+8] ^= 0xff // TimeDateStamp
	if err := os.WriteFile(filepath.Join(wrong, "wcrash.exe"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	notPE := t.TempDir()
	if err := os.WriteFile(filepath.Join(notPE, "wcrash.exe"), []byte("not a PE"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"flat", []string{flat}, filepath.Join(flat, "wcrash.exe")},
		{"store", []string{store}, filepath.Join(storeDir, "wcrash.exe")},
		{"mismatch skipped", []string{wrong, notPE, store}, filepath.Join(storeDir, "wcrash.exe")},
		{"none", []string{wrong, notPE, t.TempDir()}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := (&Finder{Dirs: tc.dirs}).Find(m)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("Find = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}

	// Size mismatch is rejected; stamp from Time works without CodeID.
	m2 := m
	m2.Size++
	if p, ok := (&Finder{Dirs: []string{flat}}).Find(m2); ok {
		t.Errorf("Find with wrong size = %q", p)
	}
}

func TestWcrashDWARF(t *testing.T) {
	src := fixture.Corpus(t, wcrashRel)
	m := wcrashModule(t, src)
	p := NewProvider(&Finder{Dirs: []string{filepath.Dir(src)}})
	tab, err := p.Load(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	// Expectations from wine-MiniDumpNormal-exception.lldb.txt (level3 + 12
	// at 23:63) and llvm-dwarfdump --lookup for the return addresses.
	for _, tc := range []struct {
		addr  uint64
		name  string
		start uint64
		line  int
	}{
		{0x140001737, "level3", 0x14000172b, 23},
		{0x140001758, "level2", 0x140001740, 24},
		{0x140001771, "level1", 0x14000175f, 25},
		{0x1400018b8, "main", 0x140001778, 36},
		{0x1400018b7, "main", 0x140001778, 35}, // the call to level1
	} {
		sym, ok := tab.LookupRVA(tc.addr - wcrashBase)
		if !ok {
			t.Errorf("%#x: not found", tc.addr)
			continue
		}
		if sym.Name != tc.name || sym.Addr != tc.start-wcrashBase || filepath.Base(sym.File) != "wcrash.c" || sym.Line != tc.line {
			t.Errorf("%#x: got %s@%#x %s:%d; want %s@%#x wcrash.c:%d", tc.addr, sym.Name, sym.Addr, sym.File, sym.Line,
				tc.name, tc.start-wcrashBase, tc.line)
		}
	}
	if sym, _ := tab.LookupRVA(0x1737); sym.Size != 0x15 {
		t.Errorf("level3 size = %#x, want 0x15", sym.Size)
	}

	// Inlined calls in the mingw CRT (expectations from llvm-symbolizer
	// --inlining 0x1400011b8): __readgsqword in NtCurrentTeb in
	// __tmainCRTStartup.
	sym, ok := tab.LookupRVA(0x11b8)
	if !ok || sym.Name != "__tmainCRTStartup" {
		t.Fatalf("0x1400011b8: %+v %v", sym, ok)
	}
	type pos struct {
		name, file string
		line       int
		callFile   string
		callLine   int
		addr       uint64
	}
	var got []pos
	for _, in := range sym.Inlined {
		got = append(got, pos{in.Name, filepath.Base(in.File), in.Line, filepath.Base(in.CallFile), in.CallLine, in.Addr})
	}
	want := []pos{
		{"__readgsqword", "intrin-impl.h", 838, "winnt.h", 9094, 0x11b2},
		{"NtCurrentTeb", "winnt.h", 9094, "crtexe.c", 233, 0x11b2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("inlines at 0x1400011b8:\n got %v\nwant %v", got, want)
	}
	if f, l := sym.OuterLine(); filepath.Base(f) != "crtexe.c" || l != 233 {
		t.Errorf("OuterLine = %s:%d, want crtexe.c:233", f, l)
	}
	if filepath.Base(sym.File) != "intrin-impl.h" || sym.Line != 838 {
		t.Errorf("line at 0x1400011b8 = %s:%d", sym.File, sym.Line)
	}
	// A two-range inline (DW_AT_ranges).
	for _, rva := range []uint64{0x11c6, 0x11e9} {
		sym, _ := tab.LookupRVA(rva)
		if len(sym.Inlined) != 1 || sym.Inlined[0].Name != "_InterlockedCompareExchangePointer" || sym.Inlined[0].CallLine != 235 {
			t.Errorf("%#x: inlines %+v", rva, sym.Inlined)
		}
	}
	// No inlines in level3.
	if sym, _ := tab.LookupRVA(0x1737); len(sym.Inlined) != 0 {
		t.Errorf("level3 inlines %+v", sym.Inlined)
	}

	// Through a resolver, as the session will use it.
	set := symbols.NewResolver([]model.Module{m}, p)
	if got := set.Describe(0x140001737); got != "wcrash!level3+0xc" {
		t.Errorf("Describe = %q", got)
	}
	n := 0
	tab.Symbols(func(symbols.Symbol) bool { n++; return true })
	if n < 10 {
		t.Errorf("Symbols yielded %d functions", n)
	}
}

func TestNotFound(t *testing.T) {
	p := NewProvider(&Finder{Dirs: []string{t.TempDir()}})
	_, err := p.Load(context.Background(), model.Module{Path: "nothere.dll", Size: 0x1000})
	if !errors.Is(err, symbols.ErrNoSymbols) {
		t.Errorf("err = %v, want ErrNoSymbols", err)
	}
}

// TestCorrupt truncates and damages wcrash.exe: every read must end in a
// table or an error, never a panic.
func TestCorrupt(t *testing.T) {
	src := fixture.Corpus(t, wcrashRel)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBytes(data[:0x200]); err == nil {
		t.Error("truncated headers: no error")
	}
	for _, n := range []int{0, 2, 0x40, 0x80, 0x180, 0x400, 0x8000, len(data) / 2, len(data) - 100} {
		_, _ = ReadBytes(data[:n])
	}
	// Damage the debug sections byte by byte at a coarse stride.
	for off := 0xae00; off < len(data); off += 997 {
		b := append([]byte(nil), data...)
		b[off] ^= 0xa5
		b[off+1] ^= 0xff
		if tab, err := ReadBytes(b); err == nil {
			tab.LookupRVA(0x1737)
		}
	}
}

func FuzzDWARFTable(f *testing.F) {
	f.Add([]byte("MZ"))
	f.Add(append([]byte("MZ"), make([]byte, 0x200)...))
	if p := os.Getenv("CRASHBENCH_CORPUS"); p != "" {
		if b, err := os.ReadFile(filepath.Join(p, wcrashRel)); err == nil {
			f.Add(b[:0x1000])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := ReadBytes(b)
		if err == nil {
			tab.LookupRVA(0x1000)
			tab.Symbols(func(symbols.Symbol) bool { return true })
		}
	})
}

// TestCOFFFallback reads only wcrash.exe's COFF symbol table, as for an
// image without DWARF.
func TestCOFFFallback(t *testing.T) {
	src := fixture.Corpus(t, wcrashRel)
	f, err := pe.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab := &Table{dw: dwarftab.Tables{Base: wcrashBase}, coff: coffSymbols(f)}
	for _, tc := range []struct {
		rva   uint64
		name  string
		start uint64
	}{
		{0x1737, "level3", 0x172b},
		{0x1758, "level2", 0x1740},
		{0x1771, "level1", 0x175f},
		{0x18b8, "main", 0x1778},
		{0x11b8, "__tmainCRTStartup", 0x1180},
	} {
		sym, ok := tab.LookupRVA(tc.rva)
		if !ok || sym.Name != tc.name || sym.Addr != tc.start || sym.Line != 0 {
			t.Errorf("%#x: %+v %v; want %s@%#x", tc.rva, sym, ok, tc.name, tc.start)
		}
	}
	if _, ok := tab.LookupRVA(0x10); ok {
		t.Error("header RVA resolved")
	}
	if !strings.Contains(tab.Source(), "coff") {
		t.Errorf("Source = %q", tab.Source())
	}
}

// TestFinderLowerCaseStore finds amdppm.sys in rizin's copy of a Microsoft
// symbol store, whose code-file key is all lower case (c9c030003b000).
func TestFinderLowerCaseStore(t *testing.T) {
	t.Parallel()
	store := fixture.Corpus(t, "rizin-symstore")
	m := model.Module{Base: 0xfffff8048b580000, Size: 0x3b000, Path: `\SystemRoot\System32\drivers\amdppm.sys`,
		Time: time.Unix(0xC9C03000, 0)}
	want := filepath.Join(store, "amdppm.sys", "c9c030003b000", "amdppm.sys")
	if got, ok := (&Finder{Dirs: []string{store}}).Find(m); !ok || got != want {
		t.Errorf("Find = %q, %v; want %q", got, ok, want)
	}
}
