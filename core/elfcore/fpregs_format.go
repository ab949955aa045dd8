package elfcore

// Per-thread register notes besides NT_PRSTATUS (include/uapi/linux/elf.h).
// The kernel writes a thread's notes right after its NT_PRSTATUS
// (fs/binfmt_elf.c fill_thread_core_info, one note per regset with
// core_note_type); for the first thread the process notes (NT_PRPSINFO,
// NT_SIGINFO, NT_AUXV, NT_FILE) come in between. NT_PRFPREG shares
// NT_FPREGSET's number 2 and its "CORE" owner; the others are owned by
// "LINUX" (FreeBSD writes NT_FPREGSET and NT_X86_XSTATE under "FreeBSD").
const (
	NT_PRFPREG          = 2          // i386: struct user_i387_struct (FSAVE)
	NT_PRXFPREG         = 0x46e62b7f // i386: struct user_fxsr_struct (FXSAVE)
	NT_X86_XSTATE       = 0x202      // XSAVE area in the standard format
	NT_X86_XSAVE_LAYOUT = 0x205      // struct x86_xfeat_component[], once per process (Linux 6.13+)
	NT_ARM_TLS          = 0x401      // tpidr_el0 (and tpidr2_el0 with SME)
	NT_ARM_SVE          = 0x405      // struct user_sve_header + registers
	NT_ARM_PAC_MASK     = 0x406      // struct user_pac_mask
)

// FXSAVE image offsets: struct fxregs_state (arch/x86/include/asm/fpu/types.h),
// which x86-64's struct user_fpregs_struct (asm/user_64.h), i386's struct
// user_fxsr_struct (asm/user_32.h) and an XSAVE area's legacy region share.
// The 32-bit form splits rip into fip and fcs and rdp into foo and fos;
// gdb reads fioff/fiseg and fooff/foseg at the same offsets either way
// (i386-tdep's fxsave_offset table).
const (
	fxCWD       = 0   // u16 fctrl
	fxSWD       = 2   // u16 fstat
	fxFTW       = 4   // u8 abridged tag word (one bit per physical register)
	fxFOP       = 6   // u16, 11 bits used
	fxFIOFF     = 8   // u32
	fxFISEG     = 12  // u16
	fxFOOFF     = 16  // u32
	fxFOSEG     = 20  // u16
	fxMXCSR     = 24  // u32
	fxST        = 32  // st0..st7: 10 bytes in 16-byte slots
	fxXMM       = 160 // xmm0..xmm15, 16 bytes each (xmm0..7 on i386)
	fxSWXCR0    = 464 // sw_reserved: Linux stores XCR0 here (USER_XSTATE_XCR0_WORD)
	fxSize      = 512
	xsaveHdr    = 512 // XSAVE header: XSTATE_BV, XCOMP_BV, reserved
	xsaveHdrEnd = 576 // first extended component in the standard format
)

// FSAVE offsets: i386's struct user_i387_struct (asm/user_32.h), seven
// longs then st_space packed 10 bytes apart. fcs holds the opcode in its
// upper half (gdb's fsave_offset).
const (
	fsCWD, fsSWD, fsTWD, fsFIP, fsFCS, fsFOO, fsFOS = 0, 4, 8, 12, 16, 20, 24
	fsFOP                                           = 18
	fsST                                            = 28
	fsSize                                          = 108
)

// XSAVE state components (Intel SDM vol. 1, 13.1) that have registers here.
const (
	xfX87      = 0
	xfSSE      = 1
	xfAVX      = 2 // YMM_Hi128: upper halves of ymm0..15
	xfOpmask   = 5 // k0..k7
	xfZMMHi256 = 6 // upper 256 bits of zmm0..15
	xfHi16ZMM  = 7 // zmm16..31
	xfPKRU     = 9
)

// xstateStd gives each component's offset and size in the standard
// (non-compacted) XSAVE format as CPUID leaf 0xD reports them on Intel
// processors. Other processors (AMD without MPX) place them elsewhere,
// which NT_X86_XSAVE_LAYOUT records.
var xstateStd = map[int][2]int{
	xfAVX: {576, 256}, 3: {960, 64}, 4: {1024, 64}, xfOpmask: {1088, 64},
	xfZMMHi256: {1152, 512}, xfHi16ZMM: {1664, 1024}, xfPKRU: {2688, 8},
	17: {2752, 64}, 18: {2816, 8192}, // AMX XTILECFG, XTILEDATA
}

// Init values of the x87 control words and MXCSR (the state XRSTOR loads
// for a component whose XSTATE_BV bit is clear; gdb's I387_FCTRL_INIT_VAL
// and I387_MXCSR_INIT_VAL).
const (
	fctrlInit = 0x037f
	ftagInit  = 0xffff
	mxcsrInit = 0x1f80
)

// arm64 payloads (arch/arm64/include/uapi/asm/ptrace.h).
const (
	fpsimdV    = 0   // vregs[32], __uint128_t
	fpsimdFPSR = 512 // u32
	fpsimdFPCR = 516 // u32
	fpsimdSize = 520 // without the two reserved words

	sveHdrSize    = 16 // struct user_sve_header: size, max_size (u32), vl, max_vl, flags, reserved (u16)
	sveHdrVL      = 8
	sveHdrFlags   = 12
	svePTRegsSVE  = 1  // SVE_PT_REGS_SVE: the payload holds Z/P/FFR, else user_fpsimd_state
	sveRegsOffset = 16 // SVE_PT_REGS_OFFSET
)
