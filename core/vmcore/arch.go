package vmcore

import (
	"strings"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// machineInfo is what a utsname.machine string (uname -m) says about the
// dumped machine.
type machineInfo struct {
	arch  model.Arch
	word  int // sizeof(long): 4 or 8; 0 when the string does not say
	order orderHint
	i386  bool // ILP32 with 4-byte alignment of 8-byte members
}

// orderHint is the byte order a machine name implies.
type orderHint uint8

const (
	anyEndian orderHint = iota // bi-endian architectures (ARM, MIPS, PowerPC 32)
	littleEndian
	bigEndian
)

// parseMachine maps uname -m spellings to Crashbench's. Unknown strings give
// the zero machineInfo (Arch "" = unknown).
func parseMachine(m string) machineInfo {
	switch m {
	case "x86_64", "amd64":
		return machineInfo{arch: model.AMD64, word: 8, order: littleEndian}
	case "i386", "i486", "i586", "i686", "x86":
		return machineInfo{arch: model.X86, word: 4, order: littleEndian, i386: true}
	case "aarch64", "arm64":
		return machineInfo{arch: model.ARM64, word: 8, order: littleEndian}
	case "aarch64_be":
		return machineInfo{arch: model.ARM64, word: 8, order: bigEndian}
	case "ppc64le":
		return machineInfo{arch: model.PPC64LE, word: 8, order: littleEndian}
	case "ppc64":
		return machineInfo{arch: model.PPC64, word: 8, order: bigEndian}
	case "ppc", "ppcle":
		return machineInfo{arch: model.PPC, word: 4}
	case "s390x":
		return machineInfo{arch: model.S390X, word: 8, order: bigEndian}
	case "s390":
		return machineInfo{arch: model.S390, word: 4, order: bigEndian}
	case "riscv64":
		return machineInfo{arch: model.RISCV64, word: 8, order: littleEndian}
	case "riscv32":
		return machineInfo{arch: model.RISCV32, word: 4, order: littleEndian}
	case "mips64":
		return machineInfo{arch: model.MIPS64, word: 8}
	case "mips":
		return machineInfo{arch: model.MIPS, word: 4}
	case "loongarch64":
		return machineInfo{arch: model.LoongArch, word: 8, order: littleEndian}
	case "sparc64":
		return machineInfo{arch: model.SPARC64, word: 8, order: bigEndian}
	case "sparc":
		return machineInfo{arch: model.SPARC, word: 4, order: bigEndian}
	case "ia64":
		return machineInfo{arch: model.IA64, word: 8, order: littleEndian}
	case "alpha":
		return machineInfo{arch: model.Alpha, word: 8, order: littleEndian}
	case "m68k":
		return machineInfo{arch: model.M68K, word: 4, order: bigEndian}
	case "parisc64":
		return machineInfo{arch: model.HPPA, word: 8, order: bigEndian}
	case "parisc":
		return machineInfo{arch: model.HPPA, word: 4, order: bigEndian}
	}
	if strings.HasPrefix(m, "arm") {
		// uname -m spells the byte order as a suffix: armv7l, armv5tejl,
		// armv7b.
		switch m[len(m)-1] {
		case 'l':
			return machineInfo{arch: model.ARM, word: 4, order: littleEndian}
		case 'b':
			return machineInfo{arch: model.ARM, word: 4, order: bigEndian}
		}
		return machineInfo{arch: model.ARM, word: 4}
	}
	return machineInfo{}
}

// elfArch maps e_machine to an Arch. The ELF class of a vmcore is not the
// kernel's word size (kexec-tools writes ELF64 headers for 32-bit PAE
// kernels), so the 32-bit-ABI reading elfx.Arch gives ELFCLASS32 x86-64
// files does not apply, and an unknown machine stays unknown.
func elfArch(h *elfx.Header) model.Arch {
	if h.Machine == elfx.EM_X86_64 {
		return model.AMD64
	}
	arch, _ := elfx.Arch(h)
	if strings.HasPrefix(string(arch), "elf-machine-") {
		return ""
	}
	return arch
}
