package mem_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
)

// writeTemp writes data to a new file in a test temporary directory.
func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dump")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openTemp(t *testing.T, data []byte) (*mem.MappedFile, string) {
	t.Helper()
	path := writeTemp(t, data)
	m, err := mem.OpenFile(path)
	if err != nil {
		t.Fatalf("OpenFile: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m, path
}

// mmapExpected reports whether OpenFile should map non-empty files here.
func mmapExpected() bool {
	switch runtime.GOOS {
	case "windows", "plan9", "js", "wasip1":
		return false
	}
	return true
}

func TestOpenFileRead(t *testing.T) {
	t.Parallel()
	data := seq(7, 10000)
	m, path := openTemp(t, data)
	if m.Size() != int64(len(data)) || m.Name() != path {
		t.Fatalf("Size, Name = %d, %q; want %d, %q", m.Size(), m.Name(), len(data), path)
	}
	if m.Mapped() != mmapExpected() {
		t.Errorf("Mapped() = %v, want %v on %s", m.Mapped(), mmapExpected(), runtime.GOOS)
	}
	if got, want := slices.Collect(m.Regions()), []mem.Region{{Size: 10000, Prot: mem.R, Label: path}}; !slices.Equal(got, want) {
		t.Errorf("Regions() = %v, want %v", got, want)
	}
	tests := []struct {
		name  string
		addr  uint64
		n     int
		wantN int
	}{
		{"start", 0, 16, 16},
		{"middle across pages", 4000, 200, 200},
		{"whole", 0, 10000, 10000},
		{"zero length past end", 1 << 62, 0, 0},
		{"partial at end", 9990, 20, 10},
		{"at end", 10000, 1, 0},
		{"far beyond", 1 << 63, 4, 0},
		{"top of address space", ^uint64(0), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := make([]byte, tt.n)
			n, err := m.ReadMemory(p, tt.addr)
			if n != tt.wantN {
				t.Fatalf("n = %d, want %d (%v)", n, tt.wantN, err)
			}
			if n > 0 && !bytes.Equal(p[:n], data[tt.addr:tt.addr+uint64(n)]) {
				t.Errorf("wrong bytes at %#x", tt.addr)
			}
			if n == tt.n {
				if err != nil {
					t.Errorf("full read: %v", err)
				}
				return
			}
			wantFault(t, err, mem.OutsideFile, max(tt.addr, 10000))

			// io.ReaderAt view of the same read reports io.EOF.
			if tt.addr < 1<<63 {
				n2, err2 := m.ReadAt(p, int64(tt.addr))
				if n2 != n || err2 != io.EOF {
					t.Errorf("ReadAt = %d, %v; want %d, io.EOF", n2, err2, n)
				}
			}
		})
	}
}

func TestOpenFileReadAtNegative(t *testing.T) {
	t.Parallel()
	m, _ := openTemp(t, []byte("abc"))
	if n, err := m.ReadAt(make([]byte, 1), -1); n != 0 || err == nil {
		t.Fatalf("ReadAt(-1) = %d, %v; want an error", n, err)
	}
	var _ io.ReaderAt = m
	var _ io.Closer = m
	var _ mem.Space = m
}

func TestOpenFileEmpty(t *testing.T) {
	t.Parallel()
	m, _ := openTemp(t, nil)
	if m.Mapped() {
		t.Error("empty file reported as mapped; mmap of size 0 must fall back")
	}
	if m.Size() != 0 {
		t.Errorf("Size() = %d", m.Size())
	}
	if got := slices.Collect(m.Regions()); len(got) != 0 {
		t.Errorf("Regions() = %v, want none", got)
	}
	_, err := m.ReadMemory(make([]byte, 1), 0)
	wantFault(t, err, mem.OutsideFile, 0)
}

func TestOpenFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
	}{
		{"missing", filepath.Join(dir, "nope")},
		{"directory", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if m, err := mem.OpenFile(tt.path); err == nil {
				m.Close()
				t.Fatalf("OpenFile(%q) succeeded", tt.path)
			}
		})
	}
}

func TestOpenFileClose(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 8192} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			t.Parallel()
			m, _ := openTemp(t, seq(1, size))
			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			n, err := m.ReadMemory(make([]byte, 1), 0)
			if n != 0 {
				t.Errorf("read after close n = %d", n)
			}
			wantFault(t, err, mem.ReadFailed, 0)
			if !errors.Is(err, os.ErrClosed) {
				t.Errorf("read after close: %v, want os.ErrClosed", err)
			}
			if err := m.Close(); !errors.Is(err, os.ErrClosed) {
				t.Errorf("second Close = %v, want os.ErrClosed", err)
			}
			if m.Mapped() {
				t.Error("Mapped() after Close")
			}
		})
	}
}

// TestOpenFileCloseDuringReads closes a file while other goroutines read it:
// every read must either return the right bytes or a closed fault, never
// crash on unmapped memory (run with -race).
func TestOpenFileCloseDuringReads(t *testing.T) {
	t.Parallel()
	data := seq(3, 64<<10)
	m, _ := openTemp(t, data)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			<-start
			p := make([]byte, 4096)
			for i := 0; ; i++ {
				addr := uint64((i*4096 + g*512) % (len(data) - len(p)))
				n, err := m.ReadMemory(p, addr)
				if err != nil {
					if !errors.Is(err, os.ErrClosed) {
						t.Errorf("read: %v", err)
					}
					return
				}
				if n != len(p) || !bytes.Equal(p, data[addr:addr+uint64(len(p))]) {
					t.Errorf("bad read at %#x", addr)
					return
				}
			}
		})
	}
	close(start)
	runtime.Gosched()
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	wg.Wait()
}

// rssBytes returns the resident set size of this process on Linux.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parse VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Skip("VmRSS not found")
	return 0
}

// TestOpenFileSparse maps large sparse files made with os.Truncate and reads
// the zeros at their ends. On Linux it also checks that opening and reading
// did not pull the file into memory. It is deliberately not parallel: the
// RSS measurement needs the process to itself.
func TestOpenFileSparse(t *testing.T) {
	tests := []struct {
		name string
		size int64
	}{
		{"1GiB", 1 << 30},
		{"64GiB", 64 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strconv.IntSize == 32 && tt.size > 1<<30 {
				t.Skip("larger than a 32-bit address space")
			}
			path := filepath.Join(t.TempDir(), "sparse")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, tt.size); err != nil {
				t.Skipf("filesystem cannot make a %s sparse file: %v", tt.name, err)
			}
			linux := runtime.GOOS == "linux"
			var before int64
			if linux {
				runtime.GC()
				if before = rssBytes(t); before <= 0 {
					t.Fatalf("VmRSS = %d", before)
				}
			}
			m, err := mem.OpenFile(path)
			if err != nil {
				t.Fatalf("OpenFile: %v", err)
			}
			defer m.Close()
			if m.Size() != tt.size {
				t.Fatalf("Size() = %d, want %d", m.Size(), tt.size)
			}
			if m.Mapped() != mmapExpected() {
				t.Errorf("Mapped() = %v, want %v", m.Mapped(), mmapExpected())
			}
			end := uint64(tt.size)
			p := bytes.Repeat([]byte{0xff}, 8192)
			if err := mem.ReadFull(m, p, end-uint64(len(p))); err != nil {
				t.Fatalf("read last page: %v", err)
			}
			if !bytes.Equal(p, make([]byte, len(p))) {
				t.Error("end of sparse file is not zeros")
			}
			n, err := m.ReadMemory(p, end-100)
			if n != 100 {
				t.Errorf("read across end n = %d, want 100", n)
			}
			wantFault(t, err, mem.OutsideFile, end)
			if linux {
				if grew := rssBytes(t) - before; grew > 64<<20 {
					t.Errorf("RSS grew by %d MiB mapping a %s sparse file; the file must not be read", grew>>20, tt.name)
				}
			}
		})
	}
}
