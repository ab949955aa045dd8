package fbsd

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// The dumped pages follow the page-table section in bitmap order: the n-th
// set bit of the bitmap is the n-th page of data. A bit stands for a
// physical page. Without dump_avail[] (amd64 v1-2, arm64 v1) bit b is the
// page at b*PAGE_SIZE. With it, the kernel's vm_page_dump_add numbers only
// the pages of the dump_avail ranges, range after range: a range
// [start, end) holds the bits for pages start/PAGE_SIZE up to
// howmany(end, PAGE_SIZE), and the list stops at the first pair whose end
// is zero. libkvm's _kvm_pa_bit_id and _kvm_pt_find do the reverse. The
// bitmap is a bitset of 64-bit words in the dumped machine's byte order;
// both supported architectures are little-endian, where bit b is bit b%8 of
// byte b/8.

// physCachePages is how many pages the physical space caches: kernel walks
// reread the same page tables many times.
const physCachePages = 1024

// maxDumpAvail bounds the dump_avail pairs read (the kernel's
// PHYS_AVAIL_COUNT is 2*(VM_PHYSSEG_MAX+1), at most a few hundred).
const maxDumpAvail = 4096

// physMap is the decoded page index: the runs of dumped pages.
type physMap struct {
	runs  []mem.Mapping // physical address -> file offset, merged
	space mem.Space     // mem.Runs over the file, cached
	err   error
}

// supported reports whether physical and kernel memory can be read: the
// bitmap layout and the page tables are implemented for amd64 and arm64.
func (f *File) supported() error {
	if f.lay == nil {
		return &FormatError{Off: 0, What: fmt.Sprintf("memory of %q minidumps", f.magic), Err: ErrUnsupported}
	}
	switch f.lay.magic {
	case MagicAMD64, MagicARM64:
		return nil
	}
	return &FormatError{Off: 0, What: fmt.Sprintf("memory of %s minidumps", f.magic), Err: ErrUnsupported}
}

// hasDumpAvail reports whether the version has a dump_avail section.
func (f *File) hasDumpAvail() bool {
	switch f.lay.magic {
	case MagicAMD64:
		return f.hdr.version >= 3
	case MagicARM64:
		return f.hdr.version >= 2
	}
	return false
}

// readSection reads up to n bytes at off, fewer when the file ends first.
func (f *File) readSection(off, n uint64) []byte {
	if off >= uint64(f.size) {
		return nil
	}
	n = min(n, uint64(f.size)-off)
	b := make([]byte, n)
	k, _ := f.r.ReadAt(b, int64(off))
	return b[:k]
}

// avail is one dump_avail range in pages: bits [bit, bit+pages) are the
// pages from first.
type avail struct{ first, pages, bit uint64 }

// dumpAvail reads dump_avail[] and numbers its pages. ok is false when the
// dump has no dump_avail (bits are page frame numbers).
func (f *File) dumpAvail() (ranges []avail, ok bool) {
	if !f.hasDumpAvail() || f.hdr.dumpavailsize == 0 {
		return nil, false
	}
	_, availOff, _, _, _ := f.sections()
	raw := f.readSection(availOff, min(uint64(f.hdr.dumpavailsize), maxDumpAvail*16))
	if len(raw) < int(min(uint64(f.hdr.dumpavailsize), maxDumpAvail*16)) {
		f.lateDiag(model.Error, int64(availOff)+int64(len(raw)), "dump_avail[] is cut short by the end of the file")
	}
	page := f.pageSize()
	var bit uint64
	for i := 0; i+16 <= len(raw); i += 16 {
		start, end := f.order.Uint64(raw[i:]), f.order.Uint64(raw[i+8:])
		if end == 0 {
			break
		}
		first := start / page
		last := end/page + min(end%page, 1) // howmany(end, PAGE_SIZE)
		if last < first {
			f.lateDiag(model.Error, int64(availOff)+int64(i), "dump_avail[%d] ends (%#x) before it starts (%#x); later ranges ignored", i/8, end, start)
			break
		}
		ranges = append(ranges, avail{first: first, pages: last - first, bit: bit})
		if bit+(last-first) < bit {
			break
		}
		bit += last - first
	}
	return ranges, true
}

// buildPhys decodes the bitmap into runs of dumped pages.
func (f *File) buildPhys() *physMap {
	pm := &physMap{}
	if pm.err = f.supported(); pm.err != nil {
		return pm
	}
	page := f.pageSize()
	shift := uint(bits.TrailingZeros64(page))
	_, _, bitmapOff, _, pagesOff := f.sections()
	bm := f.readSection(bitmapOff, uint64(f.hdr.bitmapsize))
	if uint64(len(bm)) < uint64(f.hdr.bitmapsize) {
		f.lateDiag(model.Error, int64(bitmapOff)+int64(len(bm)), "the page bitmap is cut short by the end of the file (%#x of %#x bytes)", len(bm), f.hdr.bitmapsize)
	}
	avails, withAvail := f.dumpAvail()
	// The file holds room for this many pages; later bits are pages the
	// truncated file lost.
	var room uint64
	if uint64(f.size) > pagesOff {
		room = (uint64(f.size) - pagesOff) >> shift
	}
	var rank, lost, outside uint64
	ai := 0
	for byteIdx, v := range bm {
		for v != 0 {
			b := uint64(byteIdx)*8 + uint64(bits.TrailingZeros8(v))
			v &= v - 1
			n := rank
			rank++
			var pfn uint64
			if withAvail {
				for ai < len(avails) && b >= avails[ai].bit+avails[ai].pages {
					ai++
				}
				if ai == len(avails) {
					outside++
					continue
				}
				pfn = avails[ai].first + (b - avails[ai].bit)
			} else {
				pfn = b
			}
			if n >= room {
				lost++
				continue
			}
			if pfn > math.MaxUint64>>shift {
				outside++
				continue
			}
			pa, off := pfn<<shift, pagesOff+n<<shift
			if k := len(pm.runs) - 1; k >= 0 && pm.runs[k].Addr+pm.runs[k].Len == pa && pm.runs[k].BaseAddr+pm.runs[k].Len == off {
				pm.runs[k].Len += page
				continue
			}
			pm.runs = append(pm.runs, mem.Mapping{Addr: pa, Len: page, BaseAddr: off})
		}
	}
	if outside > 0 {
		f.lateDiag(model.Error, int64(bitmapOff), "%d bitmap bits lie beyond the pages dump_avail[] lists; their pages are skipped", outside)
	}
	if lost > 0 {
		f.lateDiag(model.Error, f.size, "%d of the %d pages the bitmap lists lie past the end of the file (truncated dump); they read as not in dump", lost, rank)
	}
	base := mem.NewFile(f.r, f.size, "minidump file")
	rs, err := mem.NewRuns(base, "physical", pm.runs)
	if err != nil {
		pm.err = &FormatError{Off: int64(bitmapOff), What: "page bitmap", Err: err}
		return pm
	}
	pm.space = mem.NewCache(rs, int(page), physCachePages)
	return pm
}

// PhysicalMemory returns the dumped machine's physical memory (amd64 and
// arm64 minidumps): the pages the bitmap lists, each read from its place in
// the page data. Pages not dumped fault with mem.NotInDump. Built once.
func (f *File) PhysicalMemory() (mem.Space, error) {
	pm := f.phys()
	if pm.err != nil {
		return nil, pm.err
	}
	return pm.space, nil
}

// Ranges lists the dumped physical pages as runs of contiguous pages, each
// with the file offset of its first page. Architectures other than amd64
// and arm64 return nil.
func (f *File) Ranges() ([]model.Range, error) {
	pm := f.phys()
	if pm.err != nil {
		if f.supported() != nil {
			return nil, nil
		}
		return nil, pm.err
	}
	out := make([]model.Range, 0, len(pm.runs))
	for _, r := range pm.runs {
		out = append(out, model.Range{Start: r.Addr, Size: r.Len, FileOff: int64(r.BaseAddr), Physical: true})
	}
	return out, nil
}
