package elfcore

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// ErrUnsupportedContext is returned by ExceptionContext when the core's
// architecture (or OS) has a pr_reg layout the package does not decode.
var ErrUnsupportedContext = errors.New("elfcore: unsupported register layout")

// Context is a thread's general registers decoded from NT_PRSTATUS's pr_reg
// (elf_gregset_t). Decoded layouts:
//
//   - x86-64: struct user_regs_struct, 27 longs: r15 r14 r13 r12 rbp rbx
//     r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss
//     fs_base gs_base ds es fs gs
//   - i386: 17 longs: ebx ecx edx esi edi ebp eax ds es fs gs orig_eax eip
//     cs eflags esp ss
//   - arm64: struct user_pt_regs: x0..x30, sp, pc, pstate
//
// Regs lists them in gdb's "info registers" order and under gdb's names
// (eflags, cpsr for pstate); orig_rax/orig_eax come last.
type Context struct {
	arch       model.Arch
	regs       []model.Reg
	pc, sp, fp int // indices into regs
}

var _ model.Context = (*Context)(nil)

// Arch returns the architecture.
func (c *Context) Arch() model.Arch { return c.arch }

// PC returns rip, eip or pc.
func (c *Context) PC() uint64 { return c.regs[c.pc].Value }

// SP returns rsp, esp or sp.
func (c *Context) SP() uint64 { return c.regs[c.sp].Value }

// FP returns rbp, ebp or x29.
func (c *Context) FP() uint64 { return c.regs[c.fp].Value }

// Regs returns the registers in gdb's display order.
func (c *Context) Regs() []model.Reg { return append([]model.Reg(nil), c.regs...) }

// Reg returns one register by its lowercase name. Aliases: rflags and efl
// for eflags, pstate for cpsr, fp for x29, lr for x30.
func (c *Context) Reg(name string) (uint64, bool) {
	switch name {
	case "rflags", "efl":
		name = "eflags"
	case "pstate":
		name = "cpsr"
	case "fp":
		if c.arch == model.ARM64 {
			name = "x29"
		}
	case "lr":
		if c.arch == model.ARM64 {
			name = "x30"
		}
	}
	for _, r := range c.regs {
		if r.Name == name {
			return r.Value, true
		}
	}
	return 0, false
}

// Register layouts: the names of elf_gregset_t's slots in storage order,
// then the display order (gdb's), with the PC, SP and FP names.
type gregLayout struct {
	arch       model.Arch
	word       int // bytes per slot
	slots      []string
	display    []string
	pc, sp, fp string
	sizes      map[string]int // display sizes differing from word
}

var (
	layoutAMD64 = &gregLayout{
		arch: model.AMD64, word: 8,
		slots: []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
			"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
			"fs_base", "gs_base", "ds", "es", "fs", "gs"},
		display: []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
			"cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "orig_rax"},
		pc: "rip", sp: "rsp", fp: "rbp",
		sizes: map[string]int{"eflags": 4, "cs": 4, "ss": 4, "ds": 4, "es": 4, "fs": 4, "gs": 4},
	}
	layoutX86 = &gregLayout{
		arch: model.X86, word: 4,
		slots: []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
			"orig_eax", "eip", "cs", "eflags", "esp", "ss"},
		display: []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
			"cs", "ss", "ds", "es", "fs", "gs", "orig_eax"},
		pc: "eip", sp: "esp", fp: "ebp",
	}
	layoutARM64 = func() *gregLayout {
		l := &gregLayout{arch: model.ARM64, word: 8, pc: "pc", sp: "sp", fp: "x29",
			sizes: map[string]int{"cpsr": 4}}
		for i := range 31 {
			l.slots = append(l.slots, fmt.Sprintf("x%d", i))
		}
		l.slots = append(l.slots, "sp", "pc", "cpsr")
		l.display = l.slots
		return l
	}()
)

// Offsets of pr_reg in the Linux struct elf_prstatus (include/linux/elfcore.h,
// struct elf_prstatus_common): pr_info (3 ints), pr_cursig (short), pr_sigpend
// and pr_sighold (unsigned long, aligned), pr_pid/ppid/pgrp/sid, then four
// struct __kernel_old_timeval (two longs each).
const (
	prRegOff64 = 112 // 12 + 2 + pad 2 + 8 + 8 (from 16) + 16 + 4*16
	prRegOff32 = 72  // 12 + 2 + pad 2 + 4 + 4 + 16 + 4*8
)

// regLayout returns the pr_reg layout and offset for the core, or nil.
func (f *File) regLayout() (*gregLayout, int) {
	if f.isFreeBSD() {
		return nil, 0
	}
	switch {
	case f.Header.Machine == elfx.EM_X86_64 && f.Header.Class == elfx.ELFCLASS64:
		return layoutAMD64, prRegOff64
	case f.Header.Machine == elfx.EM_386 && f.Header.Class == elfx.ELFCLASS32:
		return layoutX86, prRegOff32
	case f.Header.Machine == elfx.EM_AARCH64 && f.Header.Class == elfx.ELFCLASS64:
		return layoutARM64, prRegOff64
	}
	return nil, 0
}

// decodeContext decodes pr_reg from an NT_PRSTATUS descriptor; nil when
// the layout is unknown or the descriptor too short.
func decodeContext(l *gregLayout, off int, d []byte, order binary.ByteOrder) *Context {
	if l == nil || len(d) < off+len(l.slots)*l.word {
		return nil
	}
	vals := make(map[string]uint64, len(l.slots))
	for i, name := range l.slots {
		p := d[off+i*l.word:]
		if l.word == 8 {
			vals[name] = order.Uint64(p)
		} else {
			vals[name] = uint64(order.Uint32(p))
		}
	}
	c := &Context{arch: l.arch, regs: make([]model.Reg, len(l.display))}
	for i, name := range l.display {
		size := l.word
		if s, ok := l.sizes[name]; ok {
			size = s
		}
		v := vals[name]
		if size < 8 {
			v &= 1<<(8*size) - 1
		}
		c.regs[i] = model.Reg{Name: name, Value: v, Size: size}
		switch name {
		case l.pc:
			c.pc = i
		case l.sp:
			c.sp = i
		case l.fp:
			c.fp = i
		}
	}
	return c
}

// Threads returns one thread per NT_PRSTATUS note, in note order (the
// kernel writes the thread that took the signal first). ID is pr_pid (the
// LWP id). Context is decoded from pr_reg on Linux x86-64, i386 and arm64
// cores; it is nil on other architectures and on FreeBSD cores for now.
// Cores carry no thread names, so Name is empty.
func (f *File) Threads() ([]model.Thread, error) {
	ws, order := f.Header.WordSize(), f.Header.Order
	freebsd := f.isFreeBSD()
	l, off := f.regLayout()
	var out []model.Thread
	for _, n := range f.Notes {
		if n.Type != NT_PRSTATUS {
			continue
		}
		_, pid, ok := prstatus(n.Desc, ws, order, f.Header.Machine, freebsd)
		if !ok {
			continue // Info reports the short note
		}
		t := model.Thread{ID: pid}
		if c := decodeContext(l, off, n.Desc, order); c != nil {
			t.Context = c
		}
		out = append(out, t)
	}
	return out, nil
}

// ExceptionContext returns the registers of the thread that took the
// signal: the first NT_PRSTATUS (its pr_cursig is the signal, and the
// kernel writes NT_SIGINFO for that thread). It returns an error wrapping
// model.ErrNotRecorded when the core has no NT_PRSTATUS, and
// ErrUnsupportedContext when its registers are not decoded.
func (f *File) ExceptionContext() (model.Context, error) {
	for _, n := range f.Notes {
		if n.Type != NT_PRSTATUS {
			continue
		}
		l, off := f.regLayout()
		if l == nil {
			return nil, ErrUnsupportedContext
		}
		c := decodeContext(l, off, n.Desc, f.Header.Order)
		if c == nil {
			return nil, &FormatError{Off: n.Off, What: fmt.Sprintf("NT_PRSTATUS of %d bytes is too short for %s registers", len(n.Desc), l.arch)}
		}
		return c, nil
	}
	return nil, fmt.Errorf("elfcore: no NT_PRSTATUS note: %w", model.ErrNotRecorded)
}
