// Package kdmptest builds synthetic Windows kernel crash dumps for tests.
//
// The layouts are written from the published structure definitions, field by
// field in declaration order, not from package kdmp's offset tables, which
// this package does not import: DUMP_HEADER64 and DUMP_HEADER32
// (windows-docs-rs / Volatility crash_vtypes.py / Bin2Dmp dmp.h), the bitmap
// header BMP_HEADER64 and the RDMP headers (0vercl0k/kdmp-parser
// kdmp-parser-structs.h), and the first words of TRIAGE_DUMP (rizin
// dmp_specs.h). Bytes nobody writes are filled with "PAGE", as Windows does.
//
// New() alone yields a minimal valid 64-bit full dump (DumpType 1) of an
// amd64 machine with two runs of physical pages; every option changes one
// thing. Damage helpers (Truncate, RunCountOverride, PageCountOverride,
// Patch) make broken variants.
package kdmptest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// DumpType values (dbgeng DUMP_TYPE_*, kdmp-parser DumpType_t).
const (
	Full                = 1
	Kernel              = 2 // kernel summary dump
	Header              = 3
	Triage              = 4 // small memory dump
	Bitmap              = 5
	LiveKernelBitmap    = 6
	KernelMemory        = 8  // .dump /k
	KernelAndUserMemory = 9  // .dump /ka
	CompleteMemory      = 10 // .dump /f
)

// MachineImageType values (IMAGE_FILE_MACHINE_*).
const (
	X86   = 0x014C
	ARM   = 0x01C4
	AMD64 = 0x8664
	ARM64 = 0xAA64
)

// Bitmap header signatures.
const (
	SummarySignature = "SDMP" // kernel memory bitmap dump
	FullSignature    = "FDMP" // complete memory bitmap dump
)

// PageSize is the size of one physical page in every layout here.
const PageSize = 0x1000

// Run is one PHYSICAL_MEMORY_RUN of a full dump.
type Run struct {
	BasePage, PageCount uint64
}

// DefaultTime is the SystemTime New writes.
var DefaultTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Builder assembles a kernel dump. Methods change the builder and return it.
type Builder struct {
	is64     bool
	dumpType uint32
	major    uint32
	build    uint32
	machine  uint32
	cpus     uint32
	dtb      uint64
	pfnDB    uint64
	psLoaded uint64
	psActive uint64
	kdDebug  uint64
	bugCode  uint32
	bugParam [4]uint64
	sysTime  uint64
	upTime   uint64
	comment  string
	product  uint32
	suite    uint32
	pae      bool

	runs       []Run    // full dumps
	pages      []uint64 // bitmap and RDMP dumps: present PFNs, ascending
	bitmapBits uint64   // 0: derived from pages
	bmpSig     string

	required *testasm.Label

	runCountLie  *uint32
	pageCountLie *uint64
	truncate     int
	patches      []patch
}

type patch struct {
	off  int
	data []byte
}

func newBuilder(is64 bool) *Builder {
	b := &Builder{
		is64:     is64,
		dumpType: Full,
		major:    0xF,
		build:    19041,
		machine:  AMD64,
		cpus:     2,
		dtb:      0x1ad000,
		pfnDB:    0xfffff8047c6fc500,
		psLoaded: 0xfffff8047c62a390,
		psActive: 0xfffff8047c61e200,
		kdDebug:  0xfffff8047c600b20,
		bugCode:  0xE2, // MANUALLY_INITIATED_CRASH
		product:  1,
		suite:    0x110,
		runs:     []Run{{BasePage: 1, PageCount: 2}, {BasePage: 0x10, PageCount: 1}},
		pages:    []uint64{1, 2, 0x10},
		bmpSig:   SummarySignature,
		truncate: -1,
	}
	b.SystemTime(DefaultTime)
	b.Uptime(time.Hour)
	if !is64 {
		b.machine = X86
		b.build = 7601
		b.dtb = 0x185000
		b.pfnDB, b.psLoaded, b.psActive, b.kdDebug = 0x82f5d000, 0x82d8c850, 0x82d84e98, 0x82d74be8
	}
	return b
}

// New returns a builder for a 64-bit (PAGEDU64) full dump.
func New() *Builder { return newBuilder(true) }

// New32 returns a builder for a 32-bit (PAGEDUMP) full dump of an x86
// machine (Windows 7 SP1, build 7601).
func New32() *Builder { return newBuilder(false) }

// DumpType sets DUMP_HEADER.DumpType and the secondary header written after
// the header: a bitmap header for 5 and 6, an RDMP header for 8, 9 and 10, a
// TRIAGE_DUMP for 4, nothing for the others.
func (b *Builder) DumpType(t uint32) *Builder { b.dumpType = t; return b }

// Machine sets MachineImageType.
func (b *Builder) Machine(m uint32) *Builder { b.machine = m; return b }

// Build sets MinorVersion, the build number.
func (b *Builder) Build(n uint32) *Builder { b.build = n; return b }

// Major sets MajorVersion (0xF free, 0xC checked).
func (b *Builder) Major(v uint32) *Builder { b.major = v; return b }

// CPUs sets NumberProcessors.
func (b *Builder) CPUs(n uint32) *Builder { b.cpus = n; return b }

// DTB sets DirectoryTableBase.
func (b *Builder) DTB(v uint64) *Builder { b.dtb = v; return b }

// KdDebuggerDataBlock sets the KDBG address.
func (b *Builder) KdDebuggerDataBlock(v uint64) *Builder { b.kdDebug = v; return b }

// BugCheck sets BugCheckCode and up to four parameters (missing ones are 0).
func (b *Builder) BugCheck(code uint32, params ...uint64) *Builder {
	b.bugCode = code
	b.bugParam = [4]uint64{}
	copy(b.bugParam[:], params)
	return b
}

// SystemTime sets SystemTime from t (stored as a FILETIME).
func (b *Builder) SystemTime(t time.Time) *Builder {
	b.sysTime = uint64(t.Unix()+11644473600)*10_000_000 + uint64(t.Nanosecond()/100)
	return b
}

// RawSystemTime stores ft as SystemTime unchanged.
func (b *Builder) RawSystemTime(ft uint64) *Builder { b.sysTime = ft; return b }

// Uptime sets SystemUpTime (100 ns units).
func (b *Builder) Uptime(d time.Duration) *Builder { b.upTime = uint64(d / 100); return b }

// RawUptime stores v as SystemUpTime unchanged.
func (b *Builder) RawUptime(v uint64) *Builder { b.upTime = v; return b }

// Comment sets the 128-byte Comment field.
func (b *Builder) Comment(s string) *Builder { b.comment = s; return b }

// ProductType sets ProductType (1 workstation, 2 domain controller, 3 server).
func (b *Builder) ProductType(v uint32) *Builder { b.product = v; return b }

// PAE sets DUMP_HEADER32.PaeEnabled (32-bit dumps only).
func (b *Builder) PAE(on bool) *Builder { b.pae = on; return b }

// Runs replaces the runs of a full dump. The file stores the pages of each
// run in order after the header; page p holds PageData(p).
func (b *Builder) Runs(runs ...Run) *Builder { b.runs = slices.Clone(runs); return b }

// Pages sets the physical pages a bitmap or RDMP dump holds (any order,
// duplicates ignored). Page p holds PageData(p).
func (b *Builder) Pages(pfns ...uint64) *Builder {
	p := slices.Clone(pfns)
	slices.Sort(p)
	b.pages = slices.Compact(p)
	return b
}

// BitmapBits sets BMP_HEADER64.Pages, the number of bits in the bitmap. By
// default it is the highest present PFN + 1 rounded up to a multiple of 64.
func (b *Builder) BitmapBits(n uint64) *Builder { b.bitmapBits = n; return b }

// BitmapSignature sets the bitmap header's Signature ("SDMP" or "FDMP").
func (b *Builder) BitmapSignature(sig string) *Builder { b.bmpSig = sig; return b }

// RunCountOverride makes NumberOfRuns lie; the runs written stay the same.
func (b *Builder) RunCountOverride(n uint32) *Builder { b.runCountLie = &n; return b }

// PageCountOverride makes the header's page count lie: NumberOfPages (full),
// TotalPresentPages (bitmap) or TotalNumberOfPages (complete RDMP).
func (b *Builder) PageCountOverride(n uint64) *Builder { b.pageCountLie = &n; return b }

// Truncate cuts the assembled file to n bytes.
func (b *Builder) Truncate(n int) *Builder { b.truncate = n; return b }

// Patch overwrites the assembled bytes at off with data (extending the file
// if needed).
func (b *Builder) Patch(off int, data []byte) *Builder {
	b.patches = append(b.patches, patch{off, slices.Clone(data)})
	return b
}

// PageData returns the contents the builder stores for physical page pfn:
// the PFN as a little-endian quadword, then the byte pfn*7+1 repeated.
func PageData(pfn uint64) []byte {
	p := bytes.Repeat([]byte{byte(pfn*7 + 1)}, PageSize)
	binary.LittleEndian.PutUint64(p, pfn)
	return p
}

// fill appends n bytes of the "PAGE" filler, aligned to the file offset the
// way Windows fills unused header bytes.
func fill(s *testasm.Section, n int) {
	for range n {
		s.D8("PAGE"[s.Size()%4])
	}
}

// str appends s NUL-terminated in a field of n bytes whose tail keeps the
// filler.
func str(s *testasm.Section, v string, n int) {
	if v == "" {
		fill(s, n)
		return
	}
	s.String(v, n)
}

func (b *Builder) header64(s *testasm.Section) {
	s.Append([]byte("PAGEDU64")) // Signature, ValidDump
	s.D32(b.major).D32(b.build)
	s.D64(b.dtb).D64(b.pfnDB).D64(b.psLoaded).D64(b.psActive)
	s.D32(b.machine).D32(b.cpus).D32(b.bugCode)
	fill(s, 4) // alignment of the parameters
	for _, p := range b.bugParam {
		s.D64(p)
	}
	fill(s, 32) // VersionUser
	s.D64(b.kdDebug)
	b.physicalMemoryBlock(s, 8)
	fill(s, 4)    // alignment of the context record
	fill(s, 3000) // ContextRecord
	// EXCEPTION_RECORD64: code, flags, record, address, NumberParameters,
	// alignment, ExceptionInformation[15].
	s.D32(0x80000003).D32(0).D64(0).D64(0).D32(0).D32(0)
	s.Repeat(0, 15*8)
	s.D32(b.dumpType)
	fill(s, 4)
	s.L64(b.required) // RequiredDumpSpace: the size of the whole dump
	s.D64(b.sysTime)
	str(s, b.comment, 128)
	s.D64(b.upTime)
	s.D32(0)         // MiniDumpFields
	fill(s, 4)       // SecondaryDataState
	s.D32(b.product) // ProductType
	s.D32(b.suite)   // SuiteMask
	s.D32(0)         // WriterStatus
	s.D8(0).D8(0x0d) // Unused1, KdSecondaryVersion
	s.D8(0).D8(0)    // Unused[2]
	fill(s, 0x2000-s.Size())
}

func (b *Builder) header32(s *testasm.Section) {
	s.Append([]byte("PAGEDUMP"))
	s.D32(b.major).D32(b.build)
	s.D32(uint32(b.dtb)).D32(uint32(b.pfnDB)).D32(uint32(b.psLoaded)).D32(uint32(b.psActive))
	s.D32(b.machine).D32(b.cpus).D32(b.bugCode)
	for _, p := range b.bugParam {
		s.D32(uint32(p))
	}
	fill(s, 32) // VersionUser
	pae := uint8(0)
	if b.pae {
		pae = 1
	}
	s.D8(pae).D8(0).D8(0).D8(0) // PaeEnabled, KdSecondaryVersion, spare
	s.D32(uint32(b.kdDebug))
	b.physicalMemoryBlock(s, 4)
	fill(s, 1200) // ContextRecord
	// EXCEPTION_RECORD32: code, flags, record, address, NumberParameters,
	// ExceptionInformation[15].
	s.D32(0x80000003).D32(0).D32(0).D32(0).D32(0)
	s.Repeat(0, 15*4)
	str(s, b.comment, 128)
	fill(s, 1768) // reserved0
	s.D32(b.dumpType)
	s.D32(0)          // MiniDumpFields
	fill(s, 4)        // SecondaryDataState
	s.D32(b.product)  // ProductType
	s.D32(b.suite)    // SuiteMask
	s.D32(0)          // WriterStatus
	s.L64(b.required) // RequiredDumpSpace
	fill(s, 16)       // reserved2
	s.D64(b.upTime)
	s.D64(b.sysTime)
	fill(s, 56) // reserved3
}

// physicalMemoryBlock writes PHYSICAL_MEMORY_DESCRIPTOR32/64 in its 700-byte
// buffer. Dumps without runs keep the buffer filled with "PAGE".
func (b *Builder) physicalMemoryBlock(s *testasm.Section, word int) {
	start := s.Size()
	if b.dumpType == Full {
		var pages uint64
		for _, r := range b.runs {
			pages += r.PageCount
		}
		if b.pageCountLie != nil {
			pages = *b.pageCountLie
		}
		n := uint32(len(b.runs))
		if b.runCountLie != nil {
			n = *b.runCountLie
		}
		s.D32(n)
		if word == 8 {
			fill(s, 4)
			s.D64(pages)
		} else {
			s.D32(uint32(pages))
		}
		for _, r := range b.runs {
			if s.Size()-start+2*word > 700 {
				break
			}
			s.DW(word, r.BasePage).DW(word, r.PageCount)
		}
	}
	fill(s, 700-(s.Size()-start))
}

// maxBitmap bounds the bitmap bits the builder writes (4 KiB of bitmap).
const maxBitmap = 1 << 15

func (b *Builder) defaultBits() uint64 {
	if b.bitmapBits != 0 || len(b.pages) == 0 {
		return b.bitmapBits
	}
	return (b.pages[len(b.pages)-1] + 64) &^ 63
}

// bitmapHeader writes BMP_HEADER64, the bitmap and the pages.
func (b *Builder) bitmapHeader(s *testasm.Section) {
	firstPage := testasm.NewLabel("FirstPage")
	bits := b.defaultBits()
	present := uint64(0)
	// A Pages count beyond maxBitmap bits is a lie the builder does not
	// back with bytes: only the first maxBitmap/8 bytes are written.
	bitmap := make([]byte, (min(bits, maxBitmap)+7)/8)
	for _, p := range b.pages {
		if p < min(bits, maxBitmap) {
			bitmap[p/8] |= 1 << (p % 8)
			present++
		}
	}
	if b.pageCountLie != nil {
		present = *b.pageCountLie
	}
	s.String(b.bmpSig, 4).Append([]byte("DUMP"))
	fill(s, 0x20-8)
	s.L64(firstPage).D64(present).D64(bits)
	s.Append(bitmap)
	s.Mark(firstPage)
	for _, p := range b.pages {
		if p < min(bits, maxBitmap) {
			s.Append(PageData(p))
		}
	}
}

// rdmpHeader writes RDMP_HEADER64 (or FULL_RDMP_HEADER64 for type 10), the
// PFN ranges and the pages.
func (b *Builder) rdmpHeader(s *testasm.Section) {
	base := s.Size()
	metadata := testasm.NewLabel("MetadataSize")
	firstPage := testasm.NewLabel("FirstPageOffset")
	type pfnRange struct{ pfn, n uint64 }
	var ranges []pfnRange
	for _, p := range b.pages {
		if k := len(ranges) - 1; k >= 0 && ranges[k].pfn+ranges[k].n == p {
			ranges[k].n++
			continue
		}
		ranges = append(ranges, pfnRange{p, 1})
	}
	s.D32(0x40).Append([]byte("RDMPDUMP")).D32(0)
	s.L64(metadata).L64(firstPage)
	if b.dumpType == CompleteMemory {
		total := uint64(len(b.pages))
		if b.pageCountLie != nil {
			total = *b.pageCountLie
		}
		s.D32(uint32(len(ranges))).D16(0).D16(0).D64(total)
	} else {
		s.D64(0).D64(0)
	}
	for _, r := range ranges {
		s.D64(r.pfn).D64(r.n)
	}
	if b.dumpType != CompleteMemory {
		s.D64(0).D64(0) // a zero PFN ends the list
	}
	// MetadataSize counts from the end of the 0x20-byte RDMP_HEADER64;
	// the pages follow the metadata.
	metadata.Set(uint64(s.Size() - base - 0x20))
	s.Mark(firstPage)
	for _, p := range b.pages {
		s.Append(PageData(p))
	}
}

// triageHeader writes the first words of TRIAGE_DUMP (ServicePackBuild,
// SizeOfDump, ValidOffset) and the "TRGD" marker that ends the dump.
func (b *Builder) triageHeader(s *testasm.Section) {
	size := testasm.NewLabel("SizeOfDump")
	valid := testasm.NewLabel("ValidOffset")
	s.D32(0).L32(size).L32(valid)
	fill(s, 0x100)
	s.Mark(valid)
	s.Append([]byte("TRGD"))
	size.Set(uint64(s.Size()))
}

// Bytes assembles the dump.
func (b *Builder) Bytes() ([]byte, error) {
	s := testasm.New(binary.LittleEndian)
	b.required = testasm.NewLabel("RequiredDumpSpace")
	if b.is64 {
		b.header64(s)
	} else {
		b.header32(s)
	}
	hdrSize := 0x1000
	if b.is64 {
		hdrSize = 0x2000
	}
	if s.Size() != hdrSize {
		return nil, fmt.Errorf("kdmptest: header is %#x bytes, want %#x", s.Size(), hdrSize)
	}
	switch b.dumpType {
	case Full:
		for _, r := range b.runs {
			for i := range r.PageCount {
				s.Append(PageData(r.BasePage + i))
			}
		}
	case Bitmap, LiveKernelBitmap:
		b.bitmapHeader(s)
	case KernelMemory, KernelAndUserMemory, CompleteMemory:
		b.rdmpHeader(s)
	case Triage:
		b.triageHeader(s)
	}
	b.required.Set(uint64(s.Size()))
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

// Scenarios returns named builders covering each dump type and the usual
// kinds of damage; tests and fuzz seeds share them.
func Scenarios() map[string]func() *Builder {
	return map[string]func() *Builder{
		"full-amd64":   func() *Builder { return New() },
		"full-x86":     func() *Builder { return New32().PAE(true) },
		"triage-amd64": func() *Builder { return New().DumpType(Triage).BugCheck(0x1000007E, 0xffffffffc0000005) },
		"triage-arm64": func() *Builder {
			return New().DumpType(Triage).Machine(ARM64).Build(22000).CPUs(8).BugCheck(0x1C8, 0x1b58)
		},
		"kernel-summary":  func() *Builder { return New().DumpType(Kernel) },
		"bitmap-kernel":   func() *Builder { return New().DumpType(Bitmap).Pages(1, 2, 3, 8, 9, 63) },
		"bitmap-complete": func() *Builder { return New().DumpType(Bitmap).BitmapSignature(FullSignature).Pages(0, 7, 8, 100) },
		"live-kernel":     func() *Builder { return New().DumpType(LiveKernelBitmap).BugCheck(0x161).Pages(4, 5) },
		"bitmap-x86":      func() *Builder { return New32().DumpType(Bitmap).Pages(1, 2, 5) },
		"kernel-memory":   func() *Builder { return New().DumpType(KernelMemory).BugCheck(0).Pages(1, 2, 3, 9) },
		"active-memory":   func() *Builder { return New().DumpType(KernelAndUserMemory).BugCheck(0).Pages(2, 3, 0x20) },
		"complete-memory": func() *Builder { return New().DumpType(CompleteMemory).BugCheck(0).Pages(1, 2, 4) },
		"truncated-full":  func() *Builder { return New().Truncate(0x2000 + PageSize) },
		"lying-run-count": func() *Builder { return New().RunCountOverride(1000) },
		"lying-pages":     func() *Builder { return New().DumpType(Bitmap).Pages(1, 2).PageCountOverride(1 << 40) },
		"huge-bitmap":     func() *Builder { return New().DumpType(Bitmap).Pages(1).BitmapBits(1 << 62) },
		"header-only":     func() *Builder { return New().Truncate(0x2000) },
	}
}
