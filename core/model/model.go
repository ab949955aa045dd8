package model

import (
	"fmt"
	"time"
)

// Format names the dump family, spelled as in the JSON report contract
// (../shared/spec/report-json.md).
type Format string

// The dump families Crashbench knows.
const (
	Minidump      Format = "minidump"       // Windows/Breakpad/Crashpad user-mode MDMP
	WindowsKernel Format = "windows-kernel" // PAGEDUMP / PAGEDU64
	ELFCore       Format = "elf-core"       // process core (Linux, FreeBSD)
	LinuxVMCore   Format = "linux-vmcore"   // /proc/vmcore ELF, makedumpfile
	LiME          Format = "lime"           // LiME physical-memory image
	FreeBSDVMCore Format = "freebsd-vmcore" // FreeBSD kernel minidump or ELF full dump
)

// OSFamily names an operating system family as in the report contract.
type OSFamily string

// Operating-system families.
const (
	Windows OSFamily = "windows"
	Linux   OSFamily = "linux"
	MacOS   OSFamily = "macos"
	IOS     OSFamily = "ios"
	Android OSFamily = "android"
	FreeBSD OSFamily = "freebsd"
	Solaris OSFamily = "solaris"
	Fuchsia OSFamily = "fuchsia"
)

// OS describes the system the dump was taken on.
type OS struct {
	Family  OSFamily
	Version string // "10.0.19041", "5.10.28"
	Build   string // "19041.1.amd64fre..." or a kernel's uname -v; service pack text
	Release string // Linux uname -r ("6.1.0-26-amd64")
}

// Arch names a CPU architecture with the spelling gdb and WinDbg users expect
// ("amd64", "x86", "arm64", "arm", "ppc64le", ...). The empty Arch means unknown.
type Arch string

// Architectures seen in dumps.
const (
	AMD64     Arch = "amd64"
	X86       Arch = "x86"
	ARM64     Arch = "arm64"
	ARM       Arch = "arm"
	PPC       Arch = "ppc"
	PPC64     Arch = "ppc64"
	PPC64LE   Arch = "ppc64le"
	S390      Arch = "s390"
	S390X     Arch = "s390x"
	MIPS      Arch = "mips"
	MIPS64    Arch = "mips64"
	RISCV32   Arch = "riscv32"
	RISCV64   Arch = "riscv64"
	SPARC     Arch = "sparc"
	SPARC64   Arch = "sparc64"
	M68K      Arch = "m68k"
	Alpha     Arch = "alpha"
	HPPA      Arch = "hppa"
	LoongArch Arch = "loongarch64"
	IA64      Arch = "ia64"
)

// CrashKind says what sort of event a dump records.
type CrashKind string

// Crash kinds, as in the report contract.
const (
	Exception CrashKind = "exception" // Windows SEH exception, Breakpad exception record
	BugCheck  CrashKind = "bugcheck"  // Windows stop code
	Signal    CrashKind = "signal"    // POSIX signal that killed a process
	Panic     CrashKind = "panic"     // kernel panic
	Oops      CrashKind = "oops"      // kernel oops without panic
	NoCrash   CrashKind = "none"      // live or requested snapshot
)

// Crash is the event recorded in the dump header or exception record.
type Crash struct {
	Kind       CrashKind
	Code       uint64
	Name       string   // "EXCEPTION_ACCESS_VIOLATION_WRITE", "SIGSEGV", "DRIVER_IRQL_NOT_LESS_OR_EQUAL"
	Address    *uint64  // faulting data address, or nil when the dump does not say
	PC         *uint64  // instruction address of the exception, when recorded
	Parameters []uint64 // exception information or bugcheck parameters
	ThreadID   *uint64
	Message    string // panic string, assertion text
}

// Process identifies the crashed process of a process dump.
type Process struct {
	PID         uint64
	Name        string
	CommandLine string
}

// Info is the summary a format package reads from a dump's headers: cheap to
// compute, so `crashbench info` and the workbench summary appear at once.
type Info struct {
	Format      Format
	Variant     string // "user", "full-memory", "triage", "kdump-compressed", ...
	Compression string // "zlib", "lzo", "snappy", "zstd" for compressed vmcores
	OS          OS
	Arch        Arch
	ABI         string // a 32-bit ABI on a 64-bit CPU ("x32", "n32"); "" otherwise
	CPUs        int
	Time        time.Time // when the dump was written (or the crash happened)
	Uptime      time.Duration
	Process     *Process
	Crash       *Crash
	Threads     int // count; -1 when unknown
	Modules     int // count; -1 when unknown
	Details     []Detail
}

// Detail is a format-specific header fact worth showing ("Dump type",
// "DirectoryTableBase") that has no place in the neutral fields.
type Detail struct {
	Key, Value string
}

// Severity ranks a Diagnostic.
type Severity uint8

// Severities.
const (
	Note Severity = iota // informational
	Warning
	Error
)

// Diagnostic reports recoverable damage or oddities found while reading.
type Diagnostic struct {
	Severity Severity
	Off      int64 // file offset the problem is at; -1 when not tied to one
	Msg      string
}

func (s Severity) String() string {
	switch s {
	case Note:
		return "note"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// Target is what every format package yields for an opened dump. It is a
// read-only view, safe for concurrent use.
type Target interface {
	// Info returns the header summary.
	Info() Info
	// Diagnostics returns the recoverable problems found so far.
	Diagnostics() []Diagnostic
	// Close releases what the format package opened.
	Close() error
}

// Range is a span of memory that a dump's headers say was captured, and where
// its bytes start in the file (-1 when they are not stored plainly, e.g.
// compressed pages).
type Range struct {
	Start, Size uint64
	FileOff     int64
	Physical    bool   // a physical-address range (kernel dumps, LiME) rather than virtual
	Prot        string // "r-x" where the dump records protection, else ""
	Label       string // what the range is, where the dump says ("run 3", a mapped file)
}

// RangeLister is implemented by targets whose headers list the memory they
// captured; `crashbench info --memory` prints it.
type RangeLister interface {
	Ranges() ([]Range, error)
}

// LogReader is implemented by targets that hold a kernel log (vmcores,
// Windows kernel dumps with a log buffer); `crashbench info --log` prints it.
type LogReader interface {
	Log() ([]string, error)
}
