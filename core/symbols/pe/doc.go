// Package pe names addresses in PE images (Windows EXE, DLL, SYS) from
// their export tables, read from a dump's memory rather than from files:
// modules without any symbol file still get "module!Export+0x..".
//
// The reader follows IMAGE_DOS_HEADER.e_lfanew to the PE signature, the
// optional header's data directory 0 (IMAGE_DIRECTORY_ENTRY_EXPORT) and
// the IMAGE_EXPORT_DIRECTORY's three arrays: function RVAs, name RVAs and
// name ordinals. See
// https://learn.microsoft.com/windows/win32/debug/pe-format#the-edata-section-image-only
// Forwarder entries (function RVAs inside the export directory) name code
// in another module and are skipped; exports without a name are named
// "Ordinal<n>" as WinDbg does.
//
// # Robustness
//
// Safe on corrupt and hostile memory: every count is capped (MaxExports)
// and every RVA checked against the image size before it is read, and
// names are bounded in length. Header pages missing from the dump yield
// symbols.ErrNoSymbols, so the resolver falls back to "module+0x..".
// Fuzzed by FuzzExports.
package pe
