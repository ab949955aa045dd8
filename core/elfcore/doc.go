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
// A File is a model.Target with threads (one per NT_PRSTATUS, registers
// decoded from pr_reg in gdb's order and names: on Linux x86-64 and x32,
// i386, arm64, arm, ppc, ppc64, s390/s390x, riscv64, MIPS o32/n32/n64,
// hppa, m68k, alpha, sparc64 and loongarch; on FreeBSD amd64, i386 and
// arm64; see regs_linuxabi.go and regs_freebsdabi.go), modules (NT_FILE
// mappings grouped by file, build ids read from the ELF headers the core
// holds, and the vDSO found through AT_SYSINFO_EHDR in NT_AUXV), memory (the PT_LOAD segments with their protections, labelled
// with the mapped file and offset, [stack], [vdso]) and the crashing
// thread's context.
//
// # Robustness
//
// Safe on corrupt and hostile input: counts are bounded by the file size,
// a truncated core (segments past the end of the file, cut notes) yields
// diagnostics rather than a failed open, and nothing panics. Fuzzed by
// FuzzNewFile.
package elfcore
