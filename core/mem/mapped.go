package mem

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"runtime/debug"
	"sync"
	"unsafe"
)

// MappedFile is a dump file opened by OpenFile: a Space addressed by file
// offset (like NewFile), an io.ReaderAt and an io.Closer.
//
// Dumps are often tens of GiB and mostly read at random, so where the OS
// allows the file is memory-mapped: opening costs nothing, only pages
// actually read occupy memory, and the kernel's page cache does the caching.
// Where mapping is unavailable or fails (size 0, files larger than the
// address space, non-unix systems) reads fall back to (*os.File).ReadAt with
// identical results.
//
// A MappedFile is safe for concurrent use, including Close concurrently with
// reads: reads after Close fail with a ReadFailed fault wrapping os.ErrClosed.
// If the file is truncated by someone else while mapped, reads of the lost
// tail fault with OutsideFile instead of crashing the process with SIGBUS.
type MappedFile struct {
	name string
	size int64

	mu     sync.RWMutex // write-locked only by Close, so reads never see unmapped memory
	data   []byte       // the mapping; nil when reading through f
	f      *os.File     // fallback reader; nil when mapped
	closed bool
}

// OpenFile opens path read-only and maps it into memory where possible. The
// file is not read: mapping a 64 GiB sparse file costs no memory until pages
// are touched. Directories are rejected.
func OpenFile(path string) (*MappedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mem: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("mem: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("mem: open %s: is a directory", path)
	}
	m := &MappedFile{name: path, size: max(fi.Size(), 0)}
	if data, err := mapFile(f, m.size); err == nil {
		// The mapping outlives the descriptor, so release it now
		// rather than holding one fd per open dump.
		f.Close()
		m.data = data
	} else {
		m.f = f
	}
	return m, nil
}

// Name returns the path the file was opened with.
func (m *MappedFile) Name() string { return m.name }

// Size returns the file size in bytes at the time it was opened.
func (m *MappedFile) Size() int64 { return m.size }

// Bytes returns the mapping itself, for readers that must hand out
// slices of a file (a cache of inflated sections), or ok false when the
// file is not mapped. The slice is valid until Close, which such a reader
// must therefore never call while it is in use; and a file truncated
// underneath it faults the process (SIGBUS), so it is only for files
// nobody rewrites in place.
func (m *MappedFile) Bytes() (b []byte, ok bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.data, m.data != nil && !m.closed
}

// Mapped reports whether reads are served from a memory mapping rather than
// by ReadAt on the file. It exists for diagnostics and tests.
func (m *MappedFile) Mapped() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.data != nil
}

// Regions yields one region [0, Size()) labelled with the path, or nothing
// for an empty file.
func (m *MappedFile) Regions() iter.Seq[Region] { return fileRegions(m.size, m.name) }

// ReadMemory reads len(p) bytes at file offset addr. Bytes past the end of
// the file fault with OutsideFile at the first missing offset.
func (m *MappedFile) ReadMemory(p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, &FaultError{Space: m.name, Addr: addr, Kind: ReadFailed, Err: os.ErrClosed}
	}
	if m.data == nil {
		return (&file{r: m.f, size: m.size, name: m.name}).ReadMemory(p, addr)
	}
	k, err := clipToFile(m.name, m.size, len(p), addr)
	if k == 0 {
		return 0, err
	}
	n, ok := copyMapped(p[:k], m.data[addr:])
	if !ok {
		return n, &FaultError{Space: m.name, Addr: addr + uint64(n), Kind: OutsideFile, Err: errTruncated}
	}
	return n, err
}

// ReadAt implements io.ReaderAt with its conventions: a read that stops at
// the end of the file returns io.EOF, and a negative offset is an error.
// Other failures are returned as *FaultError.
func (m *MappedFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("mem: %s: ReadAt: negative offset %d", m.name, off)
	}
	n, err := m.ReadMemory(p, uint64(off))
	if err != nil && errors.Is(err, ErrOutsideFile) {
		var fe *FaultError
		if errors.As(err, &fe) && fe.Err == nil { // plain end of file, not truncation
			err = io.EOF
		}
	}
	return n, err
}

// Close unmaps the file (or closes it, when not mapped). Later reads fail
// with a fault wrapping os.ErrClosed; a second Close returns an error
// wrapping os.ErrClosed.
func (m *MappedFile) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("mem: close %s: %w", m.name, os.ErrClosed)
	}
	m.closed = true
	var err error
	if m.data != nil {
		err = unmapFile(m.data)
		m.data = nil
	}
	if m.f != nil {
		err = m.f.Close()
		m.f = nil
	}
	if err != nil {
		return fmt.Errorf("mem: close %s: %w", m.name, err)
	}
	return nil
}

// errTruncated is the cause of a fault taken on mapped pages that no longer
// exist because the file was truncated after it was mapped.
var errTruncated = errors.New("file truncated while mapped")

// copyMapped copies src (mapped file memory) to dst. Touching a mapped page
// beyond the current end of file raises SIGBUS; with SetPanicOnFault the
// runtime turns that into a recoverable panic carrying the faulting address.
// copyMapped then copies again up to that address, because memmove may have
// copied bytes out of order, and returns ok == false with n the bytes
// delivered. Each retry stops strictly earlier, so the loop ends.
func copyMapped(dst, src []byte) (n int, ok bool) {
	want := min(len(dst), len(src))
	for {
		got, faultAt := tryCopy(dst[:want], src[:want])
		if faultAt < 0 {
			return got, want == len(dst)
		}
		if faultAt >= want {
			faultAt = want - 1 // cannot happen; guarantees progress
		}
		want = faultAt
		if want == 0 {
			return 0, false
		}
	}
}

// tryCopy copies src to dst and returns the count and -1, or, if a memory
// fault interrupts the copy, 0 and the offset in src of the faulting byte.
func tryCopy(dst, src []byte) (n int, faultAt int) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fa, isFault := r.(interface{ Addr() uintptr })
		if !isFault {
			panic(r) // not a memory fault: a real bug, do not hide it
		}
		base := uintptr(unsafe.Pointer(unsafe.SliceData(src)))
		off := 0
		if a := fa.Addr(); a > base && a-base < uintptr(len(src)) {
			off = int(a - base)
		}
		n, faultAt = 0, off
	}()
	return copy(dst, src), -1
}
