// Package elfsym reads symbols from ELF files — executables, shared
// objects and separate debug files — for the modules of Linux dumps
// (minidumps written by Breakpad or Crashpad, ELF core files).
//
// Why: Linux dumps name their modules by path and GNU build id but carry
// no symbols. The ELF file the module was loaded from (or its split debug
// file, as distributions and debuginfod serve them) usually still has a
// .symtab or at least a .dynsym, often DWARF. This package finds that
// file next to the dump or in a debug directory, checks by build id that
// it is the very file that was loaded, and turns it into a symbols.Table
// so a resolver can name frames without a Breakpad symbol file.
//
// Finder looks, in each directory, for the module's file name, the
// debuginfod cache layout <dir>/<buildid>/debuginfo and the GDB layout
// <dir>/.build-id/<xx>/<rest>.debug (and the same without .debug). A file
// is accepted only when it is ELF and its NT_GNU_BUILD_ID note equals the
// module's build id (Module.BuildID, else Module.CodeID as hex); a file
// without a build-id note is accepted only for a module without one.
//
// Provider loads the table: STT_FUNC (and STT_GNU_IFUNC) symbols of
// .symtab, else .dynsym, plus DWARF subprograms, inlined calls and line
// tables when the file has DWARF. DWARF functions win where both cover an
// address; the ELF symbols fill the rest.
//
// The RVA rule. Tables hold addresses relative to the module's base, the
// address its first PT_LOAD segment was mapped at. The ELF's own link
// address for that point is the lowest PT_LOAD p_vaddr rounded down to a
// 4 KiB page (the loader maps whole pages); call it the link base. Every
// symbol, DWARF and line address is stored as value − link base:
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
// non-PIE executable separately) needs the entry of the first one.
//
// Malformed files yield errors, never panics: panics from debug/elf and
// debug/dwarf are recovered into errors. Demangling is not done; C++
// names from the symbol table stay mangled (DWARF names are plain).
package elfsym
