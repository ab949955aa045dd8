package pdb

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sort"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// C13 line information (https://llvm.org/docs/PDB/ModiStream.html and
// LLVM's CodeView DebugLinesSubsection/DebugChecksumsSubsection). A
// module stream holds, after its CodeView symbols (SymSize bytes) and the
// C11 lines, C13Size bytes of debug subsections {uint32 kind, uint32
// length, data padded to 4}. DEBUG_S_LINES subsections cover one code
// contribution (offCon, segCon, flags, cbCon) with file blocks {checksum
// offset, nLines, cbBlock} of nLines {offset, linenumStart:24 |
// deltaLineEnd:7 | fStatement:1} records, then the optional columns.
// DEBUG_S_FILECHKSMS entries {name offset in /names, cbChecksum, type,
// checksum, padded to 4} name the files.

// Line is one line record of a module's C13 line information: the code
// at RVA (up to the next record of its contribution) comes from Line of
// File.
type Line struct {
	RVA  uint32
	End  uint32 // end RVA of the DEBUG_S_LINES contribution holding the record
	Line uint32 // linenumStart; 0xFEEFEE/0xF00F00 mark hidden code
	File string
}

const (
	linesHaveColumns = 0x1 // CV_LINES_HAVE_COLUMNS
	lineNumberMask   = 0xFFFFFF
)

// modLines are a module's line records in ascending RVA order (records
// at one RVA keep their stream order).
type modLines []Line

// readNames reads the /names string table: magic 0xEFFEEFFE, hash
// version, buffer size, then the buffer of NUL-terminated strings that
// file checksum entries index by byte offset.
func (f *File) readNames() ([]byte, error) {
	i, ok := f.NamedStream("/names")
	if !ok {
		return nil, errAt(-1, 0, "no /names stream", ErrNoStream)
	}
	b, err := f.msf.stream(i)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, 0, binary.LittleEndian)
	if c.U32() != namesSignature {
		return nil, errAt(i, 0, "bad /names signature", nil)
	}
	c.U32() // hash version
	n := c.U32()
	if c.Err() != nil {
		return nil, errAt(i, c.Off(), "/names header", c.Err())
	}
	return c.Bytes(int(min(n, uint32(c.Len())))), nil
}

// Lines returns the C13 line records of module mi (an index in
// DBI.Modules), ascending by RVA. Records whose address maps to no
// section are dropped. A module without C13 lines gives none.
func (f *File) Lines(mi int) ([]Line, error) {
	d, err := f.DBI()
	if err != nil {
		return nil, err
	}
	if mi < 0 || mi >= len(d.Modules) {
		return nil, nil
	}
	m := d.Modules[mi]
	if m.SymStream < 0 || m.C13Size == 0 {
		return nil, nil
	}
	b, err := f.msf.stream(m.SymStream)
	if err != nil {
		return nil, err
	}
	return f.decodeLines(d, m, b)
}

// c13 returns the C13 debug subsections of module m's stream b.
func c13(m Module, b []byte) ([]byte, error) {
	start := uint64(m.SymSize) + uint64(m.C11Size)
	end := start + uint64(m.C13Size)
	if end > uint64(len(b)) {
		return nil, errAt(m.SymStream, int64(min(start, uint64(len(b)))), "C13 lines past the end of the module stream", nil)
	}
	return b[start:end], nil
}

// c13Subsections calls fn with the kind and data of each C13 debug
// subsection {uint32 kind, uint32 length, data padded to 4} of sub,
// stopping at the first that overruns it.
func c13Subsections(sub []byte, fn func(kind uint32, data []byte)) {
	le := binary.LittleEndian
	for pos := 0; len(sub)-pos >= 8; {
		kind, n := le.Uint32(sub[pos:]), le.Uint32(sub[pos+4:])
		if uint64(n) > uint64(len(sub)-pos-8) {
			break
		}
		data := sub[pos+8 : pos+8+int(n)]
		pos += 8 + int(n)
		pos += (4 - pos%4) % 4
		fn(kind, data)
	}
}

// fileNamer returns a memoised function naming a file checksum entry
// (its byte offset in the DEBUG_S_FILECHKSMS data chk) through the
// /names buffer; unknown entries give "".
func fileNamer(chk, names []byte) func(id uint32) string {
	fileNames := map[uint32]string{}
	return func(id uint32) string {
		if s, ok := fileNames[id]; ok {
			return s
		}
		var s string
		if uint64(id)+4 <= uint64(len(chk)) {
			if off := binary.LittleEndian.Uint32(chk[id:]); uint64(off) < uint64(len(names)) {
				s = bin.CString(names[off:])
			}
		}
		fileNames[id] = s
		return s
	}
}

func (f *File) decodeLines(d *DBI, m Module, b []byte) ([]Line, error) {
	sub, err := c13(m, b)
	if err != nil {
		return nil, err
	}
	names, _ := f.strtab() // without /names, files stay unnamed
	le := binary.LittleEndian
	type subsection struct {
		kind uint32
		data []byte
	}
	var subs []subsection
	var chk []byte
	c13Subsections(sub, func(kind uint32, data []byte) {
		switch kind {
		case debugSFileChksms:
			if chk == nil {
				chk = data
			}
		case debugSLines:
			subs = append(subs, subsection{kind, data})
		}
	})
	fileName := fileNamer(chk, names)
	var out []Line
	for _, s := range subs {
		c := bin.New(s.data, 0, le)
		offCon := c.U32()
		seg := c.U16()
		flags := c.U16()
		cbCon := c.U32()
		if c.Err() != nil {
			continue
		}
		conRVA, ok := d.RVA(seg, offCon)
		if !ok {
			continue
		}
		conEnd := conRVA + d.omapSize(seg, offCon, cbCon, conRVA)
		if conEnd < conRVA {
			conEnd = ^uint32(0)
		}
		recSize := 8
		if flags&linesHaveColumns != 0 {
			recSize = 12
		}
		for c.Len() >= 12 {
			fileID, nLines, cbBlock := c.U32(), c.U32(), c.U32()
			if cbBlock < 12 || uint64(cbBlock-12) > uint64(c.Len()) {
				break
			}
			blk := c.Bytes(int(cbBlock - 12))
			n := min(uint64(nLines), uint64(len(blk)/recSize))
			file := fileName(fileID)
			for k := range int(n) {
				off, fl := le.Uint32(blk[8*k:]), le.Uint32(blk[8*k+4:])
				rva, ok := d.RVA(seg, offCon+off)
				if !ok {
					continue
				}
				out = append(out, Line{RVA: rva, End: conEnd, Line: fl & lineNumberMask, File: file})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Line) int { return cmp.Compare(a.RVA, b.RVA) })
	return out, nil
}

// lineIndex gives the Table lazy per-module line records: a module's
// stream is decoded the first time a lookup lands in it, each stream at
// most once, and in all no more stream bytes than the file holds.
type lineIndex struct {
	f    *File
	d    *DBI
	mods map[int]func() *modData // by module index; modules sharing a stream share one

	mu     sync.Mutex
	budget int64
	names  map[uint32]string            // inlinee names by IPI index, under mu
	exps   map[string]map[uint32]uint32 // cross-module exports by module name, under mu
}

func newLineIndex(f *File, d *DBI) *lineIndex {
	x := &lineIndex{f: f, d: d, mods: map[int]func() *modData{}, budget: f.msf.size, names: map[uint32]string{}, exps: map[string]map[uint32]uint32{}}
	byStream := map[int]func() *modData{}
	for mi, m := range d.Modules {
		if m.SymStream < 0 || m.C13Size == 0 {
			continue
		}
		if fn, ok := byStream[m.SymStream]; ok {
			x.mods[mi] = fn
			continue
		}
		fn := sync.OnceValue(func() *modData { return x.load(m) })
		byStream[m.SymStream] = fn
		x.mods[mi] = fn
	}
	return x
}

// modData is what a module stream gives lookups: its line records and
// its inline sites.
type modData struct {
	lines modLines
	inl   modInlines
}

func (x *lineIndex) load(m Module) *modData {
	var n int64
	if m.SymStream < len(x.f.msf.streams) {
		n = int64(x.f.msf.streams[m.SymStream].size)
	}
	x.mu.Lock()
	ok := n <= x.budget
	if ok {
		x.budget -= n
	}
	x.mu.Unlock()
	if !ok {
		return &modData{}
	}
	b, err := x.f.msf.stream(m.SymStream)
	if err != nil {
		return &modData{}
	}
	ls, _ := x.f.decodeLines(x.d, m, b)
	return &modData{lines: ls, inl: x.f.decodeInlines(x.d, m, b)}
}

// lookup returns the line record of module mi at or before rva, no
// earlier than lo (the start of the symbol holding rva), whose
// contribution holds rva.
func (x *lineIndex) lookup(mi int, rva, lo uint32) (Line, bool) {
	if x == nil {
		return Line{}, false
	}
	fn, ok := x.mods[mi]
	if !ok {
		return Line{}, false
	}
	ls := fn().lines
	i := sort.Search(len(ls), func(i int) bool { return ls[i].RVA > rva }) - 1
	for steps := 0; i >= 0 && ls[i].RVA >= lo && steps < 64; i, steps = i-1, steps+1 {
		if rva < ls[i].End {
			// Records can share an address (a function's opening line
			// and its first statement). As in LLVM's PDB reader, an
			// address at that record gets the first of them and an
			// address after it the last.
			for ls[i].RVA == rva && i > 0 && ls[i-1].RVA == rva && ls[i-1].End == ls[i].End {
				i--
			}
			return ls[i], true
		}
	}
	return Line{}, false
}
