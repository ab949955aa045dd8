package symbols_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const appSym = `MODULE windows x86 0123456789ABCDEF0123456789ABCDEF1 app.pdb
FILE 0 c:\src\app.cc
INLINE_ORIGIN 0 Parser::Peek
FUNC 1000 40 0 Parser::Next
1000 20 10 0
1020 20 12 0
INLINE 0 11 0 0 1020 10
FUNC 1100 10 0 main
1100 10 30 0
PUBLIC 2000 0 TableInit
`

var mods = []model.Module{
	{Base: 0x400000, Size: 0x10000, Path: `C:\app\app.exe`},
	{Base: 0x7c800000, Size: 0x100000, Path: `C:\Windows\system32\kernel32.dll`},
	{Base: 0x10000000, Size: 0x1000, Path: "/usr/lib/libfoo.so.1"},
	{Base: 0x400000, Size: 0x1000, Path: `C:\old\gone.dll`, Unloaded: true},
	{Base: 0x20000000, Size: 0x1000, Path: `C:\old\unloaded.dll`, Unloaded: true},
}

func newSet(extra ...symbols.Provider) *symbols.Set {
	ps := append([]symbols.Provider{symbols.FromBreakpadText(map[string]string{
		"app.exe":      appSym,
		"KERNEL32.DLL": "MODULE windows x86 00 kernel32.pdb\nPUBLIC 16fb4 4 BaseProcessStart\n",
		"unloaded.dll": "MODULE windows x86 00 unloaded.pdb\nPUBLIC 0 0 Gone\n",
	})}, extra...)
	return symbols.NewResolver(mods, ps...)
}

func TestLookup(t *testing.T) {
	t.Parallel()
	s := newSet()
	tests := map[string]struct {
		addr uint64
		ok   bool
		want symbols.Symbol
	}{
		"func": {addr: 0x401004, ok: true, want: symbols.Symbol{Name: "Parser::Next", Module: "app.exe", Addr: 0x401000, Size: 0x40, File: `c:\src\app.cc`, Line: 10}},
		"inline": {addr: 0x401024, ok: true, want: symbols.Symbol{Name: "Parser::Next", Module: "app.exe", Addr: 0x401000, Size: 0x40, File: `c:\src\app.cc`, Line: 12,
			Inlined: []symbols.Inline{{Name: "Parser::Peek", File: `c:\src\app.cc`, Line: 12, CallFile: `c:\src\app.cc`, CallLine: 11, Addr: 0x401020}}}},
		"public":          {addr: 0x7c816fd7, ok: true, want: symbols.Symbol{Name: "BaseProcessStart", Module: "kernel32.dll", Addr: 0x7c816fb4}},
		"gap":             {addr: 0x401080},
		"no symbols":      {addr: 0x10000010},
		"outside":         {addr: 0x1234},
		"unloaded module": {addr: 0x20000004, ok: true, want: symbols.Symbol{Name: "Gone", Module: "unloaded.dll", Addr: 0x20000000}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := s.Lookup(tc.addr)
			if ok != tc.ok || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Lookup(%#x) = %+v, %v; want %+v, %v", tc.addr, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	s := newSet()
	tests := map[uint64]string{
		0x401000:   "app!Parser::Next",
		0x40101f:   "app!Parser::Next+0x1f",
		0x401080:   "app+0x1080",
		0x7c816fd7: "kernel32!BaseProcessStart+0x23",
		0x10000010: "libfoo.so.1+0x10",
		0x45:       "0x45",
		0x20000001: "unloaded!Gone+0x1",
	}
	for addr, want := range tests {
		t.Run(want, func(t *testing.T) {
			t.Parallel()
			if got := s.Describe(addr); got != want {
				t.Errorf("Describe(%#x) = %q, want %q", addr, got, want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	t.Parallel()
	s := newSet()
	tests := map[string]struct {
		pattern string
		want    string // "module!name@addr" joined by spaces
		err     error
	}{
		"exact":            {pattern: "app!main", want: "app.exe!main@0x401100"},
		"star":             {pattern: "app!Parser::*", want: "app.exe!Parser::Next@0x401000"},
		"question":         {pattern: "app!mai?", want: "app.exe!main@0x401100"},
		"case insensitive": {pattern: "APP.EXE!MAIN", want: "app.exe!main@0x401100"},
		"all in module":    {pattern: "app!*", want: "app.exe!Parser::Next@0x401000 app.exe!main@0x401100 app.exe!TableInit@0x402000"},
		"module wildcard":  {pattern: "*!*Start*", want: "kernel32.dll!BaseProcessStart@0x7c816fb4"},
		"no module part":   {pattern: "*Init", want: "app.exe!TableInit@0x402000"},
		"no match":         {pattern: "kernel32!nope*"},
		"empty":            {pattern: "", err: symbols.ErrBadPattern},
		"empty module":     {pattern: "!main", err: symbols.ErrBadPattern},
		"two bangs":        {pattern: "a!b!c", err: symbols.ErrBadPattern},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := s.Find(tc.pattern)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Find(%q) error = %v, want %v", tc.pattern, err, tc.err)
			}
			var parts []string
			for _, sym := range got {
				parts = append(parts, fmt.Sprintf("%s!%s@%#x", sym.Module, sym.Name, sym.Addr))
			}
			if strings.Join(parts, " ") != tc.want {
				t.Errorf("Find(%q) = %q, want %q", tc.pattern, strings.Join(parts, " "), tc.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "abc", true}, {"a*c", "abbbc", true}, {"a*c", "abcd", false},
		{"?", "", false}, {"a?c", "abc", true}, {"*b*", "abc", true}, {"**", "x", true},
		{"Nt*File", "NtCreateFile", true}, {"nt*file", "NtCreateFile", true}, {"", "", true}, {"", "a", false},
		{"a*b*c", "aXbYbZc", true}, {"a*b*c", "aXbYbZ", false},
	}
	for _, tc := range tests {
		if got := symbols.Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

type countingProvider struct {
	calls atomic.Int32
	err   error
}

func (p *countingProvider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	p.calls.Add(1)
	return nil, p.err
}

func TestLazyConcurrentLoad(t *testing.T) {
	t.Parallel()
	broken := errors.New("disk on fire")
	first := &countingProvider{err: broken}
	s := symbols.NewResolver(mods, first, symbols.FromBreakpadText(map[string]string{"app.exe": appSym}))
	if s.Loaded("app.exe") {
		t.Fatal("loaded before any lookup")
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				if sym, ok := s.Lookup(0x401004); !ok || sym.Name != "Parser::Next" {
					t.Errorf("Lookup = %+v, %v", sym, ok)
					return
				}
				_ = s.Describe(0x7c816fd7)
			}
		})
	}
	wg.Wait()
	if n := first.calls.Load(); n != 2 { // app.exe and kernel32.dll, once each
		t.Errorf("provider called %d times, want 2", n)
	}
	if !s.Loaded("app.exe") || !s.Loaded("app") || s.Loaded("libfoo.so.1") {
		t.Error("Loaded reports wrong modules")
	}
	src, err := s.Status("app")
	if src != "breakpad text app.exe" || !errors.Is(err, broken) {
		t.Errorf("Status(app) = %q, %v", src, err)
	}
	src, err = s.Status("libfoo.so.1")
	if src != "" || !errors.Is(err, broken) {
		t.Errorf("Status(libfoo.so.1) = %q, %v", src, err)
	}
	if _, err := s.Status("nosuch.dll"); !errors.Is(err, symbols.ErrUnknownModule) {
		t.Errorf("Status(nosuch.dll) = %v", err)
	}
}

func TestNoSymbolsNotRecorded(t *testing.T) {
	t.Parallel()
	p := &countingProvider{err: fmt.Errorf("wrapped: %w", symbols.ErrNoSymbols)}
	s := symbols.NewResolver(mods, p)
	if _, ok := s.Lookup(0x401000); ok {
		t.Error("Lookup found a symbol with no provider")
	}
	if src, err := s.Status("app.exe"); src != "" || err != nil {
		t.Errorf("Status = %q, %v", src, err)
	}
	if got := s.Describe(0x401000); got != "app+0x1000" {
		t.Errorf("Describe = %q", got)
	}
}

func TestFromBreakpadTextBadText(t *testing.T) {
	t.Parallel()
	p := symbols.FromBreakpadText(map[string]string{"app.exe": "garbage"})
	_, err := p.Load(context.Background(), mods[0])
	var fe *breakpad.FormatError
	if !errors.As(err, &fe) {
		t.Errorf("Load = %v, want *breakpad.FormatError", err)
	}
	if _, err := p.Load(context.Background(), mods[1]); !errors.Is(err, symbols.ErrNoSymbols) {
		t.Errorf("Load of an absent module = %v", err)
	}
}

func TestTableAt(t *testing.T) {
	t.Parallel()
	s := newSet()
	m, tab, ok := s.TableAt(0x401000)
	if !ok || m.Name() != "app.exe" {
		t.Fatalf("TableAt = %v, %v", m, ok)
	}
	if _, isBreakpad := tab.(*breakpad.File); !isBreakpad {
		t.Errorf("table is %T", tab)
	}
	if _, tab, ok := s.TableAt(0x10000000); !ok || tab != nil {
		t.Errorf("TableAt(libfoo) = %v, %v", tab, ok)
	}
	if _, _, ok := s.TableAt(1); ok {
		t.Error("TableAt outside modules")
	}
}

// TestMinidump2Modules resolves the oracle frames of minidump2 through a
// Set over the Breakpad symbol directory, as minidump_stackwalk did.
func TestMinidump2Modules(t *testing.T) {
	t.Parallel()
	root := filepath.Join(fixture.CorpusDir(t), "breakpad", "symbols")
	s := symbols.NewResolver([]model.Module{
		{Base: 0x400000, Size: 0x2d000, Path: `c:\test_app.exe`, DebugFile: "test_app.pdb", DebugID: "5A9832E5287241C1838ED98914E9B7FF1"},
		{Base: 0x7c800000, Size: 0xf4000, Path: `C:\WINDOWS\system32\kernel32.dll`, DebugFile: "kernel32.pdb", DebugID: "BCE8785C57B44245A669896B6A19B9542"},
		{Base: 0x7c900000, Size: 0xb0000, Path: `C:\WINDOWS\system32\ntdll.dll`, DebugFile: "ntdll.pdb", DebugID: "36515FB5D04345E491F672FA2E2878C02"},
	}, breakpad.NewDir(root))
	tests := map[uint64]string{ // addresses looked up as Breakpad does: caller frames at return address - 1
		0x0040429e:     "test_app!`anonymous namespace'::CrashFunction+0xe",
		0x00404200 - 1: "test_app!main+0x4f",
		0x004053ec - 1: "test_app!__tmainCRTStartup+0x15e",
		0x7c816fd7 - 1: "kernel32!BaseProcessStart+0x22",
		0x7c910000:     "ntdll+0x10000",
	}
	for addr, want := range tests {
		if got := s.Describe(addr); got != want {
			t.Errorf("Describe(%#x) = %q, want %q", addr, got, want)
		}
	}
	if src, err := s.Status("test_app.exe"); err != nil || !strings.HasSuffix(filepath.ToSlash(src), "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym") {
		t.Errorf("Status = %q, %v", src, err)
	}
}
