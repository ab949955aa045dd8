package console

import (
	"context"
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// TrapReader is an optional Target capability: decoding a KTRAP_FRAME
// stored in the dumped memory (.trap). Windows kernel dumps provide it.
type TrapReader interface {
	TrapFrameAt(addr uint64) (model.Context, error)
}

// KernelInspector is an optional capability of the Env or of its Target:
// what a Windows kernel dump says, without symbols, about the thread that
// bugchecked, its processor and physical memory (!thread, !irql, !vm).
// core/session provides it over core/kdmp; console does not import kdmp.
type KernelInspector interface {
	KernelThread() (*KernelThread, error)
	// KernelIRQL returns the IRQL saved in the crashing processor's KPRCB,
	// the KPRCB's address (0 when unknown) and where the value was read.
	KernelIRQL() (irql uint8, prcb uint64, source string, err error)
	KernelMemory() (*KernelMemory, error)
}

// KernelThread is the crashing thread as !thread shows it; zero fields
// are unknown.
type KernelThread struct {
	Address      uint64 // ETHREAD
	Via          string // how the address was found
	Process      uint64 // EPROCESS
	ProcessName  string
	InitialStack uint64
	KernelStack  uint64
	StackLimit   uint64
	StackBase    uint64
	Teb          uint64
	State        int // KTHREAD.State; -1 when unknown
}

// KernelMemory is what !vm can show without symbols.
type KernelMemory struct {
	Runs        [][2]uint64 // PHYSICAL_MEMORY_RUN: base page, page count
	Pages       uint64      // NumberOfPages; 0 when the header has no descriptor
	NoRunsWhy   string      // why there is no descriptor, when there is none
	PfnDatabase uint64      // MmPfnDatabase from the header, 0 when unset
	PageSize    uint64
}

// kernelCommands returns the Windows kernel dump commands (.trap, !thread,
// !irql, !vm). They are not in Builtins yet: core/session adds them to its
// engine.
func kernelCommands() []Command {
	return []Command{
		enumtagCommand(),
		{Names: []string{".trap"}, Kind: Meta, Group: GroupThreads, Usage: ".trap [address]",
			Summary: "use the KTRAP_FRAME at an address as the register state (no address: back to the thread)",
			Help: "Decodes an x64 KTRAP_FRAME (ntddk.h: rax-r11, rbp, rip, cs, eflags, rsp, ss) from the dump's memory and makes it " +
				"the register context, as .cxr does for a CONTEXT: r, k and u then start from the trapped code. A trap frame does not " +
				"save rbx, rsi, rdi or r12-r15, so they are not shown. Other architectures' trap frames are not decoded.",
			Run: runTrap},
		{Names: []string{"!thread"}, Kind: Extension, Group: GroupThreads, Usage: "!thread [address]",
			Summary: "show the kernel thread that bugchecked: ETHREAD, process, kernel stack, registers and stack",
			Help: "Without symbols only the crashing thread is known: its ETHREAD (KPRCB.CurrentThread), owning EPROCESS and " +
				"image name, KTHREAD stack bounds and state from the offsets KDDEBUGGER_DATA64 gives, then the current registers and " +
				"the stack (as r and k). The Cid needs nt's symbols: KDDEBUGGER_DATA64 has no offset for ETHREAD.Cid.",
			Run: runKernelThread},
		{Names: []string{"!irql"}, Kind: Extension, Group: GroupThreads, Usage: "!irql",
			Summary: "show the IRQL saved in the crashing processor's KPRCB",
			Help: "Reads CR8 from KPRCB.ProcessorState.SpecialRegisters (x64), which KDDEBUGGER_DATA64's " +
				"OffsetPrcbProcStateSpecialReg locates. WinDbg prints KPRCB.DebuggerSavedIRQL, whose offset only nt's symbols give.",
			Run: runIrql},
		{Names: []string{"!vm"}, Kind: Extension, Group: GroupMemory, Usage: "!vm",
			Summary: "show the physical memory the dump describes",
			Help: "Prints the header's PHYSICAL_MEMORY_DESCRIPTOR (runs, pages, total size) for full and bitmap dumps and the " +
				"PfnDataBase address. WinDbg's usage counters (available pages, commit charge, pool usage) are nt variables that " +
				"need symbols to be found.",
			Run: runVM},
	}
}

func kernelInspector(env Env, name string) (KernelInspector, error) {
	if k, ok := env.(KernelInspector); ok {
		return k, nil
	}
	if k, ok := env.Target().(KernelInspector); ok {
		return k, nil
	}
	return nil, &NotSupportedError{What: name + " is for Windows kernel dumps"}
}

// runTrap is .trap ADDR: like .cxr, with a KTRAP_FRAME.
func runTrap(_ context.Context, env Env, inv *Invocation, out Output) error {
	tr, _ := env.Target().(TrapReader)
	var read func(uint64) (model.Context, error)
	if tr != nil {
		read = tr.TrapFrameAt
	}
	return switchContext(env, inv, out, switchSpec{read: read, what: "trap frame",
		unsupported: ".trap is for Windows kernel dumps: this dump kind has no trap frames",
		note:        "NOTE: The trap frame does not contain all registers (rbx, rsi, rdi and r12-r15 are not saved).\n"})
}

var threadStates = [...]string{"Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting", "Transition", "DeferredReady", "GateWaitObsolete", "WaitingForProcessInSwap"}

func runKernelThread(ctx context.Context, env Env, inv *Invocation, out Output) error {
	ki, err := kernelInspector(env, "!thread")
	if err != nil {
		return err
	}
	th, err := ki.KernelThread()
	if err != nil {
		return &NotSupportedError{What: "the crashing thread cannot be described", Err: err}
	}
	if len(inv.Tokens) > 0 {
		a, err := Eval(inv.Tokens[0], NewEvalEnv(env))
		if err != nil {
			return err
		}
		if a != th.Address {
			return &NotSupportedError{What: fmt.Sprintf("only the crashing thread (ETHREAD %s) is known without symbols for nt; %s is not it",
				addr(env, th.Address), addr(env, a))}
		}
	}
	var b strings.Builder
	state := "?"
	if th.State >= 0 && th.State < len(threadStates) {
		state = threadStates[th.State]
	} else if th.State >= 0 {
		state = fmt.Sprintf("%d", th.State)
	}
	fmt.Fprintf(&b, "THREAD %s  Cid ????.????  Teb: %s  %s\n", addr(env, th.Address), addr(env, th.Teb), state)
	if th.Via != "" {
		fmt.Fprintf(&b, "    (ETHREAD found through %s)\n", th.Via)
	}
	proc := "?"
	if th.Process != 0 {
		proc = addr(env, th.Process)
	}
	name := th.ProcessName
	if name == "" {
		name = "?"
	}
	fmt.Fprintf(&b, "Owning Process            %s       Image:         %s\n", proc, name)
	if th.StackBase != 0 || th.StackLimit != 0 || th.KernelStack != 0 {
		fmt.Fprintf(&b, "Base %s Limit %s Current %s\n", addr(env, th.StackBase), addr(env, th.StackLimit), addr(env, th.KernelStack))
	}
	if th.InitialStack != 0 {
		fmt.Fprintf(&b, "InitialStack %s\n", addr(env, th.InitialStack))
	}
	b.WriteString("Cid: needs symbols for nt (KDDEBUGGER_DATA64 gives no offset for ETHREAD.Cid)\n\n")
	out.Text(b.String())
	if err := showRegs(env, out); err != nil {
		out.Text(fmt.Sprintf("registers: %v\n", err))
	}
	out.Text("\n")
	return runStack(ctx, env, &Invocation{Name: "k"}, out)
}

// irqlNames are the x64 and ARM64 IRQL names.
var irqlNames = map[uint8]string{0: "PASSIVE_LEVEL", 1: "APC_LEVEL", 2: "DISPATCH_LEVEL", 13: "CLOCK_LEVEL", 14: "IPI_LEVEL", 15: "HIGH_LEVEL"}

func runIrql(_ context.Context, env Env, _ *Invocation, out Output) error {
	ki, err := kernelInspector(env, "!irql")
	if err != nil {
		return err
	}
	irql, prcb, src, err := ki.KernelIRQL()
	if err != nil {
		return &NotSupportedError{What: "the saved IRQL needs symbols for nt (KPRCB.DebuggerSavedIRQL)", Err: err}
	}
	name := irqlNames[irql]
	if name == "" {
		name = "device IRQL"
	}
	where := "the crashing processor"
	if prcb != 0 {
		where += " (KPRCB " + addr(env, prcb) + ")"
	}
	out.Text(fmt.Sprintf("Saved IRQL for %s -- %d (%s)\n  from %s; KPRCB.DebuggerSavedIRQL needs symbols for nt\n", where, irql, name, src))
	return nil
}

func runVM(_ context.Context, env Env, _ *Invocation, out Output) error {
	ki, err := kernelInspector(env, "!vm")
	if err != nil {
		return err
	}
	m, err := ki.KernelMemory()
	if err != nil {
		return &NotSupportedError{What: "the dump's memory description cannot be read", Err: err}
	}
	ps := m.PageSize
	if ps == 0 {
		ps = 0x1000
	}
	var b strings.Builder
	if m.Pages != 0 {
		fmt.Fprintf(&b, "Physical memory descriptor: %d runs, %#x pages (%d MB)\n", len(m.Runs), m.Pages, m.Pages*ps>>20)
		for i, r := range m.Runs {
			fmt.Fprintf(&b, "  run %2d: pages %#x-%#x (%d MB)\n", i, r[0], r[0]+r[1]-1, r[1]*ps>>20)
		}
	} else {
		why := m.NoRunsWhy
		if why == "" {
			why = "the header has none"
		}
		fmt.Fprintf(&b, "Physical memory descriptor: not in this dump (%s)\n", why)
	}
	if m.PfnDatabase != 0 {
		fmt.Fprintf(&b, "PfnDataBase: %s\n", addr(env, m.PfnDatabase))
	} else {
		b.WriteString("PfnDataBase: not recorded\n")
	}
	b.WriteString("Usage counters (available pages, commit charge, pool usage) need symbols for nt.\n")
	out.Text(b.String())
	return nil
}
