package elfcore

import (
	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// FreeBSD pr_reg layouts: prstatus_t (sys/sys/procfs.h) holds pr_version,
// three size_t sizes, pr_osreldate, pr_cursig, pr_pid and then
// gregset_t, which is the machine's struct reg.
const (
	fbsdPRRegOff64 = 48 // 4 + pad 4 + 3*8 + 3*4, aligned to 8
	fbsdPRRegOff32 = 28 // 4 + 3*4 + 3*4
)

var (
	// amd64: struct __reg64 (sys/x86/include/reg.h): r15 .. rax, then
	// 32-bit trapno, 16-bit fs and gs, 32-bit err, 16-bit es and ds, then
	// rip, cs, rflags, rsp, ss. FreeBSD's pr_reg has no fs_base/gs_base.
	layoutFreeBSDAMD64 = &gregLayout{
		word: 8,
		slots: []string{"r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rdi", "rsi",
			"rbp", "rbx", "rdx", "rcx", "rax", "trapno", "fs", "gs", "err", "es", "ds",
			"rip", "cs", "eflags", "rsp", "ss"},
		widths: map[string]int{"trapno": 4, "fs": 2, "gs": 2, "err": 4, "es": 2, "ds": 2},
		display: []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags",
			"cs", "ss", "ds", "es", "fs", "gs", "trapno", "err"},
		pc: "rip", sp: "rsp", fp: "rbp",
		sizes:   map[string]int{"eflags": 4, "cs": 4, "ss": 4, "ds": 4, "es": 4, "fs": 4, "gs": 4},
		aliases: map[string]string{"rflags": "eflags", "efl": "eflags"},
	}

	// i386: struct __reg32 (sys/x86/include/reg.h), 19 32-bit fields.
	layoutFreeBSDX86 = &gregLayout{
		word: 4,
		slots: []string{"fs", "es", "ds", "edi", "esi", "ebp", "isp", "ebx", "edx", "ecx",
			"eax", "trapno", "err", "eip", "cs", "eflags", "esp", "ss", "gs"},
		display: []string{"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
			"cs", "ss", "ds", "es", "fs", "gs", "isp", "trapno", "err"},
		pc: "eip", sp: "esp", fp: "ebp",
		aliases: map[string]string{"efl": "eflags"},
	}

	// arm64: struct reg (sys/arm64/include/reg.h): x[30], lr, sp, elr,
	// spsr (32 bits, padded). gdb shows lr as x30, elr as pc, spsr as cpsr.
	layoutFreeBSDARM64 = &gregLayout{
		word:   8,
		slots:  cat(seq("x", 0, 30), []string{"sp", "pc", "cpsr"}),
		widths: map[string]int{"cpsr": 4},
		pc:     "pc", sp: "sp", fp: "x29",
		aliases: map[string]string{"pstate": "cpsr", "spsr": "cpsr", "elr": "pc",
			"fp": "x29", "lr": "x30"},
	}
)

// freebsdLayout returns the pr_reg layout of a FreeBSD core, or nil for
// the architectures not decoded yet.
func freebsdLayout(machine uint16, is64 bool) (*gregLayout, int, model.Arch) {
	switch {
	case machine == elfx.EM_X86_64 && is64:
		return layoutFreeBSDAMD64, fbsdPRRegOff64, model.AMD64
	case machine == elfx.EM_386 && !is64:
		return layoutFreeBSDX86, fbsdPRRegOff32, model.X86
	case machine == elfx.EM_AARCH64 && is64:
		return layoutFreeBSDARM64, fbsdPRRegOff64, model.ARM64
	}
	return nil, 0, ""
}
