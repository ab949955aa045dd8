package kdmp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/model"
)

// ErrBadContext is wrapped by the errors DecodeContext returns for bytes
// that are not a usable CONTEXT: too short, never written ("PAGE" filler),
// or of a machine this package does not decode.
var ErrBadContext = errors.New("not a usable CONTEXT record")

// CPUContext is a register context decoded from a Windows CONTEXT record
// (winnt.h): the x64 CONTEXT, ARM64_NT_CONTEXT or the x86 CONTEXT. It
// implements model.Context with the register names, order and sizes of
// package minidump's decoders (WinDbg's r order), plus fpcr and fpsr on
// ARM64, so that a kernel dump's registers print like a minidump's.
//
// Format packages must not import each other (core/imports_test.go), so
// this is a second, table-driven decoder of the same layouts rather than a
// call into package minidump; TestContextAgreesWithMinidump decodes the
// same bytes with both and compares every register.
type CPUContext struct {
	Flags      uint32 // ContextFlags as stored
	arch       model.Arch
	regs       []model.Reg
	pc, sp, fp int // indices into regs
	aliases    map[string]string
}

var _ model.Context = (*CPUContext)(nil)

// ctxField is one register of a CONTEXT layout: its name, byte offset and
// size.
type ctxField struct {
	name string
	off  int
	size int
}

// value reads the field from a little-endian record.
func (fd ctxField) value(b []byte) uint64 {
	le := binary.LittleEndian
	switch fd.size {
	case 8:
		return le.Uint64(b[fd.off:])
	case 4:
		return uint64(le.Uint32(b[fd.off:]))
	case 2:
		return uint64(le.Uint16(b[fd.off:]))
	}
	return 0
}

// The layouts, in display order. Offsets are winnt.h's.
var (
	amd64Fields = []ctxField{
		{"rax", 0x78, 8}, {"rbx", 0x90, 8}, {"rcx", 0x80, 8}, {"rdx", 0x88, 8},
		{"rsi", 0xA8, 8}, {"rdi", 0xB0, 8}, {"rbp", 0xA0, 8}, {"rsp", 0x98, 8},
		{"r8", 0xB8, 8}, {"r9", 0xC0, 8}, {"r10", 0xC8, 8}, {"r11", 0xD0, 8},
		{"r12", 0xD8, 8}, {"r13", 0xE0, 8}, {"r14", 0xE8, 8}, {"r15", 0xF0, 8},
		{"rip", 0xF8, 8}, {"eflags", 0x44, 4},
		{"cs", 0x38, 2}, {"ds", 0x3A, 2}, {"es", 0x3C, 2}, {"fs", 0x3E, 2}, {"gs", 0x40, 2}, {"ss", 0x42, 2},
		{"mxcsr", 0x34, 4},
	}
	x86Fields = []ctxField{
		{"eax", 0xB0, 4}, {"ebx", 0xA4, 4}, {"ecx", 0xAC, 4}, {"edx", 0xA8, 4},
		{"esi", 0xA0, 4}, {"edi", 0x9C, 4}, {"eip", 0xB8, 4}, {"esp", 0xC4, 4},
		{"ebp", 0xB4, 4}, {"efl", 0xC0, 4},
		{"cs", 0xBC, 4}, {"ss", 0xC8, 4}, {"ds", 0x98, 4}, {"es", 0x94, 4}, {"fs", 0x90, 4}, {"gs", 0x8C, 4},
	}
	arm64Fields = func() []ctxField {
		fs := make([]ctxField, 0, 36)
		for i := range 29 {
			fs = append(fs, ctxField{fmt.Sprintf("x%d", i), 8 + 8*i, 8})
		}
		return append(fs, ctxField{"fp", 0xF0, 8}, ctxField{"lr", 0xF8, 8}, ctxField{"sp", 0x100, 8}, ctxField{"pc", 0x108, 8},
			ctxField{"cpsr", 0x04, 4}, ctxField{"fpcr", 0x310, 4}, ctxField{"fpsr", 0x314, 4})
	}()
)

// contextLayout returns the CONTEXT size, the bytes needed to decode it,
// its architecture bit and its fields for a MachineImageType.
func contextLayout(machine uint32) (size, need int, flag uint32, fields []ctxField, arch model.Arch, ok bool) {
	switch machine {
	case IMAGE_FILE_MACHINE_AMD64:
		return contextAMD64Size, contextAMD64Min, contextFlagAMD64, amd64Fields, model.AMD64, true
	case IMAGE_FILE_MACHINE_ARM64:
		return contextARM64Size, contextARM64Min, contextFlagARM64, arm64Fields, model.ARM64, true
	case IMAGE_FILE_MACHINE_I386:
		return contextX86Size, contextX86Min, contextFlagX86, x86Fields, model.X86, true
	}
	return 0, 0, 0, nil, "", false
}

// ContextSize returns sizeof(CONTEXT) for a MachineImageType, or 0 for a
// machine DecodeContext does not handle.
func ContextSize(machine uint32) int {
	size, _, _, _, _, _ := contextLayout(machine)
	return size
}

// DecodeContext decodes a CONTEXT record of the given MachineImageType
// (IMAGE_FILE_MACHINE_AMD64, _ARM64 or _I386). It needs the bytes up to
// the last register it reads (0x100 for x64, 0x318 for ARM64, 0xCC for
// x86), not the whole structure. ContextFlags without the machine's
// CONTEXT_AMD64/ARM64/i386 bit still decode: writers do not always set it,
// and the caller decides (Flags is kept). A ContextFlags of "PAGE" means
// the record was never written and is an error.
func DecodeContext(machine uint32, b []byte) (*CPUContext, error) {
	_, need, _, fields, arch, ok := contextLayout(machine)
	if !ok {
		return nil, fmt.Errorf("%w: no CONTEXT layout for MachineImageType %#x", ErrBadContext, machine)
	}
	if len(b) < need {
		return nil, fmt.Errorf("%w: a %s CONTEXT needs %#x bytes, have %#x", ErrBadContext, arch, need, len(b))
	}
	le := binary.LittleEndian
	flagsAt := 0
	if machine == IMAGE_FILE_MACHINE_AMD64 {
		flagsAt = 0x30 // after P1Home..P6Home
	}
	c := &CPUContext{Flags: le.Uint32(b[flagsAt:]), arch: arch, regs: make([]model.Reg, len(fields)), fp: -1}
	if c.Flags == DUMP_SIGNATURE32 {
		return nil, fmt.Errorf("%w: ContextFlags is \"PAGE\": the record was never written", ErrBadContext)
	}
	for i, fd := range fields {
		c.regs[i] = model.Reg{Name: fd.name, Value: fd.value(b), Size: fd.size}
	}
	idx := func(name string) int {
		for i, r := range c.regs {
			if r.Name == name {
				return i
			}
		}
		return -1
	}
	switch arch {
	case model.AMD64:
		c.pc, c.sp, c.fp = idx("rip"), idx("rsp"), idx("rbp")
		c.aliases = map[string]string{"rflags": "eflags", "efl": "eflags"}
	case model.X86:
		c.pc, c.sp, c.fp = idx("eip"), idx("esp"), idx("ebp")
		c.aliases = map[string]string{"eflags": "efl"}
	case model.ARM64:
		c.pc, c.sp, c.fp = idx("pc"), idx("sp"), idx("fp")
		c.aliases = map[string]string{"x29": "fp", "x30": "lr"}
	}
	return c, nil
}

// hasArchFlag reports whether ContextFlags carries the machine's
// architecture bit, as a context the kernel captured does.
func (c *CPUContext) hasArchFlag(machine uint32) bool {
	_, _, flag, _, _, _ := contextLayout(machine)
	return c.Flags&flag != 0
}

// Arch returns the context's architecture.
func (c *CPUContext) Arch() model.Arch { return c.arch }

// PC returns rip, eip or pc.
func (c *CPUContext) PC() uint64 { return c.regs[c.pc].Value }

// SP returns rsp, esp or sp.
func (c *CPUContext) SP() uint64 { return c.regs[c.sp].Value }

// FP returns rbp, ebp or fp (x29).
func (c *CPUContext) FP() uint64 {
	if c.fp < 0 {
		return 0
	}
	return c.regs[c.fp].Value
}

// Regs returns the registers in display order: rax..r15, rip, eflags, the
// segment registers and mxcsr on x64; eax..edi, eip, esp, ebp, efl and the
// segment registers on x86; x0..x28, fp, lr, sp, pc, cpsr, fpcr and fpsr on
// ARM64.
func (c *CPUContext) Regs() []model.Reg { return append([]model.Reg(nil), c.regs...) }

// Reg returns one register by lowercase name; rflags (x64), eflags (x86),
// x29 and x30 (ARM64) are accepted as aliases.
func (c *CPUContext) Reg(name string) (uint64, bool) {
	if a, ok := c.aliases[name]; ok {
		name = a
	}
	for _, r := range c.regs {
		if r.Name == name {
			return r.Value, true
		}
	}
	return 0, false
}
