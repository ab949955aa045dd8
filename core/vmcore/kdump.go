package vmcore

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// maxNoteBytes caps the ELF notes copied into a kdump-compressed file
// (size_note): one PRSTATUS and a few register notes per CPU.
const maxNoteBytes = 64 << 20

// maxCPUs bounds a believable nr_cpus (the kernel's NR_CPUS tops out at 8192
// today; leave room).
const maxCPUs = 1 << 20

// kdumpPart is what a disk_dump_header and kdump_sub_header say.
type kdumpPart struct {
	order binary.ByteOrder
	hl    diskDumpHeader
	sl    kdumpSubHeader
	mach  machineInfo

	headerVersion  int32
	uts            [6]string // sysname, nodename, release, version, machine, domainname
	tvSec, tvUsec  int64
	status         uint32
	blockSize      int32
	blockOK        bool
	subHdrSize     int32
	bitmapBlocks   uint32
	maxMapnr32     uint32
	maxMapnr       uint64 // max_mapnr_64 from header_version 6, else max_mapnr
	currentCPU     uint32
	nrCPUs         int32
	compression    string
	haveSub        bool
	physBase       uint64
	dumpLevel      int32
	split          int32
	startPFN       uint64
	endPFN         uint64
	offVmcoreinfo  int64
	sizeVmcoreinfo uint64
	offNote        int64
	sizeNote       uint64
	notes          bool // the notes were read
	noteList       []elfx.Note
	prstatus       int
}

func validBlockSize(bs int64) bool {
	return bs >= 512 && bs <= 1<<20 && bs&(bs-1) == 0
}

// word reads a C long of the dumped machine.
func word(c *bin.Cursor, size int) uint64 { return c.Word(size) }

// sword reads a signed C long.
func sword(c *bin.Cursor, size int) int64 {
	if size == 8 {
		return int64(c.U64())
	}
	return int64(int32(c.U32()))
}

// parseKdump reads the disk_dump_header, the kdump_sub_header, VMCOREINFO
// and the notes of a kdump-compressed dump (directly, or inside a flattened
// file).
func (f *File) parseKdump() error {
	buf := make([]byte, diskDumpHeader64.tasksStart)
	m, _ := f.lr.ReadAt(buf, 0)
	buf = buf[:m]
	if m < diskDumpHeader32.tasksStart {
		return &FormatError{Off: int64(m), What: fmt.Sprintf("disk_dump_header truncated: %d bytes", m), Err: io.ErrUnexpectedEOF}
	}
	k := &kdumpPart{}
	f.kd = k
	for i := range k.uts {
		o := offUtsname + i*utsFieldLen
		k.uts[i] = bin.CString(buf[o : o+utsFieldLen])
	}
	k.mach = parseMachine(k.uts[4])
	k.order = kdumpOrder(buf, k.mach)
	k.hl = f.kdumpHeaderLayout(buf)
	if len(buf) < k.hl.tasksStart {
		return &FormatError{Off: int64(m), What: fmt.Sprintf("disk_dump_header truncated: %d of %d bytes", m, k.hl.tasksStart), Err: io.ErrUnexpectedEOF}
	}

	c := bin.New(buf, 0, k.order)
	c.Seek(offHeaderVersion)
	k.headerVersion = int32(c.U32())
	c.Seek(k.hl.timestamp)
	k.tvSec, k.tvUsec = sword(c, k.hl.word), sword(c, k.hl.word)
	c.Seek(k.hl.status)
	k.status = c.U32()
	k.blockSize = int32(c.U32())
	k.subHdrSize = int32(c.U32())
	k.bitmapBlocks = c.U32()
	k.maxMapnr32 = c.U32()
	c.Seek(k.hl.currentCPU)
	k.currentCPU = c.U32()
	k.nrCPUs = int32(c.U32())
	if c.Err() != nil {
		return &FormatError{Off: c.Off(), What: "disk_dump_header", Err: c.Err()}
	}
	k.maxMapnr = uint64(k.maxMapnr32)

	if k.headerVersion < 1 || k.headerVersion > maxKnownHeaderVersion {
		f.addDiag(model.Note, offHeaderVersion, fmt.Sprintf("header_version %d; this reader knows 1 to %d", k.headerVersion, maxKnownHeaderVersion))
	}
	f.kdumpStatus()
	if k.nrCPUs <= 0 || k.nrCPUs > maxCPUs {
		f.addDiag(model.Warning, int64(k.hl.nrCPUs), fmt.Sprintf("implausible nr_cpus %d", k.nrCPUs))
	}
	k.blockOK = validBlockSize(int64(k.blockSize))
	if !k.blockOK {
		f.addDiag(model.Error, int64(k.hl.blockSize), fmt.Sprintf("block_size %d is not a power of two from 512 to 1 MiB: the sub-header, bitmaps and pages cannot be located", k.blockSize))
		return nil
	}
	if k.subHdrSize < 0 {
		f.addDiag(model.Error, int64(k.hl.subHdrSize), fmt.Sprintf("negative sub_hdr_size %d: the bitmaps and pages cannot be located", k.subHdrSize))
	}
	f.kdumpSubHeader()
	f.kdumpVMCOREINFO()
	f.kdumpNotes()
	f.kdumpCheckBitmap()
	return nil
}

// kdumpOrder decides the byte order of the header, which makedumpfile writes
// in the dumped machine's order. The machine name decides when it implies an
// order; otherwise a small header_version and a power-of-two block_size do.
func kdumpOrder(buf []byte, mi machineInfo) binary.ByteOrder {
	switch mi.order {
	case littleEndian:
		return binary.LittleEndian
	case bigEndian:
		return binary.BigEndian
	}
	best, bestScore := binary.ByteOrder(binary.LittleEndian), -1
	for _, o := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		s := 0
		if v := o.Uint32(buf[offHeaderVersion:]); v >= 1 && v <= 0xff {
			s += 2
		}
		for _, l := range []diskDumpHeader{diskDumpHeader64, diskDumpHeader32} {
			if len(buf) >= l.blockSize+4 && validBlockSize(int64(int32(o.Uint32(buf[l.blockSize:])))) {
				s++
				break
			}
		}
		if s > bestScore {
			best, bestScore = o, s
		}
	}
	return best
}

// kdumpHeaderLayout picks the disk_dump_header layout with a 16-byte
// timeval at 408 (LP64) or an 8-byte one at 404 (ILP32): the one the machine
// name implies, unless only the other puts a valid block_size and a
// non-negative sub_hdr_size where they belong. A 32-bit userland built with
// a 64-bit time_t writes the 408 layout, which is expected and silent; a
// 64-bit machine name with the 404 layout is odd and noted.
func (f *File) kdumpHeaderLayout(buf []byte) diskDumpHeader {
	k := f.kd
	cands := []diskDumpHeader{diskDumpHeader64, diskDumpHeader32}
	if k.mach.word == 4 {
		cands[0], cands[1] = cands[1], cands[0]
	}
	ok := func(l diskDumpHeader) bool {
		if len(buf) < l.tasksStart {
			return false
		}
		bs := int64(int32(k.order.Uint32(buf[l.blockSize:])))
		sub := int32(k.order.Uint32(buf[l.subHdrSize:]))
		return validBlockSize(bs) && sub >= 0
	}
	for i, l := range cands {
		if ok(l) {
			if i > 0 && k.mach.word == 8 {
				f.addDiag(model.Note, int64(l.timestamp), fmt.Sprintf("utsname.machine %q implies 64-bit longs, but the header only makes sense with the 32-bit layout; using it", k.uts[4]))
			}
			return l
		}
	}
	if len(buf) < cands[0].tasksStart {
		return diskDumpHeader32
	}
	return cands[0]
}

// kdumpStatus reads the compression and state bits of status.
func (f *File) kdumpStatus() {
	k := f.kd
	off := int64(k.hl.status)
	var algs []string
	for _, a := range []struct {
		bit  uint32
		name string
	}{
		{DUMP_DH_COMPRESSED_ZLIB, "zlib"},
		{DUMP_DH_COMPRESSED_LZO, "lzo"},
		{DUMP_DH_COMPRESSED_SNAPPY, "snappy"},
		{DUMP_DH_COMPRESSED_ZSTD, "zstd"},
	} {
		if k.status&a.bit != 0 {
			algs = append(algs, a.name)
		}
	}
	if len(algs) > 0 {
		k.compression = algs[0]
	}
	if len(algs) > 1 {
		f.addDiag(model.Warning, off, fmt.Sprintf("status %#x names several compressions (%s); each page_desc says which one its page uses", k.status, strings.Join(algs, ", ")))
	}
	if k.status&DUMP_DH_COMPRESSED_INCOMPLETE != 0 {
		f.addDiag(model.Warning, off, "dump is incomplete (status has DUMP_DH_COMPRESSED_INCOMPLETE): makedumpfile could not write every page")
	}
	if u := k.status &^ dumpDHKnown; u != 0 {
		f.addDiag(model.Note, off, fmt.Sprintf("status has unknown bits %#x", u))
	}
}

// subHeaderNeed is how many bytes of kdump_sub_header a header_version uses.
func subHeaderNeed(l kdumpSubHeader, v int32) int {
	switch {
	case v <= 0:
		return l.physBase + l.word
	case v == 1:
		return l.dumpLevel + 4
	case v == 2:
		return l.endPFN + l.word
	case v == 3:
		return l.sizeVmcoreinfo + l.word
	case v == 4:
		return l.sizeNote + l.word
	case v == 5:
		return l.sizeEraseinfo + l.word
	}
	return l.size
}

// kdumpSubHeader reads the kdump_sub_header at offset block_size.
func (f *File) kdumpSubHeader() {
	k := f.kd
	off := int64(k.blockSize)
	// The sub-header's longs are the machine's: a 32-bit userland built
	// with a 64-bit time_t (Debian armhf since the t64 transition) writes
	// an LP64-looking timeval but still 4-byte longs here.
	w := k.mach.word
	if w == 0 {
		w = k.hl.word
	}
	layouts := []kdumpSubHeader{kdumpSubHeader64}
	switch {
	case w == 8:
	case k.mach.i386:
		layouts = []kdumpSubHeader{kdumpSubHeader32i386}
	case k.mach.arch != "":
		layouts = []kdumpSubHeader{kdumpSubHeader32}
	default:
		// An unknown 32-bit machine: 8-byte alignment is the common ABI;
		// fall back to i386's packing if only that gives sane offsets.
		layouts = []kdumpSubHeader{kdumpSubHeader32, kdumpSubHeader32i386}
	}
	need := 0
	for _, l := range layouts {
		need = max(need, subHeaderNeed(l, k.headerVersion))
	}
	b, err := f.readAt(off, int64(need), "kdump_sub_header")
	if err != nil {
		f.addErr(model.Error, err)
		return
	}
	for i, l := range layouts {
		k.sl = l
		k.readSub(b, off)
		if i+1 == len(layouts) || k.subPlausible(f) {
			break
		}
	}
	k.haveSub = true
	if k.headerVersion >= 6 {
		if k.maxMapnr = k.maxMapnr64(b, off); k.maxMapnr == 0 && k.maxMapnr32 != 0 {
			f.addDiag(model.Warning, off+int64(k.sl.maxMapnr64), fmt.Sprintf("max_mapnr_64 is 0; using the 32-bit max_mapnr %d", k.maxMapnr32))
			k.maxMapnr = uint64(k.maxMapnr32)
		}
	}
}

func (k *kdumpPart) maxMapnr64(b []byte, off int64) uint64 {
	c := bin.New(b, off, k.order)
	c.Seek(k.sl.maxMapnr64)
	return c.U64()
}

// readSub decodes the fields header_version promises from b.
func (k *kdumpPart) readSub(b []byte, off int64) {
	l, v := k.sl, k.headerVersion
	c := bin.New(b, off, k.order)
	k.physBase = word(c, l.word)
	if v >= 1 {
		c.Seek(l.dumpLevel)
		k.dumpLevel = int32(c.U32())
	}
	if v >= 2 {
		c.Seek(l.split)
		k.split = int32(c.U32())
		c.Seek(l.startPFN)
		k.startPFN, k.endPFN = word(c, l.word), word(c, l.word)
	}
	if v >= 3 {
		c.Seek(l.offsetVmcoreinfo)
		k.offVmcoreinfo = int64(c.U64())
		k.sizeVmcoreinfo = word(c, l.word)
	}
	if v >= 4 {
		c.Seek(l.offsetNote)
		k.offNote = int64(c.U64())
		k.sizeNote = word(c, l.word)
	}
	if v >= 6 {
		c.Seek(l.startPFN64)
		k.startPFN, k.endPFN = c.U64(), c.U64()
	}
}

// subPlausible reports whether the VMCOREINFO and note offsets lie after the
// disk_dump_header block and within the file (or are absent).
func (k *kdumpPart) subPlausible(f *File) bool {
	in := func(off int64, n uint64) bool {
		if off == 0 && n == 0 {
			return true
		}
		if off < int64(k.blockSize) || n > uint64(f.size) {
			return false
		}
		return !f.lsizeKnown || (off <= f.lsize && int64(n) <= f.lsize-off)
	}
	return in(k.offVmcoreinfo, k.sizeVmcoreinfo) && in(k.offNote, k.sizeNote)
}

// checkPhysBase compares the sub-header's phys_base with VMCOREINFO's
// NUMBER(phys_base), the kernel's own value: QEMU's dump-guest-memory
// writes a wrong one into its kdump-compressed output, and readers must
// use the kernel's.
func (f *File) checkPhysBase(vi map[string]string) {
	k := f.kd
	v, ok := vi["NUMBER(phys_base)"]
	if !k.haveSub || !ok {
		return
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return
	}
	if uint64(n) != k.physBase {
		f.addDiag(model.Warning, int64(k.blockSize)+int64(k.sl.physBase), fmt.Sprintf("kdump_sub_header.phys_base %#x disagrees with VMCOREINFO's NUMBER(phys_base) %#x (QEMU writes a wrong one); the kernel's value is used", k.physBase, uint64(n)))
	}
}

// kdumpVMCOREINFO reads the VMCOREINFO text the sub-header points at
// (header_version 3 and later): raw text, not an ELF note.
func (f *File) kdumpVMCOREINFO() {
	k := f.kd
	if !k.haveSub || k.headerVersion < 3 || k.sizeVmcoreinfo == 0 {
		return
	}
	at := int64(k.blockSize) + int64(k.sl.offsetVmcoreinfo)
	if k.sizeVmcoreinfo > maxVMCOREINFO {
		f.vmcoreinfoErr = &FormatError{Off: at, What: fmt.Sprintf("size_vmcoreinfo %d exceeds the %d-byte limit", k.sizeVmcoreinfo, maxVMCOREINFO)}
		f.addErr(model.Warning, f.vmcoreinfoErr)
		return
	}
	b, err := f.readAt(k.offVmcoreinfo, int64(k.sizeVmcoreinfo), "VMCOREINFO")
	if err != nil {
		f.vmcoreinfoErr = err
		f.addErr(model.Warning, err)
		return
	}
	f.vmcoreinfoRaw = b
}

// kdumpNotes reads the ELF notes copied from the vmcore (header_version 4
// and later): NT_PRSTATUS per CPU, and VMCOREINFO again.
func (f *File) kdumpNotes() {
	k := f.kd
	if !k.haveSub || k.headerVersion < 4 || k.sizeNote == 0 {
		return
	}
	at := int64(k.blockSize) + int64(k.sl.offsetNote)
	if k.sizeNote > maxNoteBytes {
		f.addDiag(model.Warning, at, fmt.Sprintf("size_note %d exceeds the %d-byte limit; notes not read", k.sizeNote, maxNoteBytes))
		return
	}
	b, err := f.readAt(k.offNote, int64(k.sizeNote), "ELF notes")
	if err != nil {
		f.addErr(model.Warning, err)
		return
	}
	notes, err := elfx.ParseNotes(b, k.offNote, k.order)
	if err != nil {
		f.addErr(model.Warning, err)
	}
	k.notes = true
	k.noteList = notes
	for _, n := range notes {
		switch {
		case n.Type == NT_PRSTATUS && n.Name == noteNameCore:
			k.prstatus++
		case n.Name == noteNameVMCOREINFO && f.vmcoreinfoRaw == nil && f.vmcoreinfoErr == nil && len(n.Desc) <= maxVMCOREINFO:
			f.vmcoreinfoRaw = n.Desc
		}
	}
}

// bitmapGeometry locates the bitmaps. The file holds two bitmaps of equal
// size back to back after the sub-header: the first marks the pfns that are
// RAM, the second the pfns whose pages were dumped. crash's dump_is_partial
// tells the two-bitmap layout from the single bitmap of the old diskdump by
// bitmap_blocks being at least twice what max_mapnr needs.
func (k *kdumpPart) bitmapGeometry() (off, total, dumpOff, dumpLen, dataOff int64, ok bool) {
	if !k.blockOK || k.subHdrSize < 0 {
		return 0, 0, 0, 0, 0, false
	}
	bs := int64(k.blockSize)
	off = bs * (1 + int64(k.subHdrSize))
	total = bs * int64(k.bitmapBlocks)
	dataOff = off + total
	need := k.maxMapnr/8 + min(k.maxMapnr%8, 1) // bytes one bitmap needs
	needBlocks := need/uint64(bs) + min(need%uint64(bs), 1)
	dumpOff, dumpLen = off, total
	if needBlocks <= math.MaxUint32/2 && uint64(k.bitmapBlocks) >= 2*needBlocks {
		dumpOff, dumpLen = off+total/2, total/2
	}
	return off, total, dumpOff, dumpLen, dataOff, true
}

// kdumpCheckBitmap reports a bitmap that the file cannot hold.
func (f *File) kdumpCheckBitmap() {
	k := f.kd
	off, total, _, dumpLen, _, ok := k.bitmapGeometry()
	if !ok {
		return
	}
	if total == 0 {
		f.addDiag(model.Warning, int64(k.hl.bitmapBlocks), "bitmap_blocks is 0: no memory bitmap, so no page can be found")
		return
	}
	if f.lsizeKnown && (off > f.lsize || total > f.lsize-off) {
		f.addDiag(model.Warning, off, fmt.Sprintf("memory bitmap (%d bytes at %#x) runs past the end of the file (size %d)", total, off, f.lsize))
	}
	if bitsHeld := uint64(dumpLen) * 8; k.maxMapnr > bitsHeld {
		f.addDiag(model.Warning, int64(k.hl.bitmapBlocks), fmt.Sprintf("the bitmap holds %d pfns, fewer than max_mapnr %d", bitsHeld, k.maxMapnr))
	}
}

// bitmapChunk is the read size for scanning a bitmap.
const bitmapChunk = 64 << 10

// kdumpRanges turns the dumpable-page bitmap into physical ranges. The work
// is bounded by the bitmap, which must lie in the file; the result by the
// number of page descriptors the file has room for, since every dumpable page
// has one.
func (f *File) kdumpRanges(lr io.ReaderAt, lsize int64) ([]model.Range, error) {
	k := f.kd
	_, _, dumpOff, dumpLen, dataOff, ok := k.bitmapGeometry()
	if !ok {
		return nil, &FormatError{Off: int64(k.hl.blockSize), What: fmt.Sprintf("block_size %d / sub_hdr_size %d do not locate a bitmap", k.blockSize, k.subHdrSize)}
	}
	bs := uint64(k.blockSize)
	nbits := min(k.maxMapnr, uint64(dumpLen)*8)
	nbytes := int64(nbits/8 + min(nbits%8, 1))
	capPages := uint64(0)
	if lsize > dataOff {
		capPages = uint64(lsize-dataOff) / sizeofPageDesc
	}
	var (
		rs      []model.Range
		runFrom uint64
		inRun   bool
		pages   uint64
		pfn     uint64
		buf     = make([]byte, min(nbytes, bitmapChunk))
	)
	flush := func(end uint64) {
		if inRun {
			rs = append(rs, model.Range{Start: runFrom * bs, Size: (end - runFrom) * bs, FileOff: -1, Physical: true, Label: "dumpable pages"})
			inRun = false
		}
	}
	maxPFN := math.MaxUint64 / bs // pfn*bs must not overflow
scan:
	for pos := int64(0); pos < nbytes; pos += int64(len(buf)) {
		n := int(min(int64(len(buf)), nbytes-pos))
		m, err := lr.ReadAt(buf[:n], dumpOff+pos)
		if m < n {
			if pos == 0 && m == 0 {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, &FormatError{Off: dumpOff, What: "reading the dumpable-page bitmap", Err: err}
			}
			f.addDiag(model.Warning, dumpOff+pos+int64(m), fmt.Sprintf("dumpable-page bitmap cut off at pfn %#x: later pages are not listed", (uint64(pos)+uint64(m))*8))
		}
		for _, b := range buf[:m] {
			if pfn >= nbits {
				break scan
			}
			if pfn > maxPFN-8 {
				f.addDiag(model.Warning, dumpOff+pos, fmt.Sprintf("pfn %#x times block_size overflows a 64-bit address; ranges stop there", pfn))
				break scan
			}
			switch {
			case b == 0 && !inRun:
				pfn += 8
			case b == 0xff && inRun && pfn+8 <= nbits && pages+8 <= capPages:
				pfn, pages = pfn+8, pages+8
			default:
				for bit := 0; bit < 8 && pfn < nbits; bit++ {
					if b&(1<<bit) == 0 {
						flush(pfn)
					} else {
						if pages == capPages {
							flush(pfn)
							f.addDiag(model.Warning, dataOff, fmt.Sprintf("the bitmap marks more dumpable pages than the %d page descriptors the file has room for; ranges stop at pfn %#x", capPages, pfn))
							break scan
						}
						if !inRun {
							runFrom, inRun = pfn, true
						}
						pages++
					}
					pfn++
				}
			}
		}
		if m < n {
			break
		}
	}
	flush(min(pfn, nbits))
	if f.variant == VariantFlattened {
		// A compressed file was checked at open (kdumpCheckTruncation);
		// a flattened one's page data is only located now.
		if first, cut := f.kdumpFirstCut(lr, lsize, dataOff, pages); cut {
			f.kdumpTruncated(lsize, first, pages, rs)
		}
	}
	return rs, nil
}

// kdumpCheckTruncation says at open, as WinDbg does, when the file ends
// before the data of its last pages. It needs the number of dumpable pages,
// which the bitmap gives only by counting; but makedumpfile writes the page
// data right after the descriptors (num_dumpable of them), the shared zero
// page first when there is one, so the first descriptor's data offset
// tells it in one read.
func (f *File) kdumpCheckTruncation() {
	k := f.kd
	_, _, _, _, dataOff, ok := k.bitmapGeometry()
	if !ok || !f.lsizeKnown || dataOff >= f.lsize {
		return
	}
	var d [sizeofPageDesc]byte
	if n, _ := f.lr.ReadAt(d[:], dataOff); n < len(d) {
		return
	}
	// The data starts with the first page's, or with the shared zero page
	// (one uncompressed block) when the dump has one; block sizes are
	// powers of two, so only one of the two offsets is a whole number of
	// descriptors away from dataOff.
	off0 := k.order.Uint64(d[:])
	pages := uint64(0)
	for _, start := range []uint64{off0, off0 - uint64(k.blockSize)} {
		if start > uint64(dataOff) && start <= uint64(f.lsize) && (start-uint64(dataOff))%sizeofPageDesc == 0 {
			pages = (start - uint64(dataOff)) / sizeofPageDesc
		}
	}
	if pages == 0 {
		return // not makedumpfile's layout: Ranges checks what it can
	}
	if first, cut := f.kdumpFirstCut(f.lr, f.lsize, dataOff, pages); cut {
		rs, _ := f.ranges()
		f.kdumpTruncated(f.lsize, first, pages, rs)
	}
}

// kdumpTruncated reports that the data of the pages from the first-th
// dumpable one on is (partly) missing.
func (f *File) kdumpTruncated(lsize int64, first, pages uint64, rs []model.Range) {
	// The first-th dumpable page's pfn, from the ranges (runs of pages).
	bs := uint64(f.kd.blockSize)
	pfn, k := uint64(0), first
	for _, r := range rs {
		if n := r.Size / bs; k < n {
			pfn = r.Start/bs + k
			break
		} else {
			k -= n
		}
	}
	missing := pages - first
	f.addDiag(model.Warning, lsize, fmt.Sprintf("the dump file is truncated: it ends at %#x, before the data of up to %d of its %d dumpable pages (%d MiB, from pfn %#x, physical address %#x, on), which read as absent",
		lsize, missing, pages, missing*bs>>20, pfn, pfn*bs))
}

// kdumpFirstCut finds whether the file ends before the data of its last
// pages, as a dump cut off by a full disk or an interrupted copy does (the
// descriptors, written first, are all there; the pages they point to are
// not), and the index of the first page whose data is cut off. makedumpfile writes the pages in pfn order, so the data offsets
// grow with the descriptor index, except that every zero page points at
// one shared copy written first, right after the descriptors. A binary
// search over the descriptors, stepping over zero pages, finds where the
// data stops.
func (f *File) kdumpFirstCut(lr io.ReaderAt, lsize, dataOff int64, pages uint64) (first uint64, cut bool) {
	if pages == 0 || !f.lsizeKnown || pages > math.MaxInt64/sizeofPageDesc {
		return 0, false
	}
	const (
		chunk     = 64      // descriptors a probe reads at a time
		backChunk = 4096    // descriptors read at a time looking back from the end
		maxProbe  = 1 << 14 // descriptors one probe reads past zero pages
	)
	var buf [chunk * sizeofPageDesc]byte
	order := f.kd.order
	zeroOff := uint64(dataOff) + pages*sizeofPageDesc
	// past reports whether the first page from idx on that is not a zero
	// page has data running past the end of the file; ok is false when no
	// such page is found (in [idx, end) or within maxProbe descriptors).
	past := func(idx, end uint64) (past, ok bool) {
		for seen := uint64(0); idx < end && seen < maxProbe; {
			n, _ := lr.ReadAt(buf[:min(end-idx, chunk)*sizeofPageDesc], dataOff+int64(idx)*sizeofPageDesc)
			if n < sizeofPageDesc {
				return false, false
			}
			for i := 0; i+sizeofPageDesc <= n; i += sizeofPageDesc {
				off, size := order.Uint64(buf[i:]), uint64(order.Uint32(buf[i+8:]))
				if off == zeroOff {
					continue
				}
				return off > uint64(lsize) || size > uint64(lsize)-off, true
			}
			idx += uint64(n / sizeofPageDesc)
			seen += uint64(n / sizeofPageDesc)
		}
		return false, false
	}
	// Is the last page that is not a zero page cut off? Its descriptor is
	// found in steps back from the end.
	last, found := uint64(0), false
	back := make([]byte, backChunk*sizeofPageDesc)
	for from := pages; from > 0 && pages-from < 4*maxProbe && !found; {
		start := from - min(from, backChunk)
		n, _ := lr.ReadAt(back[:(from-start)*sizeofPageDesc], dataOff+int64(start)*sizeofPageDesc)
		for i := n/sizeofPageDesc - 1; i >= 0; i-- {
			if order.Uint64(back[i*sizeofPageDesc:]) != zeroOff {
				last, found = start+uint64(i), true
				break
			}
		}
		from = start
	}
	if !found {
		return 0, false // nothing but zero pages at the end: nothing to go by
	}
	if p, _ := past(last, last+1); !p {
		return 0, false
	}
	lo, hi := uint64(0), last // the first page cut off is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo)/2
		p, ok := past(mid, hi+1)
		switch {
		case !ok, p:
			// Cut off, or a long run of zero pages before the cut,
			// counted with it: the count says "up to".
			hi = mid
		default:
			lo = mid + 1
		}
	}
	return lo, true
}

// fillInfo adds what the kdump headers say to info.
func (k *kdumpPart) fillInfo(f *File, info *model.Info, vi map[string]string) {
	info.Compression = k.compression
	info.OS.Release = k.uts[2]
	info.OS.Build = k.uts[3]
	info.Arch = k.mach.arch
	if info.Arch == "" && k.uts[4] != "" {
		f.addDiag(model.Note, offUtsMachine, fmt.Sprintf("unknown utsname.machine %q", k.uts[4]))
	}
	if rel, ok := vi["OSRELEASE"]; ok && k.uts[2] != "" && rel != k.uts[2] {
		f.addDiag(model.Note, offUtsRelease, fmt.Sprintf("utsname.release %q differs from VMCOREINFO OSRELEASE %q", k.uts[2], rel))
	}
	switch {
	case k.nrCPUs > 0 && k.nrCPUs <= maxCPUs:
		info.CPUs = int(k.nrCPUs)
	case k.notes:
		info.CPUs = k.prstatus
	}
	if k.tvSec > 0 {
		usec := k.tvUsec
		if usec < 0 || usec >= 1e6 {
			usec = 0
		}
		info.Time = time.Unix(k.tvSec, usec*1000).UTC()
	}
	d := func(key, val string) { info.Details = append(info.Details, model.Detail{Key: key, Value: val}) }
	order := "little-endian"
	if k.order == binary.BigEndian {
		order = "big-endian"
	}
	d("header_version", strconv.Itoa(int(k.headerVersion)))
	d("Header layout", fmt.Sprintf("%d-bit, %s", 8*k.hl.word, order))
	d("status", statusString(k.status))
	d("block_size", strconv.Itoa(int(k.blockSize)))
	if k.haveSub && k.headerVersion >= 1 {
		d("dump_level", strconv.Itoa(int(k.dumpLevel)))
	}
	d("max_mapnr", strconv.FormatUint(k.maxMapnr, 10))
	if k.haveSub {
		d("phys_base", fmt.Sprintf("%#x", k.physBase))
	}
	if k.haveSub && k.headerVersion >= 2 && k.split != 0 {
		d("split", fmt.Sprintf("pfn %#x-%#x", k.startPFN, k.endPFN))
	}
	d("current_cpu", strconv.FormatUint(uint64(k.currentCPU), 10))
	if k.uts[1] != "" && k.uts[1] != "(none)" {
		d("nodename", k.uts[1])
	}
}

// statusString spells status with the diskdump_mod.h names.
func statusString(s uint32) string {
	var names []string
	for _, b := range []struct {
		bit  uint32
		name string
	}{
		{DUMP_DH_COMPRESSED_ZLIB, "DUMP_DH_COMPRESSED_ZLIB"},
		{DUMP_DH_COMPRESSED_LZO, "DUMP_DH_COMPRESSED_LZO"},
		{DUMP_DH_COMPRESSED_SNAPPY, "DUMP_DH_COMPRESSED_SNAPPY"},
		{DUMP_DH_COMPRESSED_INCOMPLETE, "DUMP_DH_COMPRESSED_INCOMPLETE"},
		{DUMP_DH_EXCLUDED_VMEMMAP, "DUMP_DH_EXCLUDED_VMEMMAP"},
		{DUMP_DH_COMPRESSED_ZSTD, "DUMP_DH_COMPRESSED_ZSTD"},
	} {
		if s&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	if u := s &^ dumpDHKnown; u != 0 {
		names = append(names, fmt.Sprintf("%#x", u))
	}
	if len(names) == 0 {
		return "0"
	}
	return fmt.Sprintf("%#x (%s)", s, strings.Join(names, "|"))
}
