// Package vmcore reads Linux kernel crash dumps ("vmcores") in the three
// containers the kdump tool chain writes:
//
//   - "elf": the ELF file the capture kernel exports as /proc/vmcore (and
//     what makedumpfile -E, QEMU's dump-guest-memory and virsh dump write):
//     ET_CORE, one PT_NOTE with an NT_PRSTATUS "CORE" note per CPU and a
//     "VMCOREINFO" note, and a PT_LOAD per physical memory range.
//   - "kdump-compressed": makedumpfile -c/-l/-p/-z output, signature
//     "KDUMP   ": struct disk_dump_header (utsname, timestamp, status,
//     block_size, nr_cpus, ...), struct kdump_sub_header one block later
//     (phys_base, dump_level, where VMCOREINFO and the ELF notes are), two
//     page bitmaps, a page_desc per dumped page, and the compressed pages.
//   - "flattened": makedumpfile -F output for pipes: a 4 KiB header starting
//     "makedumpfile" and records {offset, size, data} that `makedumpfile -R`
//     would write back at their offsets. Either of the above may be inside.
//
// Info summarises the headers (model.Info with the release, uname -v,
// architecture, CPU count, time, compression and the VMCOREINFO entries
// worth showing), VMCOREINFO returns the kernel's KEY=VALUE table, Ranges
// lists the physical memory the dump holds, and PhysicalMemory reads it:
// an ELF vmcore's PT_LOADs by p_paddr, a kdump-compressed dump's pages
// through the dumpable bitmap (a page's page_desc is the rank of its bit
// among the set ones, counted through a rank index every 4096 pfns) and
// the page's compression (zlib, snappy and zstd through
// klauspost/compress, lzo through core/internal/lzo). Pages the
// filter excluded fault with mem.NotInDump rather than reading as zeros.
// A flattened file is read in place through its record index. Kernel
// internals (log, tasks, symbols) are package core/linux's.
//
// The layouts, with their sources, are in format.go.
//
// # Telling a vmcore from a process core
//
// Both are ELF ET_CORE files. ProbeELF (and NewFile) take an ELF core for a
// kernel vmcore when it has
//
//  1. a note named "VMCOREINFO" (the kernel's /proc/vmcore, makedumpfile -E,
//     QEMU with the vmcoreinfo device); or
//  2. a note named "QEMU" (QEMU dump-guest-memory's per-CPU QEMUCPUState);
//     or, failing both,
//  3. all of: at least one NT_PRSTATUS note named "CORE"; no NT_PRPSINFO,
//     NT_AUXV, NT_FILE or NT_SIGINFO note named "CORE" or "FreeBSD"; at
//     least one PT_LOAD; and some PT_LOAD with p_paddr != 0 or, in an
//     ELFCLASS64 file, with bit 63 of p_vaddr set.
//
// Why rule 3 is safe: the kernel's crash notes (crash_save_cpu) are
// NT_PRSTATUS only, while every process-core writer (fs/binfmt_elf.c, gdb's
// gcore, FreeBSD) emits NT_PRPSINFO and NT_AUXV; process-core writers leave
// p_paddr zero; and user space never maps the upper half of a 64-bit address
// space. The vaddr test is not used for ELFCLASS32, where a 32-bit process
// under a 64-bit kernel can map up to 4 GiB. Rule 3 catches VMCOREINFO-less
// dumps: QEMU dumps of ARM or s390 guests without the vmcoreinfo device, and
// vmcores whose note segment is cut off after the PRSTATUS notes.
//
// # Choices worth knowing
//
//   - Crash is set (Kind panic, no message) only when VMCOREINFO has
//     CRASHTIME: crash_save_vmcoreinfo appends it in __crash_kexec, which
//     runs only when the kernel crashes (panic, or an oops that
//     kexec_should_crash makes fatal) with a capture kernel loaded. Neither
//     header holds the panic string, so Message stays empty; QEMU dumps of a
//     live guest carry no CRASHTIME and get no Crash.
//   - Time is the kdump header's timestamp, else CRASHTIME.
//   - CPUs is nr_cpus, else (ELF, or an implausible nr_cpus) the number of
//     NT_PRSTATUS "CORE" notes.
//   - The kdump header is in the dumped machine's byte order and long size.
//     utsname.machine decides when it implies them; otherwise a small
//     header_version and a power-of-two block_size decide. The timeval sits
//     at 408 (LP64, or ILP32 with a 64-bit time_t) or 404 (ILP32); the
//     sub-header's longs follow the machine, and on ILP32 its off_t members
//     are aligned to 4 on i386 and to 8 elsewhere (crash's diskdump.c
//     tabulates both).
//   - The second bitmap lists the dumped pages when bitmap_blocks is at
//     least twice what max_mapnr needs (crash's dump_is_partial); otherwise
//     the single bitmap does. Ranges coalesces its runs; FileOff is -1
//     because each page is found through its page_desc.
//   - Flattened files: NewFile indexes at most the first 1024 records (the
//     headers, notes and VMCOREINFO come first in every makedumpfile
//     output); Ranges indexes them all. Overlapping records, which
//     makedumpfile never writes, keep the lower-offset bytes.
//
// # Robustness
//
// Safe on corrupt and hostile input: NewFile and Ranges never panic, every
// error is a *FormatError carrying a file offset, and damage that leaves the
// dump usable (a truncated vmcore, a lying size, a bitmap cut short, an
// incomplete makedumpfile run) becomes a model.Diagnostic instead. Every
// allocation is bounded by the file size: counts come from bytes present,
// VMCOREINFO is capped at 1 MiB, note segments at 64 MiB each and at the
// file size together (so a thousand PT_NOTE headers naming the whole file
// cost one copy, not a thousand), the flattened index
// holds at most one entry per 17 bytes of file, and Ranges stops at the
// number of page descriptors the file has room for. Fuzzed by FuzzNewFile
// and FuzzVMCOREINFO.
package vmcore
