package linux

import (
	"errors"
	"fmt"
	"iter"
	"sync"

	"github.com/crashbench/crashbench/core/mem"
)

// tlbSize bounds the translation cache; it is emptied when full.
const tlbSize = 4096

// maxRegionEntries bounds how many page-table entries Regions visits, so
// that a corrupt or huge table cannot make a memory-map listing run for
// minutes.
const maxRegionEntries = 1 << 21

var errNonCanonical = errors.New("non-canonical address")

type tlbEntry struct {
	pa, size uint64 // physical base of the page containing va, page size
}

// virtualSpace is the kernel virtual address space: a mem.Mapper over
// physical memory with a small cache of translations.
type virtualSpace struct {
	k *Kernel

	mu  sync.Mutex
	tlb map[uint64]tlbEntry // key: 4 KiB virtual page
}

var _ mem.Mapper = (*virtualSpace)(nil)

func (v *virtualSpace) Name() string    { return "kernel" }
func (v *virtualSpace) Base() mem.Space { return v.k.phys }

func (v *virtualSpace) ReadMemory(p []byte, addr uint64) (int, error) {
	return mem.ReadMapped(v, p, addr)
}

type level struct {
	name  string
	shift uint
	large bool // may map a page (PUD 1G, PMD 2M)
}

var (
	levels4 = []level{{"PGD", 39, false}, {"PUD", 30, true}, {"PMD", 21, true}, {"PTE", 12, false}}
	levels5 = []level{{"PGD", 48, false}, {"P4D", 39, false}, {"PUD", 30, true}, {"PMD", 21, true}, {"PTE", 12, false}}
)

func (v *virtualSpace) levels() []level {
	if v.k.l5 {
		return levels5
	}
	return levels4
}

func (v *virtualSpace) canonical(va uint64) bool {
	bits := uint(48)
	if v.k.l5 {
		bits = 57
	}
	top := va >> (bits - 1)
	return top == 0 || top == (1<<(65-bits))-1
}

// translate returns the physical address of va and the size of its page.
func (v *virtualSpace) translate(va uint64) (uint64, uint64, error) {
	if pa, ok := v.k.textToPhys(va); ok {
		return pa, x86PageSize, nil
	}
	if a := v.k.arm; a != nil {
		if pa, _, ok := a.direct(va); ok {
			return pa, uint64(1) << a.pageShift, nil
		}
	}
	page := va &^ (x86PageSize - 1)
	v.mu.Lock()
	e, ok := v.tlb[page]
	v.mu.Unlock()
	if ok {
		return e.pa + va&(x86PageSize-1), e.size, nil
	}
	pa, size, err := v.walk(va)
	if err != nil {
		return 0, 0, err
	}
	v.mu.Lock()
	if len(v.tlb) >= tlbSize {
		clear(v.tlb)
	}
	v.tlb[page] = tlbEntry{pa: pa &^ (x86PageSize - 1), size: size}
	v.mu.Unlock()
	return pa, size, nil
}

// walk translates va through init_top_pgt. A fixed number of levels is
// read, so corrupt tables cannot loop.
func (v *virtualSpace) walk(va uint64) (uint64, uint64, error) {
	if v.k.arm != nil {
		return v.k.arm.walk(v.k, va)
	}
	if !v.canonical(va) {
		return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.Unmapped, Err: errNonCanonical}
	}
	table := v.k.pgd
	lv := v.levels()
	for i, l := range lv {
		addr := table + (va>>l.shift)&511*8
		var b [8]byte
		if err := mem.ReadFull(v.k.phys, b[:], addr); err != nil {
			kind := mem.ReadFailed
			var fe *mem.FaultError
			if errors.As(err, &fe) {
				kind = fe.Kind
			}
			return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: kind,
				Err: fmt.Errorf("reading the %s entry at physical %#x: %w", l.name, addr, err)}
		}
		e := le.Uint64(b[:]) &^ v.k.smeMask
		if e&x86Present == 0 {
			return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.NotPresent, Level: l.name, Entry: e}
		}
		frame := e & x86EntryFrame
		if i == len(lv)-1 || (l.large && e&x86Large != 0) {
			size := uint64(1) << l.shift
			return frame&^(size-1) | va&(size-1), size, nil
		}
		table = frame
	}
	return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.NotPresent} // unreachable
}

// Map yields one mapping per page (or per large page) of [addr, addr+n).
func (v *virtualSpace) Map(addr, n uint64) iter.Seq2[mem.Mapping, error] {
	return func(yield func(mem.Mapping, error) bool) {
		cur, remaining := addr, n
		for remaining > 0 {
			pa, size, err := v.translate(cur)
			if err != nil {
				yield(mem.Mapping{}, err)
				return
			}
			off := cur & (size - 1)
			l := size - off
			if _, ok := v.k.textToPhys(cur); ok {
				// The image mapping is linear: extend to its end.
				l = v.k.textSize - (cur - startKernelMap)
			} else if a := v.k.arm; a != nil {
				if _, end, ok := a.direct(cur); ok {
					l = end - cur // to the window's end (end 0: 2^64)
				}
			}
			if !yield(mem.Mapping{Addr: cur, Len: l, BaseAddr: pa}, nil) {
				return
			}
			if l >= remaining {
				return
			}
			remaining -= l
			cur += l
		}
	}
}

// Regions walks the page tables and yields the mapped ranges in ascending
// order, merging virtually adjacent pages into one region whatever their
// physical addresses. It visits at most maxRegionEntries entries and skips
// page tables the dump lacks.
func (v *virtualSpace) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) {
		var cur mem.Region
		visited := 0
		stopped := false
		emit := func(start, size uint64) bool {
			if cur.Size > 0 && cur.Start+cur.Size == start {
				cur.Size += size
				return true
			}
			if cur.Size > 0 && !yield(cur) {
				return false
			}
			cur = mem.Region{Start: start, Size: size, Prot: mem.R, State: mem.Committed}
			return true
		}
		if a := v.k.arm; a != nil {
			if a.regions(v.k, emit) && cur.Size > 0 {
				yield(cur)
			}
			return
		}
		lv := v.levels()
		var rec func(table uint64, depth int, base uint64) bool
		rec = func(table uint64, depth int, base uint64) bool {
			var buf [x86PageSize]byte
			if err := mem.ReadFull(v.k.phys, buf[:], table); err != nil {
				return true // an unreadable table: skip its range
			}
			l := lv[depth]
			for i := uint64(0); i < 512; i++ {
				visited++
				if visited > maxRegionEntries {
					stopped = true
					return false
				}
				e := le.Uint64(buf[i*8:]) &^ v.k.smeMask
				if e&x86Present == 0 {
					continue
				}
				va := base | i<<l.shift
				if depth == 0 && i >= 256 {
					// sign-extend the upper half
					if v.k.l5 {
						va |= 0xfe00000000000000
					} else {
						va |= 0xffff000000000000
					}
				}
				if depth == len(lv)-1 || (l.large && e&x86Large != 0) {
					if !emit(va, uint64(1)<<l.shift) {
						return false
					}
					continue
				}
				if !rec(e&x86EntryFrame, depth+1, va) {
					return false
				}
			}
			return true
		}
		if !rec(v.k.pgd, 0, 0) && !stopped {
			return
		}
		if cur.Size > 0 {
			yield(cur)
		}
	}
}
