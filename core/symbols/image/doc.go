// Package image finds a module's image file (.exe, .dll) on disk and reads
// symbols from it: DWARF debug information when the image carries it
// (mingw-w64 and other gcc/clang builds keep .debug_* sections in the PE
// file), otherwise the COFF symbol table.
//
// Finder looks for the file in plain directories and in Microsoft's
// symbol-store layout (<name>/<TIMESTAMP><sizeofimage>/<name>) and accepts
// only an image whose TimeDateStamp and SizeOfImage match the module's, so
// a different build of the same DLL is never used.
//
// A Table answers LookupRVA with the DWARF function containing the
// address (else the nearest COFF symbol in its section), the line-table
// row there, and the chain of DW_TAG_inlined_subroutine calls covering it,
// innermost first.
//
// The PE headers, COFF symbols and DWARF are read with the standard
// library's debug/pe and debug/dwarf; this package only maps DWARF
// addresses to RVAs (address - ImageBase) and indexes functions and line
// rows for lookup. Parsing is guarded against panics on malformed input,
// which become errors.
package image
