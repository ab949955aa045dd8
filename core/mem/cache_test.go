package mem_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

// cacheSpace is the space most cache tests read through: two regions, the
// first ending mid-page and the second starting mid-page, plus the last
// bytes of the address space.
//
//	[0x1000, 0x2800)  seq from 0x00
//	[0x5800, 0x7000)  seq from 0x40
//	[top-0xfff, top]  seq from 0x80
func cacheSpace() memtest.Map {
	return memtest.Map{
		0x1000:      seq(0x00, 0x1800),
		0x5800:      seq(0x40, 0x1800),
		top - 0xfff: seq(0x80, 0x1000),
	}
}

func TestCacheRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pageSize int
		addr     uint64
		n        int
		wantN    int
		faultAt  uint64
	}{
		{name: "one page", pageSize: 0x1000, addr: 0x1010, n: 16, wantN: 16},
		{name: "spans pages", pageSize: 0x1000, addr: 0x1ff0, n: 0x20, wantN: 0x20},
		{name: "many pages", pageSize: 0x100, addr: 0x1001, n: 0x1700, wantN: 0x1700},
		{name: "partial page at region end", pageSize: 0x1000, addr: 0x27f0, n: 0x20, wantN: 0x10, faultAt: 0x2800},
		{name: "whole region then fault", pageSize: 0x1000, addr: 0x1000, n: 0x2000, wantN: 0x1800, faultAt: 0x2800},
		{name: "region starts mid page", pageSize: 0x1000, addr: 0x5800, n: 0x900, wantN: 0x900},
		{name: "read starts before mid-page region", pageSize: 0x1000, addr: 0x57f0, n: 0x20, wantN: 0, faultAt: 0x57f0},
		{name: "unmapped page", pageSize: 0x1000, addr: 0x3000, n: 1, wantN: 0, faultAt: 0x3000},
		{name: "odd page size", pageSize: 100, addr: 0x1000, n: 0x1000, wantN: 0x1000},
		{name: "odd page size at end", pageSize: 100, addr: 0x27f0, n: 0x20, wantN: 0x10, faultAt: 0x2800},
		{name: "top of address space", pageSize: 0x1000, addr: top - 7, n: 8, wantN: 8},
		{name: "odd page size at top", pageSize: 100, addr: top - 7, n: 8, wantN: 8},
		{name: "wraps", pageSize: 0x1000, addr: top - 7, n: 16, wantN: 8, faultAt: 0},
		{name: "empty", pageSize: 0x1000, addr: 0x3000, n: 0, wantN: 0},
		{name: "default page size", pageSize: 0, addr: 0x1ff0, n: 0x20, wantN: 0x20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := cacheSpace()
			c := mem.NewCache(raw, tt.pageSize, 64)
			// Read twice: the first fills the cache, the second must
			// give the same answer from it.
			for pass := range 2 {
				p := make([]byte, tt.n)
				n, err := c.ReadMemory(p, tt.addr)
				if n != tt.wantN {
					t.Fatalf("pass %d: n = %d, want %d (%v)", pass, n, tt.wantN, err)
				}
				want := make([]byte, n)
				if _, werr := raw.ReadMemory(want, tt.addr); werr != nil || !bytes.Equal(p[:n], want) {
					t.Fatalf("pass %d: bytes differ from the underlying space", pass)
				}
				if n == tt.n {
					if err != nil {
						t.Fatal(err)
					}
					continue
				}
				// The fault is the underlying space's, unchanged.
				if fe := wantFault(t, err, mem.Unmapped, tt.faultAt); fe.Space != "memtest" {
					t.Errorf("Space = %q, want memtest", fe.Space)
				}
			}
			if c.Len() > 64 {
				t.Errorf("Len() = %d > 64", c.Len())
			}
		})
	}
}

func TestCacheEvictionBound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		maxPages int
		reads    int // distinct pages read
		wantLen  int
	}{
		{"under bound", 8, 5, 5},
		{"at bound", 8, 8, 8},
		{"over bound", 8, 100, 8},
		{"single page", 1, 50, 1},
		{"disabled", 0, 20, 0},
		{"negative disables", -3, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := &counting{Space: memtest.Map{0: make([]byte, 200*0x100)}}
			c := mem.NewCache(raw, 0x100, tt.maxPages)
			p := make([]byte, 8)
			for i := range tt.reads {
				if err := mem.ReadFull(c, p, uint64(i)*0x100+4); err != nil {
					t.Fatal(err)
				}
				if c.Len() > max(tt.maxPages, 0) {
					t.Fatalf("after %d reads Len() = %d, bound %d", i+1, c.Len(), tt.maxPages)
				}
			}
			if got := c.Len(); got != tt.wantLen {
				t.Errorf("Len() = %d, want %d", got, tt.wantLen)
			}
			if got := raw.Calls(); got != tt.reads {
				t.Errorf("underlying reads = %d, want %d (one per distinct page)", got, tt.reads)
			}
		})
	}
}

func TestCacheLRU(t *testing.T) {
	t.Parallel()
	const ps = 0x100
	page := func(i int) uint64 { return uint64(i) * ps }
	tests := []struct {
		name      string
		maxPages  int
		reads     []int // page numbers, in order
		wantCalls int   // underlying reads
	}{
		{"repeat hits", 2, []int{0, 0, 0, 0}, 1},
		{"two fit", 2, []int{0, 1, 0, 1, 0, 1}, 2},
		{"lru evicted", 2, []int{0, 1, 2, 0}, 4},            // 2 evicts 0
		{"recent use protects", 2, []int{0, 1, 0, 2, 0}, 3}, // 2 evicts 1, not 0
		{"recent use protects 2", 2, []int{0, 1, 0, 2, 1}, 4},
		{"cycle thrashes", 3, []int{0, 1, 2, 3, 0, 1, 2, 3}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := &counting{Space: memtest.Map{0: make([]byte, 16*ps)}}
			c := mem.NewCache(raw, ps, tt.maxPages)
			for _, pg := range tt.reads {
				if err := mem.ReadFull(c, make([]byte, 4), page(pg)+8); err != nil {
					t.Fatal(err)
				}
			}
			if got := raw.Calls(); got != tt.wantCalls {
				t.Errorf("underlying reads = %d, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestCacheDoesNotCacheFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		kind    mem.FaultKind
		faultAt uint64
		addr    uint64
		n       int
		wantN   int
	}{
		{"fault inside read", mem.NotInDump, 0x1010, 0x1000, 0x20, 0x10},
		{"fault after read in same page", mem.NotPresent, 0x1080, 0x1000, 0x20, 0x20},
		{"fault before read in same page", mem.Corrupt, 0x1004, 0x1010, 0x20, 0x20},
		{"fault at read start", mem.ReadFailed, 0x1010, 0x1010, 0x20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := &counting{Space: memtest.Faulty(memtest.Map{0x1000: seq(0, 0x100)}, tt.faultAt, tt.kind)}
			c := mem.NewCache(raw, 0x100, 4)
			for pass := range 3 {
				p := make([]byte, tt.n)
				n, err := c.ReadMemory(p, tt.addr)
				if n != tt.wantN {
					t.Fatalf("pass %d: n = %d, want %d (%v)", pass, n, tt.wantN, err)
				}
				if !bytes.Equal(p[:n], seq(byte(tt.addr-0x1000), n)) {
					t.Fatalf("pass %d: wrong bytes", pass)
				}
				if n < tt.n {
					fe := wantFault(t, err, tt.kind, tt.faultAt)
					if fe.Err != memtest.ErrInjected {
						t.Errorf("cause = %v, want the injected fault unchanged", fe.Err)
					}
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if c.Len() != 0 {
				t.Errorf("Len() = %d: a faulting page was cached", c.Len())
			}
			if raw.Calls() < 3 {
				t.Errorf("underlying reads = %d; every read of a faulting page must reach it", raw.Calls())
			}
		})
	}
}

func TestCachePassThrough(t *testing.T) {
	t.Parallel()
	raw := cacheSpace()
	c := mem.NewCache(raw, 0x1000, 4)
	if c.Name() != raw.Name() {
		t.Errorf("Name() = %q, want %q", c.Name(), raw.Name())
	}
	if got, want := slices.Collect(c.Regions()), slices.Collect(raw.Regions()); !slices.Equal(got, want) {
		t.Errorf("Regions() = %v, want %v", got, want)
	}
	var _ mem.Space = c

	var nilCache = mem.NewCache(nil, 0x1000, 4)
	if n, err := nilCache.ReadMemory(make([]byte, 4), 0x1000); n != 0 {
		t.Errorf("cache over nil read %d bytes", n)
	} else {
		wantFault(t, err, mem.ReadFailed, 0x1000)
	}
	if slices.Collect(nilCache.Regions()) != nil || nilCache.Name() != "" {
		t.Error("cache over nil has regions or a name")
	}
}

// TestCacheConcurrent reads random ranges from many goroutines through a
// cache much smaller than the data, over a Runs space with decoded pages,
// and checks every byte against the uncached space. Run with -race.
func TestCacheConcurrent(t *testing.T) {
	t.Parallel()
	r := testRuns(t)
	c := mem.NewCache(r, 0x200, 6)
	ranges := []struct{ lo, hi uint64 }{{0x10000, 0x12100}, {0x13f00, 0x16100}, {top - 0x1100, top}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 400 {
				rg := ranges[rng.IntN(len(ranges))]
				addr := rg.lo + rng.Uint64N(rg.hi-rg.lo)
				n := 1 + rng.IntN(0x500)
				got := make([]byte, n)
				want := make([]byte, n)
				gn, gerr := c.ReadMemory(got, addr)
				wn, werr := r.ReadMemory(want, addr)
				if gn != wn || !bytes.Equal(got[:gn], want[:wn]) {
					t.Errorf("read %#x+%#x: cache %d bytes, direct %d (or bytes differ)", addr, n, gn, wn)
					return
				}
				if (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
					t.Errorf("read %#x+%#x: cache err %v, direct err %v", addr, n, gerr, werr)
					return
				}
				if l := c.Len(); l > 6 {
					t.Errorf("Len() = %d > 6", l)
					return
				}
			}
		})
	}
	wg.Wait()
}
