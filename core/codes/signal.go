package codes

// Signal numbers differ between Linux architectures: most use the generic
// (x86/arm) numbering, while MIPS, SPARC and Alpha keep their historical
// ones (arch/*/include/uapi/asm/signal.h).
var genericSignals = map[int]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT",
	19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU",
	25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR",
	31: "SIGSYS",
}

var mipsSignals = map[int]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGEMT", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGBUS", 11: "SIGSEGV", 12: "SIGSYS",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGUSR1", 17: "SIGUSR2", 18: "SIGCHLD",
	19: "SIGPWR", 20: "SIGWINCH", 21: "SIGURG", 22: "SIGIO", 23: "SIGSTOP", 24: "SIGTSTP",
	25: "SIGCONT", 26: "SIGTTIN", 27: "SIGTTOU", 28: "SIGVTALRM", 29: "SIGPROF", 30: "SIGXCPU",
	31: "SIGXFSZ",
}

// bsdSignals is the BSD numbering used by SPARC, Alpha, FreeBSD and macOS.
var bsdSignals = map[int]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGEMT", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGBUS", 11: "SIGSEGV", 12: "SIGSYS",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGURG", 17: "SIGSTOP", 18: "SIGTSTP",
	19: "SIGCONT", 20: "SIGCHLD", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGIO", 24: "SIGXCPU",
	25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGINFO", 30: "SIGUSR1",
	31: "SIGUSR2",
}

// SignalNumbering selects a signal table.
type SignalNumbering uint8

// Signal numberings.
const (
	LinuxGeneric SignalNumbering = iota // x86, arm, arm64, ppc, s390, riscv, m68k, loongarch, hppa (mostly)
	LinuxMIPS
	BSD // FreeBSD, macOS, Linux on SPARC and Alpha
)

// Signal names signal n, or "" if unknown.
func Signal(n int, numbering SignalNumbering) string {
	switch numbering {
	case LinuxMIPS:
		return mipsSignals[n]
	case BSD:
		return bsdSignals[n]
	}
	return genericSignals[n]
}

// SigCode names a Linux si_code for the signals whose codes say why a
// fault happened (asm-generic/siginfo.h); other values return "".
func SigCode(signal string, code int32) string {
	switch code {
	case 0:
		return "SI_USER"
	case 0x80:
		return "SI_KERNEL"
	case -1:
		return "SI_QUEUE"
	case -6:
		return "SI_TKILL"
	}
	var names []string
	switch signal {
	case "SIGSEGV":
		names = []string{"SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"}
	case "SIGBUS":
		names = []string{"BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"}
	case "SIGILL":
		names = []string{"ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"}
	case "SIGFPE":
		names = []string{"FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB", "FPE_FLTUNK", "FPE_CONDTRAP"}
	case "SIGTRAP":
		names = []string{"TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"}
	}
	if code >= 1 && int(code) <= len(names) {
		return names[code-1]
	}
	return ""
}

// sigCodeMeanings says what an si_code means, in the words of the
// comments in asm-generic/siginfo.h (and the sigaction(2) man page).
var sigCodeMeanings = map[string]string{
	"SI_USER":       "sent by kill() or raise()",
	"SI_KERNEL":     "sent by the kernel",
	"SI_QUEUE":      "sent by sigqueue()",
	"SI_TKILL":      "sent by tkill() or tgkill(): abort(), pthread_kill()",
	"SEGV_MAPERR":   "address not mapped to object",
	"SEGV_ACCERR":   "invalid permissions for mapped object",
	"SEGV_BNDERR":   "failed address bound checks",
	"SEGV_PKUERR":   "failed protection key checks",
	"SEGV_ACCADI":   "ADI not enabled for mapped object",
	"SEGV_ADIDERR":  "disrupting MCD error",
	"SEGV_ADIPERR":  "precise MCD exception",
	"SEGV_MTEAERR":  "asynchronous ARM MTE error",
	"SEGV_MTESERR":  "synchronous ARM MTE exception",
	"SEGV_CPERR":    "control protection fault",
	"BUS_ADRALN":    "invalid address alignment",
	"BUS_ADRERR":    "non-existent physical address (past the end of a mapped file?)",
	"BUS_OBJERR":    "object-specific hardware error",
	"BUS_MCEERR_AR": "hardware memory error consumed on a machine check: action required",
	"BUS_MCEERR_AO": "hardware memory error detected in process but not consumed: action optional",
	"ILL_ILLOPC":    "illegal opcode",
	"ILL_ILLOPN":    "illegal operand",
	"ILL_ILLADR":    "illegal addressing mode",
	"ILL_ILLTRP":    "illegal trap",
	"ILL_PRVOPC":    "privileged opcode",
	"ILL_PRVREG":    "privileged register",
	"ILL_COPROC":    "coprocessor error",
	"ILL_BADSTK":    "internal stack error",
	"ILL_BADIADDR":  "unimplemented instruction address",
	"FPE_INTDIV":    "integer divide by zero",
	"FPE_INTOVF":    "integer overflow",
	"FPE_FLTDIV":    "floating point divide by zero",
	"FPE_FLTOVF":    "floating point overflow",
	"FPE_FLTUND":    "floating point underflow",
	"FPE_FLTRES":    "floating point inexact result",
	"FPE_FLTINV":    "floating point invalid operation",
	"FPE_FLTSUB":    "subscript out of range",
	"FPE_FLTUNK":    "undiagnosed floating-point exception",
	"FPE_CONDTRAP":  "trap on condition",
	"TRAP_BRKPT":    "process breakpoint",
	"TRAP_TRACE":    "process trace trap",
	"TRAP_BRANCH":   "process taken branch trap",
	"TRAP_HWBKPT":   "hardware breakpoint or watchpoint",
	"TRAP_UNK":      "undiagnosed trap",
	"TRAP_PERF":     "perf event with sigtrap=1",
}

// SigCodeMeaning explains an si_code name returned by SigCode ("" when
// unknown).
func SigCodeMeaning(name string) string { return sigCodeMeanings[name] }
