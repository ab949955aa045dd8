package symbols

import (
	"context"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Symbol is a named address.
//
//	Name     function or data name, demangled where the source allows
//	Module   module file name without directory ("ntdll.dll")
//	Addr     absolute start address (an RVA when a Table returns it)
//	Size     0 when unknown (PUBLIC and export symbols)
//	File     source file of the line at the address, "" when unknown
//	Line     0 when unknown
//	Inlined  functions inlined at the address, innermost first
//	Multiple the source folded several symbols at this address
//
// File and Line are the innermost source position (the line record at the
// address). With inlines, the containing function's own position is the
// call site of the outermost inline: Symbol.OuterLine returns it.
//
// The type is defined in an internal package (an alias keeps it the same
// type) so that the Breakpad parser can implement Table while this package
// offers FromBreakpadText without an import cycle.
type Symbol = symtab.Symbol

// Inline is one inlined call at an address: the inlined function's name,
// its own File and Line at the address, the CallFile and CallLine of the
// call in its caller, and Addr, the start of the inlined range.
type Inline = symtab.Inline

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
//
//	LookupRVA(rva uint64) (Symbol, bool) // the symbol containing rva
//	Symbols(yield func(Symbol) bool)     // every symbol, ascending RVA
type Table = symtab.Table

// Provider loads the table of one module. It returns ErrNoSymbols when it
// has nothing for the module, so the resolver tries the next provider.
type Provider interface {
	Load(ctx context.Context, m model.Module) (Table, error)
}

// ErrNoSymbols says a provider has no symbols for a module.
var ErrNoSymbols = symtab.ErrNoSymbols

// MismatchError says a symbol file was found under the module's name but
// belongs to another build (WinDbg's "mismatched pdb"); it wraps
// ErrNoSymbols. Set.Status reports it.
type MismatchError = symtab.MismatchError

// WithTrace returns a context under which symbol loads report every place
// they try and what happened there ("pdb: /sym/x.pdb/…/x.pdb: not found",
// "symsrv: GET http://…/x.pdb: 404"), one line per call of fn: WinDbg's
// !sym noisy. Providers report with Tracef.
func WithTrace(ctx context.Context, fn func(line string)) context.Context {
	return symtab.WithTrace(ctx, fn)
}

// Tracef reports one line of a symbol load to ctx's trace, if any.
func Tracef(ctx context.Context, format string, args ...any) { symtab.Tracef(ctx, format, args...) }

// WithProgress returns a context under which symbol downloads report
// their progress to fn: what is fetched (a URL), bytes received, and the
// size announced (-1 when unknown). Concurrent downloads call fn
// concurrently.
func WithProgress(ctx context.Context, fn func(what string, done, total int64)) context.Context {
	return symtab.WithProgress(ctx, fn)
}
