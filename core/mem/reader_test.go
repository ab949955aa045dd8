package mem_test

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

// liar is a Reader that breaks the contract: it returns short counts (or
// absurd ones) without an error.
type liar struct{ n int }

func (l liar) ReadMemory(p []byte, addr uint64) (int, error) { return l.n, nil }

func TestReadFull(t *testing.T) {
	t.Parallel()
	m := memtest.Map{0x1000: seq(1, 8)}
	tests := []struct {
		name     string
		r        mem.Reader
		addr     uint64
		n        int
		kind     mem.FaultKind
		faultAt  uint64
		wantFail bool
	}{
		{name: "whole", r: m, addr: 0x1000, n: 8},
		{name: "empty read anywhere", r: m, addr: 0xdead, n: 0},
		{name: "runs off end", r: m, addr: 0x1004, n: 8, wantFail: true, kind: mem.Unmapped, faultAt: 0x1008},
		{name: "unmapped", r: m, addr: 0x10, n: 1, wantFail: true, kind: mem.Unmapped, faultAt: 0x10},
		{name: "short without error", r: liar{3}, addr: 0x100, n: 8, wantFail: true, kind: mem.ReadFailed, faultAt: 0x103},
		{name: "negative count", r: liar{-5}, addr: 0x100, n: 8, wantFail: true, kind: mem.ReadFailed, faultAt: 0x100},
		{name: "overlong count", r: liar{1 << 20}, addr: 0x100, n: 8},
		{name: "nil reader", r: nil, addr: 7, n: 1, wantFail: true, kind: mem.ReadFailed, faultAt: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := mem.ReadFull(tt.r, make([]byte, tt.n), tt.addr)
			if !tt.wantFail {
				if err != nil {
					t.Fatalf("ReadFull: %v", err)
				}
				return
			}
			wantFault(t, err, tt.kind, tt.faultAt)
		})
	}
}

// eofReader returns a full read together with io.EOF, as io.ReaderAt allows.
type eofReader struct{}

func (eofReader) ReadMemory(p []byte, addr uint64) (int, error) { return len(p), io.EOF }

func TestReadFullAcceptsEOFWithFullRead(t *testing.T) {
	t.Parallel()
	if err := mem.ReadFull(eofReader{}, make([]byte, 4), 0); err != nil {
		t.Fatalf("ReadFull = %v, want nil", err)
	}
}

func TestReadUint(t *testing.T) {
	t.Parallel()
	const top = math.MaxUint64
	m := memtest.Map{
		0x1000:  []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
		top - 3: []byte{0xaa, 0xbb, 0xcc, 0xdd},
	}
	tests := []struct {
		name    string
		addr    uint64
		size    int
		order   binary.ByteOrder
		want    uint64
		fault   bool
		kind    mem.FaultKind
		faultAt uint64
		badArg  bool
	}{
		{name: "u8", addr: 0x1000, size: 1, order: binary.LittleEndian, want: 0x01},
		{name: "u16le", addr: 0x1000, size: 2, order: binary.LittleEndian, want: 0x0201},
		{name: "u16be", addr: 0x1000, size: 2, order: binary.BigEndian, want: 0x0102},
		{name: "u32le", addr: 0x1004, size: 4, order: binary.LittleEndian, want: 0x08070605},
		{name: "u64le", addr: 0x1000, size: 8, order: binary.LittleEndian, want: 0x0807060504030201},
		{name: "u64be", addr: 0x1000, size: 8, order: binary.BigEndian, want: 0x0102030405060708},
		{name: "u32 at top", addr: top - 3, size: 4, order: binary.BigEndian, want: 0xaabbccdd},
		{name: "u64 wraps", addr: top - 3, size: 8, order: binary.BigEndian, fault: true, kind: mem.Unmapped, faultAt: 0},
		{name: "u64 partly unmapped", addr: 0x1004, size: 8, order: binary.LittleEndian, fault: true, kind: mem.Unmapped, faultAt: 0x1008},
		{name: "size 3", addr: 0x1000, size: 3, order: binary.LittleEndian, badArg: true},
		{name: "size 0", addr: 0x1000, size: 0, order: binary.LittleEndian, badArg: true},
		{name: "size -8", addr: 0x1000, size: -8, order: binary.LittleEndian, badArg: true},
		{name: "size 16", addr: 0x1000, size: 16, order: binary.LittleEndian, badArg: true},
		{name: "nil order", addr: 0x1000, size: 4, order: nil, badArg: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := mem.ReadUint(m, tt.addr, tt.size, tt.order)
			switch {
			case tt.badArg:
				var fe *mem.FaultError
				if err == nil || errors.As(err, &fe) {
					t.Fatalf("ReadUint = %#x, %v; want an argument error", got, err)
				}
			case tt.fault:
				wantFault(t, err, tt.kind, tt.faultAt)
			default:
				if err != nil || got != tt.want {
					t.Fatalf("ReadUint = %#x, %v; want %#x", got, err, tt.want)
				}
			}
		})
	}
}
