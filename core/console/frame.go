package console

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/model"
)

// frameContext is the register state of a caller frame as the unwinder
// recovered it: only the registers the unwinding could restore.
type frameContext struct {
	arch       model.Arch
	regs       map[string]uint64
	pc, sp, fp uint64
}

func (c frameContext) Arch() model.Arch { return c.arch }
func (c frameContext) PC() uint64       { return c.pc }
func (c frameContext) SP() uint64       { return c.sp }
func (c frameContext) FP() uint64       { return c.fp }

// Reg answers from the recovered registers, and for the PC, SP and FP
// registers from the frame itself: every frame has those, even when the
// unwinder's map lists only the callee-saved registers it restored.
func (c frameContext) Reg(n string) (uint64, bool) {
	if v, ok := c.regs[n]; ok {
		return v, true
	}
	pc, sp, fp := frameRegNames(c.arch)
	switch {
	case n == pc:
		return c.pc, true
	case n == sp:
		return c.sp, true
	case n == fp && fp != "" && c.fp != 0:
		return c.fp, true
	}
	return 0, false
}

func (c frameContext) Regs() []model.Reg {
	names := make([]string, 0, len(c.regs)+3)
	for n := range c.regs {
		names = append(names, n)
	}
	pc, sp, fp := frameRegNames(c.arch)
	for _, n := range []string{pc, sp, fp} {
		if _, ok := c.regs[n]; !ok && n != "" {
			if _, known := c.Reg(n); known {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	size := PointerSize(c.arch)
	out := make([]model.Reg, len(names))
	for i, n := range names {
		v, _ := c.Reg(n)
		out[i] = model.Reg{Name: n, Value: v, Size: size}
	}
	return out
}

// frameRegNames are the names of the PC, SP and frame-pointer registers
// ("" when the architecture has no conventional frame pointer here).
func frameRegNames(a model.Arch) (pc, sp, fp string) {
	switch a {
	case model.AMD64:
		return "rip", "rsp", "rbp"
	case model.X86:
		return "eip", "esp", "ebp"
	case model.ARM64:
		return "pc", "sp", "x29"
	}
	return "pc", "sp", ""
}

// walk walks the scope's stack from its base context (the thread's
// registers, the exception context after .ecxr, or a .cxr record).
func walk(ctx context.Context, env Env) ([]StackFrame, error) {
	st, ok := env.(Stacker)
	if !ok {
		return nil, &NotSupportedError{What: "this environment cannot walk stacks"}
	}
	regs, err := baseContext(env)
	if err != nil {
		return nil, err
	}
	return st.Stack(ctx, regs)
}

// frames is walk for commands that need at least one frame.
func frames(ctx context.Context, env Env) ([]StackFrame, error) {
	fs, err := walk(ctx, env)
	if err != nil && len(fs) == 0 {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, errNoFrames
	}
	return fs, nil
}

// errNoFrames says a walk succeeded without finding even the context frame.
var errNoFrames = &NotSupportedError{What: "the stack walk found no frames for this thread"}

// selectedFrame returns the context of the frame .frame selected, for r,
// u and the @register expressions.
func selectedFrame(env Env) (model.Context, bool) {
	sc := env.Scope()
	if sc.Frame <= 0 {
		return nil, false
	}
	fs, err := frames(context.Background(), env)
	if err != nil || sc.Frame >= len(fs) {
		return nil, false
	}
	f := fs[sc.Frame]
	return frameContext{arch: env.Target().Info().Arch, regs: f.Regs, pc: f.PC, sp: f.SP, fp: f.FP}, true
}

// runFrame is .frame [N]: select frame N of the current stack (what r, u
// and @registers then refer to), or show the selected one.
func runFrame(ctx context.Context, env Env, inv *Invocation, out Output) error {
	fs, err := frames(ctx, env)
	if err != nil {
		return err
	}
	sc := env.Scope()
	if a := strings.TrimSpace(inv.Args); a != "" {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(a, "/c "), "0x"), 16, 32)
		if err != nil {
			return fmt.Errorf("Syntax error at '%s': .frame takes a frame number (hex)", a)
		}
		if int(n) >= len(fs) {
			return &NotSupportedError{What: fmt.Sprintf("frame %x does not exist: the stack has %d frames", n, len(fs))}
		}
		sc.Frame = int(n)
	}
	if sc.Frame >= len(fs) {
		sc.Frame = 0
	}
	f := fs[sc.Frame]
	ptr := ptrOf(env)
	site := f.Name
	if f.File != "" {
		site += fmt.Sprintf(" [%s @ %d]", f.File, f.Line)
	}
	out.Text(fmt.Sprintf("%02x %s %s %s\n", f.Index, FormatAddr(f.SP, ptr), FormatAddr(f.PC, ptr), site))
	return nil
}

// runUF is uf ADDR: disassemble the whole function holding ADDR, using the
// function's start and size from symbols.
func runUF(_ context.Context, env Env, inv *Invocation, out Output) error {
	arg := strings.TrimSpace(inv.Args)
	if arg == "" {
		return fmt.Errorf("Syntax error: uf needs an address")
	}
	a, err := Eval(arg, NewEvalEnv(env))
	if err != nil {
		return err
	}
	syms := env.Symbols()
	if syms == nil {
		return &NotSupportedError{What: "uf needs symbols to know where the function starts and ends"}
	}
	sym, ok := syms.Lookup(a)
	if !ok || sym.Size == 0 {
		return &NotSupportedError{What: fmt.Sprintf("no symbol gives the extent of the function at %s (uf needs FUNC records or debug info; try u)", addr(env, a))}
	}
	m, err := memory(env)
	if err != nil {
		return err
	}
	d, err := decoderFor(env)
	if err != nil {
		return err
	}
	ins, ferr := disasm.Range(m, d, sym.Addr, int(min(sym.Size, 1<<16)))
	for k, in := range ins {
		if in.Addr >= sym.Addr+sym.Size {
			ins, ferr = ins[:k], nil
			break
		}
	}
	printInsts(env, ins, out)
	if ferr != nil {
		end := sym.Addr
		if len(ins) > 0 {
			end = ins[len(ins)-1].Addr + uint64(ins[len(ins)-1].Len)
		}
		out.Text(fmt.Sprintf("%s ??              ??? (the function's code is not in the dump)\n", addr(env, end)))
	}
	return nil
}

// runCxr is .cxr ADDR: decode a CONTEXT record from memory (as exception
// dispatchers and !analyze leave them) and use it as the register state.
// Without an address it returns to the thread's own registers.
func runCxr(_ context.Context, env Env, inv *Invocation, out Output) error {
	cr, _ := env.Target().(model.ContextReader)
	var read func(uint64) (model.Context, error)
	if cr != nil {
		read = cr.ContextAt
	}
	return switchContext(env, inv, out, switchSpec{read: read, what: "context record",
		unsupported: "this dump kind cannot decode context records"})
}

// switchSpec says how .cxr or .trap finds a register state at an address.
type switchSpec struct {
	read        func(addr uint64) (model.Context, error) // nil: the dump kind has none
	what        string                                   // "context record", "trap frame"
	unsupported string                                   // the error when read is nil
	note        string                                   // printed before the registers, if any
}

// switchContext is .cxr and .trap: with an address, the register state
// read there becomes the scope's; without one, the thread's own returns.
func switchContext(env Env, inv *Invocation, out Output, s switchSpec) error {
	sc := env.Scope()
	arg := strings.TrimSpace(inv.Args)
	if arg == "" {
		sc.Cxr, sc.Frame, sc.NextCodeValid = nil, 0, false
		out.Text("Resetting default scope\n")
		return nil
	}
	if s.read == nil {
		return &NotSupportedError{What: s.unsupported}
	}
	a, err := Eval(arg, NewEvalEnv(env))
	if err != nil {
		return err
	}
	c, err := s.read(a)
	if err != nil {
		return &NotSupportedError{What: fmt.Sprintf("no %s can be read at %s", s.what, addr(env, a)), Err: err}
	}
	sc.Cxr, sc.Frame, sc.Exception, sc.NextCodeValid = c, 0, false, false
	if s.note != "" {
		out.Text(s.note)
	}
	return showRegs(env, out)
}
