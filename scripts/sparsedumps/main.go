// Command sparsedumps writes big sparse kernel dumps for measuring open cost
// (issue 11): for each size (1, 16 and 64 GiB of memory by default) one dump
// of every kernel format, each as a real dump of a machine with that much
// RAM lays it out, with the page data left as holes so the files take
// almost no disk space.
//
//	go run ./scripts/sparsedumps [-sizes 1,16,64] DIR
//
// The headers come from the spec-written test builders (kdmptest,
// vmcoretest, limetest, fbsdtest); the parts the builders would fill with
// gigabytes of page data (run lengths, bitmaps, segment sizes) are patched
// or written here, and os.Truncate sets the final length. The kdump-
// compressed dump is the exception to "sparse": it holds one 24-byte
// page_desc per page (all pointing at one shared zero page, as makedumpfile
// writes zero pages), so 64 GiB of memory is 384 MiB of file.
//
// Two LiME images are written: "lime" holds the kernel's VMCOREINFO page
// where real kernels keep it (the session scans memory for it, as LiME
// carries no copy), "lime-novmcoreinfo" none, the worst case in which
// that scan reads every page.
//
// It prints one line per file: format, size in GiB, path.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/lime/limetest"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

const (
	gib  = 1 << 30
	page = 4096
)

var le = binary.LittleEndian

// format is one kernel dump format: name (used in file names and reports)
// and the function writing a dump of memSize bytes of RAM to path.
type format struct {
	name  string
	write func(path string, memSize uint64) error
}

var formats = []format{
	{"kdmp-full", writeKdmpFull},
	{"kdmp-bitmap", writeKdmpBitmap},
	{"vmcore-elf", writeVmcoreELF},
	{"vmcore-kdump", writeVmcoreKdump},
	{"lime", writeLiME},
	{"lime-novmcoreinfo", writeLiMENoVMCOREINFO},
	{"fbsd-amd64", writeFreeBSD},
}

func main() {
	sizes := flag.String("sizes", "1,16,64", "memory sizes in GiB, comma-separated")
	only := flag.String("formats", "", "comma-separated subset of formats (default all)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: sparsedumps [-sizes 1,16,64] [-formats a,b] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(1)
	}
	dir := flag.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil || n == 0 {
			fatal(fmt.Errorf("bad size %q", s))
		}
		for _, f := range formats {
			if *only != "" && !strings.Contains(","+*only+",", ","+f.name+",") {
				continue
			}
			path := filepath.Join(dir, fmt.Sprintf("%s-%dG.dmp", f.name, n))
			if err := f.write(path, n*gib); err != nil {
				fatal(fmt.Errorf("%s %d GiB: %w", f.name, n, err))
			}
			fmt.Printf("%s\t%d\t%s\n", f.name, n, path)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "sparsedumps:", err)
	os.Exit(1)
}

// piece is bytes to write at a file offset.
type piece struct {
	off  int64
	data []byte
}

// writeSparse writes the pieces and sets the file's length to size: what
// lies between the pieces stays a hole.
func writeSparse(path string, size int64, pieces ...piece) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	for _, p := range pieces {
		if _, err := f.WriteAt(p.data, p.off); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ramRanges is the physical memory of a PC with memSize bytes of RAM, as
// /proc/iomem's "System RAM" lines show it: the low 640 KiB less the first
// page and the EBDA, RAM from 1 MiB to at most 3 GiB (the PCI hole is
// below 4 GiB), and the rest from 4 GiB up. The sizes add up to about
// memSize.
func ramRanges(memSize uint64) [][2]uint64 { // [start, end)
	rs := [][2]uint64{{0x1000, 0x9f000}}
	low := min(memSize, 3*gib)
	rs = append(rs, [2]uint64{0x100000, low})
	if memSize > low {
		rs = append(rs, [2]uint64{4 * gib, 4*gib + memSize - low})
	}
	return rs
}

// writeKdmpFull writes a Windows complete memory dump (PAGEDU64, DumpType
// 1) with one run of memSize bytes from physical page 0, the way
// core/dump's 64 GiB benchmark does: the builder writes a header for a
// one-page run, and the run's page counts and RequiredDumpSpace are
// patched to the real size.
func writeKdmpFull(path string, memSize uint64) error {
	hdr, err := kdmptest.New().Runs(kdmptest.Run{BasePage: 0, PageCount: 1}).Truncate(0x2000).Bytes()
	if err != nil {
		return err
	}
	// PHYSICAL_MEMORY_DESCRIPTOR64 at 0x88: NumberOfRuns, pad,
	// NumberOfPages, then Run[0] {BasePage, PageCount}; RequiredDumpSpace
	// at 0xfa0.
	pages := memSize / page
	le.PutUint32(hdr[0x88:], 1)
	le.PutUint64(hdr[0x90:], pages)
	le.PutUint64(hdr[0x98:], 0)
	le.PutUint64(hdr[0xa0:], pages)
	size := int64(0x2000 + memSize)
	le.PutUint64(hdr[0xfa0:], uint64(size))
	return writeSparse(path, size, piece{0, hdr})
}

// writeKdmpBitmap writes a Windows complete memory bitmap dump (DumpType 5,
// "FDMP"), as Windows 8 and later write a full dump: the 0x2000-byte
// header, BMP_HEADER64, a bitmap with a bit per page of memory (every page
// present) and the pages, which start right after the bitmap.
func writeKdmpBitmap(path string, memSize uint64) error {
	// The builder caps its bitmap at 4 KiB; build a one-page dump and
	// patch BMP_HEADER64 (at 0x2000: FirstPage 0x20, TotalPresentPages
	// 0x28, Pages 0x30, the bitmap at 0x38) for the real size.
	b, err := kdmptest.New().DumpType(kdmptest.Bitmap).BitmapSignature(kdmptest.FullSignature).Pages(0).BitmapBits(64).Bytes()
	if err != nil {
		return err
	}
	hdr := b[:0x2038]
	pages := memSize / page
	bitmap := make([]byte, (pages+7)/8)
	for i := range bitmap {
		bitmap[i] = 0xff
	}
	first := uint64(0x2038 + len(bitmap))
	le.PutUint64(hdr[0x2020:], first)
	le.PutUint64(hdr[0x2028:], pages)
	le.PutUint64(hdr[0x2030:], pages)
	size := int64(first + memSize)
	le.PutUint64(hdr[0xfa0:], uint64(size))
	return writeSparse(path, size, piece{0, hdr}, piece{0x2038, bitmap})
}

// writeVmcoreELF writes a /proc/vmcore as the kdump kernel presents it: a
// PT_NOTE (a PRSTATUS per CPU and VMCOREINFO), a PT_LOAD for the kernel
// text mapping, and one PT_LOAD per range of RAM in the direct map.
func writeVmcoreELF(path string, memSize uint64) error {
	const (
		textVaddr = 0xffffffff81000000
		textPaddr = 0x1000000
		textSize  = 0x2000000
		directMap = 0xffff888000000000
	)
	type seg struct{ vaddr, paddr, size uint64 }
	segs := []seg{{textVaddr, textPaddr, textSize}}
	for _, r := range ramRanges(memSize) {
		segs = append(segs, seg{directMap + r[0], r[0], r[1] - r[0]})
	}
	// The builder stores each segment's bytes; give it one page each,
	// then patch p_offset, p_filesz and p_memsz of the program headers
	// (ELF64: 56 bytes each from e_phoff 64, PT_NOTE first) and leave the
	// data as holes.
	loads := make([]vmcoretest.Load, len(segs))
	for i, s := range segs {
		loads[i] = vmcoretest.Load{Vaddr: s.vaddr, Paddr: s.paddr, Data: make([]byte, page)}
	}
	b, err := vmcoretest.NewELF(le).CPUs(8).Loads(loads...).Bytes()
	if err != nil {
		return err
	}
	const phoff, phent = 64, 56
	// The first load starts where the builder put it; the notes end
	// before it. The kernel aligns each segment's data to a page.
	off := le.Uint64(b[phoff+phent+8:])
	off = (off + page - 1) &^ (page - 1)
	for i, s := range segs {
		ph := b[phoff+phent*(i+1):]
		le.PutUint64(ph[8:], off)
		le.PutUint64(ph[32:], s.size)
		le.PutUint64(ph[40:], s.size)
		off += s.size
	}
	return writeSparse(path, int64(off), piece{0, b[:le.Uint64(b[phoff+phent+8:])]})
}

// writeVmcoreKdump writes a makedumpfile kdump-compressed dump (-d 1,
// zlib) of a machine whose pages are all dumped and all zero: both bitmaps
// have every bit below max_mapnr set, and every page_desc points at the
// one zero page makedumpfile writes first in the data area (pd_zero in
// write_kdump_pages_cyclic). Holes in the physical map (ramRanges) are
// RAM-bitmap zeros, as makedumpfile leaves them.
func writeVmcoreKdump(path string, memSize uint64) error {
	rs := ramRanges(memSize)
	maxMapnr := rs[len(rs)-1][1] / page
	var dumpable []vmcoretest.PFNRange
	var npages uint64
	for _, r := range rs {
		dumpable = append(dumpable, vmcoretest.PFNRange{Start: r[0] / page, End: r[1] / page})
		npages += (r[1] - r[0]) / page
	}
	// The builder writes a page_desc and the data of every dumpable page;
	// build with no dumpable page, then set the dumpable bitmap's bits and
	// write the descriptors here.
	k := vmcoretest.NewKdump(le).CPUs(8).DumpLevel(1).MaxMapnr(maxMapnr).Dumpable()
	b, err := k.Bytes()
	if err != nil {
		return err
	}
	// b is the header block, the sub-header blocks, then the two bitmaps
	// of equal size; with no dumpable page nothing follows.
	bitmapLen := int((maxMapnr+7)/8+page-1) / page * page
	ramOff := len(b) - 2*bitmapLen
	if ramOff <= 0 || ramOff%page != 0 {
		return fmt.Errorf("unexpected kdump layout: %d bytes, bitmaps of %d", len(b), bitmapLen)
	}
	ram, dump := b[ramOff:ramOff+bitmapLen], b[ramOff+bitmapLen:]
	clear(ram)
	for _, r := range dumpable {
		for p := r.Start; p < r.End; p++ {
			ram[p/8] |= 1 << (p % 8)
			dump[p/8] |= 1 << (p % 8)
		}
	}
	descOff := int64(len(b))
	zeroPage := descOff + int64(npages)*24
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(b)
	// page_desc_t: off_t offset, unsigned int size, unsigned int flags,
	// unsigned long long page_flags. The zero page is stored as is.
	var d [24]byte
	le.PutUint64(d[0:], uint64(zeroPage))
	le.PutUint32(d[8:], page)
	for range npages {
		w.Write(d[:])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(zeroPage + page); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeLiME writes a LiME image: one range header and the range's bytes
// per range of RAM. The builder writes each header (with a one-byte range,
// whose inclusive e_addr is then patched to the real end). Memory holds
// the kernel's VMCOREINFO page, which is all the session looks for when it
// opens an image: where the kernels seen here keep it (vmcoreinfoPage).
func writeLiME(path string, memSize uint64) error { return writeLiMEImage(path, memSize, true) }

// writeLiMENoVMCOREINFO writes a LiME image of zeros: the worst case, in
// which the session's scan for the VMCOREINFO page reads every page.
func writeLiMENoVMCOREINFO(path string, memSize uint64) error {
	return writeLiMEImage(path, memSize, false)
}

func writeLiMEImage(path string, memSize uint64, vmcoreinfo bool) error {
	var pieces []piece
	off := int64(0)
	vi := vmcoreinfoPage(memSize)
	for _, r := range ramRanges(memSize) {
		b, err := limetest.New().Ranges(limetest.Range{Start: r[0], Size: 1}).Bytes()
		if err != nil {
			return err
		}
		hdr := b[:32]
		le.PutUint64(hdr[16:], r[1]-1)
		pieces = append(pieces, piece{off, hdr})
		if vmcoreinfo && vi >= r[0] && vi < r[1] {
			text := vmcoretest.DefaultVMCOREINFO().Text()
			pieces = append(pieces, piece{off + 32 + int64(vi-r[0]), text})
		}
		off += 32 + int64(r[1]-r[0])
	}
	return writeSparse(path, off, pieces...)
}

// vmcoreinfoPage is the physical address of the kernel's VMCOREINFO page
// (vmcoreinfo_data, allocated early in boot) in a machine of memSize: 12
// MiB above 4 GiB when RAM reaches past 4 GiB (a 24 GiB x86-64 guest
// running Linux 6.18 has its VMCOREINFO note at 0x100c66000, allocated
// right after the page), else 0x45c1000 (where the corpus's panic-96M
// guest, Linux 6.1, keeps it).
func vmcoreinfoPage(memSize uint64) uint64 {
	if memSize > 3*gib {
		return 0x100c65000
	}
	return 0x45c1000
}

// writeFreeBSD writes a FreeBSD amd64 minidump (version 3) in which every
// page of dump_avail[] is dumped: header page, message buffer, dump_avail,
// the page bitmap (all ones), the page-directory pages (one per GiB of
// kernel map, as minidumpsys writes them) and the pages.
func writeFreeBSD(path string, memSize uint64) error {
	rs := ramRanges(memSize)
	var avail []uint64
	var npages uint64
	for _, r := range rs {
		avail = append(avail, r[0], r[1])
		npages += (r[1] - r[0]) / page
	}
	pmapSize := uint32((memSize/gib + 2) * page)
	const msgbufSize = 96 << 10 // MSGBUF_SIZE
	// The builder writes the bitmap it is given followed by a page of
	// data per set bit; build with no bitmap and splice the real one in
	// between dump_avail and the page-table pages, which it writes last.
	b, err := fbsdtest.New(fbsdtest.AMD64).
		MsgBuf(fbsdtest.MsgBufRing(fbsdtest.MemoryLog, msgbufSize)).
		DumpAvail(avail...).Bitmap(nil).PmapSize(pmapSize).Bytes()
	if err != nil {
		return err
	}
	prefix, pmap := b[:len(b)-int(pmapSize)], b[len(b)-int(pmapSize):]
	// vm_page_dump_size: one bit per page of dump_avail[] in 64-bit words,
	// rounded up to a page.
	bitmapSize := ((npages+63)/64*8 + page - 1) / page * page
	bitmap := make([]byte, bitmapSize)
	for i := range npages / 8 {
		bitmap[i] = 0xff
	}
	for i := npages / 8 * 8; i < npages; i++ {
		bitmap[i/8] |= 1 << (i % 8)
	}
	// struct minidumphdr (amd64): magic[24], version, msgbufsize,
	// bitmapsize at 32.
	le.PutUint32(prefix[32:], uint32(bitmapSize))
	off := int64(len(prefix))
	pieces := []piece{{0, prefix}, {off, bitmap}, {off + int64(bitmapSize), pmap}}
	size := off + int64(bitmapSize) + int64(pmapSize) + int64(npages)*page
	return writeSparse(path, size, pieces...)
}
