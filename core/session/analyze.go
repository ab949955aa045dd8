package session

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/crashbench/crashbench/core/analyze"
	"github.com/crashbench/crashbench/core/codes"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/unwind"
)

// Frame is an unwound frame with its name.
type Frame struct {
	unwind.Frame
	Analysis analyze.Frame // module, function, offset, source line
}

// ThreadStack is one thread and its stack.
type ThreadStack struct {
	Thread  model.Thread
	Crashed bool
	Context model.Context // the context the walk started from
	Frames  []Frame
	Err     error // why the stack could not be walked (the thread is still listed)
}

// Analysis is the session's !analyze result.
type Analysis struct {
	Info     model.Info
	Threads  []ThreadStack
	Crashed  int // index into Threads of the crashing thread, -1 if none
	Faulting int // index into the crashed thread's Frames, -1 if none
	Result   report.Analysis
	Bugcheck *analyze.BugcheckReport // for Windows bug checks, else nil
	Panic    *analyze.PanicReport    // for Linux kernel dumps whose log reports a crash, else nil
}

// name symbolises an unwound frame. Callers are named at their return
// address minus one, and offsets count from the return address, as
// Breakpad and WinDbg print them.
func (s *Session) name(f unwind.Frame) analyze.Frame {
	a := analyze.Frame{PC: f.PC}
	if f.Module != nil {
		a.Module = f.Module.Name()
		a.Offset = f.PC - f.Module.Base
	}
	if sym, ok := s.Symbols().Lookup(f.LookupPC()); ok && sym.Name != "" {
		a.Function = sym.Name
		a.Offset = f.PC - sym.Addr
		a.File, a.Line = sym.OuterLine()
		for _, in := range sym.Inlined {
			a.Inlined = append(a.Inlined, analyze.Inline{Function: in.Name, File: in.File, Line: in.Line})
		}
	}
	return a
}

// Analyze walks every thread and names the crash: the crashing thread's
// stack from the exception context, the frame to blame, the signature and
// the bucket. It is the engine behind `crashbench analyze` and !analyze -v.
//
// The result is kept for the session's symbol state: the workbench's
// summary, threads and modules views and the console all ask for it, and
// only the first call walks the stacks. A change of symbol path or a
// .reload makes the next call walk them again. Callers must not modify
// the result.
func (s *Session) Analyze(ctx context.Context) (*Analysis, error) {
	s.anaMu.Lock()
	defer s.anaMu.Unlock()
	eng := s.engine()
	if s.ana != nil && s.anaEng == eng {
		return s.ana, nil
	}
	a, err := s.analyze(ctx)
	// A cancelled analysis may lack symbols it gave up loading: not kept.
	if err == nil && ctx.Err() == nil && s.engine() == eng {
		s.ana, s.anaEng = a, eng
	}
	return a, err
}

func (s *Session) analyze(ctx context.Context) (*Analysis, error) {
	// Symbols the analysis needs load under ctx: cancelling it stops
	// their downloads too.
	defer s.useLoadContext(ctx)()
	info := s.targetInfo(true)
	if msg := s.crashMessage(info.Crash); msg != "" {
		c := *info.Crash
		c.Message = msg
		info.Crash = &c
	}
	a := &Analysis{Info: info, Crashed: -1, Faulting: -1}
	threads, err := s.Threads()
	if err != nil && err != ErrNoThreads {
		return nil, err
	}
	var crashTID *uint64
	if info.Crash != nil && info.Crash.Kind != model.NoCrash {
		crashTID = info.Crash.ThreadID
	}
	for _, th := range threads {
		ts := ThreadStack{Thread: th, Context: th.Context}
		if crashTID != nil && th.ID == *crashTID {
			ts.Crashed = true
			a.Crashed = len(a.Threads)
			if ec, ok := s.d.Target.(model.ExceptionContext); ok {
				if c, err := ec.ExceptionContext(); err == nil && c != nil {
					ts.Context = c
				}
			}
		}
		frames, err := s.Stack(ctx, ts.Context)
		if err != nil {
			ts.Err = err
		}
		for _, f := range frames {
			ts.Frames = append(ts.Frames, Frame{Frame: f, Analysis: s.name(f)})
		}
		a.Threads = append(a.Threads, ts)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	rules := analyze.DefaultRules()
	var faulting *analyze.Frame
	var names []analyze.Frame // the crashing thread's frames, named
	if a.Crashed >= 0 {
		for _, f := range a.Threads[a.Crashed].Frames {
			names = append(names, f.Analysis)
		}
		a.Result.Signature = rules.Signature(names)
		if i := rules.Faulting(names); i >= 0 {
			a.Faulting = i
			faulting = &names[i]
			a.Result.FaultingFrame = faulting.String()
			a.Result.FaultingModule = faulting.Module
			a.Result.ProbablyCausedBy = faulting.Module
		}
	}
	a.Result.BucketID = analyze.BucketID(info.Crash, faulting)
	a.Result.Reason = crashReason(info.Crash)
	// A bug check is explained from its documented parameters, and the
	// driver to blame is BlueScreenView's: from the stack, the
	// parameters or the driver the dump names as broken.
	if br := analyze.NewBugcheckReport(info, s.Modules(), names); br != nil {
		a.Bugcheck = br
		a.Result.ProbablyCausedBy, a.Result.CausedByReason = br.CausedBy, br.Reason
		a.Result.BucketID = br.BucketID
		a.Result.Description = br.Description
		for _, l := range br.Args {
			a.Result.Arguments = append(a.Result.Arguments, l.String())
		}
	}
	// A Linux kernel dump's crash is what its log reports.
	if p := s.linuxPanic(); p != nil {
		a.Panic = p
		a.Result.Reason = p.Message
		a.Result.Signature, a.Result.BucketID = p.Signature, p.BucketID
		frame := p.RIP
		if frame == "" && len(p.Frames) > 0 {
			frame = p.Frames[0]
		}
		a.Result.FaultingFrame = frame
		a.Result.FaultingModule = panicModule(frame)
		a.Result.ProbablyCausedBy = a.Result.FaultingModule
	}
	return a, nil
}

// panicModule is the module of a kernel trace entry: "mydrv" for
// "mydrv_poll+0x2a/0x90 [mydrv]", "vmlinux" for the kernel's own code.
func panicModule(frame string) string {
	if frame == "" {
		return ""
	}
	if i := strings.LastIndexByte(frame, '['); i >= 0 && strings.HasSuffix(frame, "]") {
		return frame[i+1 : len(frame)-1]
	}
	return "vmlinux"
}

// crashReason says what happened in one line: the crash's name, the
// faulting address, and for a signal what its si_code means.
func crashReason(c *model.Crash) string {
	if c == nil || c.Kind == model.NoCrash || c.Name == "" {
		return ""
	}
	r := c.Name
	if c.Address != nil {
		r += fmt.Sprintf(" at %#x", *c.Address)
	}
	if c.Kind == model.Signal {
		if _, sub, ok := strings.Cut(c.Name, " / "); ok {
			if m := codes.SigCodeMeaning(sub); m != "" {
				r += ": " + m
			}
		}
	}
	return r
}

// AnalysisReport is the `analyze --json` report: the info report plus
// threads with frames, modules and the analysis.
func (s *Session) AnalysisReport(ctx context.Context) (*report.Report, *Analysis, error) {
	a, err := s.Analyze(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.Report(ReportOptions{})
	if err != nil {
		return nil, nil, err
	}
	if r.Crash != nil && r.Crash.Message == "" && a.Info.Crash != nil {
		r.Crash.Message = a.Info.Crash.Message
	}
	for _, ts := range a.Threads {
		rt := report.Thread{ID: ts.Thread.ID, Name: ts.Thread.Name, Crashed: ts.Crashed}
		if ts.Context != nil {
			rt.Registers = map[string]string{}
			for _, reg := range ts.Context.Regs() {
				if reg.Wide == nil {
					rt.Registers[reg.Name] = report.Hex(reg.Value)
				}
			}
		}
		for _, f := range ts.Frames {
			rf := report.Frame{Index: f.Index, PC: report.Hex(f.PC), SP: report.Hex(f.SP), Trust: f.Trust.String(),
				Module: f.Analysis.Module, Function: f.Analysis.Function, File: f.Analysis.File, Line: f.Analysis.Line}
			for _, in := range f.Analysis.Inlined {
				rf.Inlined = append(rf.Inlined, report.Inline{Function: in.Function, File: in.File, Line: in.Line})
			}
			if f.Analysis.Module != "" || f.Analysis.Function != "" {
				rf.Offset = report.Hex(f.Analysis.Offset)
			}
			rt.Frames = append(rt.Frames, rf)
		}
		r.Threads = append(r.Threads, rt)
	}
	set := s.Symbols()
	for _, m := range s.Modules() {
		rm := report.Module{Base: report.Hex(m.Base), Size: m.Size, Name: m.Name(), Path: m.Path, Version: m.Version,
			CodeID: m.CodeID, DebugFile: m.DebugFile, DebugID: m.DebugID, Unloaded: m.Unloaded}
		if !m.Time.IsZero() {
			rm.Timestamp = m.Time.Unix()
		}
		if len(m.BuildID) > 0 {
			rm.BuildID = fmt.Sprintf("%x", m.BuildID)
		}
		if !m.Unloaded && set.Loaded(m.Name()) {
			if src, err := set.Status(m.Name()); err == nil {
				rm.Symbols = src
			}
		}
		r.Modules = append(r.Modules, rm)
	}
	if _, ok := s.d.Target.(model.ProcessLister); ok || s.isLinuxKernel() {
		if ps, _, err := s.KernelProcesses(ctx); err == nil {
			for _, p := range ps {
				kp := report.KernelProcess{Name: p.Name, Address: report.Hex(p.Address)}
				// PID 0 is Windows' Idle and Linux's swapper; a 0
				// elsewhere means unknown (a triage dump without symbols).
				if p.PID != 0 || p.Name == "Idle" || strings.HasPrefix(p.Name, "swapper") {
					pid, ppid := p.PID, p.ParentPID
					kp.PID, kp.PPID = &pid, &ppid
				}
				if p.DirBase != 0 {
					kp.DirBase = report.Hex(p.DirBase)
				}
				if p.Threads >= 0 {
					n := p.Threads
					kp.Threads = &n
				}
				r.Processes = append(r.Processes, kp)
			}
		}
	}
	res := a.Result
	r.Analysis = &res
	return r, a, nil
}

// WriteAnalysisText prints the analysis as `!analyze -v` does: the
// exception, the faulting thread's stack, the blamed module and the
// bucket.
func WriteAnalysisText(w io.Writer, a *Analysis, notes []string) {
	c := a.Info.Crash
	fmt.Fprintln(w, "*******************************************************************************")
	fmt.Fprintln(w, "*                        Exception Analysis                                   *")
	fmt.Fprintln(w, "*******************************************************************************")
	fmt.Fprintln(w)
	if p := a.Panic; p != nil {
		writePanic(w, p)
	} else if c == nil || c.Kind == model.NoCrash {
		fmt.Fprintln(w, "This dump records no crash (a snapshot or a requested dump).")
	} else {
		if c.PC != nil {
			fmt.Fprintf(w, "ExceptionAddress: %s\n", hex(*c.PC))
		}
		if b := a.Bugcheck; b != nil {
			writeBugcheck(w, b)
		} else {
			fmt.Fprintf(w, "   ExceptionCode: %08x (%s)\n", c.Code, c.Name)
		}
		if c.Kind == model.Signal && a.Result.Reason != "" {
			fmt.Fprintf(w, "          Signal: %s\n", a.Result.Reason)
		}
		if len(c.Parameters) > 0 && a.Bugcheck == nil {
			fmt.Fprintf(w, "NumberParameters: %d\n", len(c.Parameters))
			for i, p := range c.Parameters {
				fmt.Fprintf(w, "   Parameter[%d]: %s\n", i, hex(p))
			}
		}
		if c.Address != nil {
			fmt.Fprintf(w, "   Crash address: %s\n", hex(*c.Address))
		}
		if c.Message != "" {
			fmt.Fprintf(w, "         Message: %s\n", c.Message)
		}
	}
	fmt.Fprintln(w)
	if a.Crashed >= 0 {
		ts := a.Threads[a.Crashed]
		fmt.Fprintf(w, "FAULTING_THREAD:  %x\n\n", ts.Thread.ID)
		fmt.Fprintln(w, "STACK_TEXT:")
		for _, f := range ts.Frames {
			mark := "  "
			if f.Index == a.Faulting {
				mark = "> "
			}
			for i, in := range f.Analysis.Inlined {
				line := f.Analysis.InlineName(i)
				if in.File != "" {
					line += fmt.Sprintf(" [%s @ %d]", in.File, in.Line)
				}
				fmt.Fprintf(w, "%s-- (Inline Function) --------`-------- %s\n", mark, line)
			}
			line := f.Analysis.String()
			if f.Analysis.File != "" {
				line += fmt.Sprintf(" [%s @ %d]", f.Analysis.File, f.Analysis.Line)
			}
			fmt.Fprintf(w, "%s%02x %s %s %s  (%s)\n", mark, f.Index, hex(f.SP), hex(f.PC), line, f.Trust)
		}
		if ts.Err != nil {
			fmt.Fprintf(w, "  (stack walk stopped: %v)\n", ts.Err)
		}
		fmt.Fprintln(w)
	}
	r := a.Result
	caused := r.ProbablyCausedBy
	if caused != "" && r.CausedByReason != "" {
		caused += "  (" + r.CausedByReason + ")"
	}
	for _, kv := range [][2]string{
		{"FAULTING_FRAME", r.FaultingFrame}, {"MODULE_NAME", r.FaultingModule},
		{"PROBABLY_CAUSED_BY", caused}, {"SIGNATURE", r.Signature}, {"FAILURE_BUCKET_ID", r.BucketID},
	} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%s:  %s\n", kv[0], kv[1])
		}
	}
	if len(notes) > 0 {
		fmt.Fprintln(w)
		sort.Strings(notes)
		for _, n := range notes {
			fmt.Fprintln(w, "NOTE: "+n)
		}
	}
}

// writePanic prints what a Linux kernel log says of its crash, in the
// order the kernel printed it.
func writePanic(w io.Writer, p *analyze.PanicReport) {
	fmt.Fprintf(w, "%s\n\n", p.Message)
	if p.CPU >= 0 {
		fmt.Fprintf(w, "CPU: %d  PID: %d  COMM: %s", p.CPU, p.PID, p.Comm)
		if p.Tainted != "" {
			fmt.Fprintf(w, "  (%s)", p.Tainted)
		}
		fmt.Fprintln(w)
	}
	for _, kv := range [][2]string{{"KERNEL", p.Release}, {"HARDWARE", p.Hardware}, {"RIP", p.RIP}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "%s: %s\n", kv[0], kv[1])
		}
	}
	if len(p.Frames) > 0 {
		fmt.Fprintln(w, "\nCALL TRACE:")
		for _, f := range p.Frames {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	if p.Modules != nil {
		fmt.Fprintf(w, "\nMODULES: %s\n", strings.Join(p.Modules, " "))
	}
}

// writeBugcheck prints a bug check as !analyze -v opens its report: the
// name and code, what it means, and each argument explained.
func writeBugcheck(w io.Writer, b *analyze.BugcheckReport) {
	fmt.Fprintf(w, "%s (%x)\n", b.Name, b.Code)
	if b.Description != "" {
		fmt.Fprintln(w, b.Description)
	}
	if len(b.Args) > 0 {
		fmt.Fprintln(w, "Arguments:")
		for _, l := range b.Args {
			fmt.Fprintln(w, l.String())
		}
	}
}

// hex prints an address in WinDbg's 64-bit form (00000000`0040429e).
func hex(v uint64) string { return fmt.Sprintf("%08x`%08x", v>>32, v&0xffffffff) }

// SummaryRows are the analysis lines the workbench shows under the crash:
// the faulting frame, the top of the crashing stack, the signature and
// the bucket.
func (a *Analysis) SummaryRows() []report.Row {
	var rows []report.Row
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, report.Row{Key: k, Value: v})
		}
	}
	if c := a.Info.Crash; c != nil && c.Message != "" {
		add("Message", c.Message)
	}
	if c := a.Info.Crash; c != nil && c.Kind == model.Signal && a.Result.Reason != c.Name {
		add("Reason", a.Result.Reason) // the fault address and the si_code's meaning
	}
	if b := a.Bugcheck; b != nil {
		// BlueScreenView's answer first: what the stop means, its
		// arguments explained, and the driver to blame.
		add("Bug check", strings.TrimSpace(b.Name+"\n"+b.Description))
		var args []string
		for _, l := range b.Args {
			args = append(args, l.String())
		}
		add("Arguments", strings.Join(args, "\n"))
		caused := b.CausedBy
		if caused != "" && b.Reason != "" {
			caused += " (" + b.Reason + ")"
		}
		add("Probably caused by", caused)
	}
	if p := a.Panic; p != nil {
		// A kernel's own report (its message is the Crash row): the
		// task and CPU, and its trace.
		if p.CPU >= 0 {
			add("Task", fmt.Sprintf("CPU %d, PID %d %s", p.CPU, p.PID, p.Comm))
		}
	}
	add("Faulting frame", a.Result.FaultingFrame)
	if p := a.Panic; p != nil && a.Crashed < 0 && len(p.Frames) > 0 {
		add("Call trace", strings.Join(p.Frames[:min(len(p.Frames), 12)], "\n"))
	}
	if a.Crashed >= 0 {
		const shown = 12
		var b strings.Builder
		frames := a.Threads[a.Crashed].Frames
		for _, f := range frames[:min(len(frames), shown)] {
			fmt.Fprintf(&b, "%02d  %s", f.Index, f.Analysis.String())
			if f.Analysis.File != "" {
				fmt.Fprintf(&b, "  [%s @ %d]", f.Analysis.File, f.Analysis.Line)
			}
			if f.Trust == unwind.Scan {
				b.WriteString("  (found by stack scanning)")
			}
			b.WriteByte('\n')
		}
		if len(frames) > shown {
			fmt.Fprintf(&b, "… %d more frames", len(frames)-shown)
		}
		add("Stack", strings.TrimRight(b.String(), "\n"))
	}
	add("Signature", a.Result.Signature)
	add("Bucket", a.Result.BucketID)
	return rows
}
