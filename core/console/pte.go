package console

import (
	"context"
	"fmt"
	"strings"
)

// PageWalker is an optional Env capability: translating kernel virtual
// addresses through the dump's page tables (!pte, !vtop). core/session
// provides it for Windows kernel dumps that hold their page tables.
type PageWalker interface {
	// PageWalk translates va. steps lists each table entry read, outermost
	// first, even when the walk fails; pageSize is the size of the page
	// the last entry maps.
	PageWalk(va uint64) (pa uint64, steps []PageWalkStep, pageSize uint64, err error)
}

// PageWalkStep is one page-table entry a walk read.
type PageWalkStep struct {
	Level string // "PXE", "PPE", "PDE", "PTE" (WinDbg's names), "PDPTE"...
	Addr  uint64 // physical address of the entry
	Entry uint64 // its value
}

func pteCommands() []Command {
	return []Command{
		{Names: []string{"!pte"}, Kind: Extension, Group: GroupMemory, Usage: "!pte address",
			Summary: "show the page-table entries that map a kernel address",
			Help: "Walks the dump's page tables (x64 4- and 5-level, PAE, x86, ARM64) from DirectoryTableBase and prints each " +
				"entry's physical address, value and page frame, as WinDbg's !pte does. A page that is paged out, a prototype PTE " +
				"or a table missing from the dump is named as such.",
			Run: runPTE},
		{Names: []string{"!vtop"}, Kind: Extension, Group: GroupMemory, Usage: "!vtop [0] address",
			Summary: "translate a kernel virtual address to a physical one",
			Help: "Translates through the kernel's page tables (WinDbg's `!vtop 0 address`); a process's own DirBase is not " +
				"taken yet.",
			Run: runVtop},
	}
}

func pageWalk(env Env, inv *Invocation, name string) (va uint64, pw PageWalker, err error) {
	pw, ok := env.(PageWalker)
	if !ok {
		return 0, nil, &NotSupportedError{What: name + " needs a kernel dump with page tables (a full, kernel or bitmap Windows dump)"}
	}
	args := inv.Tokens
	if name == "!vtop" && len(args) == 2 {
		args = args[1:] // !vtop 0 VA: the kernel's DirBase
	}
	if len(args) != 1 {
		return 0, nil, &SyntaxError{Line: inv.Raw, Col: 1, Msg: name + " takes one address"}
	}
	va, err = Eval(args[0], NewEvalEnv(env))
	return va, pw, err
}

func runPTE(_ context.Context, env Env, inv *Invocation, out Output) error {
	va, pw, err := pageWalk(env, inv, "!pte")
	if err != nil {
		return err
	}
	pa, steps, size, werr := pw.PageWalk(va)
	var b strings.Builder
	fmt.Fprintf(&b, "VA %s\n", FormatAddr(va, 8))
	for _, s := range steps {
		// Bit 0 is the valid bit on x86, x64 and ARM64 alike; an invalid
		// entry's other bits are software state, not a page frame.
		frame := "not valid"
		if s.Entry&1 == 1 {
			frame = fmt.Sprintf("pfn %x", (s.Entry&0x000f_ffff_ffff_f000)>>12)
		}
		fmt.Fprintf(&b, "%-6s at %s  contains %016x  %s\n", s.Level, FormatAddr(s.Addr, 8), s.Entry, frame)
	}
	if werr != nil {
		fmt.Fprintf(&b, "not mapped: %v\n", werr)
	} else {
		fmt.Fprintf(&b, "physical %#x (a %s page)\n", pa, sizeName(size))
	}
	out.Text(b.String())
	return nil
}

func runVtop(_ context.Context, env Env, inv *Invocation, out Output) error {
	va, pw, err := pageWalk(env, inv, "!vtop")
	if err != nil {
		return err
	}
	pa, _, _, werr := pw.PageWalk(va)
	if werr != nil {
		return fmt.Errorf("Virtual address %x is not mapped: %w", va, werr)
	}
	out.Text(fmt.Sprintf("Virtual address %x translates to physical address %x.\n", va, pa))
	return nil
}

func sizeName(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}
