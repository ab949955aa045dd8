package breakpad

import (
	"errors"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

const smallSym = `MODULE windows x86 ABCDEF0123456789ABCDEF0123456789A app.pdb
INFO CODE_ID 5A3B1C00 app.exe
FILE 0 c:\src\app.c
FILE 1 c:\src\util.h
INLINE_ORIGIN 0 helper
FUNC 1000 30 4 main
1000 10 10 0
1010 10 11 0
1020 10 0 1
INLINE 0 11 0 0 1010 8
FUNC m 2000 10 0 folded
2000 10 20 1
PUBLIC 1800 0 after_main
PUBLIC m 3000 8 exported
PUBLIC 900 0 early
STACK CFI INIT 1000 30 .cfa: $esp 4 + .ra: .cfa 4 - ^
STACK CFI 1001 .cfa: $esp 8 + $ebp: .cfa 8 - ^
STACK CFI 1003 .cfa: $ebp 8 +
STACK WIN 4 1000 30 3 0 4 4 8 0 1 $T0 $ebp = $eip $T0 4 + ^ =
STACK WIN 0 1000 30 3 0 4 4 8 0 0 1
STACK WIN 0 2000 10 0 0 0 0 0 0 0 0
`

func parseString(t testing.TB, s string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	f := parseString(t, smallSym)
	want := Module{OS: "windows", Arch: "x86", ID: "ABCDEF0123456789ABCDEF0123456789A", Name: "app.pdb"}
	if f.Module != want {
		t.Errorf("Module = %+v, want %+v", f.Module, want)
	}
	if f.CodeID != "5A3B1C00" || f.CodeFile != "app.exe" {
		t.Errorf("CodeID, CodeFile = %q, %q", f.CodeID, f.CodeFile)
	}
	if f.Skipped != 0 || len(f.Diagnostics) != 0 {
		t.Errorf("Skipped = %d, Diagnostics = %v", f.Skipped, f.Diagnostics)
	}
	if fn, pub, cfi, win := f.Counts(); fn != 2 || pub != 3 || cfi != 1 || win != 3 {
		t.Errorf("Counts = %d %d %d %d", fn, pub, cfi, win)
	}
}

func TestLookupRVA(t *testing.T) {
	t.Parallel()
	f := parseString(t, smallSym)
	tests := map[string]struct {
		rva  uint64
		ok   bool
		want symtab.Symbol
	}{
		"before everything": {rva: 0x10},
		"early public":      {rva: 0x950, ok: true, want: symtab.Symbol{Name: "early", Addr: 0x900}},
		"func start":        {rva: 0x1000, ok: true, want: symtab.Symbol{Name: "main", Addr: 0x1000, Size: 0x30, File: `c:\src\app.c`, Line: 10}},
		"inlined": {rva: 0x1012, ok: true, want: symtab.Symbol{Name: "main", Addr: 0x1000, Size: 0x30, File: `c:\src\app.c`, Line: 11,
			Inlined: []symtab.Inline{{Name: "helper", File: `c:\src\app.c`, Line: 11, CallFile: `c:\src\app.c`, CallLine: 11, Addr: 0x1010}}}},
		"line 0":          {rva: 0x102f, ok: true, want: symtab.Symbol{Name: "main", Addr: 0x1000, Size: 0x30, File: `c:\src\util.h`}},
		"past func":       {rva: 0x1030}, // the FUNC ended and PUBLIC early lies before it
		"public":          {rva: 0x1900, ok: true, want: symtab.Symbol{Name: "after_main", Addr: 0x1800}},
		"multiple func":   {rva: 0x2005, ok: true, want: symtab.Symbol{Name: "folded", Addr: 0x2000, Size: 0x10, File: `c:\src\util.h`, Line: 20, Multiple: true}},
		"after folded":    {rva: 0x2800}, // public after_main is before FUNC folded
		"multiple public": {rva: 0x3004, ok: true, want: symtab.Symbol{Name: "exported", Addr: 0x3000, Multiple: true}},
		"far past public": {rva: 0xfffff, ok: true, want: symtab.Symbol{Name: "exported", Addr: 0x3000, Multiple: true}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := f.LookupRVA(tc.rva)
			if ok != tc.ok {
				t.Fatalf("LookupRVA(%#x) ok = %v, want %v (%+v)", tc.rva, ok, tc.ok, got)
			}
			if !ok {
				return
			}
			if !equalSym(got, tc.want) {
				t.Errorf("LookupRVA(%#x) = %+v, want %+v", tc.rva, got, tc.want)
			}
		})
	}
}

func equalSym(a, b symtab.Symbol) bool {
	if a.Name != b.Name || a.Module != b.Module || a.Addr != b.Addr || a.Size != b.Size || a.File != b.File ||
		a.Line != b.Line || a.Multiple != b.Multiple || len(a.Inlined) != len(b.Inlined) {
		return false
	}
	for i := range a.Inlined {
		if a.Inlined[i] != b.Inlined[i] {
			return false
		}
	}
	return true
}

func TestSymbolsOrder(t *testing.T) {
	t.Parallel()
	f := parseString(t, smallSym)
	var names []string
	for s := range f.Symbols {
		names = append(names, s.Name)
	}
	want := "early main after_main folded exported"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Symbols = %q, want %q", got, want)
	}
	n := 0
	f.Symbols(func(symtab.Symbol) bool { n++; return false })
	if n != 1 {
		t.Errorf("Symbols did not stop when yield returned false: %d calls", n)
	}
}

func TestCFIRulesSmall(t *testing.T) {
	t.Parallel()
	f := parseString(t, smallSym)
	tests := map[string]struct {
		rva  uint64
		ok   bool
		want Rules
	}{
		"init":      {rva: 0x1000, ok: true, want: Rules{".cfa": "$esp 4 +", ".ra": ".cfa 4 - ^"}},
		"delta 1":   {rva: 0x1002, ok: true, want: Rules{".cfa": "$esp 8 +", ".ra": ".cfa 4 - ^", "$ebp": ".cfa 8 - ^"}},
		"delta 2":   {rva: 0x102f, ok: true, want: Rules{".cfa": "$ebp 8 +", ".ra": ".cfa 4 - ^", "$ebp": ".cfa 8 - ^"}},
		"outside":   {rva: 0x1030},
		"before":    {rva: 0xfff},
		"no record": {rva: 0x2000},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := f.CFIRules(tc.rva)
			if ok != tc.ok || !equalRules(got, tc.want) {
				t.Errorf("CFIRules(%#x) = %v, %v; want %v, %v", tc.rva, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func equalRules(a, b Rules) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestWinFrameSmall(t *testing.T) {
	t.Parallel()
	f := parseString(t, smallSym)
	w, ok := f.WinFrame(0x1010)
	if !ok || w.Type != WinFrameData || !w.HasProgramString || w.ProgramString != "$T0 $ebp = $eip $T0 4 + ^ =" ||
		w.PrologSize != 3 || w.ParamSize != 4 || w.SavedRegSize != 4 || w.LocalSize != 8 || w.CodeSize != 0x30 {
		t.Errorf("WinFrame(0x1010) = %+v, %v", w, ok)
	}
	w, ok = f.WinFrame(0x2001)
	if !ok || w.Type != WinFPO || w.HasProgramString || w.AllocatesBasePointer {
		t.Errorf("WinFrame(0x2001) = %+v, %v", w, ok)
	}
	if w, ok := f.WinFrame(0x2010); ok {
		t.Errorf("WinFrame(0x2010) = %+v, want none", w)
	}
}

func TestMalformedLines(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body    string
		skipped int
	}{
		"bad func":              {body: "FUNC zz 10 0 f\n1000 4 1 0\n", skipped: 2}, // the line record has no FUNC
		"func without name":     {body: "FUNC 1000 10 0\n", skipped: 1},
		"bad line":              {body: "FUNC 1000 10 0 f\n1000 4 x 0\n", skipped: 1},
		"line outside func":     {body: "1000 4 1 0\n", skipped: 1},
		"bad file":              {body: "FILE x a.c\nFILE 1\n", skipped: 2},
		"bad public":            {body: "PUBLIC 10\nPUBLIC x 0 p\n", skipped: 2},
		"cfi without init":      {body: "STACK CFI 1000 .cfa: $esp 4 +\n", skipped: 1},
		"cfi bad rules":         {body: "STACK CFI INIT 1000 10 .cfa $esp\nSTACK CFI INIT 1000 10 .cfa:\n", skipped: 2},
		"cfi outside init":      {body: "STACK CFI INIT 1000 10 .cfa: $esp 4 + .ra: .cfa ^\nSTACK CFI 2000 .cfa: $esp 8 +\n", skipped: 1},
		"win bad type":          {body: "STACK WIN 9 1000 10 0 0 0 0 0 0 0 0\n", skipped: 1},
		"win missing program":   {body: "STACK WIN 4 1000 10 0 0 0 0 0 0 1\n", skipped: 1},
		"win short":             {body: "STACK WIN 4 1000 10\n", skipped: 1},
		"win bad alloc bp":      {body: "STACK WIN 0 1000 10 0 0 0 0 0 0 0 7\n", skipped: 1},
		"inline outside func":   {body: "INLINE 0 1 0 0 10 4\n", skipped: 1},
		"inline without ranges": {body: "FUNC 1000 10 0 f\nINLINE 0 1 0 0\nINLINE 0 1 0 0 1000\n", skipped: 2},
		"unknown record":        {body: "BOGUS 1 2 3\nSTACK XYZ\n", skipped: 2},
		"second module":         {body: "MODULE a b c d\n", skipped: 1},
		"overflowing func":      {body: "FUNC ffffffffffffffff 10 0 f\n", skipped: 1},
		"hex too long":          {body: "FUNC 11111111111111111 10 0 f\n", skipped: 1},
		"blank and crlf":        {body: "\r\n\nFUNC 1000 10 0 f\r\n", skipped: 0},
		"unknown INFO":          {body: "INFO GENERATOR x\n", skipped: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text := "MODULE Linux x86_64 0123 m\n" + tc.body
			f := parseString(t, text)
			if f.Skipped != tc.skipped {
				t.Errorf("Skipped = %d, want %d (%v)", f.Skipped, tc.skipped, f.Diagnostics)
			}
			if len(f.Diagnostics) != min(tc.skipped, DefaultMaxDiagnostics) {
				t.Errorf("%d diagnostics for %d skipped lines", len(f.Diagnostics), tc.skipped)
			}
			_, err := ParseOptions(strings.NewReader(text), Options{Strict: true})
			var fe *FormatError
			if (tc.skipped > 0) != errors.As(err, &fe) {
				t.Errorf("strict parse error = %v", err)
			}
			if tc.skipped > 0 && fe != nil && fe.Line < 2 {
				t.Errorf("strict error at line %d", fe.Line)
			}
		})
	}
}

func TestDiagnosticsBounded(t *testing.T) {
	t.Parallel()
	text := "MODULE Linux x86_64 0123 m\n" + strings.Repeat("garbage\n", 100)
	f := parseString(t, text)
	if f.Skipped != 100 || len(f.Diagnostics) != DefaultMaxDiagnostics {
		t.Errorf("Skipped = %d, %d diagnostics", f.Skipped, len(f.Diagnostics))
	}
	if d := f.Diagnostics[0]; d.Off != int64(len("MODULE Linux x86_64 0123 m\n")) || !strings.HasPrefix(d.Msg, "line 2:") {
		t.Errorf("first diagnostic = %+v", d)
	}
	f, err := ParseOptions(strings.NewReader(text), Options{MaxDiagnostics: -1})
	if err != nil || len(f.Diagnostics) != 0 || f.Skipped != 100 {
		t.Errorf("MaxDiagnostics -1: %v, %d, %d", err, len(f.Diagnostics), f.Skipped)
	}
}

func TestMissingModule(t *testing.T) {
	t.Parallel()
	for name, text := range map[string]string{
		"empty":         "",
		"no module":     "FUNC 1000 10 0 f\n",
		"short module":  "MODULE Linux x86\n",
		"module second": "FILE 0 a.c\nMODULE Linux x86 01 a\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(strings.NewReader(text))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error = %v, want *FormatError", err)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("x", 200000)
	f := parseString(t, "MODULE Linux x86_64 0123 m\nFUNC 10 10 0 "+name+"\nPUBLIC 40 0 p\n")
	if s, ok := f.LookupRVA(0x12); !ok || s.Name != name {
		t.Errorf("long FUNC name lost: %v %d", ok, len(s.Name))
	}
	if s, ok := f.LookupRVA(0x44); !ok || s.Name != "p" {
		t.Errorf("record after long line: %+v %v", s, ok)
	}
}

func TestUnsortedInput(t *testing.T) {
	t.Parallel()
	f := parseString(t, `MODULE Linux x86_64 0123 m
FILE 0 a.c
FUNC 2000 10 0 second
2008 8 21 0
2000 8 20 0
FUNC 1000 10 0 first
1000 10 10 0
PUBLIC 4000 0 p2
PUBLIC 3000 0 p1
STACK CFI INIT 2000 10 .cfa: $rsp 8 + .ra: .cfa -8 + ^
STACK CFI INIT 1000 10 .cfa: $rsp 8 + .ra: .cfa -8 + ^
STACK CFI 1008 .cfa: $rsp 16 +
STACK CFI 1004 .cfa: $rsp 24 +
`)
	for _, tc := range []struct {
		rva  uint64
		name string
		line int
	}{{0x1004, "first", 10}, {0x2009, "second", 21}, {0x2001, "second", 20}, {0x3001, "p1", 0}, {0x4001, "p2", 0}} {
		if s, ok := f.LookupRVA(tc.rva); !ok || s.Name != tc.name || s.Line != tc.line {
			t.Errorf("LookupRVA(%#x) = %+v, %v; want %s line %d", tc.rva, s, ok, tc.name, tc.line)
		}
	}
	if r, _ := f.CFIRules(0x1009); r[".cfa"] != "$rsp 16 +" {
		t.Errorf("CFIRules(0x1009) = %v", r)
	}
	if r, _ := f.CFIRules(0x1005); r[".cfa"] != "$rsp 24 +" {
		t.Errorf("CFIRules(0x1005) = %v", r)
	}
}
