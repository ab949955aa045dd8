// Package bin decodes fixed-layout binary records with a sticky-error cursor,
// the debug/dwarf buffer pattern: after the first short read every accessor
// returns zero and Err reports where decoding stopped, so parsers read a whole
// record and check once instead of after every field.
package bin

import (
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf16"
)

// ShortError says a record ended before a field could be read.
type ShortError struct {
	Off  int64 // file offset of the field
	Need int   // bytes the field needs
	Have int   // bytes left in the record
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("offset %#x: need %d bytes, have %d", e.Off, e.Need, e.Have)
}

// Unwrap makes a ShortError match io.ErrUnexpectedEOF.
func (e *ShortError) Unwrap() error { return io.ErrUnexpectedEOF }

// Cursor walks a byte slice that was read from file offset Base.
type Cursor struct {
	buf   []byte
	pos   int
	Base  int64
	Order binary.ByteOrder
	err   error
}

// New returns a cursor over b, which starts at file offset base.
func New(b []byte, base int64, order binary.ByteOrder) *Cursor {
	return &Cursor{buf: b, Base: base, Order: order}
}

// Err returns the first error met, or nil.
func (c *Cursor) Err() error { return c.err }

// Off returns the file offset of the next byte.
func (c *Cursor) Off() int64 { return c.Base + int64(c.pos) }

// Pos returns the position within the slice.
func (c *Cursor) Pos() int { return c.pos }

// Len returns how many bytes remain.
func (c *Cursor) Len() int { return len(c.buf) - c.pos }

// Seek moves to position pos within the slice.
func (c *Cursor) Seek(pos int) {
	if c.err != nil {
		return
	}
	if pos < 0 || pos > len(c.buf) {
		c.err = &ShortError{Off: c.Base + int64(pos), Need: 0, Have: len(c.buf) - pos}
		return
	}
	c.pos = pos
}

// Bytes returns the next n bytes (aliasing the buffer), or nil after an error.
func (c *Cursor) Bytes(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.buf)-c.pos {
		c.err = &ShortError{Off: c.Off(), Need: n, Have: len(c.buf) - c.pos}
		return nil
	}
	b := c.buf[c.pos : c.pos+n]
	c.pos += n
	return b
}

// Skip advances n bytes.
func (c *Cursor) Skip(n int) { c.Bytes(n) }

// U8 reads one byte.
func (c *Cursor) U8() uint8 {
	if b := c.Bytes(1); b != nil {
		return b[0]
	}
	return 0
}

// U16 reads a 16-bit value in the cursor's byte order.
func (c *Cursor) U16() uint16 {
	if b := c.Bytes(2); b != nil {
		return c.Order.Uint16(b)
	}
	return 0
}

// U32 reads a 32-bit value.
func (c *Cursor) U32() uint32 {
	if b := c.Bytes(4); b != nil {
		return c.Order.Uint32(b)
	}
	return 0
}

// U64 reads a 64-bit value.
func (c *Cursor) U64() uint64 {
	if b := c.Bytes(8); b != nil {
		return c.Order.Uint64(b)
	}
	return 0
}

// Word reads a 4- or 8-byte value, for structures whose fields follow the
// pointer size of the dumped machine.
func (c *Cursor) Word(size int) uint64 {
	if size == 8 {
		return c.U64()
	}
	return uint64(c.U32())
}

// CString reads a fixed-size field of n bytes holding a NUL-terminated string.
func (c *Cursor) CString(n int) string {
	return CString(c.Bytes(n))
}

// CString returns b up to its first NUL.
func CString(b []byte) string {
	for i, x := range b {
		if x == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// UTF16 decodes little- or big-endian UTF-16 bytes (an odd last byte is
// dropped), stopping at the first NUL.
func UTF16(b []byte, order binary.ByteOrder) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		v := order.Uint16(b[i:])
		if v == 0 {
			break
		}
		u = append(u, v)
	}
	return string(utf16.Decode(u))
}
