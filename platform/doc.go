// Package platform holds what differs between operating systems and is not a
// dump format: for now the native file-open dialog, later the crash-dump
// settings and file associations.
//
// It imports only the standard library and OS-specific helpers (never core,
// never Fyne), so the GUI can use it and tests can replace it with fakes.
// Anything that needs cgo or a desktop library lives in a build-tagged file
// with a pure-Go fallback beside it, so `CGO_ENABLED=0` and `-tags ci`
// builds still compile.
package platform
