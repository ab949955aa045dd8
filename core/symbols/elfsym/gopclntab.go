package elfsym

import (
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// The magic numbers that start a Go pclntab, one per layout. See
// https://go.dev/s/go12symtab and internal/abi.PCLnTabMagic.
const (
	pclnGo12  = 0xfffffffb // Go 1.2 through 1.15
	pclnGo116 = 0xfffffffa // Go 1.16 and 1.17
	pclnGo118 = 0xfffffff0 // Go 1.18 and 1.19
	pclnGo120 = 0xfffffff1 // Go 1.20 and later
)

// errBadPclntab says a .gopclntab failed the sanity checks run before
// debug/gosym sees it.
var errBadPclntab = errors.New("malformed .gopclntab")

// goTable is the functions of a Go binary's .gopclntab, the table the Go
// runtime itself uses for tracebacks: it survives -ldflags=-w (no DWARF)
// and, in section form, -s (no .symtab).
type goTable struct {
	base  uint64        // link base: RVA = PC − base
	funcs []dwarftab.Fn // RVAs, ascending
	// mu guards tab: gosym memoises strings in unlocked maps as it reads
	// file names, so concurrent lookups would race.
	mu  sync.Mutex
	tab *gosym.Table
}

// readGopclntab returns the .gopclntab functions of f, nil when it has
// none or the table is malformed.
func readGopclntab(f *elf.File, base uint64) (gt *goTable) {
	defer func() {
		if recover() != nil {
			gt = nil
		}
	}()
	sec := f.Section(".gopclntab")
	if sec == nil {
		sec = f.Section(".data.rel.ro.gopclntab") // PIEs of older Go releases
	}
	if sec == nil || sec.Type == elf.SHT_NOBITS || sec.Size == 0 {
		return nil
	}
	data, err := sec.Data()
	if err != nil || checkPclntab(data) != nil {
		return nil
	}
	return newGoTable(data, textStart(f, sec, data), base)
}

// newGoTable reads a pclntab whose PCs count from text (Go 1.18 and
// later) into RVAs from base; nil when it is malformed or names nothing.
func newGoTable(data []byte, text, base uint64) (gt *goTable) {
	defer func() {
		if recover() != nil {
			gt = nil
		}
	}()
	if checkPclntab(data) != nil {
		return nil
	}
	tab, err := gosym.NewTable(nil, gosym.NewLineTable(data, text))
	if err != nil || len(tab.Funcs) == 0 {
		return nil
	}
	gt = &goTable{base: base, tab: tab}
	for _, fn := range tab.Funcs {
		if fn.Entry < base || fn.End <= fn.Entry || fn.Name == "" {
			continue
		}
		gt.funcs = append(gt.funcs, dwarftab.Fn{Name: fn.Name, Low: fn.Entry - base, High: fn.End - base})
	}
	if len(gt.funcs) == 0 {
		return nil
	}
	sortFns(gt.funcs)
	return gt
}

// textStart returns the address of runtime.text, from which Go 1.18 and
// later tables count PCs (older ones hold PCs and ignore it). cgo
// binaries place it after C code in .text, so .text's start is only the
// last resort: the runtime.text symbol comes first (absent with -s),
// then the text field of runtime.firstmoduledata, which is what the
// runtime itself uses (the header's copy is no longer written).
func textStart(f *elf.File, sec *elf.Section, data []byte) uint64 {
	if syms, err := f.Symbols(); err == nil {
		for _, s := range syms {
			if s.Name == "runtime.text" && s.Value != 0 {
				return s.Value
			}
		}
	}
	if t, ok := moduledataText(f, sec, data); ok {
		return t
	}
	if text := f.Section(".text"); text != nil {
		return text.Addr
	}
	return 0
}

// maxModuledataScan bounds the data searched for the module data.
const maxModuledataScan = 64 << 20

// moduledataText finds runtime.firstmoduledata in the data sections (Go
// 1.26 gives it its own, .go.module) of a
// Go 1.18+ binary: a word holding the pclntab's address (its pcHeader
// field), followed by the funcnametab slice at the address the header
// gives. Its text field is the 23rd word (pcHeader, six slices,
// findfunctab, minpc, maxpc, text), a layout unchanged since Go 1.16.
// In a PIE these words are dynamic-relocation targets too; Go's linker
// and GNU ld still write the link-time values, and where a linker does
// not, nothing matches and the caller falls back to .text.
func moduledataText(f *elf.File, sec *elf.Section, data []byte) (uint64, bool) {
	if len(data) < 8+4*8 {
		return 0, false
	}
	ps := int(data[7])
	if ps != 4 && ps != 8 {
		return 0, false
	}
	bo := f.ByteOrder
	if m := bo.Uint32(data); m != pclnGo118 && m != pclnGo120 {
		return 0, false
	}
	word := func(b []byte, i int) uint64 {
		if ps == 4 {
			return uint64(bo.Uint32(b[i*4:]))
		}
		return bo.Uint64(b[i*8:])
	}
	funcnames := sec.Addr + word(data[8:], 3)
	const textWord, words = 22, 24
	for _, name := range []string{".go.module", ".noptrdata", ".data", ".data.rel.ro"} {
		ds := f.Section(name)
		if ds == nil || ds.Type == elf.SHT_NOBITS || ds.Size > maxModuledataScan {
			continue
		}
		b, err := ds.Data()
		if err != nil {
			continue
		}
		for off := 0; off+words*ps <= len(b); off += ps {
			md := b[off:]
			if word(md, 0) != sec.Addr || word(md, 1) != funcnames {
				continue
			}
			text, minpc, maxpc, etext := word(md, textWord), word(md, 20), word(md, 21), word(md, textWord+1)
			if text != 0 && text <= minpc && minpc <= maxpc && maxpc <= etext {
				return text, true
			}
		}
	}
	return 0, false
}

// lookup returns the function containing rva with the file and line.
func (g *goTable) lookup(rva uint64) (dwarftab.Fn, string, int, bool) {
	if g == nil {
		return dwarftab.Fn{}, "", 0, false
	}
	f, ok := dwarftab.Containing(g.funcs, rva)
	if !ok {
		return dwarftab.Fn{}, "", 0, false
	}
	file, line := g.line(rva)
	return f, file, line, true
}

// line returns the source position at rva, "" and 0 when unknown.
func (g *goTable) line(rva uint64) (file string, line int) {
	if g == nil {
		return "", 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	defer func() {
		if recover() != nil {
			file, line = "", 0
		}
	}()
	file, line, fn := g.tab.PCToLine(rva + g.base)
	if fn == nil {
		return "", 0
	}
	return file, line
}

// checkPclntab checks what debug/gosym trusts: the header, that the
// function table fits, and that the function names add up to a size the
// table justifies. gosym sizes its function slice from the header's count
// and copies every name eagerly, so a hostile count or name offsets all
// pointing into one long run without a NUL would cost memory and time far
// beyond the file's size.
func checkPclntab(b []byte) error {
	if len(b) < 16 || b[4] != 0 || b[5] != 0 {
		return errBadPclntab
	}
	if q := b[6]; q != 1 && q != 2 && q != 4 {
		return errBadPclntab
	}
	ps := uint64(b[7])
	if ps != 4 && ps != 8 {
		return errBadPclntab
	}
	var bo binary.ByteOrder = binary.LittleEndian
	magic := bo.Uint32(b)
	switch magic {
	case pclnGo12, pclnGo116, pclnGo118, pclnGo120:
	default:
		bo = binary.BigEndian
		magic = bo.Uint32(b)
	}
	size := uint64(len(b))
	uint := func(off, n uint64) (uint64, bool) {
		if off > size || n > size-off {
			return 0, false
		}
		if n == 4 {
			return uint64(bo.Uint32(b[off:])), true
		}
		return bo.Uint64(b[off:]), true
	}
	word := func(i uint64) (uint64, bool) { return uint(8+i*ps, ps) }
	var (
		nfunc, functab, funcdata, names uint64
		field, entry                    = ps, ps // functab field size, _func entry size
		ok                              bool
	)
	switch magic {
	case pclnGo12:
		nfunc, ok = word(0)
		functab = 8 + ps
	case pclnGo116:
		var ok1, ok2 bool
		nfunc, ok = word(0)
		names, ok1 = word(2)
		funcdata, ok2 = word(6)
		functab = funcdata
		ok = ok && ok1 && ok2
	case pclnGo118, pclnGo120:
		var ok1, ok2 bool
		nfunc, ok = word(0)
		names, ok1 = word(3)
		funcdata, ok2 = word(7)
		functab = funcdata
		field, entry = 4, 4
		ok = ok && ok1 && ok2
	default:
		return errBadPclntab
	}
	if !ok || nfunc == 0 || functab > size || names > size || funcdata > size {
		return errBadPclntab
	}
	if nfunc > (size-functab)/field/2 {
		return errBadPclntab
	}
	if _, ok := uint(functab+2*nfunc*field, field); !ok { // the end PC
		return errBadPclntab
	}
	// Real names total well under the table's size (each is stored once);
	// allow the whole table twice over before calling it hostile.
	budget := 2*size + 1<<16
	var total uint64
	for i := uint64(0); i < nfunc; i++ {
		off, ok := uint(functab+(2*i+1)*field, field)
		if !ok || off > size {
			return errBadPclntab
		}
		nameOff, ok := uint(funcdata+off+entry, 4) // _func.nameOff follows the entry
		if !ok || names+nameOff > size {
			return errBadPclntab
		}
		n := 0
		for _, c := range b[names+nameOff:] {
			if c == 0 {
				break
			}
			n++
			if total+uint64(n) > budget {
				return errBadPclntab
			}
		}
		total += uint64(n)
	}
	return nil
}
