package pdb

import (
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// typeStream is a TPI (stream 2, types) or IPI (stream 4, ids: function
// ids, build infos, inlinee source lines) stream: a TpiStreamHeader, then
// the CodeView records of type indices Begin..End-1, each a u16 length
// (not counting itself), a u16 leaf kind and the body. See
// https://llvm.org/docs/PDB/TpiStream.html
//
// Records are found by index through offs, built once by one pass over the
// record bytes; the hash streams are not read.
type typeStream struct {
	stream     int
	begin, end uint32   // type indices held: [begin, end)
	data       []byte   // the record bytes (header excluded)
	base       int64    // stream offset of data[0]
	offs       []uint32 // offs[ti-begin] = offset of record ti in data
}

// tpiHeaderSize is sizeof(TpiStreamHeader).
const tpiHeaderSize = 56

// readTypeStream reads and indexes stream i (streamTPI or streamIPI).
// A stream that stops in the middle of a record keeps the records before
// it: the index then ends early and later indices are not found.
func (f *File) readTypeStream(i int) (*typeStream, error) {
	b, err := f.msf.stream(i)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, 0, binary.LittleEndian)
	c.U32() // version (V80 = 20040203)
	hdrSize := c.U32()
	begin, end := c.U32(), c.U32()
	recBytes := c.U32()
	if c.Err() != nil {
		return nil, errAt(i, c.Off(), "type stream header", c.Err())
	}
	if hdrSize < tpiHeaderSize || uint64(hdrSize) > uint64(len(b)) {
		return nil, errAt(i, 4, "type stream header size", nil)
	}
	if begin > end || end-begin > uint32(len(b))/4 { // a record takes at least 4 bytes
		return nil, errAt(i, 8, "type index range", nil)
	}
	data := b[hdrSize:]
	if uint64(recBytes) < uint64(len(data)) {
		data = data[:recBytes]
	}
	ts := &typeStream{stream: i, begin: begin, end: end, data: data, base: int64(hdrSize)}
	ts.offs = make([]uint32, 0, end-begin)
	for off := 0; off+4 <= len(data) && uint32(len(ts.offs)) < end-begin; {
		n := int(binary.LittleEndian.Uint16(data[off:]))
		if n < 2 || off+2+n > len(data) {
			break
		}
		ts.offs = append(ts.offs, uint32(off))
		off += 2 + n
	}
	return ts, nil
}

// record returns the leaf kind and body (after the kind) of type index ti.
func (ts *typeStream) record(ti uint32) (kind uint16, body []byte, ok bool) {
	if ts == nil || ti < ts.begin || ti-ts.begin >= uint32(len(ts.offs)) {
		return 0, nil, false
	}
	off := ts.offs[ti-ts.begin]
	n := uint32(binary.LittleEndian.Uint16(ts.data[off:]))
	rec := ts.data[off+2 : off+2+n]
	return binary.LittleEndian.Uint16(rec), rec[2:], true
}

// len returns how many records were indexed.
func (ts *typeStream) len() int { return len(ts.offs) }

// Numeric leaf kinds (LF_NUMERIC and up): a value of 0x8000 or more in a
// numeric field names the type of the value that follows.
const (
	lfChar      = 0x8000
	lfShort     = 0x8001
	lfUShort    = 0x8002
	lfLong      = 0x8003
	lfULong     = 0x8004
	lfReal32    = 0x8005
	lfReal64    = 0x8006
	lfQuadword  = 0x8009
	lfUQuadword = 0x800a
)

// numeric reads a numeric leaf (a size, an offset, an enumerator's value):
// a u16 below 0x8000 is the value itself, else a kind and the value. The
// value is returned as its two's-complement bits; signed reports whether
// the leaf was a signed kind. Unknown kinds (reals, 128-bit) set the
// cursor's error by reading past its end.
func numeric(c *bin.Cursor) (v uint64, signed bool) {
	k := c.U16()
	if k < 0x8000 {
		return uint64(k), false
	}
	switch k {
	case lfChar:
		return uint64(int64(int8(c.U8()))), true
	case lfShort:
		return uint64(int64(int16(c.U16()))), true
	case lfUShort:
		return uint64(c.U16()), false
	case lfLong:
		return uint64(int64(int32(c.U32()))), true
	case lfULong:
		return uint64(c.U32()), false
	case lfQuadword:
		return c.U64(), true
	case lfUQuadword:
		return c.U64(), false
	case lfReal32:
		return uint64(c.U32()), false
	case lfReal64:
		return c.U64(), false
	}
	c.Skip(c.Len() + 1) // an unsupported kind: make the error sticky
	return 0, false
}
