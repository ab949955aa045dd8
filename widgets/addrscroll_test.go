package widgets

import (
	"math"
	"testing"
)

const gib64 = 64 << 30 // a 64 GiB space, [0, gib64)

func TestLastTop(t *testing.T) {
	for _, c := range []struct {
		name          string
		lo, hi, row   uint64
		rows          int
		want          uint64
		wantLastStart uint64 // the last row's address
	}{
		{"full space", 0, math.MaxUint64, 16, 40, math.MaxUint64 - 40*16 + 1, math.MaxUint64 - 15},
		{"full space, pointers", 0, math.MaxUint64, 8, 40, math.MaxUint64 - 40*8 + 1, math.MaxUint64 - 7},
		{"64 GiB", 0, gib64 - 1, 16, 40, gib64 - 40*16, gib64 - 16},
		{"32-bit", 0, math.MaxUint32, 16, 25, math.MaxUint32 - 25*16 + 1, math.MaxUint32 - 15},
		{"range smaller than a screen", 0x1000, 0x10ff, 16, 40, 0x1000, 0x1000 + 39*16},
		{"range of exactly a screen", 0x1000, 0x1000 + 40*16 - 1, 16, 40, 0x1000, 0x1000 + 39*16},
		{"no rows laid out yet", 0, math.MaxUint64, 16, 0, math.MaxUint64 - 15, math.MaxUint64 - 15},
	} {
		got := lastTop(c.lo, c.hi, c.row, c.rows)
		if got != c.want {
			t.Errorf("%s: lastTop = %#x, want %#x", c.name, got, c.want)
		}
		if got%c.row != c.lo%c.row {
			t.Errorf("%s: lastTop %#x is not on a row boundary", c.name, got)
		}
		if last := got + uint64(max(c.rows, 1)-1)*c.row; last != c.wantLastStart {
			t.Errorf("%s: last row at %#x, want %#x", c.name, last, c.wantLastStart)
		}
	}
}

func TestScrollFractionAndAddress(t *testing.T) {
	full := lastTop(0, math.MaxUint64, 16, 40)
	small := lastTop(0, gib64-1, 16, 40)
	for _, c := range []struct {
		name        string
		lo, maxTop  uint64
		top         uint64
		wantF       float64
		roundTripOK uint64 // how far scrollAddr(scrollFraction(top)) may land from top
	}{
		{"full space, top", 0, full, 0, 0, 0},
		{"full space, bottom", 0, full, full, 1, 0},
		{"full space, middle", 0, full, 1 << 63, 0.5, 1 << 11},
		{"full space, past the end clamps", 0, full, math.MaxUint64, 1, math.MaxUint64 - full},
		{"64 GiB, top", 0, small, 0, 0, 0},
		{"64 GiB, bottom", 0, small, small, 1, 0},
		{"64 GiB, a quarter", 0, small, small / 4, 0.25, 1},
		{"range at the top of the space", math.MaxUint64 - 0xffff, math.MaxUint64 - 0xf, math.MaxUint64 - 0x7fff - 8, 0.5, 1},
	} {
		f := scrollFraction(c.top, c.lo, c.maxTop)
		if math.Abs(f-c.wantF) > 1e-9 {
			t.Errorf("%s: scrollFraction = %v, want %v", c.name, f, c.wantF)
		}
		back := scrollAddr(f, c.lo, c.maxTop)
		if back < c.lo || back > c.maxTop {
			t.Errorf("%s: scrollAddr(%v) = %#x, outside [%#x, %#x]", c.name, f, back, c.lo, c.maxTop)
		}
		diff := max(back, c.top) - min(back, c.top)
		if diff > c.roundTripOK {
			t.Errorf("%s: scrollAddr(scrollFraction(%#x)) = %#x, %#x away", c.name, c.top, back, diff)
		}
	}
	// The ends are exact, and fractions out of range or NaN never
	// overflow: a float64 of 2^64-1 rounds up to 2^64.
	for _, f := range []float64{1, 1.5, math.Inf(1)} {
		if got := scrollAddr(f, 0, math.MaxUint64); got != math.MaxUint64 {
			t.Errorf("scrollAddr(%v, 0, max) = %#x, want the top of the space", f, got)
		}
	}
	if got := scrollAddr(math.Nextafter(1, 0), 0, math.MaxUint64); got < math.MaxUint64-4096 {
		t.Errorf("scrollAddr(just below 1, 0, max) = %#x, wrapped or fell short", got)
	}
	for _, f := range []float64{0, -1, math.Inf(-1), math.NaN()} {
		if got := scrollAddr(f, 0x1000, math.MaxUint64); got != 0x1000 {
			t.Errorf("scrollAddr(%v) = %#x, want lo", f, got)
		}
	}
	// Monotonic across the whole space.
	prev := uint64(0)
	for i := 0; i <= 1000; i++ {
		a := scrollAddr(float64(i)/1000, 0, full)
		if a < prev {
			t.Fatalf("scrollAddr not monotonic at %d/1000: %#x after %#x", i, a, prev)
		}
		prev = a
	}
	if prev != full {
		t.Errorf("scrollAddr(1) = %#x, want %#x", prev, full)
	}
}

func TestMoveTop(t *testing.T) {
	full := lastTop(0, math.MaxUint64, 16, 40)
	for _, c := range []struct {
		name    string
		top     uint64
		n       int64
		lo, max uint64
		want    uint64
	}{
		{"down a row", 0x1000, 1, 0, full, 0x1010},
		{"up a page", 0x1000, -40, 0, full, 0x1000 - 40*16},
		{"up past the bottom stops at lo", 0x20, -5, 0, full, 0},
		{"down past the end stops at the last screen", full - 16, 5, 0, full, full},
		{"down by the most rows there are", 0, math.MaxInt64, 0, full, full},
		{"up by the most rows there are", full, math.MinInt64, 0, full, 0},
		{"64 GiB: down to the last screen", gib64 - 41*16, 3, 0, gib64 - 40*16, gib64 - 40*16},
		{"above lo is clamped first", 0x10, 0, 0x100, full, 0x100},
	} {
		if got := moveTop(c.top, c.n, 16, c.lo, c.max); got != c.want {
			t.Errorf("%s: moveTop = %#x, want %#x", c.name, got, c.want)
		}
	}
}
