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
// Every stream real dumps carry has a typed accessor (ThreadList,
// ModuleList, MemoryList, MiscInfo, CrashpadInfo, LinuxMaps, ...), and
// Decoders maps each stream type to its accessor for generic tools. The
// model views are memoised: Threads (names from the ThreadNamesStream,
// contexts decoded by size and ContextFlags, falling back to SystemInfo's
// architecture), Modules (loaded then unloaded; Breakpad code and debug
// identifiers), Memory (both memory lists as one mem.Space) and
// ExceptionContext. CPU contexts cover x86, amd64 (with the XSTATE area
// after the CONTEXT: AVX upper halves and the CET shadow stack pointer),
// arm64 (Windows and Breakpad's old layout) and arm.
//
// # Robustness
//
// Safe on corrupt and hostile input: a stream that points outside the file
// or is too short becomes an error from its accessor and, through the model
// views, a diagnostic rather than a failed open; list counts are bounded by
// the stream size (and accept the 8-byte padded counts Breakpad writes);
// every read is bounded by the file size; overlapping or duplicate memory
// ranges (Breakpad, Wine) keep the first and add a diagnostic; unknown
// stream types and trailing unused entries are ignored; and nothing panics.
// Fuzzed by FuzzNewFile, which calls every decoder in Decoders and reads
// threads, modules and memory; the shared corpus (including rust-minidump's
// malformed invalid-*.dmp) is decoded in full by TestCorpusDecodesEveryStream.
package minidump
