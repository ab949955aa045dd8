// Package symtab holds the value types shared by package symbols and its
// provider subpackages. It exists only to break an import cycle: package
// symbols offers FromBreakpadText, which needs the Breakpad parser, and the
// parser's tables must implement symbols.Table. Package symbols re-exports
// everything here under the same names with type aliases, so callers never
// import this package (they cannot: it is internal).
package symtab

import "errors"

// Symbol is a named address. See symbols.Symbol.
type Symbol struct {
	Name   string // function or data name, demangled where the source allows
	Module string // module file name without directory ("ntdll.dll")
	Addr   uint64 // absolute start address (an RVA when returned by a Table)
	Size   uint64 // 0 when unknown (PUBLIC and export symbols)
	File   string // source file of the line at the address, "" when unknown
	Line   int    // 0 when unknown
	// Inlined lists the functions inlined at this address, innermost
	// first. File and Line above are the innermost source position (the
	// line record at the address), which lies in Inlined[0] when there are
	// inlines; the containing function's own position is the call site of
	// the outermost inline, Inlined[len-1].CallFile/CallLine (see OuterLine).
	Inlined []Inline
	// Multiple reports that the source marked the symbol as one of several
	// folded at this address (Breakpad's FUNC/PUBLIC "m" flag, identical
	// code folding), so the name may be one of many.
	Multiple bool
	// Data reports that the symbol names a variable, not code (a PDB's
	// global data): stack scanning does not take its addresses for
	// return addresses.
	Data bool
}

// OuterLine returns the source position of the containing (non-inlined)
// function at the address: the call site of the outermost inlined call, or
// File and Line when nothing is inlined there.
func (s Symbol) OuterLine() (file string, line int) {
	if n := len(s.Inlined); n > 0 {
		return s.Inlined[n-1].CallFile, s.Inlined[n-1].CallLine
	}
	return s.File, s.Line
}

// Inline is one inlined call at an address.
type Inline struct {
	Name string
	// File and Line are the inlined function's own position at the
	// address: the line record for the innermost inline, else the call
	// site of the next inner one.
	File string
	Line int
	// CallFile and CallLine are the call site of this inline in its
	// caller (the next outer inline, or the function).
	CallFile string
	CallLine int
	// Addr is the start of the inlined code range containing the address
	// (absolute from a Resolver, an RVA from a Table).
	Addr uint64
}

// Table is the symbols of one module. See symbols.Table.
type Table interface {
	// LookupRVA returns the symbol containing rva.
	LookupRVA(rva uint64) (Symbol, bool)
	// Symbols calls yield for every symbol, in ascending RVA order.
	Symbols(yield func(Symbol) bool)
}

// ErrNoSymbols says a provider has no symbols for a module.
var ErrNoSymbols = errors.New("symbols: none for this module")

// MismatchError says a symbol file was found under the module's name but
// belongs to another build (WinDbg's "mismatched pdb"). It wraps
// ErrNoSymbols: the module has no symbols from that file.
type MismatchError struct {
	Path string // the file found
	Have string // its id
	Want string // the module's
}

func (e *MismatchError) Error() string {
	return "mismatched " + e.Path + ": id " + e.Have + ", the module's is " + e.Want
}

// Unwrap returns ErrNoSymbols.
func (e *MismatchError) Unwrap() error { return ErrNoSymbols }
