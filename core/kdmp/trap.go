package kdmp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// KTRAP_FRAME (x64), as ntddk.h/wdm.h declare it (0x190 bytes, unchanged
// from Windows 7 to Windows 11). The kernel saves the volatile registers
// in every trap frame; Rbx, Rdi and Rsi only in system-service frames and
// R12-R15 never, so those are not decoded. See
// https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/-trap--display-trap-frame-
const (
	ktrapFrame64Size = 0x190

	ktrapPreviousMode = 0x28
	ktrapPreviousIrql = 0x29
	ktrapMxCsr        = 0x2c
	ktrapRax          = 0x30
	ktrapRcx          = 0x38
	ktrapRdx          = 0x40
	ktrapR8           = 0x48
	ktrapR9           = 0x50
	ktrapR10          = 0x58
	ktrapR11          = 0x60
	ktrapSegDs        = 0x130
	ktrapSegEs        = 0x132
	ktrapSegFs        = 0x134
	ktrapSegGs        = 0x136
	ktrapRbp          = 0x158
	ktrapErrorCode    = 0x160
	ktrapRip          = 0x168
	ktrapSegCs        = 0x170
	ktrapEFlags       = 0x178
	ktrapRsp          = 0x180
	ktrapSegSs        = 0x188
)

// ErrNoTrapLayout is wrapped by TrapFrameAt's error for machines whose
// KTRAP_FRAME it does not decode (everything but x64).
var ErrNoTrapLayout = errors.New("no KTRAP_FRAME layout for this machine")

// trapFields are the registers a KTRAP_FRAME holds, in display order.
var trapFields = []ctxField{
	{"rax", ktrapRax, 8}, {"rcx", ktrapRcx, 8}, {"rdx", ktrapRdx, 8},
	{"r8", ktrapR8, 8}, {"r9", ktrapR9, 8}, {"r10", ktrapR10, 8}, {"r11", ktrapR11, 8},
	{"rbp", ktrapRbp, 8}, {"rsp", ktrapRsp, 8}, {"rip", ktrapRip, 8}, {"eflags", ktrapEFlags, 4},
	{"cs", ktrapSegCs, 2}, {"ds", ktrapSegDs, 2}, {"es", ktrapSegEs, 2}, {"fs", ktrapSegFs, 2}, {"gs", ktrapSegGs, 2}, {"ss", ktrapSegSs, 2},
	{"mxcsr", ktrapMxCsr, 4},
}

// TrapFrameAt decodes the x64 KTRAP_FRAME at a kernel virtual address,
// read through the dump's memory (Memory), into a register context as
// WinDbg's .trap shows it: rax-r11, rbp, rsp, rip, eflags, the segment
// registers and mxcsr. The registers a trap frame does not save (rbx,
// rsi, rdi, r12-r15) are absent. A frame whose SegCs is not one of the
// x64 code selectors (0x10 kernel, 0x33 user, 0x23 WOW64) is refused
// with ErrBadContext, as is one whose Rip or Rsp is zero (the processor
// always pushes both), so that a stray address does not pass for a frame.
func (f *File) TrapFrameAt(addr uint64) (model.Context, error) {
	if f.hdr.machine != IMAGE_FILE_MACHINE_AMD64 {
		return nil, fmt.Errorf("kdmp: KTRAP_FRAME at %#x: MachineImageType %#x: %w", addr, f.hdr.machine, ErrNoTrapLayout)
	}
	space, err := f.Memory()
	if err != nil {
		return nil, err
	}
	b := make([]byte, ktrapFrame64Size)
	if err := mem.ReadFull(space, b, addr); err != nil {
		return nil, fmt.Errorf("kdmp: reading KTRAP_FRAME at %#x: %w", addr, err)
	}
	return DecodeTrapFrame(b)
}

// DecodeTrapFrame decodes an x64 KTRAP_FRAME (see TrapFrameAt).
func DecodeTrapFrame(b []byte) (*CPUContext, error) {
	if len(b) < ktrapFrame64Size {
		return nil, fmt.Errorf("%w: a KTRAP_FRAME needs %#x bytes, have %#x", ErrBadContext, ktrapFrame64Size, len(b))
	}
	le := binary.LittleEndian
	switch cs := le.Uint16(b[ktrapSegCs:]); cs {
	case 0x10, 0x33, 0x23:
	default:
		return nil, fmt.Errorf("%w: KTRAP_FRAME SegCs %#x is not an x64 code selector", ErrBadContext, cs)
	}
	if le.Uint64(b[ktrapRsp:]) == 0 || le.Uint64(b[ktrapRip:]) == 0 {
		return nil, fmt.Errorf("%w: KTRAP_FRAME Rip or Rsp is zero", ErrBadContext)
	}
	c := &CPUContext{arch: model.AMD64, regs: make([]model.Reg, len(trapFields)), fp: -1,
		aliases: map[string]string{"rflags": "eflags", "efl": "eflags"}}
	for i, fd := range trapFields {
		c.regs[i] = model.Reg{Name: fd.name, Value: fd.value(b), Size: fd.size}
		switch fd.name {
		case "rip":
			c.pc = i
		case "rsp":
			c.sp = i
		case "rbp":
			c.fp = i
		}
	}
	return c, nil
}
