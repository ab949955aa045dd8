package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// LinuxInspector is an Env capability of Linux kernel dumps (vmcores,
// LiME images): the kernel log and the tasks read from memory without
// vmlinux. core/session implements it over core/linux.
type LinuxInspector interface {
	// KernelLog returns the log as dmesg prints it, one line each.
	KernelLog(ctx context.Context) ([]string, error)
	// LinuxTasks returns the tasks of init_task's list, init_task first.
	LinuxTasks(ctx context.Context) ([]LinuxTask, error)
	// LinuxSys returns what crash's sys shows, as label/value pairs.
	LinuxSys(ctx context.Context) ([][2]string, error)
	// LinuxStack scans the kernel stack of the task with id pid, or of
	// the task that crashed when pid is -1.
	LinuxStack(ctx context.Context, pid int64) (*LinuxStack, error)
	// LinuxModules returns the loaded modules (struct module).
	LinuxModules(ctx context.Context) ([]LinuxModule, error)
	// LinuxMemory returns the page size and the pages the kernel manages
	// and has free.
	LinuxMemory(ctx context.Context) (pageSize, total, free uint64, err error)
}

// LinuxModule is one loaded kernel module.
type LinuxModule struct {
	Address    uint64 // the struct module
	Name       string
	Base, Size uint64 // its core text and data
}

// LinuxStack is the kernel-text addresses found on a task's kernel stack
// (crash's bt -t).
type LinuxStack struct {
	Task LinuxTask
	CPU  int    // the CPU it was running on, -1 when none
	Note string // how the scan started ("from the saved stack pointer")
	// Start is where the task was when the crash saved its registers
	// ("__crash_kexec+0x4e"), with StartPC; "" when no registers were saved.
	Start   string
	StartPC uint64
	Entries []LinuxStackEntry
	// Frames, when the kernel's ORC unwind data could be read, is the
	// stack unwound as the kernel's own unwinder walks it (crash's bt);
	// Entries is still the scan (bt -t). FramesNote says where the unwind
	// started, FramesStop why it ended early ("" at the stack's end).
	Frames     []LinuxFrame
	FramesNote string
	FramesStop string
	User       *LinuxUserRegs // user-mode registers saved at the top of the stack
}

// LinuxFrame is one frame of an unwound kernel stack.
type LinuxFrame struct {
	Slot, PC uint64 // where the frame's pc was read, and the pc
	Name     string // function+0xoff, or module+0xoff
	Regs     bool   // entered through saved registers (an interrupt or exception)
}

// LinuxUserRegs is the user-mode state a system call or interrupt saved.
type LinuxUserRegs struct{ IP, SP, Flags, AX, OrigAX uint64 }

// LinuxStackEntry is one text address on the stack.
type LinuxStackEntry struct {
	Slot, Value uint64
	Name        string // function+0xoff
	Call        bool   // follows a call instruction: likely a return address
}

// LinuxTask is one task_struct.
type LinuxTask struct {
	PID, TGID, PPID int64
	Comm            string
	State           string // "RU", "IN", "UN", "ZO", ... as crash's ps; "" when unknown
	Task            uint64 // the task_struct address
	KernelThread    bool   // no mm
}

func linuxCommands() []Command {
	return []Command{
		{Names: []string{"log", "dmesg", "!dmesg"}, Group: GroupAnalysis, Usage: "log", Summary: "show the kernel log of a Linux kernel dump, as dmesg prints it",
			Help: "Read from the printk ring buffer in the dump's memory (the 5.10+ lockless one, or the older log_buf), laid out by VMCOREINFO: no vmlinux needed.",
			Run:  runLog},
		{Names: []string{"ps"}, Group: GroupAnalysis, Usage: "ps", Summary: "list the tasks of a Linux kernel dump (crash's ps)",
			Help: "Walks init_task.tasks, with task_struct's layout from the kernel's BTF. Kernel threads (no mm) are shown in brackets, as crash shows them.",
			Run:  runPs},
		{Names: []string{"sys"}, Group: GroupTarget, Usage: "sys", Summary: "show a Linux kernel dump's system data (crash's sys)",
			Run: runSys},
		{Names: []string{"mod", "lsmod"}, Group: GroupModules, Usage: "mod", Summary: "list a Linux kernel dump's loaded modules (crash's mod)",
			Run: runMod},
		{Names: []string{"kmem"}, Group: GroupMemory, Usage: "kmem -i", Summary: "show a Linux kernel's memory use (crash's kmem -i)",
			Help: "TOTAL MEM is the RAM the page allocator manages (_totalram_pages), FREE its free pages (vm_zone_stat[NR_FREE_PAGES]).",
			Run:  runKmem},
	}
}

func linuxInspector(env Env) (LinuxInspector, error) {
	if li, ok := env.(LinuxInspector); ok {
		return li, nil
	}
	return nil, &NotSupportedError{What: fmt.Sprintf("a %s is not a Linux kernel dump", env.Target().Info().Format)}
}

func runLog(ctx context.Context, env Env, _ *Invocation, out Output) error {
	li, err := linuxInspector(env)
	if err != nil {
		return err
	}
	lines, err := li.KernelLog(ctx)
	if err != nil {
		return &NotSupportedError{What: "the kernel log cannot be read", Err: err}
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	out.Text(b.String())
	return nil
}

func runPs(ctx context.Context, env Env, _ *Invocation, out Output) error {
	li, err := linuxInspector(env)
	if err != nil {
		return err
	}
	tasks, err := li.LinuxTasks(ctx)
	if err != nil {
		return &NotSupportedError{What: "the task list cannot be read", Err: err}
	}
	ptr := ptrOf(env)
	var b strings.Builder
	fmt.Fprintf(&b, "   PID    PPID    TGID  %-*s  ST  COMM\n", len(FormatAddr(0, ptr))-1, "TASK")
	for _, t := range tasks {
		comm := t.Comm
		if t.KernelThread {
			comm = "[" + comm + "]"
		}
		st := t.State
		if st == "" {
			st = "??"
		}
		fmt.Fprintf(&b, "%6d  %6d  %6d  %s  %-2s  %s\n", t.PID, t.PPID, t.TGID, strings.ReplaceAll(FormatAddr(t.Task, ptr), "`", ""), st, comm)
	}
	out.Text(b.String())
	return nil
}

func runSys(ctx context.Context, env Env, _ *Invocation, out Output) error {
	li, err := linuxInspector(env)
	if err != nil {
		return err
	}
	kv, err := li.LinuxSys(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, p := range kv {
		fmt.Fprintf(&b, "%12s: %s\n", p[0], p[1])
	}
	out.Text(b.String())
	return nil
}

// LinuxActiveLister is an optional capability of a LinuxInspector: the
// stacks of the task each CPU was running, in CPU order (bt -a).
type LinuxActiveLister interface {
	LinuxActiveStacks(ctx context.Context) ([]*LinuxStack, error)
}

// runKernelBt is bt on a Linux kernel dump: crash's bt, the stack unwound
// with the kernel's ORC data, or with -t (or where ORC cannot be read)
// crash's bt -t, the kernel text addresses on the task's stack, "?" before
// those that follow no call; -a does it for the task of every CPU.
func runKernelBt(ctx context.Context, li LinuxInspector, env Env, inv *Invocation, out Output) error {
	pid := int64(-1)
	scan, all := false, false
	for _, tok := range inv.Tokens {
		switch tok {
		case "-t":
			scan = true
			continue
		case "-a":
			all = true
			continue
		}
		v, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || v < 0 {
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: fmt.Sprintf("bt: %q is not a process id (bt [-t] [-a | PID] on a kernel dump)", tok)}
		}
		pid = v
	}
	var stacks []*LinuxStack
	if all {
		al, ok := li.(LinuxActiveLister)
		if !ok {
			return &NotSupportedError{What: "bt -a: this dump does not say which task each CPU ran"}
		}
		ss, err := al.LinuxActiveStacks(ctx)
		if len(ss) == 0 && err != nil {
			return &NotSupportedError{What: "the CPUs' stacks cannot be read", Err: err}
		}
		stacks = ss
	} else {
		st, err := li.LinuxStack(ctx, pid)
		if err != nil {
			return &NotSupportedError{What: "the kernel stack cannot be read", Err: err}
		}
		stacks = []*LinuxStack{st}
	}
	var b strings.Builder
	for i, st := range stacks {
		if i > 0 {
			b.WriteString("\n")
		}
		writeLinuxStack(&b, st, scan, ptrOf(env))
	}
	out.Text(b.String())
	return nil
}

// writeLinuxStack prints one task's stack as crash's bt (or bt -t) does.
func writeLinuxStack(b *strings.Builder, st *LinuxStack, scan bool, ptr int) {
	a := func(v uint64) string { return strings.ReplaceAll(FormatAddr(v, ptr), "`", "") }
	cpu := "-"
	if st.CPU >= 0 {
		cpu = strconv.Itoa(st.CPU)
	}
	fmt.Fprintf(b, "PID: %d  TASK: %s  CPU: %s  COMMAND: %q\n", st.Task.PID, a(st.Task.Task), cpu, st.Task.Comm)
	if !scan && len(st.Frames) > 0 {
		if st.FramesNote != "" {
			fmt.Fprintf(b, "  (%s)\n", st.FramesNote)
		}
		for i, f := range st.Frames {
			fmt.Fprintf(b, "%4s [%s] %s at %s\n", "#"+strconv.Itoa(i), a(f.Slot), f.Name, a(f.PC))
		}
		if u := st.User; u != nil {
			fmt.Fprintf(b, "    RIP: %016x  RSP: %016x  RFLAGS: %08x\n    RAX: %016x  ORIG_RAX: %016x\n", u.IP, u.SP, u.Flags, u.AX, u.OrigAX)
		}
		if st.FramesStop != "" {
			fmt.Fprintf(b, "  (the unwind stops here: %s; bt -t lists every text address on the stack)\n", st.FramesStop)
		}
		return
	}
	if st.Note != "" {
		fmt.Fprintf(b, "  (%s)\n", st.Note)
	}
	if st.Start != "" {
		fmt.Fprintf(b, "              START: %s at %s\n", st.Start, a(st.StartPC))
	}
	for _, e := range st.Entries {
		mark := "  "
		if !e.Call {
			mark = "? "
		}
		fmt.Fprintf(b, "%s[%s] %s at %s\n", mark, a(e.Slot), e.Name, a(e.Value))
	}
}

// isLinuxKernelDump reports whether the target is a Linux kernel image.
func isLinuxKernelDump(env Env) bool {
	switch env.Target().Info().Format {
	case model.LinuxVMCore, model.LiME:
		return true
	}
	return false
}

func runMod(ctx context.Context, env Env, _ *Invocation, out Output) error {
	li, err := linuxInspector(env)
	if err != nil {
		return err
	}
	mods, err := li.LinuxModules(ctx)
	if err != nil && len(mods) == 0 {
		return &NotSupportedError{What: "the module list cannot be read", Err: err}
	}
	ptr := ptrOf(env)
	t := &Table{PtrSize: ptr, Columns: []Column{{Name: "MODULE", Kind: ColAddr}, {Name: "NAME"}, {Name: "BASE", Kind: ColAddr}, {Name: "SIZE"}}}
	for _, m := range mods {
		t.Add(Uint(m.Address), Str(m.Name), Uint(m.Base), Str(strconv.FormatUint(m.Size, 10)))
	}
	out.Table(t)
	if err != nil {
		out.Text("(the walk stopped: " + err.Error() + ")\n")
	}
	return nil
}

func runKmem(ctx context.Context, env Env, inv *Invocation, out Output) error {
	if len(inv.Tokens) != 1 || inv.Tokens[0] != "-i" {
		return usageErr(inv, "kmem -i", "only kmem -i is supported")
	}
	li, err := linuxInspector(env)
	if err != nil {
		return err
	}
	ps, total, free, err := li.LinuxMemory(ctx)
	if err != nil {
		return &NotSupportedError{What: "the kernel's memory counters cannot be read", Err: err}
	}
	size := func(pages uint64) string {
		b := float64(pages * ps)
		switch {
		case b >= 1<<30:
			return fmt.Sprintf("%.1f GB", b/(1<<30))
		case b >= 1<<20:
			return fmt.Sprintf("%.1f MB", b/(1<<20))
		}
		return fmt.Sprintf("%.1f KB", b/(1<<10))
	}
	pct := func(n uint64) string {
		if total == 0 {
			return "----"
		}
		return fmt.Sprintf("%d%% of TOTAL MEM", n*100/total)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%15s %10s %12s  %s\n", "", "PAGES", "TOTAL", "PERCENTAGE")
	fmt.Fprintf(&b, "%15s %10d %12s  %s\n", "TOTAL MEM", total, size(total), "----")
	fmt.Fprintf(&b, "%15s %10d %12s  %s\n", "FREE", free, size(free), pct(free))
	fmt.Fprintf(&b, "%15s %10d %12s  %s\n", "USED", total-free, size(total-free), pct(total-free))
	out.Text(b.String())
	return nil
}
