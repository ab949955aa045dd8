// Package linux reads a Linux kernel's internals from a memory image of
// it, without vmlinux or any other debug file: the kernel log, its symbol
// table, its own type information, the task list and the module list. It
// needs only what every kdump-made vmcore carries: physical memory (a
// mem.Reader at physical addresses, e.g. vmcore.File.PhysicalMemory) and
// the VMCOREINFO table (vmcore.File.VMCOREINFO).
//
// # What is read from where
//
//	VMCOREINFO            NUMBER(phys_base), KERNELOFFSET, NUMBER(pgtable_l5_enabled),
//	                      NUMBER(sme_mask), NUMBER(KERNEL_IMAGE_SIZE), SYMBOL(init_top_pgt)
//	                      (or swapper_pg_dir): address translation (New)
//	                      SYMBOL(prb) and the OFFSET/SIZE/LENGTH entries of printk_ringbuffer,
//	                      prb_desc_ring, prb_data_ring, prb_desc, prb_data_blk_lpos,
//	                      printk_info, dev_printk_info: the log (Log, LogRecords);
//	                      SYMBOL(log_buf), log_buf_len, log_first_idx, log_next_idx,
//	                      SIZE/OFFSET(printk_log.*) (or log.*) for Linux 3.5-5.9
//	                      SYMBOL(kallsyms_*): the symbol table (Symbols)
//	kallsyms              init_task, __start_BTF/__stop_BTF, modules, nr_cpu_ids,
//	                      __per_cpu_offset, current_task / pcpu_hot (CPUs)
//	BTF (.BTF in memory)  struct task_struct, mm_struct, module, module_layout /
//	                      module_memory member offsets (TaskOffsets, Tasks, Modules)
//
// # Address translation (x86-64)
//
// Kernel image addresses (__START_KERNEL_map = 0xffffffff80000000 up to
// KERNEL_IMAGE_SIZE, default 1 GiB) translate by arithmetic:
// pa = va - 0xffffffff80000000 + phys_base, where phys_base is
// NUMBER(phys_base) read as a signed decimal (KASLR moves the image
// virtually by KERNELOFFSET, already included in the SYMBOL values, and
// physically by phys_base). Everything else (direct map, vmalloc, vmemmap,
// per-cpu areas, modules) goes through a 4- or 5-level walk from
// init_top_pgt, whose physical address the arithmetic gives; 1 GiB and
// 2 MiB pages are honoured, sme_mask is stripped from entries. The walk
// reads a fixed number of levels, so corrupt tables cannot loop; faults are
// *mem.FaultError in space "kernel" with the level (PGD, P4D, PUD, PMD,
// PTE) and entry that stopped the walk. Virtual returns the address space
// (a mem.Mapper read with mem.ReadMapped) with a 4096-entry translation
// cache; its Regions walks the page tables (at most 2^21 entries).
// arm64 and other architectures are not supported yet (ErrUnsupportedArch).
//
// # The kernel log
//
// The lockless ring buffer (Linux 5.10+, kernel/printk/printk_ringbuffer.c)
// is read descriptor by descriptor from tail_id to head_id inclusive
// (at most 2^count_bits of them), keeping descriptors whose state_var holds
// their id with state committed or finalized; the text block is at
// begin % size, or at 0 when begin % size > next % size (a block that would
// have wrapped is stored at the start of the ring), after the 8-byte id,
// and text_len is clipped to the block. Records without data are skipped,
// except EMPTY_LINE_LPOS (Linux 6.10+), an empty line. Log formats the
// records exactly as makedumpfile --dump-dmesg does, which is what the
// corpus oracle was made with: "[%5d.%06d] " and the text; each newline in
// a record starts a new line indented by the prefix's width; control
// characters other than whitespace become \xNN. Unlike makedumpfile, valid
// UTF-8 passes through unescaped (as dmesg prints it) and invalid bytes
// above 0x7f are escaped as \xNN (makedumpfile passes them, as signed
// chars, to isprint and printf, with results that depend on the C library).
// dev_info (SUBSYSTEM/DEVICE) is kept in LogRecord but not printed, as
// neither dmesg nor makedumpfile prints it. Linux 3.5-5.9 records are read
// from log_first_idx to log_next_idx, a zero length meaning "wrap to 0".
// Kernels before 3.5 (a plain character buffer) are not supported.
//
// # kallsyms
//
// kallsyms_names is decoded through kallsyms_token_table/_index (a length
// byte, two bytes from Linux 6.1 when bit 7 is set, then token indices;
// the first character is the nm type letter). Addresses come from
// kallsyms_addresses when exported, else kallsyms_offsets: with
// CONFIG_KALLSYMS_ABSOLUTE_PERCPU a non-negative offset is an absolute
// (per-cpu) address and a negative one means relative_base - 1 - offset;
// without it every offset is relative_base + (u32)offset. The reading that
// puts _stext where VMCOREINFO says is chosen, and a symbol table that
// disagrees with VMCOREINFO on _stext is rejected. kallsyms does not list
// its own tables, nor module symbols.
//
// # BTF, tasks and modules
//
// ParseBTF (btf.go) parses a BTF blob (header, type and string sections;
// every kind up to ENUM64) and finds member offsets, looking through
// anonymous structs and unions as C does, with bounded effort. Tasks walks
// init_task.tasks (thread-group leaders, as ps lists them without threads)
// with cycle detection and a 2^22 bound; a kernel thread is a task with
// mm == 0. Processes gives them as model.KernelProcess with DirBase the
// physical address of mm->pgd. Modules walks the "modules" list with
// core_layout (up to 6.3) or mem[] (6.4+) for base and size. CPUs reads
// each CPU's per-cpu offset and the task it was running (the crashing
// CPU's current task is the one that panicked).
//
// # Limits
//
// Every size read from the dump is bounded before anything is allocated
// (descriptor ring 2^22, data ring 2^28, structures 4 KiB, 2^22 symbols,
// BTF 64 MiB, and large buffers are allocated only after their last byte
// proved readable). Only little-endian 64-bit kernels are handled.
package linux
