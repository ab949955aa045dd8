// Package elfcore reads ELF process core dumps (e_type ET_CORE) written by
// the Linux and FreeBSD kernels, GDB's gcore, systemd-coredump and the
// elfutils/lldb writers: the notes (NT_PRSTATUS per thread, NT_PRPSINFO,
// NT_SIGINFO, NT_FILE, NT_AUXV) and the PT_LOAD segments.
//
// Layouts follow the kernel's include/uapi/linux/elfcore.h and
// include/linux/elfcore.h (struct elf_prstatus, elf_prpsinfo), the ELF gABI
// and FreeBSD's sys/procfs.h. Kernel vmcores are ET_CORE too; package
// vmcore claims those first (core/dump probes it earlier).
//
// # Robustness
//
// Safe on corrupt and hostile input: counts are bounded by the file size,
// a truncated core (segments past the end of the file, cut notes) yields
// diagnostics rather than a failed open, and nothing panics. Fuzzed by
// FuzzNewFile.
package elfcore
