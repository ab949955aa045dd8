package console

import (
	"context"
	"fmt"
	"strings"
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
