// Package mem reads a dump's memory at 64-bit addresses through a stack of
// address spaces, each layer existing for one reason:
//
//   - Reader and Space are the contract every layer shares. Reader is
//     io.ReaderAt with an unsigned 64-bit address, because kernel addresses
//     (0xfffff80000000000) do not fit ReaderAt's int64 offset; Space adds a
//     name for error messages and a list of regions for memory-map views.
//
//   - FaultError says which address failed and why. A debugger showing
//     "??" is useless; one showing "kernel: 0xfffff80000001000: not present
//     (PDE 0x0)" tells the user whether the pointer is bad, the page was
//     paged out, or the dump simply did not capture it. Each layer re-reports
//     a lower fault in its own coordinates and keeps the lower one as the
//     cause, so the exact failing address is known at every level.
//
//   - NewFile and OpenFile are the leaves: the dump file addressed by
//     offset. OpenFile memory-maps the file because dumps are large, sparse
//     and read at random; mapping costs nothing up front and the OS caches
//     pages. A read past the end is an OutsideFile fault, which means the
//     file is truncated relative to its headers.
//
//   - Mapper, Runs and ReadMapped translate one space into another: physical
//     memory into file offsets (a kernel dump's run list, often millions of
//     runs, looked up by binary search), or virtual into physical (a
//     page-table walker elsewhere implements Mapper). A mapping may carry a
//     Decode function for compressed pages. Formats describe only where bytes
//     live; ReadMapped does the copying, clipping and fault reporting once.
//
//   - Spliced assembles a space from pieces served by different readers,
//     later pieces overriding earlier ones, as core files need (segments
//     from the core, file-backed pages from executables, patches on top).
//
//   - Cache is a bounded LRU page cache in front of any space, because
//     analysis code re-reads the same structures and each uncached read may
//     cost a page-table walk or a decompression.
//
//   - ReadFull and ReadUint are the conveniences nearly every caller wants.
//
// Every type is safe for concurrent reads, and no input (addresses near
// 2^64, zero-length or huge reads, corrupt run tables) makes this package
// panic or allocate more than the request justifies. Reads never wrap past
// 2^64-1: the bytes beyond fault, reported at address 0 with a cause that
// says so, since 2^64 itself cannot be represented.
//
// This package imports only the standard library; package memtest provides
// fake spaces for tests.
package mem
