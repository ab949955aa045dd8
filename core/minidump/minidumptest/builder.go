// Package minidumptest builds synthetic minidumps for tests, written from
// the MINIDUMP_* layouts in minidumpapiset.h and Breakpad's
// minidump_format.h. It deliberately imports nothing from package minidump,
// so a field that is wrong in the parser fails a test instead of agreeing
// with itself.
package minidumptest

import (
	"bytes"
	"encoding/binary"
	"io"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Processor architectures and platforms used by the builder (winnt.h,
// breakpad MD_OS_*).
const (
	X86   = 0
	ARM   = 5
	AMD64 = 9
	ARM64 = 12

	Windows = 2
	MacOS   = 0x8101
	Linux   = 0x8201
)

// SystemInfo describes MINIDUMP_SYSTEM_INFO.
type SystemInfo struct {
	Arch     uint16
	CPUs     uint8
	Major    uint32
	Minor    uint32
	Build    uint32
	Platform uint32
	CSD      string // service-pack string; "" writes no string
}

// Exception describes MINIDUMP_EXCEPTION_STREAM.
type Exception struct {
	ThreadID uint32
	Code     uint32
	Flags    uint32
	Address  uint64
	Params   []uint64
	Context  []byte // exception context; nil writes none
}

// Module describes MINIDUMP_MODULE.
type Module struct {
	Base      uint64
	Size      uint32
	Name      string
	Checksum  uint32
	Timestamp uint32
	// Version, when set, writes a VS_FIXEDFILEINFO with this file version
	// (a.b.c.d).
	Version *[4]uint16
	PDB     *PDB70 // CodeView RSDS record
	BuildID []byte // Breakpad's ELF CodeView record ('BpEL'); ignored with PDB
}

// PDB70 is a CodeView RSDS record: a GUID (Data1, Data2, Data3, Data4 as
// in the Windows struct), an age and the PDB path.
type PDB70 struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
	Age   uint32
	Name  string
}

// UnloadedModule describes MINIDUMP_UNLOADED_MODULE.
type UnloadedModule struct {
	Base      uint64
	Size      uint32
	Timestamp uint32
	Name      string
}

// Thread describes a MINIDUMP_THREAD with its stack and context.
type Thread struct {
	ID      uint32
	Name    string // written to a ThreadNamesStream when any thread has one
	TEB     uint64
	Stack   Memory // also added to the memory list
	Context []byte // from AMD64Context, X86Context or ARM64Context
}

// MemoryInfo describes MINIDUMP_MEMORY_INFO.
type MemoryInfo struct {
	Base, AllocationBase uint64
	AllocationProtect    uint32
	Size                 uint64
	State, Protect, Type uint32
}

// CrashpadInfo describes MinidumpCrashpadInfo with one module's
// annotations.
type CrashpadInfo struct {
	ReportID, ClientID [16]byte
	Simple             [][2]string
	ModuleIndex        uint32
	ModuleList         []string
	ModuleSimple       [][2]string
	Objects            []Annotation
}

// Annotation is a MinidumpAnnotation (type 1 = string).
type Annotation struct {
	Name  string
	Type  uint16
	Value []byte
}

// Memory describes one captured range.
type Memory struct {
	Start uint64
	Bytes []byte
}

type stream struct {
	typ  uint32
	body func(s *testasm.Section, dump *testasm.Section)
	raw  []byte
}

// Builder assembles a minidump. The zero-option dump (New(...).Bytes()) is a
// valid minidump with a SystemInfo stream and no others.
type Builder struct {
	order       testasm.Order
	timestamp   uint32
	version     uint32
	sys         *SystemInfo
	exc         *Exception
	threads     []uint32
	modules     []Module
	memory      []Memory
	memory64    bool
	pid         *uint32
	createTime  uint32
	raw         []stream
	countLie    int
	truncate    int
	linuxCmd    string
	linuxStatus string
	xthreads    []Thread
	unloaded    []UnloadedModule
	meminfo     []MemoryInfo
	crashpad    *CrashpadInfo
	text        []stream
}

// New returns a builder for a dump in the given byte order.
func New(order testasm.Order) *Builder {
	return &Builder{order: order, timestamp: 1_600_000_000, version: 0xa793,
		sys: &SystemInfo{Arch: AMD64, CPUs: 4, Major: 10, Build: 19041, Platform: Windows}, countLie: -1}
}

// Timestamp sets the header's TimeDateStamp.
func (b *Builder) Timestamp(t uint32) *Builder { b.timestamp = t; return b }

// Version sets the header's version word (Wine writes 0x0000a793).
func (b *Builder) Version(v uint32) *Builder { b.version = v; return b }

// SystemInfo replaces the system information; nil omits the stream.
func (b *Builder) SystemInfo(s *SystemInfo) *Builder { b.sys = s; return b }

// Exception adds an exception stream.
func (b *Builder) Exception(e Exception) *Builder { b.exc = &e; return b }

// Thread adds a thread with the given id (no context or stack).
func (b *Builder) Thread(id uint32) *Builder { b.threads = append(b.threads, id); return b }

// AddThread adds a thread with a context and a stack (the stack is added
// to the memory list too).
func (b *Builder) AddThread(t Thread) *Builder {
	b.xthreads = append(b.xthreads, t)
	if len(t.Stack.Bytes) > 0 {
		b.memory = append(b.memory, t.Stack)
	}
	return b
}

// Unloaded adds an entry to the UnloadedModuleListStream.
func (b *Builder) Unloaded(m UnloadedModule) *Builder { b.unloaded = append(b.unloaded, m); return b }

// MemoryInfo adds an entry to the MemoryInfoListStream.
func (b *Builder) MemoryInfo(m MemoryInfo) *Builder { b.meminfo = append(b.meminfo, m); return b }

// Crashpad adds a CrashpadInfoStream.
func (b *Builder) Crashpad(c CrashpadInfo) *Builder { b.crashpad = &c; return b }

// LinuxMaps adds Breakpad's /proc/PID/maps stream.
func (b *Builder) LinuxMaps(text string) *Builder {
	b.text = append(b.text, stream{typ: 0x47670009, raw: []byte(text)})
	return b
}

// LinuxEnviron adds Breakpad's environment stream (NUL-separated).
func (b *Builder) LinuxEnviron(vars ...string) *Builder {
	var s string
	for _, v := range vars {
		s += v + "\x00"
	}
	b.text = append(b.text, stream{typ: 0x47670007, raw: []byte(s)})
	return b
}

// LinuxAuxv adds Breakpad's auxv stream of 64-bit (type, value) pairs.
func (b *Builder) LinuxAuxv(pairs ...uint64) *Builder {
	s := testasm.New(b.order)
	for _, p := range pairs {
		s.D64(p)
	}
	b.text = append(b.text, stream{typ: 0x47670008, raw: s.MustBytes()})
	return b
}

// Module adds a module.
func (b *Builder) Module(m Module) *Builder { b.modules = append(b.modules, m); return b }

// Memory adds a captured range.
func (b *Builder) Memory(m Memory) *Builder { b.memory = append(b.memory, m); return b }

// FullMemory writes memory as a Memory64List instead of a MemoryList.
func (b *Builder) FullMemory() *Builder { b.memory64 = true; return b }

// MiscInfo adds a MINIDUMP_MISC_INFO with the process id and create time.
func (b *Builder) MiscInfo(pid, createTime uint32) *Builder {
	b.pid, b.createTime = &pid, createTime
	return b
}

// LinuxCmdLine adds Breakpad's command-line stream (args joined by NUL).
func (b *Builder) LinuxCmdLine(args ...string) *Builder {
	for _, a := range args {
		b.linuxCmd += a + "\x00"
	}
	return b
}

// LinuxProcStatus adds Breakpad's /proc/PID/status stream.
func (b *Builder) LinuxProcStatus(text string) *Builder { b.linuxStatus = text; return b }

// RawStream adds a stream with arbitrary bytes.
func (b *Builder) RawStream(typ uint32, data []byte) *Builder {
	b.raw = append(b.raw, stream{typ: typ, raw: data})
	return b
}

// CountOverride makes the header claim n streams whatever the directory holds.
func (b *Builder) CountOverride(n int) *Builder { b.countLie = n; return b }

// Truncate cuts the finished dump to n bytes.
func (b *Builder) Truncate(n int) *Builder { b.truncate = n; return b }

func (b *Builder) minidumpString(s *testasm.Section, str string) {
	u := utf16.Encode([]rune(str))
	s.D32(uint32(len(u) * 2))
	for _, c := range u {
		s.D16(c)
	}
	s.D16(0)
}

// Bytes lays the dump out: header, directory, then each stream, then the
// data streams refer to by RVA (strings, memory).
func (b *Builder) Bytes() ([]byte, error) {
	type entry struct {
		typ   uint32
		write func(body *testasm.Section)
	}
	var entries []entry
	var late []func(body *testasm.Section)
	add := func(typ uint32, write func(body *testasm.Section)) { entries = append(entries, entry{typ, write}) }

	if b.sys != nil {
		si := b.sys
		csd := testasm.NewLabel("csd")
		add(7, func(body *testasm.Section) {
			body.D16(si.Arch).D16(6).D16(0).D8(si.CPUs).D8(1)
			body.D32(si.Major).D32(si.Minor).D32(si.Build).D32(si.Platform)
			if si.CSD != "" {
				body.L32(csd)
				late = append(late, func(body *testasm.Section) { body.Align(4).Mark(csd); b.minidumpString(body, si.CSD) })
			} else {
				body.D32(0)
			}
			body.D16(0).D16(0).Repeat(0, 24)
		})
	}
	if b.exc != nil {
		e := b.exc
		add(6, func(body *testasm.Section) {
			body.D32(e.ThreadID).D32(0).D32(e.Code).D32(e.Flags).D64(0).D64(e.Address)
			body.D32(uint32(len(e.Params))).D32(0)
			for i := range 15 {
				var v uint64
				if i < len(e.Params) {
					v = e.Params[i]
				}
				body.D64(v)
			}
			if e.Context == nil {
				body.D32(0).D32(0) // no context
				return
			}
			ctx := testasm.NewLabel("exctx")
			body.D32(uint32(len(e.Context))).L32(ctx)
			late = append(late, func(body *testasm.Section) { body.Align(16).Mark(ctx).Append(e.Context) })
		})
	}
	stackRVAs := map[int]*testasm.Label{}
	if len(b.threads) > 0 || len(b.xthreads) > 0 {
		add(3, func(body *testasm.Section) {
			body.D32(uint32(len(b.threads) + len(b.xthreads)))
			for _, id := range b.threads {
				// MINIDUMP_THREAD: id, suspend, priority class, priority,
				// TEB, stack descriptor (start, size, rva), context location.
				body.D32(id).D32(0).D32(0).D32(0).D64(0).D64(0).D32(0).D32(0).D32(0).D32(0)
			}
			for i, t := range b.xthreads {
				body.D32(t.ID).D32(0).D32(0).D32(0).D64(t.TEB)
				if len(t.Stack.Bytes) > 0 {
					l := testasm.NewLabel("stack")
					stackRVAs[i] = l
					body.D64(t.Stack.Start).D32(uint32(len(t.Stack.Bytes))).L32(l)
				} else {
					body.D64(0).D32(0).D32(0)
				}
				if t.Context != nil {
					ctx := testasm.NewLabel("ctx")
					body.D32(uint32(len(t.Context))).L32(ctx)
					late = append(late, func(body *testasm.Section) { body.Align(16).Mark(ctx).Append(t.Context) })
				} else {
					body.D32(0).D32(0)
				}
			}
		})
	}
	named := false
	for _, t := range b.xthreads {
		named = named || t.Name != ""
	}
	if named {
		add(24, func(body *testasm.Section) {
			body.D32(uint32(len(b.xthreads)))
			for _, t := range b.xthreads {
				// MINIDUMP_THREAD_NAME: id, RVA64 of a MINIDUMP_STRING.
				name := testasm.NewLabel("tname")
				body.D32(t.ID).L64(name)
				late = append(late, func(body *testasm.Section) { body.Align(4).Mark(name); b.minidumpString(body, t.Name) })
			}
		})
	}
	if len(b.unloaded) > 0 {
		add(14, func(body *testasm.Section) {
			body.D32(12).D32(24).D32(uint32(len(b.unloaded)))
			for _, m := range b.unloaded {
				name := testasm.NewLabel("uname")
				body.D64(m.Base).D32(m.Size).D32(0).D32(m.Timestamp).L32(name)
				late = append(late, func(body *testasm.Section) { body.Align(4).Mark(name); b.minidumpString(body, m.Name) })
			}
		})
	}
	if len(b.meminfo) > 0 {
		add(16, func(body *testasm.Section) {
			body.D32(16).D32(48).D64(uint64(len(b.meminfo)))
			for _, m := range b.meminfo {
				body.D64(m.Base).D64(m.AllocationBase).D32(m.AllocationProtect).D32(0).
					D64(m.Size).D32(m.State).D32(m.Protect).D32(m.Type).D32(0)
			}
		})
	}
	if b.crashpad != nil {
		b.crashpadStream(add, &late)
	}
	if len(b.modules) > 0 {
		add(4, func(body *testasm.Section) {
			body.D32(uint32(len(b.modules)))
			for _, m := range b.modules {
				name := testasm.NewLabel("modname")
				body.D64(m.Base).D32(m.Size).D32(m.Checksum).D32(m.Timestamp).L32(name)
				if v := m.Version; v != nil {
					// VS_FIXEDFILEINFO: signature, struct version, file
					// version MS/LS, product version MS/LS, then 7 words.
					ms, ls := uint32(v[0])<<16|uint32(v[1]), uint32(v[2])<<16|uint32(v[3])
					body.D32(0xfeef04bd).D32(0x10000).D32(ms).D32(ls).D32(ms).D32(ls).Repeat(0, 28)
				} else {
					body.Repeat(0, 52)
				}
				var cv []byte
				switch {
				case m.PDB != nil:
					s := testasm.New(b.order).Append([]byte("RSDS")).D32(m.PDB.Data1).D16(m.PDB.Data2).D16(m.PDB.Data3).
						Append(m.PDB.Data4[:]).D32(m.PDB.Age).Append([]byte(m.PDB.Name)).D8(0)
					cv = s.MustBytes()
				case m.BuildID != nil:
					cv = append([]byte("LEpB"), m.BuildID...)
				}
				if cv != nil {
					l := testasm.NewLabel("cv")
					body.D32(uint32(len(cv))).L32(l)
					late = append(late, func(body *testasm.Section) { body.Align(4).Mark(l).Append(cv) })
				} else {
					body.D32(0).D32(0)
				}
				body.D32(0).D32(0).D64(0).D64(0)
				late = append(late, func(body *testasm.Section) { body.Align(4).Mark(name); b.minidumpString(body, m.Name) })
			}
		})
	}
	if len(b.memory) > 0 {
		if b.memory64 {
			base := testasm.NewLabel("base64")
			add(9, func(body *testasm.Section) {
				body.D64(uint64(len(b.memory))).L64(base)
				for _, m := range b.memory {
					body.D64(m.Start).D64(uint64(len(m.Bytes)))
				}
				late = append(late, func(body *testasm.Section) {
					body.Align(16).Mark(base)
					for _, m := range b.memory {
						for i, t := range b.xthreads {
							if l := stackRVAs[i]; l != nil && t.Stack.Start == m.Start && len(t.Stack.Bytes) == len(m.Bytes) {
								body.Mark(l)
							}
						}
						body.Append(m.Bytes)
					}
				})
			})
		} else {
			add(5, func(body *testasm.Section) {
				body.D32(uint32(len(b.memory)))
				for _, m := range b.memory {
					rva := testasm.NewLabel("memrva")
					for i, t := range b.xthreads {
						if l := stackRVAs[i]; l != nil && t.Stack.Start == m.Start && len(t.Stack.Bytes) == len(m.Bytes) {
							rva = l
						}
					}
					body.D64(m.Start).D32(uint32(len(m.Bytes))).L32(rva)
					late = append(late, func(body *testasm.Section) { body.Mark(rva).Append(m.Bytes) })
				}
			})
		}
	}
	if b.pid != nil {
		add(15, func(body *testasm.Section) { body.D32(24).D32(3).D32(*b.pid).D32(b.createTime).D32(1).D32(1) })
	}
	if b.linuxCmd != "" {
		add(0x47670006, func(body *testasm.Section) { body.Append([]byte(b.linuxCmd)) })
	}
	if b.linuxStatus != "" {
		add(0x47670004, func(body *testasm.Section) { body.Append([]byte(b.linuxStatus)) })
	}
	for _, r := range b.text {
		add(r.typ, func(body *testasm.Section) { body.Append(r.raw) })
	}
	for _, r := range b.raw {
		add(r.typ, func(body *testasm.Section) { body.Append(r.raw) })
	}

	s := testasm.New(b.order)
	count := uint32(len(entries))
	if b.countLie >= 0 {
		count = uint32(b.countLie)
	}
	s.D32(0x504d444d).D32(b.version).D32(count).D32(32).D32(0).D32(b.timestamp).D64(0)
	rvas := make([]*testasm.Label, len(entries))
	sizes := make([]*testasm.Label, len(entries))
	for i, e := range entries {
		rvas[i], sizes[i] = testasm.NewLabel("rva"), testasm.NewLabel("size")
		s.D32(e.typ).L32(sizes[i]).L32(rvas[i])
	}
	for i, e := range entries {
		s.Align(4).Mark(rvas[i])
		start := s.Size()
		e.write(s)
		sizes[i].Set(uint64(s.Size() - start))
	}
	for _, f := range late {
		f(s)
	}
	res, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	if b.truncate > 0 && b.truncate < len(res) {
		res = res[:b.truncate]
	}
	return res, nil
}

// ReaderAt returns the dump as an io.ReaderAt and its size.
func (b *Builder) ReaderAt() (io.ReaderAt, int64, error) {
	d, err := b.Bytes()
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(d), int64(len(d)), nil
}

// LE and BE are shorthand for the two byte orders.
var (
	LE = binary.LittleEndian
	BE = binary.BigEndian
)

// Scenarios returns named dumps shared by parser tests, goldens and fuzz
// seeds.
func Scenarios() map[string]func() *Builder {
	return map[string]func() *Builder{
		"minimal": func() *Builder { return New(LE) },
		"amd64-av-write": func() *Builder {
			return New(LE).Thread(0x1234).Thread(0x1238).
				Module(Module{Base: 0x7ff6_0000_0000, Size: 0x10000, Name: `C:\app\app.exe`}).
				Module(Module{Base: 0x7ffd_0000_0000, Size: 0x200000, Name: `C:\Windows\System32\ntdll.dll`}).
				Exception(Exception{ThreadID: 0x1234, Code: 0xc0000005, Address: 0x7ff6_0000_1010, Params: []uint64{1, 0x45}}).
				MiscInfo(4242, 1_599_999_000).
				Memory(Memory{Start: 0x1000, Bytes: bytes.Repeat([]byte{0xcc}, 64)})
		},
		"x86-sign-extended": func() *Builder {
			return New(LE).SystemInfo(&SystemInfo{Arch: X86, CPUs: 1, Major: 5, Minor: 1, Build: 2600, Platform: Windows, CSD: "Service Pack 2"}).
				Exception(Exception{ThreadID: 1, Code: 0xc0000005, Address: 0xffffffff_0040429e, Params: []uint64{1, 0xffffffff_00000045}})
		},
		"linux-sigsegv": func() *Builder {
			return New(LE).SystemInfo(&SystemInfo{Arch: AMD64, CPUs: 2, Platform: Linux, CSD: "Linux 6.1.0-26-amd64 #1 SMP Debian x86_64"}).
				Thread(77).Module(Module{Base: 0x400000, Size: 0x1000, Name: "/usr/bin/crash"}).
				Exception(Exception{ThreadID: 77, Code: 11, Flags: 1, Address: 0x10}).
				LinuxCmdLine("/usr/bin/crash", "--now").LinuxProcStatus("Name:\tcrash\nPid:\t77\n")
		},
		"full-memory": func() *Builder {
			return New(LE).FullMemory().Memory(Memory{Start: 0x10000, Bytes: make([]byte, 4096)}).
				Memory(Memory{Start: 0x20000, Bytes: bytes.Repeat([]byte{1}, 4096)})
		},
		"amd64-threads-modules": func() *Builder {
			stack := Memory{Start: 0x14_0000, Bytes: append(bytes.Repeat([]byte{0}, 8), 0x10, 0x10, 0, 0, 0xf6, 0x7f, 0, 0)}
			ctx := AMD64Context(AMD64Regs{Rax: 0x45, Rbx: 1, Rcx: 2, Rdx: 3, Rsi: 4, Rdi: 5, Rbp: 0x14_0008, Rsp: 0x14_0000,
				R8: 8, R15: 15, Rip: 0x7ff6_0000_1010, EFlags: 0x10246})
			return New(LE).
				AddThread(Thread{ID: 0x1234, Name: "main thread", TEB: 0x7ff0_0000_0000, Stack: stack, Context: ctx}).
				AddThread(Thread{ID: 0x1238, Name: "worker", Context: AMD64Context(AMD64Regs{Rip: 0x7ffd_0000_2000, Rsp: 0x20_0000})}).
				Module(Module{Base: 0x7ff6_0000_0000, Size: 0x10000, Name: `C:\app\app.exe`, Timestamp: 0x45d35f6c, Checksum: 0x1234,
					Version: &[4]uint16{1, 2, 3, 4},
					PDB:     &PDB70{Data1: 0x5a9832e5, Data2: 0x2872, Data3: 0x41c1, Data4: [8]byte{0x83, 0x8e, 0xd9, 0x89, 0x14, 0xe9, 0xb7, 0xff}, Age: 0x1a, Name: `C:\app\app.pdb`}}).
				Module(Module{Base: 0x7ffd_0000_0000, Size: 0x200000, Name: `C:\Windows\System32\ntdll.dll`}).
				Unloaded(UnloadedModule{Base: 0x7ffc_0000_0000, Size: 0x3000, Timestamp: 0x5000_0000, Name: `C:\gone.dll`}).
				MemoryInfo(MemoryInfo{Base: 0x14_0000, AllocationBase: 0x10_0000, AllocationProtect: 4, Size: 0x1000, State: 0x1000, Protect: 4, Type: 0x20000}).
				Exception(Exception{ThreadID: 0x1234, Code: 0xc0000005, Address: 0x7ff6_0000_1010, Params: []uint64{1, 0x45}, Context: ctx}).
				MiscInfo(4242, 1_599_999_000)
		},
		// sample is the dump `make run` opens (testdata/sample): a null-class
		// write in app.exe with a frame-pointer chain through main,
		// BaseThreadInitThunk and RtlUserThreadStart, so the workbench has
		// a stack to show; testdata/sample/symbols names app.exe's frames.
		"sample": func() *Builder {
			const app, k32, ntdll = 0x7ff6_0000_0000, 0x7ffd_0000_0000, 0x7ffd_1000_0000
			stack := make([]byte, 0x100)
			le := func(off int, v uint64) { LE.PutUint64(stack[off:], v) }
			le(0x20, 0x14_0040) // CrashFunction's frame record: caller's rbp, return into main
			le(0x28, app+0x2046)
			le(0x40, 0x14_0060) // main's record: return into BaseThreadInitThunk
			le(0x48, k32+0x1744d)
			le(0x60, 0) // outermost record: return into RtlUserThreadStart
			le(0x68, ntdll+0x5485b)
			ctx := AMD64Context(AMD64Regs{Rax: 0, Rcx: 0x45, Rbp: 0x14_0020, Rsp: 0x14_0000, Rip: app + 0x1018, EFlags: 0x10246})
			return New(LE).
				AddThread(Thread{ID: 0x1234, Name: "main", TEB: 0x7ff0_0000_0000, Stack: Memory{Start: 0x14_0000, Bytes: stack}, Context: ctx}).
				AddThread(Thread{ID: 0x1238, Name: "worker", Context: AMD64Context(AMD64Regs{Rip: ntdll + 0x9d3c4, Rsp: 0x20_0000})}).
				Module(Module{Base: app, Size: 0x10000, Name: `C:\app\app.exe`, Timestamp: 0x45d35f6c, Version: &[4]uint16{1, 2, 3, 4},
					PDB: &PDB70{Data1: 0x5a9832e5, Data2: 0x2872, Data3: 0x41c1, Data4: [8]byte{0x83, 0x8e, 0xd9, 0x89, 0x14, 0xe9, 0xb7, 0xff}, Age: 1, Name: `C:\app\app.pdb`}}).
				Module(Module{Base: k32, Size: 0xb0000, Name: `C:\Windows\System32\kernel32.dll`}).
				Module(Module{Base: ntdll, Size: 0x200000, Name: `C:\Windows\System32\ntdll.dll`}).
				Exception(Exception{ThreadID: 0x1234, Code: 0xc0000005, Address: app + 0x1018, Params: []uint64{1, 0x45}, Context: ctx}).
				MiscInfo(4242, 1_599_999_000)
		},
		"x86-threads": func() *Builder {
			return New(LE).SystemInfo(&SystemInfo{Arch: X86, CPUs: 1, Major: 10, Build: 19041, Platform: Windows}).
				AddThread(Thread{ID: 7, Stack: Memory{Start: 0x12_f000, Bytes: []byte{0x9e, 0x42, 0x40, 0, 0, 0, 0, 0}},
					Context: X86Context(X86Regs{Eax: 0x45, Ebp: 0x12_f004, Esp: 0x12_f000, Eip: 0x40429e, EFlags: 0x246})})
		},
		"arm64-threads": func() *Builder {
			var x [31]uint64
			for i := range x {
				x[i] = uint64(i) * 0x100
			}
			return New(LE).SystemInfo(&SystemInfo{Arch: ARM64, CPUs: 8, Major: 10, Build: 22621, Platform: Windows}).
				AddThread(Thread{ID: 9, Context: ARM64Context(x, 0x7fff_0000, 0x1_4000_1000, 0x60000000)})
		},
		"amd64-cet": func() *Builder {
			return New(LE).AddThread(Thread{ID: 1, Context: AMD64Context(AMD64Regs{Rip: 0x1000, Rsp: 0x2000, SSP: 0xcbc8_3fef_c8})})
		},
		"linux-breakpad-streams": func() *Builder {
			return New(LE).SystemInfo(&SystemInfo{Arch: AMD64, CPUs: 4, Platform: Linux, CSD: "Linux 4.9.60-linuxkit-aufs #1 SMP x86_64"}).
				Module(Module{Base: 0x400000, Size: 0x1a000, Name: "/bin/crash",
					BuildID: []byte{0xf1, 0xc3, 0xbc, 0xc0, 0x27, 0x98, 0x65, 0xfe, 0x30, 0x58, 0x40, 0x4b, 0x28, 0x31, 0xd9, 0xe6, 0x41, 0x35, 0x38, 0x6c}}).
				LinuxMaps("00400000-0041a000 r-xp 00000000 08:01 123 /bin/crash\n7ffc0000-7ffc1000 rw-p 00000000 00:00 0 [stack]\n").
				LinuxEnviron("PATH=/bin", "HOME=/root").LinuxAuxv(6, 4096, 0, 0).
				LinuxCmdLine("/bin/crash").LinuxProcStatus("Name:\tcrash\nPid:\t99\n")
		},
		"crashpad-annotations": func() *Builder {
			return New(LE).SystemInfo(&SystemInfo{Arch: AMD64, CPUs: 4, Major: 10, Minor: 15, Build: 7, Platform: MacOS}).
				Module(Module{Base: 0x1000, Size: 0x1000, Name: "/usr/lib/libsystem_c.dylib"}).
				Crashpad(CrashpadInfo{ReportID: [16]byte{1, 2, 3}, ClientID: [16]byte{4, 5, 6}, Simple: [][2]string{{"hello", "world"}},
					ModuleIndex: 0, ModuleList: []string{"abort() called"}, ModuleSimple: [][2]string{{"k", "v"}},
					Objects: []Annotation{{Name: "exceptionReason", Type: 1, Value: []byte("boom")}}})
		},
		"big-endian": func() *Builder {
			return New(BE).SystemInfo(&SystemInfo{Arch: 3, CPUs: 1, Major: 10, Minor: 5, Build: 8, Platform: MacOS}).
				Exception(Exception{ThreadID: 5, Code: 1, Flags: 1, Address: 0x45})
		},
	}
}
