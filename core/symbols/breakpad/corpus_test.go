package breakpad

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const (
	testAppSym  = "breakpad/symbols/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym"
	kernel32Sym = "breakpad/symbols/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym"
	inlineSym   = "breakpad/symbols/linux_inline/BBA6FA10B8AAB33D00000000000000000/linux_inline.new.sym"
	crashSym    = "symbolic/linux/crash.sym"
	clientSym   = "rust-minidump/symbols/crash-client/509C0610949836F7B70BD88BCF03E5400/crash-client.sym"
)

func openCorpus(t testing.TB, rel string) *File {
	t.Helper()
	f, err := Open(fixture.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	if f.Skipped != 0 {
		t.Errorf("%s: %d lines skipped: %v", rel, f.Skipped, f.Diagnostics)
	}
	return f
}

// oracleFrame is one frame line of minidump_stackwalk's human-readable
// output, with the eip printed under it.
type oracleFrame struct {
	n      int
	module string
	fn     string
	file   string // "" for frames without source
	line   int
	off    uint64 // "+ 0x.." after the line, or after the function
	eip    uint64
}

var (
	frameRE  = regexp.MustCompile(`^\s*(\d+)\s+(\S+?)!(.+?) (?:\[(.+) : (\d+) \+ 0x([0-9a-f]+)\]|\+ 0x([0-9a-f]+))$`)
	eipRE    = regexp.MustCompile(`eip = 0x([0-9a-f]+)`)
	moduleRE = regexp.MustCompile(`^0x([0-9a-f]+) - 0x([0-9a-f]+)\s+(\S+)`)
)

func readOracle(t *testing.T, path string) ([]oracleFrame, map[string]uint64) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var frames []oracleFrame
	bases := map[string]uint64{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		l := sc.Text()
		if m := frameRE.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			fr := oracleFrame{n: n, module: m[2], fn: m[3], file: m[4]}
			if fr.file != "" {
				fr.line, _ = strconv.Atoi(m[5])
				fr.off, _ = strconv.ParseUint(m[6], 16, 64)
			} else {
				fr.off, _ = strconv.ParseUint(m[7], 16, 64)
			}
			frames = append(frames, fr)
			continue
		}
		if m := eipRE.FindStringSubmatch(l); m != nil && len(frames) > 0 && frames[len(frames)-1].eip == 0 {
			frames[len(frames)-1].eip, _ = strconv.ParseUint(m[1], 16, 64)
			continue
		}
		if m := moduleRE.FindStringSubmatch(l); m != nil {
			bases[m[3]], _ = strconv.ParseUint(m[1], 16, 64)
		}
	}
	return frames, bases
}

// TestMinidump2Oracle checks every frame of minidump2.stackwalk.out:
// function, source file and line, and the printed offset, which Breakpad
// computes from the return address while looking up return address - 1
// for caller frames.
func TestMinidump2Oracle(t *testing.T) {
	t.Parallel()
	frames, bases := readOracle(t, fixture.Corpus(t, "breakpad/minidump2.stackwalk.out"))
	if len(frames) != 4 {
		t.Fatalf("read %d frames from the oracle, want 4", len(frames))
	}
	syms := map[string]*File{"test_app.exe": openCorpus(t, testAppSym), "kernel32.dll": openCorpus(t, kernel32Sym)}
	for _, fr := range frames {
		t.Run(strconv.Itoa(fr.n), func(t *testing.T) {
			f, base := syms[fr.module], bases[fr.module]
			if f == nil || base == 0 {
				t.Fatalf("no symbols or base for %s", fr.module)
			}
			rva := fr.eip - base
			lookup := rva
			if fr.n > 0 {
				lookup-- // caller frames: the call instruction, not the return address
			}
			sym, ok := f.LookupRVA(lookup)
			if !ok || sym.Name != fr.fn {
				t.Fatalf("LookupRVA(%#x) = %q, %v; oracle says %q", lookup, sym.Name, ok, fr.fn)
			}
			if fr.file == "" {
				if sym.File != "" || rva-sym.Addr != fr.off {
					t.Errorf("got %s + %#x (file %q), oracle %s + %#x", sym.Name, rva-sym.Addr, sym.File, fr.fn, fr.off)
				}
				return
			}
			if base := baseName(sym.File); base != fr.file || sym.Line != fr.line {
				t.Errorf("line = %s:%d, oracle %s:%d", base, sym.Line, fr.file, fr.line)
			}
			_, _, lineAddr, _, ok := f.LineAt(lookup)
			if !ok || rva-lineAddr != fr.off {
				t.Errorf("offset from line start = %#x, oracle %#x", rva-lineAddr, fr.off)
			}
		})
	}
}

func baseName(p string) string { return model.Module{Path: p}.Name() }

// TestInlineCorpus checks linux_inline.new.sym at 0x161b6, the address
// Breakpad's basic_source_line_resolver_unittest resolves: main calls foo()
// at a.cpp:42, foo calls bar() at b.cpp:39, bar calls func() at c.cpp:32,
// and func() is at linux_inline.cpp:27 (the line record 161b6 2 27 0).
func TestInlineCorpus(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, inlineSym)
	if f.CodeID != "10FAA6BBAAB83DB3" || f.Module.Name != "linux_inline" {
		t.Errorf("module = %+v, code id %q", f.Module, f.CodeID)
	}
	want := symtab.Symbol{Name: "main", Addr: 0x15b30, Size: 0x6cf, File: "linux_inline.cpp", Line: 27,
		Inlined: []symtab.Inline{
			{Name: "func()", File: "linux_inline.cpp", Line: 27, CallFile: "c.cpp", CallLine: 32, Addr: 0x15b83},
			{Name: "bar()", File: "c.cpp", Line: 32, CallFile: "b.cpp", CallLine: 39, Addr: 0x15b72},
			{Name: "foo()", File: "b.cpp", Line: 39, CallFile: "a.cpp", CallLine: 42, Addr: 0x15b45},
		}}
	got, ok := f.LookupRVA(0x161b6)
	if !ok || !equalSym(got, want) {
		t.Errorf("LookupRVA(0x161b6) =\n %+v\nwant\n %+v", got, want)
	}
	if file, line := got.OuterLine(); file != "a.cpp" || line != 42 {
		t.Errorf("OuterLine = %s:%d, want a.cpp:42", file, line)
	}
	// Before the first inline range only main is there.
	got, ok = f.LookupRVA(0x15b30)
	if !ok || got.Name != "main" || got.Line != 41 || len(got.Inlined) != 0 {
		t.Errorf("LookupRVA(0x15b30) = %+v", got)
	}
	// In foo() only (0x15b45..0x15b72).
	got, ok = f.LookupRVA(0x15b50)
	if !ok || len(got.Inlined) != 1 || got.Inlined[0].Name != "foo()" || got.Line != 36 {
		t.Errorf("LookupRVA(0x15b50) = %+v", got)
	}
}

// TestCFICorpus checks rule sets of symbolic/linux/crash.sym against its
// text (lines 173-177 and 183-188).
func TestCFICorpus(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, crashSym)
	ra := ".cfa -8 + ^"
	tests := map[string]struct {
		rva  uint64
		want Rules
	}{
		"1ec0 init":       {0x1ec0, Rules{".cfa": "$rsp 8 +", ".ra": ra}},
		"1ec3 push rbx":   {0x1ec3, Rules{".cfa": "$rsp 16 +", ".ra": ra, "$rbx": ".cfa -16 + ^"}},
		"1edd pop":        {0x1edf, Rules{".cfa": "$rsp 8 +", ".ra": ra, "$rbx": ".cfa -16 + ^"}},
		"1efa last":       {0x1efa, Rules{".cfa": "$rsp 8 +", ".ra": ra, "$rbx": ".cfa -16 + ^"}},
		"1c86 frame ptr":  {0x1c86, Rules{".cfa": "$rbp 16 +", ".ra": ra, "$rbp": ".cfa -16 + ^"}},
		"1c89 two regs":   {0x1d00, Rules{".cfa": "$rbp 16 +", ".ra": ra, "$rbp": ".cfa -16 + ^", "$r14": ".cfa -24 + ^", "$rbx": ".cfa -32 + ^"}},
		"1da4 epilogue":   {0x1da4, Rules{".cfa": "$rbp 16 +", ".ra": ra, "$rbp": ".cfa -16 + ^", "$r14": ".cfa -24 + ^", "$rbx": ".cfa -32 + ^"}},
		"1586 adjust rsp": {0x1600, Rules{".cfa": "$rsp 24 +", ".ra": ra}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := f.CFIRules(tc.rva)
			if !ok || !equalRules(got, tc.want) {
				t.Errorf("CFIRules(%#x) = %v, %v; want %v", tc.rva, got, ok, tc.want)
			}
		})
	}
	if r, ok := f.CFIRules(0x1efb); ok { // 0x1ec0+0x3b ends the range
		t.Errorf("CFIRules past INIT range = %v", r)
	}
	// Recover a frame at 0x1ec3: rsp = 0x7000, [0x7008] = return address,
	// [0x7000] = saved rbx.
	r, _ := f.CFIRules(0x1ec3)
	memory := map[uint64]uint64{0x7008: 0x401234, 0x7000: 0xb0b}
	ev := &Evaluator{Vars: map[string]uint64{"$rsp": 0x7000}, Deref: func(a uint64) (uint64, error) {
		v, ok := memory[a]
		if !ok {
			return 0, errors.New("unmapped")
		}
		return v, nil
	}}
	got, err := r.Recover(ev)
	if err != nil || got[".cfa"] != 0x7010 || got[".ra"] != 0x401234 || got["$rbx"] != 0xb0b {
		t.Errorf("Recover = %v, %v", got, err)
	}
}

// TestWinFrameCorpus checks STACK WIN lookups in test_app.sym and
// kernel32.sym against the records' text.
func TestWinFrameCorpus(t *testing.T) {
	t.Parallel()
	app := openCorpus(t, testAppSym)
	k32 := openCorpus(t, kernel32Sym)
	tests := map[string]struct {
		f       *File
		rva     uint64
		want    WinFrameInfo
		program string
	}{
		// STACK WIN 4 4290 18 4 0 0 0 4 0 1 $T0 $ebp = ...
		"CrashFunction": {app, 0x429b, WinFrameInfo{Type: WinFrameData, RVA: 0x4290, CodeSize: 0x18, PrologSize: 4, LocalSize: 4, HasProgramString: true},
			"$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $L $T0 .cbSavedRegs - = $P $T0 8 + .cbParams + ="},
		// STACK WIN 4 42ae 18 7 0 4 0 0 0 1 and the nested 42af 14 6 0 4 4 0 0 1: innermost wins.
		"nested": {app, 0x42b0, WinFrameInfo{Type: WinFrameData, RVA: 0x42af, CodeSize: 0x14, PrologSize: 6, ParamSize: 4, SavedRegSize: 4, HasProgramString: true},
			"$T2 $esp .cbLocals + .cbSavedRegs + = $T0 .raSearchStart = $eip $T0 ^ = $esp $T0 4 + ="},
		"outer only": {app, 0x42ae, WinFrameInfo{Type: WinFrameData, RVA: 0x42ae, CodeSize: 0x18, PrologSize: 7, ParamSize: 4, HasProgramString: true},
			"$T2 $esp .cbLocals + .cbSavedRegs + = $T0 .raSearchStart = $eip $T0 ^ = $esp $T0 4 + ="},
		// STACK WIN 4 16fb4 4f c 0 4 8 1c 0 1 (BaseProcessStart)
		"BaseProcessStart": {k32, 0x16fd6, WinFrameInfo{Type: WinFrameData, RVA: 0x16fb4, CodeSize: 0x4f, PrologSize: 0xc, ParamSize: 4, SavedRegSize: 8, LocalSize: 0x1c, HasProgramString: true},
			"$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $L $T0 .cbSavedRegs - = $P $T0 4 + .cbParams + ="},
		// STACK WIN 0 17826 35 ... and STACK WIN 4 17826 35 ...: FrameData preferred.
		"prefers FrameData": {k32, 0x17826, WinFrameInfo{Type: WinFrameData, RVA: 0x17826, CodeSize: 0x35, HasProgramString: true},
			"$T2 $esp .cbLocals + .cbSavedRegs + = $T0 .raSearchStart = $eip $T0 ^ = $esp $T0 4 + ="},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := tc.f.WinFrame(tc.rva)
			if !ok {
				t.Fatalf("WinFrame(%#x) found nothing", tc.rva)
			}
			tc.want.ProgramString = tc.program
			if *got != tc.want {
				t.Errorf("WinFrame(%#x) =\n %+v\nwant\n %+v", tc.rva, *got, tc.want)
			}
		})
	}
	// Run the FrameData program of CrashFunction on the oracle's frame 0
	// registers: ebp = 0x12fe88, so $T0 = ebp, eip = [ebp+4], ebp = [ebp].
	w, _ := app.WinFrame(0x429e)
	memory := map[uint64]uint64{0x12fe88: 0x12ff70, 0x12fe8c: 0x404200}
	ev := &Evaluator{Width: 4, Vars: map[string]uint64{"$ebp": 0x12fe88, "$esp": 0x12fe84, ".cbSavedRegs": 0, ".cbParams": 0},
		Deref: func(a uint64) (uint64, error) { return memory[a], nil }}
	if err := ev.Run(w.ProgramString); err != nil {
		t.Fatal(err)
	}
	// The oracle's frame 1: eip = 0x00404200, esp = 0x0012fe90, ebp = 0x0012ff70.
	if ev.Vars["$eip"] != 0x404200 || ev.Vars["$esp"] != 0x12fe90 || ev.Vars["$ebp"] != 0x12ff70 {
		t.Errorf("program result eip=%#x esp=%#x ebp=%#x", ev.Vars["$eip"], ev.Vars["$esp"], ev.Vars["$ebp"])
	}
}

func TestAllCorpusSymFilesParse(t *testing.T) {
	t.Parallel()
	dir := fixture.CorpusDir(t)
	for _, rel := range []string{testAppSym, kernel32Sym, inlineSym, crashSym, clientSym,
		"breakpad-dumpsyms/dump_syms_regtest64.sym", "mozilla-dump-syms/basic32.sym", "symbolic-pdb/windows/crash.sym"} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			t.Parallel()
			openCorpus(t, rel)
		})
	}
	_ = dir
}

func TestParseCrashClientFast(t *testing.T) {
	path := fixture.Corpus(t, clientSym)
	start := time.Now()
	f, err := Open(path)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("parsed %s in %v (%d skipped)", filepath.Base(path), elapsed, f.Skipped)
	if elapsed > 2*time.Second && !testing.Short() { // generous: -race slows parsing ~10x
		t.Errorf("parsing took %v", elapsed)
	}
	fn, pub, cfi, _ := f.Counts()
	if fn != 1996 || pub != 41 || cfi == 0 {
		t.Errorf("Counts = %d FUNC, %d PUBLIC, %d CFI", fn, pub, cfi)
	}
}

func BenchmarkParseCrashClient(b *testing.B) {
	data, err := os.ReadFile(fixture.Corpus(b, clientSym))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(strings.NewReader(string(data))); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDirProvider(t *testing.T) {
	t.Parallel()
	root := filepath.Join(fixture.CorpusDir(t), "breakpad", "symbols")
	elfRoot := t.TempDir()
	elfDir := filepath.Join(elfRoot, "libfoo.so", "0123ABCD0")
	if err := os.MkdirAll(elfDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(elfDir, "libfoo.so.sym"), []byte("MODULE Linux x86_64 0123ABCD0 libfoo.so\nPUBLIC 10 0 foo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badDir := filepath.Join(elfRoot, "bad.so", "01")
	if err := os.MkdirAll(badDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badDir, "bad.so.sym"), []byte("not a sym file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := NewDir(elfRoot, root)
	tests := map[string]struct {
		m       model.Module
		name    string // a symbol at rva 0x10..; "" when none expected
		noSyms  bool
		format  bool
		relPath string
	}{
		"pdb":          {m: model.Module{Path: `c:\test_app.exe`, DebugFile: `c:\build\test_app.pdb`, DebugID: "5A9832E5287241C1838ED98914E9B7FF1"}, relPath: "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym"},
		"lowercase id": {m: model.Module{Path: `kernel32.dll`, DebugFile: "kernel32.pdb", DebugID: "bce8785c57b44245a669896b6a19b9542"}, relPath: "kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym"},
		"elf":          {m: model.Module{Path: "/usr/lib/libfoo.so", DebugID: "0123ABCD0"}, name: "foo", relPath: "libfoo.so/0123ABCD0/libfoo.so.sym"},
		"wrong id":     {m: model.Module{Path: "test_app.exe", DebugFile: "test_app.pdb", DebugID: "00"}, noSyms: true},
		"no id":        {m: model.Module{Path: "test_app.exe", DebugFile: "test_app.pdb"}, noSyms: true},
		"traversal":    {m: model.Module{Path: "x", DebugFile: "..", DebugID: "00"}, noSyms: true},
		"malformed":    {m: model.Module{Path: "/lib/bad.so", DebugID: "01"}, format: true, relPath: "bad.so/01/bad.so.sym"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if rel, ok := RelPath(tc.m); tc.relPath != "" && (!ok || rel != filepath.FromSlash(tc.relPath)) {
				t.Errorf("RelPath = %q, %v; want %q", rel, ok, tc.relPath)
			}
			tab, err := d.Load(context.Background(), tc.m)
			var fe *FormatError
			switch {
			case tc.noSyms:
				if !errors.Is(err, symtab.ErrNoSymbols) {
					t.Errorf("Load error = %v, want ErrNoSymbols", err)
				}
				return
			case tc.format:
				if !errors.As(err, &fe) || errors.Is(err, symtab.ErrNoSymbols) {
					t.Errorf("Load error = %v, want *FormatError", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if tc.name != "" {
				if s, ok := tab.LookupRVA(0x11); !ok || s.Name != tc.name {
					t.Errorf("LookupRVA = %+v, %v", s, ok)
				}
			}
			if src := tab.(*File).Source(); !strings.HasSuffix(filepath.ToSlash(src), tc.relPath) {
				t.Errorf("Source = %q", src)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Load(ctx, tests["pdb"].m); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a cancelled context = %v", err)
	}
}
