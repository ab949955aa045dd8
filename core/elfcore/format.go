package elfcore

// Note types (include/uapi/linux/elf.h).
const (
	NT_PRSTATUS = 1
	NT_FPREGSET = 2
	NT_PRPSINFO = 3
	NT_AUXV     = 6
	NT_SIGINFO  = 0x53494749 // "SIGI"
	NT_FILE     = 0x46494c45 // "FILE"
)

// ELF machine numbers (include/uapi/linux/elf-em.h).
const (
	EM_SPARC     = 2
	EM_386       = 3
	EM_68K       = 4
	EM_MIPS      = 8
	EM_PARISC    = 15
	EM_SPARC32P  = 18
	EM_PPC       = 20
	EM_PPC64     = 21
	EM_S390      = 22
	EM_ARM       = 40
	EM_SH        = 42
	EM_SPARCV9   = 43
	EM_IA_64     = 50
	EM_X86_64    = 62
	EM_AARCH64   = 183
	EM_RISCV     = 243
	EM_LOONGARCH = 258
	EM_ALPHA     = 0x9026
)

// EF_MIPS_ABI2 marks the MIPS n32 ABI in e_flags.
const EF_MIPS_ABI2 = 0x20
