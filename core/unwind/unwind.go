// Package unwind walks thread stacks: from a thread's captured registers it
// recovers the chain of callers, each frame tagged with how much to trust
// it, as rust-minidump and Breakpad do.
//
// For each caller it tries, in order: call-frame rules (Breakpad STACK CFI
// and STACK WIN, DWARF CFI, Windows x64 unwind info — anything that
// implements Rules), the link register for frame 0 on the architectures
// whose calls leave the return address in one (PowerPC, s390x, MIPS,
// RISC-V), the frame-pointer chain (PowerPC's back chain; none on arm,
// s390x, MIPS and RISC-V, whose ABIs keep no reliable one), and finally a
// scan of the stack for a word that looks like a return address into a
// module's code. A walk stops at a zero or implausible instruction
// pointer, when the stack pointer stops moving up, or at
// Options.MaxFrames.
//
// Walk supports amd64, x86, arm64, arm, ppc64 (big-endian, ELFv1 or
// ELFv2), ppc64le, ppc, s390x, MIPS (o32 and n64, either byte order) and
// riscv64. Stack memory is read in the architecture's byte order (see
// Options.ByteOrder).
package unwind

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Trust says how a frame was found, most reliable first.
type Trust uint8

const (
	Context      Trust = iota // the registers the dump captured (frame 0)
	CFI                       // call-frame information
	FramePointer              // the saved frame-pointer chain
	Scan                      // a stack word that looks like a return address
)

func (t Trust) String() string {
	switch t {
	case Context:
		return "context"
	case CFI:
		return "cfi"
	case FramePointer:
		return "frame-pointer"
	case Scan:
		return "scan"
	}
	return fmt.Sprintf("trust(%d)", uint8(t))
}

// Registers maps register names (as gdb and WinDbg print them) to values.
// A frame holds only the registers its unwinding recovered.
type Registers map[string]uint64

// Frame is one stack frame, innermost first.
type Frame struct {
	Index  int
	PC     uint64 // the instruction address (a return address for callers)
	SP, FP uint64
	Regs   Registers
	Trust  Trust
	Module *model.Module // the module containing PC, nil if none
	// Signal marks a signal trampoline (glibc's __restore_rt): the kernel
	// made PC the handler's return address, the trampoline's first
	// instruction, not the address after a call. gdb shows the frame as
	// "<signal handler called>".
	Signal bool
	// Interrupted marks the frame a signal interrupted: PC is the
	// faulting instruction itself, as the signal frame saved it.
	Interrupted bool
}

// LookupPC returns the address to symbolise for the frame: for callers the
// return address minus one, so that a call at the very end of a function
// is attributed to that function rather than the next one.
func (f Frame) LookupPC() uint64 {
	if f.Index == 0 || f.Trust == Context || f.PC == 0 || f.Signal || f.Interrupted {
		return f.PC
	}
	return f.PC - 1
}

// Rules recovers a caller's registers with call-frame information. ok is
// false when the rules have nothing for pc, so the walker falls back.
type Rules interface {
	Caller(pc uint64, callee Registers, read func(addr uint64, size int) (uint64, error)) (caller Registers, ok bool, err error)
}

// Options tune a walk.
type Options struct {
	Rules     Rules // nil: frame pointers and scanning only
	MaxFrames int   // default 1024
	ScanWords int   // stack words scanned for a return address; default 40 (Breakpad's)
	// IsCode reports whether an address is executable code; nil means "in
	// some module". Scanning accepts only addresses it approves.
	IsCode func(pc uint64) bool
	// IsOutermost reports whether a frame's pc lies in a thread's entry
	// routine (_start, RtlUserThreadStart, start_thread, ...): past it the
	// walk goes on only by call-frame rules (start_thread's caller is
	// clone, whose CFI ends the stack), never by frame pointers or
	// scanning, which would only find stale stack words.
	IsOutermost func(pc uint64) bool
	// ByteOrder is the byte order of the dump's memory. Nil: the start
	// context's, when it has a ByteOrder() binary.ByteOrder method (an
	// ELF core knows its header's EI_DATA); else the architecture's
	// (big-endian on ppc64 and s390x, little-endian on ppc64le, riscv64,
	// x86 and arm) or, where the architecture alone cannot tell (MIPS,
	// 32-bit PowerPC), that of the first module ELF header in memory;
	// little-endian if none can be read.
	ByteOrder binary.ByteOrder
}

// archSpec is what the walker needs to know about an architecture.
type archSpec struct {
	ptr            int
	pc, sp, fp, lr string
	// pcMask strips pointer-authentication bits from return addresses
	// (see walker.code).
	pcMask uint64
	// aliases name the registers above by another spelling a context may
	// use: gdb and Linux cores call arm64's frame pointer and link
	// register x29 and x30.
	aliases map[string]string
	// order is the byte order of memory; nil means little-endian. With
	// biEndian, the modules' ELF headers in memory decide (see
	// Options.ByteOrder).
	order    binary.ByteOrder
	biEndian bool
	// chain says how frame pointers link frames, if at all.
	chain chainKind
	// lrSave is, for chainBack, the offset from a caller's SP of the
	// word where its callee saved the return address.
	lrSave uint64
	// leafLR: when no rules cover frame 0, its caller is first looked
	// for at the link register (a leaf function never saves it).
	leafLR bool
}

// chainKind is how an ABI links stack frames through memory.
type chainKind uint8

const (
	// chainRecord: fp points at a record of the caller's fp and the
	// return address (x86, amd64, arm64 AAPCS64 frame records).
	chainRecord chainKind = iota
	// chainNone: no chain sound enough to follow. 32-bit ARM's frame
	// layouts vary by compiler; MIPS and RISC-V code is built without
	// frame pointers by default, and where one exists its slot is not
	// fixed; s390x keeps a back chain only with -mbackchain.
	chainNone
	// chainBack: PowerPC's back chain. Every frame's first word holds
	// the caller's SP (the stwu/stdu that allocates a frame stores it),
	// and a callee saves its return address in its caller's frame, at
	// caller_SP+16 in the 64-bit ELFv1 and ELFv2 ABIs and caller_SP+4
	// in the 32-bit SysV ABI.
	chainBack
)

var specs = map[model.Arch]archSpec{
	model.AMD64: {ptr: 8, pc: "rip", sp: "rsp", fp: "rbp", pcMask: ^uint64(0)},
	model.X86:   {ptr: 4, pc: "eip", sp: "esp", fp: "ebp", pcMask: 0xffffffff},
	model.ARM64: {ptr: 8, pc: "pc", sp: "sp", fp: "fp", lr: "lr", pcMask: 0x0000_ffff_ffff_ffff,
		aliases: map[string]string{"x29": "fp", "x30": "lr", "x31": "sp"}},
	model.ARM: {ptr: 4, pc: "pc", sp: "sp", fp: "r11", lr: "lr", pcMask: 0xffffffff, chain: chainNone,
		aliases: map[string]string{"r13": "sp", "r14": "lr", "r15": "pc"}},
	// PowerPC: r1 is the stack pointer, r31 GCC's frame pointer (64-bit
	// ELFv1/ELFv2 and 32-bit SysV ABIs). ppc64 means big-endian (ELFv1
	// or ELFv2) and ppc64le little-endian; 32-bit PowerPC is almost
	// always big-endian, but ppcle exists, so memory decides.
	model.PPC64:   ppcSpec(8, binary.BigEndian, false),
	model.PPC64LE: ppcSpec(8, binary.LittleEndian, false),
	model.PPC:     ppcSpec(4, binary.BigEndian, true),
	// s390x (ELF ABI for z/Architecture): r15 is the stack pointer, r14
	// the return address, r11 GCC's frame pointer; always big-endian.
	model.S390X: {ptr: 8, pc: "pswa", sp: "r15", fp: "r11", lr: "r14", pcMask: ^uint64(0),
		order: binary.BigEndian, chain: chainNone, leafLR: true},
	// MIPS (o32 and n64): r29 sp, r30 s8/fp, r31 ra. Both byte orders
	// are common (mips and mipsel), and the architecture name does not
	// say which.
	model.MIPS: {ptr: 4, pc: "pc", sp: "sp", fp: "s8", lr: "ra", pcMask: 0xffffffff,
		biEndian: true, chain: chainNone, leafLR: true, aliases: mipsAliases},
	model.MIPS64: {ptr: 8, pc: "pc", sp: "sp", fp: "s8", lr: "ra", pcMask: ^uint64(0),
		biEndian: true, chain: chainNone, leafLR: true, aliases: mipsAliases},
	// RISC-V (psABI): x1 ra, x2 sp, x8 s0/fp; little-endian.
	model.RISCV64: {ptr: 8, pc: "pc", sp: "sp", fp: "fp", lr: "ra", pcMask: ^uint64(0),
		chain: chainNone, leafLR: true, aliases: map[string]string{"x1": "ra", "x2": "sp", "x8": "fp", "s0": "fp"}},
}

var mipsAliases = map[string]string{"r29": "sp", "r30": "s8", "r31": "ra", "fp": "s8", "epc": "pc"}

func ppcSpec(ptr int, order binary.ByteOrder, biEndian bool) archSpec {
	s := archSpec{ptr: ptr, pc: "pc", sp: "r1", fp: "r31", lr: "lr", pcMask: ^uint64(0),
		order: order, biEndian: biEndian, chain: chainBack, lrSave: 16, leafLR: true,
		aliases: map[string]string{"nip": "pc", "link": "lr"}}
	if ptr == 4 {
		s.pcMask, s.lrSave = 0xffffffff, 4
	}
	return s
}

// ErrUnsupportedArch says the walker cannot unwind this architecture.
var ErrUnsupportedArch = errors.New("unwind: unsupported architecture")

// Walk unwinds the stack that start describes. mods lets it attribute
// frames to modules and judge scanned return addresses. It returns the
// frames found even when it stops early with an error (a cancelled
// context, an unsupported architecture after frame 0).
func Walk(ctx context.Context, m mem.Reader, start model.Context, mods []model.Module, o Options) ([]Frame, error) {
	if start == nil {
		return nil, errors.New("unwind: no register context")
	}
	spec, ok := specs[start.Arch()]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedArch, start.Arch())
	}
	if o.MaxFrames <= 0 {
		o.MaxFrames = 1024
	}
	if o.ScanWords <= 0 {
		o.ScanWords = 40
	}
	w := &walker{m: m, spec: spec, mods: mods, o: o, order: o.ByteOrder}
	if bo, ok := start.(interface{ ByteOrder() binary.ByteOrder }); ok && w.order == nil {
		w.order = bo.ByteOrder()
	}
	if w.order == nil {
		w.order = w.memoryOrder()
	}
	regs := Registers{}
	for _, r := range start.Regs() {
		if r.Wide == nil {
			regs[r.Name] = r.Value
		}
	}
	// Rules and the frame-pointer chain look registers up by the names
	// in spec (and the DWARF tables' names): without this, an arm64 core
	// whose context says x29 and x30 would have no frame pointer or link
	// register, and a leaf's caller would be found only by scanning.
	for alias, name := range spec.aliases {
		if v, ok := regs[alias]; ok {
			if _, have := regs[name]; !have {
				regs[name] = v
			}
		}
	}
	frame := w.frame(0, regs, Context)
	frames := []Frame{frame}
	for len(frames) < o.MaxFrames {
		if err := ctx.Err(); err != nil {
			return frames, err
		}
		last := frames[len(frames)-1]
		rulesOnly := o.IsOutermost != nil && o.IsOutermost(last.LookupPC())
		if sr, ok := o.Rules.(SignalRules); ok && last.Index > 0 && sr.SignalFrame(last.PC) {
			last.Signal = true
			frames[len(frames)-1] = last
		}
		next, ok := w.caller(last, rulesOnly)
		next.Interrupted = ok && last.Signal
		if !ok {
			break
		}
		frames = append(frames, next)
	}
	return frames, nil
}

type walker struct {
	m     mem.Reader
	spec  archSpec
	mods  []model.Module
	o     Options
	order binary.ByteOrder
}

// memoryOrder is the byte order of memory when Options does not give it:
// the architecture's, or for a bi-endian one the EI_DATA byte of the first
// module ELF header memory holds (Linux cores keep the first page of
// every ELF mapping, and a process's images share its byte order).
func (w *walker) memoryOrder() binary.ByteOrder {
	if w.spec.biEndian {
		for _, m := range w.mods {
			var h [6]byte
			if m.Unloaded || mem.ReadFull(w.m, h[:], m.Base) != nil || string(h[:4]) != "\x7fELF" {
				continue
			}
			switch h[5] { // EI_DATA
			case 1: // ELFDATA2LSB
				return binary.LittleEndian
			case 2: // ELFDATA2MSB
				return binary.BigEndian
			}
		}
	}
	if w.spec.order != nil {
		return w.spec.order
	}
	return binary.LittleEndian
}

func (w *walker) frame(i int, regs Registers, t Trust) Frame {
	f := Frame{Index: i, PC: regs[w.spec.pc], SP: regs[w.spec.sp], FP: regs[w.spec.fp], Regs: regs, Trust: t}
	f.Module = w.module(f.PC)
	return f
}

func (w *walker) module(pc uint64) *model.Module {
	for i := range w.mods {
		if w.mods[i].Contains(pc) && !w.mods[i].Unloaded {
			return &w.mods[i]
		}
	}
	return nil
}

func (w *walker) isCode(pc uint64) bool {
	if w.o.IsCode != nil {
		return w.o.IsCode(pc)
	}
	return w.module(pc) != nil
}

func (w *walker) read(addr uint64, size int) (uint64, error) {
	return mem.ReadUint(w.m, addr, size, w.order)
}

// code strips the bits above an architecture's virtual addresses from a
// code address: on arm64 the pointer-authentication code, which fills
// them, is replaced by what bit 55 says (ones for kernel addresses in
// the upper half, TTBR1, as Windows and Linux kernel stacks hold; zeros
// for user space).
func (w *walker) code(v uint64) uint64 {
	if w.spec.pcMask == 0x0000_ffff_ffff_ffff && v>>55&1 == 1 {
		return v | ^w.spec.pcMask
	}
	return v & w.spec.pcMask
}

// caller finds the frame that called f; with rulesOnly, by call-frame
// rules alone.
func (w *walker) caller(f Frame, rulesOnly bool) (Frame, bool) {
	if w.o.Rules != nil {
		// Rules are looked up at the call instruction (the return address
		// minus one) for callers, so a call ending a function finds the
		// function's own rules.
		if regs, ok, err := w.o.Rules.Caller(f.LookupPC(), f.Regs, w.read); err == nil && ok {
			// Rules that recover a zero return address mark the outermost
			// frame (a thread's start routine): the stack ends here, and
			// scanning on would only find stale words.
			if w.code(regs[w.spec.pc]) == 0 {
				return Frame{}, false
			}
			if next, ok := w.accept(f, regs, CFI); ok {
				return next, true
			}
		}
	}
	if rulesOnly {
		return Frame{}, false
	}
	if regs, ok := w.byLinkRegister(f); ok {
		if next, ok := w.accept(f, regs, FramePointer); ok {
			return next, true
		}
	}
	if regs, ok := w.byFramePointer(f); ok {
		if next, ok := w.accept(f, regs, FramePointer); ok {
			return next, true
		}
	}
	if regs, ok := w.byScan(f); ok {
		if next, ok := w.accept(f, regs, Scan); ok {
			return next, true
		}
	}
	return Frame{}, false
}

// accept applies the sanity checks every unwinding method must pass: a
// non-zero instruction pointer and a stack pointer that moved up (or, for
// the first caller found by rules, stayed: a leaf frame on arm64).
func (w *walker) accept(callee Frame, regs Registers, t Trust) (Frame, bool) {
	pc := w.code(regs[w.spec.pc])
	regs[w.spec.pc] = pc
	sp, haveSP := regs[w.spec.sp]
	if pc == 0 || !haveSP {
		return Frame{}, false
	}
	// The stack grows down: a caller's SP lies above its callee's. Only
	// rules, or a link register on arm64, may keep it equal: a leaf that
	// pushed nothing.
	sameSPOK := t == CFI || (t == FramePointer && w.spec.lr != "")
	if sp < callee.SP || (sp == callee.SP && (!sameSPOK || pc == callee.PC)) {
		return Frame{}, false
	}
	// Rules may return anything when applied to a frame that was itself
	// a guess: a caller outside every module is not one.
	if (t != CFI && !w.isCode(pc)) || (t == CFI && w.module(pc) == nil && len(w.mods) > 0) {
		return Frame{}, false
	}
	return w.frame(callee.Index+1, regs, t), true
}

// byLinkRegister finds the caller of frame 0 (or of a frame a signal
// interrupted, whose registers the signal context holds) when no rules
// cover it, on the architectures whose call instruction leaves the return
// address in a register (ppc lr, s390x r14, MIPS and RISC-V ra): a leaf
// function never saves it, and keeps its caller's SP and callee-saved
// registers. A function that saved its link register and called on has
// a stale one (an address in itself); on PowerPC, where the back chain
// shows whether the link register was saved, a link register equal to
// the saved word is left to the back chain, which also recovers the
// right SP. Elsewhere a stale link register costs one spurious frame
// before scanning finds the real caller.
func (w *walker) byLinkRegister(f Frame) (Registers, bool) {
	if !w.spec.leafLR || (f.Index != 0 && !f.Interrupted) {
		return nil, false
	}
	lr, ok := f.Regs[w.spec.lr]
	lr = w.code(lr)
	if !ok || lr == 0 || lr == f.PC || !w.isCode(lr) {
		return nil, false
	}
	if w.spec.chain == chainBack {
		if regs, ok := w.byBackChain(f); ok && w.code(regs[w.spec.pc]) == lr {
			return nil, false
		}
	}
	regs := Registers{}
	for name, v := range f.Regs {
		if name != w.spec.pc && name != w.spec.lr {
			regs[name] = v
		}
	}
	regs[w.spec.pc] = lr
	return regs, true
}

// byBackChain follows PowerPC's back chain: [SP] is the caller's SP, and
// the caller's return address was saved lrSave bytes above that (the
// "Stack Frame" sections of the 64-bit ELF V1 and V2 ABIs and of the
// SysV PowerPC ABI supplement).
func (w *walker) byBackChain(f Frame) (Registers, bool) {
	p := uint64(w.spec.ptr)
	if f.SP == 0 || f.SP%p != 0 {
		return nil, false
	}
	back, err := w.read(f.SP, w.spec.ptr)
	if err != nil || back <= f.SP || back%p != 0 {
		return nil, false
	}
	ret, err := w.read(back+w.spec.lrSave, w.spec.ptr)
	if err != nil {
		return nil, false
	}
	regs := Registers{w.spec.pc: ret, w.spec.sp: back}
	if fp, ok := f.Regs[w.spec.fp]; ok {
		regs[w.spec.fp] = fp // callee-saved: unknown, keep the best guess
	}
	return regs, true
}

// byFramePointer follows the saved frame-pointer chain: [fp] holds the
// caller's frame pointer and the word after it the return address (x86,
// amd64 and arm64 frame records alike), or PowerPC's back chain.
func (w *walker) byFramePointer(f Frame) (Registers, bool) {
	switch w.spec.chain {
	case chainNone:
		return nil, false
	case chainBack:
		return w.byBackChain(f)
	}
	fp, ok := f.Regs[w.spec.fp]
	if ok && fp == 0 && w.spec.lr != "" {
		// arm64 outermost record: no caller record, but lr still says where
		// this frame returns to.
		if lr, ok := f.Regs[w.spec.lr]; ok && lr != 0 {
			return Registers{w.spec.pc: lr, w.spec.sp: f.SP, w.spec.fp: 0}, true
		}
	}
	if !ok || fp == 0 || fp < f.SP || fp%uint64(w.spec.ptr) != 0 {
		return nil, false
	}
	p := uint64(w.spec.ptr)
	savedFP, err := w.read(fp, w.spec.ptr)
	if err != nil {
		return nil, false
	}
	ret, err := w.read(fp+p, w.spec.ptr)
	if err != nil {
		return nil, false
	}
	// The caller's frame pointer must lie above this one (or be zero at the
	// outermost frame); anything else is not a chain.
	if savedFP != 0 && savedFP <= fp {
		return nil, false
	}
	if w.spec.lr != "" {
		// arm64: the frame record holds the caller's fp and lr; the caller
		// resumes at this frame's lr (a leaf never saved it), as Breakpad's
		// StackwalkerARM64 does.
		lr, ok := f.Regs[w.spec.lr]
		if !ok {
			return nil, false
		}
		if lr == 0 || !w.isCode(w.code(lr)) {
			// No usable lr: a context taken inside a non-leaf function
			// that reused it (Windows' KeBugCheck2 leaves 0 there). Then
			// fp is the function's own record, which holds its return
			// address; the caller continues the same way (lr unknown,
			// fp its own record).
			return Registers{w.spec.pc: w.code(ret), w.spec.lr: 0, w.spec.sp: fp + 2*p, w.spec.fp: savedFP}, true
		}
		return Registers{w.spec.pc: lr, w.spec.lr: w.code(ret), w.spec.sp: fp + 2*p, w.spec.fp: savedFP}, true
	}
	return Registers{w.spec.pc: ret, w.spec.sp: fp + 2*p, w.spec.fp: savedFP}, true
}

// byScan looks for a return address among the stack words at and above
// SP (a caller's SP points just past the return address that led to it, so
// its own return address lies above).
func (w *walker) byScan(f Frame) (Registers, bool) {
	p := uint64(w.spec.ptr)
	for i := 0; i < w.o.ScanWords; i++ {
		addr := f.SP + uint64(i)*p
		v, err := w.read(addr, w.spec.ptr)
		if err != nil {
			return nil, false
		}
		v = w.code(v)
		if v != 0 && w.isCode(v) && v != f.PC {
			regs := Registers{w.spec.pc: v, w.spec.sp: addr + p}
			if fp, ok := f.Regs[w.spec.fp]; ok {
				regs[w.spec.fp] = fp // callee-saved: unknown, keep the best guess
			}
			return regs, true
		}
	}
	return nil, false
}

// Chain tries several rule sources in order (Breakpad CFI first, then
// Windows x64 unwind info from images, ...): the first that covers the
// address decides.
type Chain []Rules

// SignalRules is implemented by rules that know signal trampolines (DWARF
// CFI marks them with the "S" augmentation). The rules for a trampoline
// are looked up at its first instruction's address minus one, which its
// FDE covers for that reason; SignalFrame is asked with the frame's PC.
type SignalRules interface {
	SignalFrame(pc uint64) bool
}

// SignalFrame reports whether any of the rules knows pc as a signal
// trampoline.
func (c Chain) SignalFrame(pc uint64) bool {
	for _, r := range c {
		if sr, ok := r.(SignalRules); ok && sr.SignalFrame(pc) {
			return true
		}
	}
	return false
}

// Caller implements Rules.
func (c Chain) Caller(pc uint64, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	for _, r := range c {
		if r == nil {
			continue
		}
		regs, ok, err := r.Caller(pc, callee, read)
		if err == nil && ok {
			return regs, true, nil
		}
	}
	return nil, false, nil
}
