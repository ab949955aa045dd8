package mem

import (
	"cmp"
	"iter"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
)

// Spliced is a space assembled from pieces, each served by its own Reader at
// the same addresses, like delve's SplicedMemory. It models a core file whose
// segments come from different places (file-backed pages read from the
// executable, anonymous pages from the core, thread stacks patched in) and
// lets a caller overlay a piece on top of another: where ranges overlap the
// later Add wins, and earlier pieces are split around it.
//
// Reads are lock-free: Add publishes a new immutable table with an atomic
// pointer, so a Spliced is safe for concurrent reads and Adds. Addresses no
// piece covers fault with Unmapped.
type Spliced struct {
	name   string
	mu     sync.Mutex // serialises Add
	pieces atomic.Pointer[[]piece]
}

// piece is one range of a Spliced space, [start, last] inclusive so that a
// piece may end at 2^64-1.
type piece struct {
	start, last uint64
	r           Reader
	label       string
}

// NewSpliced returns an empty Spliced space with the given name.
func NewSpliced(name string) *Spliced {
	s := &Spliced{name: name}
	s.pieces.Store(&[]piece{})
	return s
}

// Name returns the name given to NewSpliced.
func (s *Spliced) Name() string { return s.name }

// Add makes [start, start+size) read from r (at the same addresses), taking
// precedence over anything added before. A range running past 2^64 is
// clipped at the top of the address space; size 0 does nothing. A nil r
// removes the range, leaving a hole that faults with Unmapped.
func (s *Spliced) Add(r Reader, start, size uint64, label string) {
	if size == 0 {
		return
	}
	last := start + size - 1
	if size-1 > math.MaxUint64-start {
		last = math.MaxUint64
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.pieces.Load()
	next := make([]piece, 0, len(old)+2)
	for _, p := range old {
		if p.last < start || p.start > last {
			next = append(next, p)
			continue
		}
		if p.start < start {
			left := p
			left.last = start - 1
			next = append(next, left)
		}
		if p.last > last {
			right := p
			right.start = last + 1
			next = append(next, right)
		}
	}
	if r != nil {
		next = append(next, piece{start: start, last: last, r: r, label: label})
	}
	slices.SortFunc(next, func(a, b piece) int { return cmp.Compare(a.start, b.start) })
	s.pieces.Store(&next)
}

// Regions yields one readable, committed region per piece, labelled as
// given to Add.
func (s *Spliced) Regions() iter.Seq[Region] {
	ps := *s.pieces.Load()
	return func(yield func(Region) bool) {
		for _, p := range ps {
			if !yield(Region{Start: p.start, Size: p.last - p.start + 1, Prot: R, State: Committed, Label: p.label}) {
				return
			}
		}
	}
}

// ReadMemory reads across pieces; a read spanning several pieces is served by
// each in turn.
func (s *Spliced) ReadMemory(p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	ps := *s.pieces.Load()
	want := span(addr, len(p))
	i := sort.Search(len(ps), func(i int) bool { return ps[i].last >= addr })
	done := 0
	for done < want {
		cur := addr + uint64(done)
		if i >= len(ps) || ps[i].start > cur {
			return done, &FaultError{Space: s.name, Addr: cur, Kind: Unmapped}
		}
		pc := ps[i]
		k := int(min(pc.last-cur, uint64(want-done-1)) + 1)
		n, err := readSub(s.name, pc.r, p[done:done+k], cur, cur)
		done += n
		if err != nil {
			return done, err
		}
		i++
	}
	if want < len(p) {
		return done, wrapFaultAt(s.name)
	}
	return done, nil
}
