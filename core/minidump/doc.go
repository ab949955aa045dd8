// Package minidump reads Windows user-mode minidumps (MDMP) as written by
// dbghelp's MiniDumpWriteDump, Breakpad, Crashpad, Wine, procdump and Task
// Manager, following the shape of debug/elf: Open/NewFile read the header and
// the stream directory only; every stream is decoded on first use.
//
// The layouts follow minidumpapiset.h ("MINIDUMP_HEADER", "MINIDUMP_DIRECTORY",
// ...), https://learn.microsoft.com/windows/win32/api/minidumpapiset/, and for
// Breakpad/Crashpad streams breakpad's src/google_breakpad/common/minidump_format.h.
//
// Real writers differ from the documentation: Wine leaves the implementation
// word of the version zero, places streams at unaligned offsets and adds a
// private stream 0xFFF0 and an unused trailing entry; Breakpad on big-endian
// machines writes every field big-endian. All of these are accepted.
//
// # Robustness
//
// Safe on corrupt and hostile input: a stream that points outside the file
// or is too short becomes a diagnostic, counts are bounded by the stream
// size, and nothing panics. Fuzzed by FuzzNewFile.
package minidump
