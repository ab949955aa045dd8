package linux

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/model"
)

const (
	maxBTFSize = 1 << 26 // vmlinux BTF is a few MiB
	maxTasks   = 1 << 22 // PID_MAX_LIMIT
	pfKthread  = 0x00200000
	taskComm   = 16 // TASK_COMM_LEN
)

// BTF returns the kernel's own type information, read from memory between
// the kallsyms symbols __start_BTF and __stop_BTF (CONFIG_DEBUG_INFO_BTF).
func (k *Kernel) BTF() (*BTF, error) {
	k.btfOnce.Do(func() { k.btf, k.btfErr = k.loadBTF() })
	return k.btf, k.btfErr
}

func (k *Kernel) loadBTF() (*BTF, error) {
	syms, err := k.Symbols()
	if err != nil {
		return nil, err
	}
	start, ok1 := syms.Lookup("__start_BTF")
	stop, ok2 := syms.Lookup("__stop_BTF")
	if !ok1 || !ok2 {
		return nil, errors.New("linux: kallsyms has no __start_BTF/__stop_BTF (kernel built without CONFIG_DEBUG_INFO_BTF)")
	}
	if stop <= start {
		return nil, fmt.Errorf("linux: __stop_BTF %#x is not above __start_BTF %#x", stop, start)
	}
	raw, err := k.readBytes(start, stop-start, maxBTFSize, "the kernel BTF")
	if err != nil {
		return nil, err
	}
	b, err := ParseBTF(raw)
	if err != nil {
		return nil, fmt.Errorf("linux: kernel BTF at %#x: %w", start, err)
	}
	return b, nil
}

// TaskOffsets are the byte offsets in struct task_struct that Tasks uses,
// from BTF. State is -1 when neither __state nor state exists; Parent and
// Flags are -1 when absent.
type TaskOffsets struct {
	Tasks, PID, TGID, Comm, MM int64
	RealParent, State, Flags   int64
	StateSize                  int   // 4 for __state (5.14+), 8 for the older long state
	MMPgd                      int64 // mm_struct.pgd, -1 when unknown
}

// TaskOffsets returns the task_struct layout from BTF.
func (k *Kernel) TaskOffsets() (*TaskOffsets, error) {
	k.taskOnce.Do(func() { k.taskOffs, k.taskErr = k.loadTaskOffsets() })
	return k.taskOffs, k.taskErr
}

func (k *Kernel) loadTaskOffsets() (*TaskOffsets, error) {
	b, err := k.BTF()
	if err != nil {
		return nil, err
	}
	ts, ok := b.Struct("task_struct")
	if !ok {
		return nil, errors.New("linux: BTF has no struct task_struct")
	}
	o := &TaskOffsets{RealParent: -1, State: -1, Flags: -1, MMPgd: -1}
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"tasks", &o.Tasks}, {"pid", &o.PID}, {"tgid", &o.TGID}, {"comm", &o.Comm}, {"mm", &o.MM}} {
		v, err := b.MemberOffset(ts, f.name)
		if err != nil {
			return nil, fmt.Errorf("linux: task_struct: %w", err)
		}
		*f.dst = int64(v)
	}
	if v, err := b.MemberOffset(ts, "real_parent"); err == nil {
		o.RealParent = int64(v)
	}
	if v, err := b.MemberOffset(ts, "flags"); err == nil {
		o.Flags = int64(v)
	}
	for _, n := range []string{"__state", "state"} {
		if v, err := b.MemberOffset(ts, n); err == nil {
			o.State, o.StateSize = int64(v), 8
			if t, err := b.MemberType(ts, n); err == nil {
				if sz, err := b.Size(t); err == nil && (sz == 4 || sz == 8) {
					o.StateSize = int(sz)
				}
			}
			break
		}
	}
	if mm, ok := b.Struct("mm_struct"); ok {
		if v, err := b.MemberOffset(mm, "pgd"); err == nil {
			o.MMPgd = int64(v)
		}
	}
	return o, nil
}

// Task is one task of the kernel's task list (init_task.tasks): a process,
// or the leader of a thread group.
type Task struct {
	Address   uint64 // the task_struct
	PID, TGID uint32
	PPID      uint32 // real_parent->tgid; 0 for the idle task or when unreadable
	Comm      string
	State     uint64 // __state (or state): 0 running, 1 interruptible, 2 uninterruptible, ...
	Flags     uint32 // PF_* flags
	MM        uint64 // mm_struct, 0 for kernel threads
	KThread   bool   // mm == 0, as ps shows kernel threads in brackets
	Err       error  // a field that could not be read; the walk went on
}

// Tasks walks init_task.tasks and returns each task once, starting with
// init_task (the idle task, pid 0). The walk stops at the first pointer
// that leads outside readable memory or back to a task already seen, and
// after maxTasks tasks; it then returns what it found with an error.
func (k *Kernel) Tasks() ([]Task, error) {
	o, err := k.TaskOffsets()
	if err != nil {
		return nil, err
	}
	init, ok := k.Lookup("init_task")
	if !ok {
		return nil, errors.New("linux: no init_task symbol")
	}
	seen := map[uint64]bool{}
	var out []Task
	for t := init; ; {
		if seen[t] {
			return out, fmt.Errorf("linux: task list loops back to %#x, not to init_task", t)
		}
		if len(out) >= maxTasks {
			return out, fmt.Errorf("linux: task list longer than %d entries", maxTasks)
		}
		seen[t] = true
		next, err := k.u64(t + uint64(o.Tasks))
		if err != nil {
			return out, fmt.Errorf("linux: reading tasks.next of task %#x: %w", t, err)
		}
		out = append(out, k.readTask(t, o))
		t = next - uint64(o.Tasks)
		if t == init {
			return out, nil
		}
	}
}

func (k *Kernel) readTask(t uint64, o *TaskOffsets) Task {
	task := Task{Address: t}
	fail := func(err error) {
		if task.Err == nil {
			task.Err = err
		}
	}
	var err error
	if task.PID, err = k.u32(t + uint64(o.PID)); err != nil {
		fail(err)
	}
	if task.TGID, err = k.u32(t + uint64(o.TGID)); err != nil {
		fail(err)
	}
	var comm [taskComm]byte
	if err := k.read(comm[:], t+uint64(o.Comm)); err != nil {
		fail(err)
	} else {
		c := comm[:]
		if i := bytes.IndexByte(c, 0); i >= 0 {
			c = c[:i]
		}
		task.Comm = string(c)
	}
	if task.MM, err = k.u64(t + uint64(o.MM)); err != nil {
		fail(err)
	}
	task.KThread = task.MM == 0 && err == nil
	if o.Flags >= 0 {
		if task.Flags, err = k.u32(t + uint64(o.Flags)); err != nil {
			fail(err)
		}
	}
	if o.State >= 0 {
		if o.StateSize == 4 {
			v, err := k.u32(t + uint64(o.State))
			task.State = uint64(v)
			if err != nil {
				fail(err)
			}
		} else if task.State, err = k.u64(t + uint64(o.State)); err != nil {
			fail(err)
		}
	}
	if o.RealParent >= 0 {
		if p, err := k.u64(t + uint64(o.RealParent)); err != nil {
			fail(err)
		} else if p != t {
			if task.PPID, err = k.u32(p + uint64(o.TGID)); err != nil {
				fail(err)
			}
		}
	}
	return task
}

// Processes returns the tasks as model.KernelProcess values (PID is the
// tgid; DirBase the physical address of mm->pgd, 0 for kernel threads;
// Threads and Handles -1, not counted). It implements model.ProcessLister.
func (k *Kernel) Processes() ([]model.KernelProcess, error) {
	tasks, err := k.Tasks()
	if len(tasks) == 0 {
		return nil, err
	}
	o, _ := k.TaskOffsets()
	out := make([]model.KernelProcess, len(tasks))
	for i, t := range tasks {
		p := model.KernelProcess{PID: uint64(t.TGID), ParentPID: uint64(t.PPID), Name: t.Comm, Address: t.Address, Threads: -1, Handles: -1}
		if t.MM != 0 && o != nil && o.MMPgd >= 0 {
			if pgd, err := k.u64(t.MM + uint64(o.MMPgd)); err == nil {
				if pa, _, err := k.Translate(pgd); err == nil {
					p.DirBase = pa
				}
			}
		}
		out[i] = p
	}
	return out, err
}
