package fbsd

import (
	"errors"
	"fmt"
)

// ErrUnrecognized is wrapped by the FormatError NewFile returns when the file
// does not start with "minidump FreeBSD/".
var ErrUnrecognized = errors.New("not a FreeBSD kernel minidump")

// ErrUnsupported is wrapped by the FormatError PhysicalMemory and
// KernelMemory return for architectures whose page index and page tables
// are not decoded yet (all but amd64 and arm64).
var ErrUnsupported = errors.New("not supported yet")

// FormatError reports a file that cannot be read as a FreeBSD minidump: a
// wrong magic, a file shorter than the header, or an I/O error. Damage that
// leaves the header readable is reported as a model.Diagnostic instead.
type FormatError struct {
	Off  int64  // file offset of the problem
	What string // what was being read
	Err  error  // underlying cause: ErrUnrecognized, io.ErrUnexpectedEOF, an I/O error; may be nil
}

func (e *FormatError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("fbsd: offset %#x: %s", e.Off, e.What)
	}
	return fmt.Sprintf("fbsd: offset %#x: %s: %v", e.Off, e.What, e.Err)
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }
