package kdmp

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// kernelViews memoises the views built on top of the header: physical and
// kernel virtual memory, KDDEBUGGER_DATA64 and the module and process
// lists. NewFile reads only the header, so each view is computed on first
// use; the zero value is ready (views fills it in once).
type kernelViews struct {
	once    sync.Once
	phys    func() (*mem.Runs, error)
	kernel  func() (*VirtualSpace, error)
	kdbg    func() (*KDDebuggerData, error)
	modules func() ([]model.Module, error)
	procs   func() ([]model.KernelProcess, error)
}

func (f *File) views() *kernelViews {
	v := &f.kv
	v.once.Do(func() {
		v.phys = sync.OnceValues(f.buildPhys)
		v.kernel = sync.OnceValues(f.buildKernelSpace)
		v.kdbg = sync.OnceValues(f.buildKDBG)
		v.modules = sync.OnceValues(f.buildModules)
		v.procs = sync.OnceValues(f.buildProcesses)
	})
	return v
}

// viewDiag records damage found while building a view. It joins the
// diagnostics Ranges finds, which Diagnostics already returns; Off is -1
// because the problem lies in dumped memory, not at a header offset.
func (f *File) viewDiag(sev model.Severity, format string, args ...any) {
	f.addRangeDiag(sev, -1, format, args...)
}

// PhysicalSpace returns the physical memory the dump stores, named "phys":
// one mem.Runs mapping per range of Ranges (the runs of a full dump, the
// coalesced bitmap of a bitmap dump, the PFN ranges of an RDMP dump) over
// the file. Lookups binary-search the ranges, so a sparse 64 GiB bitmap dump
// costs one Mapping per run of present pages, never one entry per page.
// Pages the dump did not capture fault with mem.NotInDump.
//
// Triage, legacy summary (DumpType 2) and header-only dumps store no plain
// physical pages: the error wraps model.ErrNotRecorded. The space is built
// once.
func (f *File) PhysicalSpace() (*mem.Runs, error) { return f.views().phys() }

func (f *File) buildPhys() (*mem.Runs, error) {
	ranges, err := f.Ranges()
	if err != nil {
		return nil, err
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("kdmp: DumpType %d (%s) stores no physical memory pages: %w",
			f.hdr.dumpType, dumpTypeName(f.hdr.dumpType), model.ErrNotRecorded)
	}
	maps := make([]mem.Mapping, 0, len(ranges))
	for _, r := range ranges {
		if r.Size == 0 || r.FileOff < 0 {
			continue
		}
		maps = append(maps, mem.Mapping{Addr: r.Start, Len: r.Size, BaseAddr: uint64(r.FileOff)})
	}
	maps = f.clipOverlaps(maps)
	return mem.NewRuns(mem.NewFile(f.r, f.size, "file"), "phys", maps)
}

// clipOverlaps sorts the mappings and trims any that overlap an earlier one
// (a corrupt full dump may list overlapping runs; check already warned), so
// that mem.NewRuns, which rejects overlaps, accepts the rest: the first
// listed copy of a page wins.
func (f *File) clipOverlaps(maps []mem.Mapping) []mem.Mapping {
	if slices.IsSortedFunc(maps, func(a, b mem.Mapping) int { return cmp.Compare(a.Addr, b.Addr) }) {
		ok := true
		for i := 1; i < len(maps) && ok; i++ {
			ok = maps[i].Addr-maps[i-1].Addr >= maps[i-1].Len
		}
		if ok {
			return maps
		}
	}
	slices.SortStableFunc(maps, func(a, b mem.Mapping) int { return cmp.Compare(a.Addr, b.Addr) })
	out := maps[:0]
	var end uint64 // first address after the last kept mapping (0: none yet or it reached 2^64)
	dropped := 0
	for i, m := range maps {
		if i > 0 && len(out) > 0 {
			if end == 0 { // the previous mapping ends at 2^64
				dropped++
				continue
			}
			if m.Addr < end {
				cut := end - m.Addr
				if cut >= m.Len {
					dropped++
					continue
				}
				m.Addr, m.BaseAddr, m.Len = end, m.BaseAddr+cut, m.Len-cut
				dropped++
			}
		}
		out = append(out, m)
		end = m.Addr + m.Len
	}
	if dropped > 0 {
		f.viewDiag(model.Warning, "%d physical ranges overlap earlier ones; the first copy of each page is used", dropped)
	}
	return out
}
