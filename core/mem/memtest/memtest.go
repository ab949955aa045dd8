// Package memtest provides fake address spaces for testing code that reads
// memory through package mem: a literal Map of segments, and Faulty, which
// injects a fault at one address of any space.
package memtest

import (
	"errors"
	"iter"
	"maps"
	"math"
	"slices"

	"github.com/crashbench/crashbench/core/mem"
)

// Map is a fake Space written as a literal: each key is the start address of
// a segment holding the bytes of its value, for example
//
//	memtest.Map{0x1000: []byte{1, 2, 3, 4}}
//
// Addresses outside every segment fault with mem.Unmapped at the exact first
// missing address. Adjacent segments read as one. Segments must not overlap;
// bytes of a segment past 2^64-1 are ignored. A Map is safe for concurrent
// reads as long as it is not modified.
type Map map[uint64][]byte

// Name returns "memtest".
func (m Map) Name() string { return "memtest" }

// Regions yields one readable, committed region per non-empty segment, in
// address order.
func (m Map) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) {
		for _, start := range slices.Sorted(maps.Keys(m)) {
			n := segLen(start, m[start])
			if n == 0 {
				continue
			}
			if !yield(mem.Region{Start: start, Size: n, Prot: mem.R, State: mem.Committed}) {
				return
			}
		}
	}
}

// segLen is the number of bytes of seg at start that lie below 2^64.
func segLen(start uint64, seg []byte) uint64 {
	n := uint64(len(seg))
	if n > 0 && n-1 > math.MaxUint64-start {
		n = math.MaxUint64 - start + 1
	}
	return n
}

// ReadMemory copies from the segments covering [addr, addr+len(p)).
func (m Map) ReadMemory(p []byte, addr uint64) (int, error) {
	done := 0
	for done < len(p) {
		cur := addr + uint64(done)
		if done > 0 && cur == 0 {
			return done, &mem.FaultError{Space: m.Name(), Addr: 0, Kind: mem.Unmapped}
		}
		seg, off, ok := m.find(cur)
		if !ok {
			return done, &mem.FaultError{Space: m.Name(), Addr: cur, Kind: mem.Unmapped}
		}
		done += copy(p[done:], seg[off:])
	}
	return done, nil
}

// find returns the segment containing addr and addr's offset in it. It scans
// every key, which is fine for the handful of segments a test uses.
func (m Map) find(addr uint64) (seg []byte, off uint64, ok bool) {
	for start, s := range m {
		if addr >= start && addr-start < segLen(start, s) {
			return s[:segLen(start, s)], addr - start, true
		}
	}
	return nil, 0, false
}

// Faulty returns a Space that behaves like s except that the byte at addr
// cannot be read: a read covering it returns the bytes before it and a
// *mem.FaultError of the given kind at exactly addr. Faulty spaces compose,
// so several faults can be injected by nesting calls. Name and Regions are
// those of s.
func Faulty(s mem.Space, addr uint64, kind mem.FaultKind) mem.Space {
	return &faulty{Space: s, addr: addr, kind: kind}
}

type faulty struct {
	mem.Space
	addr uint64
	kind mem.FaultKind
}

func (f *faulty) ReadMemory(p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if f.addr >= addr && f.addr-addr < uint64(len(p)) {
		k := int(f.addr - addr)
		n, err := f.Space.ReadMemory(p[:k], addr)
		if n < k {
			return n, err
		}
		return k, &mem.FaultError{Space: f.Name(), Addr: f.addr, Kind: f.kind, Err: ErrInjected}
	}
	return f.Space.ReadMemory(p, addr)
}

// ErrInjected is the cause (FaultError.Err) of every fault Faulty injects, so
// a test can tell injected faults from those of the underlying space with
// errors.Is.
var ErrInjected = errors.New("injected by memtest.Faulty")
