// Package elfsym reads symbols from ELF files — executables, shared
// objects and separate debug files — for the modules of Linux dumps
// (minidumps written by Breakpad or Crashpad, ELF core files).
//
// Why: Linux dumps name their modules by path and GNU build id but carry
// no symbols. The ELF file the module was loaded from usually still has a
// .dynsym, and distributions ship the rest (.symtab and DWARF) as a
// separate debug file (Debian's -dbg/-dbgsym packages, Fedora's
// debuginfo, debuginfod servers). This package finds both files, checks
// by build id that they belong to the very file that was loaded, and
// turns them into one symbols.Table so a resolver names frames as GDB
// does without a Breakpad symbol file.
//
// # Finding the files
//
// The image (what was mapped: its bytes back memory the dump lacks and
// its .eh_frame unwinds) and the debug file are different files, found by
// Finder.Find and Finder.FindDebug. Find tries, in order:
//
//  1. each of Finder.Files (images named one by one), by build id alone;
//  2. for each of Finder.Dirs: <dir>/<module file name>,
//     <dir>/<buildid>/executable (debuginfod cache) and
//     <dir>/.build-id/<xx>/<rest> (GDB's link to the image);
//  3. the module's own path, under Finder.Sysroot when set (GDB's
//     "set sysroot"), else on this machine; for a module without a build
//     id (a core dumped without its mappings' ELF headers), that file is
//     taken when its loadable extent equals the module's size;
//  4. <debugdir>/.build-id/<xx>/<rest> for each debug directory;
//  5. Finder.Fetch(ctx, id, "executable"), when set.
//
// FindDebug follows GDB's order for separate debug files
// (https://sourceware.org/gdb/current/onlinedocs/gdb.html/Separate-Debug-Files.html):
//
//  1. <debugdir>/.build-id/<xx>/<rest>.debug for each debug directory
//     (Finder.DebugDirs, default /usr/lib/debug; under Sysroot first
//     when set);
//  2. for each of Finder.Dirs: <dir>/.build-id/<xx>/<rest>.debug and
//     <dir>/<buildid>/debuginfo (debuginfod cache);
//  3. the image's .gnu_debuglink name in the image's directory, in its
//     .debug subdirectory, and in <debugdir>/<image's directory>;
//  4. Finder.Fetch(ctx, id, "debuginfo"), when set.
//
// <xx> is the first byte of the build id in hex, <rest> the others. The
// build id is Module.BuildID, else Module.CodeID as hex, else (for the
// debug file) the image's. A file is accepted only when it is ELF and its
// NT_GNU_BUILD_ID note equals that id; a module without one accepts only
// an image without one. Find never returns a separate debug file (its
// code sections are NOBITS), and a debuglink candidate must also have the
// CRC32 the image records. Fetch is a plain function so that this package
// needs no network code; package debuginfod provides one.
//
// # Reading and merging
//
// Provider.Load reads the image and, unless the image has DWARF of its
// own (GDB looks no further then either), the debug file, merged: the
// debug file's DWARF and .symtab win, the image's .symtab (else .dynsym)
// fills in what they do not cover. From each file it takes STT_FUNC (and
// STT_GNU_IFUNC) symbols of .symtab, else .dynsym; DWARF subprograms,
// inlined calls and line tables; and a Go .gopclntab (through
// debug/gosym), which names Go functions with file and line when the
// binary was built without DWARF (-ldflags=-w) or without .symtab (-s).
// A stripped image's .gnu_debugdata (MiniDebugInfo, Fedora's and RHEL's
// xz-compressed ELF holding the .symtab entries .dynsym lacks) is read
// as GDB reads it, with container.NewXZReader's dictionary limit and a
// 64 MiB output bound; see minidebuginfo.go.
// A debug file that dwz shrank points, through .gnu_debugaltlink (or
// DWARF 5's .debug_sup, with dwz -5), into a supplementary file for shared entries and strings (the names of
// inlined functions, often); it is found beside the file, in the debug
// directories' .build-id trees, in Dirs or from Fetch, by build id, as
// GDB finds it (altlink.go), and read whole, once per provider.
// Lookups try DWARF, then the pclntab, then the ELF symbols. Of several
// ELF symbols at one address the one GDB shows is kept: the largest, then
// a global or weak one over a local one, then the last in the table.
//
// DWARF is read lazily (dwarftab.Lazy): opening a file reads its symbol
// tables and the stored bytes of its DWARF sections, and a lookup reads
// only the compile units whose ranges cover the address (glibc's debug
// file has 4000), each once, inflating SHF_COMPRESSED sections (zlib or
// zstd) only as far as those units lie. Symbols (and so pattern searches
// over all names) reads all of it, once. The results are those of reading
// everything at once.
//
// Symbol-table names are demangled (C++ Itanium "_Z…", Rust legacy
// "_ZN…17h<hash>E" and v0 "_R…") with github.com/ianlancetaylor/demangle,
// keeping C++ parameter lists ("ns::func(int)") because GDB's backtrace
// shows them for frames without debug information. A DWARF function is
// named as GDB's backtrace names it: by its DW_AT_linkage_name when it
// has one, demangled without parameters for C++ and Rust (the qualified
// "ns::Klass::method" where DW_AT_name says "method") and as it is for C
// (an asm label: glibc's raise is __GI_raise), else by DW_AT_name. The
// mangled name is not kept: symbols.Symbol has no field for it.
//
// # The RVA rule
//
// Tables hold addresses relative to the module's base, the address its
// first PT_LOAD segment was mapped at. The ELF's own link address for
// that point is the lowest PT_LOAD p_vaddr rounded down to a 4 KiB page
// (the loader maps whole pages); call it the link base. Every symbol,
// DWARF, pclntab and line address is stored as value − link base:
//
//   - ET_DYN (PIE executables, shared objects): the link base is usually
//     0 and the module base is the load bias, so RVA = value and
//     address = base + value.
//   - ET_EXEC (non-PIE): the link base is e.g. 0x400000 and the module is
//     mapped exactly there (Module.Base = 0x400000), so symbol values are
//     absolute addresses and RVA = value − 0x400000 = address − Base.
//
// Either way LookupRVA(addr − m.Base) finds the function at addr, provided
// m.Base is the mapping of the first segment. A dump that lists a later
// segment as its own module entry (Breakpad lists the data segment of a
// non-PIE executable separately) needs the entry of the first one. Each
// file of a merged table uses its own link base: objcopy --only-keep-debug
// keeps the image's program headers (turning sections into NOBITS), so a
// debug file's link base is the image's (0 for glibc's libc.so.6 and its
// libc6-dbg file alike).
//
// # Robustness
//
// Malformed files yield errors, never panics: panics from debug/elf,
// debug/dwarf, debug/gosym and the demangler are recovered, a .gopclntab
// is checked before debug/gosym (which trusts its counts) reads it, and
// demangled names are bounded in length. Fuzzed by FuzzReadBytes,
// FuzzLazyDWARF and FuzzSymbolName.
package elfsym
