package pdb

import (
	"cmp"
	"encoding/binary"
	"slices"
	"sort"
	"strings"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Inline sites. See https://llvm.org/docs/PDB/CodeViewSymbols.html,
// LLVM's SymbolRecord.h (InlineSiteSym, BinaryAnnotationIterator) and
// DebugInlineeLinesSubsection, and Microsoft's cvinfo.h.
//
// A procedure's inlined calls are S_INLINESITE records {parent, end,
// inlinee, binary annotations} (S_INLINESITE2 adds a u32 invocation count
// before the annotations) nested in it up to their S_INLINESITE_END: the
// parent of a site is the procedure (or a block of it) or the enclosing
// site. The inlinee is an IPI index (LF_FUNC_ID or LF_MFUNC_ID) naming
// the inlined function; the module's DEBUG_S_INLINEELINES subsection gives
// the file and line it starts at. The binary annotations, run from that
// line and file, give the site's code ranges (offsets from the start of
// the procedure) and the inlined function's line in each.

// Binary annotation opcodes (BinaryAnnotationsOpcode in cvinfo.h).
const (
	baInvalid                       = 0 // ends the annotations (padding)
	baCodeOffset                    = 1
	baChangeCodeOffsetBase          = 2
	baChangeCodeOffset              = 3
	baChangeCodeLength              = 4
	baChangeFile                    = 5
	baChangeLineOffset              = 6
	baChangeLineEndDelta            = 7
	baChangeRangeKind               = 8
	baChangeColumnStart             = 9
	baChangeColumnEndDelta          = 10
	baChangeCodeOffsetAndLineOffset = 11
	baChangeCodeLengthAndCodeOffset = 12
	baChangeColumnEnd               = 13
)

// IPI and TPI leaf kinds used to name inlinees.
const (
	inlLeafFuncID    = 0x1601 // LF_FUNC_ID {scope id, type, name}
	inlLeafMFuncID   = 0x1602 // LF_MFUNC_ID {parent type, type, name}
	inlLeafStringID  = 0x1605 // LF_STRING_ID {substring list id, name}
	inlLeafClass     = 0x1504 // LF_CLASS
	inlLeafStructure = 0x1505 // LF_STRUCTURE
	inlLeafUnion     = 0x1506 // LF_UNION
	inlLeafInterface = 0x1519 // LF_INTERFACE
)

// uncompress reads one CodeView compressed unsigned integer
// (CVUncompressData) from b: one byte 0xxxxxxx, two bytes 10xxxxxx
// xxxxxxxx or four bytes 110xxxxx and three more, big-endian. It returns
// the value and the bytes used, or n 0 when b is short or the encoding
// invalid.
func uncompress(b []byte) (v uint32, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	switch c := b[0]; {
	case c&0x80 == 0:
		return uint32(c), 1
	case c&0xC0 == 0x80:
		if len(b) < 2 {
			return 0, 0
		}
		return uint32(c&0x3F)<<8 | uint32(b[1]), 2
	case c&0xE0 == 0xC0:
		if len(b) < 4 {
			return 0, 0
		}
		return uint32(c&0x1F)<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), 4
	}
	return 0, 0
}

// decodeSigned undoes the sign encoding of line and column deltas
// (DecodeSignedOperand): the low bit is the sign, the rest the magnitude.
func decodeSigned(v uint32) int32 {
	if v&1 != 0 {
		return -int32(v >> 1)
	}
	return int32(v >> 1)
}

// annotationLine is one code range of an inline site from its binary
// annotations: [Off, Off+Len) relative to the procedure's start comes
// from Line of the file checksum entry File.
type annotationLine struct {
	Off, Len uint32
	Line     uint32
	File     uint32
}

// runAnnotations runs the binary annotations ann of an inline site from
// its inlinee's first line and file and returns its code ranges in the
// order emitted. An opcode that changes the code offset
// (ChangeCodeOffset, ChangeCodeOffsetAndLineOffset,
// ChangeCodeLengthAndCodeOffset) starts a range at the new offset with
// the current line and file; a range without an explicit length
// (ChangeCodeLength, ChangeCodeLengthAndCodeOffset) ends where the next
// starts, and a last one without a length is dropped. ChangeCodeLength
// also moves the code offset past the range, as in the pdb crate. The
// run stops at the first invalid opcode (0 pads the record), at a
// truncated operand or at the end of ann, so it takes at most len(ann)
// steps and yields at most len(ann) ranges.
func runAnnotations(ann []byte, line, file uint32) []annotationLine {
	var out []annotationLine
	var off, base uint32
	open := false // the last range of out has no length yet
	emit := func(length uint32, hasLen bool) {
		start := base + off
		if open {
			last := &out[len(out)-1]
			if start > last.Off {
				last.Len = start - last.Off
			}
		}
		out = append(out, annotationLine{Off: start, Len: length, Line: line, File: file})
		open = !hasLen
	}
	next := func() (uint32, bool) {
		v, n := uncompress(ann)
		if n == 0 {
			ann = nil
			return 0, false
		}
		ann = ann[n:]
		return v, true
	}
	for len(ann) > 0 {
		op, ok := next()
		if !ok || op == baInvalid || op > baChangeColumnEnd {
			break
		}
		a, ok := next()
		if !ok {
			break
		}
		switch op {
		case baCodeOffset:
			off = a
		case baChangeCodeOffsetBase:
			base = a
		case baChangeCodeOffset:
			off += a
			emit(0, false)
		case baChangeCodeLength:
			if open {
				out[len(out)-1].Len = a
				open = false
			}
			off += a
		case baChangeFile:
			file = a
		case baChangeLineOffset:
			line = uint32(int32(line) + decodeSigned(a))
		case baChangeCodeOffsetAndLineOffset:
			line = uint32(int32(line) + decodeSigned(a>>4))
			off += a & 0xF
			emit(0, false)
		case baChangeCodeLengthAndCodeOffset:
			delta, ok := next()
			if !ok {
				break
			}
			off += delta
			emit(a, true)
		case baChangeLineEndDelta, baChangeRangeKind, baChangeColumnStart, baChangeColumnEndDelta, baChangeColumnEnd:
			// columns and range kinds are not kept
		}
	}
	if open {
		out = out[:len(out)-1]
	}
	return out
}

// modInlines are the inline sites of one module's procedures.
type modInlines struct {
	procs []inlProc // ascending by RVA
	sites []inlSite
	// imports are the module's DEBUG_S_CROSSSCOPEIMPORTS entries: an
	// inlinee index with the high bit set is an import, (index>>20)&0x7FF
	// the entry and index&0xFFFFF the position in its ids, which are ids
	// local to the module named (its /names string), made global by that
	// module's DEBUG_S_CROSSSCOPEEXPORTS.
	imports []crossImport
}

type crossImport struct {
	module string
	ids    []uint32
}

// inlProc holds the code ranges of the inline sites of the procedure at
// rva, ascending by start.
type inlProc struct {
	rva    uint32
	ranges []inlRange
}

type inlSite struct {
	parent  int32  // index in modInlines.sites; -1 for a site in the procedure itself
	inlinee uint32 // IPI index
}

// inlRange is a code range of an inline site: [start, end) RVAs, run the
// start of the contiguous code of the site holding it, and the inlined
// function's line there.
type inlRange struct {
	start, end, run uint32
	line            uint32
	file            string
	site            int32
}

// decodeInlines reads the inline sites of module m, whose stream is b:
// the S_INLINESITE records of its procedures, their start lines from the
// module's DEBUG_S_INLINEELINES, run through their binary annotations.
// Sites whose procedure has no RVA, or that lie outside a procedure, are
// skipped; a broken record ends the module's sites, keeping those read.
func (f *File) decodeInlines(d *DBI, m Module, b []byte) modInlines {
	var mi modInlines
	if uint64(m.SymSize) > uint64(len(b)) || m.SymSize < 4 || binary.LittleEndian.Uint32(b) != cvSignatureC13 {
		return mi
	}
	names, _ := f.strtab()
	type start struct{ file, line uint32 }
	starts := map[uint32]start{}
	var fileName func(uint32) string
	if sub, err := c13(m, b); err == nil {
		var chk []byte
		c13Subsections(sub, func(kind uint32, data []byte) {
			switch kind {
			case debugSFileChksms:
				if chk == nil {
					chk = data
				}
			case debugSInlineeLines:
				readInlineeLines(data, func(id, file, line uint32) {
					if _, ok := starts[id]; !ok {
						starts[id] = start{file, line}
					}
				})
			case debugSCrossImports:
				mi.imports = append(mi.imports, readImports(data, names)...)
			}
		})
		fileName = fileNamer(chk, names)
	} else {
		fileName = fileNamer(nil, nil)
	}

	le := binary.LittleEndian
	// encl maps the stream offset of a site or block to the index of the
	// site it is or lies in (-1 for none), so a site's parent pointer
	// finds its enclosing site through blocks.
	encl := map[uint32]int32{}
	var (
		proc     *inlProc
		procSeg  uint16
		procOff  uint32
		procEnd  uint32
		procSite int // first index in mi.sites of the current procedure
	)
	finish := func() {
		if proc == nil {
			return
		}
		if len(proc.ranges) > 0 {
			mi.procs = append(mi.procs, *proc)
		}
		proc = nil
	}
	records(b[4:m.SymSize], m.SymStream, 4, func(kind uint16, pos int, data []byte) {
		off := uint32(pos) + 4 // stream offset of the record
		switch kind {
		case sGProc32, sLProc32, sGProc32ID, sLProc32ID:
			finish()
			c := bin.New(data, 0, le)
			c.U32() // parent
			end := c.U32()
			c.Skip(20) // next, length, debug start/end, type
			o := c.U32()
			seg := c.U16()
			if c.Err() != nil {
				return
			}
			rva, ok := d.RVA(seg, o)
			if !ok {
				return
			}
			proc, procSeg, procOff, procEnd, procSite = &inlProc{rva: rva}, seg, o, end, len(mi.sites)
		case sBlock32, sThunk32, sWith32, sSepCode:
			if len(data) >= 4 {
				if p, ok := encl[le.Uint32(data)]; ok {
					encl[off] = p
				}
			}
		case sInlineSite, sInlineSite2:
			if proc == nil || off >= procEnd && procEnd != 0 {
				return
			}
			c := bin.New(data, 0, le)
			parentPtr := c.U32()
			c.U32() // end
			inlinee := c.U32()
			if kind == sInlineSite2 {
				c.U32() // invocations
			}
			if c.Err() != nil {
				return
			}
			parent := int32(-1)
			if p, ok := encl[parentPtr]; ok && int(p) >= procSite {
				parent = p
			}
			si := int32(len(mi.sites))
			mi.sites = append(mi.sites, inlSite{parent: parent, inlinee: inlinee})
			encl[off] = si
			st, ok := starts[inlinee]
			if !ok {
				return // no start line: the site's lines would be relative to nothing
			}
			ls := runAnnotations(c.Bytes(c.Len()), st.line, st.file)
			first := len(proc.ranges)
			for _, l := range ls {
				if l.Len == 0 {
					continue
				}
				rva, ok := d.RVA(procSeg, procOff+l.Off)
				if !ok {
					continue
				}
				n := d.omapSize(procSeg, procOff+l.Off, l.Len, rva)
				end := rva + n
				if end < rva {
					end = ^uint32(0)
				}
				proc.ranges = append(proc.ranges, inlRange{start: rva, end: end, line: l.Line & lineNumberMask, file: fileName(l.File), site: si})
			}
			rs := proc.ranges[first:]
			slices.SortStableFunc(rs, func(a, b inlRange) int { return cmp.Compare(a.start, b.start) })
			for i := range rs {
				rs[i].run = rs[i].start
				if i > 0 && rs[i].start <= rs[i-1].end && rs[i].start >= rs[i-1].run {
					rs[i].run = rs[i-1].run
				}
			}
		}
	})
	finish()
	for i := range mi.procs {
		rs := mi.procs[i].ranges
		slices.SortStableFunc(rs, func(a, b inlRange) int { return cmp.Compare(a.start, b.start) })
	}
	slices.SortStableFunc(mi.procs, func(a, b inlProc) int { return cmp.Compare(a.rva, b.rva) })
	return mi
}

// readInlineeLines reads a DEBUG_S_INLINEELINES subsection: a signature,
// 0 (CV_INLINEE_SOURCE_LINE_SIGNATURE) for {inlinee, file id, source
// line} entries, 1 (the _EX form) for entries followed by a count of
// extra file ids and the ids; fn gets each inlinee's file id (a checksum
// entry offset) and first line.
func readInlineeLines(data []byte, fn func(id, file, line uint32)) {
	c := bin.New(data, 0, binary.LittleEndian)
	sig := c.U32()
	if c.Err() != nil || sig > 1 {
		return
	}
	for c.Len() >= 12 {
		id, file, line := c.U32(), c.U32(), c.U32()
		if sig == 1 {
			n := c.U32()
			if c.Err() != nil || uint64(n)*4 > uint64(c.Len()) {
				return
			}
			c.Skip(int(n) * 4)
		}
		if c.Err() != nil {
			return
		}
		fn(id, file, line)
	}
}

// readImports reads a DEBUG_S_CROSSSCOPEIMPORTS subsection: entries
// {module name offset in /names, count, count ids}.
func readImports(data, names []byte) []crossImport {
	var out []crossImport
	c := bin.New(data, 0, binary.LittleEndian)
	for c.Len() >= 8 {
		off, n := c.U32(), c.U32()
		if uint64(n)*4 > uint64(c.Len()) {
			break
		}
		imp := crossImport{ids: make([]uint32, n)}
		for i := range imp.ids {
			imp.ids[i] = c.U32()
		}
		if uint64(off) < uint64(len(names)) {
			imp.module = bin.CString(names[off:])
		}
		out = append(out, imp)
	}
	return out
}

// readExports reads a DEBUG_S_CROSSSCOPEEXPORTS subsection: {local id,
// global id} pairs.
func readExports(data []byte, into map[uint32]uint32) {
	le := binary.LittleEndian
	for i := 0; i+8 <= len(data); i += 8 {
		into[le.Uint32(data[i:])] = le.Uint32(data[i+4:])
	}
}

// exports returns the cross-module exports of the module named name (as
// a DEBUG_S_CROSSSCOPEIMPORTS entry names it: the object file, compared
// without case), read once per module and charged to the budget.
func (x *lineIndex) exports(name string) map[uint32]uint32 {
	x.mu.Lock()
	defer x.mu.Unlock()
	if e, ok := x.exps[strings.ToLower(name)]; ok {
		return e
	}
	e := map[uint32]uint32{}
	x.exps[strings.ToLower(name)] = e
	for _, m := range x.d.Modules {
		if !strings.EqualFold(m.Name, name) || m.SymStream < 0 || m.C13Size == 0 {
			continue
		}
		var n int64
		if m.SymStream < len(x.f.msf.streams) {
			n = int64(x.f.msf.streams[m.SymStream].size)
		}
		if n > x.budget {
			break
		}
		x.budget -= n
		b, err := x.f.msf.stream(m.SymStream)
		if err != nil {
			break
		}
		if sub, err := c13(m, b); err == nil {
			c13Subsections(sub, func(kind uint32, data []byte) {
				if kind == debugSCrossExports {
					readExports(data, e)
				}
			})
		}
		break
	}
	return e
}

// globalID turns a site's inlinee index into an IPI index: itself, or
// for a cross-module import the exporting module's global id (0 when
// it cannot be resolved).
func (x *lineIndex) globalID(inl *modInlines, id uint32) uint32 {
	if id&0x80000000 == 0 {
		return id
	}
	mod, idx := (id>>20)&0x7FF, id&0xFFFFF
	if int(mod) >= len(inl.imports) || int(idx) >= len(inl.imports[mod].ids) {
		return 0
	}
	imp := inl.imports[mod]
	return x.exports(imp.module)[imp.ids[idx]]
}

// inlines returns the inline chain at rva in the procedure at procRVA of
// module mi, innermost first; outerFile and outerLine are the
// procedure's own line there (the call site of the outermost inline).
func (x *lineIndex) inlines(mi int, procRVA, rva uint32, outerFile string, outerLine int) []symtab.Inline {
	if x == nil {
		return nil
	}
	fn, ok := x.mods[mi]
	if !ok {
		return nil
	}
	inl := &fn().inl
	pi, ok := slices.BinarySearchFunc(inl.procs, procRVA, func(p inlProc, r uint32) int { return cmp.Compare(p.rva, r) })
	if !ok {
		return nil
	}
	rs := inl.procs[pi].ranges
	// Ranges are sorted by start: those starting after rva cannot hold it.
	n := sort.Search(len(rs), func(i int) bool { return rs[i].start > rva })
	var hits []inlRange // the first range of each site holding rva
	for _, r := range rs[:n] {
		if rva >= r.end || slices.ContainsFunc(hits, func(h inlRange) bool { return h.site == r.site }) {
			continue
		}
		hits = append(hits, r)
	}
	if len(hits) == 0 {
		return nil
	}
	depth := func(si int32) int {
		d := 0
		for ; si >= 0 && d <= len(inl.sites); d++ {
			si = inl.sites[si].parent
		}
		return d
	}
	inner := hits[0]
	for _, h := range hits[1:] {
		if depth(h.site) > depth(inner.site) {
			inner = h
		}
	}
	hitOf := func(si int32) (inlRange, bool) {
		for _, h := range hits {
			if h.site == si {
				return h, true
			}
		}
		return inlRange{}, false
	}
	var out []symtab.Inline
	for si := inner.site; si >= 0 && len(out) <= len(inl.sites); si = inl.sites[si].parent {
		h, ok := hitOf(si)
		in := symtab.Inline{Name: x.inlineeName(x.globalID(inl, inl.sites[si].inlinee))}
		if ok {
			in.File, in.Line, in.Addr = h.file, int(h.line), uint64(h.run)
		} else {
			in.Addr = uint64(rva)
		}
		if n := len(out); n > 0 {
			out[n-1].CallFile, out[n-1].CallLine = in.File, in.Line
		}
		out = append(out, in)
	}
	out[len(out)-1].CallFile, out[len(out)-1].CallLine = outerFile, outerLine
	return out
}

// inlineeName names an IPI function id: LF_FUNC_ID's name qualified by
// its scope (an LF_STRING_ID such as "std"), LF_MFUNC_ID's by its class
// (the TPI record's name, read only when such a name is asked for).
// MSVC's anonymous namespaces ("?A0xc3a0617d") become "`anonymous
// namespace'", as in procedure names. Names are memoised.
func (x *lineIndex) inlineeName(id uint32) string {
	if id == 0 {
		return ""
	}
	x.mu.Lock()
	s, ok := x.names[id]
	x.mu.Unlock()
	if ok {
		return s
	}
	s = anonNamespaces(x.f.funcIDName(id))
	x.mu.Lock()
	x.names[id] = s
	x.mu.Unlock()
	return s
}

func (f *File) funcIDName(id uint32) string {
	ipi, err := f.ipi()
	if err != nil {
		return ""
	}
	kind, body, ok := ipi.record(id)
	if !ok || kind != inlLeafFuncID && kind != inlLeafMFuncID {
		return ""
	}
	c := bin.New(body, 0, binary.LittleEndian)
	scope := c.U32()
	c.U32() // function type
	name := bin.CString(c.Bytes(c.Len()))
	if c.Err() != nil {
		return ""
	}
	var prefix string
	if kind == inlLeafFuncID {
		if k, b, ok := ipi.record(scope); ok && k == inlLeafStringID && len(b) > 4 {
			prefix = bin.CString(b[4:])
		}
	} else {
		prefix = f.className(scope)
	}
	if prefix != "" {
		return prefix + "::" + name
	}
	return name
}

// className returns the name of the TPI class, structure, union or
// interface record ti, or "".
func (f *File) className(ti uint32) string {
	tpi, err := f.tpi()
	if err != nil {
		return ""
	}
	kind, body, ok := tpi.record(ti)
	if !ok {
		return ""
	}
	c := bin.New(body, 0, binary.LittleEndian)
	switch kind {
	case inlLeafClass, inlLeafStructure, inlLeafInterface:
		c.Skip(16) // count, properties, field list, derived, vshape
	case inlLeafUnion:
		c.Skip(8) // count, properties, field list
	default:
		return ""
	}
	numeric(c) // size
	s := bin.CString(c.Bytes(c.Len()))
	if c.Err() != nil {
		return ""
	}
	return s
}

// anonNamespaces replaces MSVC's anonymous namespace names, "?A0x"
// followed by hex digits, with "`anonymous namespace'".
func anonNamespaces(s string) string {
	const mark = "?A0x"
	if !strings.Contains(s, mark) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, mark)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(mark)
		for j < len(s) && isHex(s[j]) {
			j++
		}
		b.WriteString(s[:i])
		if j > i+len(mark) {
			b.WriteString("`anonymous namespace'")
		} else {
			b.WriteString(mark)
		}
		s = s[j:]
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
