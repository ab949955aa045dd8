package fbsd

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/model"
)

var (
	_ model.Target      = (*File)(nil)
	_ model.RangeLister = (*File)(nil)
)

// Probe reports whether the file starts with "minidump FreeBSD/". It reads
// 17 bytes.
func Probe(r io.ReaderAt, size int64) bool {
	if size < int64(len(MagicPrefix)) {
		return false
	}
	b := make([]byte, len(MagicPrefix))
	if n, _ := r.ReadAt(b, 0); n < len(b) {
		return false
	}
	return string(b) == MagicPrefix
}

// layout describes one architecture's struct minidumphdr.
type layout struct {
	magic     string
	magicSize int // 24, or 32 for powerpc64
	latest    uint32
	biEndian  bool
	order     binary.ByteOrder // the usual order; bi-endian layouts are probed
	size      int              // sizeof(struct minidumphdr), padding included
	decode    func(c *bin.Cursor, h *header)
}

// header is a minidumphdr of any architecture, widened.
type header struct {
	version       uint32
	msgbufsize    uint32
	bitmapsize    uint32
	pmapsize      uint32 // ptesize on i386, arm and mips
	kernbase      uint64
	dmapphys      uint64
	dmapbase      uint64
	dmapend       uint64
	dumpavailsize uint32
	flags         uint32 // arm64 v3
	paemode       uint32 // i386
	armArch       uint32 // arm
	mmuformat     uint32 // arm
	mmuName       string // powerpc64
	kernend       uint64 // powerpc64
	hwDirectMap   uint32 // powerpc64
	startkernel   uint64 // powerpc64
	endkernel     uint64 // powerpc64
}

// The decoders read each struct in declaration order. Fields added in later
// versions are read only when the version has them, as libkvm does.
var layouts = []layout{
	{MagicAMD64, 24, VersionAMD64, false, binary.LittleEndian, 72, func(c *bin.Cursor, h *header) {
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.dmapbase, h.dmapend = c.U64(), c.U64(), c.U64()
		if v := c.U32(); h.version >= 3 {
			h.dumpavailsize = v
		}
	}},
	{MagicI386, 24, VersionI386, false, binary.LittleEndian, 52, func(c *bin.Cursor, h *header) {
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.paemode = uint64(c.U32()), c.U32()
		if v := c.U32(); h.version >= 2 {
			h.dumpavailsize = v
		}
	}},
	{MagicARM, 24, VersionARM, true, binary.LittleEndian, 56, func(c *bin.Cursor, h *header) {
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.armArch, h.mmuformat = uint64(c.U32()), c.U32(), c.U32()
		if v := c.U32(); h.version >= 2 {
			h.dumpavailsize = v
		}
	}},
	{MagicARM64, 24, VersionARM64, false, binary.LittleEndian, 80, func(c *bin.Cursor, h *header) {
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.dmapphys, h.dmapbase, h.dmapend = c.U64(), c.U64(), c.U64(), c.U64()
		if v := c.U32(); h.version >= 2 {
			h.dumpavailsize = v
		}
		if v := c.U32(); h.version >= 3 {
			h.flags = v
		}
	}},
	{MagicRISCV, 24, VersionRISCV, false, binary.LittleEndian, 80, func(c *bin.Cursor, h *header) {
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.dmapphys, h.dmapbase, h.dmapend = c.U64(), c.U64(), c.U64(), c.U64()
		if v := c.U32(); h.version >= 2 {
			h.dumpavailsize = v
		}
	}},
	{MagicMIPS, 24, VersionMIPS, true, binary.BigEndian, 72, func(c *bin.Cursor, h *header) {
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.dmapbase, h.dmapend = c.U64(), c.U64(), c.U64()
		if v := c.U32(); h.version >= 2 {
			h.dumpavailsize = v
		}
	}},
	{MagicPowerPC64, 32, VersionPowerPC64, true, binary.BigEndian, 144, func(c *bin.Cursor, h *header) {
		h.mmuName = strings.ToValidUTF8(c.CString(32), "\uFFFD")
		h.version, h.msgbufsize, h.bitmapsize, h.pmapsize = c.U32(), c.U32(), c.U32(), c.U32()
		h.kernbase, h.kernend, h.dmapbase, h.dmapend = c.U64(), c.U64(), c.U64(), c.U64()
		h.hwDirectMap = c.U32()
		c.Skip(4) // alignment of startkernel
		h.startkernel, h.endkernel = c.U64(), c.U64()
		if v := c.U32(); h.version >= 2 {
			h.dumpavailsize = v
		}
	}},
}

// File is an opened FreeBSD kernel minidump. It is safe for concurrent use.
type File struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer
	magic  string
	lay    *layout // nil for an unknown architecture
	order  binary.ByteOrder
	hdr    header
	mu     sync.Mutex // guards diags after NewFile
	diags  []model.Diagnostic
	info   func() model.Info
	phys   func() *physMap
	kern   func() *kernelMap
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

// NewFile reads the minidump header of r, which holds size bytes. It fails
// when the magic is wrong or the file is shorter than the header; an unknown
// architecture, an unknown version or sections running past the end of the
// file are diagnostics.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	if size < int64(len(MagicPrefix)) {
		return nil, &FormatError{Off: 0, What: "magic", Err: ErrUnrecognized}
	}
	buf := make([]byte, min(size, headerRead))
	if err := readFull(r, buf, 0, "minidumphdr"); err != nil {
		return nil, err
	}
	if string(buf[:len(MagicPrefix)]) != MagicPrefix {
		return nil, &FormatError{Off: 0, What: fmt.Sprintf("magic %q", bin.CString(buf[:min(len(buf), 24)])), Err: ErrUnrecognized}
	}
	f := &File{r: r, size: size}
	f.magic = strings.ToValidUTF8(bin.CString(buf[:min(len(buf), 32)]), "\uFFFD")
	for i := range layouts {
		if l := &layouts[i]; f.magic == l.magic && len(bin.CString(buf[:min(len(buf), l.magicSize)])) == len(l.magic) {
			f.lay = l
		}
	}
	if f.lay == nil {
		f.diag(model.Error, 0, "unknown minidump architecture %q; header fields not decoded", strings.TrimPrefix(f.magic, MagicPrefix))
	} else {
		if len(buf) < f.lay.size {
			return nil, &FormatError{Off: size, What: fmt.Sprintf("file ends inside the %d-byte %s header", f.lay.size, f.magic), Err: io.ErrUnexpectedEOF}
		}
		f.decode(buf)
		f.check()
	}
	f.info = sync.OnceValue(f.buildInfo)
	f.phys = sync.OnceValue(f.buildPhys)
	f.kern = sync.OnceValue(f.buildKernel)
	return f, nil
}

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

// versionOff is the file offset of minidumphdr.version.
func (f *File) versionOff() int64 {
	if f.lay.magic == MagicPowerPC64 {
		return 64
	}
	return 24
}

// decode reads the header. For architectures that exist in both byte orders
// the order is the one in which version is a plausible small number.
func (f *File) decode(buf []byte) {
	l := f.lay
	f.order = l.order
	if l.biEndian {
		vo := f.versionOff()
		le := binary.LittleEndian.Uint32(buf[vo:])
		be := binary.BigEndian.Uint32(buf[vo:])
		switch {
		case plausibleVersion(le) && !plausibleVersion(be):
			f.order = binary.LittleEndian
		case plausibleVersion(be) && !plausibleVersion(le):
			f.order = binary.BigEndian
		default:
			f.diag(model.Warning, vo, "cannot tell the byte order from version bytes % x; assuming %v", buf[vo:vo+4], l.order)
		}
	}
	c := bin.New(buf, 0, f.order)
	c.Seek(l.magicSize)
	l.decode(c, &f.hdr)
}

func plausibleVersion(v uint32) bool { return v >= 1 && v <= 64 }

// pageSize is the kernel page size the sections are rounded to.
func (f *File) pageSize() uint64 {
	if f.lay != nil && f.lay.magic == MagicARM64 && f.hdr.flags&MINIDUMP_FLAG_PS_MASK == MINIDUMP_FLAG_PS_16K {
		return 16384
	}
	return PageSize
}

func roundPage(n, page uint64) uint64 { return (n + page - 1) &^ (page - 1) }

// sections returns the offset where the dumped pages start: the header page,
// then each section rounded up to a page.
func (f *File) sections() (msgbuf, dumpAvail, bitmap, pmap, pages uint64) {
	h, p := &f.hdr, f.pageSize()
	msgbuf = p
	dumpAvail = msgbuf + roundPage(uint64(h.msgbufsize), p)
	bitmap = dumpAvail + roundPage(uint64(h.dumpavailsize), p)
	pmap = bitmap + roundPage(uint64(h.bitmapsize), p)
	pages = pmap + roundPage(uint64(h.pmapsize), p)
	return
}

func (f *File) check() {
	h, l := &f.hdr, f.lay
	vo := f.versionOff()
	switch {
	case h.version == 0:
		f.diag(model.Error, vo, "version 0; the header may be damaged")
	case h.version > l.latest:
		f.diag(model.Warning, vo, "version %d is newer than the %d this reader knows; later fields may be missing", h.version, l.latest)
	}
	if l.magic == MagicARM64 && h.flags&MINIDUMP_FLAG_PS_MASK > MINIDUMP_FLAG_PS_16K {
		f.diag(model.Warning, 76, "unknown page-size flag %#x", h.flags&MINIDUMP_FLAG_PS_MASK)
	}
	if h.bitmapsize == 0 {
		f.diag(model.Warning, vo+8, "the page bitmap is empty: no physical pages are listed")
	}
	if h.dmapend < h.dmapbase {
		f.diag(model.Warning, 0, "direct map ends (%#x) before it starts (%#x)", h.dmapend, h.dmapbase)
	}
	if _, _, _, _, pages := f.sections(); pages > uint64(f.size) {
		f.diag(model.Error, f.size, "file is %#x bytes but the header's sections end at %#x (truncated dump)", f.size, pages)
	}
}

// arch maps the magic to an architecture.
func (f *File) arch() model.Arch {
	if f.lay == nil {
		return ""
	}
	switch f.lay.magic {
	case MagicAMD64:
		return model.AMD64
	case MagicI386:
		return model.X86
	case MagicARM:
		return model.ARM
	case MagicARM64:
		return model.ARM64
	case MagicRISCV:
		return model.RISCV64 // FreeBSD/riscv is 64-bit only
	case MagicPowerPC64:
		if f.order == binary.LittleEndian {
			return model.PPC64LE
		}
		return model.PPC64
	case MagicMIPS:
		// The magic does not say 32 or 64 bits; a 64-bit kernel's
		// KERNBASE is sign-extended into the upper half.
		if f.hdr.kernbase>>32 != 0 {
			return model.MIPS64
		}
		return model.MIPS
	}
	return ""
}

// Info returns the header summary. It is computed once.
func (f *File) Info() model.Info { return f.info() }

func hex(v uint64) string { return fmt.Sprintf("%#x", v) }

func byteCount(v uint32) string { return fmt.Sprintf("%#x bytes", v) }

func (f *File) buildInfo() model.Info {
	info := model.Info{
		Format:  model.FreeBSDVMCore,
		Variant: "minidump",
		OS:      model.OS{Family: model.FreeBSD},
		Arch:    f.arch(),
		Threads: -1,
		Modules: -1,
	}
	d := []model.Detail{{Key: "Magic", Value: f.magic}}
	add := func(k, v string) { d = append(d, model.Detail{Key: k, Value: v}) }
	if l := f.lay; l != nil {
		h := &f.hdr
		add("Version", fmt.Sprint(h.version))
		if l.biEndian {
			if f.order == binary.LittleEndian {
				add("Byte order", "little-endian")
			} else {
				add("Byte order", "big-endian")
			}
		}
		add("Kernel base", hex(h.kernbase))
		switch l.magic {
		case MagicAMD64, MagicMIPS, MagicARM64, MagicRISCV, MagicPowerPC64:
			add("Direct map", fmt.Sprintf("%#x-%#x", h.dmapbase, h.dmapend))
		}
		switch l.magic {
		case MagicARM64, MagicRISCV:
			add("Direct map physical base", hex(h.dmapphys))
		case MagicI386:
			add("PAE", map[bool]string{true: "enabled", false: "disabled"}[h.paemode != 0])
		case MagicARM:
			add("ARM architecture", fmt.Sprint(h.armArch))
			add("MMU format", mmuFormat(h.mmuformat))
		case MagicPowerPC64:
			add("MMU", h.mmuName)
			add("Kernel end", hex(h.kernend))
			add("Kernel image", fmt.Sprintf("%#x-%#x", h.startkernel, h.endkernel))
			add("Hardware direct map", map[bool]string{true: "yes", false: "no"}[h.hwDirectMap != 0])
		}
		add("Page size", fmt.Sprintf("%d", f.pageSize()))
		add("Message buffer", byteCount(h.msgbufsize))
		if h.dumpavailsize != 0 {
			add("dump_avail", byteCount(h.dumpavailsize))
		}
		add("Page bitmap", fmt.Sprintf("%#x bytes (%d pages)", h.bitmapsize, uint64(h.bitmapsize)*8))
		switch l.magic {
		case MagicI386, MagicARM, MagicMIPS:
			add("Page tables", byteCount(h.pmapsize))
		default:
			add("Page map", byteCount(h.pmapsize))
		}
		_, _, _, _, pages := f.sections()
		add("Page data offset", hex(pages))
	}
	info.Details = d
	return info
}

func mmuFormat(v uint32) string {
	switch v {
	case MINIDUMP_MMU_FORMAT_UNKNOWN:
		return "0 (unknown: v6 assumed)"
	case MINIDUMP_MMU_FORMAT_V4:
		return "1 (v4)"
	case MINIDUMP_MMU_FORMAT_V6:
		return "2 (v6)"
	case MINIDUMP_MMU_FORMAT_V6_LPAE:
		return "3 (v6 LPAE)"
	}
	return fmt.Sprint(v)
}

// Diagnostics returns the problems found in the header, and those found
// since while decoding the page index and the page tables.
func (f *File) Diagnostics() []model.Diagnostic {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.diags)
}

// lateDiag records a problem found after NewFile returned.
func (f *File) lateDiag(sev model.Severity, off int64, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.diag(sev, off, format, args...)
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}
