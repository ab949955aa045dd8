package mem_test

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

// fill is a Reader whose every byte is b, so a test can see which piece of a
// Spliced space served each byte.
type fill byte

func (f fill) ReadMemory(p []byte, addr uint64) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

type add struct {
	r           mem.Reader
	start, size uint64
	label       string
}

// render reads [lo, hi) one byte at a time and draws each byte as its fill
// letter, or '.' where the read faults with Unmapped.
func render(t *testing.T, s *mem.Spliced, lo, hi uint64) string {
	t.Helper()
	var b []byte
	for a := lo; a < hi; a++ {
		var p [1]byte
		if _, err := s.ReadMemory(p[:], a); err != nil {
			wantFault(t, err, mem.Unmapped, a)
			b = append(b, '.')
			continue
		}
		b = append(b, p[0])
	}
	return string(b)
}

func TestSplicedAdd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		adds    []add
		picture string // bytes 0..15
		regions []mem.Region
	}{
		{
			name:    "disjoint",
			adds:    []add{{fill('a'), 1, 3, "a"}, {fill('b'), 8, 2, "b"}},
			picture: ".aaa....bb......",
			regions: []mem.Region{{Start: 1, Size: 3, Prot: mem.R, Label: "a"}, {Start: 8, Size: 2, Prot: mem.R, Label: "b"}},
		},
		{
			name:    "later splits middle",
			adds:    []add{{fill('a'), 0, 12, "a"}, {fill('b'), 4, 4, "b"}},
			picture: "aaaabbbbaaaa....",
			regions: []mem.Region{{Start: 0, Size: 4, Prot: mem.R, Label: "a"}, {Start: 4, Size: 4, Prot: mem.R, Label: "b"}, {Start: 8, Size: 4, Prot: mem.R, Label: "a"}},
		},
		{
			name:    "later covers earlier",
			adds:    []add{{fill('a'), 4, 4, "a"}, {fill('b'), 2, 8, "b"}},
			picture: "..bbbbbbbb......",
			regions: []mem.Region{{Start: 2, Size: 8, Prot: mem.R, Label: "b"}},
		},
		{
			name:    "overlaps left edge",
			adds:    []add{{fill('a'), 4, 8, "a"}, {fill('b'), 2, 4, "b"}},
			picture: "..bbbbaaaaaa....",
		},
		{
			name:    "overlaps right edge",
			adds:    []add{{fill('a'), 4, 8, "a"}, {fill('b'), 10, 4, "b"}},
			picture: "....aaaaaabbbb..",
		},
		{
			name:    "spans several",
			adds:    []add{{fill('a'), 0, 4, "a"}, {fill('b'), 6, 2, "b"}, {fill('c'), 10, 4, "c"}, {fill('d'), 2, 10, "d"}},
			picture: "aaddddddddddcc..",
		},
		{
			name:    "identical range replaced",
			adds:    []add{{fill('a'), 4, 4, "a"}, {fill('b'), 4, 4, "b"}},
			picture: "....bbbb........",
			regions: []mem.Region{{Start: 4, Size: 4, Prot: mem.R, Label: "b"}},
		},
		{
			name:    "earlier does not win",
			adds:    []add{{fill('b'), 4, 4, "b"}, {fill('a'), 0, 16, "a"}},
			picture: "aaaaaaaaaaaaaaaa",
		},
		{
			name:    "nil punches hole",
			adds:    []add{{fill('a'), 0, 12, "a"}, {nil, 4, 4, ""}},
			picture: "aaaa....aaaa....",
			regions: []mem.Region{{Start: 0, Size: 4, Prot: mem.R, Label: "a"}, {Start: 8, Size: 4, Prot: mem.R, Label: "a"}},
		},
		{
			name:    "zero size ignored",
			adds:    []add{{fill('a'), 0, 4, "a"}, {fill('b'), 2, 0, "b"}},
			picture: "aaaa............",
		},
		{
			name:    "adjacent stay separate",
			adds:    []add{{fill('a'), 0, 4, "a"}, {fill('b'), 4, 4, "b"}},
			picture: "aaaabbbb........",
			regions: []mem.Region{{Start: 0, Size: 4, Prot: mem.R, Label: "a"}, {Start: 4, Size: 4, Prot: mem.R, Label: "b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mem.NewSpliced("core")
			for _, a := range tt.adds {
				s.Add(a.r, a.start, a.size, a.label)
			}
			if got := render(t, s, 0, 16); got != tt.picture {
				t.Errorf("picture = %q, want %q", got, tt.picture)
			}
			if tt.regions != nil {
				if got := slices.Collect(s.Regions()); !slices.Equal(got, tt.regions) {
					t.Errorf("Regions() = %v, want %v", got, tt.regions)
				}
			}
		})
	}
}

func TestSplicedRead(t *testing.T) {
	t.Parallel()
	const top = ^uint64(0)
	core := memtest.Map{0x1000: seq(0, 0x100), top - 0xf: seq(0xf0, 0x10)}
	patch := memtest.Map{0x1080: bytes.Repeat([]byte{0xee}, 0x10)}
	s := mem.NewSpliced("core")
	s.Add(core, 0x1000, 0x100, "segment")
	s.Add(patch, 0x1080, 0x10, "patch")
	s.Add(core, 0x2000, 0x100, "declared but not in core") // core faults here
	s.Add(core, top-0xf, 0x100, "clipped at top")          // size runs past 2^64
	want := seq(0, 0x100)
	copy(want[0x80:], bytes.Repeat([]byte{0xee}, 0x10))
	tests := []struct {
		name    string
		addr    uint64
		n       int
		wantN   int
		kind    mem.FaultKind
		faultAt uint64
		inner   string // Space of the cause, if the fault comes from a piece
	}{
		{name: "across patch", addr: 0x1070, n: 0x30, wantN: 0x30},
		{name: "whole segment", addr: 0x1000, n: 0x100, wantN: 0x100},
		{name: "into gap", addr: 0x10f0, n: 0x20, wantN: 0x10, kind: mem.Unmapped, faultAt: 0x1100},
		{name: "in gap", addr: 0x1800, n: 1, wantN: 0, kind: mem.Unmapped, faultAt: 0x1800},
		{name: "before everything", addr: 0, n: 4, wantN: 0, kind: mem.Unmapped, faultAt: 0},
		{name: "piece faults", addr: 0x2000, n: 4, wantN: 0, kind: mem.Unmapped, faultAt: 0x2000, inner: "memtest"},
		{name: "top", addr: top - 0xf, n: 0x10, wantN: 0x10},
		{name: "wraps", addr: top - 0x7, n: 0x10, wantN: 0x8, kind: mem.Unmapped, faultAt: 0},
		{name: "empty", addr: 0x5, n: 0, wantN: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := make([]byte, tt.n)
			n, err := s.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (%v)", n, tt.wantN, err)
			}
			if tt.addr >= 0x1000 && tt.addr < 0x1100 && !bytes.Equal(p[:n], want[tt.addr-0x1000:][:n]) {
				t.Errorf("bytes = %x", p[:n])
			}
			if n == tt.n {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe := wantFault(t, err, tt.kind, tt.faultAt)
			if fe.Space != "core" {
				t.Errorf("Space = %q, want core", fe.Space)
			}
			if tt.inner != "" {
				inner, ok := fe.Err.(*mem.FaultError)
				if !ok || inner.Space != tt.inner {
					t.Errorf("cause = %v, want a fault of %q", fe.Err, tt.inner)
				}
			}
		})
	}
	if got := slices.Collect(s.Regions()); len(got) != 5 || got[4].Last() != top || got[2].Label != "segment" {
		t.Errorf("Regions() = %v, want 5 (segment split by patch) ending at the top", got)
	}
}

// TestSplicedConcurrent adds pieces while other goroutines read; run with
// -race. Every successful read must see a single piece's fill byte.
func TestSplicedConcurrent(t *testing.T) {
	t.Parallel()
	s := mem.NewSpliced("core")
	s.Add(fill('a'), 0, 1<<20, "base")
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 3 {
		wg.Go(func() {
			p := make([]byte, 64)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				addr := uint64((i*4099 + g*977) % (1<<20 - 64))
				n, err := s.ReadMemory(p, addr)
				if err != nil {
					t.Errorf("read at %#x: %v", addr, err)
					return
				}
				for _, c := range p[:n] {
					if c < 'a' || c > 'z' {
						t.Errorf("byte %q at %#x", c, addr)
						return
					}
				}
			}
		})
	}
	for i := range 200 {
		s.Add(fill('b'+byte(i%20)), uint64(i*5000), 3000, fmt.Sprint(i))
	}
	close(stop)
	wg.Wait()
	if n := len(slices.Collect(s.Regions())); n < 200 {
		t.Errorf("%d regions after 200 adds", n)
	}
}
