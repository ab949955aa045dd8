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
}

// Module describes MINIDUMP_MODULE.
type Module struct {
	Base uint64
	Size uint32
	Name string
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
			body.D32(0).D32(0) // no context
		})
	}
	if len(b.threads) > 0 {
		add(3, func(body *testasm.Section) {
			body.D32(uint32(len(b.threads)))
			for _, id := range b.threads {
				// MINIDUMP_THREAD: id, suspend, priority class, priority,
				// TEB, stack descriptor (start, size, rva), context location.
				body.D32(id).D32(0).D32(0).D32(0).D64(0).D64(0).D32(0).D32(0).D32(0).D32(0)
			}
		})
	}
	if len(b.modules) > 0 {
		add(4, func(body *testasm.Section) {
			body.D32(uint32(len(b.modules)))
			for _, m := range b.modules {
				name := testasm.NewLabel("modname")
				body.D64(m.Base).D32(m.Size).D32(0).D32(0).L32(name)
				body.Repeat(0, 52) // VS_FIXEDFILEINFO
				body.D32(0).D32(0).D32(0).D32(0).D64(0).D64(0)
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
						body.Append(m.Bytes)
					}
				})
			})
		} else {
			add(5, func(body *testasm.Section) {
				body.D32(uint32(len(b.memory)))
				for _, m := range b.memory {
					rva := testasm.NewLabel("memrva")
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
		"big-endian": func() *Builder {
			return New(BE).SystemInfo(&SystemInfo{Arch: 3, CPUs: 1, Major: 10, Minor: 5, Build: 8, Platform: MacOS}).
				Exception(Exception{ThreadID: 5, Code: 1, Flags: 1, Address: 0x45})
		},
	}
}
