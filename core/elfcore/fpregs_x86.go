package elfcore

import (
	"fmt"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// x86Regs decodes the x87, SSE, AVX and AVX-512 state of one thread. The
// source is the one gdb prefers: NT_X86_XSTATE (honouring XSTATE_BV: a
// component whose bit is clear is in its init state and its bytes in the
// note mean nothing), else the FXSAVE image of NT_FPREGSET (x86-64) or
// NT_PRXFPREG (i386), else i386's FSAVE image in NT_PRFPREG.
func (f *File) x86Regs(c *Context, notes []elfx.Note) {
	nxmm := 8
	if c.arch == model.AMD64 {
		nxmm = 16
	}
	var xs, fx, fs *elfx.Note
	for i := range notes {
		n := &notes[i]
		switch {
		case n.Type == NT_X86_XSTATE && linuxOwned(*n):
			if xs == nil {
				xs = n
			}
		case n.Type == NT_PRXFPREG && n.Name == "LINUX" && c.arch == model.X86:
			if fx == nil {
				fx = n
			}
		case n.Type == NT_FPREGSET && coreOwned(*n):
			switch {
			case c.arch == model.AMD64 && fx == nil:
				fx = n // struct user_fpregs_struct: FXSAVE
			case c.arch == model.X86 && fs == nil:
				fs = n // struct user_i387_struct: FSAVE
			}
		}
	}
	switch {
	case xs != nil && len(xs.Desc) >= xsaveHdrEnd:
		f.xsaveRegs(c, xs, nxmm)
	case fx != nil:
		if xs != nil {
			f.diagOnce(model.Warning, xs.Off, fmt.Sprintf("NT_X86_XSTATE of %d bytes has no XSAVE header (it needs %d): the FXSAVE note is used instead", len(xs.Desc), xsaveHdrEnd))
		}
		if len(fx.Desc) < fxSize {
			f.diagOnce(model.Warning, fx.Off, fmt.Sprintf("FXSAVE note of %d bytes is shorter than %d: registers past its end are not decoded", len(fx.Desc), fxSize))
		}
		x := x86State{nxmm: nxmm}
		x.legacy(fx.Desc, 1<<xfX87|1<<xfSSE, 0)
		c.regs = append(c.regs, x.regs()...)
	case xs != nil:
		f.diagOnce(model.Warning, xs.Off, fmt.Sprintf("NT_X86_XSTATE of %d bytes has no XSAVE header (it needs %d): its legacy registers are decoded as if every component were in use", len(xs.Desc), xsaveHdrEnd))
		x := x86State{nxmm: nxmm}
		x.legacy(xs.Desc, 1<<xfX87|1<<xfSSE, 0)
		c.regs = append(c.regs, x.regs()...)
	case fs != nil:
		if len(fs.Desc) < fsSize {
			f.diagOnce(model.Warning, fs.Off, fmt.Sprintf("NT_PRFPREG of %d bytes is shorter than the %d-byte FSAVE image: it is not decoded", len(fs.Desc), fsSize))
			return
		}
		x := x86State{nxmm: nxmm}
		x.fsave(fs.Desc)
		c.regs = append(c.regs, x.regs()...)
	}
}

// x86State collects the registers in gdb's order; a nil slice or a false
// have flag is a register the note does not hold.
type x86State struct {
	nxmm     int
	st       [8][]byte
	ctl      [8]uint32 // fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop
	haveCtl  bool
	xmm      [32][]byte
	mxcsr    uint32
	hasMXCSR bool
	ymmh     [32][]byte // upper 128 bits of ymm0..15
	k        [8]uint64
	haveK    bool
	zmmh     [16][]byte // upper 256 bits of zmm0..15
	hi16     [16][]byte // zmm16..31
	pkru     uint32
	havePKRU bool
}

var xfeatureNames = map[int]string{xfAVX: "AVX", xfOpmask: "opmask", xfZMMHi256: "ZMM_Hi256", xfHi16ZMM: "Hi16_ZMM", xfPKRU: "PKRU"}

var x87CtlNames = [8]string{"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"}

var zero64 [64]byte

// legacy decodes an FXSAVE image (possibly cut short): the x87 registers
// if present has xfX87, xmm and mxcsr if it has xfSSE. Components in
// clear are in their init state, as gdb's i387_supply_xsave supplies them.
func (x *x86State) legacy(b []byte, present, clear uint64) {
	if present&(1<<xfX87) != 0 {
		switch {
		case clear&(1<<xfX87) != 0:
			for i := range x.st {
				x.st[i] = zero64[:10]
			}
			x.ctl = [8]uint32{0: fctrlInit, 2: ftagInit}
			x.haveCtl = true
		case len(b) >= fxXMM:
			for i := range x.st {
				x.st[i] = b[fxST+16*i : fxST+16*i+10]
			}
			fstat := lsb.Uint16(b[fxSWD:])
			x.ctl = [8]uint32{
				uint32(lsb.Uint16(b[fxCWD:])), uint32(fstat), fullTag(b[fxFTW], fstat, x.st),
				uint32(lsb.Uint16(b[fxFISEG:])), lsb.Uint32(b[fxFIOFF:]),
				uint32(lsb.Uint16(b[fxFOSEG:])), lsb.Uint32(b[fxFOOFF:]),
				uint32(lsb.Uint16(b[fxFOP:]) & 0x7ff),
			}
			x.haveCtl = true
		}
	}
	if present&(1<<xfSSE) != 0 {
		for i := range x.nxmm {
			switch {
			case clear&(1<<xfSSE) != 0:
				x.xmm[i] = zero64[:16]
			case len(b) >= fxXMM+16*i+16:
				x.xmm[i] = b[fxXMM+16*i : fxXMM+16*i+16]
			}
		}
		// MXCSR is saved with either SSE or AVX state (Intel SDM vol. 1,
		// 13.5.2), so it is in its init state only when both are.
		switch {
		case clear&(1<<xfSSE) != 0 && clear&(1<<xfAVX) != 0:
			x.mxcsr, x.hasMXCSR = mxcsrInit, true
		case len(b) >= fxMXCSR+4:
			x.mxcsr, x.hasMXCSR = lsb.Uint32(b[fxMXCSR:]), true
		}
	}
}

// fsave decodes i386's 108-byte FSAVE image, whose tag word is already
// the full one.
func (x *x86State) fsave(b []byte) {
	for i := range x.st {
		x.st[i] = b[fsST+10*i : fsST+10*i+10]
	}
	w := func(off int) uint32 { return uint32(lsb.Uint16(b[off:])) }
	x.ctl = [8]uint32{w(fsCWD), w(fsSWD), w(fsTWD), w(fsFCS), lsb.Uint32(b[fsFIP:]), w(fsFOS), lsb.Uint32(b[fsFOO:]), w(fsFOP) & 0x7ff}
	x.haveCtl = true
}

// fullTag rebuilds the i387 tag word from FXSAVE's abridged one (a valid
// bit per physical register) by classifying each register's value, as
// FSAVE would have stored it (Intel SDM vol. 1, 10.5.1.1; gdb's
// i387_supply_fxsave). st holds st0..st7; physical register p is
// st((p - TOP) mod 8).
func fullTag(abridged byte, fstat uint16, st [8][]byte) uint32 {
	top := int(fstat>>11) & 7
	var tag uint32
	for p := 7; p >= 0; p-- {
		t := uint32(3) // empty
		if abridged&(1<<p) != 0 {
			t = x87Class(st[(p+8-top)%8])
		}
		tag |= t << (2 * p)
	}
	return tag
}

// x87Class is the tag of an 80-bit value: 0 valid, 1 zero, 2 special
// (NaN, infinity, denormal, unsupported).
func x87Class(r []byte) uint32 {
	if len(r) < 10 {
		return 2
	}
	exp := lsb.Uint16(r[8:]) & 0x7fff
	mant := lsb.Uint64(r)
	integer := mant>>63 != 0
	switch {
	case exp == 0x7fff:
		return 2
	case exp == 0:
		if mant == 0 {
			return 1
		}
		return 2
	case integer:
		return 0
	}
	return 2
}

// regs returns the collected registers in gdb's order.
func (x *x86State) regs() []model.Reg {
	var out []model.Reg
	for i, s := range x.st {
		if s != nil {
			out = append(out, wideReg(fmt.Sprintf("st%d", i), s))
		}
	}
	if x.haveCtl {
		for i, n := range x87CtlNames {
			out = append(out, intReg(n, uint64(x.ctl[i]), 4))
		}
	}
	for i := range x.nxmm {
		if x.xmm[i] != nil {
			out = append(out, wideReg(fmt.Sprintf("xmm%d", i), x.xmm[i]))
		}
	}
	if x.hasMXCSR {
		out = append(out, intReg("mxcsr", uint64(x.mxcsr), 4))
	}
	for i := range x.nxmm {
		if x.xmm[i] != nil && x.ymmh[i] != nil {
			out = append(out, wideReg(fmt.Sprintf("ymm%d", i), join(x.xmm[i], x.ymmh[i])))
		}
	}
	if x.haveK {
		for i, v := range x.k {
			out = append(out, intReg(fmt.Sprintf("k%d", i), v, 8))
		}
	}
	for i := range x.nxmm {
		if x.xmm[i] != nil && x.ymmh[i] != nil && x.zmmh[i] != nil {
			out = append(out, wideReg(fmt.Sprintf("zmm%d", i), join(x.xmm[i], x.ymmh[i], x.zmmh[i])))
		}
	}
	for i, z := range x.hi16 {
		if z != nil {
			out = append(out, wideReg(fmt.Sprintf("zmm%d", 16+i), z))
		}
	}
	for i, z := range x.hi16 {
		if z != nil {
			out = append(out, wideReg(fmt.Sprintf("xmm%d", 16+i), z[:16]))
		}
	}
	for i, z := range x.hi16 {
		if z != nil {
			out = append(out, wideReg(fmt.Sprintf("ymm%d", 16+i), z[:32]))
		}
	}
	if x.havePKRU {
		out = append(out, intReg("pkru", uint64(x.pkru), 4))
	}
	return out
}

func join(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// xsaveRegs decodes an NT_X86_XSTATE note at least xsaveHdrEnd bytes long.
func (f *File) xsaveRegs(c *Context, n *elfx.Note, nxmm int) {
	d := n.Desc
	bv := lsb.Uint64(d[xsaveHdr:])
	xcomp := lsb.Uint64(d[xsaveHdr+8:])
	// Linux's regset stores XCR0, the components the process may use, in
	// sw_reserved. Without it (another writer), assume the components the
	// header marks in use, and AVX when the note has room for it.
	xcr0 := lsb.Uint64(d[fxSWXCR0:])
	if xcr0 == 0 {
		xcr0 = bv | 1<<xfX87 | 1<<xfSSE
		if len(d) >= 832 {
			xcr0 |= 1 << xfAVX
		}
	}
	clear := ^bv & xcr0
	x := x86State{nxmm: nxmm}
	x.legacy(d[:fxSize], xcr0, clear)
	layout := f.xsaveLayout()
	if layout == nil && xcomp&(1<<63) == 0 {
		// Without NT_X86_XSAVE_LAYOUT (kernels before 6.13) a note too
		// short for Intel's offsets that exactly holds XCR0's components
		// back to back has AMD's layout, where absent components (MPX on
		// Zen) take no room. gdb 14's i387_guess_xsave_layout recognises
		// the same layouts by their sizes.
		if packed, end, ok := xstatePacked(xcr0); ok && len(d) == end && len(d) < xstateStdEnd(xcr0) {
			layout = packed
			f.diagOnce(model.Note, n.Off, fmt.Sprintf("NT_X86_XSTATE of %d bytes is too short for the standard XSAVE layout of XCR0 %#x and holds its components back to back: read with AMD's layout, as no NT_X86_XSAVE_LAYOUT note describes it", len(d), xcr0))
		}
	}

	// component returns the bytes of slot i (w bytes wide) of feature ft:
	// zeros when the component is in its init state, nil when the note
	// does not hold them.
	short := map[int]bool{}
	component := func(ft, i, w int) []byte {
		if clear&(1<<ft) != 0 {
			return zero64[:w]
		}
		off, size, ok := xstateLocate(ft, xcomp, layout)
		start := off + i*w
		if ok && (i+1)*w <= size && start >= xsaveHdrEnd && start+w <= len(d) {
			return d[start : start+w]
		}
		if !short[ft] {
			short[ft] = true
			msg := fmt.Sprintf("NT_X86_XSTATE of %d bytes ends inside XSAVE component %d (%s, %d bytes at offset %d): its registers past the end are not decoded",
				len(d), ft, xfeatureNames[ft], size, off)
			if !ok {
				msg = fmt.Sprintf("XSAVE component %d (%s) is in use but the compacted NT_X86_XSTATE does not hold it", ft, xfeatureNames[ft])
			} else if (i+1)*w > size {
				msg = fmt.Sprintf("XSAVE component %d (%s) is %d bytes, too small for its registers", ft, xfeatureNames[ft], size)
			}
			f.diagOnce(model.Warning, n.Off, msg)
		}
		return nil
	}
	has := func(ft int) bool { return xcr0&(1<<ft) != 0 }
	if has(xfAVX) {
		for i := range nxmm {
			x.ymmh[i] = component(xfAVX, i, 16)
		}
	}
	if has(xfOpmask) {
		x.haveK = true
		for i := range x.k {
			b := component(xfOpmask, i, 8)
			if b == nil {
				x.haveK = false
				break
			}
			x.k[i] = lsb.Uint64(b)
		}
	}
	if has(xfZMMHi256) {
		for i := range nxmm {
			x.zmmh[i] = component(xfZMMHi256, i, 32)
		}
	}
	if has(xfHi16ZMM) && nxmm == 16 {
		for i := range x.hi16 {
			x.hi16[i] = component(xfHi16ZMM, i, 64)
		}
	}
	if has(xfPKRU) {
		if b := component(xfPKRU, 0, 4); b != nil {
			x.pkru, x.havePKRU = lsb.Uint32(b), true
		}
	}
	c.regs = append(c.regs, x.regs()...)
}

// xstateLocate returns a component's offset and size in an XSAVE area:
// from NT_X86_XSAVE_LAYOUT when the core has it, packed in feature order
// after the header when XCOMP_BV's bit 63 marks the compacted format
// (Intel SDM vol. 1, 13.4.3; 64-byte alignment requests are not recorded,
// so they are not applied), else the standard offsets.
func xstateLocate(ft int, xcomp uint64, layout map[int][2]int) (off, size int, ok bool) {
	if l, ok := layout[ft]; ok {
		return l[0], l[1], true
	}
	std, known := xstateStd[ft]
	if !known {
		return 0, 0, false
	}
	if xcomp&(1<<63) != 0 {
		if xcomp&(1<<ft) == 0 {
			return 0, 0, false
		}
		off = xsaveHdrEnd
		for i := 2; i < ft; i++ {
			if xcomp&(1<<i) != 0 {
				off += xstateStd[i][1]
			}
		}
		return off, std[1], true
	}
	return std[0], std[1], true
}

// xstateStdEnd returns the end of the standard-format XSAVE area holding
// xcr0's components.
func xstateStdEnd(xcr0 uint64) int {
	end := xsaveHdrEnd
	for ft, l := range xstateStd {
		if xcr0&(1<<ft) != 0 {
			end = max(end, l[0]+l[1])
		}
	}
	return end
}

// xstatePacked lays xcr0's extended components out back to back after the
// header, in feature order; ok is false when xcr0 has one whose size is
// not known.
func xstatePacked(xcr0 uint64) (layout map[int][2]int, end int, ok bool) {
	layout, end = map[int][2]int{}, xsaveHdrEnd
	for ft := 2; ft < 64; ft++ {
		if xcr0&(1<<ft) == 0 {
			continue
		}
		l, known := xstateStd[ft]
		if !known {
			return nil, 0, false
		}
		layout[ft] = [2]int{end, l[1]}
		end += l[1]
	}
	return layout, end, true
}

// xsaveLayout reads NT_X86_XSAVE_LAYOUT (Linux 6.13+, written once after
// every thread's notes): struct x86_xfeat_component {u32 type, size,
// offset, flags} per component (arch/x86/include/uapi/asm/elf.h), keyed by
// feature number. Entries that would put a component inside the legacy
// region or the header are dropped with a diagnostic.
func (f *File) xsaveLayout() map[int][2]int {
	for _, n := range f.Notes {
		if n.Type != NT_X86_XSAVE_LAYOUT || n.Name != "LINUX" {
			continue
		}
		if len(n.Desc)%16 != 0 {
			f.diagOnce(model.Warning, n.Off, fmt.Sprintf("NT_X86_XSAVE_LAYOUT of %d bytes is not a whole number of 16-byte entries", len(n.Desc)))
		}
		m := map[int][2]int{}
		for p := 0; p+16 <= len(n.Desc); p += 16 {
			typ, size, off := lsb.Uint32(n.Desc[p:]), lsb.Uint32(n.Desc[p+4:]), lsb.Uint32(n.Desc[p+8:])
			if typ >= 64 || off < xsaveHdrEnd || size > 1<<20 || off > 1<<20 {
				f.diagOnce(model.Warning, n.Off+int64(p), fmt.Sprintf("NT_X86_XSAVE_LAYOUT entry for component %d (%d bytes at %d) is out of range", typ, size, off))
				continue
			}
			m[int(typ)] = [2]int{int(off), int(size)}
		}
		return m
	}
	return nil
}
