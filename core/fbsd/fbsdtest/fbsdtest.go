// Package fbsdtest builds synthetic FreeBSD kernel minidumps (vmcore.N) for
// tests. There is no public sample small enough to share, so these builders
// are the only test input package fbsd has.
//
// Each architecture's struct minidumphdr is written field by field in
// declaration order from FreeBSD's sys/<arch>/include/minidump.h; the file
// layout after it (each section rounded up to a page: message buffer,
// dump_avail[], page bitmap, page-table pages, then the dumped pages) follows
// libkvm's kvm_minidump_<arch>.c. Nothing is imported from package fbsd.
//
// New(arch) alone yields a valid dump of the architecture's latest version;
// every option changes one thing, and the damage helpers (SizeOverride,
// Magic, Truncate, Patch) make broken variants. Page places physical pages
// (the bitmap is then computed as the kernel's vm_page_dump_add numbers
// pages through dump_avail[]), Pmap writes the page-table section, and
// Memory assembles an amd64 or arm64 dump with a kernel map and a Layout
// saying what every address should read as.
package fbsdtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Architectures, as the magic strings spell them.
const (
	AMD64     = "amd64"
	I386      = "i386"
	ARM       = "arm"
	ARM64     = "arm64"
	RISCV     = "riscv"
	PowerPC64 = "powerpc64"
	MIPS      = "mips"
)

// Arches lists every architecture the builder knows.
var Arches = []string{AMD64, I386, ARM, ARM64, RISCV, PowerPC64, MIPS}

// latest is MINIDUMP_VERSION per architecture.
var latest = map[string]uint32{AMD64: 3, I386: 2, ARM: 2, ARM64: 3, RISCV: 2, PowerPC64: 2, MIPS: 2}

// DefaultMsgBuf is the message buffer New writes.
const DefaultMsgBuf = "panic: fbsdtest\ncpuid = 0\n"

// Builder assembles a minidump. Methods change the builder and return it.
type Builder struct {
	arch        string
	order       testasm.Order
	version     uint32
	magic       *string
	msgbuf      []byte
	dumpAvail   []uint64
	bitmap      []byte
	pmapSize    uint32
	kernbase    uint64
	dmapphys    uint64
	dmapbase    uint64
	dmapend     uint64
	flags       uint32
	paemode     uint32
	armArch     uint32
	mmuformat   uint32
	mmuName     string
	kernend     uint64
	hwDirectMap uint32
	startkernel uint64
	endkernel   uint64
	overrides   map[string]uint32
	truncate    int
	patches     []patch
	pages       map[uint64][]byte // physical pages, when Page was used
	pmap        []uint64          // page-table section entries, when Pmap was used
}

type patch struct {
	off  int
	data []byte
}

// New returns a builder for a minidump of arch at its latest version, with a
// short message buffer, two dump_avail ranges, a bitmap of three pages, one
// page of page-table pages and the three dumped pages.
func New(arch string) *Builder {
	b := &Builder{
		arch:      arch,
		order:     binary.LittleEndian,
		version:   latest[arch],
		msgbuf:    []byte(DefaultMsgBuf),
		dumpAvail: []uint64{0x1000, 0x9f000, 0x100000, 0x8000000},
		bitmap:    []byte{0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01},
		pmapSize:  4096,
		truncate:  -1,
	}
	switch arch {
	case AMD64:
		b.kernbase, b.dmapbase, b.dmapend = 0xffffffff80000000, 0xfffff80000000000, 0xfffffc0000000000
	case I386:
		b.kernbase, b.paemode = 0x00400000, 1
	case ARM:
		b.kernbase, b.armArch, b.mmuformat = 0xc0000000, 7, 2
	case ARM64:
		b.kernbase, b.dmapphys, b.dmapbase, b.dmapend = 0xffff000000000000, 0x40000000, 0xffffa00000000000, 0xffffff0000000000
	case RISCV:
		b.kernbase, b.dmapphys, b.dmapbase, b.dmapend = 0xffffffc000000000, 0x80000000, 0xffffffd000000000, 0xfffffff000000000
	case PowerPC64:
		b.order = binary.BigEndian
		b.mmuName = "mmu_oea64"
		b.kernbase, b.kernend = 0xc000000000100000, 0xc000000002000000
		b.dmapbase, b.dmapend = 0xc000000000000000, 0xc0003fffffffffff
		b.hwDirectMap, b.startkernel, b.endkernel = 1, 0x100000, 0x2000000
	case MIPS:
		b.order = binary.BigEndian
		b.kernbase, b.dmapbase, b.dmapend = 0xffffffff80000000, 0x9800000000000000, 0x9800000100000000
	}
	return b
}

// Version sets minidumphdr.version; fields newer than v are written as zero.
func (b *Builder) Version(v uint32) *Builder { b.version = v; return b }

// Order sets the byte order (powerpc64 and mips exist in both).
func (b *Builder) Order(o testasm.Order) *Builder { b.order = o; return b }

// Magic replaces the magic string.
func (b *Builder) Magic(s string) *Builder { b.magic = &s; return b }

// MsgBuf sets the message buffer contents.
func (b *Builder) MsgBuf(s string) *Builder { b.msgbuf = []byte(s); return b }

// DumpAvail sets dump_avail[] (start, end pairs); the terminating zero pair
// is added.
func (b *Builder) DumpAvail(pairs ...uint64) *Builder { b.dumpAvail = slices.Clone(pairs); return b }

// Bitmap sets the page bitmap; one page of data is written per set bit.
func (b *Builder) Bitmap(p []byte) *Builder { b.bitmap = slices.Clone(p); return b }

// Page adds a dumped physical page at pa (page aligned) holding data (nil:
// PhysData). Once a page is added the bitmap is no longer the one Bitmap
// set: Bytes computes it the way the kernel's vm_page_dump_add numbers
// pages, through dump_avail[] when the version has it (a page outside every
// range is dropped, as the kernel drops it) and by page frame number
// otherwise, and writes the pages in bitmap order.
func (b *Builder) Page(pa uint64, data []byte) *Builder {
	if b.pages == nil {
		b.pages = map[uint64][]byte{}
	}
	if data == nil {
		data = PhysData(pa, b.PageSize())
	}
	b.pages[pa] = slices.Clone(data)
	return b
}

// Pmap sets the page-table section's entries (amd64 v2+: PDEs; amd64 v1:
// PTEs; arm64: L3 descriptors); the section is padded with zero entries to
// a whole page, as the kernel writes whole pages.
func (b *Builder) Pmap(entries ...uint64) *Builder {
	b.pmap = slices.Clone(entries)
	per := b.PageSize() / 8
	b.pmapSize = uint32((len(entries) + per - 1) / per * b.PageSize())
	return b
}

// PhysData is the content Page stores for a page given nil data.
func PhysData(pa uint64, pageSize int) []byte {
	p := bytes.Repeat([]byte{byte(pa>>12) ^ 0x5a}, pageSize)
	copy(p, fmt.Sprintf("fbsdtest phys %#x", pa))
	return p
}

// pageBit numbers pa's page as vm_page_dump_add (sys/vm/vm_dumpset.h)
// does; ok is false for a page outside dump_avail[].
func (b *Builder) pageBit(pa uint64) (uint64, bool) {
	page := uint64(b.PageSize())
	if b.dumpAvailBytes() == nil {
		return pa / page, true
	}
	var adj uint64
	for i := 0; i+1 < len(b.dumpAvail) && b.dumpAvail[i+1] != 0; i += 2 {
		start, end := b.dumpAvail[i], b.dumpAvail[i+1]
		if pa >= start && pa < end {
			return pa/page - start/page + adj, true
		}
		adj += (end+page-1)/page - start/page
	}
	return 0, false
}

// bitmapPages lays out the bitmap (vm_page_dump_size: the bitset of
// vm_page_dump_pages bits in 64-bit words, rounded up to a page) and the
// page data in bitmap order.
func (b *Builder) bitmapPages() ([]byte, [][]byte) {
	page := uint64(b.PageSize())
	var nbits uint64
	if b.dumpAvailBytes() != nil {
		for i := 0; i+1 < len(b.dumpAvail) && b.dumpAvail[i+1] != 0; i += 2 {
			nbits += (b.dumpAvail[i+1]+page-1)/page - b.dumpAvail[i]/page
		}
	} else {
		for i := 1; i < len(b.dumpAvail); i += 2 {
			nbits = max(nbits, b.dumpAvail[i]/page)
		}
		for pa := range b.pages {
			nbits = max(nbits, pa/page+1)
		}
	}
	size := (nbits + 63) / 64 * 8
	size = (size + page - 1) / page * page
	bm := make([]byte, size)
	type bp struct {
		bit  uint64
		data []byte
	}
	var order []bp
	for pa, data := range b.pages {
		if bit, ok := b.pageBit(pa); ok && bit < size*8 {
			bm[bit/64*8+bit%64/8] |= 1 << (bit % 8) // little-endian 64-bit words
			order = append(order, bp{bit, data})
		}
	}
	slices.SortFunc(order, func(x, y bp) int { return cmpU64(x.bit, y.bit) })
	out := make([][]byte, len(order))
	for i, o := range order {
		out[i] = o.data
	}
	return bm, out
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MsgBufRing returns the size-byte ring a kernel holds after printing text
// from a freshly cleared buffer: msgbuf_addchar stores byte seq at
// seq % size.
func MsgBufRing(text string, size int) string {
	ring := make([]byte, size)
	for i := 0; i < len(text); i++ {
		ring[i%size] = text[i]
	}
	return string(ring)
}

// PmapSize sets the size of the page-table section (pmapsize/ptesize).
func (b *Builder) PmapSize(n uint32) *Builder { b.pmapSize = n; return b }

// KernBase sets kernbase.
func (b *Builder) KernBase(v uint64) *Builder { b.kernbase = v; return b }

// DMap sets dmapbase and dmapend.
func (b *Builder) DMap(base, end uint64) *Builder { b.dmapbase, b.dmapend = base, end; return b }

// Flags sets the arm64 flags (page size).
func (b *Builder) Flags(v uint32) *Builder { b.flags = v; return b }

// PAE sets the i386 paemode.
func (b *Builder) PAE(on bool) *Builder {
	b.paemode = 0
	if on {
		b.paemode = 1
	}
	return b
}

// SizeOverride makes a header size field lie: "msgbufsize", "bitmapsize",
// "pmapsize" (ptesize) or "dumpavailsize". The section written keeps its
// real size.
func (b *Builder) SizeOverride(field string, v uint32) *Builder {
	if b.overrides == nil {
		b.overrides = map[string]uint32{}
	}
	b.overrides[field] = v
	return b
}

// Truncate cuts the dump to n bytes.
func (b *Builder) Truncate(n int) *Builder { b.truncate = n; return b }

// Patch overwrites the assembled dump at off.
func (b *Builder) Patch(off int, p []byte) *Builder {
	b.patches = append(b.patches, patch{off, slices.Clone(p)})
	return b
}

// PageSize returns the page size the dump's sections are rounded to.
func (b *Builder) PageSize() int {
	if b.arch == ARM64 && b.flags&3 == 1 {
		return 16384
	}
	return 4096
}

// wordSize is the size of a dump_avail entry (vm_paddr_t: 32 bits on arm,
// 64 bits elsewhere, i386 included since its PAE/non-PAE pmap merge).
func (b *Builder) wordSize() int {
	if b.arch == ARM {
		return 4
	}
	return 8
}

// availSince is the first version with dumpavailsize and the dump_avail
// section.
var availSince = map[string]uint32{AMD64: 3, I386: 2, ARM: 2, ARM64: 2, RISCV: 2, PowerPC64: 2, MIPS: 2}

func (b *Builder) dumpAvailBytes() []byte {
	if since, ok := availSince[b.arch]; !ok || b.version < since {
		return nil
	}
	s := testasm.New(b.order)
	for _, v := range b.dumpAvail {
		s.DW(b.wordSize(), v)
	}
	s.DW(b.wordSize(), 0).DW(b.wordSize(), 0)
	return s.MustBytes()
}

func (b *Builder) size(field string, real int) uint32 {
	if v, ok := b.overrides[field]; ok {
		return v
	}
	return uint32(real)
}

// header writes struct minidumphdr.
func (b *Builder) header(s *testasm.Section, dumpAvail []byte) {
	magic := "minidump FreeBSD/" + b.arch
	if b.magic != nil {
		magic = *b.magic
	}
	magicSize := 24
	if b.arch == PowerPC64 {
		magicSize = 32
	}
	s.String(magic, magicSize)
	if b.arch == PowerPC64 {
		s.String(b.mmuName, 32)
	}
	msgbuf := b.size("msgbufsize", len(b.msgbuf))
	bitmap := b.size("bitmapsize", len(b.bitmap))
	pmap := b.size("pmapsize", int(b.pmapSize))
	avail := b.size("dumpavailsize", len(dumpAvail))
	s.D32(b.version).D32(msgbuf).D32(bitmap).D32(pmap)
	switch b.arch {
	case AMD64, MIPS:
		s.D64(b.kernbase).D64(b.dmapbase).D64(b.dmapend).D32(avail)
	case I386:
		s.D32(uint32(b.kernbase)).D32(b.paemode).D32(avail)
	case ARM:
		s.D32(uint32(b.kernbase)).D32(b.armArch).D32(b.mmuformat).D32(avail)
	case ARM64:
		flags := b.flags
		if b.version < 3 {
			flags = 0
		}
		s.D64(b.kernbase).D64(b.dmapphys).D64(b.dmapbase).D64(b.dmapend).D32(avail).D32(flags)
	case RISCV:
		s.D64(b.kernbase).D64(b.dmapphys).D64(b.dmapbase).D64(b.dmapend).D32(avail)
	case PowerPC64:
		s.D64(b.kernbase).D64(b.kernend).D64(b.dmapbase).D64(b.dmapend)
		s.D32(b.hwDirectMap).D32(0) // int hw_direct_map; padding
		s.D64(b.startkernel).D64(b.endkernel).D32(avail)
	}
}

// PageData returns the contents the builder stores for the n-th dumped page.
func PageData(n int, pageSize int) []byte {
	p := bytes.Repeat([]byte{byte(n*5 + 3)}, pageSize)
	copy(p, fmt.Sprintf("fbsdtest page %d", n))
	return p
}

// Bytes assembles the dump.
func (b *Builder) Bytes() ([]byte, error) {
	if _, ok := latest[b.arch]; !ok && b.magic == nil {
		return nil, fmt.Errorf("fbsdtest: unknown architecture %q", b.arch)
	}
	page := b.PageSize()
	dumpAvail := b.dumpAvailBytes()
	var data [][]byte
	if b.pages != nil {
		b.bitmap, data = b.bitmapPages()
	} else {
		n := 0
		for _, v := range b.bitmap {
			n += bits.OnesCount8(v)
		}
		for i := range n {
			data = append(data, PageData(i, page))
		}
	}
	pmap := testasm.New(b.order)
	for _, e := range b.pmap {
		pmap.D64(e)
	}
	pmap.PadTo(int(b.pmapSize))
	s := testasm.New(b.order)
	b.header(s, dumpAvail)
	s.PadTo(page)
	for _, sec := range [][]byte{b.msgbuf, dumpAvail, b.bitmap, pmap.MustBytes()} {
		s.Append(sec).Align(page)
	}
	for _, d := range data {
		s.Append(d)
	}
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

// ReaderAt assembles the dump and returns it as an io.ReaderAt with its size.
func (b *Builder) ReaderAt() (io.ReaderAt, int64, error) {
	out, err := b.Bytes()
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(out), int64(len(out)), nil
}

// Scenarios returns named builders for tests and fuzz seeds.
func Scenarios() map[string]func() *Builder {
	m := map[string]func() *Builder{
		"amd64-v1":          func() *Builder { return New(AMD64).Version(1) },
		"amd64-v2":          func() *Builder { return New(AMD64).Version(2) },
		"arm64-16k":         func() *Builder { return New(ARM64).Flags(1) },
		"arm64-v2":          func() *Builder { return New(ARM64).Version(2) },
		"i386-no-pae":       func() *Builder { return New(I386).PAE(false) },
		"powerpc64le":       func() *Builder { return New(PowerPC64).Order(binary.LittleEndian) },
		"mipsel-32":         func() *Builder { return New(MIPS).Order(binary.LittleEndian).KernBase(0x80000000) },
		"truncated":         func() *Builder { return New(AMD64).Truncate(4096 + 100) },
		"header-only":       func() *Builder { return New(ARM64).Truncate(4096) },
		"unknown-arch":      func() *Builder { return New(AMD64).Magic("minidump FreeBSD/sparc64") },
		"newer-version":     func() *Builder { return New(RISCV).Version(9) },
		"lying-bitmap-size": func() *Builder { return New(AMD64).SizeOverride("bitmapsize", 0xfffffff0) },
		"empty-bitmap":      func() *Builder { return New(I386).Bitmap(nil) },
	}
	for _, a := range Arches {
		m[a] = func() *Builder { return New(a) }
	}
	return m
}
