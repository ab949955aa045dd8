package console

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// StackFrame is one frame as k prints it.
type StackFrame struct {
	Index int
	SP    uint64
	PC    uint64
	Name  string // "module!Function+0x1f", "module+0x1234" or the address
	// Function is the function alone ("level3"), for gdb's bt; "" when no
	// symbol names the frame (bt then takes it from Name).
	Function string
	File     string
	Line     int
	Trust    string // how the frame was found: context, cfi, frame-pointer, scan
	FP       uint64
	Regs     map[string]uint64 // the registers recovered for this frame
	// Inlined are the calls inlined at PC, innermost first. File and Line
	// above are then the position in Function itself.
	Inlined []InlineFrame
	// Signal marks the kernel's signal frame (a signal trampoline such as
	// __restore_rt): bt says "<signal handler called>" there, as gdb does.
	Signal bool
}

// InlineFrame is a call inlined at a frame's PC: k and bt show it as a
// frame of its own above the frame that holds it, as WinDbg and gdb do.
type InlineFrame struct {
	Name     string // "module!function"
	Function string
	File     string
	Line     int
}

// Stacker is an optional Env capability: stack walking. core/session
// provides it; an Env without it makes k say so.
type Stacker interface {
	// Stack walks a stack starting from the given register state.
	Stack(ctx context.Context, regs model.Context) ([]StackFrame, error)
}

// Analyzer is an optional Env capability: the crash analysis !analyze
// prints.
type Analyzer interface {
	WriteAnalysis(ctx context.Context, w io.Writer, verbose bool) error
}

// runStack is k: the current thread's frames, innermost first, with the
// child SP, the return address (the caller's PC) and the call site.
func runStack(ctx context.Context, env Env, inv *Invocation, out Output) error {
	count := -1
	for _, tok := range inv.Tokens {
		if n, err := strconv.ParseUint(strings.TrimPrefix(tok, "0n"), 0, 32); err == nil {
			count = int(n)
		}
	}
	frames, err := walk(ctx, env)
	if err != nil && len(frames) == 0 {
		return err
	}
	shown := len(frames)
	if count >= 0 && count < shown {
		shown = count
	}
	ptr := PointerSize(env.Target().Info().Arch)
	var b strings.Builder
	fmt.Fprintf(&b, " # %-*s %-*s Call Site\n", len(FormatAddr(0, ptr)), "Child-SP", len(FormatAddr(0, ptr)), "RetAddr")
	for i, f := range frames[:shown] {
		ret := "????????"
		if ptr == 8 {
			ret = "????????`????????"
		}
		if i+1 < len(frames) {
			ret = FormatAddr(frames[i+1].PC, ptr)
		}
		for _, in := range f.Inlined {
			site := in.Name
			if in.File != "" {
				site += fmt.Sprintf(" [%s @ %d]", in.File, in.Line)
			}
			fmt.Fprintf(&b, "-- %-*s %s %s\n", len(FormatAddr(0, ptr)), "(Inline Function)", inlineDashes(ptr), site)
		}
		site := f.Name
		if f.File != "" {
			site += fmt.Sprintf(" [%s @ %d]", f.File, f.Line)
		}
		if f.Trust == "scan" {
			site += "  (found by stack scanning)"
		}
		fmt.Fprintf(&b, "%02x %s %s %s\n", f.Index, FormatAddr(f.SP, ptr), ret, site)
	}
	if err != nil {
		fmt.Fprintf(&b, "(stack walk stopped: %v)\n", err)
	}
	out.Text(b.String())
	return nil
}

// inlineDashes fills the return-address column of an inline frame, which
// has none: WinDbg's --------`--------.
func inlineDashes(ptr int) string {
	if ptr == 8 {
		return "--------`--------"
	}
	return "--------"
}

// runAnalyze is !analyze [-v].
func runAnalyze(ctx context.Context, env Env, inv *Invocation, out Output) error {
	an, ok := env.(Analyzer)
	if !ok {
		return &NotSupportedError{What: "this environment cannot analyze crashes"}
	}
	var b strings.Builder
	verbose := strings.Contains(inv.Args, "-v")
	if err := an.WriteAnalysis(ctx, &b, verbose); err != nil {
		return err
	}
	out.Text(b.String())
	return nil
}
