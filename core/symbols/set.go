package symbols

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/ctype"
)

// Set is the Resolver of one target: its modules and the providers that
// load their symbols. Each module's Table is loaded on the first question
// about that module, from the first provider that has symbols for it, and
// kept. A Set is safe for concurrent use.
type Set struct {
	mods      []model.Module // loaded modules sorted by base, then unloaded ones
	nLoaded   int
	providers []Provider
	ents      []entry
	ctx       atomic.Pointer[context.Context] // for loads; see SetContext
}

type entry struct {
	mu     sync.Mutex    // held while loading
	done   chan struct{} // closed after load; lets Loaded peek without blocking
	tab    Table
	source string
	err    error
}

// NewResolver returns a Set over mods. Providers are asked in order;
// unloaded modules are only consulted for addresses no loaded module
// covers.
func NewResolver(mods []model.Module, providers ...Provider) *Set {
	var loaded, unloaded []model.Module
	for _, m := range mods {
		if m.Unloaded {
			unloaded = append(unloaded, m)
		} else {
			loaded = append(loaded, m)
		}
	}
	slices.SortStableFunc(loaded, func(a, b model.Module) int {
		switch {
		case a.Base < b.Base:
			return -1
		case a.Base > b.Base:
			return 1
		}
		return 0
	})
	s := &Set{mods: append(loaded, unloaded...), nLoaded: len(loaded), providers: slices.Clone(providers)}
	s.ents = make([]entry, len(s.mods))
	for i := range s.ents {
		s.ents[i].done = make(chan struct{})
	}
	return s
}

var _ Resolver = (*Set)(nil)

// Modules returns the modules, loaded ones in ascending base order first.
func (s *Set) Modules() []model.Module { return slices.Clone(s.mods) }

// moduleAt returns the index of the module containing addr, or -1.
func (s *Set) moduleAt(addr uint64) int {
	loaded := s.mods[:s.nLoaded]
	i, _ := slices.BinarySearchFunc(loaded, addr, func(m model.Module, a uint64) int {
		if m.Base > a {
			return 1
		}
		return -1
	})
	// i is the first module with Base > addr; overlapping images are
	// malformed but possible, so look back a few.
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if loaded[j].Contains(addr) {
			return j
		}
	}
	for j := s.nLoaded; j < len(s.mods); j++ {
		if s.mods[j].Contains(addr) {
			return j
		}
	}
	return -1
}

// SetContext sets the context later loads run under: its cancellation
// stops them (a cancelled load is tried again by the next question), and
// its trace and progress functions (WithTrace, WithProgress) hear from
// them. Loads run under context.Background() until it is called.
func (s *Set) SetContext(ctx context.Context) { s.ctx.Store(&ctx) }

func (s *Set) context() context.Context {
	if p := s.ctx.Load(); p != nil {
		return *p
	}
	return context.Background()
}

// load returns module i's table, loading it on first use.
func (s *Set) load(i int) Table {
	e := &s.ents[i]
	select {
	case <-e.done:
		return e.tab
	default:
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.done: // loaded while this call waited
		return e.tab
	default:
	}
	ctx := s.context()
	if ctx.Err() != nil {
		return nil // cancelled: leave it for the next question
	}
	m := s.mods[i]
	Tracef(ctx, "%s: loading symbols", m.Name())
	var errs []error
	for _, p := range s.providers {
		tab, err := p.Load(ctx, m)
		if ctx.Err() != nil {
			Tracef(ctx, "%s: cancelled", m.Name())
			return nil
		}
		if err != nil {
			// Plain absences are no news; a mismatched file is, as are
			// real failures.
			if _, mismatch := errors.AsType[*MismatchError](err); mismatch || !errors.Is(err, ErrNoSymbols) {
				errs = append(errs, err)
			}
			Tracef(ctx, "%s: %s", m.Name(), strings.TrimSuffix(err.Error(), ": "+ErrNoSymbols.Error()))
			continue
		}
		if tab == nil {
			continue
		}
		e.tab, e.source = tab, sourceOf(p, tab)
		break
	}
	e.err = errors.Join(errs...)
	if e.tab != nil {
		Tracef(ctx, "%s: %s", m.Name(), e.source)
	} else {
		Tracef(ctx, "%s: no symbols", m.Name())
	}
	close(e.done)
	return e.tab
}

// LoadAll loads every loaded module's symbols now (WinDbg's .reload /f),
// a few modules at a time (symbol servers are slow, not busy), calling
// each as a module finishes, from one goroutine at a time; it stops when
// ctx ends, leaving the modules not reached deferred.
func (s *Set) LoadAll(ctx context.Context, each func(m model.Module, source string, err error)) error {
	prev := s.context()
	s.SetContext(ctx)
	defer s.SetContext(prev)
	const workers = 4
	next := make(chan int)
	var mu sync.Mutex // serialises each
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				s.load(i)
				if ctx.Err() != nil {
					continue
				}
				if each != nil {
					mu.Lock()
					each(s.mods[i], s.ents[i].source, s.ents[i].err)
					mu.Unlock()
				}
			}
		})
	}
feed:
	for i := range s.nLoaded {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}

func sourceOf(p Provider, t Table) string {
	if s, ok := t.(interface{ Source() string }); ok && t != nil {
		return s.Source()
	}
	if s, ok := p.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", p)
}

func (s *Set) index(module string) int {
	for i, m := range s.mods {
		if strings.EqualFold(m.Name(), module) || strings.EqualFold(ShortName(m.Name()), module) || isKernel(m.Name()) && strings.EqualFold(module, "nt") {
			return i
		}
	}
	return -1
}

// isKernel reports whether name is a Windows kernel image, which WinDbg
// calls nt whichever of them it is (nt!_EPROCESS, nt!KeBugCheckEx).
func isKernel(name string) bool {
	switch strings.ToLower(name) {
	case "ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe":
		return true
	}
	return false
}

// Status loads the named module's symbols if needed and reports where they
// came from ("" when no provider had any) and the errors providers other
// than "no symbols" returned (mismatched files, as *MismatchError,
// included), joined, for lm and !sym noisy; a module may have symbols
// from one provider and an error from another. A module the
// Set does not know yields ErrUnknownModule.
func (s *Set) Status(module string) (source string, err error) {
	i := s.index(module)
	if i < 0 {
		return "", fmt.Errorf("symbols: %q: %w", module, ErrUnknownModule)
	}
	s.load(i)
	e := &s.ents[i]
	return e.source, e.err
}

// Loaded reports whether the named module's symbols have been loaded (or
// their loading attempted) yet, without loading them: lm shows the others
// as "(deferred)".
func (s *Set) Loaded(module string) bool {
	i := s.index(module)
	if i < 0 {
		return false
	}
	select {
	case <-s.ents[i].done:
		return true
	default:
		return false
	}
}

// ErrUnknownModule says a module name matches no module of the Set.
var ErrUnknownModule = errors.New("symbols: no such module")

// ErrBadPattern says a Find pattern is malformed.
var ErrBadPattern = errors.New("symbols: bad pattern")

// TableAt returns the module containing addr and its Table (loading it),
// for callers that need more than names, such as the unwinder asking a
// *breakpad.File for CFI. The Table is nil when no provider had symbols.
func (s *Set) TableAt(addr uint64) (model.Module, Table, bool) {
	i := s.moduleAt(addr)
	if i < 0 {
		return model.Module{}, nil, false
	}
	return s.mods[i], s.load(i), true
}

// Lookup returns the symbol containing addr with absolute addresses and
// the module's file name; ok is false when addr is outside every module or
// nothing in its module's symbols names it (Describe then still gives
// "module+0x...").
func (s *Set) Lookup(addr uint64) (Symbol, bool) {
	i := s.moduleAt(addr)
	if i < 0 {
		return Symbol{}, false
	}
	tab := s.load(i)
	if tab == nil {
		return Symbol{}, false
	}
	m := s.mods[i]
	sym, ok := tab.LookupRVA(addr - m.Base)
	if !ok {
		return Symbol{}, false
	}
	return absolute(sym, m), true
}

func absolute(sym Symbol, m model.Module) Symbol {
	sym.Module = m.Name()
	sym.Addr += m.Base
	if len(sym.Inlined) > 0 {
		sym.Inlined = slices.Clone(sym.Inlined)
		for k := range sym.Inlined {
			sym.Inlined[k].Addr += m.Base
		}
	}
	return sym
}

// ShortName returns the name WinDbg uses for a module: the file name
// without a Windows image extension (".dll", ".exe", ".sys", ...), so
// "ntdll.dll" → "ntdll"; other names ("libc.so.6") are kept whole.
func ShortName(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		switch strings.ToLower(name[i:]) {
		case ".dll", ".exe", ".sys", ".drv", ".ocx", ".cpl", ".efi", ".scr", ".com", ".ko":
			return name[:i]
		}
	}
	return name
}

// Describe formats addr as WinDbg does: "module!Function+0x1f" (no offset
// when addr is the symbol's start), "module+0x1234" when nothing in the
// module's symbols names it, and "0x7ffe0000" outside every module.
func (s *Set) Describe(addr uint64) string {
	i := s.moduleAt(addr)
	if i < 0 {
		return fmt.Sprintf("0x%x", addr)
	}
	m := s.mods[i]
	mod := ShortName(m.Name())
	if sym, ok := s.Lookup(addr); ok && sym.Name != "" {
		if addr == sym.Addr {
			return mod + "!" + sym.Name
		}
		return fmt.Sprintf("%s!%s+0x%x", mod, sym.Name, addr-sym.Addr)
	}
	return fmt.Sprintf("%s+0x%x", mod, addr-m.Base)
}

// Find returns the symbols matching a WinDbg pattern "module!name", where
// both parts may hold * (any run) and ? (any one character), matched
// without regard to case; a pattern without "!" searches every module.
// Modules whose name (or short name) matches are loaded. Results are in
// ascending address order with absolute addresses.
func (s *Set) Find(pattern string) ([]Symbol, error) {
	modPat, namePat, ok := strings.Cut(pattern, "!")
	if !ok {
		modPat, namePat = "*", pattern
	}
	if modPat == "" || namePat == "" || strings.Contains(namePat, "!") {
		return nil, fmt.Errorf("symbols: %q: %w", pattern, ErrBadPattern)
	}
	var out []Symbol
	for i, m := range s.mods[:s.nLoaded] {
		if !Match(modPat, m.Name()) && !Match(modPat, ShortName(m.Name())) && !(isKernel(m.Name()) && Match(modPat, "nt")) {
			continue
		}
		tab := s.load(i)
		if tab == nil {
			continue
		}
		for sym := range tab.Symbols {
			if Match(namePat, sym.Name) {
				out = append(out, absolute(sym, m))
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Symbol) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	return out, nil
}

// Match reports whether s matches the WinDbg wildcard pattern: * matches
// any run of characters, ? any single character, and letters match
// regardless of case.
func Match(pattern, s string) bool {
	p, t := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// ErrNoTypes says a module's symbols hold no type information (export
// tables, Breakpad files and public-only PDBs have none).
var ErrNoTypes = errors.New("symbols: no type information")

// Types returns the type information of the named module, loading its
// symbols if needed. Tables that carry types implement
// interface{ Types() (ctype.Source, error) } (PDBs with a TPI stream).
func (s *Set) Types(module string) (ctype.Source, error) {
	i := s.index(module)
	if i < 0 {
		return nil, fmt.Errorf("symbols: %q: %w", module, ErrUnknownModule)
	}
	tab := s.load(i)
	tt, ok := tab.(interface{ Types() (ctype.Source, error) })
	if !ok {
		src := s.ents[i].source
		if tab == nil {
			src = "no symbols"
		}
		return nil, fmt.Errorf("%s (%s): %w", s.mods[i].Name(), src, ErrNoTypes)
	}
	return tt.Types()
}

// Global returns the type and absolute address of the global variable
// name in module (for dt module!variable), when the module's symbols
// carry typed data (PDBs implement GlobalType).
func (s *Set) Global(module, name string) (*ctype.Type, uint64, bool) {
	i := s.index(module)
	if i < 0 {
		return nil, 0, false
	}
	g, ok := s.load(i).(interface {
		GlobalType(name string) (*ctype.Type, uint64, bool)
	})
	if !ok {
		return nil, 0, false
	}
	t, rva, ok := g.GlobalType(name)
	if !ok || t == nil {
		return nil, 0, false
	}
	return t, s.mods[i].Base + rva, true
}
