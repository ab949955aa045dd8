// Package dwarftab turns DWARF debug information into the compact,
// sorted tables symbol lookups need: functions (with their inlined calls)
// and line rows, relative to an image's base. It is shared by the PE-image
// and ELF symbol providers, which differ only in how they find the DWARF
// data and the base.
//
// Tables reads everything at once. Lazy reads the same tables unit by
// unit, only the compile units covering the addresses looked up, found
// through .debug_aranges (else each unit's top entry), as GDB expands
// symbol tables: naming a handful of frames in glibc's separate debug
// file then costs four units instead of 4000. From Sections (NewLazy) it
// also inflates compressed sections only as far as those units lie.
//
// # Robustness
//
// Safe on corrupt and hostile input: header fields are bounds-checked,
// panics from debug/dwarf are recovered, and a unit that cannot be read
// contributes nothing. Fuzzed by FuzzLazy.
package dwarftab

import (
	"debug/dwarf"
	"errors"
	"io"
	"slices"
	"sort"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

const maxOriginDepth = 8

// Tables is what DWARF says about one image, addresses relative to Base.
type Tables struct {
	Base  uint64
	Funcs []Fn  // by ascending start, then larger first
	Lines []Row // by ascending RVA
	// Inlines holds each function's inlined calls, by the function's DIE
	// offset.
	Inlines map[dwarf.Offset][]Inl
	// LinkageName, when set, names a function from its
	// DW_AT_linkage_name (found through DW_AT_specification and
	// DW_AT_abstract_origin too), as a debugger shows it: a C++ or Rust
	// one demangled to the qualified "ns::Klass::method" where DW_AT_name
	// says "method". Read prefers a non-empty result to DW_AT_name. Nil
	// keeps DW_AT_name.
	LinkageName func(linkage string) string
	// Alt is the supplementary file (dwz) the DWARF points into, nil
	// when it has none or it was not found.
	Alt *Alt
}

// Lookup returns the DWARF function containing rva with the line and the
// inlined calls there.
func (t *Tables) Lookup(rva uint64) (symtab.Symbol, bool) {
	f, ok := Containing(t.Funcs, rva)
	if !ok {
		return symtab.Symbol{}, false
	}
	sym := symtab.Symbol{Name: f.Name, Addr: f.Low, Size: f.High - f.Low}
	sym.File, sym.Line = t.LineAt(rva)
	sym.Inlined = InlinedAt(t.Inlines[f.DIE], rva, sym.File, sym.Line)
	return sym, true
}

// Inl is one range of an inlined call; depth 1 is called by the function
// itself, depth 2 by a depth-1 inline, and so on.
type Inl struct {
	Name      string
	Low, High uint64
	Depth     int
	CallFile  string
	CallLine  int
}

// Fn is a function's address range (RVAs, High exclusive).
type Fn struct {
	Name      string
	Low, High uint64       // RVAs, high exclusive
	DIE       dwarf.Offset // the DW_TAG_subprogram; 0 for symbols from symbol tables
}

// Row starts a line range at RVA; End marks the end of a sequence.
type Row struct {
	RVA  uint64
	File string
	Line int
	End  bool
}

// InlinedAt returns the chain of inlined calls at rva, innermost first:
// the innermost is at the line record (file, line), each outer one at the
// call site of the one inside it.
func InlinedAt(inls []Inl, rva uint64, file string, line int) []symtab.Inline {
	var chain []Inl
	for _, in := range inls {
		if rva < in.Low || rva >= in.High {
			continue
		}
		dup := false
		for _, c := range chain {
			dup = dup || c.Depth == in.Depth
		}
		if !dup {
			chain = append(chain, in)
		}
	}
	if len(chain) == 0 {
		return nil
	}
	slices.SortFunc(chain, func(a, b Inl) int { return b.Depth - a.Depth })
	out := make([]symtab.Inline, len(chain))
	for k, in := range chain {
		out[k] = symtab.Inline{Name: in.Name, File: file, Line: line, CallFile: in.CallFile, CallLine: in.CallLine, Addr: in.Low}
		file, line = in.CallFile, in.CallLine
	}
	return out
}

// Containing returns the entry of fs (sorted by low) containing rva,
// preferring the one starting last (the innermost of nested ranges).
func Containing(fs []Fn, rva uint64) (Fn, bool) {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].Low > rva })
	for j := i - 1; j >= 0 && j >= i-32; j-- {
		if rva >= fs[j].Low && rva < fs[j].High {
			return fs[j], true
		}
	}
	return Fn{}, false
}

// LineAt returns the source file and line at rva, "" and 0 when the
// line table has nothing there.
func (t *Tables) LineAt(rva uint64) (string, int) {
	i := sort.Search(len(t.Lines), func(i int) bool { return t.Lines[i].RVA > rva }) - 1
	if i < 0 || t.Lines[i].End {
		return "", 0
	}
	return t.Lines[i].File, t.Lines[i].Line
}

// Read adds the functions, inlined calls and line rows of d, with
// addresses made relative to t.Base (discarded code below it is dropped).
// It keeps what it read before an error.
func (t *Tables) Read(d *dwarf.Data) error {
	err := t.read(d, d.Reader(), readerDeref(d), false)
	t.sort()
	return err
}

// deref returns the entry at an offset (nil when there is none): the
// target of DW_AT_specification and DW_AT_abstract_origin.
type deref func(dwarf.Offset) *dwarf.Entry

// readerDeref reads referenced entries from d, with one reader of its own
// (not the one walking the unit).
func readerDeref(d *dwarf.Data) deref {
	var r *dwarf.Reader
	return func(off dwarf.Offset) *dwarf.Entry {
		if r == nil {
			r = d.Reader()
		}
		r.Seek(off)
		e, err := r.Next()
		if err != nil {
			return nil
		}
		return e
	}
}

// read appends what r yields: every unit to the end of the section, or,
// with one, only the unit whose DW_TAG_compile_unit (or partial unit) r
// is positioned at. Lazy reads unit by unit what Read reads in one go,
// with the same code, so both give the same tables.
func (t *Tables) read(d *dwarf.Data, r *dwarf.Reader, ref deref, one bool) error {
	// scope is what encloses the entries being read: the function (0 for
	// none) and how many inlined calls deep they are.
	type scope struct {
		fn    dwarf.Offset
		depth int
	}
	var stack []scope
	cur := scope{}
	var files []*dwarf.LineFile
	var firstErr error
	units := 0
	var nulls nullRun
	for {
		e, err := r.Next()
		if err != nil {
			firstErr = err
			break
		}
		if e == nil {
			break
		}
		if nulls.stalled(e) {
			return errStalled
		}
		if e.Tag == 0 { // end of a sibling list
			if one && len(stack) == 0 {
				break // padding after the unit, or a unit without its top entry
			}
			if n := len(stack); n > 0 {
				cur, stack = stack[n-1], stack[:n-1]
				if one && n == 1 {
					break // the unit's children ended
				}
			}
			continue
		}
		inner := cur
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
			if one && units > 0 {
				return firstErr // the next unit: this one lacked its terminator
			}
			units++
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
			name := t.name(ref, e)
			if name == "" {
				break
			}
			for _, rg := range ranges {
				if rg[0] == 0 || rg[0] < t.Base || rg[1] <= rg[0] {
					continue // discarded code (low_pc 0) or nonsense
				}
				t.Funcs = append(t.Funcs, Fn{Name: name, Low: rg[0] - t.Base, High: rg[1] - t.Base, DIE: e.Offset})
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
			in := Inl{Name: t.name(ref, e), Depth: inner.depth}
			if i, ok := e.Val(dwarf.AttrCallFile).(int64); ok && i >= 0 && i < int64(len(files)) && files[i] != nil {
				in.CallFile = files[i].Name
			}
			if l, ok := e.Val(dwarf.AttrCallLine).(int64); ok {
				in.CallLine = int(l)
			}
			for _, rg := range ranges {
				if rg[0] == 0 || rg[0] < t.Base || rg[1] <= rg[0] {
					continue
				}
				in.Low, in.High = rg[0]-t.Base, rg[1]-t.Base
				if t.Inlines == nil {
					t.Inlines = map[dwarf.Offset][]Inl{}
				}
				t.Inlines[cur.fn] = append(t.Inlines[cur.fn], in)
			}
		}
		if e.Children {
			stack = append(stack, cur)
			cur = inner
		} else if one && units > 0 && len(stack) == 0 {
			break // a unit without children
		}
	}
	return firstErr
}

// sort orders Funcs and Lines as Containing and LineAt need them.
func (t *Tables) sort() {
	slices.SortStableFunc(t.Funcs, func(a, b Fn) int {
		switch {
		case a.Low != b.Low:
			return cmpU(a.Low, b.Low)
		default:
			return cmpU(b.High, a.High) // larger first, so the inner one is found last
		}
	})
	t.Funcs = slices.CompactFunc(t.Funcs, func(a, b Fn) bool { return a == b })
	slices.SortStableFunc(t.Lines, func(a, b Row) int {
		if c := cmpU(a.RVA, b.RVA); c != 0 {
			return c
		}
		// A sequence ending where another starts: the start wins.
		switch {
		case a.End && !b.End:
			return -1
		case !a.End && b.End:
			return 1
		}
		return 0
	})
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
func (t *Tables) readLines(d *dwarf.Data, cu *dwarf.Entry) ([]*dwarf.LineFile, error) {
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return nil, err
	}
	var seq []Row
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
			skip = le.Address == 0 || le.Address < t.Base
			start = false
		}
		if !skip && le.Address >= t.Base {
			r := Row{RVA: le.Address - t.Base, Line: le.Line, End: le.EndSequence}
			if le.File != nil {
				r.File = le.File.Name
			}
			seq = append(seq, r)
		}
		if le.EndSequence {
			if !skip {
				t.Lines = append(t.Lines, seq...)
			}
			seq, start = seq[:0], true
		}
	}
}

// name returns the name of a subprogram or inlined call: what
// t.LinkageName makes of its linkage name, else nameOf.
func (t *Tables) name(ref deref, e *dwarf.Entry) string {
	r := refs{ref: ref, alt: t.Alt}
	if t.LinkageName != nil {
		if ln := linkageName(r, e, 0); ln != "" {
			if n := t.LinkageName(ln); n != "" {
				return n
			}
		}
	}
	return nameOf(r, e, 0)
}

// linkageName returns DW_AT_linkage_name (or the pre-DWARF 4
// DW_AT_MIPS_linkage_name) of e or of the declaration or abstract
// instance it refers to.
func linkageName(r refs, e *dwarf.Entry, depth int) string {
	for _, a := range []dwarf.Attr{dwarf.AttrLinkageName, attrMIPSLinkageName} {
		if n := r.str(e, a); n != "" {
			return n
		}
	}
	if depth >= maxOriginDepth {
		return ""
	}
	for _, a := range []dwarf.Attr{dwarf.AttrSpecification, dwarf.AttrAbstractOrigin} {
		if o, or := r.follow(e, a); o != nil {
			if n := linkageName(or, o, depth+1); n != "" {
				return n
			}
		}
	}
	return ""
}

// attrMIPSLinkageName is DW_AT_MIPS_linkage_name, which GCC emitted
// before DWARF 4 standardised DW_AT_linkage_name.
const attrMIPSLinkageName dwarf.Attr = 0x2007

// nameOf returns a subprogram's name, following DW_AT_specification and
// DW_AT_abstract_origin (out-of-line definitions and concrete instances
// of inlined functions name themselves there), then DW_AT_linkage_name.
func nameOf(r refs, e *dwarf.Entry, depth int) string {
	if n := r.str(e, dwarf.AttrName); n != "" {
		return n
	}
	if depth < maxOriginDepth {
		for _, a := range []dwarf.Attr{dwarf.AttrSpecification, dwarf.AttrAbstractOrigin} {
			if o, or := r.follow(e, a); o != nil {
				if n := nameOf(or, o, depth+1); n != "" {
					return n
				}
			}
		}
	}
	return r.str(e, dwarf.AttrLinkageName)
}

// errStalled reports a reader that stopped advancing (see nullRun).
var errStalled = errors.New("dwarf: unterminated abbreviation code at the end of a unit")

// maxNullRun is how many null entries in a row a loop over a Reader accepts.
// Real ones each take a byte: they close nesting levels (tens deep) or pad
// a unit's end, never by 64 KiB.
const maxNullRun = 1 << 16

// nullRun guards a loop over a dwarf.Reader from a flaw in debug/dwarf
// (Go 1.26): when the rest of a unit is bytes with the LEB128 continuation
// bit set, the abbreviation code reads as 0 without consuming anything, so
// Next returns a null entry forever instead of an error.
type nullRun int

// stalled counts e and says whether the run of null entries is too long.
func (n *nullRun) stalled(e *dwarf.Entry) bool {
	if e.Tag != 0 {
		*n = 0
		return false
	}
	*n++
	return *n > maxNullRun
}
