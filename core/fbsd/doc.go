// Package fbsd reads FreeBSD kernel minidumps: the vmcore.N files savecore(8)
// writes after a panic with the default minidump mode (debug.minidump=1),
// which start with "minidump FreeBSD/<arch>" and a struct minidumphdr from
// the dumped machine's sys/<arch>/include/minidump.h.
//
// This step covers detection and the header summary for amd64, i386, arm,
// arm64, riscv, powerpc64 and mips: Probe recognises the magic prefix,
// NewFile decodes the header with the architecture's layout and version,
// checks its section sizes against the file, and Info reports the format
// ("freebsd-vmcore", variant "minidump"), the architecture named by the
// magic and the header's kernel addresses and sizes as details. The page
// bitmap (indexed through dump_avail[]) and the page tables that locate the
// dumped pages are decoded in a later step, so Ranges returns nil for now.
//
// FreeBSD full dumps (debug.minidump=0) are ELF files and belong to the ELF
// packages, not here.
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
// Safe on corrupt and hostile input; fuzzed by FuzzNewFile. NewFile reads at
// most 256 bytes, allocates nothing that depends on the file's contents, and
// computes section offsets in 64 bits from 32-bit sizes, so no size field can
// overflow them; sizes that reach past the end of the file, unknown versions
// and unknown architectures become model.Diagnostics. Errors are
// *FormatError values carrying the file offset.
package fbsd
