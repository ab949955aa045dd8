package kdmp

import (
	"errors"
	"fmt"
)

// ErrUnrecognized is wrapped by the FormatError NewFile returns when the file
// does not start with "PAGEDU64" or "PAGEDUMP".
var ErrUnrecognized = errors.New("not a Windows kernel dump")

// FormatError reports a dump that cannot be read at all: a wrong signature, a
// file shorter than its fixed header, or an I/O error while reading the
// header. Damage that still leaves a usable header is reported as a
// model.Diagnostic instead.
type FormatError struct {
	Off  int64  // file offset of the problem
	What string // what was being read ("DUMP_HEADER64", "signature")
	Err  error  // underlying cause: ErrUnrecognized, io.ErrUnexpectedEOF, an I/O error; may be nil
}

func (e *FormatError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("kdmp: offset %#x: %s", e.Off, e.What)
	}
	return fmt.Sprintf("kdmp: offset %#x: %s: %v", e.Off, e.What, e.Err)
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }
