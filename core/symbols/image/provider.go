package image

import (
	"bytes"
	"cmp"
	"context"
	"debug/dwarf"
	"debug/pe"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// Section characteristics marking code (IMAGE_SCN_CNT_CODE,
// IMAGE_SCN_MEM_EXECUTE).
const (
	scnCode    = 0x00000020
	scnExecute = 0x20000000
)

// COFF symbol storage classes and the function type.
const (
	classExternal = 2
	classStatic   = 3
	typeFunction  = 0x20
)

// maxOriginDepth bounds the DW_AT_abstract_origin / DW_AT_specification
// chain followed to find a function's name.

// Provider loads symbols from module images found by a Finder. It
// implements symbols.Provider.
type Provider struct {
	Finder *Finder
}

// NewProvider returns a provider reading the images f finds: DWARF when
// the image has it, else its COFF symbol table.
func NewProvider(f *Finder) symbols.Provider { return &Provider{Finder: f} }

// String names the provider.
func (p *Provider) String() string { return "pe image" }

// Load finds m's image and reads its symbols. A module without a matching
// image, or an image without DWARF or COFF symbols, yields an error
// wrapping symbols.ErrNoSymbols; a malformed image yields another error.
func (p *Provider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	path, ok := p.Finder.FindContext(ctx, m)
	if !ok {
		return nil, fmt.Errorf("pe image %s: not found: %w", m.Name(), symbols.ErrNoSymbols)
	}
	t, err := Open(path)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Open reads the symbols of the PE image at path.
func Open(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pe image: %w", err)
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("pe image %s: %w", path, err)
	}
	t.path = path
	return t, nil
}

// ReadBytes reads the symbols of a PE image held in memory.
func ReadBytes(b []byte) (*Table, error) { return Read(bytes.NewReader(b)) }

// Read reads the symbols of the PE image r: functions and line rows from
// its DWARF when present, and its COFF symbols (used for addresses no DWARF
// function covers). An image with neither yields an error wrapping
// symbols.ErrNoSymbols. Malformed input yields an error, never a panic.
func Read(r io.ReaderAt) (t *Table, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("malformed image: %v", p)
		}
	}()
	f, err := pe.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	base, ok := imageBase(f)
	if !ok {
		return nil, errors.New("no optional header")
	}
	t = &Table{dw: dwarftab.Tables{Base: base}}
	t.coff = coffSymbols(f)
	if d, derr := f.DWARF(); derr == nil {
		if err := t.dw.Read(d); err != nil && len(t.dw.Funcs) == 0 && len(t.dw.Lines) == 0 {
			if len(t.coff) == 0 {
				return nil, fmt.Errorf("dwarf: %w", err)
			}
		}
	}
	if len(t.dw.Funcs) == 0 && len(t.coff) == 0 {
		return nil, fmt.Errorf("no DWARF functions or COFF symbols: %w", symbols.ErrNoSymbols)
	}
	return t, nil
}

// Table is the symbols of one image. It implements symbols.Table and is
// safe for concurrent use.
type Table struct {
	path string
	dw   dwarftab.Tables // DWARF functions and lines; Base is the ImageBase
	coff []dwarftab.Fn   // COFF symbols by ascending RVA, sized to the next one
}

var _ symbols.Table = (*Table)(nil)

type fn struct {
	name      string
	low, high uint64       // RVAs, high exclusive
	die       dwarf.Offset // the DW_TAG_subprogram; 0 for COFF symbols
}

// row starts a line range at rva; end marks the end of a sequence.
type row struct {
	rva  uint64
	file string
	line int
	end  bool
}

// Source names the table's origin for symbol-status displays.
func (t *Table) Source() string {
	kind := "coff symbols"
	if len(t.dw.Funcs) > 0 {
		kind = "dwarf"
	}
	if t.path == "" {
		return "pe image " + kind
	}
	return "pe image " + kind + " (" + t.path + ")"
}

// ImageBase returns the image's preferred base, which DWARF addresses are
// relative to.
func (t *Table) ImageBase() uint64 { return t.dw.Base }

// LookupRVA returns the function containing rva (from DWARF, else the COFF
// symbol at or before it in the same section) with the source line at rva
// when the DWARF line table has one.
func (t *Table) LookupRVA(rva uint64) (symbols.Symbol, bool) {
	if sym, ok := t.dw.Lookup(rva); ok {
		return sym, true
	}
	f, ok := dwarftab.Containing(t.coff, rva)
	if !ok {
		return symbols.Symbol{}, false
	}
	sym := symbols.Symbol{Name: f.Name, Addr: f.Low}
	sym.File, sym.Line = t.dw.LineAt(rva)
	return sym, true
}

// Line returns the source file and line at rva, "" and 0 when the line
// table has nothing there.
func (t *Table) Line(rva uint64) (file string, line int) { return t.dw.LineAt(rva) }

// Symbols yields the DWARF functions, or the COFF symbols when there are
// none, in ascending RVA order.
func (t *Table) Symbols(yield func(symbols.Symbol) bool) {
	if len(t.dw.Funcs) > 0 {
		for _, f := range t.dw.Funcs {
			if !yield(symbols.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low}) {
				return
			}
		}
		return
	}
	for _, f := range t.coff {
		if !yield(symbols.Symbol{Name: f.Name, Addr: f.Low}) {
			return
		}
	}
}

// coffSymbols returns the image's COFF symbols in code sections, sorted
// by RVA, each extending to the next symbol or its section's end.
func coffSymbols(f *pe.File) []dwarftab.Fn {
	var out []dwarftab.Fn
	for _, s := range f.Symbols {
		if s.SectionNumber < 1 || int(s.SectionNumber) > len(f.Sections) {
			continue
		}
		if s.StorageClass != classExternal && !(s.StorageClass == classStatic && s.Type&0xf0 == typeFunction) {
			continue
		}
		if s.Name == "" || strings.HasPrefix(s.Name, ".") {
			continue
		}
		sec := f.Sections[s.SectionNumber-1]
		if sec.Characteristics&(scnCode|scnExecute) == 0 || s.Value >= max(sec.VirtualSize, sec.Size) {
			continue
		}
		low := uint64(sec.VirtualAddress) + uint64(s.Value)
		out = append(out, dwarftab.Fn{Name: s.Name, Low: low, High: uint64(sec.VirtualAddress) + uint64(max(sec.VirtualSize, sec.Size))})
	}
	slices.SortStableFunc(out, func(a, b dwarftab.Fn) int { return cmp.Compare(a.Low, b.Low) })
	out = slices.CompactFunc(out, func(a, b dwarftab.Fn) bool { return a.Low == b.Low })
	for i := range out[:max(len(out)-1, 0)] {
		if out[i+1].Low < out[i].High {
			out[i].High = out[i+1].Low
		}
	}
	return out
}
