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

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// maxOriginDepth bounds the DW_AT_abstract_origin / DW_AT_specification
// chain followed to find a function's name.
const maxOriginDepth = 8

// pageMask rounds the lowest PT_LOAD address down to the page the loader
// maps it in.
const pageMask = 0xfff

// Provider loads symbols from ELF files found by a Finder. It implements
// symbols.Provider.
type Provider struct {
	Finder *Finder
}

// NewProvider returns a provider reading the ELF files f finds: DWARF
// when the file has it, and its .symtab (else .dynsym) functions.
func NewProvider(f *Finder) symbols.Provider { return &Provider{Finder: f} }

// String names the provider.
func (p *Provider) String() string { return "elf" }

// Load finds m's ELF file and reads its symbols. A module without a
// matching file, or a file without DWARF or function symbols, yields an
// error wrapping symbols.ErrNoSymbols; a malformed file yields another
// error.
func (p *Provider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, ok := p.Finder.Find(m)
	if !ok {
		return nil, fmt.Errorf("elf %s: not found: %w", m.Name(), symbols.ErrNoSymbols)
	}
	t, err := Open(path)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Open reads the symbols of the ELF file at path.
func Open(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("elf: %w", err)
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("elf %s: %w", path, err)
	}
	t.path = path
	return t, nil
}

// ReadBytes reads the symbols of an ELF file held in memory.
func ReadBytes(b []byte) (*Table, error) { return Read(bytes.NewReader(b)) }

// Read reads the symbols of the ELF file r: functions and line rows from
// its DWARF when present, and its STT_FUNC symbols from .symtab, else
// .dynsym (used for addresses no DWARF function covers). A file with
// neither yields an error wrapping symbols.ErrNoSymbols. Malformed input
// yields an error, never a panic.
func Read(r io.ReaderAt) (t *Table, err error) {
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
	t = &Table{typ: f.Type, dw: dwarftab.Tables{Base: base}}
	t.buildID, _ = buildID(f)
	t.syms = elfSymbols(f, base)
	var dwarfErr error
	if d, derr := f.DWARF(); derr == nil {
		dwarfErr = t.dw.Read(d)
	}
	if len(t.dw.Funcs) == 0 && len(t.syms) == 0 {
		if dwarfErr != nil {
			return nil, fmt.Errorf("dwarf: %w", dwarfErr)
		}
		return nil, fmt.Errorf("no DWARF functions or ELF function symbols: %w", symbols.ErrNoSymbols)
	}
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

// Table is the symbols of one ELF file. It implements symbols.Table and
// is safe for concurrent use.
type Table struct {
	path    string
	typ     elf.Type
	buildID []byte
	dw      dwarftab.Tables // DWARF functions and lines; Base is the link base (RVA = link-time address − Base)
	syms    []dwarftab.Fn   // ELF function symbols by ascending RVA
}

var _ symbols.Table = (*Table)(nil)

// Source names the table's origin for symbol-status displays.
func (t *Table) Source() string {
	kind := "elf symbols"
	if len(t.dw.Funcs) > 0 {
		kind = "dwarf"
	}
	if t.path == "" {
		return "elf " + kind
	}
	return "elf " + kind + " (" + t.path + ")"
}

// LinkBase returns the link-time address that RVA 0 stands for: the
// lowest PT_LOAD p_vaddr rounded down to a page (0 for most PIEs and
// shared objects, the fixed load address for ET_EXEC).
func (t *Table) LinkBase() uint64 { return t.dw.Base }

// BuildID returns the file's GNU build id, nil when it has none.
func (t *Table) BuildID() []byte { return bytes.Clone(t.buildID) }

// LookupRVA returns the function containing rva (from DWARF, else the ELF
// function symbol containing it) with the source line at rva when the
// DWARF line table has one.
func (t *Table) LookupRVA(rva uint64) (symbols.Symbol, bool) {
	if sym, ok := t.dw.Lookup(rva); ok {
		return sym, true
	}
	f, ok := dwarftab.Containing(t.syms, rva)
	if !ok {
		return symbols.Symbol{}, false
	}
	sym := symbols.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low}
	sym.File, sym.Line = t.dw.LineAt(rva)
	return sym, true
}

// Line returns the source file and line at rva, "" and 0 when the line
// table has nothing there.
func (t *Table) Line(rva uint64) (file string, line int) { return t.dw.LineAt(rva) }

// Symbols yields the DWARF functions and the ELF function symbols that
// start where no DWARF function starts, in ascending RVA order.
func (t *Table) Symbols(yield func(symbols.Symbol) bool) {
	i, j := 0, 0
	funcs := t.dw.Funcs
	for i < len(funcs) || j < len(t.syms) {
		var f dwarftab.Fn
		switch {
		case j >= len(t.syms) || (i < len(funcs) && funcs[i].Low <= t.syms[j].Low):
			f = funcs[i]
			i++
			// ELF symbols at this DWARF function's start name the same code.
			for j < len(t.syms) && t.syms[j].Low == f.Low {
				j++
			}
		default:
			f = t.syms[j]
			j++
		}
		if !yield(symbols.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low}) {
			return
		}
	}
}

// elfSymbols returns the STT_FUNC and STT_GNU_IFUNC symbols of .symtab,
// else .dynsym, defined in executable sections, as RVAs sorted by
// address. Symbols without a size extend to the next symbol or their
// section's end.
func elfSymbols(f *elf.File, base uint64) []dwarftab.Fn {
	syms, err := f.Symbols()
	if err != nil || len(syms) == 0 {
		syms, err = f.DynamicSymbols()
		if err != nil {
			return nil
		}
	}
	var out []dwarftab.Fn
	for _, s := range syms {
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
		out = append(out, dwarftab.Fn{Name: s.Name, Low: low, High: high})
	}
	slices.SortStableFunc(out, func(a, b dwarftab.Fn) int {
		if c := cmp.Compare(a.Low, b.Low); c != 0 {
			return c
		}
		return cmp.Compare(b.High, a.High)
	})
	// Keep one name per address: the largest, then the first in the
	// symbol table.
	out = slices.CompactFunc(out, func(a, b dwarftab.Fn) bool { return a.Low == b.Low })
	// Unsized symbols (and sized ones overlapping the next) end where the
	// next symbol starts.
	for i := range out[:max(len(out)-1, 0)] {
		if out[i+1].Low < out[i].High {
			out[i].High = out[i+1].Low
		}
	}
	return out
}
