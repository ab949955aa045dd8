package mem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
)

// Reader reads memory at 64-bit addresses.
//
// It is io.ReaderAt with an unsigned address, because kernel addresses such
// as 0xfffff80000000000 do not fit io.ReaderAt's int64 offset. The semantics
// are ReaderAt's: ReadMemory reads len(p) bytes at addr into p and returns the
// number read; if n < len(p), err is non-nil and is (or wraps) a *FaultError
// whose Addr is exactly addr+n, the first byte that could not be read. If
// n == len(p), err is nil. A zero-length read returns (0, nil) without
// probing the address. Reads never wrap: bytes past 2^64-1 fault, reported at
// address 0 with an explanatory cause.
//
// Implementations must be safe for concurrent calls.
type Reader interface {
	ReadMemory(p []byte, addr uint64) (n int, err error)
}

// Space is a named address space that can list its regions. Names appear in
// fault messages ("kernel: 0x...: not in dump"), so they should say which
// layer failed. Regions yields the regions in ascending, non-overlapping
// order; gaps between them are allowed (spaces are usually sparse).
type Space interface {
	Reader
	Name() string
	Regions() iter.Seq[Region]
}

// ReadFull reads exactly len(p) bytes at addr. It returns nil on success and
// otherwise the reader's fault, so callers that need all the bytes do not
// have to compare counts.
func ReadFull(r Reader, p []byte, addr uint64) error {
	if len(p) == 0 {
		return nil
	}
	n, err := readLower(r, p, addr)
	if err == nil {
		return nil // a full read succeeds even if r also returned io.EOF
	}
	var fe *FaultError
	if errors.As(err, &fe) {
		return err
	}
	// A Reader that breaks the contract still yields a fault, at the
	// first byte it did not deliver.
	return &FaultError{Addr: addr + uint64(n), Kind: ReadFailed, Err: err}
}

// ReadUint reads an unsigned integer of size 1, 2, 4 or 8 bytes at addr in
// the given byte order. Any other size or a nil order is an error, not a
// panic, because sizes often come from the dump itself.
func ReadUint(r Reader, addr uint64, size int, order binary.ByteOrder) (uint64, error) {
	switch size {
	case 1, 2, 4, 8:
	default:
		return 0, fmt.Errorf("mem: ReadUint at %#x: unsupported size %d (want 1, 2, 4 or 8)", addr, size)
	}
	if order == nil {
		return 0, fmt.Errorf("mem: ReadUint at %#x: nil byte order", addr)
	}
	var buf [8]byte
	if err := ReadFull(r, buf[:size], addr); err != nil {
		return 0, err
	}
	switch size {
	case 1:
		return uint64(buf[0]), nil
	case 2:
		return uint64(order.Uint16(buf[:2])), nil
	case 4:
		return uint64(order.Uint32(buf[:4])), nil
	}
	return order.Uint64(buf[:8]), nil
}

var errNilReader = errors.New("nil reader")

// readSub reads p at addr from the lower reader r on behalf of the named
// space, where the same bytes live at upper. It clamps a misbehaving reader's
// count and re-reports its error as this space's fault at upper+n, the first
// byte not delivered. It is the one place layers call a lower Reader, so a
// broken lower layer can never make an upper one panic.
func readSub(space string, r Reader, p []byte, addr, upper uint64) (int, error) {
	n, err := readLower(r, p, addr)
	if err != nil {
		return n, wrapFault(space, upper+uint64(n), err)
	}
	return n, nil
}

// readLower calls r.ReadMemory and returns the count clamped to [0, len(p)]
// and a non-nil error exactly when the count is short.
func readLower(r Reader, p []byte, addr uint64) (int, error) {
	if r == nil {
		return 0, errNilReader
	}
	n, err := r.ReadMemory(p, addr)
	n = min(max(n, 0), len(p))
	if n == len(p) {
		return n, nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
