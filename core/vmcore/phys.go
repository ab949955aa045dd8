package vmcore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"math/bits"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/internal/lzo"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// physCachePages is how many decoded pages PhysicalMemory keeps: kernel
// walks reread the same page tables and list heads many times.
const physCachePages = 4096

// PhysicalMemory returns the dumped machine's physical memory: addresses
// are physical. An ELF vmcore maps each PT_LOAD's p_paddr to its file
// bytes; a kdump-compressed dump (plain or flattened) finds a page's
// page_desc by counting the dumpable-page bitmap's set bits before it and
// decompresses it (zlib, snappy, zstd, lzo). A page the dump does not
// hold (filtered out by makedumpfile, or never in a PT_LOAD) faults with
// mem.NotInDump, not zeros. Built once.
func (f *File) PhysicalMemory() (mem.Space, error) { return f.phys() }

func (f *File) buildPhys() (mem.Space, error) {
	lr, lsize := f.lr, f.lsize
	if f.variant == VariantFlattened {
		full := f.fullFlat()
		lr, lsize = full, full.end
	}
	base := mem.NewFile(lr, lsize, "vmcore file")
	var s mem.Space
	if f.elf != nil {
		var runs []mem.Mapping
		for _, p := range f.elf.progs {
			if p.Type == elfx.PT_LOAD && p.Filesz > 0 {
				runs = append(runs, mem.Mapping{Addr: p.Paddr, Len: p.Filesz, BaseAddr: p.Off})
			}
		}
		r, err := mem.NewRuns(base, "physical", runs)
		if err != nil {
			return nil, &FormatError{Off: -1, What: "PT_LOAD segments", Err: err}
		}
		s = r
	} else {
		ks, err := f.newKdumpSpace(base, lr, lsize)
		if err != nil {
			return nil, err
		}
		s = ks
	}
	return mem.NewCache(s, f.pageSize(), physCachePages), nil
}

// pageSize is the dump's page size: block_size for kdump-compressed
// dumps, VMCOREINFO's PAGESIZE or 4096 for ELF ones.
func (f *File) pageSize() int {
	if f.kd != nil && f.kd.blockOK {
		return int(f.kd.blockSize)
	}
	return 4096
}

// kdumpSpace is a kdump-compressed dump's physical memory (a mem.Mapper
// over the file): pfn p is present when bit p of the dumpable bitmap is
// set, and its page_desc is the rank of that bit among the set ones.
type kdumpSpace struct {
	base    mem.Space
	lr      io.ReaderAt
	order   binary.ByteOrder
	bs      uint64
	dataOff int64
	nDesc   uint64 // page descriptors the file has room for
	bitmap  []byte
	rank    []uint64 // rank[i] = set bits in bitmap[:i*rankBytes]
	regions []mem.Region
}

// rankBytes is the bitmap stride of the rank index: a lookup counts at
// most this many bytes.
const rankBytes = 512

func (f *File) newKdumpSpace(base mem.Space, lr io.ReaderAt, lsize int64) (*kdumpSpace, error) {
	k := f.kd
	_, _, dumpOff, dumpLen, dataOff, ok := k.bitmapGeometry()
	if !ok {
		return nil, &FormatError{Off: int64(k.hl.blockSize), What: fmt.Sprintf("block_size %d / sub_hdr_size %d do not locate a bitmap", k.blockSize, k.subHdrSize)}
	}
	nbits := min(k.maxMapnr, uint64(dumpLen)*8)
	nbytes := int64(nbits/8 + min(nbits%8, 1))
	if nbytes > lsize-dumpOff || dumpOff > lsize {
		nbytes = max(0, lsize-dumpOff) // Ranges reports the shortfall
	}
	bm := make([]byte, nbytes)
	n, _ := lr.ReadAt(bm, dumpOff)
	bm = bm[:n]
	ks := &kdumpSpace{base: base, lr: lr, order: k.order, bs: uint64(k.blockSize), dataOff: dataOff, bitmap: bm}
	if lsize > dataOff {
		ks.nDesc = uint64(lsize-dataOff) / sizeofPageDesc
	}
	ks.rank = make([]uint64, len(bm)/rankBytes+1)
	var total uint64
	for i := 0; i < len(bm); i += rankBytes {
		ks.rank[i/rankBytes] = total
		for _, b := range bm[i:min(i+rankBytes, len(bm))] {
			total += uint64(bits.OnesCount8(b))
		}
	}
	rs, _ := f.ranges()
	for _, r := range rs {
		ks.regions = append(ks.regions, mem.Region{Start: r.Start, Size: r.Size, Prot: mem.R, State: mem.Committed, Label: r.Label})
	}
	return ks, nil
}

func (s *kdumpSpace) Name() string    { return "physical" }
func (s *kdumpSpace) Base() mem.Space { return s.base }
func (s *kdumpSpace) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) { iterRegions(s.regions, yield) }
}
func (s *kdumpSpace) ReadMemory(p []byte, addr uint64) (int, error) {
	return mem.ReadMapped(s, p, addr)
}

func iterRegions(rs []mem.Region, yield func(mem.Region) bool) {
	for _, r := range rs {
		if !yield(r) {
			return
		}
	}
}

// present reports whether pfn's page was dumped, and its descriptor index.
func (s *kdumpSpace) present(pfn uint64) (uint64, bool) {
	byteIdx := pfn / 8
	if byteIdx >= uint64(len(s.bitmap)) || s.bitmap[byteIdx]&(1<<(pfn%8)) == 0 {
		return 0, false
	}
	r := s.rank[byteIdx/rankBytes]
	for _, b := range s.bitmap[byteIdx/rankBytes*rankBytes : byteIdx] {
		r += uint64(bits.OnesCount8(b))
	}
	r += uint64(bits.OnesCount8(s.bitmap[byteIdx] & (1<<(pfn%8) - 1)))
	return r, true
}

// Map yields one mapping per page: the page's stored bytes and how to
// decode them.
func (s *kdumpSpace) Map(addr, n uint64) iter.Seq2[mem.Mapping, error] {
	return func(yield func(mem.Mapping, error) bool) {
		end := addr + n
		if end < addr {
			end = ^uint64(0)
		}
		for a := addr &^ (s.bs - 1); a < end; a += s.bs {
			m, err := s.page(a)
			if !yield(m, err) || err != nil {
				return
			}
			if a+s.bs < a {
				return
			}
		}
	}
}

// page maps the page at physical address a.
func (s *kdumpSpace) page(a uint64) (mem.Mapping, error) {
	fault := func(kind mem.FaultKind, err error) (mem.Mapping, error) {
		return mem.Mapping{}, &mem.FaultError{Space: "physical", Addr: a, Kind: kind, Err: err}
	}
	idx, ok := s.present(a / s.bs)
	if !ok {
		return fault(mem.NotInDump, nil)
	}
	if idx >= s.nDesc {
		return fault(mem.OutsideFile, fmt.Errorf("page descriptor %d is past the end of the file", idx))
	}
	var d [sizeofPageDesc]byte
	if _, err := s.lr.ReadAt(d[:], s.dataOff+int64(idx)*sizeofPageDesc); err != nil {
		return fault(mem.OutsideFile, fmt.Errorf("page descriptor %d: %w", idx, err))
	}
	off := int64(s.order.Uint64(d[0:]))
	size := uint64(s.order.Uint32(d[8:]))
	flags := s.order.Uint32(d[12:])
	if off < 0 || size == 0 || size > s.bs*2 {
		return fault(mem.Corrupt, fmt.Errorf("page descriptor %d: offset %#x, size %d", idx, off, size))
	}
	m := mem.Mapping{Addr: a, Len: s.bs, BaseAddr: uint64(off)}
	compressed := flags & (DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY | DUMP_DH_COMPRESSED_ZSTD)
	switch {
	case compressed == 0 && size == s.bs:
		return m, nil
	case compressed == 0:
		return fault(mem.Corrupt, fmt.Errorf("page descriptor %d: uncompressed page of %d bytes, not %d", idx, size, s.bs))
	}
	m.SrcLen = size
	m.Decode = decoderFor(compressed)
	return m, nil
}

// zlibReaders keeps zlib readers for reuse: a reader's inflate state is
// tens of kilobytes, and a kernel walk decodes thousands of pages.
var zlibReaders sync.Pool

// inflatePage decodes a zlib page into dst.
func inflatePage(dst, src []byte) error {
	br := bytes.NewReader(src)
	var zr io.ReadCloser
	if v, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := v.(zlib.Resetter).Reset(br, nil); err != nil {
			return err
		}
		zr = v
	} else {
		r, err := zlib.NewReader(br)
		if err != nil {
			return err
		}
		zr = r
	}
	n, err := io.ReadFull(zr, dst)
	zlibReaders.Put(zr)
	if err != nil {
		return fmt.Errorf("zlib page: %d of %d bytes: %w", n, len(dst), err)
	}
	return nil
}

// zstdDec decodes zstd pages; DecodeAll is safe for concurrent use.
var zstdDec = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
})

// decoderFor returns the page decoder for a page_desc's compression flag.
func decoderFor(flag uint32) func(dst, src []byte) error {
	full := func(dst []byte, got []byte, err error) error {
		if err != nil {
			return err
		}
		if len(got) != len(dst) {
			return fmt.Errorf("page decompressed to %d bytes, not %d", len(got), len(dst))
		}
		copy(dst, got)
		return nil
	}
	switch flag {
	case DUMP_DH_COMPRESSED_ZLIB:
		return inflatePage
	case DUMP_DH_COMPRESSED_SNAPPY:
		return func(dst, src []byte) error {
			if n, err := s2.DecodedLen(src); err != nil || n != len(dst) {
				return fmt.Errorf("snappy page of %d bytes (%v)", n, err)
			}
			got, err := s2.Decode(dst[:0:len(dst)], src)
			return full(dst, got, err)
		}
	case DUMP_DH_COMPRESSED_ZSTD:
		return func(dst, src []byte) error {
			d, err := zstdDec()
			if err != nil {
				return err
			}
			got, err := d.DecodeAll(src, make([]byte, 0, len(dst)))
			return full(dst, got, err)
		}
	case DUMP_DH_COMPRESSED_LZO:
		return func(dst, src []byte) error {
			n, err := lzo.Decompress(dst, src)
			if err == nil && n != len(dst) {
				err = fmt.Errorf("lzo page decompressed to %d bytes, not %d", n, len(dst))
			}
			return err
		}
	}
	return func(dst, src []byte) error { return fmt.Errorf("page compressed with flags %#x", flag) }
}

var _ model.Target = (*File)(nil)
