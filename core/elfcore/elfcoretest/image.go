package elfcoretest

import "encoding/binary"

// Image is a small little-endian ELF shared object laid out as the
// kernel's vDSO is (arch/x86/entry/vdso/vdso-layout.lds.S): one PT_LOAD
// from file offset 0 holding .hash, .dynsym, .dynstr, .note (the
// NT_GNU_BUILD_ID), .eh_frame_hdr, .eh_frame, .dynamic and .text, then
// .shstrtab and the section headers past p_filesz but inside the last
// page, so that a mapping of whole pages covers them. Program headers:
// PT_LOAD, PT_DYNAMIC, PT_NOTE and PT_GNU_EH_FRAME. Written from the gABI
// and the LSB's .eh_frame and .eh_frame_hdr description.
type Image struct {
	Class32 bool   // ELFCLASS32 (i386) instead of ELFCLASS64
	Machine uint16 // e_machine: 62 x86-64 (the default), 3 i386, 183 arm64
	Vaddr   uint64 // link address of the image's first byte
	BuildID []byte // NT_GNU_BUILD_ID; none when empty
	SOName  string // DT_SONAME; none when empty
	Funcs   []Func // global STT_FUNC symbols in .text, one FDE each
	// NoSections leaves the section headers out (e_shoff, e_shnum and
	// e_shstrndx 0), as a file mapping that does not reach them holds the
	// image.
	NoSections bool
}

// Func is one function of an Image. Its FDE gives the rule at entry
// throughout: the CFA is the stack pointer plus the return address's size
// (arm64: the stack pointer) and the return address is saved at CFA minus
// its size (arm64: in the link register).
type Func struct {
	Name string
	Size uint64
}

// Layout says where Image.Bytes put things, as offsets from the image's
// first byte (link address Vaddr).
type Layout struct {
	Funcs  []uint64 // each function's offset
	Filesz uint64   // PT_LOAD's p_filesz and p_memsz: the end of .text
	Size   uint64   // the whole image, a page multiple
}

// Bytes returns the image and its layout.
func (im Image) Bytes() ([]byte, Layout) {
	machine := im.Machine
	if machine == 0 {
		machine = 62
	}
	ws := uint64(8)
	ehsize, phent, shent, syment := uint64(64), uint64(56), uint64(64), uint64(24)
	if im.Class32 {
		ws, ehsize, phent, shent, syment = 4, 52, 32, 40, 16
	}
	// Call-frame conventions: RA column, and the CIE's initial
	// instructions (DW_CFA_def_cfa sp, off; DW_CFA_offset ra, 1).
	var ra byte
	var initial []byte
	switch machine {
	case 3:
		ra, initial = 8, []byte{0x0c, 4, 4, 0x80 | 8, 1}
	case 183:
		ra, initial = 30, []byte{0x0c, 31, 0}
	default:
		ra, initial = 16, []byte{0x0c, 7, 8, 0x80 | 16, 1}
	}
	align := func(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }
	nsym := uint64(1 + len(im.Funcs))
	strtab := []byte{0}
	str := func(s string) uint64 {
		off := uint64(len(strtab))
		strtab = append(append(strtab, s...), 0)
		return off
	}
	soname := uint64(0)
	if im.SOName != "" {
		soname = str(im.SOName)
	}
	names := make([]uint64, len(im.Funcs))
	for i, f := range im.Funcs {
		names[i] = str(f.Name)
	}
	cieLen := align(4+4+1+3+1+1+1+1+1+uint64(len(initial)), ws)
	fdeLen := align(4+4+4+4+1, ws)

	var l Layout
	phoff := ehsize
	hash := align(phoff+4*phent, 4)
	dynsym := align(hash+(3+nsym)*4, ws)
	dynstr := dynsym + nsym*syment
	note := align(dynstr+uint64(len(strtab)), 4)
	noteLen := uint64(0)
	if len(im.BuildID) > 0 {
		noteLen = 16 + align(uint64(len(im.BuildID)), 4)
	}
	ehHdr := align(note+noteLen, 4)
	ehHdrLen := 12 + 8*uint64(len(im.Funcs))
	ehFrame := align(ehHdr+ehHdrLen, ws)
	ehFrameLen := cieLen + fdeLen*uint64(len(im.Funcs)) + 4
	dynamic := align(ehFrame+ehFrameLen, ws)
	ndyn := uint64(6)
	if im.SOName != "" {
		ndyn++
	}
	text := align(dynamic+ndyn*2*ws, 16)
	off := text
	for _, f := range im.Funcs {
		l.Funcs = append(l.Funcs, off)
		off = align(off+max(f.Size, 1), 16)
	}
	l.Filesz = off
	if len(im.Funcs) > 0 {
		l.Filesz = l.Funcs[len(l.Funcs)-1] + max(im.Funcs[len(im.Funcs)-1].Size, 1)
	}
	shstr := []byte("\x00.hash\x00.dynsym\x00.dynstr\x00.note\x00.eh_frame_hdr\x00.eh_frame\x00.dynamic\x00.text\x00.shstrtab\x00")
	shstrtab := l.Filesz
	shoff := align(shstrtab+uint64(len(shstr)), 8)
	const nsec = 10
	l.Size = align(shoff+nsec*shent, 0x1000)

	b := make([]byte, l.Size)
	le := binary.LittleEndian
	w16 := func(at uint64, v uint64) { le.PutUint16(b[at:], uint16(v)) }
	w32 := func(at uint64, v uint64) { le.PutUint32(b[at:], uint32(v)) }
	word := func(at uint64, v uint64) {
		if ws == 8 {
			le.PutUint64(b[at:], v)
		} else {
			w32(at, v)
		}
	}
	addr := func(off uint64) uint64 { return im.Vaddr + off }

	// ELF header.
	class := byte(2)
	if im.Class32 {
		class = 1
	}
	copy(b, []byte{0x7f, 'E', 'L', 'F', class, 1, 1, 0})
	w16(16, 3) // ET_DYN
	w16(18, uint64(machine))
	w32(20, 1)
	word(24, 0)         // e_entry
	word(24+ws, phoff)  // e_phoff
	at := 24 + 3*ws + 4 // past e_shoff and e_flags
	if !im.NoSections {
		word(24+2*ws, shoff)
	}
	w16(at, ehsize)
	w16(at+2, phent)
	w16(at+4, 4)
	w16(at+6, shent)
	if !im.NoSections {
		w16(at+8, nsec)
		w16(at+10, nsec-1)
	}

	// Program headers.
	phdr := func(i uint64, typ, flags uint64, off, filesz, align uint64) {
		p := phoff + i*phent
		w32(p, typ)
		if ws == 8 {
			w32(p+4, flags)
			word(p+8, off)
			word(p+16, addr(off))
			word(p+24, addr(off))
			word(p+32, filesz)
			word(p+40, filesz)
			word(p+48, align)
		} else {
			w32(p+4, off)
			w32(p+8, addr(off))
			w32(p+12, addr(off))
			w32(p+16, filesz)
			w32(p+20, filesz)
			w32(p+24, flags)
			w32(p+28, align)
		}
	}
	phdr(0, 1, 5, 0, l.Filesz, 0x1000)         // PT_LOAD r-x
	phdr(1, 2, 4, dynamic, ndyn*2*ws, ws)      // PT_DYNAMIC
	phdr(2, 4, 4, note, noteLen, 4)            // PT_NOTE
	phdr(3, 0x6474e550, 4, ehHdr, ehHdrLen, 4) // PT_GNU_EH_FRAME

	// .hash: one bucket chaining every symbol.
	w32(hash, 1)
	w32(hash+4, nsym)
	w32(hash+8, nsym-1)
	for i := uint64(1); i < nsym; i++ {
		w32(hash+12+4*i, i-1)
	}

	// .dynsym: the null symbol, then the functions (STB_GLOBAL STT_FUNC
	// in .text, section 8).
	for i, f := range im.Funcs {
		s := dynsym + uint64(i+1)*syment
		w32(s, names[i])
		if ws == 8 {
			b[s+4] = 0x12
			w16(s+6, 8)
			word(s+8, addr(l.Funcs[i]))
			word(s+16, f.Size)
		} else {
			w32(s+4, addr(l.Funcs[i]))
			w32(s+8, f.Size)
			b[s+12] = 0x12
			w16(s+14, 8)
		}
	}
	copy(b[dynstr:], strtab)

	if len(im.BuildID) > 0 {
		w32(note, 4)
		w32(note+4, uint64(len(im.BuildID)))
		w32(note+8, 3)
		copy(b[note+12:], "GNU\x00")
		copy(b[note+16:], im.BuildID)
	}

	// .eh_frame: a CIE ("zR", FDE pointers pc-relative sdata4), an FDE per
	// function, the zero terminator.
	c := ehFrame
	w32(c, cieLen-4)
	w32(c+4, 0)
	copy(b[c+8:], []byte{1, 'z', 'R', 0, 1, byte(0x80 - ws), ra, 1, 0x1b})
	copy(b[c+17:], initial)
	fdes := make([]uint64, len(im.Funcs))
	for i, f := range im.Funcs {
		d := ehFrame + cieLen + uint64(i)*fdeLen
		fdes[i] = d
		w32(d, fdeLen-4)
		w32(d+4, d+4-ehFrame) // back to the CIE
		w32(d+8, l.Funcs[i]-(d+8))
		w32(d+12, max(f.Size, 1))
	}

	// .eh_frame_hdr: version 1, eh_frame_ptr pcrel sdata4, fde_count
	// udata4, the table datarel sdata4 sorted by address.
	copy(b[ehHdr:], []byte{1, 0x1b, 0x03, 0x3b})
	w32(ehHdr+4, ehFrame-(ehHdr+4))
	w32(ehHdr+8, uint64(len(im.Funcs)))
	for i := range im.Funcs {
		w32(ehHdr+12+8*uint64(i), l.Funcs[i]-ehHdr)
		w32(ehHdr+16+8*uint64(i), fdes[i]-ehHdr)
	}

	// .dynamic: link-time addresses, as the kernel's vDSO has them.
	d := dynamic
	for _, e := range [][2]uint64{{4, addr(hash)}, {5, addr(dynstr)}, {6, addr(dynsym)}, {10, uint64(len(strtab))}, {11, syment}} {
		word(d, e[0])
		word(d+ws, e[1])
		d += 2 * ws
	}
	if im.SOName != "" {
		word(d, 14)
		word(d+ws, soname)
		d += 2 * ws
	}
	word(d, 0)

	for _, off := range l.Funcs {
		b[off] = 0xc3 // ret
	}

	// .shstrtab and the section headers.
	copy(b[shstrtab:], shstr)
	if !im.NoSections {
		type sec struct{ name, typ, flags, off, size, link, info, align, entsize uint64 }
		secs := []sec{
			{},
			{1, 5, 2, hash, (3 + nsym) * 4, 2, 0, 4, 4},          // .hash SHT_HASH
			{7, 11, 2, dynsym, nsym * syment, 3, 1, ws, syment},  // .dynsym SHT_DYNSYM
			{15, 3, 2, dynstr, uint64(len(strtab)), 0, 0, 1, 0},  // .dynstr
			{23, 7, 2, note, noteLen, 0, 0, 4, 0},                // .note SHT_NOTE
			{29, 1, 2, ehHdr, ehHdrLen, 0, 0, 4, 0},              // .eh_frame_hdr
			{43, 1, 2, ehFrame, ehFrameLen, 0, 0, ws, 0},         // .eh_frame
			{53, 6, 3, dynamic, ndyn * 2 * ws, 3, 0, ws, 2 * ws}, // .dynamic SHT_DYNAMIC
			{62, 1, 6, text, l.Filesz - text, 0, 0, 16, 0},       // .text AX
			{68, 3, 0, shstrtab, uint64(len(shstr)), 0, 0, 1, 0}, // .shstrtab
		}
		for i, s := range secs {
			h := shoff + uint64(i)*shent
			a := uint64(0)
			if s.flags&2 != 0 {
				a = addr(s.off)
			}
			w32(h, s.name)
			w32(h+4, s.typ)
			if ws == 8 {
				word(h+8, s.flags)
				word(h+16, a)
				word(h+24, s.off)
				word(h+32, s.size)
				w32(h+40, s.link)
				w32(h+44, s.info)
				word(h+48, s.align)
				word(h+56, s.entsize)
			} else {
				w32(h+8, s.flags)
				w32(h+12, a)
				w32(h+16, s.off)
				w32(h+20, s.size)
				w32(h+24, s.link)
				w32(h+28, s.info)
				w32(h+32, s.align)
				w32(h+36, s.entsize)
			}
		}
	}
	return b, l
}
