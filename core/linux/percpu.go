package linux

import (
	"errors"
	"fmt"
)

const maxCPUs = 8192 // NR_CPUS upper bound (CONFIG_MAXSMP)

// CPU is one possible CPU's per-cpu area and the task it was running.
type CPU struct {
	ID           int
	PerCPUOffset uint64 // __per_cpu_offset[ID]
	Current      uint64 // its current task_struct (current_task or pcpu_hot.current_task); 0 if unreadable
	Err          error  // why Current could not be read
}

// CPUs returns nr_cpu_ids CPUs with their per-cpu offsets and current
// tasks, from the kallsyms symbols nr_cpu_ids, __per_cpu_offset and the
// per-cpu variable current_task (x86-64 up to 6.1) or pcpu_hot (6.2+, its
// member current_task located through BTF).
func (k *Kernel) CPUs() ([]CPU, error) {
	syms, err := k.Symbols()
	if err != nil {
		return nil, err
	}
	nrA, ok := syms.Lookup("nr_cpu_ids")
	if !ok {
		return nil, errors.New("linux: kallsyms has no nr_cpu_ids")
	}
	nr, err := k.u32(nrA)
	if err != nil {
		return nil, fmt.Errorf("linux: reading nr_cpu_ids: %w", err)
	}
	if nr == 0 || nr > maxCPUs {
		return nil, fmt.Errorf("linux: nr_cpu_ids = %d is implausible", nr)
	}
	offA, ok := syms.Lookup("__per_cpu_offset")
	if !ok {
		return nil, errors.New("linux: kallsyms has no __per_cpu_offset")
	}
	raw, err := k.readBytes(offA, uint64(nr)*8, maxCPUs*8, "__per_cpu_offset")
	if err != nil {
		return nil, err
	}
	cur, curErr := k.currentTaskVar(syms)
	out := make([]CPU, nr)
	for i := range out {
		c := CPU{ID: i, PerCPUOffset: le.Uint64(raw[8*i:])}
		if curErr != nil {
			c.Err = curErr
		} else if c.Current, err = k.u64(c.PerCPUOffset + cur); err != nil {
			c.Err = err
		}
		out[i] = c
	}
	return out, nil
}

// currentTaskVar returns the per-cpu address of the current task pointer.
func (k *Kernel) currentTaskVar(syms *Symbols) (uint64, error) {
	if a, ok := syms.Lookup("current_task"); ok {
		return a, nil
	}
	a, ok := syms.Lookup("pcpu_hot")
	if !ok {
		return 0, errors.New("linux: kallsyms has neither current_task nor pcpu_hot")
	}
	b, err := k.BTF()
	if err != nil {
		return 0, err
	}
	id, ok := b.Struct("pcpu_hot")
	if !ok {
		return 0, errors.New("linux: BTF has no struct pcpu_hot")
	}
	off, err := b.MemberOffset(id, "current_task")
	if err != nil {
		return 0, err
	}
	return a + off, nil
}

// TaskAt reads the task_struct at addr.
func (k *Kernel) TaskAt(addr uint64) (Task, error) {
	o, err := k.TaskOffsets()
	if err != nil {
		return Task{}, err
	}
	t := k.readTask(addr, o)
	return t, t.Err
}
