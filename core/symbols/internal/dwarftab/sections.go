package dwarftab

import (
	"debug/dwarf"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// Section is one DWARF section whose bytes are produced on demand: a
// compressed section is inflated only as far as a caller asks, which is
// most of what reading a unit near its start saves.
type Section interface {
	// Size returns the section's (uncompressed) size.
	Size() int
	// Prefix returns the first n bytes of the section, all of it when n
	// is larger; fewer, with an error, when they cannot be produced.
	// Slices returned stay valid and unchanged.
	Prefix(n int) ([]byte, error)
}

// Bytes is a Section held in memory.
type Bytes []byte

// Size implements Section.
func (b Bytes) Size() int { return len(b) }

// Prefix implements Section.
func (b Bytes) Prefix(n int) ([]byte, error) { return b[:min(max(n, 0), len(b))], nil }

// Sections are the DWARF sections of a file that Lazy reads; a nil one is
// absent. .debug_loclists, .debug_frame and .debug_types are not needed
// for names and lines.
type Sections struct {
	Order      binary.ByteOrder
	Info       Section
	Abbrev     Section
	Line       Section
	Str        Section
	LineStr    Section
	StrOffsets Section
	Addr       Section
	RngLists   Section
	Ranges     Section
	Aranges    Section
}

// NewLazy returns the DWARF in s read on demand, addresses made relative
// to base. linkageName is as Tables.LinkageName. s.Info and s.Order must
// be set.
//
// A unit is read through a debug/dwarf Data made for it alone: its own
// bytes at their offset, behind one filler unit spanning everything
// before it (debug/dwarf parses every unit's header and abbreviation
// table when a Data is made, which for glibc costs as much as inflating
// .debug_info). Offsets are the file's, so references within the unit
// need nothing; one to another unit (DW_FORM_ref_addr: LTO, dwz) is
// followed in a Data of every unit, made the first time it is needed.
func NewLazy(s Sections, base uint64, linkageName func(string) string) *Lazy {
	src := &sectionSource{s: s}
	src.small = sync.OnceValues(src.readSmall)
	src.whole = sync.OnceValues(src.readAll)
	return newLazy(src, base, linkageName)
}

// sectionSource is a source over Sections: units are keyed by the offset
// of their header in .debug_info, as .debug_aranges names them.
type sectionSource struct {
	s     Sections
	small func() (smallSections, error)
	whole func() (*dwarf.Data, error)
	built atomic.Pointer[dwarf.Data] // whole's Data once made

	mu    sync.Mutex
	spare []byte // scratch buffer for a unit's Data, when not in use
	ahead sync.Once
}

// smallSections are the sections read whole for any unit: they are
// indexed from everywhere and small next to .debug_info.
type smallSections struct {
	str, lineStr, strOffsets, addr, rngLists, ranges []byte
}

func readWhole(s Section) ([]byte, error) {
	if s == nil {
		return nil, nil
	}
	return s.Prefix(s.Size())
}

func (s *sectionSource) readSmall() (smallSections, error) {
	var out smallSections
	var errs []error
	for _, x := range []struct {
		sec Section
		dst *[]byte
	}{
		{s.s.Str, &out.str}, {s.s.LineStr, &out.lineStr}, {s.s.StrOffsets, &out.strOffsets},
		{s.s.Addr, &out.addr}, {s.s.RngLists, &out.rngLists}, {s.s.Ranges, &out.ranges},
	} {
		var err error
		*x.dst, err = readWhole(x.sec)
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// newData makes a Data of info, abbrev, line and the small sections.
func newData(info, abbrev, line []byte, sm smallSections) (*dwarf.Data, error) {
	d, err := dwarf.New(abbrev, nil, nil, info, line, nil, sm.ranges, sm.str)
	if err != nil {
		return nil, err
	}
	for _, x := range []struct {
		name string
		b    []byte
	}{
		{".debug_addr", sm.addr}, {".debug_line_str", sm.lineStr},
		{".debug_str_offsets", sm.strOffsets}, {".debug_rnglists", sm.rngLists},
	} {
		if x.b != nil {
			if err := d.AddSection(x.name, x.b); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// readAll makes a Data of every unit.
func (s *sectionSource) readAll() (*dwarf.Data, error) {
	sm, err := s.small()
	if err != nil {
		return nil, err
	}
	info, err := readWhole(s.s.Info)
	if err != nil {
		return nil, err
	}
	abbrev, err := readWhole(s.s.Abbrev)
	if err != nil {
		return nil, err
	}
	line, err := readWhole(s.s.Line)
	if err != nil {
		return nil, err
	}
	d, err := newData(info, abbrev, line, sm)
	if err == nil {
		s.built.Store(d)
	}
	return d, err
}

func (s *sectionSource) all() (*dwarf.Data, error) { return s.whole() }

// aranges reads .debug_aranges (DWARF 5 section 6.1.2): sets of address
// ranges, each naming the unit (by header offset) they belong to.
func (s *sectionSource) aranges() (map[dwarf.Offset][][2]uint64, bool, error) {
	if s.s.Aranges == nil || s.s.Aranges.Size() == 0 {
		return nil, false, nil
	}
	b, err := readWhole(s.s.Aranges)
	if err != nil {
		return nil, false, fmt.Errorf("dwarf: .debug_aranges: %w", err)
	}
	order := s.s.Order
	out := map[dwarf.Offset][][2]uint64{}
	for off := 0; off < len(b); {
		c := cursor{b: b, off: off, order: order}
		n, is64 := c.length()
		end := c.off + int(n)
		if c.err != nil || n > uint64(len(b)) || end > len(b) || end < c.off {
			return nil, false, fmt.Errorf("dwarf: .debug_aranges set at %#x: bad length", off)
		}
		c.b = b[:end]
		vers := c.u16()
		unit := c.offset(is64)
		asize, ssize := int(c.u8()), int(c.u8())
		if c.err != nil || vers != 2 || (asize != 4 && asize != 8) || ssize > 8 {
			return nil, false, fmt.Errorf("dwarf: .debug_aranges set at %#x: unsupported header", off)
		}
		if unit >= uint64(s.s.Info.Size()) {
			return nil, false, fmt.Errorf("dwarf: .debug_aranges set at %#x: unit %#x outside .debug_info", off, unit)
		}
		// Tuples start at a multiple of their size from the set's start.
		tuple := 2*asize + ssize
		if pad := (c.off - off) % (2 * asize); pad != 0 {
			c.off += 2*asize - pad
		}
		key := dwarf.Offset(unit)
		if out[key] == nil {
			out[key] = [][2]uint64{}
		}
		for c.off+tuple <= end {
			c.off += ssize
			addr, size := c.addr(asize), c.addr(asize)
			if size != 0 && addr+size > addr {
				out[key] = append(out[key], [2]uint64{addr, addr + size})
			}
		}
		off = end
	}
	return out, true, nil
}

// units walks every unit header of .debug_info.
func (s *sectionSource) units(skip func(dwarf.Offset) bool, yield func(dwarf.Offset, *dwarf.Data, *dwarf.Entry)) error {
	info, err := readWhole(s.s.Info)
	if err != nil {
		return err
	}
	var todo []unitHeader
	for off := 0; off < len(info); {
		h, err := parseUnitHeader(info, off, s.s.Order)
		if err == nil && int(h.end) > len(info) {
			err = fmt.Errorf("dwarf: unit at %#x: past the end of .debug_info", off)
		}
		if err != nil {
			return err
		}
		if h.top != 0 && !skip(dwarf.Offset(off)) {
			todo = append(todo, h)
		}
		off = int(h.end)
	}
	if len(todo) == 0 {
		return nil
	}
	d, err := s.whole()
	if err != nil {
		return err
	}
	r := d.Reader()
	for _, h := range todo {
		r.Seek(h.top)
		e, err := r.Next()
		if err != nil {
			return err
		}
		if e != nil {
			yield(h.off, d, e)
		}
	}
	return nil
}

// maxUnitHeader is the longest unit header: a 64-bit DWARF 5 type unit.
const maxUnitHeader = 12 + 2 + 2 + 8 + 8 + 8

// header parses the header of the unit at key.
func (s *sectionSource) header(key dwarf.Offset) (unitHeader, error) {
	b, err := s.s.Info.Prefix(int(key) + maxUnitHeader)
	if int(key) >= len(b) && err != nil {
		return unitHeader{}, err
	}
	h, err := parseUnitHeader(b, int(key), s.s.Order)
	if err == nil && h.top == 0 {
		err = fmt.Errorf("dwarf: no unit at %#x", key)
	}
	return h, err
}

func (s *sectionSource) unit(key dwarf.Offset, read func(*dwarf.Data, dwarf.Offset, deref)) error {
	h, err := s.header(key)
	if err != nil {
		return err
	}
	if d := s.built.Load(); d != nil {
		d, err := s.whole()
		if err != nil {
			return err
		}
		read(d, h.top, readerDeref(d))
		return nil
	}
	info, err := s.s.Info.Prefix(int(h.end))
	if len(info) < int(h.end) {
		if err == nil {
			err = fmt.Errorf("dwarf: unit at %#x: past the end of .debug_info", key)
		}
		return err
	}
	syn := s.scratch(int(h.end))
	defer s.release(syn)
	if !writeFiller(syn[:h.off], h, s.s.Order) {
		d, err := s.whole()
		if err != nil {
			return err
		}
		read(d, h.top, readerDeref(d))
		return nil
	}
	copy(syn[h.off:], info[h.off:h.end])
	sm, err := s.small()
	if err != nil {
		return err
	}
	d, abbrev, err := s.unitData(syn, nil, h, sm)
	if err != nil {
		return err
	}
	// The unit's line program, then the Data again with it: a Data's
	// sections are fixed when it is made.
	r := d.Reader()
	r.Seek(h.top)
	if top, err := r.Next(); err == nil && top != nil {
		if stmt, ok := top.Val(dwarf.AttrStmtList).(int64); ok && stmt >= 0 && s.s.Line != nil {
			if line, ok := linePrefix(s.s.Line, int(stmt), s.s.Order); ok {
				if d2, err := newData(syn, abbrev, line, sm); err == nil {
					d = d2
				}
			}
		}
	}
	local := readerDeref(d)
	var other deref
	ref := func(off dwarf.Offset) *dwarf.Entry {
		if off >= h.off && off < h.end {
			return local(off)
		}
		if other == nil {
			whole, err := s.whole()
			if err != nil {
				return nil
			}
			other = readerDeref(whole)
		}
		return other(off)
	}
	read(d, h.top, ref)
	return nil
}

// scratch returns a buffer of n bytes for a unit's Data: the one kept
// from earlier reads when it is free and large enough. Only the filler
// headers and the unit's bytes are written and read; what the rest holds
// does not matter, so the buffer need not be cleared, and reading a unit
// costs a copy of the unit, not of all before it (allocating and zeroing
// megabytes per unit cost more than parsing the unit).
func (s *sectionSource) scratch(n int) []byte {
	s.mu.Lock()
	b := s.spare
	s.spare = nil
	s.mu.Unlock()
	if cap(b) < n {
		// Room to spare: later units lie further on.
		b = make([]byte, min(2*n, max(n, s.s.Info.Size())))
	}
	return b[:n]
}

// release keeps b for the next unit: nothing read from a unit's Data
// refers into it once the unit is read (names are copied into strings).
func (s *sectionSource) release(b []byte) {
	s.mu.Lock()
	if cap(b) > cap(s.spare) {
		s.spare = b
	}
	s.mu.Unlock()
}

func (s *sectionSource) readAhead() {
	s.ahead.Do(func() { go readAhead(s.s.Info) })
}

// readAhead produces sec, up to readAheadMax, in steps, so that a caller
// asking for a prefix meanwhile waits at most one step.
func readAhead(sec Section) {
	defer func() { recover() }() // errors reach whoever asks for the bytes
	for n := readAheadStep; n <= readAheadMax; n += readAheadStep {
		if b, err := sec.Prefix(n); err != nil || len(b) >= sec.Size() {
			return
		}
	}
}

// readAheadStep is how much readAhead inflates at a time, readAheadMax
// where it stops.
const (
	readAheadStep = 256 << 10
	readAheadMax  = 64 << 20
)

// unitData makes a Data of syn and as much of .debug_abbrev as h's table
// needs (its length is known only by parsing it: a table cut short fails
// to parse).
func (s *sectionSource) unitData(syn, line []byte, h unitHeader, sm smallSections) (*dwarf.Data, []byte, error) {
	if s.s.Abbrev == nil {
		return nil, nil, errors.New("dwarf: no .debug_abbrev")
	}
	for n := int(h.abbrevOff) + 4096; ; n *= 4 {
		abbrev, aerr := s.s.Abbrev.Prefix(n)
		d, err := newData(syn, abbrev, line, sm)
		if err == nil {
			return d, abbrev, nil
		}
		if aerr != nil || len(abbrev) >= s.s.Abbrev.Size() {
			return nil, nil, err
		}
	}
}

// linePrefix returns .debug_line up to the end of the line program at
// off.
func linePrefix(sec Section, off int, order binary.ByteOrder) ([]byte, bool) {
	b, _ := sec.Prefix(off + 12)
	c := cursor{b: b, off: off, order: order}
	n, _ := c.length()
	end := c.off + int(n)
	if c.err != nil || n > uint64(sec.Size()) || end < c.off {
		return nil, false
	}
	b, err := sec.Prefix(end)
	return b, err == nil
}

// unitHeader is what Lazy needs of a unit header (DWARF 5 section 7.5.1).
type unitHeader struct {
	off, top, end dwarf.Offset // header, first entry (0 for padding), end
	version       int
	abbrevOff     uint64
	asize         uint8
}

// Unit types (DWARF 5 section 7.5.1).
const (
	utType         = 0x02
	utSkeleton     = 0x04
	utSplitCompile = 0x05
	utSplitType    = 0x06
)

// parseUnitHeader parses the unit header at off in b. A zero length is
// padding, as debug/dwarf reads it: a 4-byte "unit" with top 0.
func parseUnitHeader(b []byte, off int, order binary.ByteOrder) (unitHeader, error) {
	c := cursor{b: b, off: off, order: order}
	h := unitHeader{off: dwarf.Offset(off)}
	n, is64 := c.length()
	if c.err != nil {
		return h, fmt.Errorf("dwarf: unit at %#x: %w", off, c.err)
	}
	// b may hold only the header: the caller checks that the body is
	// there.
	if uint64(c.off)+n > math.MaxUint32 { // dwarf.Offset is 32 bits
		return h, fmt.Errorf("dwarf: unit at %#x: bad length", off)
	}
	h.end = dwarf.Offset(c.off) + dwarf.Offset(n)
	if n == 0 {
		return h, nil
	}
	dataEnd := c.off + int(n)
	if dataEnd < len(c.b) {
		c.b = c.b[:dataEnd]
	}
	h.version = int(c.u16())
	if h.version < 2 || h.version > 5 {
		return h, fmt.Errorf("dwarf: unit at %#x: unsupported version %d", off, h.version)
	}
	if h.version >= 5 {
		ut := c.u8()
		h.asize = c.u8()
		h.abbrevOff = c.offset(is64)
		switch ut {
		case utSkeleton, utSplitCompile:
			c.off += 8
		case utType, utSplitType:
			c.off += 8
			c.offset(is64)
		}
	} else {
		h.abbrevOff = c.offset(is64)
		h.asize = c.u8()
	}
	if c.err != nil || c.off > dataEnd {
		return h, fmt.Errorf("dwarf: unit at %#x: truncated header", off)
	}
	h.top = dwarf.Offset(c.off)
	return h, nil
}

// writeFiller fills b, the bytes before unit h, with units that
// debug/dwarf skips over: headers like h's (same version, so its
// abbreviation table, which they name, is parsed the same way) and bodies
// never read. It reports false when b cannot be filled so.
func writeFiller(b []byte, h unitHeader, order binary.ByteOrder) bool {
	hsize := 11
	if h.version >= 5 {
		hsize = 12
	}
	if h.abbrevOff > 0xffffffff {
		return false
	}
	for len(b) > 0 {
		n := len(b)
		if n > 1<<30 {
			n = 1 << 30
			if len(b)-n < hsize {
				n -= hsize
			}
		}
		if n < hsize {
			return false
		}
		order.PutUint32(b, uint32(n-4))
		order.PutUint16(b[4:], uint16(h.version))
		if h.version >= 5 {
			b[6] = 0x01 // DW_UT_compile
			b[7] = h.asize
			order.PutUint32(b[8:], uint32(h.abbrevOff))
		} else {
			order.PutUint32(b[6:], uint32(h.abbrevOff))
			b[10] = h.asize
		}
		b = b[n:]
	}
	return true
}

// cursor reads DWARF header fields with a sticky error.
type cursor struct {
	b     []byte
	off   int
	order binary.ByteOrder
	err   error
}

var errShort = errors.New("truncated")

func (c *cursor) need(n int) bool {
	if c.err == nil && (c.off < 0 || n > len(c.b)-c.off) {
		c.err = errShort
	}
	return c.err == nil
}

func (c *cursor) u8() uint8 {
	if !c.need(1) {
		return 0
	}
	c.off++
	return c.b[c.off-1]
}

func (c *cursor) u16() uint16 {
	if !c.need(2) {
		return 0
	}
	c.off += 2
	return c.order.Uint16(c.b[c.off-2:])
}

func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	c.off += 4
	return c.order.Uint32(c.b[c.off-4:])
}

func (c *cursor) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	c.off += 8
	return c.order.Uint64(c.b[c.off-8:])
}

// length reads an initial length: 32-bit, or 0xffffffff and 64-bit.
func (c *cursor) length() (n uint64, is64 bool) {
	switch l := c.u32(); {
	case l == 0xffffffff:
		return c.u64(), true
	case l >= 0xfffffff0:
		if c.err == nil {
			c.err = errors.New("reserved initial length")
		}
		return 0, false
	default:
		return uint64(l), false
	}
}

func (c *cursor) offset(is64 bool) uint64 {
	if is64 {
		return c.u64()
	}
	return uint64(c.u32())
}

func (c *cursor) addr(size int) uint64 {
	if size == 4 {
		return uint64(c.u32())
	}
	return c.u64()
}
