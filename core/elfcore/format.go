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
