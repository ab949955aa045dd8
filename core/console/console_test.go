package console_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/console/consoletest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

func TestScripts(t *testing.T) {
	consoletest.RunScripts(t, console.New(console.Builtins()...), "testdata/script")
}

func TestReferenceIsFresh(t *testing.T) {
	var b bytes.Buffer
	if err := console.New(console.Builtins()...).WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../docs/commands.md")
	if err != nil || !bytes.Equal(want, b.Bytes()) {
		t.Fatalf("docs/commands.md is stale; run go generate ./core/console (%v)", err)
	}
}

func TestParseLine(t *testing.T) {
	tests := map[string]struct {
		line string
		want []console.Invocation
	}{
		"empty":   {"   ", nil},
		"regular": {"lm v", []console.Invocation{{Raw: "lm v", Name: "lm", Args: "v", Tokens: []string{"v"}}}},
		"meta":    {".frame 2", []console.Invocation{{Raw: ".frame 2", Kind: console.Meta, Name: ".frame", Args: "2", Tokens: []string{"2"}}}},
		"ext":     {"!analyze -v", []console.Invocation{{Raw: "!analyze -v", Kind: console.Extension, Name: "!analyze", Args: "-v", Tokens: []string{"-v"}}}},
		"several": {`lm; s -a 0 L10 "a;b" ;r`, []console.Invocation{
			{Raw: "lm", Name: "lm"},
			{Raw: `s -a 0 L10 "a;b"`, Name: "s", Args: `-a 0 L10 "a;b"`, Tokens: []string{"-a", "0", "L10", `"a;b"`}},
			{Raw: "r", Name: "r"}}},
		"thread k":  {"~3 k", []console.Invocation{{Raw: "~3 k", Name: "k", Threads: console.ThreadSel{Kind: console.ThreadIndex, Index: 3}}}},
		"all k":     {"~*k 5", []console.Invocation{{Raw: "~*k 5", Name: "k", Args: "5", Tokens: []string{"5"}, Threads: console.ThreadSel{Kind: console.AllThreads}}}},
		"by id":     {"~~[0x1a2b] r", []console.Invocation{{Raw: "~~[0x1a2b] r", Name: "r", Threads: console.ThreadSel{Kind: console.ThreadByID, Expr: "0x1a2b"}}}},
		"switch":    {"~1s", []console.Invocation{{Raw: "~1s", Name: "~s", Threads: console.ThreadSel{Kind: console.ThreadIndex, Index: 1}}}},
		"switch sp": {"~# s", []console.Invocation{{Raw: "~# s", Name: "~s", Threads: console.ThreadSel{Kind: console.EventThread}}}},
		"list":      {"~", []console.Invocation{{Raw: "~", Name: "~"}}},
		"current":   {"~.", []console.Invocation{{Raw: "~.", Name: "~", Threads: console.ThreadSel{Kind: console.CurrentThread}}}},
		"eval":      {"? poi(@rsp + 8) ", []console.Invocation{{Raw: "? poi(@rsp + 8)", Name: "?", Args: "poi(@rsp + 8)", Tokens: []string{"poi(@rsp + 8)"}}}},
		"comment":   {"r; * lm; k", []console.Invocation{{Raw: "r", Name: "r"}}},
		"lmvm":      {"lmvm app", []console.Invocation{{Raw: "lmvm app", Name: "lmvm", Args: "app", Tokens: []string{"app"}}}},
		"sympath": {"lm; .sympath a;srv*c*http://x", []console.Invocation{{Raw: "lm", Name: "lm"},
			{Raw: ".sympath a;srv*c*http://x", Kind: console.Meta, Name: ".sympath", Args: "a;srv*c*http://x", Tokens: []string{"a;srv*c*http://x"}}}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := console.ParseLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if len(got[i].Tokens) == 0 {
					got[i].Tokens = nil
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseLine(%q) =\n%#v\nwant\n%#v", tt.line, got, tt.want)
			}
		})
	}
	for _, bad := range []string{`s -a 0 L1 "open`, "~~1 r", "~~[1 r", "123", "~3 +"} {
		var se *console.SyntaxError
		if _, err := console.ParseLine(bad); !errors.As(err, &se) {
			t.Errorf("ParseLine(%q) error = %v, want *SyntaxError", bad, err)
		}
	}
}

// fakeEval is a minimal EvalEnv.
type fakeEval struct{ m mem.Reader }

func (f fakeEval) Register(name string) (uint64, bool) {
	v, ok := map[string]uint64{"rsp": 0x1000, "rip": 0x401000, "$ip": 0x401000, "$csp": 0x1000, "eax": 7}[name]
	return v, ok
}

func (f fakeEval) Symbol(name string) (uint64, error) {
	if name == "app!main" {
		return 0x401000, nil
	}
	return 0, errors.New("no such symbol")
}

func (f fakeEval) ReadMemory(p []byte, a uint64) (int, error) { return f.m.ReadMemory(p, a) }
func (f fakeEval) PointerSize() int                           { return 8 }

func TestEval(t *testing.T) {
	env := fakeEval{memtest.Map{0x1000: {0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xff}}}
	tests := map[string]uint64{
		"45":                 0x45,
		"0n69":               69,
		"0x45":               0x45,
		"0y101":              5,
		"0t17":               15,
		"fffff800`00000000":  0xfffff80000000000,
		"app!main+0x10":      0x401010,
		"@rip":               0x401000,
		"$ip":                0x401000,
		"@$csp":              0x1000,
		"eax*2":              14,
		"1+2*3":              7,
		"(1+2)*3":            9,
		"10 % 3":             1,
		"10 mod 3":           1,
		"-1":                 ^uint64(0),
		"~0":                 ^uint64(0),
		"1 << 4 | 1":         0x11,
		"ff & f0 ^ 0f":       0xff,
		"2 == 2":             1,
		"2 != 2":             0,
		"1 < 2":              1,
		"3 > 2":              1,
		"poi(@rsp)":          0x1122334455667788,
		"poi(rsp)+1":         0x1122334455667789,
		"by(1000)":           0x88,
		"wo(1000)":           0x7788,
		"dwo(1000)":          0x55667788,
		"qwo(1000)":          0x1122334455667788,
		"by(1008)":           0xff,
		"add":                0xadd,
		"1+2==3":             1,
		"0n10 - 0n20 + 0n10": 0,
	}
	for expr, want := range tests {
		got, err := console.Eval(expr, env)
		if err != nil || got != want {
			t.Errorf("Eval(%q) = %#x, %v; want %#x", expr, got, err, want)
		}
	}
	errs := map[string]struct {
		kind console.ExprErrorKind
		col  int
		tok  string
	}{
		"1 +":               {console.SyntaxErr, 4, ""},
		"foo":               {console.ResolveErr, 1, "foo"},
		"1 + nosuch":        {console.ResolveErr, 5, "nosuch"},
		"poi(0)":            {console.MemoryErr, 1, "poi"},
		"4 / 0":             {console.DivideErr, 3, "/"},
		"(1":                {console.SyntaxErr, 3, ""},
		"1 2":               {console.SyntaxErr, 3, "2"},
		"1 # 2":             {console.SyntaxErr, 3, "#"},
		"0x":                {console.SyntaxErr, 1, "0x"},
		"1ffffffffffffffff": {console.SyntaxErr, 1, "1ffffffffffffffff"},
		"@nosuch":           {console.ResolveErr, 1, "@nosuch"},
	}
	for expr, want := range errs {
		_, err := console.Eval(expr, env)
		var ee *console.ExprError
		if !errors.As(err, &ee) || ee.Kind != want.kind || ee.Col != want.col || ee.Token != want.tok {
			t.Errorf("Eval(%q) error = %#v, want kind %d col %d token %q", expr, err, want.kind, want.col, want.tok)
		}
	}
}

func TestParseRange(t *testing.T) {
	env := fakeEval{memtest.Map{}}
	tests := map[string]console.Range{
		"1000":            {Start: 0x1000, Count: 0x80},
		"1000 L20":        {Start: 0x1000, Count: 0x20},
		"1000 l0n16":      {Start: 0x1000, Count: 16},
		"@rsp + 8 L4":     {Start: 0x1008, Count: 4},
		"1000 L 4":        {Start: 0x1000, Count: 4},
		"1000 L?20000000": {Start: 0x1000, Count: 0x20000000, Override: true},
		"1000 100f":       {Start: 0x1000, Count: 0x80, End: 0x100f, ByEnd: true},
		"@rsp @rsp+0n15":  {Start: 0x1000, Count: 0x80, End: 0x100f, ByEnd: true},
	}
	for args, want := range tests {
		got, err := console.ParseRange(args, env, 0x80)
		if err != nil || got != want {
			t.Errorf("ParseRange(%q) = %+v, %v; want %+v", args, got, err, want)
		}
	}
	if r, _ := console.ParseRange("1000 100f", env, 0x80); r.Elems(4) != 4 || r.Elems(1) != 16 {
		t.Errorf("Elems = %d, %d", r.Elems(4), r.Elems(1))
	}
	for _, bad := range []string{"", "1000 L20000000", "2000 1000", "1000 L0", "1000 L"} {
		var re *console.RangeError
		if _, err := console.ParseRange(bad, env, 0x80); !errors.As(err, &re) {
			t.Errorf("ParseRange(%q) error = %v, want *RangeError", bad, err)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		p, n string
		ok   bool
	}{{"*", "", true}, {"Rtl*", "RtlAllocateHeap", true}, {"rtl?lloc*", "RtlAllocateHeap", true}, {"*Heap", "RtlAllocateHeapX", false}, {"a*b*c", "axxbyyc", true}} {
		if console.Match(c.p, c.n) != c.ok {
			t.Errorf("Match(%q, %q) != %v", c.p, c.n, c.ok)
		}
	}
}

func TestErrorsAreTyped(t *testing.T) {
	e := console.New(console.Builtins()...)
	env := consoletest.Scenarios()["bare"]()
	run := func(line string) error {
		var b bytes.Buffer
		return e.Exec(t.Context(), env, line, console.NewTextOutput(&b))
	}
	if err := run("nosuch"); !errors.Is(err, console.ErrUnknownCommand) {
		t.Errorf("unknown: %v", err)
	}
	if err := run("k"); !errors.Is(err, console.ErrNotSupported) {
		t.Errorf("k without a stack walker: %v", err)
	}
	for _, c := range []string{"lm", "~", "db 0", "r", ".ecxr", "!address", "!peb", "!teb", "!handle",
		"bt", "thread 1", "thread apply all bt", "info threads", "info registers", "info sharedlibrary", "info proc mappings", "frame 1", "up"} {
		if err := run(c); !errors.Is(err, console.ErrNotSupported) {
			t.Errorf("%s on a bare dump: %v", c, err)
		}
	}
}

func TestTextOutputTable(t *testing.T) {
	var b bytes.Buffer
	out := console.NewTextOutput(&b)
	tb := &console.Table{PtrSize: 8, Columns: []console.Column{{Name: "addr", Kind: console.ColAddr}, {Name: "n", Kind: console.ColUint, Width: 4}, {Name: "what"}}}
	tb.Add(console.Uint(0x7ff600001000), console.Uint(0x2a), console.Str("x"))
	tb.Add(console.Absent(), console.Absent(), console.Str("gone"))
	out.Table(tb)
	out.Link("app!main", console.Location{Addr: 0x7ff600001000, Command: "u app!main"})
	want := "addr               n         what\n" +
		"00007ff6`00001000  002a      x\n" +
		"????????`????????  ????????  gone\n" +
		"app!main"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestEveryCommandHasATranscript(t *testing.T) {
	files, _ := filepath.Glob("testdata/script/*.txt")
	var all strings.Builder
	for _, f := range files {
		b, _ := os.ReadFile(f)
		all.Write(b)
	}
	text := all.String()
	for _, c := range console.Builtins() {
		found := false
		for _, n := range c.Names {
			if n == "~s" {
				n = "s\n"
			}
			if strings.Contains(text, "> "+n) || strings.Contains(text, n) && strings.HasPrefix(n, "s\n") {
				found = true
			}
		}
		if !found {
			t.Errorf("no transcript runs %s", c.Names[0])
		}
	}
}
