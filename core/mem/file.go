package mem

import (
	"errors"
	"io"
	"iter"
	"math"
)

// NewFile returns the leaf space of a dump: the bytes of r addressed by file
// offset, as one region [0, size). Every other space is eventually defined in
// terms of one of these, via file offsets taken from the dump's headers.
//
// Because those offsets come from the headers, a read at or past size means
// the file is shorter than the headers claim: it faults with OutsideFile at
// the first missing offset. If r itself ends early (returns io.EOF before
// size) that is also OutsideFile; any other error from r is ReadFailed,
// wrapping r's error. A negative size is treated as 0.
//
// r must allow parallel ReadAt calls, as io.ReaderAt's contract requires;
// *os.File and *bytes.Reader do.
func NewFile(r io.ReaderAt, size int64, name string) Space {
	return &file{r: r, size: max(size, 0), name: name}
}

type file struct {
	r    io.ReaderAt
	size int64
	name string
}

func (f *file) Name() string { return f.name }

func (f *file) Regions() iter.Seq[Region] { return fileRegions(f.size, f.name) }

func fileRegions(size int64, name string) iter.Seq[Region] {
	return func(yield func(Region) bool) {
		if size > 0 {
			yield(Region{Start: 0, Size: uint64(size), Prot: R, State: Committed, Label: name})
		}
	}
}

// errShortFile is the cause of an OutsideFile fault when the ReaderAt ends
// before the size the file was opened with.
var errShortFile = errors.New("file ended before its recorded size")

func (f *file) ReadMemory(p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	k, err := clipToFile(f.name, f.size, len(p), addr)
	if k == 0 {
		return 0, err
	}
	if f.r == nil {
		return 0, &FaultError{Space: f.name, Addr: addr, Kind: ReadFailed, Err: errNilReader}
	}
	n := 0
	for n < k {
		m, rerr := f.r.ReadAt(p[n:k], int64(addr)+int64(n))
		n += min(max(m, 0), k-n)
		if n == k {
			break
		}
		switch {
		case rerr == io.EOF:
			return n, &FaultError{Space: f.name, Addr: addr + uint64(n), Kind: OutsideFile, Err: errShortFile}
		case rerr != nil:
			return n, &FaultError{Space: f.name, Addr: addr + uint64(n), Kind: ReadFailed, Err: rerr}
		case m <= 0:
			return n, &FaultError{Space: f.name, Addr: addr + uint64(n), Kind: ReadFailed, Err: io.ErrNoProgress}
		}
	}
	return n, err
}

// clipToFile returns how many of the n bytes at addr lie inside a file of the
// given size, and the OutsideFile fault for the first byte beyond it (nil if
// all n bytes are inside).
func clipToFile(name string, size int64, n int, addr uint64) (int, error) {
	if size <= 0 || addr >= uint64(size) || addr > math.MaxInt64 {
		return 0, &FaultError{Space: name, Addr: addr, Kind: OutsideFile}
	}
	if room := uint64(size) - addr; uint64(n) > room {
		return int(room), &FaultError{Space: name, Addr: uint64(size), Kind: OutsideFile}
	}
	return n, nil
}
