package image

import (
	"bytes"
	"context"
	"debug/dwarf"
	"debug/pe"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
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
const maxOriginDepth = 8

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
	path, ok := p.Finder.Find(m)
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
	t = &Table{base: base}
	t.coff = coffSymbols(f)
	if d, derr := f.DWARF(); derr == nil {
		if err := t.readDWARF(d); err != nil && len(t.funcs) == 0 && len(t.lines) == 0 {
			if len(t.coff) == 0 {
				return nil, fmt.Errorf("dwarf: %w", err)
			}
		}
	}
	if len(t.funcs) == 0 && len(t.coff) == 0 {
		return nil, fmt.Errorf("no DWARF functions or COFF symbols: %w", symbols.ErrNoSymbols)
	}
	return t, nil
}

// Table is the symbols of one image. It implements symbols.Table and is
// safe for concurrent use.
type Table struct {
	path  string
	base  uint64 // ImageBase: DWARF addresses are base + RVA
	funcs []fn   // DWARF functions by ascending start, then larger first
	lines []row  // line rows by ascending RVA
	coff  []fn   // COFF symbols by ascending RVA, sized to the next one
	// inlines holds each DWARF function's inlined calls, by the
	// function's DIE offset.
	inlines map[dwarf.Offset][]inl
}

// inl is one range of an inlined call; depth 1 is called by the function
// itself, depth 2 by a depth-1 inline, and so on.
type inl struct {
	name      string
	low, high uint64
	depth     int
	callFile  string
	callLine  int
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
	if len(t.funcs) > 0 {
		kind = "dwarf"
	}
	if t.path == "" {
		return "pe image " + kind
	}
	return "pe image " + kind + " (" + t.path + ")"
}

// ImageBase returns the image's preferred base, which DWARF addresses are
// relative to.
func (t *Table) ImageBase() uint64 { return t.base }

// LookupRVA returns the function containing rva (from DWARF, else the COFF
// symbol at or before it in the same section) with the source line at rva
// when the DWARF line table has one.
func (t *Table) LookupRVA(rva uint64) (symbols.Symbol, bool) {
	var sym symbols.Symbol
	var inls []inl
	if f, ok := containing(t.funcs, rva); ok {
		sym = symbols.Symbol{Name: f.name, Addr: f.low, Size: f.high - f.low}
		inls = t.inlines[f.die]
	} else if f, ok := containing(t.coff, rva); ok {
		sym = symbols.Symbol{Name: f.name, Addr: f.low}
	} else {
		return symbols.Symbol{}, false
	}
	sym.File, sym.Line = t.lineAt(rva)
	sym.Inlined = inlinedAt(inls, rva, sym.File, sym.Line)
	return sym, true
}

// inlinedAt returns the chain of inlined calls at rva, innermost first:
// the innermost is at the line record (file, line), each outer one at the
// call site of the one inside it.
func inlinedAt(inls []inl, rva uint64, file string, line int) []symbols.Inline {
	var chain []inl
	for _, in := range inls {
		if rva < in.low || rva >= in.high {
			continue
		}
		dup := false
		for _, c := range chain {
			dup = dup || c.depth == in.depth
		}
		if !dup {
			chain = append(chain, in)
		}
	}
	if len(chain) == 0 {
		return nil
	}
	slices.SortFunc(chain, func(a, b inl) int { return b.depth - a.depth })
	out := make([]symbols.Inline, len(chain))
	for k, in := range chain {
		out[k] = symbols.Inline{Name: in.name, File: file, Line: line, CallFile: in.callFile, CallLine: in.callLine, Addr: in.low}
		file, line = in.callFile, in.callLine
	}
	return out
}

// Line returns the source file and line at rva, "" and 0 when the line
// table has nothing there.
func (t *Table) Line(rva uint64) (file string, line int) { return t.lineAt(rva) }

// Symbols yields the DWARF functions, or the COFF symbols when there are
// none, in ascending RVA order.
func (t *Table) Symbols(yield func(symbols.Symbol) bool) {
	if len(t.funcs) > 0 {
		for _, f := range t.funcs {
			if !yield(symbols.Symbol{Name: f.name, Addr: f.low, Size: f.high - f.low}) {
				return
			}
		}
		return
	}
	for _, f := range t.coff {
		if !yield(symbols.Symbol{Name: f.name, Addr: f.low}) {
			return
		}
	}
}

// containing returns the entry of fs (sorted by low) containing rva,
// preferring the one starting last (the innermost of nested ranges).
func containing(fs []fn, rva uint64) (fn, bool) {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].low > rva })
	for j := i - 1; j >= 0 && j >= i-32; j-- {
		if rva >= fs[j].low && rva < fs[j].high {
			return fs[j], true
		}
	}
	return fn{}, false
}

func (t *Table) lineAt(rva uint64) (string, int) {
	i := sort.Search(len(t.lines), func(i int) bool { return t.lines[i].rva > rva }) - 1
	if i < 0 || t.lines[i].end {
		return "", 0
	}
	return t.lines[i].file, t.lines[i].line
}

// readDWARF indexes the subprograms and line tables of d. It keeps what it
// read before an error.
func (t *Table) readDWARF(d *dwarf.Data) error {
	// scope is what encloses the entries being read: the function (0 for
	// none) and how many inlined calls deep they are.
	type scope struct {
		fn    dwarf.Offset
		depth int
	}
	var stack []scope
	cur := scope{}
	var files []*dwarf.LineFile
	r := d.Reader()
	var firstErr error
	for {
		e, err := r.Next()
		if err != nil {
			firstErr = err
			break
		}
		if e == nil {
			break
		}
		if e.Tag == 0 { // end of a sibling list
			if n := len(stack); n > 0 {
				cur, stack = stack[n-1], stack[:n-1]
			}
			continue
		}
		inner := cur
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
			inner = scope{}
			var err error
			files, err = t.readLines(d, e)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		case dwarf.TagSubprogram:
			inner = scope{fn: e.Offset}
			ranges, err := d.Ranges(e)
			if err != nil || len(ranges) == 0 {
				break
			}
			name := nameOf(d, e, 0)
			if name == "" {
				break
			}
			for _, rg := range ranges {
				if rg[0] == 0 || rg[0] < t.base || rg[1] <= rg[0] {
					continue // discarded code (low_pc 0) or nonsense
				}
				t.funcs = append(t.funcs, fn{name: name, low: rg[0] - t.base, high: rg[1] - t.base, die: e.Offset})
			}
		case dwarf.TagInlinedSubroutine:
			inner.depth++
			if cur.fn == 0 {
				break
			}
			ranges, err := d.Ranges(e)
			if err != nil || len(ranges) == 0 {
				break
			}
			in := inl{name: nameOf(d, e, 0), depth: inner.depth}
			if i, ok := e.Val(dwarf.AttrCallFile).(int64); ok && i >= 0 && i < int64(len(files)) && files[i] != nil {
				in.callFile = files[i].Name
			}
			if l, ok := e.Val(dwarf.AttrCallLine).(int64); ok {
				in.callLine = int(l)
			}
			for _, rg := range ranges {
				if rg[0] == 0 || rg[0] < t.base || rg[1] <= rg[0] {
					continue
				}
				in.low, in.high = rg[0]-t.base, rg[1]-t.base
				if t.inlines == nil {
					t.inlines = map[dwarf.Offset][]inl{}
				}
				t.inlines[cur.fn] = append(t.inlines[cur.fn], in)
			}
		}
		if e.Children {
			stack = append(stack, cur)
			cur = inner
		}
	}
	slices.SortStableFunc(t.funcs, func(a, b fn) int {
		switch {
		case a.low != b.low:
			return cmpU(a.low, b.low)
		default:
			return cmpU(b.high, a.high) // larger first, so the inner one is found last
		}
	})
	t.funcs = slices.CompactFunc(t.funcs, func(a, b fn) bool { return a == b })
	slices.SortStableFunc(t.lines, func(a, b row) int {
		if c := cmpU(a.rva, b.rva); c != 0 {
			return c
		}
		// A sequence ending where another starts: the start wins.
		switch {
		case a.end && !b.end:
			return -1
		case !a.end && b.end:
			return 1
		}
		return 0
	})
	return firstErr
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readLines appends the rows of cu's line program, dropping sequences of
// discarded code (addresses below the image base), and returns the
// unit's file table (indexed as DW_AT_call_file values are).
func (t *Table) readLines(d *dwarf.Data, cu *dwarf.Entry) ([]*dwarf.LineFile, error) {
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return nil, err
	}
	var seq []row
	start, skip := true, false
	var le dwarf.LineEntry
	for {
		if err := lr.Next(&le); err != nil {
			if err == io.EOF {
				return lr.Files(), nil
			}
			return lr.Files(), err
		}
		if start {
			skip = le.Address == 0 || le.Address < t.base
			start = false
		}
		if !skip && le.Address >= t.base {
			r := row{rva: le.Address - t.base, line: le.Line, end: le.EndSequence}
			if le.File != nil {
				r.file = le.File.Name
			}
			seq = append(seq, r)
		}
		if le.EndSequence {
			if !skip {
				t.lines = append(t.lines, seq...)
			}
			seq, start = seq[:0], true
		}
	}
}

// nameOf returns a subprogram's name, following DW_AT_specification and
// DW_AT_abstract_origin (out-of-line definitions and concrete instances
// of inlined functions name themselves there), then DW_AT_linkage_name.
func nameOf(d *dwarf.Data, e *dwarf.Entry, depth int) string {
	if n, ok := e.Val(dwarf.AttrName).(string); ok && n != "" {
		return n
	}
	if depth < maxOriginDepth {
		for _, a := range []dwarf.Attr{dwarf.AttrSpecification, dwarf.AttrAbstractOrigin} {
			off, ok := e.Val(a).(dwarf.Offset)
			if !ok {
				continue
			}
			r := d.Reader()
			r.Seek(off)
			if o, err := r.Next(); err == nil && o != nil {
				if n := nameOf(d, o, depth+1); n != "" {
					return n
				}
			}
		}
	}
	for _, a := range []dwarf.Attr{dwarf.AttrLinkageName} {
		if n, ok := e.Val(a).(string); ok && n != "" {
			return n
		}
	}
	return ""
}

// coffSymbols returns the image's COFF symbols in code sections, sorted
// by RVA, each extending to the next symbol or its section's end.
func coffSymbols(f *pe.File) []fn {
	var out []fn
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
		out = append(out, fn{name: s.Name, low: low, high: uint64(sec.VirtualAddress) + uint64(max(sec.VirtualSize, sec.Size))})
	}
	slices.SortStableFunc(out, func(a, b fn) int { return cmpU(a.low, b.low) })
	out = slices.CompactFunc(out, func(a, b fn) bool { return a.low == b.low })
	for i := range out[:max(len(out)-1, 0)] {
		if out[i+1].low < out[i].high {
			out[i].high = out[i+1].low
		}
	}
	return out
}
