//go:build unix

package mem_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

// TestOpenFileTruncatedWhileMapped shrinks a file after mapping it. Touching
// the lost pages raises SIGBUS; the read must turn that into an OutsideFile
// fault at the new end of file instead of killing the process.
func TestOpenFileTruncatedWhileMapped(t *testing.T) {
	t.Parallel()
	page := os.Getpagesize()
	data := bytes.Repeat([]byte{0xab}, 3*page)
	m, path := openTemp(t, data)
	if !m.Mapped() {
		t.Skip("file not mapped")
	}
	if err := os.Truncate(path, int64(page)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		addr  uint64
		n     int
		wantN int
		fault uint64
	}{
		{"within remaining page", 10, 100, 100, 0},
		{"across new end", uint64(page) - 8, 16, 8, uint64(page)},
		{"whole old file", 0, 3 * page, page, uint64(page)},
		{"lost page", uint64(2 * page), 4, 0, uint64(2 * page)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := make([]byte, tt.n)
			n, err := m.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (%v)", n, tt.wantN, err)
			}
			if !bytes.Equal(p[:n], data[:n]) {
				t.Error("wrong bytes before the fault")
			}
			if n == tt.n {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fe := wantFault(t, err, mem.OutsideFile, tt.fault)
			if fe.Err == nil || errors.Is(err, os.ErrClosed) {
				t.Errorf("fault cause = %v, want truncation", fe.Err)
			}
		})
	}
}
