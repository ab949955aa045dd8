package pdb

import (
	"debug/pe"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// BenchmarkTable opens a PDB and builds its Table, the work a session's
// first lookup in a module costs.
func BenchmarkTable(b *testing.B) {
	for _, rel := range []string{
		"rizin-pdb/pdb/exceptions-test.pdb",
		"symbolic-pdb/windows/crash.pdb",
		"rizin-pdb/pdb/vs2019_cpp_override.pdb",
	} {
		b.Run(path.Base(rel), func(b *testing.B) {
			p := fixture.Corpus(b, rel)
			b.ReportAllocs()
			for b.Loop() {
				f, err := Open(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.Table(); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// BenchmarkDataLookup adds to BenchmarkTable the first lookup landing on
// a global (which indexes the types for its size) and a walk of every
// symbol (which reads the types of all globals).
func BenchmarkDataLookup(b *testing.B) {
	p := fixture.Corpus(b, "rizin-pdb/pdb/exceptions-test.pdb")
	for _, walk := range []bool{false, true} {
		name := "first"
		if walk {
			name = "symbols"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f, err := Open(p)
				if err != nil {
					b.Fatal(err)
				}
				tab, err := f.Table()
				if err != nil {
					b.Fatal(err)
				}
				if s, ok := tab.LookupRVA(0x11008); !ok || s.Size != 8 {
					b.Fatal(s, ok)
				}
				if walk {
					tab.Symbols(func(symtab.Symbol) bool { return true })
				}
				f.Close()
			}
		})
	}
}

// rizinGlobal is one "avgl" line of rizin's test DB: "global TYPE NAME @ 0xVA".
type rizinGlobal struct {
	typ, name string
	va        uint64
}

// rizinGlobalCases parses the avgl cases of rizin's formats/pdb test DB:
// the PDB each loads (idp bins/pdb/X.pdb, or the PDB of FILE=bins/pdb/X.exe)
// and the globals it expects.
func rizinGlobalCases(t *testing.T) map[string][]rizinGlobal {
	b, err := os.ReadFile(fixture.Corpus(t, "rizin-pdb/oracle-test-db/formats_pdb"))
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^global (.+) (\S+) @ 0x([0-9a-f]+)$`)
	out := map[string][]rizinGlobal{}
	for _, c := range strings.Split(string(b), "\nNAME=")[1:] {
		cmds, _, _ := strings.Cut(c, "\nEXPECT=")
		if !regexp.MustCompile(`(?m)^avgl$`).MatchString(cmds) {
			continue
		}
		var pdb string
		if m := regexp.MustCompile(`(?m)^idp bins/(\S+\.pdb)$`).FindStringSubmatch(cmds); m != nil {
			pdb = m[1]
		} else if m := regexp.MustCompile(`(?m)^FILE=bins/(\S+)\.exe$`).FindStringSubmatch(cmds); m != nil {
			pdb = m[1] + ".pdb"
		} else {
			t.Fatalf("avgl case without a PDB: %.60q", c)
		}
		_, exp, _ := strings.Cut(c, "\nEXPECT=<<EOF\n")
		exp, _, _ = strings.Cut(exp, "\nEOF")
		for _, l := range strings.Split(exp, "\n") {
			if m := line.FindStringSubmatch(l); m != nil {
				va, _ := strconv.ParseUint(m[3], 16, 64)
				out[pdb] = append(out[pdb], rizinGlobal{m[1], m[2], va})
			}
		}
	}
	return out
}

// rizinTypeSize gives the size rizin's type string implies, 0 when it
// does not say (structures).
func rizinTypeSize(typ string, ptr uint64) uint64 {
	typ = strings.TrimPrefix(typ, "const ")
	// rizin prints an LF_ARRAY's byte size where C puts the count:
	// _RTC_errlist, const char *const[5] on x64, is "const char *[40]".
	if m := regexp.MustCompile(`^(.*) \[(\d+)\]$`).FindStringSubmatch(typ); m != nil {
		n, _ := strconv.ParseUint(m[2], 10, 64)
		return n
	}
	if strings.HasSuffix(typ, "*") || strings.Contains(typ, "(*") {
		return ptr
	}
	return map[string]uint64{"bool": 1, "char": 1, "unsigned char": 1, "wchar_t": 2,
		"int16_t": 2, "uint16_t": 2, "int32_t": 4, "uint32_t": 4, "int64_t": 8, "uint64_t": 8, "double": 8}[typ]
}

// TestGlobalsAgreeWithRizin checks every global variable rizin's avgl
// lists for Project1.pdb and exceptions-test.pdb: Globals has it by name
// at its address (rizin's VA less the image base: 0 for Project1.pdb,
// loaded alone, the exe's ImageBase for exceptions-test), and LookupRVA
// there names it with the size its type implies.
func TestGlobalsAgreeWithRizin(t *testing.T) {
	cases := rizinGlobalCases(t)
	if len(cases) != 2 {
		t.Fatalf("%d avgl cases, want 2", len(cases))
	}
	for rel, want := range cases {
		t.Run(path.Base(rel), func(t *testing.T) {
			f, err := Open(fixture.Corpus(t, "rizin-pdb/"+rel))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var base uint64
			ptr := uint64(4)
			if exe := strings.TrimSuffix(rel, ".pdb") + ".exe"; fileExists(fixture.CorpusDir(t), "rizin-pdb/"+exe) {
				pf, err := pe.Open(fixture.Corpus(t, "rizin-pdb/"+exe))
				if err != nil {
					t.Fatal(err)
				}
				if oh, ok := pf.OptionalHeader.(*pe.OptionalHeader64); ok {
					base, ptr = oh.ImageBase, 8
				} else if oh, ok := pf.OptionalHeader.(*pe.OptionalHeader32); ok {
					base = uint64(oh.ImageBase)
				}
				pf.Close()
			}
			gs, err := f.Globals()
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]map[uint64]bool{}
			for _, g := range gs {
				if g.HasRVA {
					if have[g.Name] == nil {
						have[g.Name] = map[uint64]bool{}
					}
					have[g.Name][uint64(g.RVA)] = true
				}
			}
			tab, err := f.Table()
			if err != nil {
				t.Fatal(err)
			}
			procs, _ := f.Procs()
			procAt := map[uint64]bool{}
			for _, p := range procs {
				procAt[uint64(p.RVA)] = p.HasRVA
			}
			var named, sized, sizes, shadowed int
			for _, w := range want {
				rva := w.va - base
				if !have[w.name][rva] {
					t.Errorf("no global %s at %#x (rizin: %s)", w.name, rva, w.typ)
					continue
				}
				named++
				s, ok := tab.LookupRVA(rva)
				if !ok || s.Addr != rva || (s.Name != w.name && !s.Multiple) {
					t.Errorf("LookupRVA(%#x) = %q at %#x, %v; want %s", rva, s.Name, s.Addr, ok, w.name)
					continue
				}
				if procAt[rva] {
					shadowed++ // an assembler label with a procedure too: the procedure wins
					continue
				}
				if n := rizinTypeSize(w.typ, ptr); n != 0 {
					sizes++
					if s.Size != n {
						t.Errorf("%s: size %d, rizin's %s implies %d", w.name, s.Size, w.typ, n)
					} else {
						sized++
					}
				}
			}
			var extra []string
			listed := map[string]bool{}
			for _, w := range want {
				listed[w.name] = true
			}
			for _, g := range gs {
				if !listed[g.Name] {
					extra = append(extra, g.Name)
				}
			}
			t.Logf("%s: %d/%d rizin globals found by name and address (%d at a procedure's start), %d/%d sizes agree; %d records, %d names not in rizin's list: %v",
				rel, named, len(want), shadowed, sized, sizes, len(gs), len(extra), extra)
		})
	}
}

func fileExists(dir, rel string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel)))
	return err == nil
}

// TestGlobalTable checks how data joins the Table in exceptions-test.pdb:
// an address inside a global names it, one past its end names it as the
// nearest preceding symbol, Symbols lists globals in RVA order, and
// GlobalType gives a global's type and RVA.
func TestGlobalTable(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "rizin-pdb/pdb/exceptions-test.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	// _RTC_ErrorLevels: int[5] at 0x11018 (rizin: 0x140011018).
	for _, c := range []struct {
		rva, addr, size uint64
		name            string
	}{
		{0x11018, 0x11018, 20, "_RTC_ErrorLevels"},
		{0x11018 + 19, 0x11018, 20, "_RTC_ErrorLevels"},
		{0x11018 + 20, 0x11018, 20, "_RTC_ErrorLevels"}, // past its end: the nearest preceding symbol
		{0x11008, 0x11008, 8, "__security_cookie"},
		{0x11008 + 7, 0x11008, 8, "__security_cookie"},
		{0x11b39, 0x11b39, 1, "module_local_atexit_table_initialized"},
		{0xe2d0 + 8, 0xe2d0, 0, "_load_config_used"}, // size checked below
		{0x11bc2, 0x11bc2, 1, "PDBOK"},               // a static local of _RTC_GetSrcLine
	} {
		s, ok := tab.LookupRVA(c.rva)
		if !ok || s.Name != c.name || s.Addr != c.addr || (c.size != 0 && s.Size != c.size) {
			t.Errorf("LookupRVA(%#x) = %q at %#x size %d, %v; want %q at %#x size %d", c.rva, s.Name, s.Addr, s.Size, ok, c.name, c.addr, c.size)
		}
	}
	if s, ok := tab.LookupRVA(0xe2d0); !ok || s.Size < 0x100 {
		t.Errorf("_load_config_used: size %d, want a whole IMAGE_LOAD_CONFIG_DIRECTORY64", s.Size)
	}
	// Procedures still win: _guard_dispatch_icall_nop is both.
	if s, ok := tab.LookupRVA(0x9a80); !ok || s.Name != "_guard_dispatch_icall_nop" || s.Size != 2 {
		t.Errorf("LookupRVA(0x9a80) = %+v, want the procedure", s)
	}
	var prev uint64
	names := map[string]bool{}
	tab.Symbols(func(s symtab.Symbol) bool {
		if s.Addr < prev {
			t.Fatalf("Symbols not ascending at %#x", s.Addr)
		}
		prev = s.Addr
		names[s.Name] = true
		return true
	})
	for _, n := range []string{"__security_cookie", "_RTC_ErrorLevels", "std::exception::`vftable'", "main"} {
		if !names[n] {
			t.Errorf("Symbols lacks %s", n)
		}
	}
	ty, rva, ok := tab.GlobalType("__security_cookie")
	if !ok || rva != 0x11008 || ty.Size != 8 || ty.String() != "unsigned __int64" {
		t.Errorf("GlobalType(__security_cookie) = %v at %#x, %v", ty, rva, ok)
	}
	ty, rva, ok = tab.GlobalType("_RTC_ErrorLevels")
	if !ok || rva != 0x11018 || ty.Size != 20 || ty.Count != 5 {
		t.Errorf("GlobalType(_RTC_ErrorLevels) = %v at %#x, %v", ty, rva, ok)
	}
	if _, _, ok := tab.GlobalType("no_such_global"); ok {
		t.Error("GlobalType found no_such_global")
	}
	gs, _ := f.Globals()
	for _, g := range gs {
		if g.Thread && g.HasRVA {
			t.Errorf("thread-local %s has an RVA", g.Name)
		}
		if g.Name == "PDBOK" && (!g.InProc || g.Proc != "_RTC_GetSrcLine") {
			t.Errorf("PDBOK: %+v, want a static local of _RTC_GetSrcLine", g)
		}
	}
	t.Logf("%d data symbols in the table, %d records", tab.NumData(), len(gs))
}
