package mem

import (
	"fmt"
	"math"
	"strconv"
)

// Prot is a set of page protections as the dump records them. Views use it to
// tell code from data and to flag guard pages next to stacks.
type Prot uint8

// Protection bits.
const (
	R     Prot = 1 << iota // readable
	W                      // writable
	X                      // executable
	Guard                  // guard page (Windows PAGE_GUARD): touching it traps
)

// String returns the protections in ls style, e.g. "r-x", with "g" appended
// for a guard page ("rw-g") and any unknown bits appended in hex so that a
// bad value is visible rather than silently dropped.
func (p Prot) String() string {
	b := []byte("---")
	if p&R != 0 {
		b[0] = 'r'
	}
	if p&W != 0 {
		b[1] = 'w'
	}
	if p&X != 0 {
		b[2] = 'x'
	}
	if p&Guard != 0 {
		b = append(b, 'g')
	}
	if rest := p &^ (R | W | X | Guard); rest != 0 {
		b = append(b, "+0x"...)
		b = strconv.AppendUint(b, uint64(rest), 16)
	}
	return string(b)
}

// State says whether a region is backed by memory and whether the dump holds
// its bytes. Committed is the zero value because most producers only describe
// memory they captured.
type State uint8

// Region states.
const (
	Committed State = iota // backed by memory and captured in the dump
	Reserved               // address space reserved but not backed
	Free                   // known to be free; listed only by dumps that record it
	Absent                 // committed in the target but not captured in the dump
)

// String returns the state in lower case, e.g. "committed".
func (s State) String() string {
	switch s {
	case Committed:
		return "committed"
	case Reserved:
		return "reserved"
	case Free:
		return "free"
	case Absent:
		return "absent"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Region describes a range [Start, Start+Size) of a space.
//
// A region may touch the top of the address space: Start+Size == 2^64 is
// valid, and for such a region End wraps to 0. Code that compares addresses
// with a region should therefore use Last or Contains, which never overflow;
// End is kept for the common case and for printing.
type Region struct {
	Start uint64
	Size  uint64
	Prot  Prot
	State State
	Label string // what the region is, e.g. a module path or "stack"; optional
}

// End returns Start+Size, the first address after the region. It is 0 (2^64
// wrapped) for a region that ends at the top of the address space; use Last
// for overflow-free comparisons.
func (r Region) End() uint64 { return r.Start + r.Size }

// Last returns the last address in the region. It is meaningless for an empty
// region (Size == 0), which contains no address.
func (r Region) Last() uint64 { return r.Start + r.Size - 1 }

// Contains reports whether addr lies in the region.
func (r Region) Contains(addr uint64) bool {
	return addr >= r.Start && addr-r.Start < r.Size
}

// String formats the region for debugging, e.g.
// "[0x1000-0x2000) r-x committed libc.so"; a region touching the top of the
// address space is shown with the inclusive form "[0xfff...f000-0xfff...fff]".
func (r Region) String() string {
	var s string
	switch {
	case r.Size == 0:
		s = fmt.Sprintf("[%#x-%#x)", r.Start, r.Start)
	case r.Size-1 > math.MaxUint64-r.Start:
		s = fmt.Sprintf("[%#x-overflow size %#x]", r.Start, r.Size)
	case r.Last() == math.MaxUint64:
		s = fmt.Sprintf("[%#x-%#x]", r.Start, r.Last())
	default:
		s = fmt.Sprintf("[%#x-%#x)", r.Start, r.End())
	}
	s += " " + r.Prot.String() + " " + r.State.String()
	if r.Label != "" {
		s += " " + r.Label
	}
	return s
}

// span returns how many of n bytes starting at addr lie below 2^64, so that
// reads never wrap around to address 0.
func span(addr uint64, n int) int {
	if n <= 0 {
		return 0
	}
	if room := math.MaxUint64 - addr; uint64(n-1) > room {
		return int(room + 1) // room+1 <= n-1 < MaxInt, so no overflow
	}
	return n
}

// wrapFaultAt is the fault for the first byte past the top of the address
// space. The address 2^64 cannot be represented, so it is reported as 0 with
// errWrap explaining why.
func wrapFaultAt(space string) *FaultError {
	return &FaultError{Space: space, Addr: 0, Kind: Unmapped, Err: errWrap}
}
