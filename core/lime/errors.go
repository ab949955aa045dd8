package lime

import (
	"errors"
	"fmt"
)

// ErrUnrecognized is wrapped by the FormatError NewFile returns when the file
// does not start with a LiME range header.
var ErrUnrecognized = errors.New("not a LiME image")

// FormatError reports a file that cannot be read as LiME at all. Damage past
// the first header (a bad later header, a range cut short) is reported as a
// model.Diagnostic instead.
type FormatError struct {
	Off  int64  // file offset of the problem
	What string // what was being read
	Err  error  // underlying cause: ErrUnrecognized, io.ErrUnexpectedEOF, an I/O error; may be nil
}

func (e *FormatError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("lime: offset %#x: %s", e.Off, e.What)
	}
	return fmt.Sprintf("lime: offset %#x: %s: %v", e.Off, e.What, e.Err)
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }
