package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/analyze"
	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/vmcore"
)

// ErrNotLinuxKernel says a dump holds no Linux kernel to read.
var ErrNotLinuxKernel = errors.New("not a Linux kernel dump")

// linuxKernel returns the Linux kernel in the dump's memory (vmcores;
// LiME images once their VMCOREINFO is found), built once: physical
// memory and VMCOREINFO from the format package, the rest read from
// memory by core/linux without vmlinux.
func (s *Session) linuxKernel() (*linux.Kernel, error) {
	s.linuxOnce.Do(func() {
		s.linux, s.linuxErr = s.openLinuxKernel()
		s.linuxOpened.Store(true)
	})
	return s.linux, s.linuxErr
}

// kernelOpened reports whether linuxKernel has run (well or not), so its
// result costs nothing more.
func (s *Session) kernelOpened() bool { return s.linuxOpened.Load() }

func (s *Session) openLinuxKernel() (*linux.Kernel, error) {
	t := s.d.Target
	info := t.Info()
	switch info.Format {
	case model.LinuxVMCore, model.LiME:
	default:
		return nil, fmt.Errorf("a %s is %w", info.Format, ErrNotLinuxKernel)
	}
	pm, ok := t.(interface{ PhysicalMemory() (mem.Space, error) })
	if !ok {
		return nil, fmt.Errorf("a %s's memory cannot be read", info.Format)
	}
	phys, err := pm.PhysicalMemory()
	if err != nil {
		return nil, err
	}
	if vf, ok := t.(*vmcore.File); ok {
		if _, _, split := vf.SplitPart(); split {
			phys = s.joinSplitParts(vf, phys)
		}
	}
	var table map[string]string
	if vi, ok := t.(interface {
		VMCOREINFO() (map[string]string, error)
	}); ok {
		if table, err = vi.VMCOREINFO(); err != nil {
			return nil, err
		}
	} else {
		// A LiME image carries no copy: the kernel's own page is in memory.
		text, _, err := linux.FindVMCOREINFO(context.Background(), phys)
		if err != nil {
			return nil, err
		}
		table = vmcore.ParseVMCOREINFO(text)
	}
	// An image that says nothing of the architecture (LiME) is left to
	// linux.New, which tells x86-64 by its VMCOREINFO.
	return linux.New(phys, table, info.Arch)
}

// joinSplitParts finds the other parts of a makedumpfile --split dump
// beside the opened one (same directory, same dump: SamePartSet) and
// returns their joined memory; alone, the part's own. The parts stay open
// until the session closes.
func (s *Session) joinSplitParts(f *vmcore.File, own mem.Space) mem.Space {
	dir := filepath.Dir(s.d.Path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return own
	}
	parts := []*vmcore.File{f}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() || p == s.d.Path || !isKdumpFile(p) {
			continue
		}
		g, err := vmcore.Open(p)
		if err != nil {
			continue
		}
		if f.SamePartSet(g) {
			parts = append(parts, g)
			s.splitParts = append(s.splitParts, g)
		} else {
			g.Close()
		}
	}
	if len(parts) == 1 {
		return own
	}
	if j, err := vmcore.JoinSplit(parts); err == nil {
		return j
	}
	return own
}

// isKdumpFile reports whether the file at p starts as a kdump-compressed
// dump does ("KDUMP   ").
func isKdumpFile(p string) bool {
	fh, err := os.Open(p)
	if err != nil {
		return false
	}
	defer fh.Close()
	var sig [8]byte
	_, err = io.ReadFull(fh, sig[:])
	return err == nil && string(sig[:]) == vmcore.KDUMP_SIGNATURE
}

// isLinuxKernel reports whether the dump holds a readable Linux kernel.
func (s *Session) isLinuxKernel() bool {
	_, err := s.linuxKernel()
	return err == nil
}

// KernelLog returns a kernel dump's log as dmesg prints it: a Linux
// kernel's read from memory, else the one the dump's format holds
// (FreeBSD minidumps' message buffer).
func (s *Session) KernelLog() ([]string, error) {
	return s.kernelLogFor(s.d.Target)
}

// kernelLogFor is the log the report's --log shows: a Linux kernel's
// from memory, else the target's own.
func (s *Session) kernelLogFor(t model.Target) ([]string, error) {
	if k, err := s.linuxKernel(); err == nil {
		return k.Log()
	} else if !errors.Is(err, ErrNotLinuxKernel) {
		return nil, fmt.Errorf("%w: %v", ErrNoLog, err)
	}
	lr, ok := t.(model.LogReader)
	if !ok {
		return nil, noLog(t.Info().Format)
	}
	return lr.Log()
}

// linuxPanic reads the crash report from a kernel dump's log (Linux or
// FreeBSD); nil when the dump has no log or the log holds no crash.
func (s *Session) linuxPanic() *analyze.PanicReport {
	log, err := s.KernelLog()
	if err != nil {
		return nil
	}
	return analyze.ParsePanic(log)
}

// targetInfo is the dump's summary, with the crash its kernel log
// reports when the headers record none (vmcores, LiME images and FreeBSD
// minidumps keep the panic in the log, not in a header).
//
// A LiME image is a live acquisition and carries no VMCOREINFO of its
// own: finding the log means searching its memory for the kernel's
// VMCOREINFO page, which on a big image without one touches every page
// (seconds and gigabytes of page cache at 64 GiB). The header summary
// (deep false: info, the workbench's first screen) leaves that to the
// commands that need the log (analyze, log, ps); deep true does it, unless
// the kernel was opened already.
func (s *Session) targetInfo(deep bool) model.Info {
	info := s.d.Target.Info()
	if info.Crash != nil && info.Crash.Kind != model.NoCrash {
		return info
	}
	switch info.Format {
	case model.LinuxVMCore, model.FreeBSDVMCore:
	case model.LiME:
		if !deep && !s.kernelOpened() {
			return info
		}
	default:
		return info
	}
	p := s.linuxPanic()
	if p == nil {
		return info
	}
	c := &model.Crash{Kind: model.Panic, Name: p.Message}
	if p.Kind != "panic" {
		c.Kind = model.Oops
	}
	if p.PID >= 0 {
		tid := uint64(p.PID)
		c.ThreadID = &tid
	}
	info.Crash = c
	return info
}

// The Linux kernel view for the console (console.LinuxInspector).

func (e consoleEnv) KernelLog(context.Context) ([]string, error) { return e.s.KernelLog() }

func (e consoleEnv) LinuxTasks(context.Context) ([]console.LinuxTask, error) {
	k, err := e.s.linuxKernel()
	if err != nil {
		return nil, err
	}
	ts, err := k.Tasks()
	out := make([]console.LinuxTask, 0, len(ts))
	for _, t := range ts {
		out = append(out, console.LinuxTask{PID: int64(t.PID), TGID: int64(t.TGID), PPID: int64(t.PPID), Comm: t.Comm,
			State: taskState(t.State), Task: t.Address, KernelThread: t.KThread})
	}
	if len(out) > 0 {
		return out, nil // a walk cut short still shows what it found
	}
	return out, err
}

// taskState spells task_struct.__state as crash's ps does.
func taskState(v uint64) string {
	switch {
	case v == 0:
		return "RU"
	case v&0x402 == 0x402: // TASK_IDLE: uninterruptible, not counted in the load
		return "ID"
	case v&0x1 != 0:
		return "IN"
	case v&0x2 != 0:
		return "UN"
	case v&0x4 != 0:
		return "ST"
	case v&0x8 != 0:
		return "TR"
	case v&0x20 != 0:
		return "ZO"
	case v&0x10 != 0, v&0x80 != 0:
		return "DE"
	case v&0x40 != 0:
		return "PA"
	}
	return "??"
}

func (e consoleEnv) LinuxSys(context.Context) ([][2]string, error) {
	k, err := e.s.linuxKernel()
	if err != nil {
		return nil, err
	}
	info := e.s.d.Target.Info()
	kv := [][2]string{{"DUMPFILE", e.s.d.Path}, {"CPUS", strconv.Itoa(info.CPUs)}}
	if !info.Time.IsZero() {
		kv = append(kv, [2]string{"DATE", info.Time.UTC().Format("Mon Jan _2 15:04:05 UTC 2006")})
	}
	kv = append(kv, [2]string{"RELEASE", k.Release()}, [2]string{"VERSION", info.OS.Version}, [2]string{"MACHINE", string(info.Arch)})
	if ts, err := k.Tasks(); len(ts) > 0 {
		n := strconv.Itoa(len(ts))
		if err != nil {
			n += " (the walk stopped: " + err.Error() + ")"
		}
		kv = append(kv, [2]string{"TASKS", n})
	}
	if p := e.s.linuxPanic(); p != nil {
		kv = append(kv, [2]string{"PANIC", strings.TrimSpace(p.Message)})
	}
	return kv, nil
}

var _ console.LinuxInspector = consoleEnv{}

// LinuxStack scans a task's kernel stack (bt): the task with id pid, or
// with pid -1 the task the crash happened in (the current task of the CPU
// the panic report names, else of CPU 0).
func (e consoleEnv) LinuxStack(_ context.Context, pid int64) (*console.LinuxStack, error) {
	k, err := e.s.linuxKernel()
	if err != nil {
		return nil, err
	}
	tasks, _ := k.Tasks()
	cpus, _ := k.CPUs()
	running := runningTasks(cpus)
	var task *linux.Task
	if pid < 0 {
		want := 0
		if p := e.s.linuxPanic(); p != nil && p.CPU >= 0 {
			want = p.CPU
		}
		for _, c := range cpus {
			if c.ID == want && c.Current != 0 {
				t, err := k.TaskAt(c.Current)
				if err != nil {
					return nil, err
				}
				task = &t
			}
		}
		if task == nil {
			return nil, fmt.Errorf("CPU %d's current task cannot be read", want)
		}
	} else {
		for i := range tasks {
			if int64(tasks[i].PID) == pid {
				task = &tasks[i]
				break
			}
		}
		if task == nil {
			return nil, fmt.Errorf("no task with pid %d among the %d listed", pid, len(tasks))
		}
	}
	return e.linuxStackOf(k, task, running)
}

// LinuxActiveStacks returns the stack of the task each CPU was running,
// in CPU order (crash's bt -a).
func (e consoleEnv) LinuxActiveStacks(context.Context) ([]*console.LinuxStack, error) {
	k, err := e.s.linuxKernel()
	if err != nil {
		return nil, err
	}
	cpus, err := k.CPUs()
	if err != nil {
		return nil, err
	}
	running := runningTasks(cpus)
	var out []*console.LinuxStack
	for _, c := range cpus {
		if c.Current == 0 {
			continue
		}
		t, err := k.TaskAt(c.Current)
		if err != nil {
			return out, fmt.Errorf("CPU %d's current task: %w", c.ID, err)
		}
		st, err := e.linuxStackOf(k, &t, running)
		if err != nil {
			return out, fmt.Errorf("CPU %d: %w", c.ID, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// runningTasks maps the task each CPU was running to that CPU.
func runningTasks(cpus []linux.CPU) map[uint64]int {
	running := map[uint64]int{}
	for _, c := range cpus {
		if c.Current != 0 {
			running[c.Current] = c.ID
		}
	}
	return running
}

// linuxStackOf scans and unwinds one task's kernel stack; running maps the
// tasks current on a CPU to that CPU.
func (e consoleEnv) linuxStackOf(k *linux.Kernel, task *linux.Task, running map[uint64]int) (*console.LinuxStack, error) {
	var err error
	cpu, isRunning := running[task.Address]
	// A running task's registers are in the NT_PRSTATUS note the crash
	// saved for its CPU. The notes are in CPU order; the kernel's name the
	// task's pid (every CPU's idle task has pid 0, so the order decides),
	// QEMU's dump-guest-memory numbers them CPU+1 instead.
	var sp, pc, bp uint64
	if vf, ok := e.s.d.Target.(*vmcore.File); ok && isRunning {
		states := vf.CPUStates()
		qemu := len(states) > 0
		for i, c := range states {
			qemu = qemu && c.PID == uint32(i+1)
		}
		pick := func(c vmcore.CPUState) { sp, pc, bp = c.Regs["rsp"], c.Regs["rip"], c.Regs["rbp"] }
		if cpu < len(states) && (states[cpu].PID == task.PID || qemu) && states[cpu].Regs != nil {
			pick(states[cpu])
		} else {
			for _, c := range states {
				if c.PID == task.PID && c.Regs != nil {
					pick(c)
				}
			}
		}
	}
	var ks *linux.KernelStack
	if sp != 0 {
		ks, err = k.StackScanFrom(task.Address, sp)
	} else {
		ks, err = k.StackScan(task.Address, isRunning)
	}
	if err != nil {
		return nil, err
	}
	st := &console.LinuxStack{CPU: -1, Task: console.LinuxTask{PID: int64(task.PID), TGID: int64(task.TGID), PPID: int64(task.PPID),
		Comm: task.Comm, Task: task.Address, KernelThread: task.KThread, State: taskState(task.State)}}
	switch {
	case ks.FromRegs:
		st.CPU = cpu
		st.Note = fmt.Sprintf("running on CPU %d: from the stack pointer the crash saved for it (NT_PRSTATUS)", cpu)
	case isRunning && ks.FromCrashPath:
		st.CPU = cpu
		st.Note = fmt.Sprintf("running on CPU %d: scanned from the crash path's deepest frame (its registers are not read)", cpu)
	case isRunning:
		st.CPU = cpu
		st.Note = fmt.Sprintf("running on CPU %d: its registers are not read, so the whole stack is scanned and may hold stale frames", cpu)
	case ks.FromSavedSP:
		st.Note = "from the stack pointer saved when it was switched out"
	}
	if pc != 0 && ks.FromRegs {
		// Through the session's symbols: the pc may be in a module.
		st.Start, st.StartPC = e.s.Symbols().Describe(pc), pc
	}
	for _, en := range ks.Entries {
		st.Entries = append(st.Entries, console.LinuxStackEntry{Slot: en.Slot, Value: en.Value, Name: fmt.Sprintf("%s+%#x", en.Function, en.Offset), Call: en.Call})
	}
	if pc == 0 && isRunning && ks.FromCrashPath {
		// No registers were saved (a LiME image). ORC needs a pc, an sp
		// and, for frames based on it, the frame pointer: try the return
		// addresses the scan found from the crash path on, each with the
		// word below it as the frame pointer (where a callee that saves
		// it pushes it), and keep the first walk that reaches the end
		// of the stack or user mode, which a wrong start does not.
		for i, en := range ks.Entries[:min(len(ks.Entries), 8)] {
			if !en.Call {
				continue
			}
			fbp, _ := k.ReadU64(en.Slot - 8)
			ous, err := k.UnwindORC(en.Value, en.Slot+8, fbp, false)
			if err != nil {
				break
			}
			if ous.Stop == "" {
				// The crash path's frame the scan started at (panic,
				// say), when the walk starts below it, then the walk;
				// what lies between may be stale and is left to bt -t.
				if i > 0 {
					cp := ks.Entries[0]
					st.Frames = append(st.Frames, console.LinuxFrame{Slot: cp.Slot, PC: cp.Value, Name: fmt.Sprintf("%s+%#x", cp.Function, cp.Offset)})
				}
				e.fillORCFrames(k, st, ous)
				st.FramesNote = fmt.Sprintf("running on CPU %d, no registers saved: the crash path's frame, then unwound with ORC from a return address below it on the stack", cpu)
				break
			}
		}
		return st, nil
	}
	e.unwindLinuxStack(k, st, task, isRunning, pc, sp, bp, true)
	return st, nil
}

// unwindLinuxStack adds the ORC unwind of a task's stack to st (crash's
// bt): from the registers the crash saved when it was running, from the
// frame its last switch saved when it was not. Where neither is known, or
// the kernel has no ORC data, st keeps the scan alone.
func (e consoleEnv) unwindLinuxStack(k *linux.Kernel, st *console.LinuxStack, task *linux.Task, running bool, pc, sp, bp uint64, exact bool) {
	var ous *linux.ORCStack
	var err error
	switch {
	case pc != 0:
		// exact: saved registers; otherwise a return address read from
		// the stack.
		ous, err = k.UnwindORC(pc, sp, bp, exact)
		st.FramesNote = fmt.Sprintf("running on CPU %d: unwound with ORC from the registers the crash saved (NT_PRSTATUS)", st.CPU)
	case !running:
		var tsp uint64
		if tsp, err = k.ThreadSP(task.Address); err == nil {
			if pc, sp, bp, err = k.SleepingStart(tsp); err == nil {
				ous, err = k.UnwindORC(pc, sp, bp, false)
			}
		}
		st.FramesNote = "unwound with ORC from the frame saved when it was switched out"
	default:
		return // running, but its registers were not saved: the scan
	}
	if err != nil || ous == nil {
		st.FramesNote = ""
		return
	}
	e.fillORCFrames(k, st, ous)
}

// fillORCFrames puts an ORC walk's frames, named, into st.
func (e consoleEnv) fillORCFrames(k *linux.Kernel, st *console.LinuxStack, ous *linux.ORCStack) {
	for _, f := range ous.Frames {
		name, ok := k.TextSymbol(f.PC)
		if !ok {
			name, ok = k.ModuleSymbol(f.PC)
		}
		if !ok {
			name = e.s.Symbols().Describe(f.PC)
		}
		st.Frames = append(st.Frames, console.LinuxFrame{Slot: f.Slot, PC: f.PC, Name: name, Regs: f.Regs})
	}
	st.FramesStop = ous.Stop
	if u := ous.User; u != nil {
		st.User = &console.LinuxUserRegs{IP: u.IP, SP: u.SP, Flags: u.Flags, AX: u.AX, OrigAX: u.OrigAX}
	}
}

// LinuxModules lists the kernel's loaded modules (mod).
func (e consoleEnv) LinuxModules(context.Context) ([]console.LinuxModule, error) {
	k, err := e.s.linuxKernel()
	if err != nil {
		return nil, err
	}
	ms, err := k.Modules()
	out := make([]console.LinuxModule, 0, len(ms))
	for _, m := range ms {
		out = append(out, console.LinuxModule{Address: m.Address, Name: m.Name, Base: m.Base, Size: m.Size})
	}
	return out, err
}

// LinuxMemory gives kmem -i the kernel's page counters.
func (e consoleEnv) LinuxMemory(context.Context) (uint64, uint64, uint64, error) {
	k, err := e.s.linuxKernel()
	if err != nil {
		return 0, 0, 0, err
	}
	mi, err := k.MemInfo()
	if err != nil {
		return 0, 0, 0, err
	}
	return mi.PageSize, mi.TotalPages, mi.FreePages, nil
}
