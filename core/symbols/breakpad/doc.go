// Package breakpad reads Breakpad symbol files (.sym): the text format
// dump_syms writes and minidump_stackwalk reads. See
// https://chromium.googlesource.com/breakpad/breakpad/+/HEAD/docs/symbol_files.md
//
// Parse streams the file once (a .sym can be hundreds of megabytes) into
// compact sorted tables: strings in one arena, fixed-size records indexed
// by RVA. A *File implements symbols.Table: LookupRVA returns the FUNC
// containing an address with its line record and inline chain, or the
// nearest PUBLIC when no FUNC covers it. For the unwinder, CFIRules
// returns the STACK CFI rules in force at an address (INIT plus deltas),
// WinFrame the STACK WIN record, and Evaluator evaluates the postfix
// expressions and programs both use.
//
// Dir is a symbols.Provider over Breakpad symbol directories
// (<root>/<debug_file>/<DEBUG_ID>/<name>.sym).
//
// # Robustness
//
// Safe on corrupt and hostile input: malformed lines are skipped, counted
// in File.Skipped and the first few kept as diagnostics with their line
// numbers; only a missing MODULE line (or an I/O error) fails the file.
// Memory use is bounded by the input size. The evaluator returns
// *EvalError on bad programs instead of panicking. Both are fuzzed by
// FuzzBreakpadText.
package breakpad
