package pdb

import (
	"cmp"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/symbols/msvc"
)

// Table is the symbols.Table of a PDB: procedures (with their code sizes)
// from the module symbol streams, then global data (globals.go), then
// S_PUB32 publics for addresses neither covers. Addresses are RVAs of the
// image.
type Table struct {
	file  *File // for the type records (types.go), read only when asked
	d     *DBI
	procs []entry // ascending rva, distinct starts
	data  []entry // global data: ascending rva, distinct starts, none at a proc start
	pubs  []entry // ascending rva, distinct starts, none at a proc or data start
	dx    dataIndex
	// contribs are the section contributions with an RVA, ascending:
	// they give the module of an address no procedure holds.
	contribs []contrib
	lines    *lineIndex
	// frames are the FrameData records (x86 unwind programs), read on
	// the first WinFrame call.
	frames func() []breakpad.WinFrameInfo
	// fpo are the old FPO stream's records (fpo.go), read on the first
	// WinFrame call that no FrameData record answers.
	fpo func() []breakpad.WinFrameInfo
}

type contrib struct {
	rva, size uint32
	mod       int
}

type entry struct {
	rva, size uint32
	name      string
	multiple  bool
	mod       int    // index in DBI.Modules, -1 for publics
	ti        uint32 // type index of global data
}

// Table returns the symbol table, built on first use.
func (f *File) Table() (*Table, error) { return f.table() }

func (f *File) buildTable() (*Table, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	t := &Table{file: f, d: d, lines: newLineIndex(f, d)}
	t.frames = sync.OnceValue(func() []breakpad.WinFrameInfo { return f.frameData(d) })
	t.fpo = sync.OnceValue(func() []breakpad.WinFrameInfo { return f.fpoData(d) })
	procs, _ := f.Procs() // a broken module costs its procedures only
	for _, p := range procs {
		if p.HasRVA {
			t.procs = append(t.procs, entry{rva: p.RVA, size: p.Size, name: p.Name, mod: p.Module})
		}
	}
	t.procs = dedup(t.procs)
	at := func(es []entry, rva uint32) bool {
		_, ok := slices.BinarySearchFunc(es, rva, func(e entry, r uint32) int { return cmp.Compare(e.rva, r) })
		return ok
	}
	// Global data from both walks, without building Globals' merged list:
	// a record both have is one entry after dedup (same name and RVA).
	sr, err := f.symRecords()
	ms, _ := f.modSyms()
	for _, gs := range [][]Global{sr.data, ms.data} {
		for _, g := range gs {
			if g.HasRVA && !at(t.procs, g.RVA) { // a procedure wins
				t.data = append(t.data, entry{rva: g.RVA, name: g.Name, mod: g.Module, ti: g.Type})
			}
		}
	}
	t.data = dedup(t.data)
	t.dx.sizes = make([]atomic.Uint32, len(t.data))
	t.dx.byName = sync.OnceValue(t.globalNames)
	pubs := sr.pubs
	if err != nil && len(pubs) == 0 && len(t.procs) == 0 {
		return nil, err
	}
	for _, p := range pubs {
		if !p.HasRVA || at(t.procs, p.RVA) || at(t.data, p.RVA) {
			continue // the procedure's or data's undecorated name wins
		}
		t.pubs = append(t.pubs, entry{rva: p.RVA, name: PublicName(p.Name), mod: -1})
	}
	t.pubs = dedup(t.pubs)
	for _, c := range d.Contributions {
		if c.Size == 0 || int(c.Module) >= len(d.Modules) {
			continue
		}
		if rva, ok := d.RVA(c.Section, c.Offset); ok {
			t.contribs = append(t.contribs, contrib{rva, d.omapSize(c.Section, c.Offset, c.Size, rva), int(c.Module)})
		}
	}
	slices.SortStableFunc(t.contribs, func(a, b contrib) int { return cmp.Compare(a.rva, b.rva) })
	return t, nil
}

// dedup sorts entries by RVA and keeps the first of each start, marking
// it Multiple when others shared the address (identical code folding).
func dedup(es []entry) []entry {
	slices.SortStableFunc(es, func(a, b entry) int { return cmp.Compare(a.rva, b.rva) })
	out := es[:0]
	for _, e := range es {
		if n := len(out); n > 0 && out[n-1].rva == e.rva {
			if out[n-1].name != e.name {
				out[n-1].multiple = true
			}
			out[n-1].size = max(out[n-1].size, e.size)
			continue
		}
		out = append(out, e)
	}
	return out
}

// last returns the index of the last entry starting at or before rva, or -1.
func last(es []entry, rva uint32) int {
	return sort.Search(len(es), func(i int) bool { return es[i].rva > rva }) - 1
}

// LookupRVA returns the procedure containing rva, with its inline chain
// there (Inlined; File and Line are then the innermost position and
// OuterLine the procedure's own line); failing that, the global data
// containing it (Size from its type); failing that, the nearest preceding
// public or global data in the same section with no procedure starting
// between the two (a public with Size 0, data with its own size, which
// then ends before rva).
func (t *Table) LookupRVA(rva uint64) (symtab.Symbol, bool) {
	if rva > 0xFFFFFFFF {
		return symtab.Symbol{}, false
	}
	r := uint32(rva)
	pi := last(t.procs, r)
	if pi >= 0 && r-t.procs[pi].rva < t.procs[pi].size {
		p := t.procs[pi]
		return t.withInlines(t.withLine(p.symbol(), p.mod, r), p.mod, r), true
	}
	di := last(t.data, r)
	if di >= 0 && r-t.data[di].rva < max(t.dataSize(di), 1) {
		return t.dataSymbol(di), true
	}
	ui := last(t.pubs, r)
	var start uint32
	switch {
	case di >= 0 && (ui < 0 || t.data[di].rva > t.pubs[ui].rva):
		start = t.data[di].rva
	case ui >= 0:
		start = t.pubs[ui].rva
	default:
		return symtab.Symbol{}, false
	}
	if pi >= 0 && t.procs[pi].rva > start {
		return symtab.Symbol{}, false
	}
	if s := t.d.section(r); s < 0 || s != t.d.section(start) {
		return symtab.Symbol{}, false
	}
	if di >= 0 && start == t.data[di].rva {
		return t.dataSymbol(di), true
	}
	return t.withLine(t.pubs[ui].symbol(), t.module(r), r), true
}

// module returns the module whose section contribution holds rva, or -1.
func (t *Table) module(rva uint32) int {
	cs := t.contribs
	i := sort.Search(len(cs), func(i int) bool { return cs[i].rva > rva }) - 1
	if i >= 0 && rva-cs[i].rva < cs[i].size {
		return cs[i].mod
	}
	return -1
}

// withLine adds the file and line of the line record of module mi at or
// before rva (within its contribution and the symbol s).
func (t *Table) withLine(s symtab.Symbol, mi int, rva uint32) symtab.Symbol {
	if mi < 0 {
		return s
	}
	if l, ok := t.lines.lookup(mi, rva, uint32(s.Addr)); ok {
		s.File, s.Line = l.File, int(l.Line)
	}
	return s
}

// withInlines adds the inline chain at rva of procedure s of module mi:
// Inlined, innermost first, with File and Line then the innermost
// position and the procedure's own line the outermost call site.
func (t *Table) withInlines(s symtab.Symbol, mi int, rva uint32) symtab.Symbol {
	if mi < 0 {
		return s
	}
	if in := t.lines.inlines(mi, uint32(s.Addr), rva, s.File, s.Line); len(in) > 0 {
		s.Inlined = in
		s.File, s.Line = in[0].File, in[0].Line
	}
	return s
}

func (e entry) symbol() symtab.Symbol {
	return symtab.Symbol{Name: e.name, Addr: uint64(e.rva), Size: uint64(e.size), Multiple: e.multiple}
}

// Symbols calls yield for every procedure, global data and public,
// ascending by RVA. Data sizes come from the types, read on the first
// call that reaches a global.
func (t *Table) Symbols(yield func(symtab.Symbol) bool) {
	i, k, j := 0, 0, 0
	const none = 1 << 32
	head := func(es []entry, n int) uint64 {
		if n < len(es) {
			return uint64(es[n].rva)
		}
		return none
	}
	for {
		p, d, u := head(t.procs, i), head(t.data, k), head(t.pubs, j)
		var s symtab.Symbol
		switch {
		case p == none && d == none && u == none:
			return
		case p <= d && p <= u:
			s = t.procs[i].symbol()
			i++
		case d <= u:
			s = t.dataSymbol(k)
			k++
		default:
			s = t.pubs[j].symbol()
			j++
		}
		if !yield(s) {
			return
		}
	}
}

// Len returns the number of procedures and publics in the table; global
// data is counted by NumData.
func (t *Table) Len() (procs, publics int) { return len(t.procs), len(t.pubs) }

// NumData returns the number of global data symbols in the table.
func (t *Table) NumData() int { return len(t.data) }

// PublicName returns the name a public symbol shows in frames and
// listings: an MSVC-decorated name ("?assign@?$basic_string@…") as its
// qualified name ("std::basic_string<…>::assign", see msvc.Name), a
// string literal as "`string'", and anything else (undecorated and x86 C
// names such as "_foo@8") unchanged.
func PublicName(name string) string {
	if !strings.HasPrefix(name, "?") {
		return name
	}
	return msvc.Name(name)
}

// Source names the table's origin for symbol-status displays (lm):
// "pdb symbols (PATH)".
func (t *Table) Source() string {
	if t.file == nil || t.file.path == "" {
		return "pdb symbols"
	}
	return "pdb symbols (" + t.file.path + ")"
}
