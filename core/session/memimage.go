package session

// ELF images read from the dump's memory.
//
// Why: a module whose image file is nowhere on disk can still be named and
// unwound when the dump holds its whole ELF image. The vDSO is the common
// case (the kernel makes it, so there is no file, and cores always hold it
// because it is a private mapping), and threads stopped in a system call
// are stopped in it (__kernel_vsyscall on i386, __vdso_clock_gettime on
// x86-64). A full dump (coredump_filter with the file-backed bits, gcore)
// holds the other modules whole too.
//
// memImage presents such an image as its file to debug/elf (through
// elfsym.Read and unwind.NewDWARFUnwind): file offset o is read where the
// PT_LOAD covering o maps it. Section headers are used as they are when
// the mapping covers them (the vDSO is mapped whole, section headers
// included). Otherwise they are synthesized from the program headers:
// .dynsym and .dynstr from PT_DYNAMIC, .eh_frame from PT_GNU_EH_FRAME's
// eh_frame_ptr, and as many copies of an executable section as symbols
// refer to by index (st_shndx names the lost section table), so that
// elfsym keeps function symbols as it does for files.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
)

// Bounds on what is read from memory: an ELF header and its program
// headers fit the first 64 KiB, and an image is at most 1 GiB.
const (
	memHeaderRead  = 64 << 10
	memImageMax    = 1 << 30
	memDynamicMax  = 64 << 10
	memMaxSyms     = 1 << 20
	memMaxSections = 1024 // st_shndx values honoured when synthesizing
	memPage        = 0x1000

	ptDynamic    = 2
	ptGNUEHFrame = 0x6474e550

	dtHash    = 4
	dtStrtab  = 5
	dtSymtab  = 6
	dtStrsz   = 10
	dtSyment  = 11
	dtGNUHash = 0x6ffffef5
)

// errNotInMemory says the dump does not hold a module's whole image.
var errNotInMemory = errors.New("the dump does not hold the module's ELF image")

// memImage is an ELF image mapped in memory, read as its file. It
// implements io.ReaderAt.
type memImage struct {
	r        mem.Reader
	h        *elfx.Header
	all      []elfx.Prog // the program headers
	loads    []elfx.Prog // PT_LOADs with file bytes, by p_offset
	linkBase uint64      // lowest PT_LOAD p_vaddr, page aligned
	bias     uint64      // address = bias + p_vaddr
	span     uint64      // link-time extent from linkBase
	header   []byte      // patched ELF header; nil: the one in memory
	synth    []byte      // synthesized section headers and names
	synthOff int64       // file offset of synth
}

// openMemImage reads module m's ELF image from r: the header at m.Base, its
// PT_LOADs inside the module and present in the dump, page by page.
func openMemImage(r mem.Reader, m model.Module) (*memImage, error) {
	if r == nil || m.Size == 0 {
		return nil, errNotInMemory
	}
	at := memAt{r: r, base: m.Base}
	h, err := elfx.ReadHeader(at, memHeaderRead)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotInMemory, err)
	}
	if h.Type != elfx.ET_DYN && h.Type != elfx.ET_EXEC {
		return nil, fmt.Errorf("%w: ELF type %d", errNotInMemory, h.Type)
	}
	progs, err := elfx.ReadProgs(at, memHeaderRead, h)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotInMemory, err)
	}
	im := &memImage{r: r, h: h, all: progs}
	found := false
	for _, p := range progs {
		if p.Type == elfx.PT_LOAD && (!found || p.Vaddr < im.linkBase) {
			im.linkBase, found = p.Vaddr, true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no PT_LOAD", errNotInMemory)
	}
	im.linkBase &^= memPage - 1
	im.bias = m.Base - im.linkBase
	var total uint64
	for _, p := range progs {
		if p.Type != elfx.PT_LOAD || p.Filesz == 0 {
			continue
		}
		// The segment must lie inside the module: a header that says
		// otherwise is not the module's.
		rel := p.Vaddr - im.linkBase
		if p.Filesz > memImageMax || rel > memImageMax || rel+p.Filesz > m.Size || p.Off > memImageMax {
			return nil, fmt.Errorf("%w: PT_LOAD %#x+%#x lies outside the module", errNotInMemory, p.Vaddr, p.Filesz)
		}
		if total += p.Filesz; total > memImageMax {
			return nil, fmt.Errorf("%w: too large", errNotInMemory)
		}
		im.span = max(im.span, rel+max(p.Memsz, p.Filesz))
		im.loads = append(im.loads, p)
	}
	if len(im.loads) == 0 {
		return nil, fmt.Errorf("%w: no PT_LOAD with file bytes", errNotInMemory)
	}
	im.span = min(im.span, m.Size)
	// Every page of every segment must be in the dump: Linux dumps only
	// the first page of a file mapping by default.
	var b [1]byte
	for _, p := range im.loads {
		start := im.bias + p.Vaddr
		for a := start; a-start < p.Filesz; a = (a | (memPage - 1)) + 1 {
			if mem.ReadFull(r, b[:], a) != nil {
				return nil, fmt.Errorf("%w: %#x is not in the dump", errNotInMemory, a)
			}
		}
	}
	slices.SortStableFunc(im.loads, func(a, b elfx.Prog) int {
		switch {
		case a.Off < b.Off:
			return -1
		case a.Off > b.Off:
			return 1
		}
		return 0
	})
	if !im.sectionsReadable() {
		im.synthesize()
	}
	return im, nil
}

// memAt reads memory at base+off, for elfx's file readers.
type memAt struct {
	r    mem.Reader
	base uint64
}

func (a memAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || uint64(off) > math.MaxUint64-a.base {
		return 0, io.EOF
	}
	if err := mem.ReadFull(a.r, p, a.base+uint64(off)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// addrOf returns the address file offset off is mapped at and how many
// bytes from there on are contiguous. The bytes of a segment's first and
// last page outside p_offset..p_offset+p_filesz are file bytes too (mmap
// maps whole pages), unless the loader zeroed the tail for .bss.
func (im *memImage) addrOf(off uint64) (addr, n uint64, ok bool) {
	for _, p := range im.loads {
		if off >= p.Off && off-p.Off < p.Filesz {
			return im.bias + p.Vaddr + (off - p.Off), p.Filesz - (off - p.Off), true
		}
	}
	for _, p := range im.loads {
		lo := p.Off &^ (memPage - 1)
		hi := p.Off + p.Filesz
		if p.Memsz <= p.Filesz {
			hi = (hi + memPage - 1) &^ (memPage - 1)
		}
		if off >= lo && off < hi {
			return im.bias + p.Vaddr - p.Off + off, hi - off, true
		}
	}
	return 0, 0, false
}

// ReadAt implements io.ReaderAt over the image's file offsets.
func (im *memImage) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.EOF
	}
	done := 0
	for done < len(p) {
		o := off + int64(done)
		dst := p[done:]
		switch {
		case o < int64(len(im.header)):
			done += copy(dst, im.header[o:])
			continue
		case im.synth != nil && o >= im.synthOff:
			if o-im.synthOff >= int64(len(im.synth)) {
				return done, io.EOF
			}
			done += copy(dst, im.synth[o-im.synthOff:])
			continue
		}
		addr, n, ok := im.addrOf(uint64(o))
		if !ok {
			return done, io.EOF
		}
		k := min(uint64(len(dst)), n)
		if im.synth != nil {
			k = min(k, uint64(im.synthOff-o))
		}
		if err := mem.ReadFull(im.r, dst[:k], addr); err != nil {
			return done, err
		}
		done += int(k)
	}
	return done, nil
}

func (im *memImage) order() binary.ByteOrder { return im.h.Order }

func (im *memImage) word(b []byte) uint64 {
	if im.h.Class == elfx.ELFCLASS64 {
		return im.h.Order.Uint64(b)
	}
	return uint64(im.h.Order.Uint32(b))
}

// sectionsReadable reports whether the image's own section headers and
// section name table are mapped, and debug/elf accepts them.
func (im *memImage) sectionsReadable() bool {
	if im.h.Shoff == 0 || im.h.Shnum == 0 {
		return false
	}
	ent := uint64(40)
	if im.h.Class == elfx.ELFCLASS64 {
		ent = 64
	}
	n := uint64(im.h.Shnum) * ent
	if im.h.Shoff > memImageMax {
		return false
	}
	buf := make([]byte, n)
	if _, err := im.ReadAt(buf, int64(im.h.Shoff)); err != nil {
		return false
	}
	return im.sectionsUsable()
}

// sectionsUsable reports whether debug/elf reads the section headers and
// the sections symbols and unwinding need lie in mapped bytes (first and
// last byte: segments are checked page by page already).
func (im *memImage) sectionsUsable() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	f, err := elf.NewFile(im)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [1]byte
	for _, s := range f.Sections {
		if s.Type == elf.SHT_NOBITS || s.Size == 0 {
			continue
		}
		if s.Type == elf.SHT_DYNSYM || s.Type == elf.SHT_SYMTAB || s.Type == elf.SHT_STRTAB || s.Name == ".eh_frame" {
			if s.Size > memImageMax || s.Offset > memImageMax {
				return false
			}
			if _, err := im.ReadAt(b[:], int64(s.Offset)); err != nil {
				return false
			}
			if _, err := im.ReadAt(b[:], int64(s.Offset+s.Size-1)); err != nil {
				return false
			}
		}
	}
	return len(f.Sections) > 0
}

// fileOff returns the file offset of link-time address v.
func (im *memImage) fileOff(v uint64) (uint64, bool) {
	for _, p := range im.loads {
		if v >= p.Vaddr && v-p.Vaddr < p.Filesz {
			return p.Off + (v - p.Vaddr), true
		}
	}
	return 0, false
}

// loadEnd returns the link-time end of the file bytes of the PT_LOAD
// holding v.
func (im *memImage) loadEnd(v uint64) (uint64, bool) {
	for _, p := range im.loads {
		if v >= p.Vaddr && v-p.Vaddr < p.Filesz {
			return p.Vaddr + p.Filesz, true
		}
	}
	return 0, false
}

// linkAddr turns a pointer read from the dynamic section into a link-time
// address. The dynamic linker relocates some entries in place (glibc, for
// writable dynamic sections): a value already inside the mapped image is
// taken back by the bias.
func (im *memImage) linkAddr(v uint64) (uint64, bool) {
	switch {
	case v >= im.linkBase && v-im.linkBase < im.span:
		return v, true
	case v >= im.bias+im.linkBase && v-(im.bias+im.linkBase) < im.span:
		return v - im.bias, true
	}
	return 0, false
}

// read reads n bytes at link-time address v.
func (im *memImage) read(v uint64, n uint64) ([]byte, bool) {
	if n > memImageMax {
		return nil, false
	}
	b := make([]byte, n)
	if mem.ReadFull(im.r, b, im.bias+v) != nil {
		return nil, false
	}
	return b, true
}

// section is a synthesized section header.
type section struct {
	name                            string
	typ, flags, link, info          uint64
	addr, off, size, align, entsize uint64
}

// synthesize builds section headers from the program headers (see the
// file comment), when the image has the dynamic section or eh_frame_hdr
// they need.
func (im *memImage) synthesize() {
	if im.h.Phnum >= 0xffff {
		return // PN_XNUM needs section 0; such images are not loaded by ld.so anyway
	}
	ws := uint64(im.h.WordSize())
	var secs []section
	var exec *elfx.Prog
	for i := range im.loads {
		if p := &im.loads[i]; p.Flags&1 != 0 && (exec == nil || p.Filesz > exec.Filesz) {
			exec = p
		}
	}
	syms, strs := im.dynamicSymbols()
	// Function symbols name their section by index: give every index they
	// use the executable segment, where functions are.
	nCode := uint64(1)
	if syms.size > 0 {
		if b, ok := im.read(syms.addr, syms.size); ok {
			for e := b; uint64(len(e)) >= syms.entsize; e = e[syms.entsize:] {
				// st_shndx: Elf32_Sym has it at 14, Elf64_Sym at 6.
				at := 14
				if ws == 8 {
					at = 6
				}
				if shndx := uint64(im.order().Uint16(e[at:])); shndx < memMaxSections {
					nCode = max(nCode, shndx)
				}
			}
		}
	}
	if exec != nil {
		for range nCode {
			secs = append(secs, section{name: ".text", typ: uint64(elf.SHT_PROGBITS), flags: uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR),
				addr: exec.Vaddr, off: exec.Off, size: exec.Filesz, align: 16})
		}
	} else {
		nCode = 0
	}
	if syms.size > 0 && strs.size > 0 {
		dynstr := uint64(len(secs) + 2) // after .dynsym; index 0 is SHN_UNDEF
		secs = append(secs, syms)
		secs[len(secs)-1].link = dynstr
		secs = append(secs, strs)
	}
	eh, haveEH := im.ehFrame()
	if haveEH {
		secs = append(secs, eh)
	}
	if syms.size == 0 && !haveEH {
		return // nothing to offer
	}
	// The section name table, then the headers, past the image's end.
	var names bytes.Buffer
	names.WriteByte(0)
	nameOff := func(s string) uint64 {
		if i := bytes.Index(names.Bytes(), append([]byte(s), 0)); i > 0 {
			return uint64(i)
		}
		off := uint64(names.Len())
		names.WriteString(s)
		names.WriteByte(0)
		return off
	}
	var end uint64
	for _, p := range im.loads {
		end = max(end, (p.Off+p.Filesz+memPage-1)&^(memPage-1))
	}
	end = max(end, memPage)
	shstr := section{name: ".shstrtab", typ: uint64(elf.SHT_STRTAB), off: end, align: 1}
	secs = append(secs, shstr)
	type named struct {
		section
		nameOff uint64
	}
	all := make([]named, len(secs))
	for i, s := range secs {
		all[i] = named{s, nameOff(s.name)}
	}
	all[len(all)-1].size = uint64(names.Len())
	shoff := (end + uint64(names.Len()) + 7) &^ 7
	var out bytes.Buffer
	out.Write(names.Bytes())
	for uint64(out.Len()) < shoff-end {
		out.WriteByte(0)
	}
	o := im.order()
	var w [8]byte
	put32 := func(v uint64) { o.PutUint32(w[:], uint32(v)); out.Write(w[:4]) }
	put := func(v uint64) {
		if ws == 4 {
			put32(v)
			return
		}
		o.PutUint64(w[:], v)
		out.Write(w[:])
	}
	shent := 40
	if ws == 8 {
		shent = 64
	}
	out.Write(make([]byte, shent)) // SHN_UNDEF
	for _, s := range all {
		put32(s.nameOff)
		put32(s.typ)
		put(s.flags)
		put(s.addr)
		put(s.off)
		put(s.size)
		put32(s.link)
		put32(s.info)
		put(s.align)
		put(s.entsize)
	}
	// The ELF header with e_shoff, e_shentsize, e_shnum and e_shstrndx
	// pointing at them.
	hdr := make([]byte, 52)
	shoffAt, shentAt := 32, 46
	if ws == 8 {
		hdr, shoffAt, shentAt = make([]byte, 64), 40, 58
	}
	if _, err := (memAt{im.r, im.bias + im.linkBase}).ReadAt(hdr, 0); err != nil {
		return
	}
	if ws == 8 {
		o.PutUint64(hdr[shoffAt:], shoff)
	} else {
		o.PutUint32(hdr[shoffAt:], uint32(shoff))
	}
	o.PutUint16(hdr[shentAt:], uint16(shent))
	o.PutUint16(hdr[shentAt+2:], uint16(len(all)+1))
	o.PutUint16(hdr[shentAt+4:], uint16(len(all)))
	im.header, im.synth, im.synthOff = hdr, out.Bytes(), int64(end)
}

// dynamicSymbols locates .dynsym and .dynstr through PT_DYNAMIC. The
// symbol count comes from DT_HASH's nchain, else from walking
// DT_GNU_HASH's chains, else from .dynstr following .dynsym (as linkers
// lay them out).
func (im *memImage) dynamicSymbols() (syms, strs section) {
	ws := uint64(im.h.WordSize())
	var dyn []byte
	for _, p := range im.all {
		if p.Type == ptDynamic && p.Filesz > 0 {
			if b, ok := im.read(p.Vaddr, min(p.Filesz, memDynamicMax)); ok {
				dyn = b
			}
		}
	}
	tags := map[uint64]uint64{}
	for d := dyn; uint64(len(d)) >= 2*ws; d = d[2*ws:] {
		tag := im.word(d)
		if tag == 0 {
			break
		}
		if _, seen := tags[tag]; !seen {
			tags[tag] = im.word(d[ws:])
		}
	}
	rawSym, haveSym := tags[dtSymtab]
	rawStr, haveStr := tags[dtStrtab]
	if !haveSym || !haveStr {
		return section{}, section{}
	}
	symtab, ok1 := im.linkAddr(rawSym)
	strtab, ok2 := im.linkAddr(rawStr)
	strsz := tags[dtStrsz]
	syment := tags[dtSyment]
	want := uint64(16)
	if ws == 8 {
		want = 24
	}
	if syment == 0 {
		syment = want
	}
	if !ok1 || !ok2 || strsz == 0 || strsz > memImageMax || syment != want {
		return section{}, section{}
	}
	n, ok := uint64(0), false
	if v, has := tags[dtHash]; has {
		if a, ok3 := im.linkAddr(v); ok3 {
			if b, ok4 := im.read(a+4, 4); ok4 {
				n, ok = uint64(im.order().Uint32(b)), true
			}
		}
	}
	if v, has := tags[dtGNUHash]; has && !ok {
		if a, ok3 := im.linkAddr(v); ok3 {
			n, ok = im.gnuHashCount(a)
		}
	}
	if !ok && strtab > symtab {
		n, ok = (strtab-symtab)/syment, true
	}
	if !ok || n == 0 || n > memMaxSyms {
		return section{}, section{}
	}
	symOff, ok1 := im.fileOff(symtab)
	strOff, ok2 := im.fileOff(strtab)
	if !ok1 || !ok2 {
		return section{}, section{}
	}
	syms = section{name: ".dynsym", typ: uint64(elf.SHT_DYNSYM), flags: uint64(elf.SHF_ALLOC), info: 1,
		addr: symtab, off: symOff, size: n * syment, align: ws, entsize: syment}
	strs = section{name: ".dynstr", typ: uint64(elf.SHT_STRTAB), flags: uint64(elf.SHF_ALLOC),
		addr: strtab, off: strOff, size: strsz, align: 1}
	return syms, strs
}

// gnuHashCount returns the number of symbols DT_GNU_HASH at link address a
// covers: one past the last chain entry of the highest bucket.
func (im *memImage) gnuHashCount(a uint64) (uint64, bool) {
	ws := uint64(im.h.WordSize())
	hdr, ok := im.read(a, 16)
	if !ok {
		return 0, false
	}
	o := im.order()
	nbuckets, symoffset, bloom := uint64(o.Uint32(hdr)), uint64(o.Uint32(hdr[4:])), uint64(o.Uint32(hdr[8:]))
	if nbuckets == 0 || nbuckets > memMaxSyms || bloom > memMaxSyms {
		return 0, false
	}
	buckets := a + 16 + bloom*ws
	b, ok := im.read(buckets, nbuckets*4)
	if !ok {
		return 0, false
	}
	var last uint64
	for i := uint64(0); i < nbuckets; i++ {
		last = max(last, uint64(o.Uint32(b[i*4:])))
	}
	if last < symoffset {
		return symoffset, true
	}
	chains := buckets + nbuckets*4
	for i := last; i-symoffset < memMaxSyms; i++ {
		c, ok := im.read(chains+(i-symoffset)*4, 4)
		if !ok {
			return 0, false
		}
		if o.Uint32(c)&1 != 0 {
			return i + 1, true
		}
	}
	return 0, false
}

// ehFrame locates .eh_frame through PT_GNU_EH_FRAME: eh_frame_ptr, the
// section's address in the encoding the header names. Its size is the rest
// of its segment (the CFI reader stops at .eh_frame's zero terminator).
func (im *memImage) ehFrame() (section, bool) {
	for _, p := range im.all {
		if p.Type != ptGNUEHFrame || p.Filesz < 8 {
			continue
		}
		b, ok := im.read(p.Vaddr, min(p.Filesz, 16))
		if !ok || b[0] != 1 {
			return section{}, false
		}
		enc := b[1]
		var base, v uint64
		switch enc & 0x70 {
		case 0x00:
		case 0x10: // pcrel: relative to the field, 4 bytes into the header
			base = p.Vaddr + 4
		case 0x30: // datarel: relative to the header
			base = p.Vaddr
		default:
			return section{}, false
		}
		o := im.order()
		switch enc & 0x0f {
		case 0x03:
			v = uint64(o.Uint32(b[4:]))
		case 0x0b:
			v = uint64(int64(int32(o.Uint32(b[4:]))))
		case 0x00, 0x04, 0x0c:
			if enc&0x0f == 0 && im.h.WordSize() == 4 {
				v = uint64(o.Uint32(b[4:]))
			} else if len(b) >= 12 {
				v = o.Uint64(b[4:])
			} else {
				return section{}, false
			}
		default:
			return section{}, false
		}
		addr := base + v
		if im.h.WordSize() == 4 {
			addr &= 0xffffffff
		}
		off, ok1 := im.fileOff(addr)
		end, ok2 := im.loadEnd(addr)
		if !ok1 || !ok2 {
			return section{}, false
		}
		return section{name: ".eh_frame", typ: uint64(elf.SHT_PROGBITS), flags: uint64(elf.SHF_ALLOC),
			addr: addr, off: off, size: end - addr, align: uint64(im.h.WordSize())}, true
	}
	return section{}, false
}

// memELFProvider loads a module's symbols from its ELF image in the
// dump's memory. It comes after the file-based providers: an image file
// has .symtab and DWARF that memory never holds.
type memELFProvider struct{ e *engine }

// String names the provider.
func (memELFProvider) String() string { return "elf (memory)" }

// Load implements symbols.Provider.
func (p memELFProvider) Load(ctx context.Context, m model.Module) (symbols.Table, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	im, err := openMemImage(p.e.memory, m)
	if err != nil {
		return nil, fmt.Errorf("elf %s: %w: %w", m.Name(), symbols.ErrNoSymbols, err)
	}
	t, err := elfsym.Read(im)
	if err != nil {
		if errors.Is(err, symbols.ErrNoSymbols) {
			return nil, fmt.Errorf("elf %s (memory): %w", m.Name(), err)
		}
		return nil, fmt.Errorf("elf %s (memory): %w: %w", m.Name(), symbols.ErrNoSymbols, err)
	}
	return memTable{t}, nil
}

// memTable is a table read from memory; Source says so.
type memTable struct{ *elfsym.Table }

// Source names the table's origin for symbol-status displays.
func (t memTable) Source() string { return t.Table.Source() + " (from the dump's memory)" }

// openMemELF opens module m's image in the dump's memory for the CFI
// unwinder, after the image files.
func (e *engine) openMemELF(m model.Module) (io.ReaderAt, bool) {
	im, err := openMemImage(e.memory, m)
	if err != nil {
		return nil, false
	}
	return im, true
}
