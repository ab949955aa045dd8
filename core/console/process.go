package console

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/model"
)

// processCommand is WinDbg's !process for kernel dumps: the active process
// list walked from PsActiveProcessHead.
func processCommand() Command {
	return Command{Names: []string{"!process"}, Kind: Extension, Group: GroupAnalysis, Usage: "!process [0|PID|addr] [flags]",
		Summary: "list the processes of a kernel dump (`!process 0 0`) or show one",
		Help: "Walks PsActiveProcessHead as WinDbg's `!process 0 0` does, printing each EPROCESS address, process id (Cid), " +
			"parent id, DirBase and image name; `!process PID` or `!process ADDRESS` shows one process. With nt's symbols (ntkrnlmp.pdb on the symbol path) " +
			"the fields are read where its _EPROCESS type puts them; without, where a search of the System process finds them, and a triage dump's process has no id. The thread count is shown " +
			"when the dump lets it be counted without symbols, the handle count never (HANDLE_TABLE needs symbols). Flags such as 7 " +
			"would list each thread's stack in WinDbg; here they are accepted and the summary is shown.",
		Run: runKernelProcess}
}

// KernelProcessLister is an optional Env capability: the kernel's
// processes read with the layout the kernel's symbols give when the
// environment has them (core/session asks nt's PDB), and a note saying
// what the list lacks without them.
type KernelProcessLister interface {
	KernelProcesses(ctx context.Context) (procs []model.KernelProcess, note string, err error)
}

func runKernelProcess(ctx context.Context, env Env, inv *Invocation, out Output) error {
	var procs []model.KernelProcess
	var note string
	var err error
	kl, ok := env.(KernelProcessLister)
	pl, isLister := env.Target().(model.ProcessLister)
	switch {
	case ok:
		procs, note, err = kl.KernelProcesses(ctx)
	case isLister:
		procs, err = pl.Processes()
	default:
		return &NotSupportedError{What: "this dump has no kernel process list: !process is for Windows kernel dumps and Linux vmcores"}
	}
	if err != nil {
		return &NotSupportedError{What: "the process list cannot be read", Err: err}
	}
	if note != "" {
		out.Text("(" + note + ")\n")
	}
	var sel uint64
	if len(inv.Tokens) > 0 {
		v, err := strconv.ParseUint(strings.ReplaceAll(strings.TrimPrefix(strings.ToLower(inv.Tokens[0]), "0x"), "`", ""), 16, 64)
		if err != nil {
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: fmt.Sprintf("!process: %q is not a process id or EPROCESS address", inv.Tokens[0])}
		}
		sel = v
	}
	ptr := ptrOf(env)
	var b strings.Builder
	if sel == 0 {
		b.WriteString("**** NT ACTIVE PROCESS DUMP ****\n")
	}
	shown := 0
	for _, p := range procs {
		if sel != 0 && p.PID != sel && p.Address != sel {
			continue
		}
		shown++
		fmt.Fprintf(&b, "PROCESS %s\n", FormatAddr(p.Address, ptr))
		// A triage dump's one process has no id or DirBase without
		// symbols: "????" as WinDbg prints unknown ids (PID 0 is Idle).
		cid, parent, dirBase, threads := "????", "????", "?", "?"
		if p.PID != 0 || p.Name == "Idle" || strings.HasPrefix(p.Name, "swapper") { // Windows' Idle and Linux's swapper are PID 0
			cid, parent = fmt.Sprintf("%04x", p.PID), fmt.Sprintf("%04x", p.ParentPID)
		}
		if p.DirBase != 0 {
			dirBase = fmt.Sprintf("%08x", p.DirBase)
		}
		if p.Threads >= 0 {
			threads = strconv.Itoa(p.Threads)
		}
		fmt.Fprintf(&b, "    Cid: %s    ParentCid: %s\n", cid, parent)
		fmt.Fprintf(&b, "    DirBase: %s  Threads: %s\n", dirBase, threads)
		fmt.Fprintf(&b, "    Image: %s\n\n", p.Name)
	}
	if len(inv.Tokens) > 1 && strings.Trim(inv.Tokens[1], "0") != "" {
		b.WriteString("(per-thread detail for these flags is not shown: walking each thread's kernel stack needs symbols for nt)\n")
	}
	if shown == 0 && sel != 0 {
		return fmt.Errorf("no process with id or EPROCESS %#x among the %d listed", sel, len(procs))
	}
	out.Text(b.String())
	return nil
}
