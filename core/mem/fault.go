package mem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// FaultKind says why an address could not be read. The kinds are distinct
// because each one sends the user somewhere different: an Unmapped address is
// usually a bad pointer, NotPresent is a paged-out or never-touched page,
// NotInDump is a page the dump writer chose not to capture, and OutsideFile
// means the dump itself is damaged (truncated).
type FaultKind uint8

const (
	// Unmapped: no region of the space covers the address.
	Unmapped FaultKind = iota
	// NotPresent: the page tables say the page is not present in memory.
	NotPresent
	// NotInDump: the address exists in the target but was not captured.
	NotInDump
	// OutsideFile: the dump file is shorter than its headers claim.
	OutsideFile
	// ReadFailed: the underlying storage returned an error (for example an
	// I/O error, or a read after Close). It is not in the original four
	// kinds: without it an I/O error would have to be mislabelled as one of
	// the kinds above or returned without an address.
	ReadFailed
	// Corrupt: the bytes were read but could not be decoded (for example a
	// compressed page that fails to decompress, or a decoded length beyond
	// MaxDecodeLen). Like ReadFailed it was added so that a damaged page is
	// not misreported as missing.
	Corrupt
)

// Sentinel errors matched by (*FaultError).Is, so callers can write
// errors.Is(err, mem.ErrNotInDump) without unpacking the fault.
var (
	ErrUnmapped    = errors.New("unmapped")
	ErrNotPresent  = errors.New("not present")
	ErrNotInDump   = errors.New("not in dump")
	ErrOutsideFile = errors.New("outside file")
	ErrReadFailed  = errors.New("read failed")
	ErrCorrupt     = errors.New("corrupt")
)

var kindErrs = [...]error{
	Unmapped:    ErrUnmapped,
	NotPresent:  ErrNotPresent,
	NotInDump:   ErrNotInDump,
	OutsideFile: ErrOutsideFile,
	ReadFailed:  ErrReadFailed,
	Corrupt:     ErrCorrupt,
}

// sentinel returns the sentinel error for k, or nil for an unknown kind.
func (k FaultKind) sentinel() error {
	if int(k) < len(kindErrs) {
		return kindErrs[k]
	}
	return nil
}

// String returns the kind as it appears in error messages, e.g. "not in dump".
func (k FaultKind) String() string {
	if s := k.sentinel(); s != nil {
		return s.Error()
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// FaultError reports a read that could not be completed: which space, the
// first address that failed, and why. Translating spaces fill Level and Entry
// with the page-table level and entry value that stopped the walk, so a UI
// can show "PDE 0x0" rather than just "not present".
//
// When a layer passes on a fault from the layer below it, it returns a new
// FaultError in its own space and coordinates whose Err is the lower fault;
// Kind, Level and Entry are copied up so that the outermost error alone
// answers "where and why", and errors.As can still reach the lower one.
type FaultError struct {
	Space string    // Name() of the space that failed; may be empty
	Addr  uint64    // first address that could not be read, in Space
	Kind  FaultKind // why
	Level string    // page-table level that failed, e.g. "PDE"; optional
	Entry uint64    // raw entry value at Level; meaningful only if Level != ""
	Err   error     // underlying cause, often a lower layer's *FaultError; optional
}

// Error formats the fault as "space: 0xaddr: kind", e.g.
// "kernel: 0xfffff80000001000: not in dump". A page-table level is shown in
// parentheses and an underlying error after a colon. When the cause is itself
// a *FaultError its message replaces the kind, giving a readable chain such as
// "phys: 0x5000: file: 0x2000: outside file".
func (e *FaultError) Error() string {
	var b strings.Builder
	if e.Space != "" {
		b.WriteString(e.Space)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%#x: ", e.Addr)
	if inner, ok := e.Err.(*FaultError); ok && inner != nil {
		b.WriteString(inner.Error())
		return b.String()
	}
	b.WriteString(e.Kind.String())
	if e.Level != "" {
		fmt.Fprintf(&b, " (%s %#x)", e.Level, e.Entry)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *FaultError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel for e.Kind (ErrUnmapped,
// ErrNotPresent, ErrNotInDump, ErrOutsideFile, ErrReadFailed, ErrCorrupt).
func (e *FaultError) Is(target error) bool {
	s := e.Kind.sentinel()
	return s != nil && target == s
}

// errWrap explains a fault reported at address 0 because the read ran past
// the top of the 64-bit address space (address 2^64 wraps to 0).
var errWrap = errors.New("read crosses the top of the 64-bit address space")

// wrapFault re-reports err, which occurred at addr in the named space, as a
// fault of that space. A *FaultError keeps its kind and page-table level; any
// other error (a contract violation by a foreign Reader) becomes ReadFailed.
// An error that already names this space and address is returned unchanged to
// avoid repeating it.
func wrapFault(space string, addr uint64, err error) error {
	var fe *FaultError
	if errors.As(err, &fe) {
		if fe.Space == space && fe.Addr == addr {
			return err
		}
		return &FaultError{Space: space, Addr: addr, Kind: fe.Kind, Level: fe.Level, Entry: fe.Entry, Err: err}
	}
	return &FaultError{Space: space, Addr: addr, Kind: ReadFailed, Err: err}
}
