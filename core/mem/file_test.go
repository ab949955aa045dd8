package mem_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"slices"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

// shortReaderAt holds fewer bytes than the size NewFile is told, like a dump
// file truncated after its size was recorded.
type shortReaderAt struct{ data []byte }

func (s shortReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.data)) {
		return 0, io.EOF
	}
	n := copy(p, s.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// failingReaderAt returns good bytes up to failAt, then an I/O error.
type failingReaderAt struct {
	data   []byte
	failAt int64
	err    error
}

func (f failingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off+int64(n) < f.failAt {
		p[n] = f.data[off+int64(n)]
		n++
	}
	if n < len(p) {
		return n, f.err
	}
	return n, nil
}

// dribbleReaderAt returns at most one byte per call and no error, which
// io.ReaderAt forbids but NewFile tolerates by retrying.
type dribbleReaderAt struct{ data []byte }

func (d dribbleReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = d.data[off]
	return 1, nil
}

func TestNewFileRead(t *testing.T) {
	t.Parallel()
	data := seq(0, 256)
	eio := errors.New("EIO")
	tests := []struct {
		name    string
		r       io.ReaderAt
		size    int64
		addr    uint64
		n       int
		wantN   int
		kind    mem.FaultKind
		faultAt uint64
		cause   error
	}{
		{name: "inside", r: bytes.NewReader(data), size: 256, addr: 16, n: 32, wantN: 32},
		{name: "up to end", r: bytes.NewReader(data), size: 256, addr: 250, n: 6, wantN: 6},
		{name: "zero length past end", r: bytes.NewReader(data), size: 256, addr: 1 << 40, n: 0, wantN: 0},
		{name: "partial at end", r: bytes.NewReader(data), size: 256, addr: 250, n: 10, wantN: 6, kind: mem.OutsideFile, faultAt: 256},
		{name: "at end", r: bytes.NewReader(data), size: 256, addr: 256, n: 1, wantN: 0, kind: mem.OutsideFile, faultAt: 256},
		{name: "beyond int64", r: bytes.NewReader(data), size: 256, addr: 1 << 63, n: 1, wantN: 0, kind: mem.OutsideFile, faultAt: 1 << 63},
		{name: "near top", r: bytes.NewReader(data), size: 256, addr: math.MaxUint64, n: 8, wantN: 0, kind: mem.OutsideFile, faultAt: math.MaxUint64},
		{name: "size smaller than reader", r: bytes.NewReader(data), size: 100, addr: 96, n: 8, wantN: 4, kind: mem.OutsideFile, faultAt: 100},
		{name: "reader shorter than size", r: shortReaderAt{data[:100]}, size: 256, addr: 96, n: 8, wantN: 4, kind: mem.OutsideFile, faultAt: 100},
		{name: "io error", r: failingReaderAt{data, 40, eio}, size: 256, addr: 32, n: 16, wantN: 8, kind: mem.ReadFailed, faultAt: 40, cause: eio},
		{name: "dribbling reader", r: dribbleReaderAt{data}, size: 256, addr: 10, n: 20, wantN: 20},
		{name: "empty file", r: bytes.NewReader(nil), size: 0, addr: 0, n: 1, wantN: 0, kind: mem.OutsideFile, faultAt: 0},
		{name: "negative size", r: bytes.NewReader(data), size: -5, addr: 0, n: 1, wantN: 0, kind: mem.OutsideFile, faultAt: 0},
		{name: "nil reader", r: nil, size: 10, addr: 2, n: 1, wantN: 0, kind: mem.ReadFailed, faultAt: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mem.NewFile(tt.r, tt.size, "dump")
			p := make([]byte, tt.n)
			n, err := f.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (err %v)", n, tt.wantN, err)
			}
			if !bytes.Equal(p[:n], data[min(tt.addr, 256):min(tt.addr, 256)+uint64(n)]) {
				t.Errorf("bytes = %x, want file bytes at %#x", p[:n], tt.addr)
			}
			if n == tt.n {
				if err != nil {
					t.Fatalf("full read returned %v", err)
				}
				return
			}
			fe := wantFault(t, err, tt.kind, tt.faultAt)
			if fe.Space != "dump" {
				t.Errorf("Space = %q, want dump", fe.Space)
			}
			if tt.cause != nil && !errors.Is(err, tt.cause) {
				t.Errorf("errors.Is(err, %v) = false", tt.cause)
			}
		})
	}
}

func TestNewFileRegions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		size int64
		want []mem.Region
	}{
		{"sized", 4096, []mem.Region{{Start: 0, Size: 4096, Prot: mem.R, State: mem.Committed, Label: "f"}}},
		{"empty", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := mem.NewFile(bytes.NewReader(nil), tt.size, "f")
			if f.Name() != "f" {
				t.Errorf("Name() = %q", f.Name())
			}
			if got := slices.Collect(f.Regions()); !slices.Equal(got, tt.want) {
				t.Errorf("Regions() = %v, want %v", got, tt.want)
			}
		})
	}
}
