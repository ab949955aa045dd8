// Package model is the format-neutral, read-only picture of a dump that every
// format package produces and everything above core/dump consumes: what kind
// of dump it is, the machine and OS it came from, the crash it records, and the
// diagnostics found while reading it.
//
// The types carry only facts the dump states. A field a dump cannot answer is
// left zero (or nil) rather than guessed, so the JSON report can omit it.
package model
