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
//	                      (or swapper_pg_dir): address translation (New); on arm64
//	                      NUMBER(VA_BITS), NUMBER(kimage_voffset), NUMBER(PHYS_OFFSET),
//	                      NUMBER(TCR_EL1_T1SZ), NUMBER(MAX_PHYSMEM_BITS), PAGESIZE,
//	                      SYMBOL(swapper_pg_dir), SYMBOL(_stext)
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
// Architectures other than x86-64 and arm64 are not supported
// (ErrUnsupportedArch).
//
// # Address translation (arm64)
//
// From VMCOREINFO (arch/arm64/kernel/vmcore_info.c): NUMBER(VA_BITS),
// NUMBER(kimage_voffset) and NUMBER(PHYS_OFFSET) (both 0x-prefixed hex),
// NUMBER(TCR_EL1_T1SZ) (Linux 5.9+; 64 - T1SZ is the VA size TTBR1 really
// translates, 48 for a 52-bit kernel on 48-bit hardware), PAGESIZE (4, 16
// or 64 KiB granule), NUMBER(MAX_PHYSMEM_BITS) and SYMBOL(swapper_pg_dir);
// an empty arch is taken for arm64 when NUMBER(kimage_voffset) is there.
// The layout is told by where swapper_pg_dir (in the image) is: in the
// upper half of the kernel VA space (bit min(VA_BITS,48)-1 set) it is the
// Linux 5.4+ "flipped" layout, PAGE_OFFSET = -2^VA_BITS, the linear map
// below the image; in the lower half the older one, PAGE_OFFSET =
// -2^(VA_BITS-1), the linear map the whole upper half. This needs no
// version number, so backports are handled. By arithmetic: the linear map,
// pa = va - PAGE_OFFSET + PHYS_OFFSET (in the flipped layout only
// [PAGE_OFFSET, PAGE_OFFSET + 2^(VA_BITS-1)), the part every 5.4+ kernel
// has; a 52-bit kernel on 48-bit hardware, whose linear map lies elsewhere,
// walks it); and
// the image from SYMBOL(_stext) (or swapper_pg_dir's page without it)
// through swapper_pg_dir, pa = va - kimage_voffset. Everything else
// (vmalloc, modules, vmemmap, the image's data and bss) walks from
// swapper_pg_dir's physical address (its VA - kimage_voffset): 2 to 5
// levels by granule and VA size (4 KiB: 3 for 39-bit, 4 for 48-bit;
// 16 KiB: 2/3/4; 64 KiB: 2 for 42-bit, 3 for 48/52-bit), the top index as
// wide as VA_BITS makes the table (so a 52-bit table walked by 48-bit
// hardware is entered where TTBR1's offset points). Descriptors: bit 0
// valid, bit 1 table (page at the last level) or block; blocks where the
// granule allows them (level 2; level 1 with 4 KiB pages or 52-bit output
// addresses); output address bits [47:granule], with PA[51:48] from bits
// [15:12] for 64 KiB pages when MAX_PHYSMEM_BITS is 52 and PA[51:50] from
// bits [9:8] (FEAT_LPA2) when 4/16 KiB pages have 52-bit VAs. Faults carry
// the level (PGD, P4D, PUD, PMD, PTE as Linux folds them) and the entry;
// an invalid descriptor is NotPresent, a block where none may be (or at
// the last level) Corrupt, an address below TTBR1's range Unmapped.
// The log, kallsyms, BTF, tasks and modules are read the same way as on
// x86-64; CPUs and StackScan still assume x86-64 (current_task, call
// instructions). Kernels before 4.12 (no NUMBER(VA_BITS)) and pointers
// carrying KASAN or MTE tags in the top byte are not handled.
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
// proved readable). Only little-endian 64-bit kernels (x86-64, arm64) are handled.
package linux
