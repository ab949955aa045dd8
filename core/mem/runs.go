package mem

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"slices"
	"sort"
)

// Runs is a Mapper defined by a sorted table of mappings ("runs"), the shape
// of a kernel dump's physical memory description: each run says where a range
// of physical addresses is stored in the file, possibly compressed. Addresses
// no run covers fault with NotInDump.
//
// Lookups binary-search the table, so Map costs O(log n) plus O(1) per run
// touched, and memory is one Mapping per run: no per-page index. Runs is
// immutable after NewRuns and safe for concurrent use.
type Runs struct {
	base Space
	name string
	runs []Mapping // sorted by Addr, non-overlapping, Len > 0
}

// NewRuns builds a Runs space named name over base. It copies and sorts runs
// by Addr and drops zero-length runs (dump headers contain empty
// descriptors). It rejects, with an error naming the offending runs:
// overlapping runs; a run whose Addr+Len or, for identity runs,
// BaseAddr+Len runs past 2^64 (ending exactly at 2^64 is allowed); a decoded
// run whose Len or SrcLen exceeds MaxDecodeLen; and a nil base.
func NewRuns(base Space, name string, runs []Mapping) (*Runs, error) {
	if base == nil {
		return nil, fmt.Errorf("mem: runs %q: nil base space", name)
	}
	rs := make([]Mapping, 0, len(runs))
	for i, r := range runs {
		if r.Len == 0 {
			continue
		}
		if r.Len-1 > math.MaxUint64-r.Addr {
			return nil, fmt.Errorf("mem: runs %q: run %d at %#x: length %#x runs past the top of the address space", name, i, r.Addr, r.Len)
		}
		if r.Decode == nil && r.Len-1 > math.MaxUint64-r.BaseAddr {
			return nil, fmt.Errorf("mem: runs %q: run %d at %#x: base %#x + length %#x runs past the top of the base space", name, i, r.Addr, r.BaseAddr, r.Len)
		}
		if r.Decode != nil && (r.Len > MaxDecodeLen || r.SrcLen > MaxDecodeLen) {
			return nil, fmt.Errorf("mem: runs %q: run %d at %#x: decoded length %#x or source length %#x exceeds %#x", name, i, r.Addr, r.Len, r.SrcLen, MaxDecodeLen)
		}
		rs = append(rs, r)
	}
	slices.SortStableFunc(rs, func(a, b Mapping) int { return cmp.Compare(a.Addr, b.Addr) })
	for i := 1; i < len(rs); i++ {
		if prev := rs[i-1]; rs[i].Addr <= prev.last() {
			return nil, fmt.Errorf("mem: runs %q: run [%#x, %#x] overlaps run [%#x, %#x]", name, rs[i].Addr, rs[i].last(), prev.Addr, prev.last())
		}
	}
	return &Runs{base: base, name: name, runs: slices.Clip(rs)}, nil
}

// Name returns the name given to NewRuns.
func (r *Runs) Name() string { return r.name }

// Base returns the space the runs point into.
func (r *Runs) Base() Space { return r.base }

// Len returns the number of (non-empty) runs.
func (r *Runs) Len() int { return len(r.runs) }

// ReadMemory reads through the runs; see ReadMapped.
func (r *Runs) ReadMemory(p []byte, addr uint64) (int, error) { return ReadMapped(r, p, addr) }

// Regions yields one readable, committed region per maximal stretch of
// contiguous runs. Merging matters because a compressed dump has one run per
// page: listing millions of adjacent one-page regions would be useless.
func (r *Runs) Regions() iter.Seq[Region] {
	return func(yield func(Region) bool) {
		var cur Region
		for i, m := range r.runs {
			if i > 0 && m.Addr == cur.Start+cur.Size {
				cur.Size += m.Len
				continue
			}
			if i > 0 && !yield(cur) {
				return
			}
			cur = Region{Start: m.Addr, Size: m.Len, Prot: R, State: Committed}
		}
		if len(r.runs) > 0 {
			yield(cur)
		}
	}
}

// Map yields the runs covering [addr, addr+n) as described by Mapper. Runs
// are yielded whole, not clipped. A gap yields a NotInDump fault at its first
// address; a range running past 2^64 yields an Unmapped fault at address 0
// after the runs up to the top.
func (r *Runs) Map(addr, n uint64) iter.Seq2[Mapping, error] {
	return func(yield func(Mapping, error) bool) {
		if n == 0 {
			return
		}
		last, wraps := addr+n-1, false
		if n-1 > math.MaxUint64-addr {
			last, wraps = math.MaxUint64, true
		}
		// First run that ends at or after addr.
		i := sort.Search(len(r.runs), func(i int) bool { return r.runs[i].last() >= addr })
		cur := addr
		for ; i < len(r.runs); i++ {
			m := r.runs[i]
			if m.Addr > cur {
				break // gap before this run
			}
			if !yield(m, nil) {
				return
			}
			if m.last() >= last {
				if wraps {
					yield(Mapping{}, wrapFaultAt(r.name))
				}
				return
			}
			cur = m.last() + 1 // m.last() < last <= MaxUint64, no overflow
		}
		yield(Mapping{}, &FaultError{Space: r.name, Addr: cur, Kind: NotInDump})
	}
}
