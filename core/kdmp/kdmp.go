package kdmp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/crashbench/crashbench/core/codes"
	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/model"
)

var (
	_ model.Target      = (*File)(nil)
	_ model.RangeLister = (*File)(nil)
)

// Probe reports whether the file starts with a kernel dump signature
// ("PAGEDU64" or "PAGEDUMP"). It reads eight bytes and says nothing about
// whether the rest is intact.
func Probe(r io.ReaderAt, size int64) bool {
	if size < 8 {
		return false
	}
	var b [8]byte
	if n, _ := r.ReadAt(b[:], 0); n < len(b) {
		return false
	}
	return string(b[:]) == Magic64 || string(b[:]) == Magic32
}

// run is one PHYSICAL_MEMORY_RUN.
type run struct {
	BasePage, PageCount uint64
}

// header holds the DUMP_HEADER32/64 fields this package reports, widened to
// 64 bits, and the secondary header that follows it.
type header struct {
	is64     bool
	size     int64 // HeaderSize64 or HeaderSize32
	major    uint32
	minor    uint32
	dtb      uint64
	pfnDB    uint64
	psLoaded uint64
	psActive uint64
	machine  uint32
	cpus     uint32
	bugCode  uint32
	bugParam [4]uint64
	kdDebug  uint64

	numRuns  uint32 // as stored (may lie)
	numPages uint64
	runs     []run // the runs that fit in the buffer, at most MaxRuns64/32

	dumpType uint32
	required uint64
	sysTime  uint64
	comment  string
	upTime   uint64
	product  uint32
	suite    uint32
	pae      uint8 // 32-bit only

	// Secondary headers, when the dump type has one and the file holds it.
	bmp    *bmpHeader
	rdmp   *rdmpHeader
	triage *TriageHeader // triage.go
}

type bmpHeader struct {
	off          int64 // file offset of the header
	signature    string
	validDump    string
	firstPage    uint64
	totalPresent uint64
	pages        uint64
}

type rdmpHeader struct {
	off             int64
	marker          uint32
	signature       string
	validDump       string
	metadataSize    uint64
	firstPageOffset uint64
	numberOfRanges  uint32 // type 10
	totalPages      uint64 // type 10
}

// File is an opened Windows kernel dump. It is safe for concurrent use.
type File struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer
	hdr    header

	mu        sync.Mutex
	diags     []model.Diagnostic
	info      func() model.Info
	rangesFn  func() ([]model.Range, error)
	rangeDiag []model.Diagnostic // found by Ranges, guarded by mu
	blobs     []SecondaryBlob    // a triage dump's secondary data, guarded by mu

	kv kernelViews // memory, KDDEBUGGER_DATA64 and list views (phys.go)
	tv triageViews // triage dump decoding (triage.go)
}

// Open opens the named file and reads its header. Close closes the file.
func Open(path string) (*File, error) {
	f, file, err := osfile.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	f.closer = file
	return f, nil
}

// NewFile reads and checks the dump header of r, which holds size bytes. It
// fails only when the signature is wrong or the fixed header (0x2000 bytes for
// PAGEDU64, 0x1000 for PAGEDUMP) cannot be read; damaged fields become
// diagnostics.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	if size < 8 {
		return nil, &FormatError{Off: 0, What: "signature", Err: ErrUnrecognized}
	}
	var magic [8]byte
	if err := readFull(r, magic[:], 0, "signature"); err != nil {
		return nil, err
	}
	f := &File{r: r, size: size}
	switch string(magic[:]) {
	case Magic64:
		f.hdr.is64, f.hdr.size = true, HeaderSize64
	case Magic32:
		f.hdr.size = HeaderSize32
	default:
		return nil, &FormatError{Off: 0, What: fmt.Sprintf("signature %q", magic[:]), Err: ErrUnrecognized}
	}
	what := "DUMP_HEADER32"
	if f.hdr.is64 {
		what = "DUMP_HEADER64"
	}
	if size < f.hdr.size {
		return nil, &FormatError{Off: size, What: fmt.Sprintf("file ends inside the %#x-byte %s", f.hdr.size, what), Err: io.ErrUnexpectedEOF}
	}
	buf := make([]byte, f.hdr.size)
	if err := readFull(r, buf, 0, what); err != nil {
		return nil, err
	}
	if f.hdr.is64 {
		f.parse64(buf)
	} else {
		f.parse32(buf)
	}
	if err := f.readSecondary(); err != nil {
		return nil, err
	}
	f.check()
	f.info = sync.OnceValue(f.buildInfo)
	f.rangesFn = sync.OnceValues(f.buildRanges)
	return f, nil
}

// readFull reads len(p) bytes at off, mapping short reads to a FormatError.
func readFull(r io.ReaderAt, p []byte, off int64, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &FormatError{Off: off + int64(n), What: what, Err: err}
}

func (f *File) diag(sev model.Severity, off int64, format string, args ...any) {
	f.diags = append(f.diags, model.Diagnostic{Severity: sev, Off: off, Msg: fmt.Sprintf(format, args...)})
}

func (f *File) parse64(buf []byte) {
	h := &f.hdr
	c := bin.New(buf, 0, binary.LittleEndian)
	at := func(off int) *bin.Cursor { c.Seek(off); return c }
	h.major = at(h64MajorVersion).U32()
	h.minor = c.U32()
	h.dtb = c.U64()
	h.pfnDB = c.U64()
	h.psLoaded = c.U64()
	h.psActive = c.U64()
	h.machine = at(h64MachineImageType).U32()
	h.cpus = c.U32()
	h.bugCode = c.U32()
	c.Seek(h64BugCheckParameters)
	for i := range h.bugParam {
		h.bugParam[i] = c.U64()
	}
	h.kdDebug = at(h64KdDebuggerDataBlock).U64()
	h.numRuns = at(h64PhysicalMemoryBlock).U32()
	c.Skip(4)
	h.numPages = c.U64()
	if n := min(uint64(h.numRuns), MaxRuns64); h.numRuns != DUMP_SIGNATURE32 {
		h.runs = make([]run, n)
		for i := range h.runs {
			h.runs[i] = run{BasePage: c.U64(), PageCount: c.U64()}
		}
	}
	h.dumpType = at(h64DumpType).U32()
	h.required = at(h64RequiredDumpSpace).U64()
	h.sysTime = c.U64()
	h.comment = commentString(at(h64Comment).Bytes(CommentSize))
	h.upTime = at(h64SystemUpTime).U64()
	h.product = at(h64ProductType).U32()
	h.suite = c.U32()
}

func (f *File) parse32(buf []byte) {
	h := &f.hdr
	c := bin.New(buf, 0, binary.LittleEndian)
	at := func(off int) *bin.Cursor { c.Seek(off); return c }
	h.major = at(h32MajorVersion).U32()
	h.minor = c.U32()
	h.dtb = uint64(c.U32())
	h.pfnDB = uint64(c.U32())
	h.psLoaded = uint64(c.U32())
	h.psActive = uint64(c.U32())
	h.machine = c.U32()
	h.cpus = c.U32()
	h.bugCode = c.U32()
	for i := range h.bugParam {
		h.bugParam[i] = uint64(c.U32())
	}
	h.pae = at(h32PaeEnabled).U8()
	h.kdDebug = uint64(at(h32KdDebuggerDataBlock).U32())
	h.numRuns = at(h32PhysicalMemoryBlock).U32()
	h.numPages = uint64(c.U32())
	if n := min(uint64(h.numRuns), MaxRuns32); h.numRuns != DUMP_SIGNATURE32 {
		h.runs = make([]run, n)
		for i := range h.runs {
			h.runs[i] = run{BasePage: uint64(c.U32()), PageCount: uint64(c.U32())}
		}
	}
	h.comment = commentString(at(h32Comment).Bytes(CommentSize))
	h.dumpType = at(h32DumpType).U32()
	h.product = at(h32ProductType).U32()
	h.suite = c.U32()
	h.required = at(h32RequiredDumpSpace).U64()
	h.upTime = at(h32SystemUpTime).U64()
	h.sysTime = c.U64()
}

// commentString returns the NUL-terminated comment, or "" when the field was
// never written (still "PAGEPAGE...").
func commentString(b []byte) string {
	s := bin.CString(b)
	if len(s) >= 4 && s[:4] == "PAGE" && bytes.Count([]byte(s), []byte("PAGE"))*4 == len(s) {
		return ""
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// readSecondary reads the header that follows DUMP_HEADER for the dump types
// that have one. A file that ends before it is only a diagnostic.
func (f *File) readSecondary() error {
	h := &f.hdr
	off := h.size
	avail := f.size - off
	switch h.dumpType {
	case DumpTypeBitmap, DumpTypeLiveKernelBitmap:
		if avail < bmpBitmap {
			f.diag(model.Error, off, "file ends before the bitmap header (DumpType %d needs %#x bytes at %#x)", h.dumpType, bmpBitmap, off)
			return nil
		}
		var b [bmpBitmap]byte
		if err := readFull(f.r, b[:], off, "BMP_HEADER64"); err != nil {
			return err
		}
		c := bin.New(b[:], off, binary.LittleEndian)
		bh := &bmpHeader{off: off}
		bh.signature = string(c.Bytes(4))
		bh.validDump = string(c.Bytes(4))
		c.Seek(bmpFirstPage)
		bh.firstPage = c.U64()
		bh.totalPresent = c.U64()
		bh.pages = c.U64()
		h.bmp = bh
	case DumpTypeKernelMemory, DumpTypeKernelAndUserMemory, DumpTypeCompleteMemory:
		if !h.is64 {
			f.diag(model.Warning, off, "DumpType %d in a 32-bit dump: the RDMP layout is only known for 64-bit dumps", h.dumpType)
			return nil
		}
		if avail < rdmpHeaderSize {
			f.diag(model.Error, off, "file ends before the RDMP header (DumpType %d needs %#x bytes at %#x)", h.dumpType, rdmpHeaderSize, off)
			return nil
		}
		var b [rdmpHeaderSize]byte
		if err := readFull(f.r, b[:], off, "RDMP_HEADER64"); err != nil {
			return err
		}
		c := bin.New(b[:], off, binary.LittleEndian)
		rh := &rdmpHeader{off: off}
		rh.marker = c.U32()
		rh.signature = string(c.Bytes(4))
		rh.validDump = string(c.Bytes(4))
		c.Seek(rdmpMetadataSize)
		rh.metadataSize = c.U64()
		rh.firstPageOffset = c.U64()
		rh.numberOfRanges = c.U32()
		c.Seek(rdmpTotalNumberOfPages)
		rh.totalPages = c.U64()
		h.rdmp = rh
	case DumpTypeTriage:
		return f.readTriage(off)
	}
	return nil
}

// check turns header inconsistencies into diagnostics. Everything here is
// O(header): counts are compared with the file size, nothing is walked.
func (f *File) check() {
	h := &f.hdr
	hdrName := "DUMP_HEADER32"
	if h.is64 {
		hdrName = "DUMP_HEADER64"
	}
	if h.major != MajorFree && h.major != MajorChecked {
		f.diag(model.Warning, 8, "%s.MajorVersion is %#x, neither 0xf (free build) nor 0xc (checked build)", hdrName, h.major)
	}
	switch archOf(h.machine) {
	case "":
		f.diag(model.Warning, f.machineOff(), "unknown MachineImageType %#x", h.machine)
	case model.X86, model.ARM:
		if h.is64 {
			f.diag(model.Warning, f.machineOff(), "32-bit MachineImageType %#x in a 64-bit (PAGEDU64) dump", h.machine)
		}
	default:
		if !h.is64 {
			f.diag(model.Warning, f.machineOff(), "64-bit MachineImageType %#x in a 32-bit (PAGEDUMP) dump", h.machine)
		}
	}
	if h.cpus == 0 || h.cpus == DUMP_SIGNATURE32 {
		f.diag(model.Warning, f.machineOff()+4, "NumberProcessors is not set (%#x)", h.cpus)
	}
	if dumpTypeName(h.dumpType) == "" {
		f.diag(model.Warning, f.dumpTypeOff(), "unknown DumpType %#x", h.dumpType)
	}
	switch h.dumpType {
	case DumpTypeFull:
		f.checkRuns()
	case DumpTypeBitmap, DumpTypeLiveKernelBitmap:
		f.checkBitmap()
	case DumpTypeKernelMemory, DumpTypeKernelAndUserMemory, DumpTypeCompleteMemory:
		f.checkRDMP()
	case DumpTypeTriage:
		f.checkTriage()
		f.checkSecondaryData()
	}
}

func (f *File) machineOff() int64 {
	if f.hdr.is64 {
		return h64MachineImageType
	}
	return h32MachineImageType
}

func (f *File) dumpTypeOff() int64 {
	if f.hdr.is64 {
		return h64DumpType
	}
	return h32DumpType
}

func (f *File) runsOff() int64 {
	if f.hdr.is64 {
		return h64PhysicalMemoryBlock
	}
	return h32PhysicalMemoryBlock
}

// checkRuns validates the PHYSICAL_MEMORY_DESCRIPTOR of a full dump and
// compares the pages it lists with the file size.
func (f *File) checkRuns() {
	h := &f.hdr
	off := f.runsOff()
	if h.numRuns == DUMP_SIGNATURE32 {
		f.diag(model.Error, off, "full dump without a physical memory descriptor (NumberOfRuns is \"PAGE\")")
		return
	}
	maxRuns := uint64(MaxRuns32)
	if h.is64 {
		maxRuns = MaxRuns64
	}
	if uint64(h.numRuns) > maxRuns {
		f.diag(model.Error, off, "NumberOfRuns %d exceeds the %d runs that fit in PhysicalMemoryBlockBuffer; reading %d", h.numRuns, maxRuns, maxRuns)
	}
	var pages, prevEnd uint64
	overflow := false
	for i, r := range h.runs {
		if r.BasePage < prevEnd {
			f.diag(model.Warning, off, "run %d (base page %#x) overlaps or precedes run %d", i, r.BasePage, i-1)
		}
		end, c1 := addOverflows(r.BasePage, r.PageCount)
		sum, c2 := addOverflows(pages, r.PageCount)
		if c1 || c2 || end > math.MaxUint64/PageSize {
			f.diag(model.Error, off, "run %d (base page %#x, %#x pages) overflows the physical address space", i, r.BasePage, r.PageCount)
			overflow = true
			break
		}
		prevEnd, pages = end, sum
	}
	if !overflow && pages != h.numPages {
		f.diag(model.Warning, off, "NumberOfPages is %#x but the runs add up to %#x pages", h.numPages, pages)
	}
	if overflow {
		return
	}
	f.checkPages(h.size, pages, "the runs list")
}

// checkPages reports a file too short to hold n pages at off.
func (f *File) checkPages(off int64, n uint64, who string) {
	have := uint64(0)
	if f.size > off {
		have = uint64(f.size-off) / PageSize
	}
	if n > have {
		f.diag(model.Error, f.size, "file is %#x bytes: %s %#x pages from %#x but only %#x are present (truncated dump)", f.size, who, n, off, have)
	}
}

func addOverflows(a, b uint64) (uint64, bool) {
	s := a + b
	return s, s < a
}

func (f *File) checkBitmap() {
	b := f.hdr.bmp
	if b == nil {
		return
	}
	if b.signature != BMP_SIGNATURE_SUMMARY && b.signature != BMP_SIGNATURE_FULL {
		f.diag(model.Error, b.off, "bitmap header signature %q is neither %q nor %q", b.signature, BMP_SIGNATURE_SUMMARY, BMP_SIGNATURE_FULL)
	}
	if b.validDump != BMP_VALID_DUMP {
		f.diag(model.Warning, b.off+bmpValidDump, "bitmap header ValidDump is %q, not %q", b.validDump, BMP_VALID_DUMP)
	}
	bitmapOff := b.off + bmpBitmap
	bitmapEnd := uint64(bitmapOff) + bitmapBytes(b.pages)
	if bitmapEnd > uint64(f.size) {
		f.diag(model.Error, bitmapOff, "bitmap of %#x bits runs past the end of the file (%#x bytes)", b.pages, f.size)
	}
	if b.firstPage < bitmapEnd && bitmapEnd <= uint64(f.size) {
		f.diag(model.Warning, b.off+bmpFirstPage, "FirstPage %#x lies inside the bitmap, which ends at %#x", b.firstPage, bitmapEnd)
	}
	if b.totalPresent > b.pages {
		f.diag(model.Warning, b.off+bmpTotalPresentPages, "TotalPresentPages %#x exceeds the %#x pages of the bitmap", b.totalPresent, b.pages)
	}
	if b.firstPage > math.MaxInt64 {
		f.diag(model.Error, b.off+bmpFirstPage, "FirstPage %#x is not a file offset", b.firstPage)
		return
	}
	f.checkPages(int64(b.firstPage), b.totalPresent, "TotalPresentPages says")
}

func (f *File) checkRDMP() {
	r := f.hdr.rdmp
	if r == nil {
		return
	}
	if r.marker != RDMP_MARKER || r.signature != RDMP_SIGNATURE || r.validDump != RDMP_VALID_DUMP {
		f.diag(model.Error, r.off, "RDMP header is {marker %#x, %q, %q}, want {0x40, %q, %q}", r.marker, r.signature, r.validDump, RDMP_SIGNATURE, RDMP_VALID_DUMP)
	}
	if r.firstPageOffset > uint64(f.size) {
		f.diag(model.Error, r.off+rdmpFirstPageOffset, "FirstPageOffset %#x is past the end of the file (%#x bytes)", r.firstPageOffset, f.size)
	}
	if r.metadataSize%16 != 0 {
		f.diag(model.Warning, r.off+rdmpMetadataSize, "MetadataSize %#x is not a multiple of 16", r.metadataSize)
	}
	if f.hdr.dumpType == DumpTypeCompleteMemory && r.firstPageOffset <= math.MaxInt64 {
		f.checkPages(int64(r.firstPageOffset), r.totalPages, "TotalNumberOfPages says")
	}
}

// Diagnostics returns the damage found so far: header problems from NewFile,
// and, once Ranges has run, problems found while walking runs or bitmaps.
func (f *File) Diagnostics() []model.Diagnostic {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]model.Diagnostic, 0, len(f.diags)+len(f.rangeDiag))
	out = append(out, f.diags...)
	return append(out, f.rangeDiag...)
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}

// Info returns the header summary. It is computed once.
func (f *File) Info() model.Info { return f.info() }

// Ranges returns the physical memory the dump stores, with the file offset of
// each range's first byte: the runs of a full dump, the coalesced set bits of
// a bitmap dump, the PFN ranges of an RDMP dump. Ranges are clipped to the
// bytes the file holds, so a truncated dump lists only what it still
// contains. Triage, summary and header-only dumps store no plain physical
// memory: nil, nil. The result is computed once.
func (f *File) Ranges() ([]model.Range, error) { return f.rangesFn() }

// variant names the dump kind as the report contract spells it.
func (f *File) variant() string {
	h := &f.hdr
	switch h.dumpType {
	case DumpTypeFull, DumpTypeCompleteMemory:
		return "complete"
	case DumpTypeKernel, DumpTypeKernelMemory:
		return "kernel"
	case DumpTypeTriage:
		return "triage"
	case DumpTypeBitmap:
		if h.bmp != nil {
			switch h.bmp.signature {
			case BMP_SIGNATURE_SUMMARY:
				return "bitmap-kernel"
			case BMP_SIGNATURE_FULL:
				return "bitmap-complete"
			}
		}
		return ""
	case DumpTypeLiveKernelBitmap:
		return "live-kernel"
	case DumpTypeKernelAndUserMemory:
		return "active"
	}
	return ""
}

// dumpTypeName returns kdmp-parser's/dbgeng's name for a DumpType.
func dumpTypeName(t uint32) string {
	switch t {
	case DumpTypeFull:
		return "FullDump"
	case DumpTypeKernel:
		return "KernelDump"
	case DumpTypeHeader:
		return "HeaderDump"
	case DumpTypeTriage:
		return "MiniDump"
	case DumpTypeBitmap:
		return "BMPDump"
	case DumpTypeLiveKernelBitmap:
		return "LiveKernelBitmapDump"
	case DumpTypeAutomatic:
		return "AutomaticDump"
	case DumpTypeKernelMemory:
		return "KernelMemoryDump"
	case DumpTypeKernelAndUserMemory:
		return "KernelAndUserMemoryDump"
	case DumpTypeCompleteMemory:
		return "CompleteMemoryDump"
	}
	return ""
}

func archOf(machine uint32) model.Arch {
	switch machine {
	case IMAGE_FILE_MACHINE_AMD64:
		return model.AMD64
	case IMAGE_FILE_MACHINE_ARM64:
		return model.ARM64
	case IMAGE_FILE_MACHINE_I386:
		return model.X86
	case IMAGE_FILE_MACHINE_ARMNT:
		return model.ARM
	}
	return ""
}

// ntVersion maps a build number to the NT version it shipped as. The header
// stores only the build (MinorVersion), so only the release builds are mapped;
// every build from 10240 on is NT 10.0 (Windows 10, 11, Server 2016+).
func ntVersion(build uint32) string {
	switch {
	case build >= 10240:
		return fmt.Sprintf("10.0.%d", build)
	case build == 9600:
		return "6.3.9600"
	case build == 9200:
		return "6.2.9200"
	case build == 7600 || build == 7601:
		return fmt.Sprintf("6.1.%d", build)
	case build >= 6000 && build <= 6003:
		return fmt.Sprintf("6.0.%d", build)
	case build == 3790:
		return "5.2.3790"
	case build == 2600:
		return "5.1.2600"
	case build == 2195:
		return "5.0.2195"
	}
	return ""
}

// productName is the name WinDbg puts before "Kernel Version" for a build.
// WinDbg keeps saying "Windows 10" for Windows 11 builds.
func productName(build uint32) string {
	switch {
	case build >= 10240:
		return "Windows 10"
	case build == 9600:
		return "Windows 8.1"
	case build == 9200:
		return "Windows 8"
	case build == 7600 || build == 7601:
		return "Windows 7"
	case build >= 6000 && build <= 6003:
		return "Windows Vista"
	case build == 3790:
		return "Windows Server 2003"
	case build == 2600:
		return "Windows XP"
	case build == 2195:
		return "Windows 2000"
	}
	return "Windows"
}

// kernelLine imitates the first line of WinDbg's vertarget, e.g.
// "Windows 10 Kernel Version 19041 MP (2 procs) Free x64".
func (h *header) kernelLine() string {
	s := fmt.Sprintf("%s Kernel Version %d", productName(h.minor), h.minor)
	if h.cpus != 0 && h.cpus != DUMP_SIGNATURE32 {
		s += fmt.Sprintf(" MP (%d procs)", h.cpus)
	}
	switch h.major {
	case MajorFree:
		s += " Free"
	case MajorChecked:
		s += " Checked"
	}
	switch h.machine {
	case IMAGE_FILE_MACHINE_AMD64:
		s += " x64"
	case IMAGE_FILE_MACHINE_I386:
		s += " x86 compatible"
	case IMAGE_FILE_MACHINE_ARM64:
		s += " ARM 64-bit (AArch64)"
	case IMAGE_FILE_MACHINE_ARMNT:
		s += " ARM"
	}
	return s
}

// filetimeEpochDelta is the number of seconds from 1601-01-01 (FILETIME's
// epoch) to 1970-01-01.
const filetimeEpochDelta = 11644473600

// fileTime converts a FILETIME (100 ns ticks since 1601, UTC) to a time.
// Zero, "PAGEPAGE" and values outside int64 mean "not recorded".
func fileTime(ft uint64) (time.Time, bool) {
	if ft == 0 || ft == DUMP_SIGNATURE64 || ft > math.MaxInt64 {
		return time.Time{}, false
	}
	secs := int64(ft/10_000_000) - filetimeEpochDelta
	nsec := int64(ft%10_000_000) * 100
	return time.Unix(secs, nsec).UTC(), true
}

func (f *File) buildInfo() model.Info {
	h := &f.hdr
	info := model.Info{
		Format:  model.WindowsKernel,
		Variant: f.variant(),
		OS: model.OS{
			Family:  model.Windows,
			Version: ntVersion(h.minor),
			Build:   fmt.Sprint(h.minor),
		},
		Arch:    archOf(h.machine),
		Threads: -1,
		Modules: -1,
	}
	if h.cpus != DUMP_SIGNATURE32 && h.cpus <= math.MaxInt32 {
		info.CPUs = int(h.cpus)
	}
	if t, ok := fileTime(h.sysTime); ok {
		info.Time = t
	}
	if h.upTime != DUMP_SIGNATURE64 && h.upTime <= math.MaxInt64/100 {
		info.Uptime = time.Duration(h.upTime * 100)
	}
	info.Crash = h.crash()
	info.Details = f.details()
	f.triageInfo(&info)
	return info
}

// crash describes the stop code. "PAGE" means the writer never filled the
// field; code 0 is a dump taken without a bugcheck (a debugger's .dump);
// DumpIt/MoonSols acquisition dumps store ASCII markers instead of a code.
func (h *header) crash() *model.Crash {
	if h.bugCode == DUMP_SIGNATURE32 {
		return nil
	}
	params := append([]uint64(nil), h.bugParam[:]...)
	switch {
	case h.bugCode == 0:
		return &model.Crash{Kind: model.NoCrash, Message: "no bugcheck recorded (BugCheckCode 0)"}
	case h.bugCode == dumpItBugCheck && h.bugParam[0] == dumpItMoon && h.bugParam[1] == dumpItSols:
		return &model.Crash{Kind: model.NoCrash, Code: uint64(h.bugCode), Parameters: params,
			Message: `memory acquisition dump: the bugcheck fields hold DumpIt/MoonSols markers ("MATT", "MOON", "SOLS")`}
	}
	return &model.Crash{
		Kind:       model.BugCheck,
		Code:       uint64(h.bugCode),
		Name:       codes.BugCheckName(h.bugCode),
		Parameters: params,
	}
}

func hex(v uint64) string { return fmt.Sprintf("%#x", v) }

func (f *File) details() []model.Detail {
	h := &f.hdr
	var d []model.Detail
	add := func(k, v string) { d = append(d, model.Detail{Key: k, Value: v}) }
	if h.is64 {
		add("Header", "DUMP_HEADER64 (PAGEDU64)")
	} else {
		add("Header", "DUMP_HEADER32 (PAGEDUMP)")
	}
	dt := fmt.Sprint(h.dumpType)
	name := dumpTypeName(h.dumpType)
	if h.bmp != nil && name != "" {
		switch h.bmp.signature {
		case BMP_SIGNATURE_SUMMARY, BMP_SIGNATURE_FULL:
			name += ", " + h.bmp.signature
		default:
			name += ", bad signature"
		}
	}
	if name != "" {
		dt += " (" + name + ")"
	}
	add("Dump type", dt)
	add("Kernel", h.kernelLine())
	add("DirectoryTableBase", hex(h.dtb))
	add("PfnDataBase", hex(h.pfnDB))
	add("PsLoadedModuleList", hex(h.psLoaded))
	add("PsActiveProcessHead", hex(h.psActive))
	add("KdDebuggerDataBlock", hex(h.kdDebug))
	if !h.is64 {
		if h.pae != 0 {
			add("PAE", "enabled")
		} else {
			add("PAE", "disabled")
		}
	}
	switch h.product {
	case VER_NT_WORKSTATION:
		add("ProductType", "1 (VER_NT_WORKSTATION)")
	case VER_NT_DOMAIN_CONTROLLER:
		add("ProductType", "2 (VER_NT_DOMAIN_CONTROLLER)")
	case VER_NT_SERVER:
		add("ProductType", "3 (VER_NT_SERVER)")
	case DUMP_SIGNATURE32:
	default:
		add("ProductType", fmt.Sprint(h.product))
	}
	if h.suite != DUMP_SIGNATURE32 {
		add("SuiteMask", hex(uint64(h.suite)))
	}
	if h.required != DUMP_SIGNATURE64 {
		add("RequiredDumpSpace", hex(h.required))
	}
	if h.comment != "" {
		add("Comment", h.comment)
	}
	switch {
	case h.dumpType == DumpTypeFull && h.numRuns != DUMP_SIGNATURE32:
		add("Physical memory", fmt.Sprintf("%d runs, %#x pages", h.numRuns, h.numPages))
	case h.bmp != nil:
		add("Bitmap", fmt.Sprintf("%#x of %#x pages present, first page at %#x", h.bmp.totalPresent, h.bmp.pages, h.bmp.firstPage))
	case h.rdmp != nil:
		add("RDMP", fmt.Sprintf("metadata %#x bytes, first page at %#x", h.rdmp.metadataSize, h.rdmp.firstPageOffset))
	case h.triage != nil:
		add("Triage dump size", hex(uint64(h.triage.SizeOfDump)))
	}
	return d
}

// addRangeDiag records a diagnostic found while computing ranges.
func (f *File) addRangeDiag(sev model.Severity, off int64, format string, args ...any) {
	f.mu.Lock()
	f.rangeDiag = append(f.rangeDiag, model.Diagnostic{Severity: sev, Off: off, Msg: fmt.Sprintf(format, args...)})
	f.mu.Unlock()
}

func (f *File) buildRanges() ([]model.Range, error) {
	h := &f.hdr
	switch h.dumpType {
	case DumpTypeFull:
		return f.runRanges(), nil
	case DumpTypeBitmap, DumpTypeLiveKernelBitmap:
		if h.bmp == nil {
			return nil, nil
		}
		return f.bitmapRanges()
	case DumpTypeKernelMemory, DumpTypeKernelAndUserMemory, DumpTypeCompleteMemory:
		if h.rdmp == nil {
			return nil, nil
		}
		return f.rdmpRanges()
	}
	return nil, nil
}

// rangeBuilder accumulates page-granular ranges stored back to back in the
// file, clipping them to the file's end.
type rangeBuilder struct {
	size  int64
	out   []model.Range
	merge bool // coalesce physically and file-contiguous pages
	full  bool // the file has ended; further pages are dropped
}

// add records n pages of physical memory at pa stored at file offset off. It
// reports false once the file has no room for more.
func (b *rangeBuilder) add(pa, n uint64, off int64) bool {
	if b.full || n == 0 {
		return !b.full
	}
	if off >= b.size {
		b.full = true
		return false
	}
	bytes := n * PageSize
	if avail := uint64(b.size - off); bytes > avail {
		bytes, b.full = avail, true
	}
	if b.merge && len(b.out) > 0 {
		last := &b.out[len(b.out)-1]
		if last.Start+last.Size == pa && last.FileOff+int64(last.Size) == off {
			last.Size += bytes
			return !b.full
		}
	}
	b.out = append(b.out, model.Range{Start: pa, Size: bytes, FileOff: off, Physical: true})
	return !b.full
}

// runRanges lists a full dump's runs. The pages of run i follow those of run
// i-1 directly, starting right after the header.
func (f *File) runRanges() []model.Range {
	h := &f.hdr
	b := &rangeBuilder{size: f.size}
	off := h.size
	for i, r := range h.runs {
		end, c := addOverflows(r.BasePage, r.PageCount)
		if c || end > math.MaxUint64/PageSize || r.PageCount > uint64(math.MaxInt64-off)/PageSize {
			break // reported by check
		}
		if r.PageCount == 0 {
			continue
		}
		before := len(b.out)
		more := b.add(r.BasePage*PageSize, r.PageCount, off)
		if len(b.out) > before {
			b.out[len(b.out)-1].Label = fmt.Sprintf("run %d", i)
		}
		if !more {
			break
		}
		off += int64(r.PageCount * PageSize)
	}
	return b.out
}

// bitmapChunk bounds the memory used to stream a bitmap.
const bitmapChunk = 64 << 10

// bitmapRanges walks the page bitmap of a bitmap dump and coalesces set bits
// into ranges. The bitmap is read in chunks and never beyond the file's end,
// so the work is bounded by the file size.
func (f *File) bitmapRanges() ([]model.Range, error) {
	bh := f.hdr.bmp
	bitmapOff := bh.off + bmpBitmap
	nbytes := bitmapBytes(bh.pages)
	if nbytes > uint64(f.size-bitmapOff) {
		nbytes = uint64(f.size - bitmapOff) // reported by check
	}
	nbits := min(bh.pages, nbytes*8)
	b := &rangeBuilder{size: f.size, merge: true}
	fileOK := bh.firstPage <= math.MaxInt64
	next := int64(bh.firstPage)
	var present uint64
	buf := make([]byte, min(nbytes, bitmapChunk))
	for done := uint64(0); done < nbytes; {
		chunk := buf[:min(uint64(len(buf)), nbytes-done)]
		if err := readFull(f.r, chunk, bitmapOff+int64(done), "page bitmap"); err != nil {
			return nil, err
		}
		for i, v := range chunk {
			pfn := (done + uint64(i)) * 8
			if pfn+8 > nbits {
				v &= byte(1<<(nbits-pfn)) - 1 // bits past Pages are not pages
			}
			if v == 0 {
				continue
			}
			if !fileOK || b.full {
				present += uint64(popcount(v))
				continue
			}
			for bit := uint64(0); bit < 8; {
				if v&(1<<bit) == 0 {
					bit++
					continue
				}
				n := uint64(0)
				for bit+n < 8 && v&(1<<(bit+n)) != 0 {
					n++
				}
				b.add((pfn+bit)*PageSize, n, next)
				present += n
				next += int64(n * PageSize) // stays near the file size: add stops at its end
				bit += n
			}
		}
		done += uint64(len(chunk))
	}
	if present != bh.totalPresent {
		f.addRangeDiag(model.Warning, bh.off+bmpTotalPresentPages, "TotalPresentPages is %#x but the bitmap has %#x bits set", bh.totalPresent, present)
	}
	return b.out, nil
}

// bitmapBytes is the size of a bitmap of n bits, without overflow.
func bitmapBytes(n uint64) uint64 {
	b := n / 8
	if n%8 != 0 {
		b++
	}
	return b
}

func popcount(v byte) int {
	n := 0
	for ; v != 0; v &= v - 1 {
		n++
	}
	return n
}

// rdmpRanges walks the {PageFileNumber, NumberOfPages} array of an RDMP dump
// (DumpType 8, 9, 10). The array is bounded by MetadataSize, by
// FirstPageOffset (pages follow it) and by the file.
func (f *File) rdmpRanges() ([]model.Range, error) {
	rh := f.hdr.rdmp
	start := rh.off + rdmpRanges
	end := uint64(f.size)
	if m := uint64(rh.off) + 0x20 + rh.metadataSize; rh.metadataSize <= math.MaxInt64 && m < end {
		end = m
	}
	if rh.firstPageOffset < end {
		end = rh.firstPageOffset
	}
	if end <= uint64(start) {
		f.addRangeDiag(model.Error, start, "RDMP dump lists no PFN ranges (metadata ends at %#x)", end)
		return nil, nil
	}
	count := (end - uint64(start)) / 16
	b := &rangeBuilder{size: f.size, merge: true}
	next := int64(rh.firstPageOffset)
	if rh.firstPageOffset > math.MaxInt64 {
		return nil, nil // reported by check
	}
	complete := f.hdr.dumpType == DumpTypeCompleteMemory
	var pages uint64
	buf := make([]byte, min(count*16, bitmapChunk))
	terminated := false
	for done := uint64(0); done < count && !terminated; {
		chunk := buf[:min(uint64(len(buf)), (count-done)*16)]
		off := start + int64(done*16)
		if err := readFull(f.r, chunk, off, "RDMP PFN ranges"); err != nil {
			return nil, err
		}
		for i := 0; i+16 <= len(chunk); i += 16 {
			if complete && pages >= rh.totalPages {
				terminated = true
				break
			}
			pfn := binary.LittleEndian.Uint64(chunk[i:])
			n := binary.LittleEndian.Uint64(chunk[i+8:])
			if pfn == 0 {
				terminated = true
				break
			}
			e, c := addOverflows(pfn, n)
			if c || e > math.MaxUint64/PageSize || n > uint64(math.MaxInt64-next)/PageSize {
				f.addRangeDiag(model.Error, off+int64(i), "PFN range %#x+%#x overflows", pfn, n)
				terminated = true
				break
			}
			pages += n
			b.add(pfn*PageSize, n, next)
			next += int64(n * PageSize)
		}
		done += uint64(len(chunk) / 16)
	}
	if complete && pages != rh.totalPages {
		f.addRangeDiag(model.Warning, rh.off+rdmpTotalNumberOfPages, "TotalNumberOfPages is %#x but the PFN ranges list %#x pages", rh.totalPages, pages)
	}
	if have := (f.size - int64(min(rh.firstPageOffset, uint64(f.size)))) / PageSize; !complete && uint64(have) < pages {
		f.addRangeDiag(model.Error, f.size, "file is %#x bytes: the PFN ranges list %#x pages from %#x but only %#x are present (truncated dump)", f.size, pages, rh.firstPageOffset, have)
	}
	return b.out, nil
}
