package model

import (
	"errors"
	"time"

	"github.com/crashbench/crashbench/core/mem"
)

// Reg is one register as captured, named as gdb and WinDbg print it
// ("rip", "eflags", "x29", "cpsr"). Registers wider than 64 bits (x87,
// vector) keep their bytes in Wide, little-endian, and Value is zero.
type Reg struct {
	Name  string
	Value uint64
	Size  int    // bytes: 4 for eip/eflags, 8 for rip, 16 for xmm0
	Wide  []byte // only for registers wider than 8 bytes
}

// Context is a thread's register state as captured.
type Context interface {
	Arch() Arch
	PC() uint64
	SP() uint64
	FP() uint64 // frame pointer (rbp, ebp, x29, r11/r7); 0 if the arch has none
	// Regs returns the registers in display order.
	Regs() []Reg
	// Reg returns one register by its lowercase name.
	Reg(name string) (uint64, bool)
}

// Thread is one thread of a process dump (or a CPU's context in a kernel
// dump).
type Thread struct {
	ID         uint64
	Name       string
	Context    Context // nil when the dump has no usable context for it
	StackStart uint64  // lowest captured stack address
	StackSize  uint64
	TEB        uint64 // TEB / TLS base where recorded
	Priority   int
	Suspend    int
}

// Module is a loaded (or unloaded) image: an executable, DLL, shared
// object or driver.
type Module struct {
	Base, Size uint64
	Path       string // as the dump records it (Windows or POSIX spelling)
	Version    string // "10.0.19041.1" from VS_FIXEDFILEINFO; "" when absent
	Time       time.Time
	Checksum   uint32
	CodeID     string // PE: TimeDateStamp%08X SizeOfImage%x; ELF: build id hex
	DebugFile  string // PDB name, .gnu_debuglink, or the file itself
	DebugID    string // Breakpad debug id: GUID+age (PDB 7.0) or build id derived
	BuildID    []byte // ELF NT_GNU_BUILD_ID bytes
	Unloaded   bool
}

// Name returns the module's file name without directory, in either
// spelling.
func (m Module) Name() string {
	p := m.Path
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}

// Contains reports whether addr lies in the module's image.
func (m Module) Contains(addr uint64) bool { return addr >= m.Base && addr-m.Base < m.Size }

// ThreadLister is implemented by targets with threads.
type ThreadLister interface {
	Threads() ([]Thread, error)
}

// ModuleLister is implemented by targets with a module list.
type ModuleLister interface {
	Modules() ([]Module, error)
}

// MemoryReader is implemented by targets that hold memory: the default
// virtual address space (process VA, or kernel VA for kernel dumps).
type MemoryReader interface {
	Memory() (mem.Space, error)
}

// ExceptionContext is implemented by targets that record the register
// state at the exception (minidump exception stream, kernel dump context
// record): the context !analyze and .ecxr start from.
type ExceptionContext interface {
	ExceptionContext() (Context, error)
}

// Handle is one open handle of a process (Windows HandleDataStream).
type Handle struct {
	Value         uint64
	Type          string // "File", "Event", "Key", ...
	Object        string // object name, "" when unnamed
	Attributes    uint32
	GrantedAccess uint32
	HandleCount   uint32
	PointerCount  uint32
}

// HandleLister is implemented by targets that record open handles.
type HandleLister interface {
	Handles() ([]Handle, error)
}

// ErrNotRecorded says the dump lacks what was asked for (a stream, a list)
// although its format could hold it; callers match it with errors.Is.
var ErrNotRecorded = errors.New("not recorded in this dump")

// ContextReader is implemented by targets that can decode a CPU context
// record stored in the dumped memory (the .cxr command).
type ContextReader interface {
	ContextAt(addr uint64) (Context, error)
}

// KernelProcess is one process of a kernel dump's active process list
// (EPROCESS), as `!process 0 0` lists it. Threads and Handles are -1 when
// the dump does not let them be counted without symbols.
type KernelProcess struct {
	PID, ParentPID uint64
	Name           string // EPROCESS.ImageFileName (15 bytes, truncated by Windows)
	DirBase        uint64 // DirectoryTableBase: the physical address of its page tables
	Address        uint64 // the EPROCESS address
	Threads        int
	Handles        int
}

// ProcessLister is implemented by targets that can list the processes of a
// kernel dump; it feeds the report's "processes" array.
type ProcessLister interface {
	Processes() ([]KernelProcess, error)
}
