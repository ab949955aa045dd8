package breakpad

import (
	"sort"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Module is the MODULE record: the first line of every symbol file.
type Module struct {
	OS   string // "windows", "Linux", "mac"
	Arch string // "x86", "x86_64", "arm64"
	ID   string // debug identifier, as the symbol directory layout spells it
	Name string // debug file name ("test_app.pdb", "libc.so.6")
}

// File is a parsed Breakpad symbol file: sorted, compact tables looked up
// by RVA with binary search. Strings live in one arena and are copied out
// on lookup. A File is immutable after parsing and safe for concurrent use.
// It implements symbols.Table.
type File struct {
	Module   Module
	CodeID   string // INFO CODE_ID, "" when absent
	CodeFile string // the optional file name after the code id

	// Diagnostics holds the first malformed lines (see
	// Options.MaxDiagnostics), each with its byte offset and, in Msg, its
	// line number; Skipped counts them all.
	Diagnostics []model.Diagnostic
	Skipped     int

	source string // path when opened from a file

	strs      []byte
	files     map[uint32]span
	origins   map[uint32]span
	funcs     []funcRec
	lines     []lineRec
	inlines   []inlineRec
	inlRanges []inlineRange
	publics   []pubRec
	cfiInits  []cfiInit
	cfiDeltas []cfiDelta
	wins      []winRec
}

// Source returns the path the file was opened from, or "breakpad text".
// The resolver shows it as the module's symbol source.
func (f *File) Source() string {
	if f.source == "" {
		return "breakpad text"
	}
	return f.source
}

// SetSource overrides the name Source returns.
func (f *File) SetSource(s string) { f.source = s }

// Counts reports how many FUNC, PUBLIC, STACK CFI INIT and STACK WIN
// records were kept.
func (f *File) Counts() (funcs, publics, cfi, win int) {
	return len(f.funcs), len(f.publics), len(f.cfiInits), len(f.wins)
}

func (f *File) s(sp span) string { return string(f.strs[sp.off : sp.off+sp.n]) }

func (f *File) fileName(n uint32) string {
	if sp, ok := f.files[n]; ok {
		return f.s(sp)
	}
	return ""
}

// findFunc returns the index of the FUNC containing rva, or the index of
// the nearest FUNC starting at or before rva with contains false, or -1.
func (f *File) findFunc(rva uint64) (i int, contains bool) {
	i = sort.Search(len(f.funcs), func(i int) bool { return f.funcs[i].rva > rva }) - 1
	if i < 0 {
		return -1, false
	}
	// Of several FUNCs at one address keep the first the file listed.
	for i > 0 && f.funcs[i-1].rva == f.funcs[i].rva {
		i--
	}
	fn := &f.funcs[i]
	return i, rva-fn.rva < fn.size
}

// LookupRVA returns the FUNC containing rva with the line record and the
// inline chain at rva; when no FUNC contains it, the nearest PUBLIC at or
// before rva, unless a FUNC starts between the two (the PUBLIC would then
// name code it does not cover). Symbol.Addr is an RVA.
func (f *File) LookupRVA(rva uint64) (symtab.Symbol, bool) {
	fi, contains := f.findFunc(rva)
	if contains {
		return f.funcSymbol(fi, rva), true
	}
	pi := sort.Search(len(f.publics), func(i int) bool { return f.publics[i].rva > rva }) - 1
	if pi < 0 {
		return symtab.Symbol{}, false
	}
	for pi > 0 && f.publics[pi-1].rva == f.publics[pi].rva {
		pi--
	}
	pub := f.publics[pi]
	if fi >= 0 && f.funcs[fi].rva > pub.rva {
		return symtab.Symbol{}, false
	}
	return symtab.Symbol{Name: f.s(pub.name), Addr: pub.rva, Multiple: pub.multiple}, true
}

func (f *File) funcSymbol(fi int, rva uint64) symtab.Symbol {
	fn := &f.funcs[fi]
	sym := symtab.Symbol{Name: f.s(fn.name), Addr: fn.rva, Size: fn.size, Multiple: fn.multiple}
	if li, ok := f.lineIn(fn, rva); ok {
		l := f.lines[li]
		sym.File, sym.Line = f.fileName(l.file), int(l.line)
	}
	sym.Inlined = f.inlinesAt(fn, rva, sym.File, sym.Line)
	return sym
}

func (f *File) lineIn(fn *funcRec, rva uint64) (int, bool) {
	ls := f.lines[fn.lines[0]:fn.lines[1]]
	i := sort.Search(len(ls), func(i int) bool { return ls[i].rva > rva }) - 1
	if i < 0 || rva-ls[i].rva >= uint64(ls[i].size) {
		return 0, false
	}
	return int(fn.lines[0]) + i, true
}

// LineAt returns the line record containing rva: its file, line, start and
// size. Breakpad's stack output prints "[file : line + 0x(pc-addr)]".
func (f *File) LineAt(rva uint64) (file string, line int, addr, size uint64, ok bool) {
	fi, contains := f.findFunc(rva)
	if !contains {
		return "", 0, 0, 0, false
	}
	li, ok := f.lineIn(&f.funcs[fi], rva)
	if !ok {
		return "", 0, 0, 0, false
	}
	l := f.lines[li]
	return f.fileName(l.file), int(l.line), l.rva, uint64(l.size), true
}

// inlinesAt returns the inline chain at rva, innermost first: the deepest
// nesting level first, one entry per level.
func (f *File) inlinesAt(fn *funcRec, rva uint64, file string, line int) []symtab.Inline {
	var hits []inlineRange
	for _, r := range f.inlRanges[fn.inl[0]:fn.inl[1]] {
		if rva >= r.rva && rva-r.rva < r.size {
			hits = append(hits, r)
		}
	}
	if len(hits) == 0 {
		return nil
	}
	sort.SliceStable(hits, func(i, j int) bool { return f.inlines[hits[i].rec].nest > f.inlines[hits[j].rec].nest })
	out := make([]symtab.Inline, 0, len(hits))
	for i, h := range hits {
		rec := f.inlines[h.rec]
		if i > 0 && f.inlines[hits[i-1].rec].nest == rec.nest {
			continue // two ranges of one level claim rva: keep the first
		}
		name := ""
		if sp, ok := f.origins[rec.origin]; ok {
			name = f.s(sp)
		}
		out = append(out, symtab.Inline{Name: name, File: file, Line: line,
			CallFile: f.fileName(rec.callFile), CallLine: int(rec.callLine), Addr: h.rva})
		file, line = f.fileName(rec.callFile), int(rec.callLine)
	}
	return out
}

// Symbols yields every FUNC and PUBLIC in ascending RVA order, FUNCs
// first at equal addresses, without line or inline information.
func (f *File) Symbols(yield func(symtab.Symbol) bool) {
	i, j := 0, 0
	for i < len(f.funcs) || j < len(f.publics) {
		if j >= len(f.publics) || (i < len(f.funcs) && f.funcs[i].rva <= f.publics[j].rva) {
			fn := f.funcs[i]
			i++
			if !yield(symtab.Symbol{Name: f.s(fn.name), Addr: fn.rva, Size: fn.size, Multiple: fn.multiple}) {
				return
			}
			continue
		}
		p := f.publics[j]
		j++
		if !yield(symtab.Symbol{Name: f.s(p.name), Addr: p.rva, Multiple: p.multiple}) {
			return
		}
	}
}

var _ symtab.Table = (*File)(nil)
