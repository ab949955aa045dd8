// Package kdmp reads Windows kernel crash dumps: the MEMORY.DMP and
// Minidump\*.dmp files that start with "PAGEDU64" (DUMP_HEADER64, 0x2000
// bytes) or "PAGEDUMP" (DUMP_HEADER32, 0x1000 bytes).
//
// Probe recognises the signature, NewFile reads and checks the fixed
// header and the secondary header its DumpType implies, Info summarises it
// (build, machine, CPUs, time, uptime, bugcheck with its WinDbg name) and
// Ranges lists the physical memory the file stores. File serves
// model.ThreadLister, ModuleLister, MemoryReader, ExceptionContext,
// ContextReader and ProcessLister (target.go):
//
//   - triage dumps (DumpType 4) are decoded in full (see "Triage dumps"
//     below): the context, exception, driver list, stack and data blocks;
//   - full, bitmap, live and .dump /k /ka /f dumps get a physical space
//     over their runs or bitmap (phys.go), kernel virtual memory through a
//     table-driven page walker (x64 4- and 5-level, PAE, x86, ARM64;
//     transition PTEs translated, prototype and paged-out PTEs named;
//     vtop.go), KDDEBUGGER_DATA64 (kdbg.go), the loaded modules from
//     PsLoadedModuleList and the processes from PsActiveProcessHead with
//     EPROCESS offsets validated on the System process (lists.go), and
//     the bugchecking processor's context from the header. Legacy
//     DumpType 2 summary dumps have no physical space yet.

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
// # Triage dumps
//
// A triage ("small memory", Minidump\*.dmp) dump has no page tables and no
// physical memory: after DUMP_HEADER comes TRIAGE_DUMP64/32 (Triage), a
// directory of sections at file offsets (triage_format.go has the layouts
// and where the data overrule ntiodump.h). The package reads:
//
//   - the context record at ContextOffset (ExceptionContext; for an "_M"
//     bugcheck such as 0x1000007E it is the exception's context) and the
//     exception record at ExceptionOffset (Exception);
//   - the crashing thread (Threads): its registers are the context whose
//     stack pointer is TopOfStack, normally *KPRCB.Context, which
//     KeBugCheckEx filled and a data block holds (the context rizin's `dr`
//     shows), and its ID is its ETHREAD address;
//   - the loaded drivers with names from the string pool and the unloaded
//     drivers (TriageDrivers, TriageUnloadedDrivers, Modules), and the
//     driver BrokenDriverOffset designates (TriageBrokenDriver);
//   - the kernel virtual memory the dump holds (Memory): the call stack at
//     TopOfStack, the data page, the TRIAGE_DATA_BLOCKs, the
//     KDDEBUGGER_DATA64 copy at KdDebuggerDataBlock and the KPRCB,
//     ETHREAD and EPROCESS copies (TriagePrcb, TriageThread,
//     TriageProcess) at their addresses, when found.
//
// The dump does not store where the KPRCB, ETHREAD and EPROCESS copies came
// from. As dbgeng does, the thread's address is read from KPRCB.CurrentThread
// and the process's from KTHREAD.ApcState.Process, at the offsets the
// KDDEBUGGER_DATA64 copy gives; each is confirmed by the copy itself, whose
// empty LIST_ENTRYs point at their own addresses, and the majority of those
// self-pointers also places the KPRCB and a thread that is not the current
// one. The process name (Info.Process, TriageProcessName) is
// EPROCESS.ImageFileName, whose offset no header records: it is searched
// for near InheritedFromUniqueProcessId and left empty when the search is
// not conclusive. With the kernel's symbols (ntkrnlmp.pdb's _EPROCESS),
// ProcessesWithOffsets reads every field where they say, a triage dump's
// process id included, after checking them on the System process (PID 4).
//
// A TRIAGE_DUMP field holding the "PAGE" filler was never written and
// counts as absent, like 0. Format packages may not import each other, so
// CONTEXT records are decoded here (DecodeContext, CPUContext) with the
// register names and order of package minidump; a test decodes the same
// bytes with both.
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
// fixed-size header and at most 0x80 more bytes (TRIAGE_DUMP64); every
// count in it (runs, pages, bitmap bits, PFN ranges, drivers, data blocks)
// and every section offset and size is checked against the descriptor's
// capacity and the file size before use, and inconsistencies become
// model.Diagnostics, not errors. The triage decoders clip every count and
// size to the bytes the file holds, so they allocate at most a small
// multiple of the file size whatever the header claims. Ranges streams
// bitmaps and PFN arrays in 64 KiB chunks and never past the end of the
// file, so its work and memory are bounded by the file size. Errors are
// *FormatError values carrying the file offset.
package kdmp
