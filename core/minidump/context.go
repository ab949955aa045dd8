package minidump

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/model"
)

// ErrUnsupportedContext is returned for a thread context whose layout the
// package does not decode (PPC, MIPS, SPARC, RISC-V contexts).
var ErrUnsupportedContext = errors.New("minidump: unsupported CPU context")

// XState is the extended state Windows appends to a CONTEXT whose flags carry
// CONTEXT_XSTATE: a CONTEXT_EX and an XSAVE area (header and the enabled
// components). See "Working with XState Context" on learn.microsoft.com and
// the Intel SDM vol. 1 ch. 13 (XSAVE-managed state).
type XState struct {
	Mask           uint64 // XSTATE_BV: components not in their initial state
	CompactionMask uint64 // XCOMP_BV: bit 63 set for the compacted form
	// YMMHigh holds the upper 128 bits of ymm0..ymm15 (ymm0..7 on x86) when
	// the AVX component is present.
	YMMHigh [16][16]byte
	HasAVX  bool
	// CET_U component: the user-mode CET control and shadow stack pointer.
	UCET   uint64
	SSP    uint64
	HasCET bool
}

// ContextAMD64 is CONTEXT on x64 (winnt.h; Breakpad's MDRawContextAMD64 has
// the same layout).
type ContextAMD64 struct {
	ContextFlags                             uint32
	MxCsr                                    uint32
	SegCs, SegDs, SegEs, SegFs, SegGs, SegSs uint16
	EFlags                                   uint32
	Dr0, Dr1, Dr2, Dr3, Dr6, Dr7             uint64
	Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi   uint64
	R8, R9, R10, R11, R12, R13, R14, R15     uint64
	Rip                                      uint64
	Xmm                                      [16][16]byte // FltSave.XmmRegisters
	XState                                   *XState      // nil without CONTEXT_XSTATE
	DebugControl, LastBranchToRip            uint64
	LastBranchFromRip, LastExceptionToRip    uint64
	LastExceptionFromRip                     uint64
}

// ContextX86 is CONTEXT on x86 (winnt.h; Breakpad's MDRawContextX86).
type ContextX86 struct {
	ContextFlags                  uint32
	Dr0, Dr1, Dr2, Dr3, Dr6, Dr7  uint32
	FloatSave                     [112]byte // FLOATING_SAVE_AREA
	Gs, Fs, Es, Ds                uint32
	Edi, Esi, Ebx, Edx, Ecx, Eax  uint32
	Ebp, Eip, Cs, EFlags, Esp, Ss uint32
	ExtendedRegisters             [512]byte // FXSAVE image
	XState                        *XState
}

// ContextARM64 is ARM64_NT_CONTEXT (Windows, and Breakpad's current
// MDRawContextARM64) or Breakpad's MDRawContextARM64_Old (Old set).
type ContextARM64 struct {
	ContextFlags uint64
	Cpsr         uint32
	X            [31]uint64 // x0..x28, fp (x29), lr (x30)
	Sp, Pc       uint64
	V            [32][16]byte
	Fpcr, Fpsr   uint32
	Old          bool
}

// ContextARM is Breakpad's MDRawContextARM or the Windows ARM CONTEXT
// (Windows set).
type ContextARM struct {
	ContextFlags     uint32
	R                [13]uint32 // r0..r12
	Sp, Lr, Pc, Cpsr uint32
	Fpscr            uint64
	D                [32]uint64
	Windows          bool
}

var (
	_ model.Context = (*ContextAMD64)(nil)
	_ model.Context = (*ContextX86)(nil)
	_ model.Context = (*ContextARM64)(nil)
	_ model.Context = (*ContextARM)(nil)
)

// Context decodes the CPU context stored at loc (a thread's or the
// exception's ThreadContext).
func (f *File) Context(size, rva uint32) (model.Context, error) {
	if size == 0 {
		return nil, &FormatError{Off: int64(rva), What: "empty thread context"}
	}
	b, err := f.read(int64(rva), int64(size))
	if err != nil {
		return nil, err
	}
	return f.decodeContext(b, int64(rva))
}

func (f *File) decodeContext(b []byte, off int64) (model.Context, error) {
	if f.order != binary.LittleEndian {
		return nil, ErrUnsupportedContext
	}
	le := binary.LittleEndian
	u32 := func(at int) uint32 {
		if len(b) < at+4 {
			return 0
		}
		return le.Uint32(b[at:])
	}
	var kind model.Arch
	flags := u32(0)
	switch {
	case len(b) >= contextAMD64Size && u32(0x30)&0x00ff0000 == ContextFlagAMD64:
		kind = model.AMD64
	case len(b) >= 0xcc && flags&0x00ff0000 == ContextFlagX86:
		kind = model.X86
	case len(b) >= contextARM64Size && flags&0x00ff0000 == ContextFlagARM64:
		kind = model.ARM64
	case len(b) >= contextARMWinSize && flags&0x00ff0000 == ContextFlagARMWindows:
		kind = model.ARM
	case len(b) >= contextARMSize && flags&0xc0ff0000 == ContextFlagARM:
		kind = model.ARM
	case len(b) >= contextARM64OldLen && flags&0xc0ff0000 == ContextFlagARM64Old:
		kind = model.ARM64
	default:
		// Fall back to the system's architecture and the size.
		if si, err := f.SystemInfo(); err == nil {
			kind = archName(si.ProcessorArchitecture)
		}
	}
	switch kind {
	case model.AMD64:
		if len(b) >= contextAMD64Size {
			return f.contextAMD64(b, off)
		}
	case model.X86:
		if len(b) >= 0xcc {
			return f.contextX86(b, off)
		}
	case model.ARM64:
		if len(b) >= contextARM64Size {
			return contextARM64(b, off)
		}
		if len(b) >= contextARM64OldLen {
			return contextARM64Old(b, off)
		}
	case model.ARM:
		if len(b) >= contextARMWinSize && flags&0x00ff0000 == ContextFlagARMWindows {
			return contextARMWin(b, off)
		}
		if len(b) >= contextARMSize {
			return contextARMBreakpad(b, off)
		}
	case "":
		return nil, &FormatError{Off: off, What: fmt.Sprintf("context of %d bytes with flags %#x matches no known layout", len(b), flags)}
	default:
		return nil, ErrUnsupportedContext
	}
	return nil, &FormatError{Off: off, What: fmt.Sprintf("%s context of %d bytes is too short", kind, len(b))}
}

func (f *File) contextAMD64(b []byte, off int64) (*ContextAMD64, error) {
	c := bin.New(b, off, binary.LittleEndian)
	x := &ContextAMD64{}
	c.Skip(0x30)
	x.ContextFlags, x.MxCsr = c.U32(), c.U32()
	x.SegCs, x.SegDs, x.SegEs, x.SegFs, x.SegGs, x.SegSs = c.U16(), c.U16(), c.U16(), c.U16(), c.U16(), c.U16()
	x.EFlags = c.U32()
	x.Dr0, x.Dr1, x.Dr2, x.Dr3, x.Dr6, x.Dr7 = c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64()
	x.Rax, x.Rcx, x.Rdx, x.Rbx, x.Rsp, x.Rbp, x.Rsi, x.Rdi = c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64()
	x.R8, x.R9, x.R10, x.R11, x.R12, x.R13, x.R14, x.R15 = c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64(), c.U64()
	x.Rip = c.U64()
	flt := c.Bytes(512) // XMM_SAVE_AREA32; XmmRegisters at +160
	if flt != nil {
		for i := range x.Xmm {
			copy(x.Xmm[i][:], flt[160+16*i:])
		}
	}
	c.Skip(26*16 + 8) // VectorRegister[26], VectorControl
	x.DebugControl, x.LastBranchToRip, x.LastBranchFromRip = c.U64(), c.U64(), c.U64()
	x.LastExceptionToRip, x.LastExceptionFromRip = c.U64(), c.U64()
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "CONTEXT_AMD64 too short", Err: c.Err()}
	}
	if x.ContextFlags&(ContextFlagAMD64|contextXStateBit) == ContextFlagAMD64|contextXStateBit && len(b) > contextAMD64Size {
		x.XState = f.xstate(b, contextAMD64Size, off, 16)
	}
	return x, nil
}

func (f *File) contextX86(b []byte, off int64) (*ContextX86, error) {
	c := bin.New(b, off, binary.LittleEndian)
	x := &ContextX86{ContextFlags: c.U32()}
	x.Dr0, x.Dr1, x.Dr2, x.Dr3, x.Dr6, x.Dr7 = c.U32(), c.U32(), c.U32(), c.U32(), c.U32(), c.U32()
	copy(x.FloatSave[:], c.Bytes(112))
	x.Gs, x.Fs, x.Es, x.Ds = c.U32(), c.U32(), c.U32(), c.U32()
	x.Edi, x.Esi, x.Ebx, x.Edx, x.Ecx, x.Eax = c.U32(), c.U32(), c.U32(), c.U32(), c.U32(), c.U32()
	x.Ebp, x.Eip, x.Cs, x.EFlags, x.Esp, x.Ss = c.U32(), c.U32(), c.U32(), c.U32(), c.U32(), c.U32()
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "CONTEXT_X86 too short", Err: c.Err()}
	}
	if c.Len() >= 512 { // contexts without CONTEXT_EXTENDED_REGISTERS end at 0xcc
		copy(x.ExtendedRegisters[:], c.Bytes(512))
	}
	if x.ContextFlags&(ContextFlagX86|contextXStateBit) == ContextFlagX86|contextXStateBit && len(b) > contextX86Size {
		x.XState = f.xstate(b, contextX86Size, off, 8)
	}
	return x, nil
}

// xstateSizes are the sizes of XSAVE components by feature bit (Intel SDM
// table 13-1), used to lay out a compacted area when MiscInfo does not list a
// feature.
var xstateSizes = map[int]uint32{2: 256, 3: 64, 4: 64, 5: 64, 6: 512, 7: 1024, 8: 128, 9: 8, 10: 0, 11: 16, 12: 24, 13: 8, 14: 16, 15: 808, 16: 16, 17: 64, 18: 8192}

// xstate decodes the CONTEXT_EX that follows a CONTEXT of base bytes and the
// XSAVE header and components it points to. Damage yields a diagnostic and
// whatever could be read.
func (f *File) xstate(b []byte, base int, off int64, nymm int) *XState {
	le := binary.LittleEndian
	if len(b) < base+contextExSize {
		f.diag(model.Warning, off+int64(base), "CONTEXT_XSTATE set but no CONTEXT_EX follows the context")
		return nil
	}
	// CONTEXT_EX: All, Legacy, XState; each {LONG Offset; DWORD Length},
	// offsets relative to the CONTEXT_EX itself.
	xoff := int64(base) + int64(int32(le.Uint32(b[base+16:])))
	xlen := int64(le.Uint32(b[base+20:]))
	if xoff < 0 || xlen < xsaveHeaderSize || xoff+xlen > int64(len(b)) {
		f.diag(model.Warning, off+int64(base), fmt.Sprintf("CONTEXT_EX XState chunk at %d (%d bytes) lies outside the %d-byte context", xoff, xlen, len(b)))
		return nil
	}
	area := b[xoff : xoff+xlen]
	xs := &XState{Mask: le.Uint64(area), CompactionMask: le.Uint64(area[8:])}
	feats := f.xstateFeatures()
	// locate returns the component's position within area (which starts at
	// the XSAVE header, i.e. XSAVE offset 512).
	locate := func(bit int) (int, uint32, bool) {
		size := xstateSizes[bit]
		if ft, ok := feats[bit]; ok && ft.Size != 0 {
			size = ft.Size
		}
		if xs.CompactionMask&(1<<63) != 0 {
			if xs.CompactionMask&(1<<bit) == 0 {
				return 0, 0, false
			}
			pos := uint32(xsaveLegacySize + xsaveHeaderSize)
			for i := 2; i < bit; i++ {
				if xs.CompactionMask&(1<<i) != 0 {
					s := xstateSizes[i]
					if ft, ok := feats[i]; ok && ft.Size != 0 {
						s = ft.Size
					}
					pos += s
				}
			}
			return int(pos) - xsaveLegacySize, size, true
		}
		ft, ok := feats[bit]
		if !ok {
			if bit != XStateAVX {
				return 0, 0, false
			}
			ft = xstateFeature{Offset: 576, Size: 256}
		}
		return int(ft.Offset) - xsaveLegacySize, size, ft.Offset >= xsaveLegacySize
	}
	if pos, size, ok := locate(XStateAVX); ok && size >= uint32(16*nymm) && pos+16*nymm <= len(area) {
		xs.HasAVX = true
		if xs.Mask&(1<<XStateAVX) != 0 { // else in its initial state: zero
			for i := range nymm {
				copy(xs.YMMHigh[i][:], area[pos+16*i:])
			}
		}
	}
	if pos, size, ok := locate(XStateCETU); ok && size >= 16 && pos+16 <= len(area) {
		xs.HasCET = true
		if xs.Mask&(1<<XStateCETU) != 0 {
			xs.UCET, xs.SSP = le.Uint64(area[pos:]), le.Uint64(area[pos+8:])
		}
	}
	return xs
}

type xstateFeature struct{ Offset, Size uint32 }

// xstateFeatures returns MINIDUMP_MISC_INFO_5's XStateData feature table,
// or nil.
func (f *File) xstateFeatures() map[int]xstateFeature {
	m, err := f.MiscInfo()
	if err != nil || m.XState == nil {
		return nil
	}
	out := map[int]xstateFeature{}
	for i, ft := range m.XState.Features {
		if m.XState.EnabledFeatures&(1<<i) != 0 {
			out[i] = xstateFeature{ft.Offset, ft.Size}
		}
	}
	return out
}

func contextARM64(b []byte, off int64) (*ContextARM64, error) {
	c := bin.New(b, off, binary.LittleEndian)
	x := &ContextARM64{ContextFlags: uint64(c.U32()), Cpsr: c.U32()}
	for i := range x.X {
		x.X[i] = c.U64()
	}
	x.Sp, x.Pc = c.U64(), c.U64()
	for i := range x.V {
		copy(x.V[i][:], c.Bytes(16))
	}
	x.Fpcr, x.Fpsr = c.U32(), c.U32()
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "CONTEXT_ARM64 too short", Err: c.Err()}
	}
	return x, nil
}

// contextARM64Old decodes MDRawContextARM64_Old: a 64-bit flags word,
// iregs[33] (x0..x28, fp, lr, sp, pc), cpsr, then fpsr, fpcr and 32 vector
// registers, packed.
func contextARM64Old(b []byte, off int64) (*ContextARM64, error) {
	c := bin.New(b, off, binary.LittleEndian)
	x := &ContextARM64{ContextFlags: c.U64(), Old: true}
	for i := range x.X {
		x.X[i] = c.U64()
	}
	x.Sp, x.Pc = c.U64(), c.U64()
	x.Cpsr = c.U32()
	x.Fpsr, x.Fpcr = c.U32(), c.U32()
	for i := range x.V {
		copy(x.V[i][:], c.Bytes(16))
	}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "MDRawContextARM64_Old too short", Err: c.Err()}
	}
	return x, nil
}

// contextARMBreakpad decodes MDRawContextARM: flags, iregs[16], cpsr, then
// fpscr and 32 double registers.
func contextARMBreakpad(b []byte, off int64) (*ContextARM, error) {
	c := bin.New(b, off, binary.LittleEndian)
	x := &ContextARM{ContextFlags: c.U32()}
	for i := range x.R {
		x.R[i] = c.U32()
	}
	x.Sp, x.Lr, x.Pc, x.Cpsr = c.U32(), c.U32(), c.U32(), c.U32()
	x.Fpscr = c.U64()
	for i := range x.D {
		x.D[i] = c.U64()
	}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "MDRawContextARM too short", Err: c.Err()}
	}
	return x, nil
}

// contextARMWin decodes the Windows ARM CONTEXT: flags, r0..r12, sp, lr,
// pc, cpsr, fpscr, padding, then D[32].
func contextARMWin(b []byte, off int64) (*ContextARM, error) {
	c := bin.New(b, off, binary.LittleEndian)
	x := &ContextARM{ContextFlags: c.U32(), Windows: true}
	for i := range x.R {
		x.R[i] = c.U32()
	}
	x.Sp, x.Lr, x.Pc, x.Cpsr = c.U32(), c.U32(), c.U32(), c.U32()
	x.Fpscr = uint64(c.U32())
	c.U32()
	for i := range x.D {
		x.D[i] = c.U64()
	}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "CONTEXT_ARM too short", Err: c.Err()}
	}
	return x, nil
}

func r64(name string, v uint64) model.Reg { return model.Reg{Name: name, Value: v, Size: 8} }
func r32(name string, v uint32) model.Reg { return model.Reg{Name: name, Value: uint64(v), Size: 4} }
func r16(name string, v uint16) model.Reg { return model.Reg{Name: name, Value: uint64(v), Size: 2} }

func lookup(regs []model.Reg, name string) (uint64, bool) {
	for _, r := range regs {
		if r.Name == name {
			return r.Value, true
		}
	}
	return 0, false
}

// Arch returns model.AMD64.
func (x *ContextAMD64) Arch() model.Arch { return model.AMD64 }

// PC returns rip.
func (x *ContextAMD64) PC() uint64 { return x.Rip }

// SP returns rsp.
func (x *ContextAMD64) SP() uint64 { return x.Rsp }

// FP returns rbp.
func (x *ContextAMD64) FP() uint64 { return x.Rbp }

// Regs returns rax..r15, rip, eflags and the segment registers, as WinDbg's
// r command lists them, then ssp when the context carries CET state.
func (x *ContextAMD64) Regs() []model.Reg {
	rs := []model.Reg{
		r64("rax", x.Rax), r64("rbx", x.Rbx), r64("rcx", x.Rcx), r64("rdx", x.Rdx),
		r64("rsi", x.Rsi), r64("rdi", x.Rdi), r64("rbp", x.Rbp), r64("rsp", x.Rsp),
		r64("r8", x.R8), r64("r9", x.R9), r64("r10", x.R10), r64("r11", x.R11),
		r64("r12", x.R12), r64("r13", x.R13), r64("r14", x.R14), r64("r15", x.R15),
		r64("rip", x.Rip), r32("eflags", x.EFlags),
		r16("cs", x.SegCs), r16("ds", x.SegDs), r16("es", x.SegEs), r16("fs", x.SegFs), r16("gs", x.SegGs), r16("ss", x.SegSs),
		r32("mxcsr", x.MxCsr),
	}
	if x.XState != nil && x.XState.HasCET {
		rs = append(rs, r64("ssp", x.XState.SSP))
	}
	return rs
}

// Reg returns one register by name ("rflags" is accepted for eflags).
func (x *ContextAMD64) Reg(name string) (uint64, bool) {
	if name == "rflags" {
		name = "eflags"
	}
	return lookup(x.Regs(), name)
}

// Arch returns model.X86.
func (x *ContextX86) Arch() model.Arch { return model.X86 }

// PC returns eip.
func (x *ContextX86) PC() uint64 { return uint64(x.Eip) }

// SP returns esp.
func (x *ContextX86) SP() uint64 { return uint64(x.Esp) }

// FP returns ebp.
func (x *ContextX86) FP() uint64 { return uint64(x.Ebp) }

// Regs returns the registers in WinDbg's order: eax..edi, eip, esp, ebp,
// efl, then the segment registers, then ssp with CET state.
func (x *ContextX86) Regs() []model.Reg {
	rs := []model.Reg{
		r32("eax", x.Eax), r32("ebx", x.Ebx), r32("ecx", x.Ecx), r32("edx", x.Edx),
		r32("esi", x.Esi), r32("edi", x.Edi), r32("eip", x.Eip), r32("esp", x.Esp),
		r32("ebp", x.Ebp), r32("efl", x.EFlags),
		r32("cs", x.Cs), r32("ss", x.Ss), r32("ds", x.Ds), r32("es", x.Es), r32("fs", x.Fs), r32("gs", x.Gs),
	}
	if x.XState != nil && x.XState.HasCET {
		rs = append(rs, r64("ssp", x.XState.SSP))
	}
	return rs
}

// Reg returns one register by name ("eflags" is accepted for efl).
func (x *ContextX86) Reg(name string) (uint64, bool) {
	if name == "eflags" {
		name = "efl"
	}
	return lookup(x.Regs(), name)
}

// Arch returns model.ARM64.
func (x *ContextARM64) Arch() model.Arch { return model.ARM64 }

// PC returns pc.
func (x *ContextARM64) PC() uint64 { return x.Pc }

// SP returns sp.
func (x *ContextARM64) SP() uint64 { return x.Sp }

// FP returns fp (x29).
func (x *ContextARM64) FP() uint64 { return x.X[29] }

// Regs returns x0..x28, fp, lr, sp, pc and cpsr.
func (x *ContextARM64) Regs() []model.Reg {
	rs := make([]model.Reg, 0, 34)
	for i := range 29 {
		rs = append(rs, r64(fmt.Sprintf("x%d", i), x.X[i]))
	}
	return append(rs, r64("fp", x.X[29]), r64("lr", x.X[30]), r64("sp", x.Sp), r64("pc", x.Pc), r32("cpsr", x.Cpsr))
}

// Reg returns one register by name; x29 and x30 are accepted for fp and lr.
func (x *ContextARM64) Reg(name string) (uint64, bool) {
	switch name {
	case "x29":
		name = "fp"
	case "x30":
		name = "lr"
	}
	return lookup(x.Regs(), name)
}

// Arch returns model.ARM.
func (x *ContextARM) Arch() model.Arch { return model.ARM }

// PC returns pc.
func (x *ContextARM) PC() uint64 { return uint64(x.Pc) }

// SP returns sp.
func (x *ContextARM) SP() uint64 { return uint64(x.Sp) }

// FP returns r7 in Thumb state (CPSR.T) and r11 otherwise, the frame
// pointers of the two instruction sets' ABIs.
func (x *ContextARM) FP() uint64 {
	if x.Cpsr&0x20 != 0 {
		return uint64(x.R[7])
	}
	return uint64(x.R[11])
}

// Regs returns r0..r12, sp, lr, pc and cpsr.
func (x *ContextARM) Regs() []model.Reg {
	rs := make([]model.Reg, 0, 17)
	for i := range x.R {
		rs = append(rs, r32(fmt.Sprintf("r%d", i), x.R[i]))
	}
	return append(rs, r32("sp", x.Sp), r32("lr", x.Lr), r32("pc", x.Pc), r32("cpsr", x.Cpsr))
}

// Reg returns one register by name; r13..r15 are accepted for sp, lr, pc.
func (x *ContextARM) Reg(name string) (uint64, bool) {
	switch name {
	case "r13":
		name = "sp"
	case "r14":
		name = "lr"
	case "r15":
		name = "pc"
	}
	return lookup(x.Regs(), name)
}
