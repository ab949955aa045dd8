// Package testasm assembles binary test inputs: sections of little- or
// big-endian constants, with labels whose values may be set after they are
// used (a Go take on Breakpad's test_assembler). Synthetic dump builders use it
// to lay out headers, directories and payloads from the format specs, so a
// damaged or big-endian variant is one call away.
package testasm

import (
	"encoding/binary"
	"fmt"
)

// Order is a byte order that can both put and append (binary.LittleEndian,
// binary.BigEndian).
type Order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Label is a value that may be defined after it is referenced.
type Label struct {
	name string
	set  bool
	val  uint64
}

// NewLabel returns an undefined label; the name appears in errors.
func NewLabel(name string) *Label { return &Label{name: name} }

// Set defines the label's value.
func (l *Label) Set(v uint64) *Label { l.val, l.set = v, true; return l }

// Value returns the label's value and whether it is defined.
func (l *Label) Value() (uint64, bool) { return l.val, l.set }

// Name returns the label's name.
func (l *Label) Name() string { return l.name }

type fixup struct {
	off   int
	size  int
	label *Label
	add   int64
	order Order
}

// Section is a growing byte buffer with pending label references.
type Section struct {
	order  Order
	buf    []byte
	fixups []fixup
}

// New returns an empty section in the given byte order.
func New(order Order) *Section { return &Section{order: order} }

// Order returns the section's byte order.
func (s *Section) Order() Order { return s.order }

// Size returns the current length.
func (s *Section) Size() int { return len(s.buf) }

// D8 appends a byte.
func (s *Section) D8(v uint8) *Section { s.buf = append(s.buf, v); return s }

// D16 appends a 16-bit constant.
func (s *Section) D16(v uint16) *Section { s.buf = s.order.AppendUint16(s.buf, v); return s }

// D32 appends a 32-bit constant.
func (s *Section) D32(v uint32) *Section { s.buf = s.order.AppendUint32(s.buf, v); return s }

// D64 appends a 64-bit constant.
func (s *Section) D64(v uint64) *Section { s.buf = s.order.AppendUint64(s.buf, v); return s }

// DW appends a 4- or 8-byte constant, for pointer-sized fields.
func (s *Section) DW(size int, v uint64) *Section {
	if size == 8 {
		return s.D64(v)
	}
	return s.D32(uint32(v))
}

func (s *Section) ref(size int, l *Label, add int64) *Section {
	s.fixups = append(s.fixups, fixup{off: len(s.buf), size: size, label: l, add: add, order: s.order})
	s.buf = append(s.buf, make([]byte, size)...)
	return s
}

// L16 appends a 16-bit reference to l.
func (s *Section) L16(l *Label) *Section { return s.ref(2, l, 0) }

// L32 appends a 32-bit reference to l.
func (s *Section) L32(l *Label) *Section { return s.ref(4, l, 0) }

// L64 appends a 64-bit reference to l.
func (s *Section) L64(l *Label) *Section { return s.ref(8, l, 0) }

// LW appends a 4- or 8-byte reference to l.
func (s *Section) LW(size int, l *Label) *Section { return s.ref(size, l, 0) }

// L32Plus appends a 32-bit reference to l plus add.
func (s *Section) L32Plus(l *Label, add int64) *Section { return s.ref(4, l, add) }

// Append appends raw bytes.
func (s *Section) Append(b []byte) *Section { s.buf = append(s.buf, b...); return s }

// String appends s's bytes, NUL-padded (or cut) to exactly n bytes.
func (s *Section) String(str string, n int) *Section {
	b := make([]byte, n)
	copy(b, str)
	return s.Append(b)
}

// Repeat appends n copies of v.
func (s *Section) Repeat(v byte, n int) *Section {
	for range n {
		s.buf = append(s.buf, v)
	}
	return s
}

// Align pads with zeros to a multiple of n.
func (s *Section) Align(n int) *Section {
	for len(s.buf)%n != 0 {
		s.buf = append(s.buf, 0)
	}
	return s
}

// PadTo pads with zeros up to offset off (no-op if already past it).
func (s *Section) PadTo(off int) *Section {
	if off > len(s.buf) {
		s.buf = append(s.buf, make([]byte, off-len(s.buf))...)
	}
	return s
}

// Mark defines l as the current offset.
func (s *Section) Mark(l *Label) *Section { l.Set(uint64(len(s.buf))); return s }

// AppendSection appends t's bytes and carries over its pending references.
func (s *Section) AppendSection(t *Section) *Section {
	base := len(s.buf)
	s.buf = append(s.buf, t.buf...)
	for _, f := range t.fixups {
		f.off += base
		s.fixups = append(s.fixups, f)
	}
	return s
}

// Bytes resolves every label reference and returns the section's bytes.
// An undefined label is an error naming it.
func (s *Section) Bytes() ([]byte, error) {
	out := append([]byte(nil), s.buf...)
	for _, f := range s.fixups {
		v, ok := f.label.Value()
		if !ok {
			return nil, fmt.Errorf("testasm: label %q used at offset %#x is never set", f.label.name, f.off)
		}
		v += uint64(f.add)
		switch f.size {
		case 2:
			f.order.PutUint16(out[f.off:], uint16(v))
		case 4:
			f.order.PutUint32(out[f.off:], uint32(v))
		case 8:
			f.order.PutUint64(out[f.off:], v)
		}
	}
	return out, nil
}

// MustBytes is Bytes for tests, panicking on an undefined label.
func (s *Section) MustBytes() []byte {
	b, err := s.Bytes()
	if err != nil {
		panic(err)
	}
	return b
}
