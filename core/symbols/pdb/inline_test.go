package pdb

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestUncompress checks CVUncompressData's three widths (LLVM's
// CodeViewRecordIO tests use the same values) and that invalid or short
// encodings read nothing.
func TestUncompress(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		v    uint32
		used int
	}{
		{[]byte{0x00}, 0, 1},
		{[]byte{0x7F}, 0x7F, 1},
		{[]byte{0x80, 0x80}, 0x80, 2},
		{[]byte{0xBF, 0xFF}, 0x3FFF, 2},
		{[]byte{0xC0, 0x00, 0x40, 0x00}, 0x4000, 4},
		{[]byte{0xDF, 0xFF, 0xFF, 0xFF}, 0x1FFFFFFF, 4},
		{[]byte{0xE0, 0, 0, 0}, 0, 0}, // 111xxxxx: invalid
		{[]byte{0xFF}, 0, 0},
		{[]byte{0x80}, 0, 0},             // short
		{[]byte{0xC0, 0x00, 0x40}, 0, 0}, // short
		{nil, 0, 0},
	} {
		v, n := uncompress(c.in)
		if v != c.v || n != c.used {
			t.Errorf("uncompress(% x) = %#x, %d; want %#x, %d", c.in, v, n, c.v, c.used)
		}
	}
	for _, c := range []struct {
		in  uint32
		out int32
	}{{0, 0}, {2, 1}, {3, -1}, {10, 5}, {15, -7}} {
		if got := decodeSigned(c.in); got != c.out {
			t.Errorf("decodeSigned(%d) = %d, want %d", c.in, got, c.out)
		}
	}
}

// TestRunAnnotations runs annotations written from the spec: the
// S_INLINESITE of _Tidy_deallocate in crash.pdb as llvm-pdbutil shows it
// (starting at line 3902), then every other opcode.
func TestRunAnnotations(t *testing.T) {
	ann := []byte{
		0x0B, 0x03, // ChangeCodeOffsetAndLineOffset: code +3, line +0
		0x06, 0x0A, // ChangeLineOffset +5
		0x03, 0x08, // ChangeCodeOffset +8
		0x06, 0x06, // line +3
		0x03, 0x2D, // code +0x2D
		0x06, 0x08, // line +4
		0x03, 0x07, // code +7
		0x0B, 0x72, // code +2, line -3
		0x06, 0x06, // line +3
		0x0C, 0x03, 0x07, // ChangeCodeLengthAndCodeOffset: length 3, code +7
		0x06, 0x0F, // line -7
		0x0C, 0x06, 0x05, // length 6, code +5
		0x00, 0x00, // padding
	}
	want := []annotationLine{
		{0x03, 0x08, 3902, 0x10},
		{0x0B, 0x2D, 3907, 0x10},
		{0x38, 0x07, 3910, 0x10},
		{0x3F, 0x02, 3914, 0x10},
		{0x41, 0x07, 3911, 0x10},
		{0x48, 0x03, 3914, 0x10},
		{0x4D, 0x06, 3907, 0x10},
	}
	if got := runAnnotations(ann, 3902, 0x10); !slices.Equal(got, want) {
		t.Errorf("runAnnotations = %+v\nwant %+v", got, want)
	}

	// CodeOffset and ChangeCodeOffsetBase set without starting a range;
	// ChangeFile switches the file; ChangeCodeLength closes the open
	// range and moves past it; columns, range kinds and line ends are
	// skipped with their operands; a 2-byte operand; a last range without
	// a length is dropped.
	ann = []byte{
		0x02, 0x10, // ChangeCodeOffsetBase 0x10
		0x01, 0x20, // CodeOffset 0x20
		0x09, 0x05, // ChangeColumnStart 5
		0x0A, 0x03, // ChangeColumnEndDelta -1
		0x0D, 0x07, // ChangeColumnEnd 7
		0x07, 0x01, // ChangeLineEndDelta 1
		0x08, 0x00, // ChangeRangeKind 0
		0x03, 0x00, // ChangeCodeOffset +0: range at 0x30, line 10
		0x04, 0x04, // ChangeCodeLength 4: [0x30,0x34), offset now 0x24
		0x05, 0x18, // ChangeFile 0x18
		0x06, 0x80, 0x80, // line +0x40 (2-byte operand 0x80)
		0x03, 0x04, // code +4: range at 0x38, line 74
		0x0B, 0x21, // code +1, line -0 ... (0x21: code 1, line +1)
		0x04, 0x02, // ChangeCodeLength 2 closes [0x39,0x3B)
		0x03, 0x05, // code +5 → 0x40: open range, dropped at the end
	}
	want = []annotationLine{
		{0x30, 4, 10, 0},
		{0x38, 1, 74, 0x18},
		{0x39, 2, 75, 0x18},
	}
	if got := runAnnotations(ann, 10, 0); !slices.Equal(got, want) {
		t.Errorf("runAnnotations = %+v\nwant %+v", got, want)
	}

	// Garbage: never more ranges than bytes, no panic, no endless loop.
	r := rand.New(rand.NewSource(1))
	for range 2000 {
		b := make([]byte, r.Intn(64))
		r.Read(b)
		if got := runAnnotations(b, uint32(r.Int31()), 0); len(got) > len(b) {
			t.Fatalf("% x: %d ranges", b, len(got))
		}
	}
}

// TestAnonNamespaces checks the "?A0x…" rewrite of IPI names.
func TestAnonNamespaces(t *testing.T) {
	for in, want := range map[string]string{
		"?A0xc3a0617d::start":     "`anonymous namespace'::start",
		"a::?A0x1::b<?A0xff::c>":  "a::`anonymous namespace'::b<`anonymous namespace'::c>",
		"?A0x":                    "?A0x",
		"std::basic_string<char>": "std::basic_string<char>",
	} {
		if got := anonNamespaces(in); got != want {
			t.Errorf("anonNamespaces(%q) = %q, want %q", in, got, want)
		}
	}
}

// snapFunc is a function or inlinee of symbolic's pdb_functions snapshot.
type snapFunc struct {
	addr, size uint64
	name       string
	depth      int // 0 for a function, n for an inlinee n levels down
	lines      []snapLine
}

type snapLine struct {
	addr uint64
	file string // base name
	line int
}

// readFunctionsSnap parses test_objects__pdb_functions.snap: "> ADDR:
// NAME (SIZE)" headers indented two spaces per inlining level, each
// followed by "ADDR: FILE:LINE (DIR)" records indented two more.
func readFunctionsSnap(t *testing.T, path string) []snapFunc {
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("symbolic snapshot absent: %v", err)
	}
	defer f.Close()
	var out []snapFunc
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	dashes := 0
	for sc.Scan() {
		l := sc.Text()
		if dashes < 2 {
			if l == "---" {
				dashes++
			}
			continue
		}
		s := strings.TrimLeft(l, " ")
		indent := len(l) - len(s)
		if s == "" {
			continue
		}
		if h, ok := strings.CutPrefix(s, "> "); ok {
			a, rest, _ := strings.Cut(h, ": ")
			i := strings.LastIndex(rest, " (")
			if i < 0 {
				t.Fatalf("bad header %q", l)
			}
			addr, err1 := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
			size, err2 := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(rest[i+2:], "0x"), ")"), 16, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("bad header %q", l)
			}
			out = append(out, snapFunc{addr: addr, size: size, name: rest[:i], depth: indent / 2})
			continue
		}
		if len(out) == 0 {
			continue
		}
		a, rest, _ := strings.Cut(s, ": ")
		if i := strings.Index(rest, " ("); i >= 0 { // the directory may hold " (x86)"
			rest = rest[:i]
		}
		j := strings.LastIndexByte(rest, ':')
		addr, err1 := strconv.ParseUint(strings.TrimPrefix(a, "0x"), 16, 64)
		line, err2 := strconv.Atoi(rest[j+1:])
		if j < 0 || err1 != nil || err2 != nil {
			t.Fatalf("bad line record %q", l)
		}
		fn := &out[len(out)-1]
		fn.lines = append(fn.lines, snapLine{addr, rest[:j], line})
	}
	return out
}

// sameName compares our inlinee name (no parameters) with symbolic's,
// which adds the parameter list and qualifiers.
func sameName(ours, theirs string) bool {
	return ours == theirs || strings.HasPrefix(theirs, ours+"(")
}

// level returns the inline at nesting depth d (1 = called by the
// procedure) at an address, or false.
func level(s symtab.Symbol, d int) (symtab.Inline, bool) {
	if d < 1 || d > len(s.Inlined) {
		return symtab.Inline{}, false
	}
	return s.Inlined[len(s.Inlined)-d], true
}

// TestSymbolicInlinees compares crash.pdb's inline chains with symbolic's
// pdb_functions snapshot (the pdb crate's reading of the same PDB): for
// every line record of every inlinee, LookupRVA there must give an
// inline of that name at that depth with that file and line; every
// inlinee's first address must start one of its ranges; the functions'
// own records must be the outermost line.
func TestSymbolicInlinees(t *testing.T) {
	snap := readFunctionsSnap(t, fixture.Corpus(t, "symbolic-pdb/snapshots/test_objects__pdb_functions.snap"))
	f, err := Open(fixture.Corpus(t, "symbolic-pdb/windows/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	var nInl, nLines, okLines, okStarts, nOuter, okOuter int
	for _, fn := range snap {
		if fn.depth == 0 {
			for _, l := range fn.lines {
				nOuter++
				s, ok := tab.LookupRVA(l.addr)
				file, line := s.OuterLine()
				if ok && line == l.line && sameFile(file, l.file) && sameName(s.Name, fn.name) {
					okOuter++
				} else if sharedStart(tab, l.addr, l.line) {
					// Records sharing an address: LookupRVA gives the first
					// (as LLVM does, TestSymbolizerLines), symbolic the last.
					t.Logf("%#x: function line %d, symbolic %d: records share the address", l.addr, line, l.line)
				} else {
					t.Errorf("%#x: function %q %s:%d, snapshot %q %s:%d", l.addr, s.Name, file, line, fn.name, l.file, l.line)
				}
			}
			continue
		}
		nInl++
		if s, _ := tab.LookupRVA(fn.addr); true {
			in, ok := level(s, fn.depth)
			if ok && in.Addr == fn.addr && sameName(in.Name, fn.name) {
				okStarts++
			} else {
				t.Errorf("%#x: inlinee %q at depth %d: got %+v (chain of %d)", fn.addr, fn.name, fn.depth, in, len(s.Inlined))
			}
		}
		for _, l := range fn.lines {
			nLines++
			s, _ := tab.LookupRVA(l.addr)
			in, ok := level(s, fn.depth)
			if ok && sameName(in.Name, fn.name) && in.Line == l.line && sameFile(in.File, l.file) {
				okLines++
				continue
			}
			t.Errorf("%#x: depth %d: got %q %s:%d (chain of %d), snapshot %q %s:%d", l.addr, fn.depth, in.Name, in.File, in.Line, len(s.Inlined), fn.name, l.file, l.line)
		}
	}
	if nInl == 0 {
		t.Fatal("no inlinees in the snapshot")
	}
	t.Logf("symbolic crash.pdb: %d of %d inlinee starts agree, %d of %d inlinee line records, %d of %d function line records (outermost)", okStarts, nInl, okLines, nLines, okOuter, nOuter)
}

// sharedStart reports whether the module line records of the procedure
// at rva hold several records at rva, one of them with line.
func sharedStart(tab *Table, rva uint64, line int) bool {
	pi := last(tab.procs, uint32(rva))
	if pi < 0 {
		return false
	}
	fn, ok := tab.lines.mods[tab.procs[pi].mod]
	if !ok {
		return false
	}
	var n int
	var has bool
	for _, l := range fn().lines {
		if uint64(l.RVA) == rva {
			n++
			has = has || int(l.Line) == line
		}
	}
	return n > 1 && has
}

// TestAnonymousNamespaceInlinee is symbolic's test_pdb_anonymous_namespace
// and the frame of windows/mini.dmp: main (0x2910) has at 0x2a3d the
// inlinee "`anonymous namespace'::start" (raw ?A0xc3a0617d::start), which
// has inlined `anonymous namespace'::crash there (llvm-symbolizer
// --inlining: crash main.cpp:24, start main.cpp:28, main main.cpp:35).
func TestAnonymousNamespaceInlinee(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "symbolic-pdb/windows/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	s, ok := tab.LookupRVA(0x2a3d)
	const main = `c:\projects\breakpad-tools\windows\crash\main.cpp`
	want := []symtab.Inline{
		{Name: "`anonymous namespace'::crash", File: main, Line: 24, CallFile: main, CallLine: 28, Addr: 0x2a3d},
		{Name: "`anonymous namespace'::start", File: main, Line: 28, CallFile: main, CallLine: 35, Addr: 0x2a3d},
	}
	if !ok || s.Name != "main" || s.Addr != 0x2910 || s.File != main || s.Line != 24 || !slices.Equal(s.Inlined, want) {
		t.Errorf("LookupRVA(0x2a3d) = %q@%#x %s:%d %+v (%v)\nwant main@0x2910 %s:24 %+v", s.Name, s.Addr, s.File, s.Line, s.Inlined, ok, main, want)
	}
	if file, line := s.OuterLine(); file != main || line != 35 {
		t.Errorf("OuterLine = %s:%d, want main.cpp:35", file, line)
	}
}

// TestLLDBNoInlines: test-pdb.exe is an unoptimised MSVC build, so its
// "inline" foo and baz are out-of-line functions with no S_INLINESITE;
// the lldb oracle's header lines must come from them with no chain.
func TestLLDBNoInlines(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "lldb-pdb/test-pdb.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rva  uint64
		name string
		file string
		line int
	}{
		{0x1040, "", "test-pdb.cpp", 7},
		{0x1080, "baz", "test-pdb-nested.h", 5},
		{0x1089, "baz", "test-pdb-nested.h", 7},
		{0x1090, "foo", "test-pdb.h", 9},
		{0x10a2, "foo", "test-pdb.h", 11},
	} {
		s, ok := tab.LookupRVA(c.rva)
		if !ok || c.name != "" && s.Name != c.name || s.Line != c.line || !sameFile(s.File, c.file) || len(s.Inlined) != 0 {
			t.Errorf("LookupRVA(%#x) = %q %s:%d %+v, want %q %s:%d and no inlines", c.rva, s.Name, s.File, s.Line, s.Inlined, c.name, c.file, c.line)
		}
	}
}

// TestSymbolizerInlines compares inline chains with the local
// llvm-symbolizer --inlining oracles at the addresses where LLVM shows
// inlined frames: the depth, each frame's file:line and (loosely, LLVM
// demangles and adds parameters) its name. LLVM 14's native PDB reader
// shows only some inline sites (at crash.exe 0x1140 it shows none where
// symbolic and we find four), so addresses where only we find inlines are
// counted, not failed.
func TestSymbolizerInlines(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	oracles, _ := filepath.Glob(filepath.Join(corpus, "*", "local-oracles", "*.llvm-symbolizer.txt"))
	if len(oracles) == 0 {
		t.Skip("no symbolizer oracles")
	}
	// Addresses where LLVM 14 reads the annotations otherwise; symbolic
	// (the pdb crate) reads them as we do in TestSymbolicInlinees.
	known := map[string]string{
		// __ld12mul's ChangeCodeLengthAndCodeOffset range [0x634,0x644)
		// of __strgtold12_l holds line 142+72 = 214 when it is emitted;
		// LLVM gives it the line set after it (142+39 = 181).
		"dump_syms_regtest64.pdb 0x9840": "LLVM 14 gives a code-length range the next line",
		// _Sentry_base::{dtor} (nested in sentry::{dtor}) has the range
		// [0x215,0x219) of operator<< (ended by the next emitted
		// offset); LLVM 14 leaves that level out.
		"vs2019_cpp_override.pdb 0x1337": "LLVM 14 misses a nested site's implicit-length range",
	}
	var n, agree, names, extra int
	for _, o := range oracles {
		folder := filepath.Dir(filepath.Dir(o))
		base, pdbName, recs := readSymbolizer(t, o)
		p := findPDB(folder, o, pdbName)
		if p == "" || base == 0 {
			continue
		}
		f, err := Open(p)
		if err != nil {
			continue
		}
		tab, err := f.Table()
		if err != nil {
			f.Close()
			continue
		}
		for _, r := range recs {
			s, _ := tab.LookupRVA(r.addr - base)
			if len(r.frames) == 1 {
				if len(s.Inlined) > 0 {
					extra++
				}
				continue
			}
			n++
			ok := len(s.Inlined) == len(r.frames)-1 && s.Line == r.frames[0].line && sameFile(s.File, r.frames[0].file)
			for i := 0; ok && i < len(s.Inlined); i++ {
				in, caller := s.Inlined[i], r.frames[i+1]
				ok = in.Line == r.frames[i].line && sameFile(in.File, r.frames[i].file) &&
					in.CallLine == caller.line && sameFile(in.CallFile, caller.file)
			}
			if why, k := known[fmt.Sprintf("%s %#x", filepath.Base(p), r.addr-base)]; !ok && k {
				t.Logf("%s %#x: known difference: %s", filepath.Base(p), r.addr-base, why)
				continue
			}
			if !ok {
				t.Errorf("%s %#x: got %s:%d %+v, oracle %+v", filepath.Base(p), r.addr-base, s.File, s.Line, s.Inlined, r.frames)
				continue
			}
			agree++
			same := true
			for i, in := range s.Inlined {
				if !llvmSameName(in.Name, r.frames[i].function) {
					same = false
					t.Logf("%s %#x: name %q, LLVM %q", filepath.Base(p), r.addr-base, in.Name, r.frames[i].function)
				}
			}
			if same {
				names++
			}
		}
		f.Close()
	}
	t.Logf("llvm-symbolizer: %d of %d inlined addresses agree in depth and every file:line (%d also in every name); %d addresses inlined here but not in LLVM's output", agree, n, names, extra)
}

// llvmSameName compares our name with LLVM's demangled one, ignoring
// parameters, "class "/"struct " tags and spacing in template arguments,
// and the "?A0x…" LLVM keeps for anonymous namespaces.
func llvmSameName(ours, llvm string) bool {
	norm := func(s string) string {
		s = strings.TrimPrefix(anonNamespaces(s), "::") // LLVM: "::name" for no scope
		if i := strings.IndexByte(s, '('); i > 0 {
			s = s[:i]
		}
		for _, w := range []string{"class ", "struct ", "enum ", " "} {
			s = strings.ReplaceAll(s, w, "")
		}
		return s
	}
	return norm(ours) == norm(llvm)
}

// TestBreakpadInlines compares, for each PDB with a Breakpad .sym that
// has INLINE records, the chain at the start of every INLINE range with
// the .sym's (Breakpad's parser): depth, origin names and call lines.
// The corpus's PDB .sym files (Breakpad's DIA dump_syms and Mozilla's
// dump_syms references) have no INLINE records, so this skips today.
func TestBreakpadInlines(t *testing.T) {
	pairs := [][2]string{
		{"breakpad-dumpsyms/dump_syms_regtest64.pdb", "mozilla-dump-syms/dump_syms_regtest64.sym"},
		{"breakpad-dumpsyms/dump_syms_regtest64.pdb", "breakpad-dumpsyms/dump_syms_regtest64.sym"},
		{"symbolic-pdb/windows/crash.pdb", "symbolic-pdb/windows/crash.sym"},
		{"symbolic-pdb/windows/CrashWithException.pdb", "symbolic-pdb/windows/CrashWithException.pdb.sym"},
	}
	corpus := fixture.CorpusDir(t)
	compared := 0
	for _, pr := range pairs {
		text, err := os.ReadFile(filepath.Join(corpus, pr[1]))
		if err != nil {
			continue
		}
		var starts []uint64
		for _, l := range strings.Split(string(text), "\n") {
			fs := strings.Fields(l)
			if len(fs) < 7 || fs[0] != "INLINE" {
				continue
			}
			for i := 5; i+1 < len(fs); i += 2 {
				if a, err := strconv.ParseUint(fs[i], 16, 64); err == nil {
					starts = append(starts, a)
				}
			}
		}
		if len(starts) == 0 {
			t.Logf("%s: no INLINE records", pr[1])
			continue
		}
		sym, err := breakpad.Parse(strings.NewReader(string(text)))
		if err != nil {
			t.Errorf("%s: %v", pr[1], err)
			continue
		}
		f, err := Open(filepath.Join(corpus, pr[0]))
		if err != nil {
			t.Errorf("%s: %v", pr[0], err)
			continue
		}
		tab, err := f.Table()
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for _, a := range starts {
			want, _ := sym.LookupRVA(a)
			got, _ := tab.LookupRVA(a)
			same := len(got.Inlined) == len(want.Inlined)
			for i := 0; same && i < len(got.Inlined); i++ {
				same = llvmSameName(got.Inlined[i].Name, want.Inlined[i].Name) && got.Inlined[i].CallLine == want.Inlined[i].CallLine
			}
			if same {
				ok++
			} else {
				t.Logf("%s %#x: got %+v, .sym %+v", pr[1], a, got.Inlined, want.Inlined)
			}
		}
		compared++
		t.Logf("%s: %d of %d INLINE range starts agree", pr[1], ok, len(starts))
		f.Close()
	}
	if compared == 0 {
		t.Skip("no PDB .sym in the corpus has INLINE records")
	}
}

// TestInlineCorrupt flips bytes of crash.pdb's module streams and decodes
// their inline sites: no panic, and every range lies in the image.
func TestInlineCorrupt(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "symbolic-pdb/windows/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DBI()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(2))
	total := 0
	for _, m := range d.Modules {
		if m.SymStream < 0 {
			continue
		}
		b, err := f.Stream(m.SymStream)
		if err != nil {
			continue
		}
		total += len(f.decodeInlines(d, m, b).sites)
		for range 20 {
			c := slices.Clone(b)
			for range 1 + r.Intn(32) {
				if len(c) > 0 {
					c[r.Intn(len(c))] = byte(r.Intn(256))
				}
			}
			mi := f.decodeInlines(d, m, c)
			for _, p := range mi.procs {
				for _, rg := range p.ranges {
					if rg.end < rg.start || int(rg.site) >= len(mi.sites) {
						t.Fatalf("bad range %+v", rg)
					}
				}
			}
			for i, s := range mi.sites {
				if s.parent >= int32(i) {
					t.Fatalf("site %d has parent %d", i, s.parent)
				}
			}
		}
	}
	// Whole-file corruption, then lookups through every procedure (names,
	// cross-module imports, the chain walk).
	raw, err := os.ReadFile(fixture.Corpus(t, "symbolic-pdb/windows/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		c := slices.Clone(raw)
		for range 1 + r.Intn(200) {
			c[r.Intn(len(c))] = byte(r.Intn(256))
		}
		cf, err := NewFile(bytes.NewReader(c), int64(len(c)))
		if err != nil {
			continue
		}
		if tab, err := cf.Table(); err == nil {
			for _, p := range tab.procs {
				for off := uint32(0); off < min(p.size, 0x400); off += 3 {
					tab.LookupRVA(uint64(p.rva + off))
				}
			}
		}
	}
	if total != 276 {
		t.Errorf("crash.pdb: %d inline sites, want the 276 S_INLINESITE llvm-pdbutil lists", total)
	}
	t.Logf("crash.pdb: %d inline sites", total)
}
