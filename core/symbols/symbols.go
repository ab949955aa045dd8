// Package symbols names addresses: it turns a module and an offset into a
// function, a source file and line, and finds symbols by pattern for the
// console's x command. Symbol sources (Breakpad .sym files, PE export
// tables, ELF symbol tables and DWARF, PDBs later) plug in as Providers and
// are loaded lazily, per module, when an address in that module is first
// asked about.
package symbols

import (
	"context"
	"errors"

	"github.com/crashbench/crashbench/core/model"
)

// Symbol is a named address.
type Symbol struct {
	Name   string // function or data name, demangled where the source allows
	Module string // module file name without directory ("ntdll.dll")
	Addr   uint64 // absolute start address
	Size   uint64 // 0 when unknown (PUBLIC and export symbols)
	File   string // source file of the line, "" when unknown
	Line   int    // 0 when unknown
	// Inlined lists the functions inlined at this address, innermost
	// first, each with the call site's file and line in its caller.
	Inlined []Inline
}

// Inline is one inlined call at an address.
type Inline struct {
	Name string
	File string // the inlined function's own file and line at the address
	Line int
}

// Resolver answers symbol questions for a whole target.
type Resolver interface {
	// Lookup returns the symbol containing addr (or the nearest preceding
	// public symbol within the same module), with source line when known.
	Lookup(addr uint64) (Symbol, bool)
	// Find returns the symbols matching a WinDbg pattern "module!name*",
	// where both parts may hold * and ? wildcards.
	Find(pattern string) ([]Symbol, error)
}

// Table is the symbols of one module, loaded by a Provider. Addresses in a
// Table are relative to the module's base (RVAs).
type Table interface {
	// LookupRVA returns the symbol containing rva.
	LookupRVA(rva uint64) (Symbol, bool)
	// Symbols calls yield for every symbol, in ascending RVA order.
	Symbols(yield func(Symbol) bool)
}

// Provider loads the table of one module. It returns ErrNoSymbols when it
// has nothing for the module, so the resolver tries the next provider.
type Provider interface {
	Load(ctx context.Context, m model.Module) (Table, error)
}

// ErrNoSymbols says a provider has no symbols for a module.
var ErrNoSymbols = errors.New("symbols: none for this module")
