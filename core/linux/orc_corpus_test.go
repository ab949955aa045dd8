package linux_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore"
)

// TestCorpusORC unwinds init's stack in the corpus vmcore (PID 1, running
// on CPU 0 when QEMU's pvpanic handler took the dump) with the kernel's
// ORC data, from the registers the dump saved for CPU 0. The oracle is the
// trace the kernel itself printed with the same unwinder a moment earlier
// (panic-96M.dmesg.txt: its reliable frames, those without "?", from
// panic down), and the user-mode registers it printed there: RIP 47b7a0,
// RSP 7ffd0df14a08, EFLAGS 202, ORIG_RAX 1, RAX ffffffffffffffda.
func TestCorpusORC(t *testing.T) {
	k := openPanic(t)
	f, err := vmcore.Open(fixture.Corpus(t, panicDump))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pc, sp, bp uint64
	for _, c := range f.CPUStates() {
		if c.PID == 1 && c.Regs != nil {
			pc, sp, bp = c.Regs["rip"], c.Regs["rsp"], c.Regs["rbp"]
		}
	}
	if pc == 0 {
		t.Fatal("no NT_PRSTATUS for PID 1")
	}
	st, err := k.UnwindORC(pc, sp, bp, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fr := range st.Frames {
		name, _ := k.TextSymbol(fr.PC)
		names = append(names, name)
	}
	i := slices.IndexFunc(names, func(n string) bool { return strings.HasPrefix(n, "panic+") })
	want := []string{"sysrq_handle_crash+0x16", "__handle_sysrq.cold+0x44", "write_sysrq_trigger+0x24", "proc_reg_write+0x56",
		"vfs_write+0xc7", "ksys_write+0x6b", "do_syscall_64+0x5d", "entry_SYSCALL_64_after_hwframe+0x6e"}
	if i < 0 || !slices.Equal(names[i+1:], want) {
		t.Errorf("frames %q, want panic then %q", names, want)
	}
	// The first frame is pvpanic's panic notifier (pvpanic_panic_notify in
	// drivers/misc/pvpanic/pvpanic.c), a module: unwound through the
	// module's own ORC table, named from its own symbol table.
	mod, ok := k.ModuleSymbol(st.Frames[0].PC)
	if _, inVmlinux := k.TextSymbol(st.Frames[0].PC); inVmlinux || !ok || !strings.HasPrefix(mod, "pvpanic_panic_notify+") || !strings.HasSuffix(mod, " [pvpanic]") || names[1] != "atomic_notifier_call_chain+0x52" {
		t.Errorf("first frames %q (module symbol %q): want pvpanic_panic_notify in pvpanic, then atomic_notifier_call_chain", names[:2], mod)
	}
	u := st.User
	if st.Stop != "" || u == nil || u.IP != 0x47b7a0 || u.SP != 0x7ffd0df14a08 || u.Flags != 0x202 || u.OrigAX != 1 || u.AX != 0xffffffffffffffda {
		t.Errorf("stop %q, user registers %+v", st.Stop, u)
	}
	for j := 1; j < len(st.Frames); j++ {
		if st.Frames[j].SP <= st.Frames[j-1].SP {
			t.Errorf("frame %d: sp %#x does not grow", j, st.Frames[j].SP)
		}
	}
}

// TestCorpusORCSleeping unwinds sleeping tasks from their saved
// inactive_task_frame: each walk must begin in the scheduler and end at
// the end of the stack (a kernel thread) or at user mode, never stop on
// missing data.
func TestCorpusORCSleeping(t *testing.T) {
	k := openPanic(t)
	tasks, err := k.Tasks()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		sp, err := k.ThreadSP(task.Address)
		if err != nil || task.PID == 1 {
			continue
		}
		pc, stackSP, bp, err := k.SleepingStart(sp)
		if err != nil {
			t.Fatal(err)
		}
		st, err := k.UnwindORC(pc, stackSP, bp, false)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := k.TextSymbol(st.Frames[0].PC)
		if st.Stop != "" || !strings.HasPrefix(first, "__schedule+") || (st.User == nil) != task.KThread {
			t.Errorf("pid %d %s: first %q, %d frames, stop %q, user %+v", task.PID, task.Comm, first, len(st.Frames), st.Stop, st.User)
		}
		n++
	}
	if n < 40 {
		t.Errorf("only %d sleeping tasks unwound", n)
	}
}
