package dwarftab

import (
	"cmp"
	"debug/dwarf"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Lazy is the DWARF of one image read on demand, as GDB reads it: opening
// costs nothing, a lookup reads only the compile units whose address
// ranges cover the address (found through .debug_aranges, else each
// unit's DW_AT_low_pc/DW_AT_high_pc/DW_AT_ranges), each once, and
// Funcs/Lines read everything once. Naming a few frames in glibc's
// separate debug file costs a few units instead of all 4000 (about 0.25 s
// and 260 MB).
//
// Lookups give what Tables.Lookup gives for the same DWARF: the same code
// reads a unit, and results from several units covering one address are
// combined in the order Tables sorts them. Units that state no address
// range at all (non-conforming producers) are read only for addresses no
// other unit covers.
//
// A nil *Lazy is empty. Lazy is safe for concurrent use.
type Lazy struct {
	base        uint64
	linkageName func(string) string
	alt         *Alt
	src         source

	mu       sync.Mutex
	built    bool // index read (aranges, or complete)
	complete bool // every unit is indexed, not only those .debug_aranges lists
	units    map[dwarf.Offset]*lazyUnit
	spans    []span   // by ascending low
	maxHigh  []uint64 // maxHigh[i] is the largest high of spans[:i+1]
	unranged []*lazyUnit
	err      error // first error while indexing

	full   func() (*Tables, error)
	loaded atomic.Pointer[Tables] // full's tables once read: lookups use them
}

// lazyUnit is one unit of a Lazy, read on first use.
type lazyUnit struct {
	off  dwarf.Offset // the unit's key in its source (see source)
	once sync.Once
	tab  *Tables // nil when the unit could not be read
}

func byOffset(a, b *lazyUnit) int { return cmp.Compare(a.off, b.off) }

// span is an address range of a unit, RVAs, high exclusive.
type span struct {
	low, high uint64
	unit      *lazyUnit
}

// source gives a Lazy the units of its DWARF.
type source interface {
	// aranges returns .debug_aranges: for each unit key, its ranges
	// (link-time addresses). ok is false without the section.
	aranges() (m map[dwarf.Offset][][2]uint64, ok bool, err error)
	// units calls yield with every unit's key, its top entry and the
	// Data to read it in.
	units(skip func(dwarf.Offset) bool, yield func(key dwarf.Offset, d *dwarf.Data, top *dwarf.Entry)) error
	// unit calls read with a Data holding the unit with the given key,
	// where its top entry is, and how to follow references out of it.
	// The Data is valid only during the call.
	unit(key dwarf.Offset, read func(d *dwarf.Data, top dwarf.Offset, ref deref)) error
	// all returns a Data holding every unit.
	all() (*dwarf.Data, error)
	// readAhead starts producing .debug_info on another goroutine.
	readAhead()
}

// SetAlt gives the supplementary file (dwz) the DWARF points into. Call
// it before the first lookup.
func (l *Lazy) SetAlt(a *Alt) {
	if l != nil {
		l.alt = a
	}
}

// NewLazyData returns the DWARF of d read on demand, addresses made
// relative to base. linkageName is as Tables.LinkageName. Use it when the
// DWARF needed processing to be read at all (relocations in ET_REL files);
// NewLazy reads less.
func NewLazyData(d *dwarf.Data, base uint64, linkageName func(string) string) *Lazy {
	return newLazy(dataSource{d}, base, linkageName)
}

func newLazy(src source, base uint64, linkageName func(string) string) *Lazy {
	l := &Lazy{base: base, linkageName: linkageName, src: src}
	l.full = sync.OnceValues(l.readAll)
	return l
}

// Base returns the address RVA 0 stands for.
func (l *Lazy) Base() uint64 {
	if l == nil {
		return 0
	}
	return l.base
}

// Lookup returns the DWARF function containing rva with the line and the
// inlined calls there, as Tables.Lookup does.
func (l *Lazy) Lookup(rva uint64) (symtab.Symbol, bool) {
	if l == nil {
		return symtab.Symbol{}, false
	}
	if t := l.loaded.Load(); t != nil {
		return t.Lookup(rva)
	}
	tabs := l.at(rva)
	var best Fn
	var in *Tables
	for _, t := range tabs {
		f, ok := Containing(t.Funcs, rva)
		// Tables sorts by start, then larger first, then unit order, and
		// Containing takes the last match: the innermost, else the later
		// unit's.
		if ok && (in == nil || f.Low > best.Low || f.Low == best.Low && f.High <= best.High) {
			best, in = f, t
		}
	}
	if in == nil {
		return symtab.Symbol{}, false
	}
	sym := symtab.Symbol{Name: best.Name, Addr: best.Low, Size: best.High - best.Low}
	sym.File, sym.Line = lineAt(tabs, rva)
	sym.Inlined = InlinedAt(in.Inlines[best.DIE], rva, sym.File, sym.Line)
	return sym, true
}

// LineAt returns the source file and line at rva, "" and 0 when the line
// tables have nothing there.
func (l *Lazy) LineAt(rva uint64) (string, int) {
	if l == nil {
		return "", 0
	}
	if t := l.loaded.Load(); t != nil {
		return t.LineAt(rva)
	}
	return lineAt(l.at(rva), rva)
}

// lineAt is Tables.LineAt over the rows of several units: the last row at
// or before rva in Tables' order (by address, a sequence end before a
// start, then unit order).
func lineAt(tabs []*Tables, rva uint64) (string, int) {
	var best *Row
	for _, t := range tabs {
		i := sort.Search(len(t.Lines), func(i int) bool { return t.Lines[i].RVA > rva }) - 1
		if i < 0 {
			continue
		}
		r := &t.Lines[i]
		if best == nil || r.RVA > best.RVA || r.RVA == best.RVA && (!r.End || best.End) {
			best = r
		}
	}
	if best == nil || best.End {
		return "", 0
	}
	return best.File, best.Line
}

// Funcs returns every DWARF function, sorted as Tables.Funcs. The first
// call reads all the DWARF.
func (l *Lazy) Funcs() []Fn {
	if l == nil {
		return nil
	}
	t, _ := l.full()
	return t.Funcs
}

// Lines returns every line row, sorted as Tables.Lines. The first call
// reads all the DWARF.
func (l *Lazy) Lines() []Row {
	if l == nil {
		return nil
	}
	t, _ := l.full()
	return t.Lines
}

// ReadAhead starts inflating .debug_info on another goroutine, ahead of
// the lookups that will need it. Call it for a file opened to look
// addresses up in (a separate debug file): inflating is sequential and
// dominates reading a unit, so the caller's own work until a lookup, and
// between lookups, overlaps with it on another core (naming the corpus
// core's glibc frames ends about 2.5 ms sooner, of 40). It stops at
// 64 MiB, leaving the rest of a huge section to the lookups that need
// it.
func (l *Lazy) ReadAhead() {
	if l != nil {
		l.src.readAhead()
	}
}

// HasCode reports whether the DWARF describes any code: whether some unit
// has an address range (with .debug_aranges, from that section alone), or
// failing that whether a unit without ranges has functions or lines.
func (l *Lazy) HasCode() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	l.build()
	if len(l.spans) == 0 {
		l.completeIndex()
	}
	has, unranged := len(l.spans) > 0, l.unranged
	l.mu.Unlock()
	if has {
		return true
	}
	for _, u := range unranged {
		if t := l.read(u); t != nil && (len(t.Funcs) > 0 || len(t.Lines) > 0) {
			return true
		}
	}
	return false
}

// Err returns the first error met indexing or reading everything, nil
// when there was none (yet).
func (l *Lazy) Err() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	return err
}

// at returns the tables of the units covering rva, in unit order, and of
// the unit whose range starts last at or below it.
func (l *Lazy) at(rva uint64) []*Tables {
	l.mu.Lock()
	l.build()
	us, hit := l.covering(rva)
	if !hit && !l.complete {
		// .debug_aranges need not list every unit (Clang omits it, and
		// mixed objects may lack it): index the rest before saying no.
		l.completeIndex()
		us, hit = l.covering(rva)
	}
	if !hit {
		us = append(us, l.unranged...)
		slices.SortFunc(us, byOffset)
	}
	l.mu.Unlock()
	tabs := make([]*Tables, 0, len(us))
	for _, u := range us {
		if t := l.read(u); t != nil {
			tabs = append(tabs, t)
		}
	}
	return tabs
}

// covering returns, in unit order, the ranged units with a span
// containing rva (hit says whether there are any) and the unit of the span
// starting last at or below rva: Tables.LineAt takes the last row at or
// below an address from any unit, and past the end of a range that can be
// the range's own last row (a row at the end address sorts after the
// sequence's end, as GDB sorts them too). l.mu is held.
func (l *Lazy) covering(rva uint64) (us []*lazyUnit, hit bool) {
	i := sort.Search(len(l.spans), func(i int) bool { return l.spans[i].low > rva }) - 1
	if i < 0 {
		return nil, false
	}
	us = append(us, l.spans[i].unit)
	for ; i >= 0 && l.maxHigh[i] > rva; i-- {
		if s := l.spans[i]; rva < s.high {
			hit = true
			if !slices.Contains(us, s.unit) {
				us = append(us, s.unit)
			}
		}
	}
	slices.SortFunc(us, byOffset)
	return us, hit
}

// build reads .debug_aranges into the index, or, without it, indexes
// every unit. l.mu is held.
func (l *Lazy) build() {
	if l.built {
		return
	}
	l.built = true
	l.units = map[dwarf.Offset]*lazyUnit{}
	ar, ok, err := l.aranges()
	if err != nil {
		l.setErr(err)
	}
	if !ok || err != nil {
		l.completeIndex()
		return
	}
	for key, rs := range ar {
		u := &lazyUnit{off: key}
		l.units[key] = u
		l.addSpans(u, rs)
	}
	l.sortSpans()
}

// aranges calls src.aranges, recovering from a panic.
func (l *Lazy) aranges() (m map[dwarf.Offset][][2]uint64, ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, ok, err = nil, false, fmt.Errorf("malformed DWARF: %v", p)
		}
	}()
	return l.src.aranges()
}

// completeIndex adds every unit .debug_aranges did not list, from its top
// entry's ranges. l.mu is held.
func (l *Lazy) completeIndex() {
	if l.complete {
		return
	}
	l.complete = true
	defer func() {
		if p := recover(); p != nil {
			l.setErr(fmt.Errorf("malformed DWARF: %v", p))
		}
		l.sortSpans()
	}()
	err := l.src.units(func(key dwarf.Offset) bool { return l.units[key] != nil }, func(key dwarf.Offset, d *dwarf.Data, top *dwarf.Entry) {
		if top.Tag != dwarf.TagCompileUnit && top.Tag != dwarf.TagPartialUnit {
			return // type and skeleton units hold no code
		}
		u := &lazyUnit{off: key}
		l.units[key] = u
		if top.Val(dwarf.AttrLowpc) == nil && top.Val(dwarf.AttrRanges) == nil {
			l.unranged = append(l.unranged, u)
			return
		}
		rs, err := d.Ranges(top)
		if err != nil {
			l.setErr(err)
		}
		l.addSpans(u, rs)
	})
	if err != nil {
		l.setErr(err)
	}
	slices.SortFunc(l.unranged, byOffset)
}

// addSpans indexes u's ranges (link-time addresses), dropping discarded
// code as Tables.Read does. l.mu is held.
func (l *Lazy) addSpans(u *lazyUnit, rs [][2]uint64) {
	for _, rg := range rs {
		if rg[0] == 0 || rg[0] < l.base || rg[1] <= rg[0] {
			continue
		}
		l.spans = append(l.spans, span{rg[0] - l.base, rg[1] - l.base, u})
	}
}

// sortSpans sorts the spans and recomputes maxHigh. l.mu is held.
func (l *Lazy) sortSpans() {
	slices.SortFunc(l.spans, func(a, b span) int { return cmpU(a.low, b.low) })
	l.maxHigh = slices.Grow(l.maxHigh[:0], len(l.spans))
	var m uint64
	for _, s := range l.spans {
		m = max(m, s.high)
		l.maxHigh = append(l.maxHigh, m)
	}
}

func (l *Lazy) setErr(err error) {
	if l.err == nil {
		l.err = err
	}
}

// read returns u's tables, reading the unit the first time.
func (l *Lazy) read(u *lazyUnit) *Tables {
	u.once.Do(func() {
		defer func() {
			if p := recover(); p != nil {
				u.tab = nil
			}
		}()
		l.src.unit(u.off, func(d *dwarf.Data, top dwarf.Offset, ref deref) {
			t := &Tables{Base: l.base, LinkageName: l.linkageName, Alt: l.alt}
			r := d.Reader()
			r.Seek(top)
			t.read(d, r, ref, true) // keeps what it read before an error, as Read
			t.sort()
			u.tab = t
		})
	})
	return u.tab
}

// readAll reads every unit into one Tables, as Tables.Read does.
func (l *Lazy) readAll() (t *Tables, err error) {
	t = &Tables{Base: l.base, LinkageName: l.linkageName, Alt: l.alt}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed DWARF: %v", p)
			t.sort()
		}
		if err != nil {
			l.mu.Lock()
			l.setErr(err)
			l.mu.Unlock()
		}
	}()
	d, err := l.src.all()
	if err != nil {
		return t, err
	}
	err = t.Read(d)
	l.loaded.Store(t)
	return t, err
}

// dataSource is a source over a *dwarf.Data already made: units are keyed
// by the offset of their top entry.
type dataSource struct{ d *dwarf.Data }

func (s dataSource) aranges() (map[dwarf.Offset][][2]uint64, bool, error) { return nil, false, nil }

func (s dataSource) units(skip func(dwarf.Offset) bool, yield func(dwarf.Offset, *dwarf.Data, *dwarf.Entry)) error {
	r := s.d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return err
		}
		if !skip(e.Offset) {
			yield(e.Offset, s.d, e)
		}
		r.SkipChildren() // on to the next unit
	}
}

func (s dataSource) unit(key dwarf.Offset, read func(*dwarf.Data, dwarf.Offset, deref)) error {
	read(s.d, key, readerDeref(s.d))
	return nil
}

func (s dataSource) all() (*dwarf.Data, error) { return s.d, nil }

func (s dataSource) readAhead() {}

// Data returns a Data holding every unit, made once, for readers that
// need all of the DWARF rather than the units holding an address (type
// lookups by name). A nil Lazy has none.
func (l *Lazy) Data() (*dwarf.Data, error) {
	if l == nil {
		return nil, errors.New("dwarf: no DWARF")
	}
	return l.src.all()
}
