package pdb

import (
	"cmp"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Table is the symbols.Table of a PDB: procedures (with their code sizes)
// from the module symbol streams, then S_PUB32 publics for addresses no
// procedure covers. Addresses are RVAs of the image.
type Table struct {
	file  *File // for the type records (types.go), read only when asked
	d     *DBI
	procs []entry // ascending rva, distinct starts
	pubs  []entry // ascending rva, distinct starts, none at a proc start
	// contribs are the section contributions with an RVA, ascending:
	// they give the module of an address no procedure holds.
	contribs []contrib
	lines    *lineIndex
	// frames are the FrameData records (x86 unwind programs), read on
	// the first WinFrame call.
	frames func() []breakpad.WinFrameInfo
}

type contrib struct {
	rva, size uint32
	mod       int
}

type entry struct {
	rva, size uint32
	name      string
	multiple  bool
	mod       int // index in DBI.Modules, -1 for publics
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
	procs, _ := f.Procs() // a broken module costs its procedures only
	for _, p := range procs {
		if p.HasRVA {
			t.procs = append(t.procs, entry{rva: p.RVA, size: p.Size, name: p.Name, mod: p.Module})
		}
	}
	t.procs = dedup(t.procs)
	pubs, err := f.Publics()
	if err != nil && len(pubs) == 0 && len(t.procs) == 0 {
		return nil, err
	}
	for _, p := range pubs {
		if !p.HasRVA {
			continue
		}
		if _, ok := slices.BinarySearchFunc(t.procs, p.RVA, func(e entry, r uint32) int { return cmp.Compare(e.rva, r) }); ok {
			continue // the procedure's undecorated name wins
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
// OuterLine the procedure's own line); failing that, the nearest
// preceding public in the same section with no procedure starting
// between the two (Size 0).
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
	ui := last(t.pubs, r)
	if ui < 0 {
		return symtab.Symbol{}, false
	}
	p := t.pubs[ui]
	if pi >= 0 && t.procs[pi].rva > p.rva {
		return symtab.Symbol{}, false
	}
	if s := t.d.section(r); s < 0 || s != t.d.section(p.rva) {
		return symtab.Symbol{}, false
	}
	return t.withLine(p.symbol(), t.module(r), r), true
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

// Symbols calls yield for every procedure and public, ascending by RVA.
func (t *Table) Symbols(yield func(symtab.Symbol) bool) {
	i, j := 0, 0
	for i < len(t.procs) || j < len(t.pubs) {
		var e entry
		if j >= len(t.pubs) || (i < len(t.procs) && t.procs[i].rva <= t.pubs[j].rva) {
			e = t.procs[i]
			i++
		} else {
			e = t.pubs[j]
			j++
		}
		if !yield(e.symbol()) {
			return
		}
	}
}

// Len returns the number of procedures and publics in the table.
func (t *Table) Len() (procs, publics int) { return len(t.procs), len(t.pubs) }

// PublicName undoes the simplest MSVC decoration of a public name: a
// "?name@scope@…@@<type>" function or variable whose name and scopes are
// plain identifiers becomes "scope::name" ("?FxStubInitTypes@@YAJXZ" →
// "FxStubInitTypes"). Operators, templates, back-references, special
// names ("??_C@…" strings) and undecorated or x86 C names ("_foo@8") are
// returned unchanged: this is no demangler, only enough for frame names.
func PublicName(name string) string {
	if len(name) < 4 || name[0] != '?' || !identStart(name[1]) {
		return name
	}
	end := strings.Index(name, "@@")
	if end < 0 || end+2 >= len(name) {
		return name
	}
	parts := strings.Split(name[1:end], "@")
	for _, p := range parts {
		if p == "" || !identStart(p[0]) {
			return name
		}
		for k := 1; k < len(p); k++ {
			if !identStart(p[k]) && (p[k] < '0' || p[k] > '9') {
				return name
			}
		}
	}
	slices.Reverse(parts)
	return strings.Join(parts, "::")
}

func identStart(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Source names the table's origin for symbol-status displays (lm):
// "pdb symbols (PATH)".
func (t *Table) Source() string {
	if t.file == nil || t.file.path == "" {
		return "pdb symbols"
	}
	return "pdb symbols (" + t.file.path + ")"
}
