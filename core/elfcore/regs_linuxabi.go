package elfcore

import (
	"fmt"
	"slices"
)

// Linux pr_reg layouts (elf_gregset_t as the kernel's ELF_CORE_COPY_REGS or
// its NT_PRSTATUS regset writes it), with gdb's register names and
// "info registers" order. Each layout names the kernel header it follows.

// Offsets of pr_reg in the Linux struct elf_prstatus (include/linux/elfcore.h,
// struct elf_prstatus_common): pr_info (3 ints), pr_cursig (short), pr_sigpend
// and pr_sighold (unsigned long, aligned), pr_pid/ppid/pgrp/sid, then four
// struct __kernel_old_timeval (two longs each). m68k aligns longs to 2
// bytes, so its pr_sigpend follows pr_cursig directly.
const (
	prRegOff64   = 112 // 12 + 2 + pad 2 + 8 + 8 (from 16) + 16 + 4*16
	prRegOff32   = 72  // 12 + 2 + pad 2 + 4 + 4 + 16 + 4*8
	prRegOffM68K = 70  // 12 + 2 + 4 + 4 + 16 + 4*8
)

// seq returns prefix+i for i in [from, to].
func seq(prefix string, from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return s
}

func cat(parts ...[]string) []string { return slices.Concat(parts...) }

// numbered maps prefix+i to names[i]: the architectural spellings (r29,
// x8) of registers gdb shows under their ABI names.
func numbered(prefix string, names []string, into map[string]string) map[string]string {
	if into == nil {
		into = map[string]string{}
	}
	for i, n := range names {
		if a := fmt.Sprintf("%s%d", prefix, i); a != n {
			into[a] = n
		}
	}
	return into
}

var (
	// x86-64: struct user_regs_struct (arch/x86/include/asm/user_64.h), 27
	// longs. x32 cores use it unchanged behind the 32-bit prstatus header.
	layoutAMD64 = &gregLayout{
		word: 8,
		slots: []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
			"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
			"fs_base", "gs_base", "ds", "es", "fs", "gs"},
		display: []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
			"cs", "ss", "ds", "es", "fs", "gs", "fs_base", "gs_base", "orig_rax"},
		pc: "rip", sp: "rsp", fp: "rbp",
		sizes:   map[string]int{"eflags": 4, "cs": 4, "ss": 4, "ds": 4, "es": 4, "fs": 4, "gs": 4},
		aliases: map[string]string{"rflags": "eflags", "efl": "eflags"},
	}

	// i386: struct user_regs_struct (arch/x86/include/asm/user_32.h), 17
	// longs (xds, xes, ... under gdb's names).
	layoutX86 = &gregLayout{
		word: 4,
		slots: []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
			"orig_eax", "eip", "cs", "eflags", "esp", "ss"},
		display: []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
			"cs", "ss", "ds", "es", "fs", "gs", "orig_eax"},
		pc: "eip", sp: "esp", fp: "ebp",
		aliases: map[string]string{"efl": "eflags"},
	}

	// arm64: struct user_pt_regs (arch/arm64/include/uapi/asm/ptrace.h):
	// x0..x30, sp, pc, pstate (gdb's cpsr, 32 bits).
	layoutARM64 = &gregLayout{
		word:  8,
		slots: cat(seq("x", 0, 30), []string{"sp", "pc", "cpsr"}),
		pc:    "pc", sp: "sp", fp: "x29",
		sizes:   map[string]int{"cpsr": 4},
		aliases: map[string]string{"pstate": "cpsr", "fp": "x29", "lr": "x30"},
	}

	// 32-bit ARM: struct user_regs (arch/arm/include/asm/user.h), 18 longs:
	// r0..r15, cpsr, ORIG_r0 (arch/arm/include/uapi/asm/ptrace.h ARM_*).
	// The frame pointer is r11 in ARM state and r7 in Thumb state.
	layoutARM = &gregLayout{
		word:  4,
		slots: cat(seq("r", 0, 12), []string{"sp", "lr", "pc", "cpsr", "orig_r0"}),
		pc:    "pc", sp: "sp", fp: "r11", thumbFP: "r7",
		aliases: map[string]string{"r13": "sp", "r14": "lr", "r15": "pc", "pstate": "cpsr"},
	}

	// PowerPC: struct pt_regs (arch/powerpc/include/uapi/asm/ptrace.h),
	// ELF_NGREG 48: gpr[32], nip, msr, orig_gpr3, ctr, link, xer, ccr, mq
	// (32-bit) or softe (64-bit), trap, dar, dsisr, result. gdb shows nip
	// as pc, link as lr and ccr as a 32-bit cr.
	layoutPPC   = ppcLayout(4, "mq")
	layoutPPC64 = ppcLayout(8, "softe")

	// s390x: s390_regs (arch/s390/include/uapi/asm/ptrace.h): psw (mask,
	// addr), gprs[16], acrs[16] (32-bit), orig_gpr2. gdb calls them pswm,
	// pswa, r0..r15, acr0..acr15, orig_r2; its pc is pswa.
	layoutS390X = &gregLayout{
		word:   8,
		slots:  cat([]string{"pswm", "pswa"}, seq("r", 0, 15), seq("acr", 0, 15), []string{"orig_r2"}),
		widths: widths(4, seq("acr", 0, 15)),
		pc:     "pswa", sp: "r15", fp: "r11", // r11: GCC's hard frame pointer on s390
		aliases: map[string]string{"orig_gpr2": "orig_r2"},
	}
	// 31-bit s390: the same fields, 32 bits each (s390_compat_regs in
	// arch/s390/include/asm/compat.h). pswa's top bit is the addressing
	// mode. gdb names the gprs r0l..r15l when the core also holds
	// NT_S390_HIGH_GPRS; here they are r0..r15, the low halves.
	layoutS390 = &gregLayout{
		word:  4,
		slots: layoutS390X.slots,
		pc:    "pswa", sp: "r15", fp: "r11",
		pcMask:  0x7fffffff,
		aliases: map[string]string{"orig_gpr2": "orig_r2"},
	}

	// RISC-V: struct user_regs_struct (arch/riscv/include/uapi/asm/ptrace.h):
	// pc, then x1..x31 under their ABI names. gdb prints x8 as fp and pc
	// last.
	layoutRISCV64 = riscvLayout(8)
	layoutRISCV32 = riscvLayout(4)

	// MIPS: arch/mips/include/uapi/asm/reg.h. o32 (MIPS32_EF_*) starts with
	// six unused slots; n64 and n32 (MIPS64_EF_*, 64-bit slots even for
	// n32) start at r0. Then lo, hi, cp0_epc, cp0_badvaddr, cp0_status,
	// cp0_cause; ELF_NGREG is 45. gdb shows them as sr, lo, hi, bad,
	// cause, pc after the gprs, under the ABI's names.
	layoutMIPS32  = mipsLayout(4, 6, mipsO32Names)
	layoutMIPSN32 = mipsLayout(8, 0, mipsN64Names)
	layoutMIPS64  = mipsLayout(8, 0, mipsN64Names)

	// PA-RISC (32-bit): ELF_CORE_COPY_REGS in arch/parisc/include/asm/elf.h
	// (80 slots, 64 used): gr0..gr31, sr0..sr7, iaoq0, iaoq1, iasq0, iasq1,
	// sar, iir, isr, ior, ipsw, cr0, cr24..cr31, cr8, cr9, cr12, cr13,
	// cr10, cr15. Names are gdb's (hppa-tdep.c): gr0 is flags, cr27..cr30
	// keep their HP-UX names mpsfu_high, mpsfu_low, mpsfu_ovflo and pad.
	// The stack grows up; r3 is GCC's frame pointer.
	layoutHPPA = &gregLayout{
		word: 4,
		slots: cat(hppaGRNames, seq("sr", 0, 7),
			[]string{"pcoqh", "pcoqt", "pcsqh", "pcsqt", "sar", "iir", "isr", "ior", "ipsw", "cr0",
				"cr24", "cr25", "cr26", "mpsfu_high", "mpsfu_low", "mpsfu_ovflo", "pad", "cr31",
				"cr8", "cr9", "cr12", "cr13", "ccr", "eiem"}),
		display: cat(hppaGRNames, []string{"sar", "pcoqh", "pcsqh", "pcoqt", "pcsqt", "eiem", "iir",
			"isr", "ior", "ipsw", "sr4", "sr0", "sr1", "sr2", "sr3", "sr5", "sr6", "sr7", "cr0", "cr8",
			"cr9", "ccr", "cr12", "cr13", "cr24", "cr25", "cr26", "mpsfu_high", "mpsfu_low",
			"mpsfu_ovflo", "pad", "cr31"}),
		pc: "pcoqh", sp: "sp", fp: "r3",
		pcMask: ^uint64(3),
		aliases: numbered("r", hppaGRNames, map[string]string{"cr10": "ccr", "cr11": "sar",
			"cr15": "eiem", "cr19": "iir", "cr20": "isr", "cr21": "ior", "cr22": "ipsw",
			"cr27": "mpsfu_high", "cr28": "mpsfu_low", "cr29": "mpsfu_ovflo", "cr30": "pad"}),
	}

	// The layouts below have no gdb to compare with (gdb 13 does not read
	// these cores); each follows kernel source read for this purpose.

	// m68k: ELF_CORE_COPY_REGS in arch/m68k/include/asm/elf.h, 20 longs:
	// d1..d5, d6, d7, a0..a2, a3..a6, d0, usp, orig_d0, sr, pc,
	// format<<12|vector. Names are gdb's (a6 is fp, usp sp, sr ps).
	layoutM68K = &gregLayout{
		word:    4,
		slots:   cat(seq("d", 1, 7), seq("a", 0, 5), []string{"fp", "d0", "sp", "orig_d0", "ps", "pc", "fmtvec"}),
		display: cat(seq("d", 0, 7), seq("a", 0, 5), []string{"fp", "sp", "ps", "pc", "orig_d0", "fmtvec"}),
		pc:      "pc", sp: "sp", fp: "fp",
		aliases: map[string]string{"a6": "fp", "a7": "sp", "usp": "sp", "sr": "ps"},
	}

	// Alpha: dump_elf_thread in arch/alpha/kernel/process.c, 33 slots:
	// r0..r28, gp, usp, pc, unique. Names are gdb's (alpha-tdep.c).
	layoutAlpha = &gregLayout{
		word:  8,
		slots: cat(alphaNames, []string{"pc", "unique"}),
		pc:    "pc", sp: "sp", fp: "fp",
		aliases: numbered("r", alphaNames, nil),
	}

	// sparc64: arch/sparc/include/asm/elf_64.h, 36 slots: g0..g7, o0..o7,
	// l0..l7, i0..i7, tstate, tpc, tnpc, y. gdb calls o6 sp, i6 fp and
	// tstate state. Both hold addresses 2047 below the frame (stack bias).
	layoutSPARC64 = &gregLayout{
		word:    8,
		slots:   cat(sparcNames, []string{"state", "pc", "npc", "y"}),
		display: cat(sparcNames, []string{"pc", "npc", "state", "y"}),
		pc:      "pc", sp: "sp", fp: "fp",
		aliases: map[string]string{"o6": "sp", "i6": "fp", "tstate": "state", "tpc": "pc", "tnpc": "npc"},
	}

	// LoongArch: struct user_pt_regs (arch/loongarch/include/uapi/asm/
	// ptrace.h): regs[32], orig_a0, csr_era, csr_badv, reserved[10]. Names
	// are the kernel's and gdb's target description's (r0..r31, orig_a0,
	// pc, badv); the ABI names are aliases.
	layoutLoongArch = &gregLayout{
		word:  8,
		slots: cat(seq("r", 0, 31), []string{"orig_a0", "pc", "badv"}),
		pc:    "pc", sp: "r3", fp: "r22",
		aliases: loongArchAliases(),
	}
)

func widths(w int, names []string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n] = w
	}
	return m
}

func ppcLayout(word int, slot40 string) *gregLayout {
	l := &gregLayout{
		word: word,
		slots: cat(seq("r", 0, 31), []string{"pc", "msr", "orig_r3", "ctr", "lr", "xer", "cr",
			slot40, "trap", "dar", "dsisr", "result"}),
		display: cat(seq("r", 0, 31), []string{"pc", "msr", "cr", "lr", "ctr", "xer", "orig_r3",
			"trap", slot40, "dar", "dsisr", "result"}),
		pc: "pc", sp: "r1", fp: "r31", // r31: GCC's hard frame pointer on PowerPC
		aliases: map[string]string{"nip": "pc", "link": "lr", "ccr": "cr", "orig_gpr3": "orig_r3"},
	}
	if word == 8 {
		l.sizes = map[string]int{"cr": 4, "xer": 4}
	}
	return l
}

var riscvNames = []string{"ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1",
	"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
	"s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"}

func riscvLayout(word int) *gregLayout {
	aliases := map[string]string{"s0": "fp"}
	for i, n := range riscvNames {
		aliases[fmt.Sprintf("x%d", i+1)] = n
	}
	return &gregLayout{
		word:    word,
		slots:   cat([]string{"pc"}, riscvNames),
		display: cat(riscvNames, []string{"pc"}),
		pc:      "pc", sp: "sp", fp: "fp",
		aliases: aliases,
	}
}

// gdb's MIPS register names (mips-tdep.c): o32 calls r8..r15 t0..t7, n32
// and n64 call them a4..a7, t0..t3.
var (
	mipsO32Names = cat([]string{"zero", "at", "v0", "v1", "a0", "a1", "a2", "a3"},
		seq("t", 0, 7), mipsUpperNames)
	mipsN64Names   = cat([]string{"zero", "at", "v0", "v1"}, seq("a", 0, 7), seq("t", 0, 3), mipsUpperNames)
	mipsUpperNames = cat(seq("s", 0, 7), []string{"t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra"})
)

func mipsLayout(word, pad int, names []string) *gregLayout {
	return &gregLayout{
		word:    word,
		slots:   cat(make([]string, pad), names, []string{"lo", "hi", "pc", "bad", "sr", "cause"}),
		display: cat(names, []string{"sr", "lo", "hi", "bad", "cause", "pc"}),
		pc:      "pc", sp: "sp", fp: "s8",
		aliases: numbered("r", names, map[string]string{"fp": "s8", "epc": "pc",
			"badvaddr": "bad", "status": "sr"}),
	}
}

var hppaGRNames = cat([]string{"flags", "r1", "rp"}, seq("r", 3, 26),
	[]string{"dp", "ret0", "ret1", "sp", "r31"})

var alphaNames = cat([]string{"v0"}, seq("t", 0, 7), seq("s", 0, 5), []string{"fp"},
	seq("a", 0, 5), seq("t", 8, 11), []string{"ra", "t12", "at", "gp", "sp"})

var sparcNames = cat(seq("g", 0, 7), seq("o", 0, 5), []string{"sp", "o7"}, seq("l", 0, 7),
	seq("i", 0, 5), []string{"fp", "i7"})

// loongArchAliases maps the LoongArch ABI names (Documentation/arch/
// loongarch/introduction.rst) to r0..r31.
func loongArchAliases() map[string]string {
	abi := cat([]string{"zero", "ra", "tp", "sp"}, seq("a", 0, 7), seq("t", 0, 8),
		[]string{"u0", "fp"}, seq("s", 0, 8))
	m := map[string]string{"s9": "r22"}
	for i, n := range abi {
		m[n] = fmt.Sprintf("r%d", i)
	}
	return m
}
