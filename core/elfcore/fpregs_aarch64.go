package elfcore

import (
	"encoding/binary"
	"fmt"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// arm64Regs decodes one thread's NT_FPREGSET (struct user_fpsimd_state),
// NT_ARM_SVE (struct user_sve_header and, in SVE mode, the Z, P and FFR
// registers), NT_ARM_PAC_MASK (struct user_pac_mask) and NT_ARM_TLS
// (tpidr_el0, then tpidr2_el0 with SME), all from
// arch/arm64/include/uapi/asm/ptrace.h and arch/arm64/kernel/ptrace.c.
// FreeBSD writes NT_ARM_TLS and, as NT_ARM_ADDR_MASK, the PAC masks under
// its own name.
// FreeBSD's struct fpreg (machine/reg.h: fp_q[32], fp_sr, fp_cr) has the
// same layout as user_fpsimd_state.
func (f *File) arm64Regs(c *Context, notes []elfx.Note) {
	order := f.Header.Order
	var fp, sve, pac, tls *elfx.Note
	for i := range notes {
		n := &notes[i]
		switch {
		case n.Type == NT_FPREGSET && coreOwned(*n) && fp == nil:
			fp = n
		case n.Type == NT_ARM_SVE && linuxOwned(*n) && sve == nil:
			sve = n
		case n.Type == NT_ARM_PAC_MASK && linuxOwned(*n) && pac == nil:
			pac = n
		case n.Type == NT_ARM_TLS && linuxOwned(*n) && tls == nil:
			tls = n
		}
	}
	var tail []model.Reg // fpsr, fpcr: after the vector registers, as gdb lists them
	if fp != nil {
		d := fp.Desc
		if len(d) < fpsimdSize {
			f.diagOnce(model.Warning, fp.Off, fmt.Sprintf("NT_FPREGSET of %d bytes is shorter than the %d-byte struct user_fpsimd_state: registers past its end are not decoded", len(d), fpsimdSize))
		}
		for i := range 32 {
			if off := fpsimdV + 16*i; off+16 <= len(d) {
				c.regs = append(c.regs, wideReg(fmt.Sprintf("v%d", i), uint128LE(d[off:off+16], order)))
			}
		}
		if len(d) >= fpsimdFPSR+4 {
			tail = append(tail, intReg("fpsr", uint64(order.Uint32(d[fpsimdFPSR:])), 4))
		}
		if len(d) >= fpsimdFPCR+4 {
			tail = append(tail, intReg("fpcr", uint64(order.Uint32(d[fpsimdFPCR:])), 4))
		}
	}
	if sve != nil {
		c.regs = append(c.regs, f.sveRegs(sve, order)...)
	}
	c.regs = append(c.regs, tail...)
	if pac != nil {
		if len(pac.Desc) < 16 {
			f.diagOnce(model.Warning, pac.Off, fmt.Sprintf("NT_ARM_PAC_MASK of %d bytes is shorter than struct user_pac_mask (16)", len(pac.Desc)))
		} else {
			dmask, cmask := order.Uint64(pac.Desc), order.Uint64(pac.Desc[8:])
			if pac.Name == "FreeBSD" {
				// FreeBSD's NT_ARM_ADDR_MASK (same number) is struct
				// arm64_addr_mask {code, data} (machine/reg.h).
				dmask, cmask = cmask, dmask
			}
			c.regs = append(c.regs, intReg("pauth_dmask", dmask, 8), intReg("pauth_cmask", cmask, 8))
			c.pac, c.hasPAC = cmask, true
		}
	}
	if tls != nil {
		if len(tls.Desc) < 8 {
			f.diagOnce(model.Warning, tls.Off, fmt.Sprintf("NT_ARM_TLS of %d bytes is shorter than tpidr_el0 (8)", len(tls.Desc)))
		} else {
			c.regs = append(c.regs, intReg("tpidr", order.Uint64(tls.Desc), 8))
			if len(tls.Desc) >= 16 {
				c.regs = append(c.regs, intReg("tpidr2", order.Uint64(tls.Desc[8:]), 8))
			}
		}
	}
}

// uint128LE returns a __uint128_t stored in the core's byte order as the
// little-endian bytes model.Reg.Wide holds.
func uint128LE(b []byte, order binary.ByteOrder) []byte {
	if order == binary.BigEndian {
		r := make([]byte, len(b))
		for i := range b {
			r[i] = b[len(b)-1-i]
		}
		return r
	}
	return b
}

// sveRegs decodes NT_ARM_SVE: vg (the vector length in 64-bit granules,
// vl/8, as gdb shows it) from the header, and with SVE_PT_REGS_SVE the
// registers at the SVE_PT_SVE_*_OFFSET(vq) offsets: z0..z31 (vl bytes
// each) from SVE_PT_REGS_OFFSET, p0..p15 (vl/8 bytes) after them, then
// ffr. The FPSIMD form repeats NT_FPREGSET, which is read instead. Z and P
// bytes are copied as stored (little-endian element order).
func (f *File) sveRegs(n *elfx.Note, order binary.ByteOrder) []model.Reg {
	d := n.Desc
	if len(d) < sveHdrSize {
		f.diagOnce(model.Warning, n.Off, fmt.Sprintf("NT_ARM_SVE of %d bytes is shorter than struct user_sve_header (%d)", len(d), sveHdrSize))
		return nil
	}
	vl := int(order.Uint16(d[sveHdrVL:]))
	flags := order.Uint16(d[sveHdrFlags:])
	// Architecturally vl is a multiple of 16 bytes up to 256 (SVE_VL_MAX).
	if vl == 0 || vl%16 != 0 || vl > 256 {
		f.diagOnce(model.Warning, n.Off, fmt.Sprintf("NT_ARM_SVE vector length %d is not a multiple of 16 up to 256", vl))
		return nil
	}
	var out []model.Reg
	if flags&svePTRegsSVE != 0 {
		pl := vl / 8
		zs, ps := sveRegsOffset, sveRegsOffset+32*vl
		ffr := ps + 16*pl
		if len(d) < ffr+pl {
			f.diagOnce(model.Warning, n.Off, fmt.Sprintf("NT_ARM_SVE of %d bytes ends before its registers do (%d bytes for vl %d): registers past the end are not decoded", len(d), ffr+pl, vl))
		}
		for i := range 32 {
			if o := zs + i*vl; o+vl <= len(d) {
				out = append(out, wideReg(fmt.Sprintf("z%d", i), d[o:o+vl]))
			}
		}
		for i := range 16 {
			if o := ps + i*pl; o+pl <= len(d) {
				out = append(out, sveReg(fmt.Sprintf("p%d", i), d[o:o+pl]))
			}
		}
		if ffr+pl <= len(d) {
			out = append(out, sveReg("ffr", d[ffr:ffr+pl]))
		}
	}
	return append(out, intReg("vg", uint64(vl/8), 8))
}

// sveReg returns a predicate register: vl/8 bytes, 2 to 32; the short
// ones fit a Value.
func sveReg(name string, b []byte) model.Reg {
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return intReg(name, v, len(b))
	}
	return wideReg(name, b)
}
