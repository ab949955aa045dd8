package vmcore

import (
	"fmt"
	"iter"
	"slices"

	"github.com/crashbench/crashbench/core/mem"
)

// SplitPart reports whether the file is one part of a dump makedumpfile
// --split wrote as several files, and the page frames it holds: [start,
// end).
func (f *File) SplitPart() (start, end uint64, ok bool) {
	k := f.kd
	if k == nil || !k.haveSub || k.headerVersion < 2 || k.split == 0 {
		return 0, 0, false
	}
	return k.startPFN, k.endPFN, true
}

// SamePartSet reports whether g is another part of the same split dump as
// f: both split parts with the same utsname, crash time and max_mapnr.
func (f *File) SamePartSet(g *File) bool {
	if _, _, ok := f.SplitPart(); !ok {
		return false
	}
	if _, _, ok := g.SplitPart(); !ok {
		return false
	}
	a, b := f.kd, g.kd
	return a.uts == b.uts && a.tvSec == b.tvSec && a.tvUsec == b.tvUsec && a.maxMapnr == b.maxMapnr && a.blockSize == b.blockSize
}

// JoinSplit returns the physical memory of a split dump: each page is read
// from the part whose pfn range holds it. The parts must be of one set
// (SamePartSet) with ranges that do not overlap; parts need not be in
// order, and a missing part leaves its pages NotInDump.
func JoinSplit(parts []*File) (mem.Space, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("vmcore: no split parts")
	}
	type part struct {
		start, end uint64
		s          mem.Space
	}
	var ps []part
	for i, p := range parts {
		start, end, ok := p.SplitPart()
		if !ok || !parts[0].SamePartSet(p) {
			return nil, fmt.Errorf("vmcore: part %d is not a part of the same split dump", i)
		}
		s, err := p.PhysicalMemory()
		if err != nil {
			return nil, err
		}
		ps = append(ps, part{start, end, s})
	}
	slices.SortFunc(ps, func(a, b part) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	bs := uint64(parts[0].kd.blockSize)
	j := &joined{bs: bs}
	for i, p := range ps {
		if i > 0 && p.start < ps[i-1].end {
			return nil, fmt.Errorf("vmcore: split parts overlap at pfn %#x", p.start)
		}
		if p.end > p.start {
			j.spans = append(j.spans, joinedSpan{start: p.start * bs, end: p.end * bs, s: p.s})
		}
	}
	return j, nil
}

// joined routes physical reads to the split parts.
type joined struct {
	bs    uint64
	spans []joinedSpan // ascending, disjoint
}

type joinedSpan struct {
	start, end uint64 // physical addresses [start, end)
	s          mem.Space
}

func (j *joined) Name() string { return "physical" }

func (j *joined) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) {
		for _, sp := range j.spans {
			for r := range sp.s.Regions() {
				lo, hi := max(r.Start, sp.start), min(r.Start+r.Size, sp.end)
				if lo < hi {
					r.Start, r.Size = lo, hi-lo
					if !yield(r) {
						return
					}
				}
			}
		}
	}
}

func (j *joined) ReadMemory(p []byte, addr uint64) (int, error) {
	n := 0
	for n < len(p) {
		a := addr + uint64(n)
		i, ok := slices.BinarySearchFunc(j.spans, a, func(sp joinedSpan, a uint64) int {
			switch {
			case sp.end <= a:
				return -1
			case sp.start > a:
				return 1
			}
			return 0
		})
		if !ok {
			return n, &mem.FaultError{Space: "physical", Addr: a, Kind: mem.NotInDump}
		}
		sp := j.spans[i]
		want := min(uint64(len(p)-n), sp.end-a)
		m, err := sp.s.ReadMemory(p[n:n+int(want)], a)
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
