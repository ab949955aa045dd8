package mem

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestMappedFallbackParity checks that the ReadAt fallback, used where mmap
// is unavailable or fails, answers every read exactly as the mapping does.
// Only this internal test can force the fallback on a system that maps.
func TestMappedFallbackParity(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3*4096+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	path := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	mapped, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mapped.Close() })
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fallback := &MappedFile{name: path, size: int64(len(data)), f: f}
	t.Cleanup(func() { fallback.Close() })
	if fallback.Mapped() {
		t.Fatal("fallback claims to be mapped")
	}

	tests := []struct {
		name string
		addr uint64
		n    int
	}{
		{"inside", 100, 5000},
		{"to end", 4096, len(data) - 4096},
		{"past end", uint64(len(data)) - 3, 10},
		{"at end", uint64(len(data)), 1},
		{"huge offset", 1<<63 + 5, 2},
		{"top", ^uint64(0), 1},
		{"empty", 1 << 40, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p1, p2 := make([]byte, tt.n), make([]byte, tt.n)
			n1, err1 := mapped.ReadMemory(p1, tt.addr)
			n2, err2 := fallback.ReadMemory(p2, tt.addr)
			if n1 != n2 || !bytes.Equal(p1, p2) {
				t.Fatalf("mapped read %d bytes, fallback %d (or bytes differ)", n1, n2)
			}
			if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("mapped err %v, fallback err %v", err1, err2)
			}
			if err1 != nil && !errors.Is(err1, ErrOutsideFile) {
				t.Errorf("err = %v, want outside file", err1)
			}
		})
	}
}

// TestCopyMappedProgress checks the retry loop's arithmetic on ordinary
// memory, where no fault occurs.
func TestCopyMappedProgress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		dstLen, srcLen int
		wantN          int
		wantOK         bool
	}{
		{"equal", 8, 8, 8, true},
		{"src longer", 4, 8, 4, true},
		{"src shorter", 8, 4, 4, false},
		{"empty", 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, ok := copyMapped(make([]byte, tt.dstLen), make([]byte, tt.srcLen))
			if n != tt.wantN || ok != tt.wantOK {
				t.Errorf("copyMapped = %d, %v; want %d, %v", n, ok, tt.wantN, tt.wantOK)
			}
		})
	}
}
