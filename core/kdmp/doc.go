// Package kdmp reads Windows kernel crash dumps: the MEMORY.DMP and
// Minidump\*.dmp files that start with "PAGEDU64" (DUMP_HEADER64, 0x2000
// bytes) or "PAGEDUMP" (DUMP_HEADER32, 0x1000 bytes).
//
// This step covers detection and the header summary: Probe recognises the
// signature, NewFile reads and checks the fixed header and the secondary
// header its DumpType implies, Info summarises it (build, machine, CPUs,
// time, uptime, bugcheck with its WinDbg name) and Ranges lists the physical
// memory the file stores. Memory reads, threads and stacks come later.
//
// # Dump types
//
// DumpType selects the layout after the header and the report variant:
//
//	1  FullDump                  runs in PHYSICAL_MEMORY_DESCRIPTOR   "complete"
//	2  KernelDump (summary)      -                                    "kernel"
//	4  MiniDump (triage)         TRIAGE_DUMP                          "triage"
//	5  BMPDump                   BMP_HEADER64 "SDMP" / "FDMP"         "bitmap-kernel" / "bitmap-complete"
//	6  LiveKernelBitmapDump      BMP_HEADER64                         "live-kernel"
//	8  KernelMemoryDump          RDMP_HEADER64 (.dump /k)             "kernel"
//	9  KernelAndUserMemoryDump   RDMP_HEADER64 (.dump /ka)            "active"
//	10 CompleteMemoryDump        FULL_RDMP_HEADER64 (.dump /f)        "complete"
//
// The layouts of types 6, 8, 9 and 10 are known only from
// 0vercl0k/kdmp-parser's reverse engineering; no sample of them is in the
// shared corpus, so they are tested with kdmptest only. For 32-bit dumps the
// bitmap header is read at 0x1000 with the 64-bit layout, as memflow's
// coredump connector does; that too is unverified against a real file.
//
// The header does not store the NT version, only the build number
// (MinorVersion) and free/checked (MajorVersion 0xF/0xC), so OS.Version is
// derived from the build for release builds ("10.0.<build>" from 10240 on)
// and left empty otherwise; the "Kernel" detail imitates the first line of
// WinDbg's vertarget ("Windows 10 Kernel Version 19041 MP (2 procs) Free
// x64").
//
// Acquisition tools that write this format without a crash (DumpIt/MoonSols
// store "MATT"/"MOON"/"SOLS" in the bugcheck fields; a debugger's .dump
// stores code 0) are reported with crash kind "none".
//
// Ranges are clipped to the bytes the file holds: a truncated full dump
// lists the pages still present, and a diagnostic says how many the header
// promised. This keeps every range's FileOff pointing at stored bytes, which
// the memory layers built on Ranges rely on.
//
// # Robustness
//
// Safe on corrupt and hostile input; fuzzed by FuzzNewFile. NewFile reads a
// fixed-size header and at most 0x38 more bytes; every count in it (runs,
// pages, bitmap bits, PFN ranges) is checked against the descriptor's
// capacity and the file size before use, and inconsistencies become
// model.Diagnostics, not errors. Ranges streams bitmaps and PFN arrays in
// 64 KiB chunks and never past the end of the file, so its work and memory
// are bounded by the file size. Errors are *FormatError values carrying the
// file offset.
package kdmp
