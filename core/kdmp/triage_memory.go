package kdmp

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// triPiece is one range of a triage dump's virtual memory: the bytes
// [addr, last] are stored at file offset off.
type triPiece struct {
	addr, last uint64
	off        uint64
	label      string
}

// triageSpace is the virtual memory of a triage dump: a mem.Runs over the
// file (which does the reading and the fault reporting) whose regions keep
// the label of what each range is.
type triageSpace struct {
	*mem.Runs
	regions []mem.Region
}

// Regions yields the ranges in ascending order, labelled "call stack",
// "data block", "data page", "KDDEBUGGER_DATA64", "ETHREAD", "EPROCESS" or
// "KPRCB".
func (s *triageSpace) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) {
		for _, r := range s.regions {
			if !yield(r) {
				return
			}
		}
	}
}

// buildTriageMemory assembles the triage dump's kernel virtual memory. A
// triage dump has no page tables: its memory is the list of ranges
// dbgeng's KernelTriageDumpTargetInfo::MapMemoryRegions maps, each stored
// plainly in the file. Where ranges overlap (the runtime data blocks
// often repeat part of the stack) the first in this order wins: the call
// stack at TopOfStack, the data page, the TRIAGE_DATA_BLOCKs (the lowest
// address first among themselves), the KDDEBUGGER_DATA64 copy at
// DUMP_HEADER.KdDebuggerDataBlock, then the ETHREAD, EPROCESS and KPRCB
// copies at the addresses TriageThread, TriageProcess and TriagePrcb
// recover. All are snapshots of the same moment, so where they overlap
// they should agree. Ranges are clipped to the file; data blocks that lie
// past its end become one diagnostic.
func (f *File) buildTriageMemory() (mem.Space, error) {
	t := f.hdr.triage
	addrMask := uint64(math.MaxUint64)
	if !f.hdr.is64 {
		addrMask = math.MaxUint32
	}
	// piece clips a range to the file and to the top of the address
	// space; ok is false when nothing of it is stored.
	piece := func(addr uint64, off int64, size uint64, label string) (triPiece, bool) {
		if size == 0 || off <= 0 || off >= f.size {
			return triPiece{}, false
		}
		size = min(size, uint64(f.size-off))
		addr &= addrMask
		last := addr + size - 1
		if size-1 > math.MaxUint64-addr {
			last = math.MaxUint64
		}
		return triPiece{addr: addr, last: last, off: uint64(off), label: label}, true
	}
	var groups [][]triPiece
	single := func(addr uint64, off int64, size uint64, label string) {
		if p, ok := piece(addr, off, size, label); ok {
			groups = append(groups, []triPiece{p})
		}
	}
	if present(t.CallStackOffset) && present(t.SizeOfCallStack) && present64(t.TopOfStack) {
		single(t.TopOfStack, int64(t.CallStackOffset), uint64(t.SizeOfCallStack), "call stack")
	}
	if present64(t.DataPageAddress) && present(t.DataPageOffset) && present(t.DataPageSize) {
		single(t.DataPageAddress, int64(t.DataPageOffset), uint64(t.DataPageSize), "data page")
	}
	blocks, err := f.TriageDataBlocks()
	if err != nil {
		return nil, err
	}
	outside := &diagAgg{f: f, sev: model.Warning}
	var bg []triPiece
	for i, b := range blocks {
		if b.Size == 0 {
			continue
		}
		if int64(b.Offset)+int64(b.Size) > f.size {
			outside.add(int64(t.DataBlocksOffset)+int64(i)*triageDataBlockSize,
				"data block %d: %#x bytes of %#x at file offset %#x lie past the end of the file (%#x bytes)", i, b.Size, b.Address, b.Offset, f.size)
		}
		if p, ok := piece(b.Address, int64(b.Offset), uint64(b.Size), "data block"); ok {
			bg = append(bg, p)
		}
	}
	outside.flush()
	groups = append(groups, bg)
	if present(t.DebuggerDataOffset) && present(t.DebuggerDataSize) && present64(f.hdr.kdDebug) && f.kernelAddr(f.hdr.kdDebug) {
		single(f.hdr.kdDebug, int64(t.DebuggerDataOffset), uint64(t.DebuggerDataSize), "KDDEBUGGER_DATA64")
	}
	o, err := f.triViews().objects()
	if err != nil {
		return nil, err
	}
	for _, obj := range []*TriageObject{o.thread, o.process, o.prcb} {
		if obj != nil && obj.Address != 0 {
			single(obj.Address, obj.Off, uint64(len(obj.Data)), obj.Name)
		}
	}
	var taken []triPiece
	for _, g := range groups {
		g = keepFirst(g)
		var add []triPiece
		for _, p := range g {
			add = append(add, carve(p, taken)...)
		}
		taken = mergePieces(taken, add)
	}
	maps := make([]mem.Mapping, len(taken))
	var regions []mem.Region
	for i, p := range taken {
		maps[i] = mem.Mapping{Addr: p.addr, Len: p.last - p.addr + 1, BaseAddr: p.off}
		if n := len(regions); n > 0 && regions[n-1].Label == p.label && regions[n-1].Last()+1 == p.addr {
			regions[n-1].Size += p.last - p.addr + 1
			continue
		}
		regions = append(regions, mem.Region{Start: p.addr, Size: p.last - p.addr + 1, Prot: mem.R, State: mem.Committed, Label: p.label})
	}
	runs, err := mem.NewRuns(mem.NewFile(f.r, f.size, "file"), "kernel", maps)
	if err != nil {
		return nil, fmt.Errorf("kdmp: triage memory: %w", err)
	}
	return &triageSpace{Runs: runs, regions: regions}, nil
}

// keepFirst sorts a group by address and trims each range to the part no
// lower-addressed range of the group covers.
func keepFirst(g []triPiece) []triPiece {
	slices.SortStableFunc(g, func(a, b triPiece) int { return cmp.Compare(a.addr, b.addr) })
	out := g[:0]
	for _, p := range g {
		if n := len(out); n > 0 {
			prev := out[n-1]
			if prev.last == math.MaxUint64 || p.last <= prev.last {
				continue
			}
			if p.addr <= prev.last {
				cut := prev.last + 1 - p.addr
				p.addr, p.off = p.addr+cut, p.off+cut
			}
		}
		out = append(out, p)
	}
	return out
}

// carve returns the parts of p that no range of taken (sorted,
// non-overlapping) covers, in ascending order.
func carve(p triPiece, taken []triPiece) []triPiece {
	var out []triPiece
	emit := func(a, l uint64) {
		out = append(out, triPiece{addr: a, last: l, off: p.off + (a - p.addr), label: p.label})
	}
	i := sort.Search(len(taken), func(i int) bool { return taken[i].last >= p.addr })
	cur := p.addr
	for ; i < len(taken) && taken[i].addr <= p.last; i++ {
		if taken[i].addr > cur {
			emit(cur, taken[i].addr-1)
		}
		if taken[i].last >= p.last {
			return out
		}
		cur = max(cur, taken[i].last+1)
	}
	emit(cur, p.last)
	return out
}

// mergePieces merges two sorted, mutually non-overlapping lists.
func mergePieces(a, b []triPiece) []triPiece {
	out := make([]triPiece, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].addr < b[j].addr {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// triageContextAt reads and decodes a CONTEXT at a virtual address of the
// triage memory, requiring the machine's architecture bit in
// ContextFlags (so that a stray pointer does not pass for a context).
func (f *File) triageContextAt(addr uint64) (*CPUContext, error) {
	space, err := f.triViews().memory()
	if err != nil {
		return nil, err
	}
	c, err := f.contextIn(space, addr)
	if err != nil {
		return nil, err
	}
	if !c.hasArchFlag(f.hdr.machine) {
		return nil, fmt.Errorf("%w: ContextFlags %#x at %#x lack the %s bit", ErrBadContext, c.Flags, addr, c.arch)
	}
	return c, nil
}

// triageHeaderContext returns the CONTEXT at TRIAGE_DUMP.ContextOffset
// (the DUMP_HEADER's ContextRecord in every dump seen). Computed once.
func (f *File) triageHeaderContext() (*CPUContext, error) { return f.triViews().header() }

// buildTriageHeaderContext decodes it; a record that is there but does not
// decode (never written, too short) is a diagnostic as well as an error
// wrapping model.ErrNotRecorded and ErrBadContext.
func (f *File) buildTriageHeaderContext() (*CPUContext, error) {
	t := f.hdr.triage
	size := ContextSize(f.hdr.machine)
	if !present(t.ContextOffset) || int64(t.ContextOffset) >= f.size {
		return nil, fmt.Errorf("kdmp: the triage dump has no context record: %w", model.ErrNotRecorded)
	}
	if size == 0 {
		return nil, fmt.Errorf("kdmp: no CONTEXT layout for MachineImageType %#x: %w", f.hdr.machine, model.ErrNotRecorded)
	}
	b, err := f.triRead(int64(t.ContextOffset), uint64(size), "CONTEXT")
	if err != nil {
		return nil, err
	}
	c, err := DecodeContext(f.hdr.machine, b)
	if err != nil {
		f.addRangeDiag(model.Warning, int64(t.ContextOffset), "TRIAGE_DUMP.ContextOffset %#x: %v", t.ContextOffset, err)
		return nil, fmt.Errorf("kdmp: context record at %#x: %w (%w)", t.ContextOffset, err, model.ErrNotRecorded)
	}
	return c, nil
}

// buildTriageThreadContext finds the crashing thread's registers at the
// moment of the dump, the context whose stack pointer is TopOfStack (the
// writer stores the stack from there). Candidates, in order:
//
//  1. *KPRCB.Context, read through the triage memory (KDDEBUGGER_DATA64's
//     OffsetPrcbContext gives the field; Windows 7 and later). This is the
//     context KeBugCheckEx captured and the one rizin's `dr` shows: on the
//     corpus x64 dump it is a data block holding rip = KeBugCheckEx;
//  2. the context record at ContextOffset (for an "_M" bugcheck such as
//     0x1000007E it is the exception's context, not the thread's current
//     one; on the corpus arm64 dump it is both);
//  3. KPRCB.ProcessorState.ContextFrame in the KPRCB copy.
//
// The first whose SP is TopOfStack wins; without a match, the first that
// decodes.
func (f *File) buildTriageThreadContext() (model.Context, error) {
	t := f.hdr.triage
	machine := f.hdr.machine
	var cands []*CPUContext
	o, err := f.triViews().objects()
	if err != nil {
		return nil, err
	}
	k := o.kdbg
	if k == nil {
		k = &KDDebuggerData{}
	}
	if k.OffsetPrcbContext != 0 && o.prcb != nil {
		if ptr := f.ptrAt(o.prcb.Data, k.OffsetPrcbContext); ptr != 0 && f.kernelAddr(ptr) {
			if c, err := f.triageContextAt(ptr); err == nil {
				cands = append(cands, c)
			} else if !isAbsence(err) {
				return nil, err
			}
		}
	}
	if c, err := f.triageHeaderContext(); err == nil {
		cands = append(cands, c)
	} else if !isAbsence(err) {
		return nil, err
	}
	if size := ContextSize(machine); k.OffsetPrcbProcStateContext != 0 && o.prcb != nil && int(k.OffsetPrcbProcStateContext)+size <= len(o.prcb.Data) {
		at := int(k.OffsetPrcbProcStateContext)
		if c, err := DecodeContext(machine, o.prcb.Data[at:at+size]); err == nil && c.hasArchFlag(machine) {
			cands = append(cands, c)
		}
	}
	if present64(t.TopOfStack) {
		for _, c := range cands {
			if c.SP() == t.TopOfStack {
				return c, nil
			}
		}
	}
	if len(cands) > 0 {
		return cands[0], nil
	}
	return nil, fmt.Errorf("kdmp: the triage dump holds no usable context for the crashing thread: %w", model.ErrNotRecorded)
}

// isAbsence reports whether err says something is missing or malformed
// rather than that the file could not be read.
func isAbsence(err error) bool {
	var fe *mem.FaultError
	return errors.Is(err, model.ErrNotRecorded) || errors.Is(err, ErrBadContext) ||
		errors.As(err, &fe) && !errors.Is(err, mem.ErrReadFailed)
}
