// Package limetest builds synthetic LiME images for tests, written from the
// "LiME Memory Range Header Version 1 Specification" (504ensicsLabs/LiME
// doc/README.md): per range a 32-byte header (magic 0x4C694D45, version 1,
// s_addr, inclusive e_addr, 8 reserved bytes) followed by the range's bytes.
// It imports nothing from package lime.
//
// New() alone yields a valid image of one range; every option changes one
// thing, and the damage helpers (Truncate, Magic, End, Version, Trailing,
// Patch) make broken variants. LiME is little-endian only, so there is no
// byte-order option.
package limetest

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Magic is lime_mem_range_header.magic.
const Magic = 0x4C694D45

// Range is one captured physical range.
type Range struct {
	Start, Size uint64
}

type header struct {
	Range
	magic   uint32
	version uint32
	end     *uint64 // lying e_addr
}

// Builder assembles a LiME image. Methods change the builder and return it.
type Builder struct {
	hdrs     []header
	trailing []byte
	truncate int
	patches  []patch
}

type patch struct {
	off  int
	data []byte
}

// DefaultRange is the range New writes.
var DefaultRange = Range{Start: 0x1000, Size: 0x3000}

// New returns a builder for a one-range image (DefaultRange).
func New() *Builder { return (&Builder{truncate: -1}).Ranges(DefaultRange) }

// Ranges replaces the ranges.
func (b *Builder) Ranges(rs ...Range) *Builder {
	b.hdrs = nil
	for _, r := range rs {
		b.AddRange(r.Start, r.Size)
	}
	return b
}

// AddRange appends a range of size bytes at physical address start.
func (b *Builder) AddRange(start, size uint64) *Builder {
	b.hdrs = append(b.hdrs, header{Range: Range{start, size}, magic: Magic, version: 1})
	return b
}

// Magic sets the magic of header i.
func (b *Builder) Magic(i int, m uint32) *Builder { b.hdrs[i].magic = m; return b }

// Version sets the version of header i.
func (b *Builder) Version(i int, v uint32) *Builder { b.hdrs[i].version = v; return b }

// End makes header i claim e_addr = e while still storing Size bytes.
func (b *Builder) End(i int, e uint64) *Builder { b.hdrs[i].end = &e; return b }

// Trailing appends raw bytes after the last range.
func (b *Builder) Trailing(p []byte) *Builder { b.trailing = slices.Clone(p); return b }

// Truncate cuts the image to n bytes.
func (b *Builder) Truncate(n int) *Builder { b.truncate = n; return b }

// Patch overwrites the assembled image at off.
func (b *Builder) Patch(off int, p []byte) *Builder {
	b.patches = append(b.patches, patch{off, slices.Clone(p)})
	return b
}

// Data returns the bytes the builder stores for n bytes of physical memory at
// addr: each byte is a function of its own address, so a test can check that
// a file offset holds the memory a range claims.
func Data(addr, n uint64) []byte {
	p := make([]byte, n)
	for i := range p {
		a := addr + uint64(i)
		p[i] = byte(a) ^ byte(a>>8)*31 ^ byte(a>>16)*7
	}
	return p
}

// Bytes assembles the image.
func (b *Builder) Bytes() ([]byte, error) {
	s := testasm.New(binary.LittleEndian)
	for _, h := range b.hdrs {
		end := h.Start + h.Size - 1 // e_addr is inclusive
		if h.end != nil {
			end = *h.end
		}
		s.D32(h.magic).D32(h.version).D64(h.Start).D64(end).D64(0)
		s.Append(Data(h.Start, h.Size))
	}
	s.Append(b.trailing)
	out, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	for _, p := range b.patches {
		if end := p.off + len(p.data); end > len(out) {
			out = append(out, make([]byte, end-len(out))...)
		}
		copy(out[p.off:], p.data)
	}
	if b.truncate >= 0 && b.truncate < len(out) {
		out = out[:b.truncate]
	}
	return out, nil
}

// ReaderAt assembles the image and returns it as an io.ReaderAt with its size.
func (b *Builder) ReaderAt() (io.ReaderAt, int64, error) {
	out, err := b.Bytes()
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(out), int64(len(out)), nil
}

// Many returns a builder with n ranges of one page each, every other page of
// physical memory from 0x1000 on.
func Many(n int) *Builder {
	b := &Builder{truncate: -1}
	for i := range n {
		b.AddRange(0x1000+uint64(i)*0x2000, 0x1000)
	}
	return b
}

// small returns n ranges of 16 bytes, one every page.
func small(n int) *Builder {
	b := &Builder{truncate: -1}
	for i := range n {
		b.AddRange(0x1000+uint64(i)*0x1000, 0x10)
	}
	return b
}

// Scenarios returns named builders for tests and fuzz seeds.
func Scenarios() map[string]func() *Builder {
	return map[string]func() *Builder{
		"one-range": func() *Builder { return New() },
		"three-ranges": func() *Builder {
			return New().Ranges(Range{0, 0x9f000}, Range{0x100000, 0x2000}, Range{0x7fff0000, 0x10})
		},
		"many-ranges":    func() *Builder { return Many(64) },
		"odd-sizes":      func() *Builder { return New().Ranges(Range{0x1001, 1}, Range{0x2000, 0x123}) },
		"truncated":      func() *Builder { return small(1).Truncate(32 + 8) },
		"bad-2nd-magic":  func() *Builder { return small(3).Magic(1, 0xdeadbeef) },
		"lying-end":      func() *Builder { return small(2).End(0, 1<<40) },
		"backwards-end":  func() *Builder { return small(2).End(1, 0) },
		"version-2":      func() *Builder { return small(1).Version(0, 2) },
		"trailing-bytes": func() *Builder { return small(1).Trailing([]byte("junk")) },
		"overlapping":    func() *Builder { return New().Ranges(Range{0x2000, 0x10}, Range{0x1000, 0x2000}) },
	}
}
