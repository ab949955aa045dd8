package vmcore

import (
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/elfx"
)

// CPUState is one CPU's registers as the crashing kernel saved them in an
// NT_PRSTATUS note (crash_save_cpu): the pid of the task it was running
// and, on x86-64, its general registers.
type CPUState struct {
	PID  uint32
	Regs map[string]uint64 // "rip", "rsp", "rbp", ... (x86-64 only)
}

// x86-64's elf_prstatus: pr_pid at 32, pr_reg (struct user_regs_struct,
// 27 longs) at 112.
const (
	prstatusPID64  = 32
	prstatusRegs64 = 112
)

var x8664Regs = [...]string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
	"rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs"}

// CPUStates returns the per-CPU NT_PRSTATUS notes in note order (one per
// CPU that was online). Registers are decoded for x86-64 dumps; for other
// architectures only the pid is.
func (f *File) CPUStates() []CPUState {
	var notes []elfx.Note
	order := binary.ByteOrder(binary.LittleEndian)
	x86 := false
	switch {
	case f.kd != nil:
		notes, order = f.kd.noteList, f.kd.order
		x86 = f.kd.mach.word == 8 && f.info.Arch == "amd64"
	case f.elf != nil:
		notes = f.elf.notes
		x86 = f.info.Arch == "amd64"
		if f.elf.hdr.Order != nil {
			order = f.elf.hdr.Order
		}
	}
	var out []CPUState
	for _, n := range notes {
		if n.Type != NT_PRSTATUS || n.Name != noteNameCore || len(n.Desc) < prstatusPID64+4 {
			continue
		}
		st := CPUState{PID: order.Uint32(n.Desc[prstatusPID64:])}
		if x86 && len(n.Desc) >= prstatusRegs64+len(x8664Regs)*8 {
			st.Regs = make(map[string]uint64, len(x8664Regs))
			for i, name := range x8664Regs {
				st.Regs[name] = order.Uint64(n.Desc[prstatusRegs64+8*i:])
			}
		}
		out = append(out, st)
	}
	return out
}
