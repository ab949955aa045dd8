package vmcoretest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// disk_dump_header.status bits (makedumpfile diskdump_mod.h).
const (
	CompressedZlib   = 0x1
	CompressedLZO    = 0x2
	CompressedSnappy = 0x4
	Incomplete       = 0x8
	ExcludedVmemmap  = 0x10
	CompressedZstd   = 0x20
)

// Utsname is struct new_utsname.
type Utsname struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// PFNRange is the page frames [Start, End).
type PFNRange struct{ Start, End uint64 }

// Kdump builds a makedumpfile kdump-compressed dump: the disk_dump_header
// in block 0; the kdump_sub_header, the ELF notes and VMCOREINFO in the
// following sub_hdr_size blocks; the two bitmaps (RAM pfns, then dumpable
// pfns); one page_desc per dumpable page; the page data.
type Kdump struct {
	order      testasm.Order
	word       int // sizeof(long) of the dumped machine
	time64     bool
	uts        Utsname
	version    int32
	tvSec      int64
	tvUsec     int64
	status     uint32
	blockSize  int
	nrCPUs     int32
	currentCPU uint32
	maxMapnr   uint64
	physBase   uint64
	dumpLevel  int32
	split      *PFNRange
	dumpable   []PFNRange
	vmcoreinfo *VMCOREINFO
	notes      bool

	// Damage: values that lie.
	truncate       int
	bitmapBlocks   *uint32
	subHdrSize     *int32
	sizeVmcoreinfo *uint64
	sizeNote       *uint64
	offsetNote     *int64
	patches        []patch
}

type patch struct {
	off int
	b   []byte
}

// NewKdump returns the default dump: an x86_64 machine (LP64 layout) in the
// given byte order, header_version 6, zlib, 4 KiB blocks, two CPUs,
// max_mapnr 256, dumpable pfns 0-15 and 32-47, DefaultVMCOREINFO, notes with
// one NT_PRSTATUS per CPU, and timestamp DefaultCrashTime.
func NewKdump(order testasm.Order) *Kdump {
	v := DefaultVMCOREINFO()
	return &Kdump{
		order:      order,
		word:       8,
		uts:        Utsname{Sysname: "Linux", Nodename: "testhost", Release: DefaultRelease, Version: DefaultVersion, Machine: "x86_64", Domainname: "(none)"},
		version:    6,
		tvSec:      DefaultCrashTime,
		status:     CompressedZlib,
		blockSize:  DefaultPageSize,
		nrCPUs:     DefaultCPUs,
		maxMapnr:   256,
		dumpLevel:  31,
		dumpable:   []PFNRange{{0, 16}, {32, 48}},
		vmcoreinfo: &v,
		notes:      true,
		truncate:   -1,
	}
}

// Word sets sizeof(long) of the dumped machine: 8 (LP64) or 4 (ILP32). Set
// Machine too: the ILP32 sub-header packs 8-byte members at 4 on i386 and at
// 8 elsewhere.
func (k *Kdump) Word(n int) *Kdump { k.word = n; return k }

// Time64 writes struct timeval with a 64-bit time_t and suseconds_t
// aligned to 8, as a 32-bit makedumpfile built with _TIME_BITS=64 does; the
// longs of the sub-header stay Word bytes.
func (k *Kdump) Time64() *Kdump { k.time64 = true; return k }

// Machine sets utsname.machine.
func (k *Kdump) Machine(m string) *Kdump { k.uts.Machine = m; return k }

// Utsname replaces the whole struct new_utsname.
func (k *Kdump) Utsname(u Utsname) *Kdump { k.uts = u; return k }

// Version sets header_version; fields newer than it are left zero.
func (k *Kdump) Version(v int32) *Kdump { k.version = v; return k }

// Timestamp sets the struct timeval.
func (k *Kdump) Timestamp(sec, usec int64) *Kdump { k.tvSec, k.tvUsec = sec, usec; return k }

// Status sets the status bits.
func (k *Kdump) Status(s uint32) *Kdump { k.status = s; return k }

// BlockSize sets block_size (the page size).
func (k *Kdump) BlockSize(n int) *Kdump { k.blockSize = n; return k }

// CPUs sets nr_cpus and the number of NT_PRSTATUS notes.
func (k *Kdump) CPUs(n int32) *Kdump { k.nrCPUs = n; return k }

// MaxMapnr sets max_mapnr (and the bitmap size that follows from it).
func (k *Kdump) MaxMapnr(n uint64) *Kdump { k.maxMapnr = n; return k }

// PhysBase sets the sub-header's phys_base.
func (k *Kdump) PhysBase(v uint64) *Kdump { k.physBase = v; return k }

// DumpLevel sets dump_level.
func (k *Kdump) DumpLevel(v int32) *Kdump { k.dumpLevel = v; return k }

// Split marks the dump as one part of a split dump holding pfns r.
func (k *Kdump) Split(r PFNRange) *Kdump { k.split = &r; return k }

// Dumpable replaces the dumpable pfn ranges (each must lie below max_mapnr).
func (k *Kdump) Dumpable(rs ...PFNRange) *Kdump { k.dumpable = rs; return k }

// VMCOREINFO replaces the VMCOREINFO entries.
func (k *Kdump) VMCOREINFO(v VMCOREINFO) *Kdump { k.vmcoreinfo = &v; return k }

// Set sets one VMCOREINFO entry.
func (k *Kdump) Set(key, value string) *Kdump {
	v := DefaultVMCOREINFO()
	if k.vmcoreinfo != nil {
		v = *k.vmcoreinfo
	}
	v = v.Set(key, value)
	k.vmcoreinfo = &v
	return k
}

// NoVMCOREINFO leaves VMCOREINFO out (offset and size 0, no note).
func (k *Kdump) NoVMCOREINFO() *Kdump { k.vmcoreinfo = nil; return k }

// NoNotes leaves the ELF notes out (VMCOREINFO is still written).
func (k *Kdump) NoNotes() *Kdump { k.notes = false; return k }

// Truncate cuts the output to n bytes (damage).
func (k *Kdump) Truncate(n int) *Kdump { k.truncate = n; return k }

// BitmapBlocks makes bitmap_blocks lie (damage); the bitmaps written stay
// the honest size.
func (k *Kdump) BitmapBlocks(n uint32) *Kdump { k.bitmapBlocks = &n; return k }

// SubHdrSize makes sub_hdr_size lie (damage).
func (k *Kdump) SubHdrSize(n int32) *Kdump { k.subHdrSize = &n; return k }

// SizeVmcoreinfo makes size_vmcoreinfo lie (damage).
func (k *Kdump) SizeVmcoreinfo(n uint64) *Kdump { k.sizeVmcoreinfo = &n; return k }

// SizeNote makes size_note lie (damage).
func (k *Kdump) SizeNote(n uint64) *Kdump { k.sizeNote = &n; return k }

// OffsetNote makes offset_note lie (damage).
func (k *Kdump) OffsetNote(off int64) *Kdump { k.offsetNote = &off; return k }

// Patch overwrites the output at off with b (damage).
func (k *Kdump) Patch(off int, b []byte) *Kdump {
	k.patches = append(k.patches, patch{off, b})
	return k
}

// i386 reports whether the ILP32 sub-header uses i386's 4-byte alignment of
// 8-byte members.
func (k *Kdump) i386() bool {
	switch k.uts.Machine {
	case "i386", "i486", "i586", "i686":
		return true
	}
	return false
}

// align8 aligns an 8-byte member: always on LP64, and on ILP32 except i386.
func (k *Kdump) align8(s *testasm.Section, base int) {
	if k.word == 8 || !k.i386() {
		s.PadTo(base + (s.Size()-base+7)/8*8)
	}
}

// DumpablePFNs returns the dumpable pfns in ascending order.
func (k *Kdump) DumpablePFNs() []uint64 {
	var out []uint64
	for _, r := range k.dumpable {
		for p := r.Start; p < r.End && p < k.maxMapnr; p++ {
			out = append(out, p)
		}
	}
	return out
}

// PageContents is the data the builder stores for a pfn.
func PageContents(pfn uint64, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(pfn) ^ byte(i/8)
	}
	return b
}

func (k *Kdump) notesBytes() (notes []byte, vmciOff, vmciLen int) {
	s := testasm.New(k.order)
	if k.notes {
		prs := 336
		if k.word == 4 {
			prs = 144
		}
		for range max(k.nrCPUs, 0) {
			note(s, Note{Name: "CORE", Type: NT_PRSTATUS, Desc: make([]byte, prs)})
		}
	}
	vmciOff = -1
	if k.vmcoreinfo != nil {
		text := k.vmcoreinfo.Text()
		if k.notes {
			// As makedumpfile does: VMCOREINFO points into the notes, at
			// the descriptor of the VMCOREINFO note.
			start := s.Size()
			note(s, Note{Name: "VMCOREINFO", Type: 0, Desc: text})
			vmciOff = start + 12 + 12 // header, then "VMCOREINFO\0" padded to 12
		} else {
			vmciOff = s.Size()
			s.Append(text)
		}
		vmciLen = len(text)
	}
	return s.MustBytes(), vmciOff, vmciLen
}

// Bytes lays out the dump.
func (k *Kdump) Bytes() ([]byte, error) {
	bs := k.blockSize
	if bs <= 0 {
		return nil, fmt.Errorf("vmcoretest: block size %d", bs)
	}
	w := k.word
	s := testasm.New(k.order)

	// Block 0: struct disk_dump_header.
	s.String("KDUMP   ", 8).D32(uint32(k.version))
	for _, f := range []string{k.uts.Sysname, k.uts.Nodename, k.uts.Release, k.uts.Version, k.uts.Machine, k.uts.Domainname} {
		s.String(f, 65)
	}
	tw := w // struct timeval: two longs, aligned to a long
	if k.time64 {
		tw = 8
	}
	s.Align(tw)
	s.DW(tw, uint64(k.tvSec)).DW(tw, uint64(k.tvUsec))
	subBlocks := testasm.NewLabel("sub_hdr_size")
	bitmapBlocks := testasm.NewLabel("bitmap_blocks")
	s.D32(k.status).D32(uint32(bs))
	if k.subHdrSize != nil {
		s.D32(uint32(*k.subHdrSize))
	} else {
		s.L32(subBlocks)
	}
	if k.bitmapBlocks != nil {
		s.D32(*k.bitmapBlocks)
	} else {
		s.L32(bitmapBlocks)
	}
	s.D32(uint32(k.maxMapnr))
	s.D32(0).D32(0).D32(0) // total_ram_blocks, device_blocks, written_blocks
	s.D32(k.currentCPU).D32(uint32(k.nrCPUs))
	if s.Size() > bs {
		return nil, fmt.Errorf("vmcoretest: block size %d too small for the header", bs)
	}
	s.PadTo(bs)

	// Block 1...: struct kdump_sub_header, then the notes. Fields newer
	// than header_version stay zero, as an older makedumpfile leaves them.
	notes, vmciRel, vmciLen := k.notesBytes()
	base := s.Size()
	v := k.version
	notesAt := testasm.NewLabel("notes")
	s.DW(w, k.physBase)
	s.D32(uint32(k.dumpLevel) * b2u(v >= 1))
	var split int32
	var sp PFNRange
	if k.split != nil && v >= 2 {
		split, sp = 1, *k.split
	}
	s.D32(uint32(split)).DW(w, sp.Start).DW(w, sp.End)
	k.align8(s, base)
	offVMCI, sizeVMCI := int64(0), uint64(0)
	if v >= 3 && vmciRel >= 0 {
		offVMCI, sizeVMCI = -1, uint64(vmciLen) // -1: fixed below
	}
	if k.sizeVmcoreinfo != nil {
		sizeVMCI = *k.sizeVmcoreinfo
	}
	vmciField := s.Size()
	s.D64(0).DW(w, sizeVMCI)
	k.align8(s, base)
	noteField := s.Size()
	var sizeNote uint64
	if v >= 4 && k.notes && len(notes) > 0 {
		sizeNote = uint64(len(notes))
	}
	if k.sizeNote != nil {
		sizeNote = *k.sizeNote
	}
	s.D64(0).DW(w, sizeNote)
	k.align8(s, base)
	s.D64(0).DW(w, 0) // offset_eraseinfo, size_eraseinfo
	k.align8(s, base)
	if v >= 6 {
		s.D64(sp.Start).D64(sp.End).D64(k.maxMapnr)
	} else {
		s.D64(0).D64(0).D64(0)
	}
	s.Mark(notesAt).Append(notes)
	subEnd := s.Size()
	nsub := (subEnd - bs + bs - 1) / bs
	subBlocks.Set(uint64(nsub))
	s.PadTo(bs * (1 + nsub))
	notesOff, _ := notesAt.Value()

	// The bitmaps: each holds one bit per pfn below max_mapnr, in
	// ceil(max_mapnr/8) bytes rounded up to whole blocks.
	oneBitmap := (int(k.maxMapnr+7)/8 + bs - 1) / bs * bs
	ram := make([]byte, oneBitmap)
	for p := uint64(0); p < k.maxMapnr; p++ {
		ram[p/8] |= 1 << (p % 8)
	}
	dump := make([]byte, oneBitmap)
	pfns := k.DumpablePFNs()
	for _, p := range pfns {
		dump[p/8] |= 1 << (p % 8)
	}
	bitmapBlocks.Set(uint64(2 * oneBitmap / bs))
	s.Append(ram).Append(dump)

	// page_desc_t per dumpable page: off_t offset, unsigned int size,
	// unsigned int flags, unsigned long long page_flags; then the data.
	dataStart := s.Size() + len(pfns)*24
	var data bytes.Buffer
	for _, p := range pfns {
		page := PageContents(p, bs)
		flags := uint32(0)
		var packed []byte
		switch {
		case k.status&CompressedZlib != 0:
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(page)
			zw.Close()
			packed, flags = z.Bytes(), CompressedZlib
		case k.status&CompressedSnappy != 0:
			packed, flags = s2.EncodeSnappy(nil, page), CompressedSnappy
		case k.status&CompressedZstd != 0:
			zw, _ := zstd.NewWriter(nil)
			packed, flags = zw.EncodeAll(page, nil), CompressedZstd
		}
		// makedumpfile stores a page as is when compressing does not
		// make it smaller.
		if flags != 0 && len(packed) < bs {
			page = packed
		} else {
			flags = 0
		}
		s.D64(uint64(dataStart + data.Len())).D32(uint32(len(page))).D32(flags).D64(0)
		data.Write(page)
	}
	s.Append(data.Bytes())

	b, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	put64 := func(at int, v uint64) {
		if k.order == binary.BigEndian {
			binary.BigEndian.PutUint64(b[at:], v)
		} else {
			binary.LittleEndian.PutUint64(b[at:], v)
		}
	}
	if offVMCI != 0 {
		put64(vmciField, uint64(int(notesOff)+vmciRel))
	}
	if k.offsetNote != nil {
		put64(noteField, uint64(*k.offsetNote))
	} else if sizeNote > 0 || k.sizeNote != nil {
		put64(noteField, notesOff)
	}
	for _, p := range k.patches {
		if p.off >= 0 && p.off < len(b) {
			copy(b[p.off:], p.b)
		}
	}
	if k.truncate >= 0 && k.truncate < len(b) {
		b = b[:k.truncate]
	}
	return b, nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
