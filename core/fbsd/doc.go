// Package fbsd reads FreeBSD kernel minidumps: the vmcore.N files savecore(8)
// writes after a panic with the default minidump mode (debug.minidump=1),
// which start with "minidump FreeBSD/<arch>" and a struct minidumphdr from
// the dumped machine's sys/<arch>/include/minidump.h.
//
// Probe recognises the magic prefix; NewFile decodes the header of amd64,
// i386, arm, arm64, riscv, powerpc64 and mips minidumps with the
// architecture's layout and version, checks its section sizes against the
// file, and Info reports the format ("freebsd-vmcore", variant "minidump"),
// the architecture and the header's kernel addresses and sizes.
//
// For amd64 (v1-3) and arm64 (v1-3, 4 and 16 KiB pages):
//
//   - PhysicalMemory and Ranges: the page bitmap locates the dumped pages
//     (phys.go): bit n is the n-th page of data, and stands for page n
//     (no dump_avail: amd64 v1-2, arm64 v1) or for the n-th page of the
//     dump_avail[] ranges, as the kernel's vm_page_dump_add numbers them.
//     Pages not dumped fault mem.NotInDump; pages a truncated file lost are
//     left out with a diagnostic.
//   - KernelMemory: the direct map, and the kernel map from kernbase
//     through the page-table section (kernel.go: amd64 PDEs, or PTEs in
//     v1; arm64 L3 descriptors), with NotPresent faults naming the level.
//     The user address spaces are not in a minidump.
//
// Other architectures return ErrUnsupported from both, and nil Ranges.
// MessageBuffer, Log and PanicString read the message-buffer section of
// any architecture; the section is the raw ring without its read/write
// positions, so the start is inferred (msgbuf.go documents the rule).
//
// FreeBSD full dumps (debug.minidump=0) are ELF files, ET_CORE with
// ELFOSABI_STANDALONE: ELFFile (elf.go) lists their PT_LOAD chunks and
// reads them as physical memory; they carry no page tables or msgbuf
// section, so kernel addresses need the kernel's own page tables.
//
// There is no public FreeBSD minidump small enough for the shared corpus
// (the ones known are in LLVM's lldb test suite, too large to fetch), so this
// package is tested only with dumps built by fbsdtest from the published
// header definitions and libkvm's reader.
//
// The headers carry no byte-order mark. amd64, i386, arm64 and riscv are
// little-endian; powerpc64 and mips exist in both orders (and arm did), so
// for them the order is the one in which the version field is a small
// number, with a diagnostic when that is ambiguous. FreeBSD/mips does not
// record its word size either: a kernel base in the upper half of the 64-bit
// space means mips64.
//
// # Robustness
//
// Safe on corrupt and hostile input; fuzzed by FuzzNewFile, which also reads
// memory and the log. NewFile reads at most 256 bytes and computes section
// offsets in 64 bits from 32-bit sizes, so no size field can overflow them;
// sizes that reach past the end of the file, unknown versions and unknown
// architectures become model.Diagnostics. The bitmap, dump_avail[] and
// message buffer are read once, never beyond the end of the file (so
// allocation is bounded by the file size), and page-table entries are read
// on demand. Errors are *FormatError values carrying the file offset; reads
// fail with *mem.FaultError.
package fbsd
