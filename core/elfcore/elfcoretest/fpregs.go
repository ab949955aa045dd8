package elfcoretest

import (
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Per-thread register notes other than NT_PRSTATUS, as the kernel's
// regsets write them (include/uapi/linux/elf.h). Their payloads are built
// here from the kernel's structs, independently of package elfcore.
const (
	NTPRFPReg        = 2          // NT_PRFPREG / NT_FPREGSET, owner "CORE"
	NTPRXFPReg       = 0x46e62b7f // NT_PRXFPREG, "LINUX": i386 user_fxsr_struct
	NTX86XState      = 0x202      // NT_X86_XSTATE, "LINUX"
	NTX86XSaveLayout = 0x205      // NT_X86_XSAVE_LAYOUT, "LINUX", written once per process
	NTARMTLS         = 0x401      // NT_ARM_TLS, "LINUX"
	NTARMSVE         = 0x405      // NT_ARM_SVE, "LINUX"
	NTARMPACMask     = 0x406      // NT_ARM_PAC_MASK, "LINUX"
)

// threadNotes appends t's extra notes after its NT_PRSTATUS.
func (b *Builder) threadNotes(s *testasm.Section, t Thread) {
	for _, n := range t.Notes {
		b.namedNote(s, n)
	}
}

// namedNote appends n; an empty Name is the builder's (CORE or FreeBSD).
func (b *Builder) namedNote(s *testasm.Section, n Note) {
	name := n.Name
	if name == "" {
		name = b.noteName
	}
	s.D32(uint32(len(name) + 1)).D32(uint32(len(n.Desc))).D32(n.Type)
	s.String(name, len(name)+1).Align(4).Append(n.Desc).Align(4)
}

// Note adds a process-wide note after all the others, where the kernel
// writes NT_X86_XSAVE_LAYOUT (fs/binfmt_elf.c writes it after the last
// thread's notes).
func (b *Builder) Note(n Note) *Builder { b.last = append(b.last, n); return b }

func (b *Builder) lastNotes() *testasm.Section {
	s := testasm.New(b.order)
	for _, n := range b.last {
		b.namedNote(s, n)
	}
	return s
}

// Note is one ELF note: its owner ("CORE", "LINUX"; empty for the
// builder's own), type and descriptor.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

var le = binary.LittleEndian

// FXSave is the 512-byte FXSAVE image: x86-64's struct user_fpregs_struct
// (arch/x86/include/asm/user_64.h), i386's struct user_fxsr_struct
// (asm/user_32.h, where fip/fcs and foo/fos are RIP's and RDP's 32-bit
// halves) and the legacy region of an XSAVE area (struct fxregs_state,
// arch/x86/include/asm/fpu/types.h).
type FXSave struct {
	CWD, SWD, FTW, FOP uint16 // FTW is the abridged tag word: bit i set = physical register i valid
	RIP, RDP           uint64
	MXCSR, MXCSRMask   uint32
	ST                 [8][10]byte // st0..st7, each at the start of a 16-byte slot
	XMM                [16][16]byte
	// SWReserved is bytes 464..511 (sw_reserved); Linux's regsets put
	// XCR0 in its first word (xstate_fx_sw_bytes[USER_XSTATE_XCR0_WORD]).
	SWReserved [6]uint64
}

// Bytes returns the 512-byte image.
func (x FXSave) Bytes() []byte {
	d := testasm.New(le).D16(x.CWD).D16(x.SWD).D16(x.FTW).D16(x.FOP).D64(x.RIP).D64(x.RDP).D32(x.MXCSR).D32(x.MXCSRMask)
	for _, st := range x.ST {
		d.Append(st[:]).Repeat(0, 6)
	}
	for _, r := range x.XMM {
		d.Append(r[:])
	}
	d.PadTo(464)
	for _, w := range x.SWReserved {
		d.D64(w)
	}
	return d.MustBytes()
}

// FSave is i386's struct user_i387_struct (arch/x86/include/asm/user_32.h),
// the 108-byte FSAVE image of NT_PRFPREG: seven longs, then st0..st7
// packed 10 bytes apart. FCS's upper half holds the last opcode.
type FSave struct {
	CWD, SWD, TWD, FIP, FCS, FOO, FOS uint32
	ST                                [8][10]byte
}

// Bytes returns the 108-byte image.
func (x FSave) Bytes() []byte {
	d := testasm.New(le).D32(x.CWD).D32(x.SWD).D32(x.TWD).D32(x.FIP).D32(x.FCS).D32(x.FOO).D32(x.FOS)
	for _, st := range x.ST {
		d.Append(st[:])
	}
	return d.MustBytes()
}

// XComponent is one XSAVE state component: its feature number (2 AVX, 5
// opmask, 6 ZMM_Hi256, 7 Hi16_ZMM, 9 PKRU) and bytes at Offset.
type XComponent struct {
	Feature int
	Offset  int
	Data    []byte
}

// XStateOffset returns a component's offset in the standard (non-compacted)
// XSAVE format, as CPUID leaf 0xD reports it on Intel processors (Intel
// SDM vol. 1, 13.4.3 and table 13-1's sizes).
func XStateOffset(feature int) int {
	return map[int]int{2: 576, 3: 960, 4: 1024, 5: 1088, 6: 1152, 7: 1664, 9: 2688}[feature]
}

// XSave is an NT_X86_XSTATE payload: the FXSAVE region (with XCR0 stored
// at byte 464 as Linux's regset does), the 64-byte XSAVE header at 512
// (XSTATE_BV, XCOMP_BV, reserved) and the components at their offsets.
type XSave struct {
	Legacy                  FXSave
	XCR0, XStateBV, XCompBV uint64
	Components              []XComponent
	// Size cuts or pads the payload; 0 ends it after the last component.
	Size int
}

// Bytes returns the payload.
func (x XSave) Bytes() []byte {
	l := x.Legacy
	l.SWReserved[0] = x.XCR0
	d := testasm.New(le).Append(l.Bytes()).D64(x.XStateBV).D64(x.XCompBV).Repeat(0, 48)
	out := d.MustBytes()
	for _, c := range x.Components {
		if need := c.Offset + len(c.Data); need > len(out) {
			out = append(out, make([]byte, need-len(out))...)
		}
		copy(out[c.Offset:], c.Data)
	}
	if x.Size > 0 {
		if x.Size < len(out) {
			out = out[:x.Size]
		} else {
			out = append(out, make([]byte, x.Size-len(out))...)
		}
	}
	return out
}

// XFeatComponent is one entry of NT_X86_XSAVE_LAYOUT: struct
// x86_xfeat_component (arch/x86/include/uapi/asm/elf.h).
type XFeatComponent struct{ Type, Size, Offset, Flags uint32 }

// XSaveLayout returns an NT_X86_XSAVE_LAYOUT payload: the array of
// components as the kernel's elf_coredump_extra_notes_write writes it.
func XSaveLayout(cs ...XFeatComponent) []byte {
	d := testasm.New(le)
	for _, c := range cs {
		d.D32(c.Type).D32(c.Size).D32(c.Offset).D32(c.Flags)
	}
	return d.MustBytes()
}

// FPSIMD returns arm64's struct user_fpsimd_state
// (arch/arm64/include/uapi/asm/ptrace.h): vregs[32] (__uint128_t, stored
// little-endian), fpsr, fpcr and two reserved words, 528 bytes.
func FPSIMD(v [32][16]byte, fpsr, fpcr uint32) []byte {
	d := testasm.New(le)
	for _, r := range v {
		d.Append(r[:])
	}
	return d.D32(fpsr).D32(fpcr).D32(0).D32(0).MustBytes()
}

// ARMTLS returns NT_ARM_TLS: tpidr_el0, and tpidr2_el0 on kernels with SME
// (arch/arm64/kernel/ptrace.c tls_get).
func ARMTLS(tpidr uint64, tpidr2 ...uint64) []byte {
	d := testasm.New(le).D64(tpidr)
	for _, v := range tpidr2 {
		d.D64(v)
	}
	return d.MustBytes()
}

// PACMask returns NT_ARM_PAC_MASK: struct user_pac_mask {data_mask,
// insn_mask} (arch/arm64/include/uapi/asm/ptrace.h). FreeBSD's
// NT_ARM_ADDR_MASK, the same note number, is struct arm64_addr_mask
// {code, data} (machine/reg.h): pass the code mask first for it.
func PACMask(data, insn uint64) []byte {
	return testasm.New(le).D64(data).D64(insn).MustBytes()
}

// SVE is an NT_ARM_SVE payload: struct user_sve_header (size, max_size,
// vl, max_vl, flags, reserved) and, with flags bit 0 (SVE_PT_REGS_SVE),
// the registers at the SVE_PT_SVE_* offsets of
// arch/arm64/include/uapi/asm/ptrace.h for vq = VL/16 quadwords:
// z0..z31 (VL bytes each) from 16, p0..p15 (VL/8 bytes) after them, ffr,
// then fpsr and fpcr 16-byte aligned. Without it the payload is a struct
// user_fpsimd_state (FPSIMD).
type SVE struct {
	VL, MaxVL, Flags uint16
	Z                [32][]byte
	P                [16][]byte
	FFR              []byte
	FPSR, FPCR       uint32
	FPSIMD           []byte
}

// Bytes returns the payload.
func (s SVE) Bytes() []byte {
	vq := int(s.VL) / 16
	body := testasm.New(le)
	if s.Flags&1 != 0 {
		put := func(b []byte, n int) {
			c := make([]byte, n)
			copy(c, b)
			body.Append(c)
		}
		for _, z := range s.Z {
			put(z, 16*vq)
		}
		for _, p := range s.P {
			put(p, 2*vq)
		}
		put(s.FFR, 2*vq)
		body.Align(16).D32(s.FPSR).D32(s.FPCR)
	} else {
		body.Append(s.FPSIMD)
	}
	b := body.MustBytes()
	d := testasm.New(le).D32(uint32(16 + len(b))).D32(uint32(16 + len(b))).D16(s.VL).D16(s.MaxVL).D16(s.Flags).D16(0)
	return d.Append(b).MustBytes()
}

// Pattern returns n bytes seed, seed+1, ...: distinct register contents.
func Pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// ZenLayout is the XSAVE layout of an AMD Zen 4 process (no MPX, so the
// AVX-512 components sit below their Intel offsets), as the kernel records
// it in NT_X86_XSAVE_LAYOUT, and its XCR0: x87, SSE, AVX, opmask,
// ZMM_Hi256, Hi16_ZMM and PKRU.
var (
	ZenLayout = []XFeatComponent{{2, 256, 576, 0}, {5, 64, 832, 0}, {6, 512, 896, 0}, {7, 1024, 1408, 0}, {9, 8, 2432, 0}}
	ZenXCR0   = uint64(0x2e7)
)

// ZenXSave returns an XSave in ZenLayout whose every register holds
// Pattern(seed+i, ...) data and whose XSTATE_BV is bv.
func ZenXSave(seed byte, bv uint64) XSave {
	x := XSave{XCR0: ZenXCR0, XStateBV: bv, Size: 2440}
	x.Legacy = FXSave{CWD: 0x37f, SWD: 0x3800, FTW: 0x80, FOP: 0x123, RIP: 0x401000, RDP: 0x7ffd0000, MXCSR: 0x1fa0, MXCSRMask: 0xffff}
	copy(x.Legacy.ST[0][:], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}) // 1.0
	for i := range x.Legacy.XMM {
		copy(x.Legacy.XMM[i][:], Pattern(seed+byte(i), 16))
	}
	var ymmh, k, zmmh, hi16 []byte
	for i := range 16 {
		ymmh = append(ymmh, Pattern(seed+0x40+byte(i), 16)...)
		zmmh = append(zmmh, Pattern(seed+0x80+byte(i), 32)...)
		hi16 = append(hi16, Pattern(seed+0xc0+byte(i), 64)...)
	}
	for i := range 8 {
		k = append(k, Pattern(seed+0x20+byte(i), 8)...)
	}
	x.Components = []XComponent{{2, 576, ymmh}, {5, 832, k}, {6, 896, zmmh}, {7, 1408, hi16}, {9, 2432, []byte{0x54, 0x55, 0x55, 0x55}}}
	return x
}

// AMD64XState is an x86-64 core with two threads, each with NT_FPREGSET
// and a ZenXSave NT_X86_XSTATE, and the process's NT_X86_XSAVE_LAYOUT.
func AMD64XState() *Builder {
	var ts []Thread
	for i, tid := range []uint32{500, 501} {
		x := ZenXSave(byte(0x10*i), 0x2e7)
		ts = append(ts, Thread{TID: tid, Signal: 11, Notes: []Note{
			{Name: "CORE", Type: NTPRFPReg, Desc: x.Legacy.Bytes()},
			{Name: "LINUX", Type: NTX86XState, Desc: x.Bytes()},
		}})
	}
	return New().Threads(ts...).Note(Note{Name: "LINUX", Type: NTX86XSaveLayout, Desc: XSaveLayout(ZenLayout...)})
}

// ARM64FPSIMD is an arm64 core with two threads, each with NT_FPREGSET
// (v_i = Pattern(seed+i, 16)), NT_ARM_TLS, NT_ARM_PAC_MASK and an
// NT_ARM_SVE header in FPSIMD mode (vl 32).
func ARM64FPSIMD() *Builder {
	var ts []Thread
	for i, tid := range []uint32{600, 601} {
		var v [32][16]byte
		for r := range v {
			copy(v[r][:], Pattern(byte(0x40*i+r), 16))
		}
		fp := FPSIMD(v, 0x8000010, 0x3000000)
		ts = append(ts, Thread{TID: tid, Signal: 11, Regs: make([]uint64, 34), Notes: []Note{
			{Name: "CORE", Type: NTPRFPReg, Desc: fp},
			{Name: "LINUX", Type: NTARMTLS, Desc: ARMTLS(0x7f00001000 + uint64(i)*0x1000)},
			{Name: "LINUX", Type: NTARMPACMask, Desc: PACMask(0x007f000000000000, 0x007f000000000000)},
			{Name: "LINUX", Type: NTARMSVE, Desc: SVE{VL: 32, MaxVL: 256, FPSIMD: fp}.Bytes()},
		}})
	}
	return New().Machine(183).Threads(ts...)
}
