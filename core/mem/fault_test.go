package mem_test

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

func TestFaultErrorMessage(t *testing.T) {
	t.Parallel()
	inner := &mem.FaultError{Space: "file", Addr: 0x2000, Kind: mem.OutsideFile}
	tests := []struct {
		name string
		err  *mem.FaultError
		want string
	}{
		{"plain", &mem.FaultError{Space: "kernel", Addr: 0xfffff80000001000, Kind: mem.NotInDump}, "kernel: 0xfffff80000001000: not in dump"},
		{"no space", &mem.FaultError{Addr: 0x10, Kind: mem.Unmapped}, "0x10: unmapped"},
		{"zero addr", &mem.FaultError{Space: "s", Kind: mem.Unmapped}, "s: 0x0: unmapped"},
		{"level", &mem.FaultError{Space: "kernel", Addr: 0xffff800000000000, Kind: mem.NotPresent, Level: "PDE", Entry: 0x80}, "kernel: 0xffff800000000000: not present (PDE 0x80)"},
		{"cause", &mem.FaultError{Space: "f", Addr: 4, Kind: mem.ReadFailed, Err: io.ErrUnexpectedEOF}, "f: 0x4: read failed: unexpected EOF"},
		{"chain", &mem.FaultError{Space: "phys", Addr: 0x5000, Kind: mem.OutsideFile, Err: inner}, "phys: 0x5000: file: 0x2000: outside file"},
		{"corrupt", &mem.FaultError{Space: "c", Addr: 1, Kind: mem.Corrupt, Err: errors.New("bad lz")}, "c: 0x1: corrupt: bad lz"},
		{"unknown kind", &mem.FaultError{Addr: 1, Kind: 99}, "0x1: fault(99)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFaultErrorIs(t *testing.T) {
	t.Parallel()
	kinds := []mem.FaultKind{mem.Unmapped, mem.NotPresent, mem.NotInDump, mem.OutsideFile, mem.ReadFailed, mem.Corrupt}
	for _, k := range kinds {
		t.Run(k.String(), func(t *testing.T) {
			t.Parallel()
			err := fmt.Errorf("wrapped: %w", &mem.FaultError{Kind: k})
			for _, other := range kinds {
				if got, want := errors.Is(err, sentinel(other)), other == k; got != want {
					t.Errorf("errors.Is(%v fault, %v) = %v, want %v", k, sentinel(other), got, want)
				}
			}
			if errors.Is(&mem.FaultError{Kind: 200}, sentinel(k)) {
				t.Errorf("unknown kind matched %v", sentinel(k))
			}
		})
	}
}

func TestFaultErrorUnwrap(t *testing.T) {
	t.Parallel()
	cause := errors.New("disk on fire")
	inner := &mem.FaultError{Space: "file", Addr: 8, Kind: mem.ReadFailed, Err: cause}
	outer := &mem.FaultError{Space: "phys", Addr: 0x1008, Kind: mem.ReadFailed, Err: inner}
	tests := []struct {
		name   string
		target error
		want   bool
	}{
		{"root cause", cause, true},
		{"inner fault", inner, true},
		{"kind", mem.ErrReadFailed, true},
		{"other kind", mem.ErrNotInDump, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := errors.Is(outer, tt.target); got != tt.want {
				t.Errorf("errors.Is = %v, want %v", got, tt.want)
			}
		})
	}
	if outer.Unwrap() != inner {
		t.Errorf("Unwrap() = %v, want inner", outer.Unwrap())
	}
}

func TestFaultKindString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		k    mem.FaultKind
		want string
	}{
		{mem.Unmapped, "unmapped"},
		{mem.NotPresent, "not present"},
		{mem.NotInDump, "not in dump"},
		{mem.OutsideFile, "outside file"},
		{mem.ReadFailed, "read failed"},
		{mem.Corrupt, "corrupt"},
		{255, "fault(255)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := tt.k.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
