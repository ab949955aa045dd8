package elfx

import (
	"fmt"

	"github.com/crashbench/crashbench/core/model"
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

// Arch maps the ELF machine to an architecture name and, for 32-bit ABIs on
// 64-bit CPUs, the ABI.
func Arch(h *Header) (model.Arch, string) {
	be := h.Data == ELFDATA2MSB
	is64 := h.Class == ELFCLASS64
	switch h.Machine {
	case EM_X86_64:
		if !is64 {
			return model.AMD64, "x32"
		}
		return model.AMD64, ""
	case EM_386:
		return model.X86, ""
	case EM_AARCH64:
		return model.ARM64, ""
	case EM_ARM:
		return model.ARM, ""
	case EM_PPC:
		return model.PPC, ""
	case EM_PPC64:
		if be {
			return model.PPC64, ""
		}
		return model.PPC64LE, ""
	case EM_S390:
		if is64 {
			return model.S390X, ""
		}
		return model.S390, ""
	case EM_MIPS:
		if is64 {
			return model.MIPS64, ""
		}
		if h.Flags&EF_MIPS_ABI2 != 0 {
			return model.MIPS64, "n32"
		}
		return model.MIPS, ""
	case EM_RISCV:
		if is64 {
			return model.RISCV64, ""
		}
		return model.RISCV32, ""
	case EM_SPARCV9:
		return model.SPARC64, ""
	case EM_SPARC, EM_SPARC32P:
		return model.SPARC, ""
	case EM_68K:
		return model.M68K, ""
	case EM_ALPHA:
		return model.Alpha, ""
	case EM_PARISC:
		return model.HPPA, ""
	case EM_LOONGARCH:
		return model.LoongArch, ""
	case EM_IA_64:
		return model.IA64, ""
	}
	return model.Arch(fmt.Sprintf("elf-machine-%d", h.Machine)), ""
}
