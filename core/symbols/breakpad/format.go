package breakpad

import (
	"errors"
	"fmt"
)

// The records of a Breakpad symbol file, one per line, fields separated by
// single spaces, numbers in hex unless noted. See
// https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/docs/symbol_files.md
//
//	MODULE os arch debug_id name
//	INFO CODE_ID code_id [code_file]
//	FILE number name                                   (number decimal)
//	INLINE_ORIGIN number name                          (number decimal)
//	FUNC [m] address size param_size name
//	address size line filenum                          (line, filenum decimal)
//	INLINE nest call_line call_file origin (address size)+  (first four decimal)
//	PUBLIC [m] address param_size name
//	STACK WIN type rva code_size prolog epilog params saved_regs locals
//	          max_stack has_program_string program_string|allocates_base_pointer
//	STACK CFI INIT address size rules
//	STACK CFI address rules
//
// Line and INLINE records belong to the FUNC before them.

// WinFrameType is the frame type of a STACK WIN record (the type of the
// FPO_DATA or FrameData entry in the PDB that produced it).
type WinFrameType uint8

// STACK WIN frame types. Lookups use only FPO and FrameData, as Breakpad's
// processor does; the others are kept but never returned.
const (
	WinFPO       WinFrameType = 0 // FPO_DATA: fixed layout, no program string
	WinTrap      WinFrameType = 1
	WinTSS       WinFrameType = 2
	WinStandard  WinFrameType = 3
	WinFrameData WinFrameType = 4 // FrameData: carries a program string
)

// FormatError reports a file that cannot be read as Breakpad symbols at all
// (only a missing MODULE line, or an I/O error, does that).
type FormatError struct {
	Line int    // 1-based line number, 0 when not tied to a line
	Off  int64  // byte offset of the line
	What string // what was wrong
	Err  error  // underlying error, if any
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("breakpad: line %d (offset %d): %s", e.Line, e.Off, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// Sentinel causes of an EvalError, for errors.Is.
var (
	ErrSyntax        = errors.New("malformed postfix expression")
	ErrUndefined     = errors.New("undefined variable")
	ErrDivideByZero  = errors.New("division by zero")
	ErrStack         = errors.New("postfix stack underflow or leftover values")
	ErrNoDeref       = errors.New("no memory to dereference")
	ErrMissingRule   = errors.New("missing .cfa or .ra rule")
	errNotAssignable = errors.New("assignment target is not a $variable")
)

// EvalError reports a postfix expression or program that cannot be
// evaluated. Err is one of the sentinels above or a memory error from the
// dereference callback.
type EvalError struct {
	Expr  string // the expression or program
	Token int    // index of the failing token, -1 when at the end
	What  string
	Err   error
}

func (e *EvalError) Error() string {
	s := fmt.Sprintf("breakpad: evaluating %q at token %d: %s", e.Expr, e.Token, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *EvalError) Unwrap() error { return e.Err }
