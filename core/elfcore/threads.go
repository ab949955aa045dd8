package elfcore

import (
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/model"
)

// ErrUnsupportedContext is returned by ExceptionContext when the core's
// architecture (or OS) has a pr_reg layout the package does not decode.
var ErrUnsupportedContext = errors.New("elfcore: unsupported register layout")

// Context is a thread's general registers decoded from NT_PRSTATUS's pr_reg
// (Linux elf_gregset_t, FreeBSD struct reg). regs_linuxabi.go and
// regs_freebsdabi.go list the layouts and the headers they come from.
//
// Regs lists the registers in gdb's "info registers" order and under gdb's
// names (eflags, cpsr, pswm, s8, ...), followed by the fields gdb does not
// print (orig_rax, orig_r0, dar, ...), then the registers of the thread's
// other notes in gdb's "info all-registers" order (fpregs.go): x87, SSE,
// AVX and AVX-512 state on x86, FPSIMD, SVE, PAC masks and TLS on arm64.
// Registers wider than 64 bits (st0, xmm0, ymm0, v0, z0) carry their
// bytes in Wide.
type Context struct {
	arch       model.Arch
	regs       []model.Reg
	pc, sp, fp int    // indices into regs; fp is -1 when the ABI has none
	pcMask     uint64 // address bits of the pc register; 0 keeps all
	aliases    map[string]string
	pac        uint64 // NT_ARM_PAC_MASK's insn_mask
	hasPAC     bool
}

var _ model.Context = (*Context)(nil)

// Arch returns the architecture.
func (c *Context) Arch() model.Arch { return c.arch }

// PC returns the program counter (rip, eip, pc, pswa, cp0_epc, ...). On
// 31-bit s390 it drops pswa's addressing-mode bit and on hppa pcoqh's
// privilege level, as gdb's pc does.
func (c *Context) PC() uint64 {
	v := c.regs[c.pc].Value
	if c.pcMask != 0 {
		v &= c.pcMask
	}
	return v
}

// SP returns the stack pointer (rsp, esp, sp, r1, r15, ...). On sparc64 it
// is %o6 as stored, 2047 below the real stack pointer (the V9 stack bias).
func (c *Context) SP() uint64 { return c.regs[c.sp].Value }

// FP returns the frame pointer of the ABI (rbp, ebp, x29, r11 or r7 in
// Thumb state, r31 on PowerPC, r11 on s390, s0, s8, r3 on hppa, ...), or 0.
func (c *Context) FP() uint64 {
	if c.fp < 0 {
		return 0
	}
	return c.regs[c.fp].Value
}

// Regs returns the registers in gdb's display order.
func (c *Context) Regs() []model.Reg { return append([]model.Reg(nil), c.regs...) }

// Reg returns one register by its lowercase name: gdb's name, an alias of
// the layout (rflags, pstate, x30, nip, r29, s0, ...) or gdb's
// architecture-neutral $pc, $sp and $fp, which return PC, SP and FP. For
// a register wider than 64 bits it returns the low 64 bits (the scalar
// lane of xmm0 or v0, st0's significand); Regs has all of them.
func (c *Context) Reg(name string) (uint64, bool) {
	if v, ok := c.lookup(name); ok {
		return v, true
	}
	if a, ok := c.aliases[name]; ok {
		return c.lookup(a)
	}
	switch name {
	case "pc":
		return c.PC(), true
	case "sp":
		return c.SP(), true
	case "fp":
		return c.FP(), c.fp >= 0
	}
	return 0, false
}

func (c *Context) lookup(name string) (uint64, bool) {
	for _, r := range c.regs {
		if r.Name == name {
			if len(r.Wide) > 0 {
				var low [8]byte
				copy(low[:], r.Wide)
				return lsb.Uint64(low[:]), true
			}
			return r.Value, true
		}
	}
	return 0, false
}

// PACMask returns the bits of a code address that hold its
// pointer-authentication code: NT_ARM_PAC_MASK's insn_mask, which gdb
// shows as pauth_cmask. ok is false when the core has no such note (no
// arm64 pointer authentication, or another architecture). A return
// address signed with PAC is stripped with ra &^ mask (for user space,
// whose addresses have the top bits clear).
func (c *Context) PACMask() (mask uint64, ok bool) { return c.pac, c.hasPAC }

// Threads returns one thread per NT_PRSTATUS note, in note order (the
// kernel writes the thread that took the signal first). ID is pr_pid (the
// LWP id). Context is decoded from pr_reg on the architectures
// regLayout knows (every one gdb reads, and m68k, alpha, sparc64 and
// loongarch from the kernel sources); it is nil elsewhere and when pr_reg
// is cut short. Cores carry no thread names, so Name is empty.
func (f *File) Threads() ([]model.Thread, error) {
	ws, order := f.Header.WordSize(), f.Header.Order
	freebsd := f.isFreeBSD()
	l, off, arch := f.regLayout(f.firstPRStatusLen())
	var out []model.Thread
	for i, n := range f.Notes {
		if n.Type != NT_PRSTATUS {
			continue
		}
		_, pid, ok := prstatus(n.Desc, ws, order, f.Header.Machine, freebsd)
		if !ok {
			continue // Info reports the short note
		}
		t := model.Thread{ID: pid}
		if c := decodeContext(l, arch, off, n.Desc, order); c != nil {
			f.addExtraRegs(c, f.notesAfter(i))
			t.Context = c
		}
		out = append(out, t)
	}
	return out, nil
}

// firstPRStatusLen returns the size of the first NT_PRSTATUS descriptor:
// every thread of a core has the same ABI, so the first note's size picks
// the layout for all of them.
func (f *File) firstPRStatusLen() int {
	for _, n := range f.Notes {
		if n.Type == NT_PRSTATUS {
			return len(n.Desc)
		}
	}
	return 0
}

// ExceptionContext returns the registers of the thread that took the
// signal: the first NT_PRSTATUS (its pr_cursig is the signal, and the
// kernel writes NT_SIGINFO for that thread). It returns an error wrapping
// model.ErrNotRecorded when the core has no NT_PRSTATUS, and
// ErrUnsupportedContext when its registers are not decoded.
func (f *File) ExceptionContext() (model.Context, error) {
	for i, n := range f.Notes {
		if n.Type != NT_PRSTATUS {
			continue
		}
		l, off, arch := f.regLayout(len(n.Desc))
		if l == nil {
			return nil, ErrUnsupportedContext
		}
		c := decodeContext(l, arch, off, n.Desc, f.Header.Order)
		if c == nil {
			return nil, &FormatError{Off: n.Off, What: fmt.Sprintf("NT_PRSTATUS of %d bytes is too short for %s registers", len(n.Desc), arch)}
		}
		f.addExtraRegs(c, f.notesAfter(i))
		return c, nil
	}
	return nil, fmt.Errorf("elfcore: no NT_PRSTATUS note: %w", model.ErrNotRecorded)
}
