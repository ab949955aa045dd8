package linux

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ORC is the x86-64 kernel's own unwind data (objtool writes it; the
// kernel's unwinder reads it for every stack trace it prints). It lives
// in kernel memory, so it needs no vmlinux: kallsyms gives the bounds of
// vmlinux's tables (__start_orc_unwind_ip, __start_orc_unwind), and each
// module's struct module points at its own (arch.orc_unwind_ip,
// arch.orc_unwind, arch.num_orcs; offsets from BTF).
//
// The tables, from arch/x86/include/asm/orc_types.h: an array of s32, each
// an instruction address relative to its own slot, sorted; and beside it an
// array of 6-byte struct orc_entry: s16 sp_offset, s16 bp_offset, then
// sp_reg:4 and bp_reg:4, then the type and flags, laid out three ways:
//   - version 1 (up to v6.1): type:2, end:1 (types call, regs, regs-partial);
//   - version 2 (v6.2 and v6.3): type:2, signal:1, end:1;
//   - version 3 (v6.4 on): type:3 (undefined, end of stack, call, regs,
//     regs-partial), signal:1.
//
// Written by hand: no Go library reads ORC.

// ORC entry kinds, normalised to version 3's numbering.
const (
	orcUndefined = iota
	orcEndOfStack
	orcCall
	orcRegs
	orcRegsPartial
)

// ORC base registers.
const (
	orcRegUndefined  = 0
	orcRegPrevSP     = 1
	orcRegDX         = 2
	orcRegDI         = 3
	orcRegBP         = 4
	orcRegSP         = 5
	orcRegR10        = 6
	orcRegR13        = 7
	orcRegBPIndirect = 8
	orcRegSPIndirect = 9
)

// maxORCEntries bounds a table read from a damaged dump (a kernel has
// about 400,000).
const maxORCEntries = 1 << 22

type orcEntry struct {
	spOff, bpOff int16
	spReg, bpReg uint8
	kind         uint8
	signal       bool
}

// orcTable is one ORC table: ips sorted, entries beside them.
type orcTable struct {
	ips     []uint64
	entries []byte // 6 bytes each
	version int
}

// find returns the entry covering ip: the last whose address is <= ip.
func (t *orcTable) find(ip uint64) (orcEntry, bool) {
	i := sort.Search(len(t.ips), func(i int) bool { return t.ips[i] > ip }) - 1
	if i < 0 {
		return orcEntry{}, false
	}
	return decodeORC(t.entries[6*i:], t.version), true
}

func decodeORC(b []byte, version int) orcEntry {
	e := orcEntry{spOff: int16(le.Uint16(b)), bpOff: int16(le.Uint16(b[2:]))}
	f := le.Uint16(b[4:])
	e.spReg, e.bpReg = uint8(f&0xf), uint8(f>>4&0xf)
	if version >= 3 {
		e.kind, e.signal = uint8(f>>8&7), f>>11&1 == 1
		return e
	}
	end := f>>10&1 == 1
	if version == 2 {
		e.signal, end = f>>10&1 == 1, f>>11&1 == 1
	}
	switch {
	case end:
		e.kind = orcEndOfStack
	case f>>8&3 == 0:
		e.kind = orcCall
	case f>>8&3 == 1:
		e.kind = orcRegs
	default:
		e.kind = orcRegsPartial
	}
	return e
}

// orcVersion is the entry layout of a kernel release ("6.1.0-13-amd64").
func orcVersion(release string) int {
	maj, rest, _ := strings.Cut(release, ".")
	min, _, _ := strings.Cut(rest, ".")
	min = strings.TrimRightFunc(min, func(r rune) bool { return r < '0' || r > '9' })
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	switch {
	case err1 != nil || err2 != nil:
		return 3
	case a > 6 || a == 6 && b >= 4:
		return 3
	case a == 6 && b >= 2:
		return 2
	}
	return 1
}

// readORC reads a table of n entries whose ip array is at ipAt and entry
// array at entAt.
func (k *Kernel) readORC(ipAt, entAt, n uint64, what string) (*orcTable, error) {
	if n == 0 || n > maxORCEntries {
		return nil, fmt.Errorf("linux: %s: %d ORC entries", what, n)
	}
	raw, err := k.readBytes(ipAt, 4*n, 4*maxORCEntries, what+" ORC ips")
	if err != nil {
		return nil, err
	}
	ents, err := k.readBytes(entAt, 6*n, 6*maxORCEntries, what+" ORC entries")
	if err != nil {
		return nil, err
	}
	t := &orcTable{ips: make([]uint64, n), entries: ents, version: orcVersion(k.release)}
	for i := range t.ips {
		t.ips[i] = ipAt + uint64(4*i) + uint64(int64(int32(le.Uint32(raw[4*i:]))))
	}
	if !sort.SliceIsSorted(t.ips, func(i, j int) bool { return t.ips[i] < t.ips[j] }) {
		return nil, fmt.Errorf("linux: %s: the ORC table is not sorted", what)
	}
	return t, nil
}

// orcTables holds vmlinux's table and the modules', read on first use.
type orcTables struct {
	once          sync.Once
	vmlinux       *orcTable
	text, textEnd uint64 // vmlinux's text, where its table applies
	init, initEnd uint64 // and its init text (a boot CPU's idle task starts there)
	err           error
	modules       []orcModule
}

type orcModule struct {
	base, end uint64
	table     *orcTable
}

func (k *Kernel) orc() (*orcTables, error) {
	t := &k.orcs
	t.once.Do(func() {
		syms, err := k.Symbols()
		if err != nil {
			t.err = err
			return
		}
		ipStart, ok1 := syms.Lookup("__start_orc_unwind_ip")
		ipStop, ok2 := syms.Lookup("__stop_orc_unwind_ip")
		ent, ok3 := syms.Lookup("__start_orc_unwind")
		if !ok1 || !ok2 || !ok3 || ipStop <= ipStart {
			t.err = errors.New("linux: kallsyms has no ORC tables (__start_orc_unwind_ip): a kernel built without CONFIG_UNWINDER_ORC")
			return
		}
		t.text, t.textEnd = k.textBounds(syms)
		t.init, _ = syms.Lookup("_sinittext")
		t.initEnd, _ = syms.Lookup("_einittext")
		t.vmlinux, t.err = k.readORC(ipStart, ent, (ipStop-ipStart)/4, "vmlinux")
		if t.err != nil {
			return
		}
		t.modules = k.moduleORC()
	})
	return t, t.err
}

// moduleORC reads each loaded module's table; modules whose table cannot
// be found are left out (their frames end the unwind).
func (k *Kernel) moduleORC() []orcModule {
	b, err := k.BTF()
	if err != nil {
		return nil
	}
	mod, ok1 := b.Struct("module")
	arch, ok2 := b.Struct("mod_arch_specific")
	if !ok1 || !ok2 {
		return nil
	}
	archOff, err1 := b.MemberOffset(mod, "arch")
	numOff, err2 := b.MemberOffset(arch, "num_orcs")
	ipOff, err3 := b.MemberOffset(arch, "orc_unwind_ip")
	entOff, err4 := b.MemberOffset(arch, "orc_unwind")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil
	}
	mods, _ := k.Modules()
	var out []orcModule
	for _, m := range mods {
		a := m.Address + archOff
		n, err1 := k.u32(a + numOff)
		ips, err2 := k.u64(a + ipOff)
		ents, err3 := k.u64(a + entOff)
		if errors.Join(err1, err2, err3) != nil || n == 0 {
			continue
		}
		if t, err := k.readORC(ips, ents, uint64(n), m.Name); err == nil {
			out = append(out, orcModule{base: m.Base, end: m.Base + m.Size, table: t})
		}
	}
	return out
}

// find looks ip up in vmlinux's table, then in the module holding it.
func (t *orcTables) find(ip uint64) (orcEntry, bool) {
	for _, m := range t.modules {
		if ip >= m.base && ip < m.end {
			return m.table.find(ip)
		}
	}
	if ip >= t.text && ip < t.textEnd || ip >= t.init && ip < t.initEnd {
		return t.vmlinux.find(ip)
	}
	return orcEntry{}, false
}

// ORCFrame is one frame of an ORC unwind.
type ORCFrame struct {
	PC, SP uint64
	// Slot is where the frame's pc was read from: the stack slot of its
	// return address, or for the first frame and those entered through
	// pt_regs, its stack pointer (crash prints it in brackets).
	Slot uint64
	// Regs marks a frame entered from a struct pt_regs (an interrupt, an
	// exception or a system call): PC and SP come from it.
	Regs bool
}

// ORCStack is a task's kernel stack unwound with ORC, as the kernel's own
// unwinder walks it.
type ORCStack struct {
	Frames []ORCFrame
	// User is the user-mode state saved at the top of the stack when the
	// walk ends there (a system call): ip, sp and flags.
	User *UserRegs
	// Stop says why the walk ended before the user-mode state or the end
	// of the stack, "" when it reached them.
	Stop string
}

// UserRegs is the user-mode register state saved on entry to the kernel.
type UserRegs struct{ IP, SP, Flags, AX, OrigAX uint64 }

// struct pt_regs offsets (x86-64).
const (
	ptRegsBP     = 4 * 8
	ptRegsAX     = 10 * 8
	ptRegsOrigAX = 15 * 8
	ptRegsIP     = 16 * 8
	ptRegsFlags  = 18 * 8
	ptRegsSP     = 19 * 8
	ptRegsSize   = 21 * 8
)

// maxORCFrames bounds a walk over a damaged stack.
const maxORCFrames = 128

// UnwindORC walks a kernel stack from pc, sp and bp with the kernel's ORC
// data; exact says pc is where the CPU was (saved registers) rather than a
// return address (a sleeping task's). The walk stops at the user-mode
// registers saved at the top of the stack, at the end-of-stack marker, or
// where the data gives out (pc in no table, a register ORC cannot recover,
// a stack pointer that does not grow); Stop says which.
func (k *Kernel) UnwindORC(pc, sp, bp uint64, exact bool) (*ORCStack, error) {
	t, err := k.orc()
	if err != nil {
		return nil, err
	}
	return unwindORC(t.find, k.read, pc, sp, bp, exact), nil
}

// unwindORC is the walk itself, over a table lookup and a memory reader
// (the fuzz target drives it with made-up ones).
func unwindORC(find func(ip uint64) (orcEntry, bool), read func(p []byte, va uint64) error, pc, sp, bp uint64, exact bool) *ORCStack {
	u64 := func(va uint64) (uint64, error) {
		var b [8]byte
		if err := read(b[:], va); err != nil {
			return 0, err
		}
		return le.Uint64(b[:]), nil
	}
	st := &ORCStack{}
	signal := exact
	var regs uint64 // the last pt_regs passed, for DX/DI/R10/R13-based frames
	slot := sp
	if !exact {
		slot = sp - 8 // the return address was read just below sp
	}
	for range maxORCFrames {
		st.Frames = append(st.Frames, ORCFrame{PC: pc, SP: sp, Slot: slot, Regs: regs != 0 && signal})
		look := pc
		if !signal {
			look = pc - 1 // a return address: the call is before it
		}
		e, ok := find(look)
		if !ok {
			st.Stop = fmt.Sprintf("no ORC data for %#x", pc)
			return st
		}
		switch e.kind {
		case orcEndOfStack:
			return st
		case orcUndefined:
			st.Stop = fmt.Sprintf("ORC marks %#x as undefined", pc)
			return st
		}
		var cfa uint64
		indirect := false
		switch e.spReg {
		case orcRegSP:
			cfa = sp + uint64(int64(e.spOff))
		case orcRegBP:
			cfa = bp + uint64(int64(e.spOff))
		case orcRegSPIndirect:
			cfa, indirect = sp, true
		case orcRegBPIndirect:
			cfa, indirect = bp+uint64(int64(e.spOff)), true
		case orcRegDX, orcRegDI, orcRegR10, orcRegR13:
			if regs == 0 {
				st.Stop = fmt.Sprintf("the frame at %#x is based on a register ORC cannot recover here", pc)
				return st
			}
			off := map[uint8]uint64{orcRegDX: 12 * 8, orcRegDI: 14 * 8, orcRegR10: 7 * 8, orcRegR13: 2 * 8}[e.spReg]
			v, err := u64(regs + off)
			if err != nil {
				st.Stop = err.Error()
				return st
			}
			cfa = v + uint64(int64(e.spOff))
		default:
			st.Stop = fmt.Sprintf("ORC entry for %#x has no stack base (sp_reg %d)", pc, e.spReg)
			return st
		}
		if indirect {
			v, err := u64(cfa)
			if err != nil {
				st.Stop = err.Error()
				return st
			}
			cfa = v
			if e.spReg == orcRegSPIndirect {
				cfa += uint64(int64(e.spOff))
			}
		}
		prevSP := sp
		var newPC, newSP, newBP uint64
		newBP = bp
		switch e.kind {
		case orcCall:
			ra, err := u64(cfa - 8)
			if err != nil {
				st.Stop = err.Error()
				return st
			}
			newPC, newSP, regs, signal = ra, cfa, 0, e.signal
			slot = cfa - 8
		case orcRegs:
			var b [ptRegsSize]byte
			if err := read(b[:], cfa); err != nil {
				st.Stop = err.Error()
				return st
			}
			newPC, newSP, regs, signal = le.Uint64(b[ptRegsIP:]), le.Uint64(b[ptRegsSP:]), cfa, true
			slot = newSP
			if e.bpReg == orcRegUndefined {
				newBP = le.Uint64(b[ptRegsBP:])
			}
			if newPC < kernelSpaceStart {
				st.User = &UserRegs{IP: newPC, SP: newSP, Flags: le.Uint64(b[ptRegsFlags:]),
					AX: le.Uint64(b[ptRegsAX:]), OrigAX: le.Uint64(b[ptRegsOrigAX:])}
				return st
			}
		case orcRegsPartial:
			// An iret frame: ip, cs, flags, sp, ss.
			var b [40]byte
			if err := read(b[:], cfa); err != nil {
				st.Stop = err.Error()
				return st
			}
			newPC, newSP, regs, signal = le.Uint64(b[0:]), le.Uint64(b[24:]), 0, true
			slot = newSP
			if newPC < kernelSpaceStart {
				st.User = &UserRegs{IP: newPC, SP: newSP, Flags: le.Uint64(b[16:])}
				return st
			}
		}
		switch e.bpReg {
		case orcRegPrevSP:
			if v, err := u64(cfa + uint64(int64(e.bpOff))); err == nil {
				newBP = v
			}
		case orcRegBP:
			if v, err := u64(bp + uint64(int64(e.bpOff))); err == nil {
				newBP = v
			}
		}
		// On one stack the stack pointer must grow, or the data is bad
		// (the kernel's check too); a move to another stack (from an IRQ
		// or exception stack back to the task's) may go anywhere. Kernel
		// stacks are 16 KiB blocks, aligned.
		sameStack := newSP&^(threadSize-1) == prevSP&^(threadSize-1)
		if sameStack && newSP <= prevSP {
			st.Stop = fmt.Sprintf("the stack pointer does not grow at %#x (damaged ORC data or stack)", pc)
			return st
		}
		pc, sp, bp = newPC, newSP, newBP
	}
	st.Stop = fmt.Sprintf("more than %d frames", maxORCFrames)
	return st
}

// kernelSpaceStart is where x86-64's kernel half of the address space
// begins (both 4- and 5-level paging keep user space below it).
const kernelSpaceStart = 0xff00_0000_0000_0000

// TextSymbol names pc as "function+0xoff" when it is in vmlinux's text.
func (k *Kernel) TextSymbol(pc uint64) (string, bool) {
	syms, err := k.Symbols()
	if err != nil {
		return "", false
	}
	if lo, hi := k.textBounds(syms); pc < lo || pc >= hi {
		return "", false
	}
	s, off, ok := syms.Nearest(pc)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%s+%#x", s.Name, off), true
}

// SleepingStart is where ORC starts on a task that is not running: the
// struct inactive_task_frame its last switch pushed at thread.sp (r15,
// r14, r13, r12, bx, bp, ret_addr on x86-64) gives bp and the return
// address into __schedule, and the stack above it.
func (k *Kernel) SleepingStart(threadSP uint64) (pc, sp, bp uint64, err error) {
	var b [7 * 8]byte
	if err := k.read(b[:], threadSP); err != nil {
		return 0, 0, 0, err
	}
	return le.Uint64(b[48:]), threadSP + uint64(len(b)), le.Uint64(b[40:]), nil
}
