package elfsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"

	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
)

// lazyDWARF returns f's DWARF, read on demand. The sections' stored bytes
// are read now (r need not outlive the call); compressed ones are
// inflated later and only as far as the units read need. Files whose
// DWARF needs processing first (relocations in ET_REL objects, the
// legacy .zdebug_ compression) go through f.DWARF instead. A section
// other than .debug_info and .debug_abbrev that cannot be read is left
// out. It returns nil when f has no usable DWARF.
func lazyDWARF(f *elf.File, r io.ReaderAt, base uint64, cache sectionCache) *dwarftab.Lazy {
	info := f.Section(".debug_info")
	legacy := false
	for _, s := range f.Sections {
		legacy = legacy || strings.HasPrefix(s.Name, ".zdebug_")
	}
	if f.Type == elf.ET_REL || legacy {
		d, err := f.DWARF()
		if err != nil {
			return nil
		}
		return dwarftab.NewLazyData(d, base, dwarfName)
	}
	if info == nil || info.Type == elf.SHT_NOBITS || info.Size == 0 {
		return nil
	}
	s := dwarftab.Sections{Order: f.ByteOrder}
	for _, x := range []struct {
		name string
		dst  *dwarftab.Section
	}{
		{"info", &s.Info}, {"abbrev", &s.Abbrev}, {"line", &s.Line}, {"str", &s.Str},
		{"line_str", &s.LineStr}, {"str_offsets", &s.StrOffsets}, {"addr", &s.Addr},
		{"rnglists", &s.RngLists}, {"ranges", &s.Ranges}, {"aranges", &s.Aranges},
	} {
		sec := f.Section(".debug_" + x.name)
		if sec == nil || sec.Type == elf.SHT_NOBITS {
			continue
		}
		es, err := readSection(f, r, sec, cache)
		if err != nil {
			if x.name == "info" || x.name == "abbrev" {
				return nil // as f.DWARF: no DWARF without these
			}
			continue
		}
		*x.dst = es
	}
	if s.Info == nil || s.Abbrev == nil {
		return nil
	}
	return dwarftab.NewLazy(s, base, dwarfName)
}

// firstSectionRead is the first chunk read of a section's stored bytes
// when the file's size is unknown: chunks then double, so a section
// header claiming more than the file holds costs little more memory than
// the file has.
const firstSectionRead = 1 << 20

// readSection reads sec's stored bytes from r and, for an SHF_COMPRESSED
// section, its compression header (ELF gABI "Section Compression"). A
// compressed section found inflated in the cache is not read at all.
func readSection(f *elf.File, r io.ReaderAt, sec *elf.Section, cache sectionCache) (dwarftab.Section, error) {
	if sec.Flags&elf.SHF_COMPRESSED == 0 {
		raw, err := readStored(r, sec)
		if err != nil {
			return nil, err
		}
		return dwarftab.Bytes(raw), nil
	}
	hdr := binary.Size(elf.Chdr64{})
	if f.Class == elf.ELFCLASS32 {
		hdr = binary.Size(elf.Chdr32{})
	}
	head := make([]byte, hdr)
	if sec.FileSize < uint64(hdr) {
		return nil, fmt.Errorf("%s: short compression header", sec.Name)
	}
	if _, err := r.ReadAt(head, int64(sec.Offset)); err != nil {
		return nil, fmt.Errorf("%s: %w", sec.Name, err)
	}
	typ := elf.CompressionType(f.ByteOrder.Uint32(head))
	size := f.ByteOrder.Uint64(head[8:])
	if f.Class == elf.ELFCLASS32 {
		size = uint64(f.ByteOrder.Uint32(head[4:]))
	}
	if typ != elf.COMPRESS_ZLIB && typ != elf.COMPRESS_ZSTD {
		return nil, fmt.Errorf("%s: unsupported compression %v", sec.Name, typ)
	}
	// dwarf.Offset is 32 bits: larger sections cannot be read anyway.
	if size > 1<<32 {
		return nil, fmt.Errorf("%s: %d bytes uncompressed", sec.Name, size)
	}
	if b, ok := cache.load(sec.Name, int(size)); ok {
		return dwarftab.Bytes(b), nil
	}
	raw, err := readStored(r, sec)
	if err != nil {
		return nil, err
	}
	return &inflated{name: sec.Name, typ: typ, raw: raw[hdr:], size: int(size), cache: cache}, nil
}

// readStored reads sec's bytes as the file stores them.
func readStored(r io.ReaderAt, sec *elf.Section) ([]byte, error) {
	var raw []byte
	if size, ok := readerSize(r); ok && sec.Offset <= uint64(size) && sec.FileSize <= uint64(size)-sec.Offset {
		// One read into one allocation: growing a buffer chunk by chunk
		// cost glibc's 2.3 MB .debug_info several milliseconds of page
		// faults and copies.
		raw = make([]byte, sec.FileSize)
		if _, err := r.ReadAt(raw, int64(sec.Offset)); err != nil {
			return nil, fmt.Errorf("%s: %w", sec.Name, err)
		}
		return raw, nil
	}
	for off := uint64(0); off < sec.FileSize; {
		n := min(sec.FileSize-off, max(firstSectionRead, off))
		start := len(raw)
		raw = append(raw, make([]byte, n)...)
		if _, err := r.ReadAt(raw[start:], int64(sec.Offset+off)); err != nil {
			return nil, fmt.Errorf("%s: %w", sec.Name, err)
		}
		off += n
	}
	return raw, nil
}

// readerSize returns the size of r when it says (files, bytes.Reader,
// io.SectionReader).
func readerSize(r io.ReaderAt) (int64, bool) {
	switch r := r.(type) {
	case interface{ Size() int64 }:
		return r.Size(), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := r.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size(), true
		}
	}
	return 0, false
}

// inflated is a compressed section, inflated as far as asked so far.
// Prefixes handed out are never written again: the buffer grows by
// appending past them.
type inflated struct {
	name string
	typ  elf.CompressionType
	raw  []byte
	size int // as the compression header says

	// cache, when enabled, gets the whole inflated section: then the
	// first read inflates all of it, once per machine.
	cache sectionCache

	mu  sync.Mutex
	dec io.Reader
	buf []byte
	err error
}

// Size implements dwarftab.Section.
func (s *inflated) Size() int { return s.size }

// inflateStep is the least inflated at once: the stream is read in steps
// this large, not header by header.
const inflateStep = 64 << 10

// Prefix implements dwarftab.Section.
func (s *inflated) Prefix(n int) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = min(max(n, 0), s.size)
	if len(s.buf) >= n {
		return s.buf[:n], nil
	}
	if s.err != nil {
		return s.buf, s.err
	}
	if s.dec == nil {
		if err := s.open(); err != nil {
			s.err = fmt.Errorf("%s: %w", s.name, err)
			return s.buf, s.err
		}
		// Deflate expands at most 1032:1; zstd can more, and then
		// appending grows the buffer.
		s.buf = make([]byte, 0, min(s.size, 1032*len(s.raw)+inflateStep))
	}
	want := min(max(n, len(s.buf)+inflateStep), s.size)
	if s.cache.enabled() {
		want = s.size
	}
	if want > cap(s.buf) {
		b := make([]byte, len(s.buf), min(max(want, 2*cap(s.buf)), s.size))
		copy(b, s.buf)
		s.buf = b
	}
	got, err := io.ReadFull(s.dec, s.buf[len(s.buf):want])
	s.buf = s.buf[:len(s.buf)+got]
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%d bytes inflated, header says %d", len(s.buf), s.size)
		}
		s.err = fmt.Errorf("%s: %w", s.name, err)
	}
	if len(s.buf) == s.size || s.err != nil {
		s.close()
	}
	if len(s.buf) == s.size && s.err == nil && s.cache.enabled() {
		s.cache.store(s.name, s.buf)
	}
	if len(s.buf) < n {
		return s.buf, s.err
	}
	return s.buf[:n], nil
}

func (s *inflated) open() error {
	switch s.typ {
	case elf.COMPRESS_ZLIB:
		// The zlib stream (RFC 1950) read as raw deflate: its Adler-32
		// trailer is checked only at the end, which a prefix never
		// reaches, and computing it costs a tenth of inflating. (A
		// corrupt stream still fails to inflate or to parse.)
		// klauspost's inflater is a quarter faster than compress/flate's,
		// and .debug_info is most of what naming libc's frames costs.
		if len(s.raw) < 2 || s.raw[0]&0x0f != 8 || (uint16(s.raw[0])<<8|uint16(s.raw[1]))%31 != 0 {
			return errors.New("not a zlib stream")
		}
		if s.raw[1]&0x20 != 0 {
			return errors.New("zlib stream with a preset dictionary")
		}
		s.dec = flate.NewReader(bytes.NewReader(s.raw[2:]))
	case elf.COMPRESS_ZSTD:
		// One decoder goroutine-free: synchronous with concurrency 1.
		z, err := zstd.NewReader(bytes.NewReader(s.raw), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(s.size)+1<<20))
		if err != nil {
			return err
		}
		s.dec = z
	}
	return nil
}

func (s *inflated) close() {
	switch d := s.dec.(type) {
	case *zstd.Decoder:
		d.Close()
	case io.Closer:
		d.Close()
	}
	s.dec, s.raw = nil, nil
}
