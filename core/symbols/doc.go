// Package symbols names addresses: it turns a module and an offset into a
// function, a source file and line, and finds symbols by pattern for the
// console's x command. Symbol sources (Breakpad .sym files, PE export
// tables, ELF symbol tables and DWARF, PDBs later) plug in as Providers and
// are loaded lazily, per module, when an address in that module is first
// asked about.
//
// NewResolver builds a Set, the Resolver of a target: it loads each
// module's Table once, on first use, from the first Provider that has
// symbols for it, and remembers provider failures per module for lm and
// !sym noisy (Set.Status). Set.Describe formats addresses the way WinDbg
// does: "module!Function+0x1f", "module+0x1234", or a bare hex address.
//
// Providers live in subpackages: breakpad (.sym files and symbol
// directories) and pe (export tables read from dump memory).
// FromBreakpadText serves Breakpad text held in memory, for tests.
//
// Symbol, Inline, Table and ErrNoSymbols are aliases of types in an
// internal package; that is what lets package breakpad implement Table
// while this package imports breakpad for FromBreakpadText.
package symbols
