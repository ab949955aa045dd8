package elfsym

import (
	"bytes"
	"cmp"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/ctype"
	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// pageMask rounds the lowest PT_LOAD address down to the page the loader
// maps it in.
const pageMask = 0xfff

// Provider loads symbols from ELF files found by a Finder. It implements
// symbols.Provider.
type Provider struct {
	Finder *Finder
	// CacheDir, when set, keeps the compressed DWARF sections of separate
	// debug files inflated there, by build id (see sectionCache).
	CacheDir string

	alts altCache // dwz supplementary files read
}

// NewProvider returns a provider reading the ELF files f finds: the
// module's image and its separate debug file, merged (see Load).
func NewProvider(f *Finder) symbols.Provider { return &Provider{Finder: f} }

// String names the provider.
func (p *Provider) String() string { return "elf" }

// Load finds m's image (Finder.FindContext) and, unless the image has
// DWARF of its own, its separate debug file (Finder.FindDebugContext),
// and reads their symbols merged as OpenPair does. A module with neither
// file, or files without any function symbols, yields an error wrapping
// symbols.ErrNoSymbols; a malformed file yields another error.
func (p *Provider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	image, ok := p.Finder.FindContext(ctx, m)
	if !ok {
		image = ""
	}
	var it *Table
	var imageErr error
	if image != "" {
		it, imageErr = open(image, false, p.CacheDir, p.altFinder(ctx, image))
	}
	// GDB looks for separate debug information only when the objfile has
	// none; an unstripped image needs no debug file (and no download).
	var dt *Table
	var debugErr error
	if it == nil || !it.dw.HasCode() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if debug, ok := p.Finder.FindDebugContext(ctx, m, image); ok {
			dt, debugErr = open(debug, true, p.CacheDir, p.altFinder(ctx, debug))
		}
	}
	if t := merge(it, dt); t != nil {
		return t, nil
	}
	for _, err := range []error{imageErr, debugErr} {
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("elf %s: not found: %w", m.Name(), symbols.ErrNoSymbols)
}

// Open reads the symbols of the ELF file at path.
func Open(path string) (*Table, error) { return open(path, false, "", defaultAlt(path)) }

// open is Open; with readAhead, for a separate debug file (opened because
// an address in its module is being looked up), it starts inflating its
// DWARF as soon as the sections are read, before the symbol tables are
// (see dwarftab.Lazy.ReadAhead).
//
// With cacheDir set, compressed DWARF sections are kept inflated there
// (see sectionCache).
func open(path string, readAhead bool, cacheDir string, alt func(altLink) *dwarftab.Alt) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("elf: %w", err)
	}
	defer f.Close()
	t, err := read(f, readAhead, cacheDir, alt)
	if err != nil {
		return nil, fmt.Errorf("elf %s: %w", path, err)
	}
	t.path = path
	return t, nil
}

// OpenPair reads the symbols of an image and of its separate debug file
// (either path may be "") into one table. The debug file's DWARF and
// .symtab win; the image's DWARF is used when the debug file has none,
// and the image's .symtab (else .dynsym) fills in functions the debug
// file does not cover. A file that fails to read is left out; the error
// is returned only when neither yields a table.
//
// Each file's addresses are taken relative to its own link base: a debug
// file made by objcopy --only-keep-debug keeps the image's program
// headers (its sections become NOBITS), so both bases are the same.
func OpenPair(image, debug string) (*Table, error) {
	var it, dt *Table
	var errs []error
	if image != "" {
		var err error
		if it, err = Open(image); err != nil {
			errs = append(errs, err)
		}
	}
	if debug != "" {
		var err error
		if dt, err = open(debug, true, "", defaultAlt(debug)); err != nil {
			errs = append(errs, err)
		}
	}
	if t := merge(it, dt); t != nil {
		return t, nil
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("elf: no file: %w", symbols.ErrNoSymbols)
	}
	return nil, errors.Join(errs...)
}

// merge combines an image's table with its debug file's; either may be
// nil.
func merge(image, debug *Table) *Table {
	switch {
	case image == nil:
		return debug
	case debug == nil:
		return image
	}
	t := &Table{
		path:      image.path,
		debugPath: debug.path,
		typ:       image.typ,
		buildID:   image.buildID,
		base:      debug.base,
		dw:        debug.dw,
		gosyms:    image.gosyms,
		syms:      fillSymbols(debug.syms, image.syms),
		mini:      image.mini || debug.mini,
	}
	if t.buildID == nil {
		t.buildID = debug.buildID
	}
	if !debug.dw.HasCode() {
		t.dw, t.base = image.dw, image.base
	}
	if t.gosyms == nil {
		t.gosyms = debug.gosyms
	}
	t.all = sync.OnceValue(t.merged)
	return t
}

// fillSymbols returns primary plus the entries of extra that start where
// no primary entry covers, sorted, each cut at the next one's start.
func fillSymbols(primary, extra []dwarftab.Fn) []dwarftab.Fn {
	if len(extra) == 0 {
		return primary
	}
	out := slices.Clone(primary)
	for _, f := range extra {
		if _, ok := dwarftab.Containing(primary, f.Low); !ok {
			out = append(out, f)
		}
	}
	sortFns(out)
	clampFns(out)
	return out
}

// altFinder returns the function that finds and reads the supplementary
// file of the ELF file at path, through the provider's Finder and cache.
func (p *Provider) altFinder(ctx context.Context, path string) func(altLink) *dwarftab.Alt {
	return func(link altLink) *dwarftab.Alt {
		alt, ok := p.Finder.findAlt(ctx, link, path)
		if !ok {
			return nil
		}
		return p.alts.get(alt)
	}
}

// defaultAlt finds the supplementary file of the ELF file at path where
// GDB looks by default (beside it, /usr/lib/debug): a provider without a
// Finder.
func defaultAlt(path string) func(altLink) *dwarftab.Alt {
	return (&Provider{}).altFinder(context.Background(), path)
}

// ReadBytes reads the symbols of an ELF file held in memory.
func ReadBytes(b []byte) (*Table, error) { return Read(bytes.NewReader(b)) }

// Read reads the symbols of the ELF file r: functions and line rows from
// its DWARF when present, functions and lines from a Go .gopclntab, and
// its STT_FUNC symbols from .symtab, else .dynsym, demangled. A file with
// none of these yields an error wrapping symbols.ErrNoSymbols. Malformed
// input yields an error, never a panic.
//
// DWARF is read lazily, unit by unit as lookups need it (see
// dwarftab.Lazy): Read reads only the sections' stored bytes, so r need
// not stay open.
func Read(r io.ReaderAt) (*Table, error) { return read(r, false, "", nil) }

func read(r io.ReaderAt, readAhead bool, cacheDir string, alt func(altLink) *dwarftab.Alt) (t *Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("malformed ELF: %v", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	base, ok := linkBase(f)
	if !ok {
		return nil, errors.New("no PT_LOAD segment")
	}
	t = &Table{typ: f.Type, base: base}
	t.buildID, _ = buildID(f)
	t.dw = lazyDWARF(f, r, base, newSectionCache(cacheDir, t.buildID))
	if link, ok := readAltLink(f); ok && alt != nil && t.dw != nil {
		t.dw.SetAlt(alt(link))
	}
	if readAhead {
		t.dw.ReadAhead()
	}
	t.syms = elfSymbols(f, base)
	if mini := miniDebugInfo(f, base); len(mini) > 0 {
		// The mini table has the functions .dynsym lacks, with sizes;
		// .dynsym fills in the exported ones.
		t.syms = fillSymbols(mini, t.syms)
		t.mini = true
	}
	t.gosyms = readGopclntab(f, base)
	if len(t.syms) == 0 && t.gosyms == nil && !t.dw.HasCode() {
		if err := t.dw.Err(); err != nil {
			return nil, fmt.Errorf("dwarf: %w", err)
		}
		return nil, fmt.Errorf("no DWARF functions, Go pclntab or ELF function symbols: %w", symbols.ErrNoSymbols)
	}
	t.all = sync.OnceValue(t.merged)
	return t, nil
}

// linkBase returns the link-time address of the module's base: the
// lowest PT_LOAD p_vaddr rounded down to a 4 KiB page.
func linkBase(f *elf.File) (uint64, bool) {
	var base uint64
	found := false
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if !found || p.Vaddr < base {
			base, found = p.Vaddr, true
		}
	}
	if !found {
		// A separate debug file keeps its program headers; a relocatable
		// object has none and its addresses are section-relative.
		if f.Type == elf.ET_REL {
			return 0, true
		}
		return 0, false
	}
	return base &^ pageMask, true
}

// Table is the symbols of one module, from its image, its separate debug
// file or both. It implements symbols.Table and is safe for concurrent
// use.
type Table struct {
	path      string // the image, or the only file read
	debugPath string // the separate debug file merged in, if any
	typ       elf.Type
	buildID   []byte
	base      uint64         // the link base: RVA = link-time address − base
	dw        *dwarftab.Lazy // DWARF functions and lines, nil without DWARF
	gosyms    *goTable       // Go .gopclntab functions, nil without one
	syms      []dwarftab.Fn  // ELF function symbols by ascending RVA
	mini      bool           // syms include .gnu_debugdata's (MiniDebugInfo)
	all       func() []dwarftab.Fn
	types     typesOnce // the DWARF types, indexed on the first dt
}

// typesOnce builds a table's DWARF types once.
type typesOnce struct {
	once sync.Once
	ty   *dwarftab.Types
	err  error
}

// Types returns the module's DWARF types (for dt); they are indexed on
// the first call, one pass over .debug_info.
func (t *Table) Types() (ctype.Source, error) {
	t.types.once.Do(func() {
		if !t.dw.HasCode() {
			t.types.err = fmt.Errorf("elf %s: no DWARF: %w", t.path, symbols.ErrNoTypes)
			return
		}
		d, err := t.dw.Data()
		if err != nil {
			t.types.err = err
			return
		}
		t.types.ty = dwarftab.NewTypes(d)
	})
	if t.types.err != nil {
		return nil, t.types.err
	}
	return t.types.ty, nil
}

var _ symbols.Table = (*Table)(nil)

// Source names the table's origin for symbol-status displays.
func (t *Table) Source() string {
	kind := "elf symbols"
	switch {
	case t.mini && !t.dw.HasCode() && t.gosyms == nil:
		kind = "elf symbols with minidebuginfo"
	case t.dw.HasCode():
		kind = "dwarf"
	case t.gosyms != nil:
		kind = "go pclntab"
	}
	switch {
	case t.path == "" && t.debugPath == "":
		return "elf " + kind
	case t.debugPath == "":
		return "elf " + kind + " (" + t.path + ")"
	}
	return "elf " + kind + " (" + t.path + " + " + t.debugPath + ")"
}

// Path returns the image file read (the only file when there was no
// separate debug file), "" for a table read from memory.
func (t *Table) Path() string { return t.path }

// DebugPath returns the separate debug file merged in, "" when none was.
func (t *Table) DebugPath() string { return t.debugPath }

// LinkBase returns the link-time address that RVA 0 stands for: the
// lowest PT_LOAD p_vaddr rounded down to a page (0 for most PIEs and
// shared objects, the fixed load address for ET_EXEC).
func (t *Table) LinkBase() uint64 { return t.base }

// BuildID returns the file's GNU build id, nil when it has none.
func (t *Table) BuildID() []byte { return bytes.Clone(t.buildID) }

// LookupRVA returns the function containing rva, from DWARF, else the Go
// pclntab, else the ELF symbol table, with the source line at rva when
// DWARF or the pclntab has one.
func (t *Table) LookupRVA(rva uint64) (symbols.Symbol, bool) {
	if sym, ok := t.dw.Lookup(rva); ok {
		return sym, true
	}
	if f, file, line, ok := t.gosyms.lookup(rva); ok {
		return symbols.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low, File: file, Line: line}, true
	}
	f, ok := dwarftab.Containing(t.syms, rva)
	if !ok {
		return symbols.Symbol{}, false
	}
	sym := symbols.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low}
	sym.File, sym.Line = t.Line(rva)
	return sym, true
}

// Line returns the source file and line at rva, "" and 0 when neither the
// DWARF line table nor the Go pclntab has anything there.
func (t *Table) Line(rva uint64) (file string, line int) {
	if file, line = t.dw.LineAt(rva); line != 0 || file != "" {
		return file, line
	}
	return t.gosyms.line(rva)
}

// Symbols yields the DWARF functions, then the Go pclntab and ELF
// function symbols that start where nothing before them starts, in
// ascending RVA order.
func (t *Table) Symbols(yield func(symbols.Symbol) bool) {
	var all []dwarftab.Fn
	if t.all != nil {
		all = t.all()
	} else {
		all = t.merged()
	}
	for _, f := range all {
		if !yield(symbols.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low}) {
			return
		}
	}
}

// merged returns one function per start address, DWARF first, then the
// pclntab, then the ELF symbols.
func (t *Table) merged() []dwarftab.Fn {
	var gofuncs []dwarftab.Fn
	if t.gosyms != nil {
		gofuncs = t.gosyms.funcs
	}
	dwfuncs := t.dw.Funcs()
	out := make([]dwarftab.Fn, 0, len(dwfuncs)+len(gofuncs)+len(t.syms))
	out = append(out, dwfuncs...)
	out = append(out, gofuncs...)
	out = append(out, t.syms...)
	// A stable sort by start keeps the sources in priority order.
	slices.SortStableFunc(out, func(a, b dwarftab.Fn) int { return cmp.Compare(a.Low, b.Low) })
	return slices.CompactFunc(out, func(a, b dwarftab.Fn) bool { return a.Low == b.Low })
}

// elfSymbols returns the STT_FUNC and STT_GNU_IFUNC symbols of .symtab,
// else .dynsym, defined in executable sections, demangled, as RVAs sorted
// by address. Symbols without a size extend to the next symbol or their
// section's end. Of several symbols at one address the largest is kept,
// then, as GDB prefers, a global or weak one over a local one, then the
// last in the table (GDB names clone3, not __clone3, in glibc).
func elfSymbols(f *elf.File, base uint64) []dwarftab.Fn {
	syms, err := f.Symbols()
	if err != nil || len(syms) == 0 {
		syms, err = f.DynamicSymbols()
		if err != nil {
			return nil
		}
	}
	// Candidates are kept small (names stay in syms): sorting libc's
	// .symtab moved 56-byte structs for a millisecond.
	type cand struct {
		low, high uint64
		index     int32
		global    bool
	}
	var cands []cand
	for i, s := range syms {
		typ := elf.ST_TYPE(s.Info)
		if typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC {
			continue
		}
		if s.Name == "" || s.Value == 0 || s.Value < base {
			continue
		}
		if s.Section == elf.SHN_UNDEF || s.Section >= elf.SHN_LORESERVE || int(s.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.Section]
		if sec.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		low := s.Value - base
		high := low + s.Size
		if s.Size == 0 || high < low {
			if end := sec.Addr + sec.Size; end > s.Value && sec.Addr >= base {
				high = end - base
			} else {
				high = low + 1
			}
		}
		bind := elf.ST_BIND(s.Info)
		cands = append(cands, cand{
			low:    low,
			high:   high,
			global: bind == elf.STB_GLOBAL || bind == elf.STB_WEAK,
			index:  int32(i),
		})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(a.low, b.low); c != 0 {
			return c
		}
		if c := cmp.Compare(b.high, a.high); c != 0 {
			return c
		}
		if a.global != b.global {
			if a.global {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.index, a.index)
	})
	cands = slices.CompactFunc(cands, func(a, b cand) bool { return a.low == b.low })
	out := make([]dwarftab.Fn, len(cands))
	for i, c := range cands {
		out[i] = dwarftab.Fn{Name: symbolName(syms[c.index].Name), Low: c.low, High: c.high}
	}
	clampFns(out)
	return out
}

// sortFns sorts by start, larger first at one start.
func sortFns(fs []dwarftab.Fn) {
	slices.SortStableFunc(fs, func(a, b dwarftab.Fn) int {
		if c := cmp.Compare(a.Low, b.Low); c != 0 {
			return c
		}
		return cmp.Compare(b.High, a.High)
	})
}

// clampFns ends each entry of sorted fs where the next one starts, so
// unsized symbols (and sized ones overlapping the next) do not claim the
// next function's code.
func clampFns(fs []dwarftab.Fn) {
	for i := range fs[:max(len(fs)-1, 0)] {
		if fs[i+1].Low < fs[i].High {
			fs[i].High = fs[i+1].Low
		}
	}
}
