package console

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// Builtins returns the default command table, in .help order: WinDbg's
// commands, then gdb's.
func Builtins() []Command {
	return slices.Concat(windbgCommands(), symbolCommands(), typeCommands(), pteCommands(), kernelCommands(), linuxCommands(), gdbCommands())
}

func windbgCommands() []Command {
	return []Command{
		{Names: []string{"?"}, Group: GroupGeneral, Usage: "? expression", Summary: "evaluate a MASM expression",
			Help: "Prints the value in decimal and hex: `? 0n69` gives ``Evaluate expression: 69 = 00000000`00000045``. " +
				"Numbers are hex by default; 0n is decimal, 0y binary, 0t octal; backticks separate digit groups. " +
				"Registers (@rip, $ip, @$csp), symbols (app!main+0x10), modules (ntdll) and poi()/by()/wo()/dwo()/qwo() are allowed.",
			Run: runEval},
		{Names: []string{".help"}, Kind: Meta, Group: GroupGeneral, Usage: ".help [command]", Summary: "list commands, or describe one",
			Run: runHelp},
		{Names: []string{"|"}, Group: GroupTarget, Usage: "|", Summary: "show the dumped process",
			Run: runProcess},
		{Names: []string{"vertarget"}, Group: GroupTarget, Usage: "vertarget", Summary: "show the dumped system: OS, CPU, time, uptime",
			Run: runVertarget},
		{Names: []string{".time"}, Kind: Meta, Group: GroupTarget, Usage: ".time", Summary: "show when the dump was taken and the uptime",
			Run: runTime},
		{Names: []string{".dumpdebug"}, Kind: Meta, Group: GroupTarget, Usage: ".dumpdebug", Summary: "show the dump header's facts",
			Help: "A light version of WinDbg's .dumpdebug: the format, variant and every header detail the format package reports.",
			Run:  runDumpDebug},
		{Names: []string{".lastevent"}, Kind: Meta, Group: GroupTarget, Usage: ".lastevent", Summary: "show the event that caused the dump",
			Run: runLastEvent},
		{Names: []string{".exr"}, Kind: Meta, Group: GroupTarget, Usage: ".exr -1", Summary: "show the exception record",
			Help: "Only `.exr -1` (the dump's own exception record or stop code) is supported; records elsewhere in memory are not decoded.",
			Run:  runExr},
		bugcheckCommand(),
		processCommand(),
		{Names: []string{"~"}, Group: GroupThreads, Usage: "~ | ~N | ~*", Summary: "list threads ('.' marks the current thread, '#' the event thread)",
			Run: runThreads},
		{Names: []string{"~s"}, Group: GroupThreads, Usage: "~N s | ~~[tid] s | ~# s", Summary: "switch to a thread and show its registers",
			Run: runSwitch},
		{Names: []string{"r"}, Group: GroupThreads, Usage: "r [reg[,reg...]]", Summary: "show registers of the current thread (or the exception context after .ecxr)",
			Help: "Registers are read-only: a dump cannot be changed, so `r rax=1` is refused.",
			Run:  runRegs},
		{Names: []string{".ecxr"}, Kind: Meta, Group: GroupThreads, Usage: ".ecxr", Summary: "switch to the exception context record and show its registers",
			Run: runEcxr},
		{Names: []string{".cxr"}, Kind: Meta, Group: GroupThreads, Usage: ".cxr [address]", Summary: "use the CONTEXT record stored at an address as the register state (no address: back to the thread)",
			Run: runCxr},
		{Names: []string{".frame", ".f"}, Kind: Meta, Group: GroupThreads, Usage: ".frame [N]", Summary: "select a stack frame (r, u and @registers then show that frame), or show the selected one",
			Help: "Caller frames hold only the registers the unwinder recovered (the stack and instruction pointers, and the registers the call-frame rules restore).",
			Run:  runFrame},
		{Names: []string{"k", "kb", "kp", "kn", "kv"}, Group: GroupThreads, Usage: "k [count]", Summary: "show the call stack of the current thread",
			Help: "Frames are numbered, innermost first, with the child stack pointer, the return address and the call site. " +
				"Calls inlined at a frame's address are listed above it as `-- (Inline Function)` rows. Use .ecxr first to walk the crashing thread from the exception context. Parameters (kb, kv) are not shown.",
			Run: runStack},
		{Names: []string{"!teb"}, Kind: Extension, Group: GroupThreads, Usage: "!teb", Summary: "show the current thread's TEB: stack bounds, client id, PEB, last error",
			Help: "Reads the documented TEB fields from the dump's memory; the TEB must have been captured (MiniDumpWithProcessThreadData or a full dump).",
			Run:  runTEB},
		{Names: []string{"lm"}, Group: GroupModules, Usage: "lm [v] [t n] [m pattern]", Summary: "list modules",
			Help: "Options may be run together as in WinDbg (lmv, lmvm app, lmtn). `v` adds path, version, timestamp, checksum and debug id; " +
				"`m pattern` keeps modules whose name matches the wildcard pattern; `t n` shows the timestamp and image name.",
			Run: runLm},
		{Names: []string{"db", "dw", "dd", "dq", "dp", "da", "du", "d"}, Group: GroupMemory, Usage: "db|dw|dd|dq|dp|da|du [range]", Summary: "display memory as bytes, words, dwords, qwords, pointers or strings",
			Help: "Range is `addr`, `addr L count`, `addr L? count` (no size check) or `addr1 addr2`. Bytes the dump does not hold print as ??. " +
				"Without an address the display continues where the last one stopped; `d` repeats the last format.",
			Run: runDump},
		{Names: []string{"dps", "dds", "dqs"}, Group: GroupMemory, Usage: "dps|dds|dqs [range]", Summary: "display pointers with their symbols",
			Run: runDump},
		{Names: []string{"s"}, Group: GroupMemory, Usage: "s [-a|-u|-b|-w|-d|-q] range pattern", Summary: "search readable memory",
			Help: "`-a \"text\"` ASCII, `-u \"text\"` UTF-16, `-b 4d 5a` bytes (the default), `-w`/`-d`/`-q` aligned words, dwords, qwords. " +
				"Only memory the dump holds is searched.",
			Run: runSearch},
		{Names: []string{"!address"}, Kind: Extension, Group: GroupMemory, Usage: "!address [addr]", Summary: "list memory regions, or show the one holding addr",
			Help: "Regions come from the dump, in address order: State is `committed`, or `not in dump` for memory the process had mapped but the dump " +
				"does not hold (on Linux cores, file-backed text the coredump filter skipped, and guard pages); Protect is what the dump records " +
				"(a core's PT_LOAD flags; `r--` where a format records none); Usage is the dump's label (the mapped file and its offset, `[stack]`, " +
				"`[stack:TID]`, `[vdso]`) or the module holding the region. Module images found on disk add the ranges the dump does not describe.",
			Run: runAddress},
		{Names: []string{"!peb"}, Kind: Extension, Group: GroupMemory, Usage: "!peb", Summary: "show the PEB: image base, loader data, image path and command line",
			Help: "Reads the documented PEB and process-parameters fields from the dump's memory, when captured.",
			Run:  runPEB},
		{Names: []string{"u"}, Group: GroupCode, Usage: "u [range]", Summary: "disassemble forward (8 instructions by default)",
			Run: runU},
		{Names: []string{"uf"}, Group: GroupCode, Usage: "uf address", Summary: "disassemble the whole function holding an address (bounds from symbols)",
			Run: runUF},
		{Names: []string{"ub"}, Group: GroupCode, Usage: "ub [addr] [L count]", Summary: "disassemble the instructions before addr",
			Help: "Finds a start before addr whose instruction stream lands exactly on addr, as WinDbg does.",
			Run:  runUB},
		{Names: []string{"ln"}, Group: GroupSymbols, Usage: "ln addr", Summary: "show the symbol nearest to an address",
			Run: runLn},
		{Names: []string{"x"}, Group: GroupSymbols, Usage: "x module!pattern", Summary: "list symbols matching a wildcard pattern",
			Run: runX},
		{Names: []string{"!analyze"}, Kind: Extension, Group: GroupAnalysis, Usage: "!analyze [-v]", Summary: "analyze the crash: exception, faulting frame, signature and bucket",
			Run: runAnalyze},
		{Names: []string{"!handle"}, Kind: Extension, Group: GroupAnalysis, Usage: "!handle [handle]", Summary: "list the handles the dump recorded",
			Run: runHandle},
	}
}

func runEval(_ context.Context, env Env, inv *Invocation, out Output) error {
	if inv.Args == "" {
		return &ExprError{Kind: SyntaxErr, Col: 1}
	}
	v, err := Eval(inv.Args, NewEvalEnv(env))
	if err != nil {
		return err
	}
	ptr := ptrOf(env)
	if ptr == 4 {
		out.Text(fmt.Sprintf("Evaluate expression: %d = %s\n", int32(v), FormatAddr(v, 4)))
	} else {
		out.Text(fmt.Sprintf("Evaluate expression: %d = %s\n", int64(v), FormatAddr(v, 8)))
	}
	return nil
}

func runHelp(_ context.Context, _ Env, inv *Invocation, out Output) error {
	e := inv.engine
	if e == nil {
		e = New(Builtins()...)
	}
	var b strings.Builder
	if err := e.WriteHelp(&b, inv.Args); err != nil {
		return err
	}
	out.Text(b.String())
	return nil
}

func runProcess(_ context.Context, env Env, _ *Invocation, out Output) error {
	p := env.Target().Info().Process
	if p == nil {
		return &NotSupportedError{What: "this dump records no process (a kernel or physical-memory dump, or no process information)"}
	}
	name := p.Name
	if name == "" {
		name = "<unknown>"
	}
	out.Text(fmt.Sprintf(".  0  id: %x  examine  name: %s\n", p.PID, name))
	if p.CommandLine != "" {
		out.Text(fmt.Sprintf("   command line: %s\n", p.CommandLine))
	}
	return nil
}

func fmtTime(t time.Time) string {
	return t.UTC().Format("Mon Jan _2 15:04:05.000 2006") + " (UTC + 0:00)"
}

func fmtUptime(d time.Duration) string {
	days := int64(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h, m, s := int64(d/time.Hour), int64(d/time.Minute)%60, int64(d/time.Second)%60
	ms := int64(d/time.Millisecond) % 1000
	return fmt.Sprintf("%d days %d:%02d:%02d.%03d", days, h, m, s, ms)
}

func timeLines(i model.Info) string {
	var b strings.Builder
	if i.Time.IsZero() {
		b.WriteString("Debug session time: not recorded in this dump\n")
	} else {
		fmt.Fprintf(&b, "Debug session time: %s\n", fmtTime(i.Time))
	}
	if i.Uptime > 0 {
		fmt.Fprintf(&b, "System Uptime: %s\n", fmtUptime(i.Uptime))
	} else {
		b.WriteString("System Uptime: not available\n")
	}
	return b.String()
}

func runTime(_ context.Context, env Env, _ *Invocation, out Output) error {
	out.Text(timeLines(env.Target().Info()))
	return nil
}

func formatLine(i model.Info) string {
	f := string(i.Format)
	if f == "" {
		f = "unknown format"
	}
	var extra []string
	if i.Variant != "" {
		extra = append(extra, i.Variant)
	}
	if i.Compression != "" {
		extra = append(extra, i.Compression)
	}
	if len(extra) > 0 {
		f += " (" + strings.Join(extra, ", ") + ")"
	}
	return f
}

func runVertarget(_ context.Context, env Env, _ *Invocation, out Output) error {
	i := env.Target().Info()
	var b strings.Builder
	os := string(i.OS.Family)
	if os == "" {
		os = "unknown OS"
	}
	if i.OS.Version != "" {
		os += " " + i.OS.Version
	}
	if i.OS.Release != "" {
		os += " (" + i.OS.Release + ")"
	}
	fmt.Fprintf(&b, "OS: %s\n", os)
	for _, d := range i.Details {
		// Windows kernel dumps: WinDbg's "Product: WinNt" line.
		if d.Key == "ProductType" {
			fmt.Fprintf(&b, "Product: %s\n", d.Value)
		}
	}
	if i.OS.Build != "" {
		fmt.Fprintf(&b, "Built by: %s\n", i.OS.Build)
	}
	arch := string(i.Arch)
	if arch == "" {
		arch = "unknown"
	}
	if i.ABI != "" {
		arch += " (" + i.ABI + ")"
	}
	if i.CPUs > 0 {
		fmt.Fprintf(&b, "Machine: %s, %d processors\n", arch, i.CPUs)
	} else {
		fmt.Fprintf(&b, "Machine: %s\n", arch)
	}
	fmt.Fprintf(&b, "Dump: %s\n", formatLine(i))
	if p := i.Process; p != nil {
		if p.PID == 0 && p.Name != "" {
			fmt.Fprintf(&b, "Process: %s\n", p.Name) // a kernel dump's process: no id recorded
		} else {
			fmt.Fprintf(&b, "Process: %x %s\n", p.PID, p.Name)
		}
	}
	b.WriteString(timeLines(i))
	out.Text(b.String())
	return nil
}

func runDumpDebug(_ context.Context, env Env, _ *Invocation, out Output) error {
	t := env.Target()
	i := t.Info()
	t2 := &Table{Columns: []Column{{Name: "Field"}, {Name: "Value"}}, NoHeader: true}
	t2.Add(Str("Format"), Str(formatLine(i)))
	if i.Threads >= 0 {
		t2.Add(Str("Threads"), Str(fmt.Sprint(i.Threads)))
	}
	if i.Modules >= 0 {
		t2.Add(Str("Modules"), Str(fmt.Sprint(i.Modules)))
	}
	for _, d := range i.Details {
		t2.Add(Str(d.Key), Str(d.Value))
	}
	out.Text("----- Dump header\n")
	out.Table(t2)
	if ds := t.Diagnostics(); len(ds) > 0 {
		out.Text("----- Diagnostics\n")
		for _, d := range ds {
			if d.Off >= 0 {
				out.Text(fmt.Sprintf("%s at file offset %#x: %s\n", d.Severity, d.Off, d.Msg))
			} else {
				out.Text(fmt.Sprintf("%s: %s\n", d.Severity, d.Msg))
			}
		}
	}
	return nil
}

func crashOf(env Env) (*model.Crash, error) {
	c := env.Target().Info().Crash
	if c == nil || c.Kind == model.NoCrash {
		return nil, &NotSupportedError{What: "this dump records no exception, signal or stop code"}
	}
	return c, nil
}

func runLastEvent(_ context.Context, env Env, _ *Invocation, out Output) error {
	c, err := crashOf(env)
	if err != nil {
		return err
	}
	tid := "?"
	if c.ThreadID != nil {
		tid = fmt.Sprintf("%x", *c.ThreadID)
	}
	name := c.Name
	if name == "" {
		name = string(c.Kind)
	}
	switch c.Kind {
	case model.Signal:
		out.Text(fmt.Sprintf("Last event: %x.%s: %s - signal %d\n", pid(env), tid, name, c.Code))
	case model.BugCheck:
		out.Text(fmt.Sprintf("Last event: BugCheck %X: %s\n", c.Code, name))
	case model.Panic, model.Oops:
		out.Text(fmt.Sprintf("Last event: %s: %s\n", c.Kind, c.Message))
	default:
		out.Text(fmt.Sprintf("Last event: %x.%s: %s - code %08x (first/second chance not available)\n", pid(env), tid, name, c.Code))
	}
	return nil
}

func runExr(_ context.Context, env Env, inv *Invocation, out Output) error {
	if inv.Args != "-1" {
		return &NotSupportedError{What: "only .exr -1 is supported: exception records are read from the dump's header, not from memory"}
	}
	c, err := crashOf(env)
	if err != nil {
		return err
	}
	var b strings.Builder
	ptr := ptrOf(env)
	if c.PC != nil {
		s := symbolize(env, *c.PC)
		if s != "" {
			s = " (" + s + ")"
		}
		fmt.Fprintf(&b, "ExceptionAddress: %s%s\n", FormatAddr(*c.PC, ptr), s)
	}
	switch c.Kind {
	case model.BugCheck:
		fmt.Fprintf(&b, "   BugCheckCode: %08x (%s)\n", c.Code, c.Name)
	case model.Signal:
		fmt.Fprintf(&b, "         Signal: %d (%s)\n", c.Code, c.Name)
	case model.Panic, model.Oops:
		fmt.Fprintf(&b, "          Event: %s\n", c.Kind)
	default:
		fmt.Fprintf(&b, "   ExceptionCode: %08x (%s)\n", c.Code, c.Name)
	}
	fmt.Fprintf(&b, "NumberParameters: %d\n", len(c.Parameters))
	for k, p := range c.Parameters {
		fmt.Fprintf(&b, "   Parameter[%d]: %s\n", k, FormatAddr(p, ptr))
	}
	if c.Address != nil {
		if c.Kind == model.Exception && c.Code == 0xc0000005 && len(c.Parameters) >= 2 {
			verb := map[uint64]string{0: "read from", 1: "write to", 8: "execute"}[c.Parameters[0]]
			if verb == "" {
				verb = "access"
			}
			fmt.Fprintf(&b, "Attempt to %s address %s\n", verb, FormatAddr(*c.Address, ptr))
		} else {
			fmt.Fprintf(&b, "Fault address: %s\n", FormatAddr(*c.Address, ptr))
		}
	}
	if c.Message != "" {
		fmt.Fprintf(&b, "Message: %s\n", c.Message)
	}
	out.Text(b.String())
	return nil
}

func runThreads(_ context.Context, env Env, inv *Invocation, out Output) error {
	ths, err := threads(env)
	if err != nil {
		return err
	}
	if len(ths) == 0 {
		out.Text("the dump lists no threads\n")
		return nil
	}
	sel := inv.Threads
	if sel.Kind == NoThreads {
		sel.Kind = AllThreads
	}
	idx, err := selectThreads(env, ths, sel)
	if err != nil {
		return err
	}
	for _, i := range idx {
		out.Text(threadLine(env, ths, i) + "\n")
	}
	return nil
}

func runSwitch(ctx context.Context, env Env, inv *Invocation, out Output) error {
	if inv.Threads.Kind == NoThreads {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "~s needs a thread: ~N s, ~~[tid] s or ~# s"}
	}
	ths, err := threads(env)
	if err != nil {
		return err
	}
	idx, err := selectThreads(env, ths, inv.Threads)
	if err != nil {
		return err
	}
	if len(idx) != 1 {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "can only switch to one thread"}
	}
	sc := env.Scope()
	sc.Thread, sc.Frame, sc.Exception, sc.NextCodeValid, sc.Cxr = idx[0], 0, false, false, nil
	if ths[idx[0]].Context == nil {
		return nil
	}
	return showRegs(env, out)
}

func runEcxr(_ context.Context, env Env, _ *Invocation, out Output) error {
	ec, ok := env.Target().(model.ExceptionContext)
	if !ok {
		return &NotSupportedError{What: "this dump has no exception context record"}
	}
	if c, err := ec.ExceptionContext(); err != nil || c == nil {
		return &NotSupportedError{What: "the exception context cannot be read", Err: err}
	}
	sc := env.Scope()
	if c := env.Target().Info().Crash; c != nil && c.ThreadID != nil {
		if ths, err := threads(env); err == nil {
			for i, th := range ths {
				if th.ID == *c.ThreadID {
					sc.Thread = i
				}
			}
		}
	}
	sc.Exception, sc.Frame, sc.NextCodeValid, sc.Cxr = true, 0, false, nil
	return showRegs(env, out)
}

func regWidth(r model.Reg, ptr int) int {
	if r.Size > 0 && r.Size <= 8 {
		return r.Size * 2
	}
	return ptr * 2
}

func showRegs(env Env, out Output) error {
	c, err := context_(env)
	if err != nil {
		return err
	}
	ptr := ptrOf(env)
	var regs []model.Reg
	for _, r := range c.Regs() {
		if len(r.Wide) == 0 && r.Size <= 8 {
			regs = append(regs, r)
		}
	}
	var b strings.Builder
	for k, r := range regs {
		if k%3 != 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%3s=%0*x", r.Name, regWidth(r, ptr), r.Value)
		if k%3 == 2 || k == len(regs)-1 {
			b.WriteByte('\n')
		}
	}
	out.Text(b.String())
	pc := c.PC()
	if s := symbolize(env, pc); s != "" {
		out.Text(s + ":\n")
	}
	if m, err := memory(env); err == nil {
		if d, err := decoderFor(env); err == nil {
			ins, _ := disasmRange(m, d, pc, 1)
			if len(ins) == 1 {
				out.Text(instLine(env, ins[0]) + "\n")
				return nil
			}
		}
	}
	out.Text(fmt.Sprintf("%s ??              ???\n", addr(env, pc)))
	return nil
}

func runRegs(_ context.Context, env Env, inv *Invocation, out Output) error {
	if inv.Args == "" {
		return showRegs(env, out)
	}
	if strings.Contains(inv.Args, "=") {
		return &NotSupportedError{What: "registers cannot be changed: a dump is read-only"}
	}
	c, err := context_(env)
	if err != nil {
		return err
	}
	sizes := map[string]model.Reg{}
	for _, r := range c.Regs() {
		sizes[r.Name] = r
	}
	var parts []string
	for _, name := range strings.FieldsFunc(inv.Args, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		n := strings.ToLower(strings.TrimPrefix(name, "@"))
		v, ok := c.Reg(n)
		if !ok {
			return fmt.Errorf("Bad register error at '%s': %s has no such register", name, c.Arch())
		}
		if r := sizes[n]; len(r.Wide) > 0 {
			parts = append(parts, n+"="+wideHex(r.Wide))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s=%0*x", n, regWidth(sizes[n], ptrOf(env)), v))
	}
	out.Text(strings.Join(parts, " ") + "\n")
	return nil
}

// wideHex prints a register wider than 64 bits (xmm, ymm, st, v) as one
// hex number, most significant byte first: Wide holds it little-endian.
func wideHex(b []byte) string {
	var sb strings.Builder
	for i := len(b) - 1; i >= 0; i-- {
		fmt.Fprintf(&sb, "%02x", b[i])
	}
	return sb.String()
}

// lmOptions parses lm's options, including run-together forms (lmvm).
type lmOptions struct {
	verbose, tn bool
	pattern     string
}

func parseLm(inv *Invocation) (lmOptions, error) {
	var o lmOptions
	toks := append([]string{}, inv.Tokens...)
	if extra := strings.ToLower(inv.Name[2:]); extra != "" {
		toks = append([]string{extra}, toks...)
	}
	for k := 0; k < len(toks); k++ {
		t := strings.ToLower(toks[k])
		for j := 0; j < len(t); j++ {
			switch t[j] {
			case 'v':
				o.verbose = true
			case 't':
				if j+1 < len(t) && t[j+1] == 'n' {
					j++
				} else if k+1 < len(toks) && strings.EqualFold(toks[k+1], "n") && j == len(t)-1 {
					k++
				}
				o.tn = true
			case 'n':
				o.tn = true
			case 'm':
				if rest := toks[k][j+1:]; rest != "" {
					o.pattern = rest
				} else if k+1 < len(toks) {
					k++
					o.pattern = toks[k]
				} else {
					return o, &SyntaxError{Line: inv.Raw, Col: 1, Msg: "lm m needs a pattern"}
				}
				j = len(t)
			case 'o', 'l', 'f': // accepted and ignored: every listed module is loaded
			default:
				return o, &SyntaxError{Line: inv.Raw, Col: 1, Msg: fmt.Sprintf("unknown lm option '%c'", t[j])}
			}
		}
	}
	return o, nil
}

// Match reports whether name matches a WinDbg wildcard pattern (* and ?),
// ignoring case; it is symbols.Match, which x uses too.
func Match(pattern, name string) bool { return symbols.Match(pattern, name) }

func runLm(_ context.Context, env Env, inv *Invocation, out Output) error {
	o, err := parseLm(inv)
	if err != nil {
		return err
	}
	ms, err := modules(env)
	if err != nil {
		return err
	}
	ms = slices.Clone(ms)
	slices.SortStableFunc(ms, func(a, b model.Module) int {
		switch {
		case a.Base < b.Base:
			return -1
		case a.Base > b.Base:
			return 1
		}
		return 0
	})
	ptr := ptrOf(env)
	t := &Table{PtrSize: ptr, Columns: []Column{{Name: "start", Kind: ColAddr}, {Name: "end", Kind: ColAddr}, {Name: "module"}, {Name: "name"}}}
	if o.tn {
		t.Columns = append(t.Columns, Column{Name: "timestamp"})
	}
	var verbose strings.Builder
	n := 0
	nameW := len("module")
	for _, m := range ms {
		nameW = max(nameW, len(ModuleName(m.Path)))
	}
	aw := len(FormatAddr(0, ptr))
	for _, m := range ms {
		name := ModuleName(m.Path)
		if o.pattern != "" && !Match(o.pattern, name) {
			continue
		}
		n++
		status := symbolState(env, m)
		if o.tn {
			ts := "unavailable"
			if !m.Time.IsZero() {
				ts = fmt.Sprintf("%s (%08X)", m.Time.UTC().Format("Mon Jan _2 15:04:05 2006"), uint32(m.Time.Unix()))
			}
			t.Add(Uint(m.Base), Uint(m.Base+m.Size), Str(name), Str(m.Name()), Str(ts))
			continue
		}
		if !o.verbose {
			t.Add(Uint(m.Base), Uint(m.Base+m.Size), Str(name), Str(status))
			continue
		}
		fmt.Fprintf(&verbose, "%s  %s  %-*s  %s\n", FormatAddr(m.Base, ptr), FormatAddr(m.Base+m.Size, ptr), nameW, name, status)
		field := func(k, v string) {
			if v != "" {
				fmt.Fprintf(&verbose, "    %-17s %s\n", k+":", v)
			}
		}
		field("Image path", m.Path)
		field("Image name", m.Name())
		if !m.Time.IsZero() {
			field("Timestamp", fmt.Sprintf("%s (%08X)", m.Time.UTC().Format("Mon Jan _2 15:04:05 2006"), uint32(m.Time.Unix())))
		}
		if m.Checksum != 0 {
			field("CheckSum", fmt.Sprintf("%08X", m.Checksum))
		}
		field("ImageSize", fmt.Sprintf("%08X", m.Size))
		field("File version", m.Version)
		field("Code id", m.CodeID)
		field("Debug file", m.DebugFile)
		field("Debug id", m.DebugID)
		field("Symbol file", symbolFile(env, m))
		field("Symbol errors", symbolErrors(env, m))
		if len(m.BuildID) > 0 {
			field("Build id", fmt.Sprintf("%x", m.BuildID))
		}
	}
	switch {
	case n == 0 && o.pattern != "":
		out.Text(fmt.Sprintf("no module matches %s\n", o.pattern))
	case o.verbose && !o.tn:
		out.Text(fmt.Sprintf("%-*s  %-*s  %-*s  name\n", aw, "start", aw, "end", nameW, "module") + verbose.String())
	default:
		out.Table(t)
	}
	return nil
}

// symbolLoader is what lm asks the resolver when it can answer: whether a
// module's symbols were loaded yet and from where (symbols.Set does).
type symbolLoader interface {
	Loaded(module string) bool
	Status(module string) (source string, err error)
}

// symbolFile is where a loaded module's symbols came from, for lm v: the
// source the provider names, "" while deferred or without symbols.
func symbolFile(env Env, m model.Module) string {
	sl, ok := env.Symbols().(symbolLoader)
	if m.Unloaded || !ok || !sl.Loaded(m.Name()) {
		return ""
	}
	src, _ := sl.Status(m.Name())
	return src
}

// symbolErrors is what went wrong loading a module's symbols (a
// mismatched PDB, an unreadable file), for lm v.
func symbolErrors(env Env, m model.Module) string {
	sl, ok := env.Symbols().(symbolLoader)
	if m.Unloaded || !ok || !sl.Loaded(m.Name()) {
		return ""
	}
	if _, err := sl.Status(m.Name()); err != nil {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return ""
}

// symbolState is lm's status column, as WinDbg spells it: (deferred)
// until symbols are needed, then where they came from, or (no symbols).
func symbolState(env Env, m model.Module) string {
	if m.Unloaded {
		return "(unloaded)"
	}
	sl, ok := env.Symbols().(symbolLoader)
	if !ok || !sl.Loaded(m.Name()) {
		return "(deferred)"
	}
	src, err := sl.Status(m.Name())
	mismatch := ""
	if _, ok := errors.AsType[*symbols.MismatchError](err); ok {
		mismatch = " M" // WinDbg's flag for a mismatched PDB
	}
	switch {
	case src == "":
		return "(no symbols)" + mismatch
	case strings.Contains(src, "export"):
		return "(export symbols)"
	case strings.HasPrefix(src, "pdb symbols"):
		return "(pdb symbols)"
	case mismatch != "":
		return "(" + src + ")" + mismatch
	case strings.Contains(src, "breakpad"), strings.Contains(src, ".sym"):
		return "(breakpad symbols)"
	case strings.Contains(src, "dwarf"):
		return "(dwarf symbols)"
	}
	return "(" + src + ")"
}
