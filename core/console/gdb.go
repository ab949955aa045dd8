package console

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// gdb's commands for engineers who think in gdb. They print what gdb
// prints (the layouts were checked against gdb 13 on process cores) from
// the same data the WinDbg commands use: bt walks the stack k walks, info
// proc mappings lists the regions !address lists. Thread numbers are gdb's:
// 1-based, in the dump's thread order (index+1 of ~).

// gdbCommands returns the gdb aliases, appended to Builtins.
func gdbCommands() []Command {
	return []Command{
		{Names: []string{"bt", "backtrace", "where"}, Group: GroupGDB, Usage: "bt [N|-N] | bt [-t] [-a|PID]", Summary: "gdb's backtrace of the current thread (the stack k shows); on a Linux kernel dump, crash's bt of a task",
			Help: "Prints `#0  0x00005642e0279234 in level3 () at crash.c:8` per frame, `in ?? () from /usr/lib/libc.so.6` when only the module is known. " +
				"Parameter values are not shown: the dump's debug information is not evaluated. gdb omits frame 0's address when the PC is at the first " +
				"instruction of a source line; crashbench always prints it. Calls inlined at a frame's PC are frames of their own, innermost first, " +
				"as gdb numbers them. `bt N` shows the innermost N frames (counting frames on the stack, not inlined calls), `bt -N` the outermost N; " +
				"`full` is accepted and ignored. " +
				"On a Linux kernel dump `bt [PID]` is crash's bt of a task (the crashing CPU's task without PID): its kernel stack unwound with the kernel's own ORC data, " +
				"read from memory (vmlinux's tables through kallsyms, each module's through BTF), from the registers the dump saved for a running task or the frame " +
				"a sleeping task's last switch saved, down to the user-mode registers of its system call; `bt -a` does it for the task of every CPU (an IRQ stack is followed back to the task's); `bt -t` lists every kernel text address on the stack instead, " +
				"`?` before those that follow no call.",
			Run: runBacktrace},
		{Names: []string{"thread", "t"}, Group: GroupGDB, Usage: "thread [N | apply all|N... CMD]", Summary: "show or switch the current thread by gdb number, or run a command on several threads",
			Help: "`thread apply all bt` (also `t a a bt`) runs bt on every thread, highest number first as gdb does, under headers such as `Thread 4 (LWP 15834):`. " +
				"Threads are named `LWP tid` as gdb names them without libthread_db (`Thread pid.0xtid` on Windows dumps). Any console command may follow `thread apply`.",
			Run: runGDBThread},
		{Names: []string{"frame", "f"}, Group: GroupGDB, Usage: "frame [N]", Summary: "select frame N of the current stack (decimal), or show the selected one",
			Help: "The same selection as .frame: r, u, info registers and @registers then use that frame's recovered registers.",
			Run:  runGDBFrame},
		{Names: []string{"up"}, Group: GroupGDB, Usage: "up [N]", Summary: "select the frame N (default 1) levels toward the outermost",
			Run: runGDBUpDown},
		{Names: []string{"down"}, Group: GroupGDB, Usage: "down [N]", Summary: "select the frame N (default 1) levels toward the innermost",
			Run: runGDBUpDown},
		{Names: []string{"info", "i"}, Group: GroupGDB, Usage: "info SUBCOMMAND [args]", Summary: "gdb's info threads, info registers [reg...], info all-registers, info sharedlibrary and info proc mappings",
			Help: "Subcommands may be abbreviated as in gdb (`i r`, `info reg rip`, `info shared`, `info proc map`).\n\n" +
				"`info registers` prints name, hex and natural value: decimal for general registers, hex (with `<symbol+offset>` for the PC) for " +
				"pointer registers, and the flag names for x86 eflags and arm64 cpsr. Without names it lists the general registers in gdb's order " +
				"(on x86-64 fs_base and gs_base follow gs, as gdb prints them when a core's register notes are complete; orig_rax needs a name). " +
				"A caller frame selected with frame or up shows only the registers the unwinder recovered.\n\n" +
				"`info all-registers` adds the floating-point and vector registers the dump holds (x87 st0-7 and control words, xmm, ymm, " +
				"zmm, k, mxcsr; arm64 v0-31, fpsr, fpcr, tpidr, pauth masks, vg), wide ones in gdb's union format.\n\n" +
				"`info sharedlibrary` lists the modules other than the main executable. From and To are the module's executable mapping when the " +
				"dump records protections (gdb prints the .text section, which lies inside it), else the whole module mapping; Syms Read is Yes when " +
				"symbols for the module could be loaded, `Yes (*)` when they carry no debug information.\n\n" +
				"`info proc mappings` lists the regions !address lists, in gdb's layout; Offset is the mapped file's offset where the dump records it " +
				"(Linux cores' NT_FILE), Perms the recorded protections (sharing is not recorded, so the fourth letter gdb shows for live processes is absent), " +
				"and ranges the dump does not hold say so after the file name.",
			Run: runInfo},
	}
}

// gdbNumber parses a decimal gdb number (thread or frame).
func gdbNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

// gdbAddr prints an address as gdb does: zero-padded to the pointer width.
func gdbAddr(v uint64, ptr int) string { return fmt.Sprintf("0x%0*x", ptr*2, v) }

// frameFunction is the function name of a frame: the walker's when it
// gives one, else the part of "module!function+0x1f" between ! and +.
func frameFunction(f StackFrame) string {
	if f.Function != "" {
		return f.Function
	}
	_, fn, ok := strings.Cut(f.Name, "!")
	if !ok {
		return ""
	}
	if i := strings.LastIndex(fn, "+0x"); i > 0 {
		if _, err := strconv.ParseUint(fn[i+3:], 16, 64); err == nil {
			fn = fn[:i]
		}
	}
	return fn
}

// modulePath returns the path of the loaded module holding a, or "".
func modulePath(env Env, a uint64) string {
	ms, _ := modules(env)
	for k, m := range ms {
		if !m.Unloaded && m.Contains(a) {
			// gdb says "from" only for shared libraries.
			if isMainExecutable(env, m, k == 0) {
				return ""
			}
			return m.Path
		}
	}
	return ""
}

// gdbFrameText is a frame as gdb describes it after "#N  ":
// "0x… in fn () at file:line", "0x… in fn () from /lib/x.so" or
// "0x… in ?? ()".
func gdbFrameText(env Env, pc uint64, fn, file string, line int) string {
	if fn == "" {
		fn = "??"
	}
	s := fmt.Sprintf("%s in %s ()", gdbAddr(pc, ptrOf(env)), fn)
	switch {
	case file != "" && line > 0:
		s += fmt.Sprintf(" at %s:%d", file, line)
	case file != "":
		s += " at " + file
	default:
		if p := modulePath(env, pc); p != "" {
			s += " from " + p
		}
	}
	return s
}

// gdbPCText describes a thread's PC (frame 0) from the symbols alone, for
// info threads, which does not walk stacks.
func gdbPCText(env Env, pc uint64) string {
	fn, file, line := "", "", 0
	if r := env.Symbols(); r != nil {
		if s, ok := r.Lookup(pc); ok {
			fn, file, line = s.Name, s.File, s.Line
		}
	}
	return gdbFrameText(env, pc, fn, file, line)
}

func gdbFrameLine(env Env, f StackFrame) string {
	return fmt.Sprintf("#%-3d%s", f.Index, gdbFrameText(env, f.PC, frameFunction(f), f.File, f.Line))
}

// gdbFrameLines prints a frame as gdb's bt does, from number n on: each
// call inlined at its PC is a frame of its own, innermost first, the first
// with the address, the others (and the function holding them) without,
// as they share it. It returns the next frame number.
func gdbFrameLines(b *strings.Builder, env Env, f StackFrame, n int) int {
	if f.Signal {
		fmt.Fprintf(b, "#%-3d<signal handler called>\n", n)
		return n + 1
	}
	if len(f.Inlined) == 0 {
		f.Index = n
		b.WriteString(gdbFrameLine(env, f) + "\n")
		return n + 1
	}
	for i, in := range f.Inlined {
		if i == 0 {
			fmt.Fprintf(b, "#%-3d%s\n", n, gdbFrameText(env, f.PC, in.Function, in.File, in.Line))
		} else {
			fmt.Fprintf(b, "#%-3d%s\n", n, gdbInlineText(in.Function, in.File, in.Line))
		}
		n++
	}
	fmt.Fprintf(b, "#%-3d%s\n", n, gdbInlineText(frameFunction(f), f.File, f.Line))
	return n + 1
}

// gdbInlineText is a frame without an address: "fn () at file:line".
func gdbInlineText(fn, file string, line int) string {
	s := fn + " ()"
	if file != "" && line > 0 {
		s += fmt.Sprintf(" at %s:%d", file, line)
	}
	return s
}

// runBacktrace is bt [N|-N] [full].
func runBacktrace(ctx context.Context, env Env, inv *Invocation, out Output) error {
	if li, ok := env.(LinuxInspector); ok && isLinuxKernelDump(env) {
		return runKernelBt(ctx, li, env, inv, out)
	}
	count, fromEnd := -1, false
	for _, tok := range inv.Tokens {
		switch t := strings.ToLower(tok); {
		case t == "full" || t == "-full":
		case strings.HasPrefix(t, "-"):
			n, ok := gdbNumber(t[1:])
			if !ok {
				return &SyntaxError{Line: inv.Raw, Col: 1, Msg: fmt.Sprintf("bt: unknown option '%s' (bt takes a frame count)", tok)}
			}
			count, fromEnd = n, true
		default:
			n, ok := gdbNumber(t)
			if !ok {
				return &SyntaxError{Line: inv.Raw, Col: 1, Msg: fmt.Sprintf("bt: '%s' is not a frame count", tok)}
			}
			count = n
		}
	}
	frames, err := walk(ctx, env)
	if len(frames) == 0 {
		if err == nil {
			err = errNoFrames
		}
		return err
	}
	shown := frames
	more := false
	if count >= 0 && count < len(frames) {
		if fromEnd {
			shown = frames[len(frames)-count:]
		} else {
			shown, more = frames[:count], true
		}
	}
	var b strings.Builder
	n := 0
	if len(shown) > 0 {
		n = shown[0].Index
		for _, f := range frames[:n] {
			n += len(f.Inlined) // frames above the shown ones count their inlines too
		}
	}
	for _, f := range shown {
		n = gdbFrameLines(&b, env, f, n)
	}
	if more {
		b.WriteString("(More stack frames follow...)\n")
	} else if err != nil {
		fmt.Fprintf(&b, "Backtrace stopped: %v\n", err)
	}
	out.Text(b.String())
	return nil
}

// gdbTargetID names a thread as gdb's Target Id column does without
// libthread_db: "LWP 15831"; Windows targets "Thread 6700.0x1c44".
func gdbTargetID(env Env, th model.Thread) string {
	if env.Target().Info().OS.Family == model.Windows {
		return fmt.Sprintf("Thread %d.%#x", pid(env), th.ID)
	}
	return fmt.Sprintf("LWP %d", th.ID)
}

// gdbThreadNum parses a gdb thread number into a thread index.
func gdbThreadNum(s string, n int) (int, error) {
	k, ok := gdbNumber(s)
	if !ok || k == 0 {
		return 0, fmt.Errorf("Invalid thread ID: %s", s)
	}
	if k > n {
		return 0, fmt.Errorf("Unknown thread %d.", k)
	}
	return k - 1, nil
}

// runGDBThread is thread, thread N and thread apply.
func runGDBThread(ctx context.Context, env Env, inv *Invocation, out Output) error {
	ths, err := threads(env)
	if err != nil {
		return err
	}
	toks := inv.Tokens
	if isThreadApply(*inv) {
		return runThreadApply(ctx, env, inv, ths, out)
	}
	sc := env.Scope()
	if len(toks) == 0 {
		if sc.Thread < 0 || sc.Thread >= len(ths) {
			return fmt.Errorf("No thread selected.")
		}
		out.Text(fmt.Sprintf("[Current thread is %d (%s)]\n", sc.Thread+1, gdbTargetID(env, ths[sc.Thread])))
		return nil
	}
	if len(toks) > 1 {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "thread takes one thread number, or apply"}
	}
	i, err := gdbThreadNum(toks[0], len(ths))
	if err != nil {
		return err
	}
	sc.Thread, sc.Frame, sc.Exception, sc.NextCodeValid, sc.Cxr = i, 0, false, false, nil
	out.Text(fmt.Sprintf("[Switching to thread %d (%s)]\n", i+1, gdbTargetID(env, ths[i])))
	return showGDBFrame(ctx, env, out)
}

func isThreadApply(inv Invocation) bool {
	n := strings.ToLower(inv.Name)
	return (n == "thread" || n == "t") && len(inv.Tokens) > 0 && strings.HasPrefix("apply", strings.ToLower(inv.Tokens[0]))
}

// runThreadApply is thread apply all|N... CMD: CMD once per thread, with
// the scope switched to it, under gdb's "Thread N (LWP n):" header.
func runThreadApply(ctx context.Context, env Env, inv *Invocation, ths []model.Thread, out Output) error {
	toks := inv.Tokens[1:]
	var idx []int
	switch {
	case len(toks) > 0 && strings.HasPrefix("all", strings.ToLower(toks[0])):
		toks = toks[1:]
		ascending := len(toks) > 0 && toks[0] == "-ascending"
		if ascending {
			toks = toks[1:]
		}
		for k := range ths {
			if ascending {
				idx = append(idx, k)
			} else {
				idx = append(idx, len(ths)-1-k)
			}
		}
	default:
		for len(toks) > 0 {
			if _, ok := gdbNumber(toks[0]); !ok {
				break
			}
			i, err := gdbThreadNum(toks[0], len(ths))
			if err != nil {
				return err
			}
			idx, toks = append(idx, i), toks[1:]
		}
		if len(idx) == 0 {
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "thread apply needs 'all' or thread numbers, then a command"}
		}
	}
	if len(toks) == 0 {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "Please specify a command following the thread ID list"}
	}
	line := strings.Join(toks, " ")
	if sub, err := ParseLine(line); err == nil && len(sub) > 0 && isThreadApply(sub[0]) {
		// Nesting multiplies the work by the thread count per level.
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "thread apply cannot run thread apply"}
	}
	e := inv.engine
	if e == nil {
		e = New(Builtins()...)
	}
	sc := env.Scope()
	saved := *sc
	defer func() {
		sc.Thread, sc.Frame, sc.Exception, sc.Cxr = saved.Thread, saved.Frame, saved.Exception, saved.Cxr
	}()
	for _, i := range idx {
		if err := ctx.Err(); err != nil {
			return err
		}
		sc.Thread, sc.Frame, sc.Exception, sc.Cxr = i, 0, false, nil
		out.Text(fmt.Sprintf("\nThread %d (%s):\n", i+1, gdbTargetID(env, ths[i])))
		if err := e.Exec(ctx, env, line, out); err != nil {
			// gdb reports a failing thread and goes on with the next.
			out.Text(err.Error() + "\n")
		}
	}
	return nil
}

// showGDBFrame prints the selected frame as gdb's frame command does
// (without the source line, which the dump does not hold).
func showGDBFrame(ctx context.Context, env Env, out Output) error {
	fs, err := frames(ctx, env)
	if err != nil {
		// Without a stack, frame 0 is still the thread's PC.
		if c, cerr := context_(env); cerr == nil && env.Scope().Frame == 0 {
			out.Text("#0  " + gdbPCText(env, c.PC()) + "\n")
			return nil
		}
		return err
	}
	sc := env.Scope()
	if sc.Frame >= len(fs) {
		sc.Frame = 0
	}
	out.Text(gdbFrameLine(env, fs[sc.Frame]) + "\n")
	return nil
}

// runGDBFrame is frame [N].
func runGDBFrame(ctx context.Context, env Env, inv *Invocation, out Output) error {
	if a := strings.TrimSpace(inv.Args); a != "" {
		a = strings.TrimSpace(strings.TrimPrefix(a, "level "))
		n, ok := gdbNumber(a)
		if !ok {
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "frame takes a frame number (decimal)"}
		}
		fs, err := frames(ctx, env)
		if err != nil {
			return err
		}
		if n >= len(fs) {
			return fmt.Errorf("No frame at level %s.", a)
		}
		env.Scope().Frame = n
	}
	return showGDBFrame(ctx, env, out)
}

// runGDBUpDown is up [N] and down [N].
func runGDBUpDown(ctx context.Context, env Env, inv *Invocation, out Output) error {
	n := 1
	if a := strings.TrimSpace(inv.Args); a != "" {
		k, ok := gdbNumber(a)
		if !ok {
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: inv.Name + " takes a frame count (decimal)"}
		}
		n = k
	}
	fs, err := frames(ctx, env)
	if err != nil {
		return err
	}
	sc := env.Scope()
	cur := min(max(sc.Frame, 0), len(fs)-1)
	if strings.EqualFold(inv.Name, "up") {
		if cur == len(fs)-1 && n > 0 {
			return fmt.Errorf("Initial frame selected; you cannot go up.")
		}
		sc.Frame = min(cur+n, len(fs)-1)
	} else {
		if cur == 0 && n > 0 {
			return fmt.Errorf("Bottom (innermost) frame selected; you cannot go down.")
		}
		sc.Frame = max(cur-n, 0)
	}
	return showGDBFrame(ctx, env, out)
}

// abbrev reports whether word abbreviates full to at least min letters, as
// gdb accepts "info reg" and "i r".
func abbrev(word, full string, min int) bool {
	w := strings.ToLower(word)
	return len(w) >= min && strings.HasPrefix(full, w)
}

// runInfo dispatches gdb's info subcommands.
func runInfo(ctx context.Context, env Env, inv *Invocation, out Output) error {
	if len(inv.Tokens) == 0 {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "info needs a subcommand: threads, registers, all-registers, sharedlibrary or proc mappings"}
	}
	sub, rest := inv.Tokens[0], inv.Tokens[1:]
	switch {
	case abbrev(sub, "threads", 2):
		return runInfoThreads(env, out)
	case abbrev(sub, "registers", 1):
		return runInfoRegisters(env, rest, false, out)
	case abbrev(sub, "all-registers", 2):
		return runInfoRegisters(env, rest, true, out)
	case abbrev(sub, "sharedlibrary", 2), strings.EqualFold(sub, "dll"):
		return runInfoShared(env, out)
	case strings.EqualFold(sub, "proc"):
		if len(rest) == 1 && abbrev(rest[0], "mappings", 3) {
			return runInfoMappings(env, out)
		}
		return &NotSupportedError{What: "only info proc mappings is supported: a dump has no /proc"}
	}
	return fmt.Errorf("Undefined info command: \"%s\".  Try \"help info\" (supported here: threads, registers, all-registers, sharedlibrary, proc mappings).", inv.Args)
}

// runInfoThreads is gdb's info threads table.
func runInfoThreads(env Env, out Output) error {
	ths, err := threads(env)
	if err != nil {
		return err
	}
	if len(ths) == 0 {
		out.Text("No threads.\n")
		return nil
	}
	ids := make([]string, len(ths))
	w := 17 // gdb's minimum Target Id width
	for i, th := range ths {
		ids[i] = gdbTargetID(env, th)
		if th.Name != "" {
			ids[i] += fmt.Sprintf(" %q", th.Name)
		}
		w = max(w, len(ids[i]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %-4s %-*s %s\n", "Id", w, "Target Id", "Frame ")
	for i, th := range ths {
		mark := " "
		if i == env.Scope().Thread {
			mark = "*"
		}
		frame := "<unavailable>"
		if th.Context != nil {
			frame = gdbPCText(env, th.Context.PC())
		}
		fmt.Fprintf(&b, "%s %-4d %-*s %s\n", mark, i+1, w, ids[i], frame)
	}
	out.Text(b.String())
	return nil
}

// gdbRegOrder is the order of gdb's general registers where it differs
// from the dump's, for the architectures whose dumps list them otherwise.
var gdbRegOrder = map[model.Arch][]string{
	model.AMD64: {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
		"r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base"},
	model.X86: {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"},
}

// gdbPointerRegs are the registers gdb types as pointers: code pointers
// print with <symbol+offset>, data pointers in hex only.
var gdbPointerRegs = map[model.Arch]struct{ code, data []string }{
	model.AMD64:   {[]string{"rip"}, []string{"rsp", "rbp"}},
	model.X86:     {[]string{"eip"}, []string{"esp", "ebp"}},
	model.ARM64:   {[]string{"pc"}, []string{"sp", "tpidr", "tpidr2"}},
	model.ARM:     {[]string{"pc"}, []string{"sp"}},
	model.RISCV64: {[]string{"pc", "ra"}, []string{"sp", "gp", "tp", "fp"}},
	model.RISCV32: {[]string{"pc", "ra"}, []string{"sp", "gp", "tp", "fp"}},
	model.PPC:     {[]string{"pc", "lr"}, nil},
	model.PPC64:   {[]string{"pc", "lr"}, nil},
	model.PPC64LE: {[]string{"pc", "lr"}, nil},
}

// gdbRegName is the name gdb gives a register the dump names otherwise.
func gdbRegName(arch model.Arch, n string) string {
	switch n {
	case "efl", "rflags":
		return "eflags"
	case "pstate":
		return "cpsr"
	case "fp":
		if arch == model.ARM64 {
			return "x29"
		}
	case "lr":
		if arch == model.ARM64 {
			return "x30"
		}
	}
	return n
}

// x86Flags and arm64CPSR are gdb's flag types: single bits print by name
// when set, fields always print as NAME=value.
var (
	x86Flags = []flagField{{"CF", 0, 1}, {"PF", 2, 1}, {"AF", 4, 1}, {"ZF", 6, 1}, {"SF", 7, 1}, {"TF", 8, 1},
		{"IF", 9, 1}, {"DF", 10, 1}, {"OF", 11, 1}, {"NT", 14, 1}, {"RF", 16, 1}, {"VM", 17, 1}, {"AC", 18, 1},
		{"VIF", 19, 1}, {"VIP", 20, 1}, {"ID", 21, 1}}
	arm64CPSR = []flagField{{"SP", 0, 1}, {"EL", 2, 2}, {"nRW", 4, 1}, {"F", 6, 1}, {"I", 7, 1}, {"A", 8, 1},
		{"D", 9, 1}, {"BTYPE", 10, 2}, {"SSBS", 12, 1}, {"IL", 20, 1}, {"SS", 21, 1}, {"PAN", 22, 1},
		{"UAO", 23, 1}, {"DIT", 24, 1}, {"TCO", 25, 1}, {"V", 28, 1}, {"C", 29, 1}, {"Z", 30, 1}, {"N", 31, 1}}
	// x86MXCSR is gdb's i386_mxcsr (features/i386/64bit-sse.xml);
	// arm64FPSR and arm64FPCR its fpsr_flags and fpcr_flags
	// (features/aarch64-fpu.c).
	x86MXCSR = []flagField{{"IE", 0, 1}, {"DE", 1, 1}, {"ZE", 2, 1}, {"OE", 3, 1}, {"UE", 4, 1}, {"PE", 5, 1},
		{"DAZ", 6, 1}, {"IM", 7, 1}, {"DM", 8, 1}, {"ZM", 9, 1}, {"OM", 10, 1}, {"UM", 11, 1}, {"PM", 12, 1}, {"FZ", 15, 1}}
	arm64FPSR = []flagField{{"IOC", 0, 1}, {"DZC", 1, 1}, {"OFC", 2, 1}, {"UFC", 3, 1}, {"IXC", 4, 1}, {"IDC", 7, 1},
		{"QC", 27, 1}, {"V", 28, 1}, {"C", 29, 1}, {"Z", 30, 1}, {"N", 31, 1}}
	arm64FPCR = []flagField{{"FIZ", 0, 1}, {"AH", 1, 1}, {"NEP", 2, 1}, {"IOE", 8, 1}, {"DZE", 9, 1}, {"OFE", 10, 1},
		{"UFE", 11, 1}, {"IXE", 12, 1}, {"EBF", 13, 1}, {"IDE", 15, 1}, {"Len", 16, 3}, {"FZ16", 19, 1},
		{"Stride", 20, 2}, {"RMode", 22, 2}, {"FZ", 24, 1}, {"DN", 25, 1}, {"AHP", 26, 1}}
)

type flagField struct {
	name        string
	start, bits uint
}

func flagText(fs []flagField, v uint64) string {
	parts := []string{"["}
	for _, f := range fs {
		x := v >> f.start & (1<<f.bits - 1)
		switch {
		case f.bits > 1:
			parts = append(parts, fmt.Sprintf("%s=%d", f.name, x))
		case x != 0:
			parts = append(parts, f.name)
		}
	}
	return strings.Join(append(parts, "]"), " ")
}

// gdbRegLine is one line of info registers: the name, the hex value from
// column 15 and the natural value from column 35, as gdb aligns them.
func gdbRegLine(env Env, arch model.Arch, name string, r model.Reg) string {
	if line, ok := gdbWideLine(arch, name, r); ok {
		return line
	}
	hex := fmt.Sprintf("%#x", r.Value)
	size := r.Size
	if size <= 0 || size > 8 {
		size = PointerSize(arch)
	}
	natural := fmt.Sprint(int64(r.Value<<(64-8*size)) >> (64 - 8*size))
	ptrs := gdbPointerRegs[arch]
	switch {
	case name == "eflags" && (arch == model.AMD64 || arch == model.X86):
		natural = flagText(x86Flags, r.Value)
	case name == "cpsr" && arch == model.ARM64:
		natural = flagText(arm64CPSR, r.Value)
	case name == "mxcsr" && (arch == model.AMD64 || arch == model.X86):
		natural = flagText(x86MXCSR, r.Value)
	case name == "fpsr" && arch == model.ARM64:
		natural = flagText(arm64FPSR, r.Value)
	case name == "fpcr" && arch == model.ARM64:
		natural = flagText(arm64FPCR, r.Value)
	case containsName(ptrs.code, name) || ptrs.code == nil && name == "pc":
		natural = hex
		if res := env.Symbols(); res != nil {
			if s, ok := res.Lookup(r.Value); ok && s.Name != "" {
				natural += fmt.Sprintf(" <%s>", offDecimal(s.Name, r.Value-s.Addr))
			}
		}
	case containsName(ptrs.data, name) || ptrs.data == nil && name == "sp":
		natural = hex
	}
	return padTo(padTo(name, 15)+hex, 35) + natural
}

// padTo pads s with blanks to column col, or by one blank when s reaches
// it already (gdb's pad_to_column).
func padTo(s string, col int) string {
	if len(s) >= col {
		return s + " "
	}
	return s + strings.Repeat(" ", col-len(s))
}

func offDecimal(name string, off uint64) string {
	if off == 0 {
		return name
	}
	return fmt.Sprintf("%s+%d", name, off)
}

func containsName(list []string, n string) bool {
	for _, s := range list {
		if s == n {
			return true
		}
	}
	return false
}

// runInfoRegisters is info registers [reg...] and, with all, info
// all-registers [reg...].
func runInfoRegisters(env Env, names []string, all bool, out Output) error {
	c, err := context_(env)
	if err != nil {
		return err
	}
	arch := c.Arch()
	var regs []model.Reg
	byName := map[string]model.Reg{}
	for _, r := range c.Regs() {
		r.Name = gdbRegName(arch, r.Name)
		if _, dup := byName[r.Name]; !dup {
			byName[r.Name] = r
			regs = append(regs, r)
		}
	}
	var b strings.Builder
	if len(names) > 0 {
		for _, n := range names {
			n = gdbRegName(arch, strings.ToLower(strings.TrimLeft(n, "$@")))
			r, ok := byName[n]
			if !ok {
				v, found := c.Reg(n)
				if !found {
					return fmt.Errorf("Invalid register `%s'", n)
				}
				r = model.Reg{Name: n, Value: v}
			}
			b.WriteString(gdbRegLine(env, arch, n, r) + "\n")
		}
		out.Text(b.String())
		return nil
	}
	var general []model.Reg
	if order, ok := gdbRegOrder[arch]; ok {
		// gdb's general group, in its order; orig_rax and the vector
		// state belong to other groups.
		for _, n := range order {
			if r, ok := byName[n]; ok {
				general = append(general, r)
			}
		}
	} else {
		for _, r := range regs {
			if !isVectorReg(arch, r) {
				general = append(general, r)
			}
		}
	}
	list := general
	if all {
		// Then everything else in the dump's order, which is gdb's for the
		// floating-point and vector registers (on arm64 gdb's general
		// group, fpsr, fpcr and tpidr, comes after v0..v31: the dump's
		// order throughout). gdb leaves out the registers a wider one
		// contains (xmm in ymm, ymm in zmm).
		shown := map[string]bool{}
		if _, ok := gdbRegOrder[arch]; ok {
			for _, r := range general {
				shown[r.Name] = true
			}
		} else {
			list = nil
		}
		for _, r := range regs {
			if !shown[r.Name] && !containedIn(byName, arch, r.Name) {
				list = append(list, r)
			}
		}
	}
	for _, r := range list {
		if strings.HasPrefix(r.Name, "orig_") {
			continue
		}
		b.WriteString(gdbRegLine(env, arch, r.Name, r) + "\n")
	}
	out.Text(b.String())
	return nil
}

// isVectorReg reports whether r is outside gdb's general group when the
// dump lists it among the others: vector and x87 registers wider than 64
// bits, and arm64's SVE predicates.
func isVectorReg(arch model.Arch, r model.Reg) bool {
	if len(r.Wide) > 0 || r.Size > 8 {
		return true
	}
	return arch == model.ARM64 && isSVEPredicate(r.Name)
}

func isSVEPredicate(name string) bool {
	if name == "ffr" {
		return true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(name, "p"))
	return strings.HasPrefix(name, "p") && err == nil && n >= 0 && n < 16
}

// containedIn reports whether x86 register name is the low part of a
// wider register the dump also has: xmmN of ymmN or zmmN, ymmN of zmmN.
func containedIn(regs map[string]model.Reg, arch model.Arch, name string) bool {
	if arch != model.AMD64 && arch != model.X86 {
		return false
	}
	var wider []string
	switch {
	case strings.HasPrefix(name, "xmm"):
		wider = []string{"ymm" + name[3:], "zmm" + name[3:]}
	case strings.HasPrefix(name, "ymm"):
		wider = []string{"zmm" + name[3:]}
	}
	for _, w := range wider {
		if _, ok := regs[w]; ok {
			return true
		}
	}
	return false
}

// isMainExecutable reports whether m is the program rather than a shared
// library: gdb's info sharedlibrary leaves it out. Process names are
// pr_fname on Linux, at most 15 bytes.
func isMainExecutable(env Env, m model.Module, first bool) bool {
	i := env.Target().Info()
	if p := i.Process; p != nil && p.Name != "" {
		name := m.Name()
		if strings.EqualFold(name, p.Name) || len(p.Name) >= 15 && strings.HasPrefix(name, p.Name) {
			return true
		}
		if mp := ModuleName(p.Name); mp != "" && strings.EqualFold(ModuleName(m.Path), mp) && !strings.Contains(strings.ToLower(name), ".so") {
			return true
		}
	}
	// A minidump lists the executable first; so does a core's NT_FILE
	// note, sorted by address, unless a library was mapped below it.
	return first && (i.Format == model.Minidump || i.Format == model.ELFCore)
}

// runInfoShared is gdb's info sharedlibrary table.
func runInfoShared(env Env, out Output) error {
	ms, err := modules(env)
	if err != nil {
		return err
	}
	rs, _, _ := addressRegions(env)
	ptr := ptrOf(env)
	aw := len(gdbAddr(0, ptr)) + 2
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s%-*s%-12s%s\n", aw, "From", aw, "To", "Syms Read", "Shared Object Library")
	n, noDebug := 0, false
	sl, _ := env.Symbols().(symbolLoader)
	for k, m := range ms {
		if m.Unloaded || isMainExecutable(env, m, k == 0) {
			continue
		}
		n++
		from, to := m.Base, m.Base+m.Size
		found := false
		for _, r := range rs {
			if r.Prot&mem.X != 0 && m.Contains(r.Start) {
				if !found {
					from, found = r.Start, true
				}
				to = r.End()
			}
		}
		read := "No"
		switch {
		case sl != nil:
			if src, err := sl.Status(m.Name()); err == nil && src != "" {
				read = "Yes"
				if strings.Contains(src, "export") {
					read, noDebug = "Yes (*)", true
				}
			}
		case env.Symbols() != nil:
			if ss, err := env.Symbols().Find(ModuleName(m.Path) + "!*"); err == nil && len(ss) > 0 {
				read = "Yes"
			}
		}
		fmt.Fprintf(&b, "%-*s%-*s%-12s%s\n", aw, gdbAddr(from, ptr), aw, gdbAddr(to, ptr), read, m.Path)
	}
	if n == 0 {
		out.Text("No shared libraries loaded at this time.\n")
		return nil
	}
	if noDebug {
		b.WriteString("(*): Shared library is missing debugging information.\n")
	}
	out.Text(b.String())
	return nil
}

// runInfoMappings is info proc mappings over !address's regions.
func runInfoMappings(env Env, out Output) error {
	rs, _, err := addressRegions(env)
	if err != nil {
		return err
	}
	ptr := ptrOf(env)
	var b strings.Builder
	b.WriteString("Mapped address spaces:\n\n")
	row := func(start, end, size, off, perms, file string) {
		format := "  %18s %18s %10s %10s  %-5s  %s"
		if ptr == 4 {
			format = "\t%10s %10s %10s %10s  %-5s  %s"
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf(format, start, end, size, off, perms, file), " ") + "\n")
	}
	row("Start Addr", "  End Addr", "      Size", "    Offset", "Perms", "objfile")
	for _, r := range rs {
		file, off := r.Label, "0x0"
		if p, o, ok := model.ParseFileLabel(r.Label); ok {
			file, off = p, fmt.Sprintf("%#x", o)
		}
		if r.State == mem.Absent {
			file = strings.TrimSpace(file + " (not in dump)")
		}
		row(fmt.Sprintf("%#x", r.Start), fmt.Sprintf("%#x", r.End()), fmt.Sprintf("%#x", r.Size), off, r.Prot.String(), file)
	}
	out.Text(b.String())
	return nil
}

// gdbWideLine formats the registers gdb prints other than as hex and a
// natural value: x87 st registers (the value, then "(raw 0x...)"), vector
// registers (gdb's union of lanes, in hex as info registers prints them)
// and SVE predicates. ok is false for the others.
func gdbWideLine(arch model.Arch, name string, r model.Reg) (string, bool) {
	b := r.Wide
	x86 := arch == model.AMD64 || arch == model.X86
	switch {
	case x86 && len(b) == 10 && strings.HasPrefix(name, "st"):
		var raw strings.Builder
		for i := len(b) - 1; i >= 0; i-- {
			fmt.Fprintf(&raw, "%02x", b[i])
		}
		return padTo(padTo(name, 15)+x87Text(b), 35) + "(raw 0x" + raw.String() + ")", true
	case x86 && (len(b) == 16 || len(b) == 32 || len(b) == 64):
		n := len(b)
		last := fmt.Sprintf("v%d_int128 = %s", n/16, gdbLanes(b, 16))
		if n == 16 {
			last = "uint128 = " + lane(b)
		}
		return padTo(name, 15) + fmt.Sprintf("{v%d_bfloat16 = %s, v%d_half = %s, v%d_float = %s, v%d_double = %s, v%d_int8 = %s, v%d_int16 = %s, v%d_int32 = %s, v%d_int64 = %s, %s}",
			n/2, gdbLanes(b, 2), n/2, gdbLanes(b, 2), n/4, gdbLanes(b, 4), n/8, gdbLanes(b, 8),
			n, gdbLanes(b, 1), n/2, gdbLanes(b, 2), n/4, gdbLanes(b, 4), n/8, gdbLanes(b, 8), last), true
	case arch == model.ARM64 && len(b) == 16 && strings.HasPrefix(name, "v"):
		// gdb's aarch64v union (features/aarch64-fpu.c).
		d, s, h, by, q := gdbLanes(b, 8), gdbLanes(b, 4), gdbLanes(b, 2), gdbLanes(b, 1), gdbLanes(b, 16)
		return padTo(name, 15) + fmt.Sprintf("{d = {f = %s, u = %s, s = %s}, s = {f = %s, u = %s, s = %s}, h = {bf = %s, f = %s, u = %s, s = %s}, b = {u = %s, s = %s}, q = {u = %s, s = %s}}",
			d, d, d, s, s, s, h, h, h, h, by, by, q, q), true
	case arch == model.ARM64 && len(b) >= 16 && strings.HasPrefix(name, "z"):
		// gdb's svev union (features/aarch64-sve.c).
		q, d, s, h, by := gdbLanes(b, 16), gdbLanes(b, 8), gdbLanes(b, 4), gdbLanes(b, 2), gdbLanes(b, 1)
		return padTo(name, 15) + fmt.Sprintf("{q = {u = %s, s = %s}, d = {f = %s, u = %s, s = %s}, s = {f = %s, u = %s, s = %s}, h = {f = %s, u = %s, s = %s}, b = {u = %s, s = %s}}",
			q, q, d, d, d, s, s, s, h, h, h, by, by), true
	case arch == model.ARM64 && isSVEPredicate(name):
		if b == nil {
			for i := range max(r.Size, 1) {
				b = append(b, byte(r.Value>>(8*i)))
			}
		}
		return padTo(name, 15) + gdbLanes(b, 1), true
	case len(b) > 0:
		return padTo(name, 15) + lane(b), true
	}
	return "", false
}

// gdbLanes prints little-endian b as gdb prints an array of w-byte
// integers in hex: a run of more than ten (repeat_count_threshold) equal
// elements is "elem <repeats N times>".
func gdbLanes(b []byte, w int) string {
	var parts []string
	for i := 0; i+w <= len(b); {
		j := i + w
		for j+w <= len(b) && string(b[j:j+w]) == string(b[i:i+w]) {
			j += w
		}
		if reps := (j - i) / w; reps > 10 {
			parts = append(parts, fmt.Sprintf("%s <repeats %d times>", lane(b[i:i+w]), reps))
			i = j
			continue
		}
		parts = append(parts, lane(b[i:i+w]))
		i += w
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// lane prints little-endian b as a hex number without leading zeros.
func lane(b []byte) string {
	var s strings.Builder
	for i := len(b) - 1; i >= 0; i-- {
		if s.Len() == 0 && b[i] == 0 {
			continue
		}
		if s.Len() == 0 {
			fmt.Fprintf(&s, "%x", b[i])
		} else {
			fmt.Fprintf(&s, "%02x", b[i])
		}
	}
	if s.Len() == 0 {
		return "0x0"
	}
	return "0x" + s.String()
}

// x87Text prints an 80-bit extended-precision value as gdb does: %Lg with
// 21 significant digits (2 + 64 mantissa bits × log10 2), inf, nan(0x…)
// with the significand, or <invalid float value> for the encodings the
// 8087's successors reject (an integer bit that disagrees with the
// exponent: unnormals, pseudo-denormals, pseudo-NaNs).
func x87Text(b []byte) string {
	mant := uint64(0)
	for i := 7; i >= 0; i-- {
		mant = mant<<8 | uint64(b[i])
	}
	se := uint16(b[8]) | uint16(b[9])<<8
	neg, exp := se&0x8000 != 0, int(se&0x7fff)
	sign := ""
	if neg {
		sign = "-"
	}
	if (exp == 0) != (mant>>63 == 0) {
		return "<invalid float value>"
	}
	switch {
	case exp == 0x7fff && mant<<1 == 0:
		return sign + "inf"
	case exp == 0x7fff:
		return fmt.Sprintf("%snan(%#x)", sign, mant)
	case mant == 0:
		return sign + "0"
	}
	if exp == 0 {
		exp = 1 // denormal
	}
	f := new(big.Float).SetPrec(64).SetUint64(mant)
	f.SetMantExp(f, exp-16383-63)
	if neg {
		f.Neg(f)
	}
	return f.Text('g', 21)
}
