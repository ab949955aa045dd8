package mem_test

import (
	"math"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

func TestProtString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p    mem.Prot
		want string
	}{
		{0, "---"},
		{mem.R, "r--"},
		{mem.R | mem.X, "r-x"},
		{mem.R | mem.W, "rw-"},
		{mem.R | mem.W | mem.X, "rwx"},
		{mem.R | mem.W | mem.Guard, "rw-g"},
		{mem.X | 0x80, "--x+0x80"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.String(); got != tt.want {
				t.Errorf("Prot(%#x).String() = %q, want %q", uint8(tt.p), got, tt.want)
			}
		})
	}
}

func TestStateString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    mem.State
		want string
	}{
		{mem.Committed, "committed"},
		{mem.Reserved, "reserved"},
		{mem.Free, "free"},
		{mem.Absent, "absent"},
		{9, "state(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.s.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
	var zero mem.Region
	if zero.State != mem.Committed {
		t.Errorf("zero Region state = %v, want committed", zero.State)
	}
}

func TestRegionBounds(t *testing.T) {
	t.Parallel()
	const top = math.MaxUint64
	tests := []struct {
		name      string
		r         mem.Region
		end, last uint64
		in, out   []uint64
		str       string
	}{
		{
			name: "ordinary", r: mem.Region{Start: 0x1000, Size: 0x1000, Prot: mem.R | mem.X, Label: "a.out"},
			end: 0x2000, last: 0x1fff, in: []uint64{0x1000, 0x1fff}, out: []uint64{0xfff, 0x2000, top},
			str: "[0x1000-0x2000) r-x committed a.out",
		},
		{
			name: "touches top", r: mem.Region{Start: top - 0xfff, Size: 0x1000, Prot: mem.R},
			end: 0, last: top, in: []uint64{top - 0xfff, top}, out: []uint64{0, top - 0x1000},
			str: "[0xfffffffffffff000-0xffffffffffffffff] r-- committed",
		},
		{
			name: "whole space but one", r: mem.Region{Start: 1, Size: top, State: mem.Absent},
			end: 0, last: top, in: []uint64{1, top}, out: []uint64{0},
			str: "[0x1-0xffffffffffffffff] --- absent",
		},
		{
			name: "empty", r: mem.Region{Start: 0x1000},
			end: 0x1000, in: nil, out: []uint64{0xfff, 0x1000, 0x1001},
			str: "[0x1000-0x1000) --- committed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.r.End(); got != tt.end {
				t.Errorf("End() = %#x, want %#x", got, tt.end)
			}
			if tt.r.Size > 0 {
				if got := tt.r.Last(); got != tt.last {
					t.Errorf("Last() = %#x, want %#x", got, tt.last)
				}
			}
			for _, a := range tt.in {
				if !tt.r.Contains(a) {
					t.Errorf("Contains(%#x) = false, want true", a)
				}
			}
			for _, a := range tt.out {
				if tt.r.Contains(a) {
					t.Errorf("Contains(%#x) = true, want false", a)
				}
			}
			if got := tt.r.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
		})
	}
}
