package linux

import (
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
)

// threadSize is x86-64's kernel stack size (THREAD_SIZE, 16 KiB without
// KASAN); BTF does not record it.
const threadSize = 16 << 10

// StackEntry is one word of a kernel stack that holds a kernel text
// address, as crash's bt -t lists them.
type StackEntry struct {
	Slot     uint64 // the stack address holding the value
	Value    uint64 // the text address
	Function string // kallsyms symbol holding Value
	Offset   uint64 // Value - the symbol's address
	// Call reports that the bytes before Value are a call instruction:
	// a likely return address rather than a stale or data pointer.
	Call bool
}

// KernelStack is the scan of one task's kernel stack.
type KernelStack struct {
	Task        uint64
	Base, Top   uint64 // the stack: [Base, Top)
	From        uint64 // where the scan started: thread.sp, or Base for a running task
	FromSavedSP bool   // From is the task's saved stack pointer (thread.sp)
	FromRegs    bool   // From is the stack pointer StackScanFrom was given
	// FromCrashPath says a running task's scan starts at the deepest
	// frame of the crash machinery (panic, kexec), below which the stack
	// holds stale frames.
	FromCrashPath bool
	Entries       []StackEntry
}

// StackScan lists the kernel text addresses on a task's kernel stack, from
// its saved stack pointer (thread.sp, written when it was switched out) up
// to the top, or when the task was running (its saved pointer is stale;
// the registers of a running CPU are in the dump's notes, which this
// package does not read) from the deepest frame of the crash path
// (panic, kexec, die) found scanning from the stack's base, else the base. Stack and thread.sp come
// from BTF; the stack is THREAD_SIZE (16 KiB) long.
func (k *Kernel) StackScan(task uint64, running bool) (*KernelStack, error) {
	return k.stackScan(task, running, 0)
}

// StackScanFrom scans a task's kernel stack from sp, a stack pointer known
// from elsewhere (the registers a crash saved for a running CPU); an sp
// outside the task's stack is ignored as StackScan would.
func (k *Kernel) StackScanFrom(task, sp uint64) (*KernelStack, error) {
	return k.stackScan(task, true, sp)
}

func (k *Kernel) stackScan(task uint64, running bool, sp uint64) (*KernelStack, error) {
	b, err := k.BTF()
	if err != nil {
		return nil, err
	}
	ts, ok := b.Struct("task_struct")
	if !ok {
		return nil, errors.New("linux: BTF has no struct task_struct")
	}
	stackOff, err := b.MemberOffset(ts, "stack")
	if err != nil {
		return nil, fmt.Errorf("linux: task_struct.stack: %w", err)
	}
	base, err := k.u64(task + stackOff)
	if err != nil {
		return nil, fmt.Errorf("linux: task %#x: reading its stack pointer: %w", task, err)
	}
	if base == 0 || base%4096 != 0 {
		return nil, fmt.Errorf("linux: task %#x: stack %#x is not a stack", task, base)
	}
	ks := &KernelStack{Task: task, Base: base, Top: base + threadSize, From: base}
	if sp >= base && sp < ks.Top {
		ks.From, ks.FromRegs = sp&^7, true
	} else if !running {
		if thr, err := b.MemberOffset(ts, "thread"); err == nil {
			if tsid, ok := b.Struct("thread_struct"); ok {
				if spOff, err := b.MemberOffset(tsid, "sp"); err == nil {
					if sp, err := k.u64(task + thr + spOff); err == nil && sp >= base && sp < ks.Top {
						ks.From, ks.FromSavedSP = sp&^7, true
					}
				}
			}
		}
	}
	syms, err := k.Symbols()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, ks.Top-ks.From)
	if err := mem.ReadFull(k.virt, buf, ks.From); err != nil {
		return nil, fmt.Errorf("linux: task %#x: reading its stack: %w", task, err)
	}
	text, textEnd := k.textBounds(syms)
	var code [7]byte
	for off := 0; off+8 <= len(buf); off += 8 {
		v := le.Uint64(buf[off:])
		if v < text || v >= textEnd {
			continue
		}
		s, o, ok := syms.Nearest(v)
		if !ok || (s.Type != 'T' && s.Type != 't' && s.Type != 'W' && s.Type != 'w') {
			continue
		}
		e := StackEntry{Slot: ks.From + uint64(off), Value: v, Function: s.Name, Offset: o}
		if mem.ReadFull(k.virt, code[:], v-7) == nil {
			e.Call = code[2] == 0xe8 || // call rel32
				code[5] == 0xff && code[6]&0x38 == 0x10 || // call *%reg
				code[4] == 0xff && code[5]&0x38 == 0x10 || // call *disp8(%reg), call *(%reg,...)
				code[1] == 0xff && code[2]&0x38 == 0x10 // call *disp32(%reg)
		}
		ks.Entries = append(ks.Entries, e)
	}
	if running && !ks.FromRegs {
		// Below the crash path the stack holds stale frames of earlier
		// calls: start at the deepest frame of the crash machinery
		// (panic, kexec, die) when there is one.
		for i, e := range ks.Entries {
			if crashPath[e.Function] && e.Call {
				ks.Entries, ks.From, ks.FromCrashPath = ks.Entries[i:], e.Slot, true
				break
			}
		}
	}
	return ks, nil
}

// crashPath are the functions a crashing CPU passes through after the
// fault: panic and oops reporting, and the kexec into the capture kernel.
var crashPath = map[string]bool{
	"__crash_kexec": true, "crash_kexec": true, "machine_kexec": true, "native_machine_crash_shutdown": true,
	"crash_setup_regs": true, "panic": true, "vpanic": true, "oops_end": true, "die": true, "__die": true,
	"nmi_panic": true, "crash_nmi_callback": true,
}

// textBounds is the kernel's text: _stext to _etext (else _text to _end).
func (k *Kernel) textBounds(syms *Symbols) (uint64, uint64) {
	lo, ok1 := syms.Lookup("_stext")
	hi, ok2 := syms.Lookup("_etext")
	if !ok1 || !ok2 || hi <= lo {
		lo, _ = syms.Lookup("_text")
		hi, _ = syms.Lookup("_end")
	}
	return lo, hi
}

// ThreadSP returns a task's saved kernel stack pointer (thread.sp, written
// when it was last switched out; stale for a task running at the crash).
func (k *Kernel) ThreadSP(task uint64) (uint64, error) {
	b, err := k.BTF()
	if err != nil {
		return 0, err
	}
	ts, ok1 := b.Struct("task_struct")
	tsid, ok2 := b.Struct("thread_struct")
	if !ok1 || !ok2 {
		return 0, errors.New("linux: BTF has no task_struct or thread_struct")
	}
	thr, err1 := b.MemberOffset(ts, "thread")
	spOff, err2 := b.MemberOffset(tsid, "sp")
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return k.u64(task + thr + spOff)
}
