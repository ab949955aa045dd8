package session

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// This file is the facade the workbench's graphical views use: the memory
// map, the process tree and address expressions, each computed the same
// way as the console command that prints it (!address, ps/!process, ?).

// RegionKind is what a memory-map region holds, for colouring it.
type RegionKind uint8

const (
	RegionUnknown RegionKind = iota // the dump does not say
	RegionImage                     // an executable image (module)
	RegionMapped                    // a mapped file other than a module
	RegionPrivate                   // anonymous memory
	RegionStack                     // a thread's stack
	RegionHeap                      // the [heap] of a Linux process
)

func (k RegionKind) String() string {
	return [...]string{"unknown", "image", "mapped", "private", "stack", "heap"}[k]
}

// MapRegion is one row of the memory map: a region as !address lists it,
// its Usage column and its kind.
type MapRegion struct {
	mem.Region
	Usage string
	Kind  RegionKind
}

// Captured reports whether the dump holds the region's bytes.
func (r MapRegion) Captured() bool { return r.State != mem.Absent && r.State != mem.Free }

// MemoryMap returns the regions of the dump's address space in address
// order, as !address lists them, each with its kind, and the space's name.
func (s *Session) MemoryMap() ([]MapRegion, string, error) {
	rs, usage, name, err := console.AddressRegions(consoleEnv{s})
	if err != nil {
		return nil, "", err
	}
	var stacks []uint64
	if ts, err := s.Threads(); err == nil {
		for _, t := range ts {
			if t.Context != nil {
				stacks = append(stacks, t.Context.SP())
			}
		}
	}
	out := make([]MapRegion, len(rs), len(rs)+len(s.Modules()))
	for i, r := range rs {
		out[i] = MapRegion{Region: r, Usage: usage[i], Kind: regionKind(r, usage[i], stacks)}
	}
	// Modules occupy the address space whether or not the dump captured
	// their bytes: the parts no region covers are shown as absent images.
	n := len(out)
	for _, m := range s.Modules() {
		r := mem.Region{Start: m.Base, Size: m.Size, State: mem.Absent}
		for _, p := range console.UncoveredParts(r, rs) {
			out = append(out, MapRegion{Region: p, Usage: "Image " + m.Path, Kind: RegionImage})
		}
	}
	if len(out) > n {
		slices.SortStableFunc(out, func(a, b MapRegion) int { return cmp.Compare(a.Start, b.Start) })
	}
	return out, name, nil
}

// regionKind classifies a region from its label and usage, and from the
// threads' stack pointers for dumps whose regions carry no label.
func regionKind(r mem.Region, usage string, stacks []uint64) RegionKind {
	switch {
	case strings.HasPrefix(r.Label, "[stack"):
		return RegionStack
	case r.Label == "[heap]":
		return RegionHeap
	case strings.HasPrefix(usage, "Image "):
		return RegionImage
	}
	for _, sp := range stacks {
		if r.Contains(sp) {
			return RegionStack
		}
	}
	if path, _, ok := model.ParseFileLabel(r.Label); ok {
		if strings.HasSuffix(path, ".so") || strings.Contains(path, ".so.") || strings.HasSuffix(path, ".exe") || strings.HasSuffix(path, ".dll") {
			return RegionImage
		}
		return RegionMapped
	}
	switch {
	case r.Label == "[vdso]" || r.Label == "[vvar]" || r.Label == "[vsyscall]":
		return RegionImage
	case r.Label != "":
		return RegionMapped
	case r.State == mem.Committed || r.State == mem.Absent:
		return RegionPrivate
	}
	return RegionUnknown
}

// ProcessNode is one process of the dump's process tree.
type ProcessNode struct {
	PID, ParentPID uint64
	Name           string
	Threads        int    // -1 when unknown
	Address        uint64 // the EPROCESS or task_struct; 0 for a process dump
	Crashed        bool   // the process whose thread crashed or panicked
}

// ProcessTree lists the processes of the dump: every process of a kernel
// dump or vmcore (as ps and !process 0 0 list them), or the one process of
// a process dump with its threads. note says how the list was found when
// it was found the hard way (no symbols).
func (s *Session) ProcessTree(ctx context.Context) (nodes []ProcessNode, note string, err error) {
	info := s.Target().Info()
	if info.Process != nil || !isKernel(info.Format) {
		n := ProcessNode{Threads: info.Threads, Crashed: info.Crash != nil}
		if info.Process != nil {
			n.PID, n.Name = info.Process.PID, info.Process.Name
		}
		if n.Name == "" {
			n.Name = "(process)"
		}
		return []ProcessNode{n}, "", nil
	}
	procs, note, err := s.KernelProcesses(ctx)
	if err != nil && len(procs) == 0 {
		return nil, note, err
	}
	crashPID, hasCrash := s.crashedPID()
	for _, p := range procs {
		nodes = append(nodes, ProcessNode{PID: p.PID, ParentPID: p.ParentPID, Name: p.Name, Threads: p.Threads,
			Address: p.Address, Crashed: hasCrash && p.PID == crashPID})
	}
	return nodes, note, err
}

// crashedPID is the pid of the task the panic names, for kernel dumps whose
// log records one.
func (s *Session) crashedPID() (uint64, bool) {
	if p := s.linuxPanic(); p != nil && p.PID >= 0 {
		return uint64(p.PID), true
	}
	return 0, false
}

func isKernel(f model.Format) bool {
	switch f {
	case model.WindowsKernel, model.LinuxVMCore, model.LiME, model.FreeBSDVMCore:
		return true
	}
	return false
}

// Eval evaluates an address expression as the console does (registers,
// module!symbol, arithmetic), for the hex and disassembly views' "go to".
func (s *Session) Eval(expr string) (uint64, error) {
	v, err := console.Eval(expr, console.NewEvalEnv(consoleEnv{s}))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", expr, err)
	}
	return v, nil
}
