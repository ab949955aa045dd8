package memtest_test

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

const top = math.MaxUint64

func TestMapRead(t *testing.T) {
	t.Parallel()
	m := memtest.Map{
		0x1000:  {1, 2, 3, 4},
		0x1004:  {5, 6},       // adjacent: reads as one with the previous
		0x2000:  {9},          // isolated
		top - 1: {0xfe, 0xff}, // touches 2^64
		0x3000:  {},           // empty: no region
	}
	tests := []struct {
		name    string
		addr    uint64
		n       int
		want    []byte
		faultAt uint64
	}{
		{name: "inside", addr: 0x1001, n: 2, want: []byte{2, 3}},
		{name: "across adjacent segments", addr: 0x1002, n: 4, want: []byte{3, 4, 5, 6}},
		{name: "partial then gap", addr: 0x1004, n: 4, want: []byte{5, 6}, faultAt: 0x1006},
		{name: "gap", addr: 0x1fff, n: 2, want: nil, faultAt: 0x1fff},
		{name: "single byte", addr: 0x2000, n: 1, want: []byte{9}},
		{name: "top", addr: top - 1, n: 2, want: []byte{0xfe, 0xff}},
		{name: "wraps", addr: top, n: 2, want: []byte{0xff}, faultAt: 0},
		{name: "empty segment", addr: 0x3000, n: 1, want: nil, faultAt: 0x3000},
		{name: "zero length", addr: 0x9999, n: 0, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := make([]byte, tt.n)
			n, err := m.ReadMemory(p, tt.addr)
			if !bytes.Equal(p[:n], tt.want) {
				t.Fatalf("read %x, want %x", p[:n], tt.want)
			}
			if n == tt.n {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *mem.FaultError
			if !errors.As(err, &fe) || fe.Kind != mem.Unmapped || fe.Addr != tt.faultAt || fe.Space != "memtest" {
				t.Fatalf("err = %v, want memtest unmapped fault at %#x", err, tt.faultAt)
			}
		})
	}
	want := []mem.Region{
		{Start: 0x1000, Size: 4, Prot: mem.R},
		{Start: 0x1004, Size: 2, Prot: mem.R},
		{Start: 0x2000, Size: 1, Prot: mem.R},
		{Start: top - 1, Size: 2, Prot: mem.R},
	}
	if got := slices.Collect(m.Regions()); !slices.Equal(got, want) {
		t.Errorf("Regions() = %v, want %v", got, want)
	}
}

func TestMapClipsAtTop(t *testing.T) {
	t.Parallel()
	m := memtest.Map{top: {0xaa, 0xbb}}
	if got := slices.Collect(m.Regions()); len(got) != 1 || got[0].Size != 1 {
		t.Errorf("Regions() = %v, want one 1-byte region", got)
	}
	p := make([]byte, 2)
	n, err := m.ReadMemory(p, top)
	if n != 1 || p[0] != 0xaa || !errors.Is(err, mem.ErrUnmapped) {
		t.Errorf("ReadMemory = %d, %v; want 1 byte then unmapped", n, err)
	}
	var nilMap memtest.Map
	if n, err := nilMap.ReadMemory(p, 0); n != 0 || !errors.Is(err, mem.ErrUnmapped) {
		t.Errorf("nil Map read = %d, %v", n, err)
	}
}

func TestFaulty(t *testing.T) {
	t.Parallel()
	base := memtest.Map{0x1000: {0, 1, 2, 3, 4, 5, 6, 7}}
	tests := []struct {
		name    string
		space   mem.Space
		addr    uint64
		n       int
		wantN   int
		kind    mem.FaultKind
		faultAt uint64
		inject  bool // fault comes from Faulty, not the base
	}{
		{name: "before fault", space: memtest.Faulty(base, 0x1004, mem.NotInDump), addr: 0x1000, n: 4, wantN: 4},
		{name: "after fault", space: memtest.Faulty(base, 0x1004, mem.NotInDump), addr: 0x1005, n: 3, wantN: 3},
		{name: "spans fault", space: memtest.Faulty(base, 0x1004, mem.NotInDump), addr: 0x1002, n: 4, wantN: 2, kind: mem.NotInDump, faultAt: 0x1004, inject: true},
		{name: "at fault", space: memtest.Faulty(base, 0x1004, mem.OutsideFile), addr: 0x1004, n: 1, wantN: 0, kind: mem.OutsideFile, faultAt: 0x1004, inject: true},
		{name: "base faults first", space: memtest.Faulty(base, 0x1010, mem.Corrupt), addr: 0x1006, n: 16, wantN: 2, kind: mem.Unmapped, faultAt: 0x1008},
		{name: "nested, first wins", space: memtest.Faulty(memtest.Faulty(base, 0x1006, mem.NotPresent), 0x1003, mem.ReadFailed), addr: 0x1000, n: 8, wantN: 3, kind: mem.ReadFailed, faultAt: 0x1003, inject: true},
		{name: "nested, inner", space: memtest.Faulty(memtest.Faulty(base, 0x1006, mem.NotPresent), 0x1003, mem.ReadFailed), addr: 0x1004, n: 4, wantN: 2, kind: mem.NotPresent, faultAt: 0x1006, inject: true},
		{name: "fault at top", space: memtest.Faulty(memtest.Map{top - 3: {1, 2, 3, 4}}, top, mem.NotInDump), addr: top - 3, n: 4, wantN: 3, kind: mem.NotInDump, faultAt: top, inject: true},
		{name: "zero length at fault", space: memtest.Faulty(base, 0x1004, mem.NotInDump), addr: 0x1004, n: 0, wantN: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := make([]byte, tt.n)
			n, err := tt.space.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (%v)", n, tt.wantN, err)
			}
			if tt.addr >= 0x1000 && tt.addr < 0x1008 && !bytes.Equal(p[:n], base[0x1000][tt.addr-0x1000:][:n]) {
				t.Errorf("bytes = %x", p[:n])
			}
			if n == tt.n {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var fe *mem.FaultError
			if !errors.As(err, &fe) || fe.Kind != tt.kind || fe.Addr != tt.faultAt {
				t.Fatalf("err = %v, want %v fault at %#x", err, tt.kind, tt.faultAt)
			}
			if got := errors.Is(err, memtest.ErrInjected); got != tt.inject {
				t.Errorf("errors.Is(err, ErrInjected) = %v, want %v", got, tt.inject)
			}
		})
	}
	f := memtest.Faulty(base, 0x1004, mem.NotInDump)
	if f.Name() != base.Name() || !slices.Equal(slices.Collect(f.Regions()), slices.Collect(base.Regions())) {
		t.Error("Faulty changed Name or Regions")
	}
}
