package elfcore

import (
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// gregLayout describes one pr_reg layout (Linux elf_gregset_t, FreeBSD
// struct reg): its fields in storage order and how gdb shows them.
type gregLayout struct {
	word  int      // bytes per field
	slots []string // field names in storage order; "" for padding and unused fields
	// widths lists fields narrower than word (s390x access registers,
	// FreeBSD's 16- and 32-bit segment fields).
	widths map[string]int
	// display is gdb's "info registers" order followed by the fields gdb
	// does not print (orig_rax, dar, ...); nil means storage order.
	display []string
	sizes   map[string]int // display sizes differing from the storage width
	pc, sp  string
	fp      string // "" when the ABI has no frame pointer
	// thumbFP is ARM's Thumb-state frame pointer (r7), used when cpsr.T is
	// set, as ContextARM does for minidumps.
	thumbFP string
	// pcMask keeps the address bits of the pc register: s390's 31-bit
	// pswa carries the addressing-mode bit, hppa's pcoqh the privilege
	// level. Zero keeps every bit.
	pcMask  uint64
	aliases map[string]string // other spellings → display names
}

// size returns the bytes the named layout fields occupy: trailing
// unnamed fields (ELF_NGREG's spare slots) need not be present.
func (l *gregLayout) size() int {
	n, end := 0, 0
	for _, s := range l.slots {
		n += l.width(s)
		if s != "" {
			end = n
		}
	}
	return end
}

func (l *gregLayout) width(name string) int {
	if w, ok := l.widths[name]; ok && name != "" {
		return w
	}
	return l.word
}

// regLayout picks the pr_reg layout for a core: the layout, the offset of
// pr_reg in the NT_PRSTATUS descriptor and the context's architecture.
// descLen is the descriptor's size, which alone tells MIPS n32 from o32
// (the kernel writes both with e_flags 0). It returns nil for layouts the
// package does not know.
func (f *File) regLayout(descLen int) (*gregLayout, int, model.Arch) {
	h := f.Header
	arch, abi := elfx.Arch(h)
	is64 := h.Class == elfx.ELFCLASS64
	if f.isFreeBSD() {
		return freebsdLayout(h.Machine, is64)
	}
	off := prRegOff32
	if is64 {
		off = prRegOff64
	}
	switch h.Machine {
	case elfx.EM_X86_64:
		// x32 cores keep the 64-bit user_regs_struct behind the 32-bit
		// prstatus header (arch/x86/include/asm/compat.h).
		return layoutAMD64, off, arch
	case elfx.EM_386:
		if !is64 {
			return layoutX86, off, arch
		}
	case elfx.EM_AARCH64:
		if is64 {
			return layoutARM64, off, arch
		}
	case elfx.EM_ARM:
		if !is64 {
			return layoutARM, off, arch
		}
	case elfx.EM_PPC:
		if !is64 {
			return layoutPPC, off, arch
		}
	case elfx.EM_PPC64:
		if is64 {
			return layoutPPC64, off, arch
		}
	case elfx.EM_S390:
		if is64 {
			return layoutS390X, off, arch
		}
		return layoutS390, off, arch
	case elfx.EM_RISCV:
		if is64 {
			return layoutRISCV64, off, arch
		}
		return layoutRISCV32, off, arch
	case elfx.EM_MIPS:
		switch {
		case is64:
			return layoutMIPS64, off, arch
		case abi == "n32" || descLen >= off+layoutMIPSN32.size():
			return layoutMIPSN32, off, model.MIPS64
		}
		return layoutMIPS32, off, arch
	case elfx.EM_PARISC:
		if !is64 { // PA-RISC Linux has no 64-bit user space
			return layoutHPPA, off, arch
		}
	case elfx.EM_68K:
		if !is64 {
			return layoutM68K, prRegOffM68K, arch
		}
	case elfx.EM_ALPHA:
		if is64 {
			return layoutAlpha, off, arch
		}
	case elfx.EM_SPARCV9:
		if is64 {
			return layoutSPARC64, off, arch
		}
	case elfx.EM_LOONGARCH:
		if is64 {
			return layoutLoongArch, off, arch
		}
	}
	return nil, 0, ""
}

// decodeContext decodes pr_reg from an NT_PRSTATUS descriptor; nil when
// the layout is unknown or the descriptor too short.
func decodeContext(l *gregLayout, arch model.Arch, off int, d []byte, order binary.ByteOrder) *Context {
	if l == nil || off < 0 || len(d) < off+l.size() {
		return nil
	}
	vals := make(map[string]uint64, len(l.slots))
	stored := make(map[string]int, len(l.slots))
	p := off
	for _, name := range l.slots {
		w := l.width(name)
		if name != "" && p+w <= len(d) {
			var v uint64
			switch w {
			case 8:
				v = order.Uint64(d[p:])
			case 4:
				v = uint64(order.Uint32(d[p:]))
			case 2:
				v = uint64(order.Uint16(d[p:]))
			}
			vals[name], stored[name] = v, w
		}
		p += w
	}
	display := l.display
	if display == nil {
		display = l.slots
	}
	c := &Context{arch: arch, fp: -1, pcMask: l.pcMask, aliases: l.aliases}
	fp := l.fp
	if l.thumbFP != "" && vals["cpsr"]&0x20 != 0 {
		fp = l.thumbFP
	}
	for _, name := range display {
		w, ok := stored[name]
		if !ok {
			continue
		}
		size := w
		if s, ok := l.sizes[name]; ok {
			size = s
		}
		v := vals[name]
		if size < 8 {
			v &= 1<<(8*size) - 1
		}
		switch name {
		case l.pc:
			c.pc = len(c.regs)
		case l.sp:
			c.sp = len(c.regs)
		case fp:
			c.fp = len(c.regs)
		}
		c.regs = append(c.regs, model.Reg{Name: name, Value: v, Size: size})
	}
	return c
}
