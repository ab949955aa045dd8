package minidumptest

import (
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// AMD64Regs holds the registers AMD64Context writes.
type AMD64Regs struct {
	Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	Rip                                    uint64
	EFlags                                 uint32
	SSP                                    uint64 // non-zero appends an XSTATE area with a CET_U component
}

// AMD64Context encodes a CONTEXT for x64 (winnt.h): P1Home..P6Home,
// ContextFlags at 0x30, segment registers, EFlags, debug registers, the
// general registers in the order Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi,
// R8..R15, Rip at 0xf8, then FltSave and the vector area up to 1232 bytes.
// With SSP set, CONTEXT_XSTATE is added and a CONTEXT_EX plus a compacted
// XSAVE area holding only CET_U follow.
func AMD64Context(r AMD64Regs) []byte {
	s := testasm.New(binary.LittleEndian)
	flags := uint32(0x0010001f)
	if r.SSP != 0 {
		flags |= 0x40
	}
	s.Repeat(0, 48).D32(flags).D32(0x1f80)
	s.D16(0x33).D16(0x2b).D16(0x2b).D16(0x53).D16(0x2b).D16(0x2b)
	s.D32(r.EFlags).Repeat(0, 48)
	for _, v := range []uint64{r.Rax, r.Rcx, r.Rdx, r.Rbx, r.Rsp, r.Rbp, r.Rsi, r.Rdi, r.R8, r.R9, r.R10, r.R11, r.R12, r.R13, r.R14, r.R15, r.Rip} {
		s.D64(v)
	}
	s.PadTo(1232)
	if r.SSP != 0 {
		// CONTEXT_EX {All, Legacy, XState} then padding; XState at +32
		// from the CONTEXT_EX holds the header and CET_U (16 bytes).
		s.D32(uint32(0xffffffff - 1232 + 1)).D32(1232 + 32 + 80).D32(uint32(0xffffffff - 1232 + 1)).D32(1232)
		s.D32(32).D32(80).Repeat(0, 8)
		s.D64(1<<11).D64(1<<63|1<<11).Repeat(0, 48)
		s.D64(1).D64(r.SSP)
	}
	return s.MustBytes()
}

// X86Regs holds the registers X86Context writes.
type X86Regs struct {
	Eax, Ebx, Ecx, Edx, Esi, Edi, Ebp, Esp, Eip, EFlags uint32
}

// X86Context encodes a 716-byte x86 CONTEXT: ContextFlags, Dr0..Dr7,
// FLOATING_SAVE_AREA (112), Gs Fs Es Ds, Edi Esi Ebx Edx Ecx Eax, Ebp Eip
// Cs EFlags Esp Ss, ExtendedRegisters[512].
func X86Context(r X86Regs) []byte {
	s := testasm.New(binary.LittleEndian)
	s.D32(0x0001003f).Repeat(0, 24).Repeat(0, 112)
	s.D32(0).D32(0x3b).D32(0x23).D32(0x23)
	s.D32(r.Edi).D32(r.Esi).D32(r.Ebx).D32(r.Edx).D32(r.Ecx).D32(r.Eax)
	s.D32(r.Ebp).D32(r.Eip).D32(0x1b).D32(r.EFlags).D32(r.Esp).D32(0x23)
	s.Repeat(0, 512)
	return s.MustBytes()
}

// ARM64Context encodes ARM64_NT_CONTEXT (912 bytes): ContextFlags, Cpsr,
// X0..X28, Fp, Lr, Sp, Pc, V[32], Fpcr, Fpsr, debug registers. x holds
// x0..x30.
func ARM64Context(x [31]uint64, sp, pc uint64, cpsr uint32) []byte {
	s := testasm.New(binary.LittleEndian)
	s.D32(0x00400007).D32(cpsr)
	for _, v := range x {
		s.D64(v)
	}
	s.D64(sp).D64(pc)
	s.PadTo(912)
	return s.MustBytes()
}
