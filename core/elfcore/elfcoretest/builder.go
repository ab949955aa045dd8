// Package elfcoretest builds synthetic ELF process cores for tests, from the
// ELF gABI and the Linux kernel's struct elf_prstatus / elf_prpsinfo /
// siginfo_t layouts (include/uapi/linux/elfcore.h, asm-generic/siginfo.h).
// It imports nothing from package elfcore, so a layout mistake in the parser
// fails a test instead of agreeing with itself.
package elfcoretest

import (
	"bytes"
	"encoding/binary"
	"io"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Thread is one NT_PRSTATUS.
type Thread struct {
	TID    uint32
	Signal uint16
	// Regs fills pr_reg (elf_gregset_t), one long per slot in the kernel's
	// order: struct user_regs_struct on x86-64 (r15 r14 r13 r12 rbp rbx r11
	// r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags rsp ss fs_base
	// gs_base ds es fs gs), i386 (ebx ecx edx esi edi ebp eax xds xes xfs
	// xgs orig_eax eip xcs eflags esp xss), struct user_pt_regs on arm64
	// (x0..x30 sp pc pstate). Missing slots are zero.
	Regs []uint64
}

// NGReg returns ELF_NGREG, the number of longs in elf_gregset_t, for an
// e_machine: 27 on x86-64, 17 on i386, 34 on arm64; 27 otherwise.
func NGReg(machine uint16) int {
	switch machine {
	case 3:
		return 17
	case 183:
		return 34
	}
	return 27
}

// Segment is one PT_LOAD; Data may be shorter than Memsz (or nil).
type Segment struct {
	Vaddr uint64
	Memsz uint64
	Flags uint32
	Data  []byte
}

// File is one NT_FILE mapping.
type File struct {
	Start, End, Offset uint64
	Name               string
}

// Builder assembles a core. New(...).Bytes() is a minimal valid x86-64 core
// with one thread.
type Builder struct {
	order    testasm.Order
	class64  bool
	machine  uint16
	osabi    byte
	noteName string
	threads  []Thread
	psName   string
	psArgs   string
	pid      uint32
	siginfo  *[3]int64 // signo, code, addr
	files    []File
	segs     []Segment
	truncate int
}

// New returns a builder for a 64-bit little-endian x86-64 core.
func New() *Builder {
	return &Builder{order: binary.LittleEndian, class64: true, machine: 62, noteName: "CORE",
		threads: []Thread{{TID: 100, Signal: 11}}, psName: "app", psArgs: "./app", pid: 100}
}

// Class32 makes a 32-bit core (i386 layouts: 16-bit uids in prpsinfo).
func (b *Builder) Class32() *Builder { b.class64 = false; return b }

// BigEndian makes a big-endian core.
func (b *Builder) BigEndian() *Builder { b.order = binary.BigEndian; return b }

// Machine sets e_machine.
func (b *Builder) Machine(m uint16) *Builder { b.machine = m; return b }

// FreeBSD marks the core as FreeBSD's (OSABI and note names); the note
// layouts stay Linux's, which is enough for detection tests.
func (b *Builder) FreeBSD() *Builder { b.osabi = 9; b.noteName = "FreeBSD"; return b }

// Threads replaces the thread list.
func (b *Builder) Threads(ts ...Thread) *Builder { b.threads = ts; return b }

// Process sets NT_PRPSINFO's name, arguments and pid.
func (b *Builder) Process(name, args string, pid uint32) *Builder {
	b.psName, b.psArgs, b.pid = name, args, pid
	return b
}

// SigInfo adds NT_SIGINFO.
func (b *Builder) SigInfo(signo, code int32, addr uint64) *Builder {
	b.siginfo = &[3]int64{int64(signo), int64(code), int64(addr)}
	return b
}

// MapFile adds an NT_FILE entry.
func (b *Builder) MapFile(f File) *Builder { b.files = append(b.files, f); return b }

// Load adds a PT_LOAD.
func (b *Builder) Load(s Segment) *Builder { b.segs = append(b.segs, s); return b }

// Truncate cuts the finished core to n bytes.
func (b *Builder) Truncate(n int) *Builder { b.truncate = n; return b }

func (b *Builder) ws() int {
	if b.class64 {
		return 8
	}
	return 4
}

func (b *Builder) note(s *testasm.Section, typ uint32, desc []byte) {
	s.D32(uint32(len(b.noteName) + 1)).D32(uint32(len(desc))).D32(typ)
	s.String(b.noteName, len(b.noteName)+1).Align(4).Append(desc).Align(4)
}

func (b *Builder) notes() *testasm.Section {
	ws := b.ws()
	n := testasm.New(b.order)
	for _, t := range b.threads {
		// elf_prstatus: pr_info (3 ints), pr_cursig (short, padded to a long),
		// pr_sigpend, pr_sighold (longs), pr_pid, pr_ppid, pr_pgrp, pr_sid,
		// four timevals, then registers (left zero here).
		d := testasm.New(b.order).D32(uint32(t.Signal)).D32(0).D32(0).D16(t.Signal).Align(ws)
		d.DW(ws, 0).DW(ws, 0).D32(t.TID).D32(1).D32(t.TID).D32(t.TID)
		d.Repeat(0, 4*2*ws) // pr_utime, pr_stime, pr_cutime, pr_cstime
		for i := range max(NGReg(b.machine), len(t.Regs)) {
			var v uint64
			if i < len(t.Regs) {
				v = t.Regs[i]
			}
			d.DW(ws, v)
		}
		d.D32(0).Align(ws) // pr_fpvalid
		b.note(n, 1, d.MustBytes())
	}
	// elf_prpsinfo: state, sname, zomb, nice, flag (long), uid, gid, pid,
	// ppid, pgrp, sid, fname[16], psargs[80]. i386 uses 16-bit uids.
	d := testasm.New(b.order).D8(0).D8('R').D8(0).D8(0)
	if b.class64 {
		d.D32(0).D64(0).D32(0).D32(0)
	} else {
		d.D32(0).D16(0).D16(0)
	}
	d.D32(b.pid).D32(1).D32(b.pid).D32(b.pid).String(b.psName, 16).String(b.psArgs, 80)
	b.note(n, 3, d.MustBytes())
	if b.siginfo != nil {
		si := testasm.New(b.order).D32(uint32(b.siginfo[0])).D32(0).D32(uint32(b.siginfo[1])).Align(ws)
		si.DW(ws, uint64(b.siginfo[2])).PadTo(128)
		b.note(n, 0x53494749, si.MustBytes())
	}
	if len(b.files) > 0 {
		f := testasm.New(b.order).DW(ws, uint64(len(b.files))).DW(ws, 4096)
		for _, m := range b.files {
			f.DW(ws, m.Start).DW(ws, m.End).DW(ws, m.Offset)
		}
		for _, m := range b.files {
			f.Append(append([]byte(m.Name), 0))
		}
		b.note(n, 0x46494c45, f.MustBytes())
	}
	return n
}

// Bytes lays the core out: ELF header, program headers, notes, segments.
func (b *Builder) Bytes() ([]byte, error) {
	ws := b.ws()
	data := byte(1)
	if b.order == binary.BigEndian {
		data = 2
	}
	class := byte(1)
	ehsize, phentsize := 52, 32
	if b.class64 {
		class, ehsize, phentsize = 2, 64, 56
	}
	s := testasm.New(b.order).Append([]byte{0x7f, 'E', 'L', 'F', class, data, 1, b.osabi}).Repeat(0, 8)
	phoff := testasm.NewLabel("phoff")
	s.D16(4).D16(b.machine).D32(1).DW(ws, 0).LW(ws, phoff).DW(ws, 0).D32(0)
	s.D16(uint16(ehsize)).D16(uint16(phentsize)).D16(uint16(1 + len(b.segs))).D16(0).D16(0).D16(0)
	s.Mark(phoff)
	noteOff, noteSize := testasm.NewLabel("noteoff"), testasm.NewLabel("notesize")
	segOffs := make([]*testasm.Label, len(b.segs))
	phdr := func(typ, flags uint32, off *testasm.Label, vaddr uint64, filesz *testasm.Label, filesz64, memsz uint64) {
		if b.class64 {
			s.D32(typ).D32(flags).L64(off).D64(vaddr).D64(0)
			if filesz != nil {
				s.L64(filesz)
			} else {
				s.D64(filesz64)
			}
			s.D64(memsz).D64(4096)
		} else {
			s.D32(typ).L32(off).D32(uint32(vaddr)).D32(0)
			if filesz != nil {
				s.L32(filesz)
			} else {
				s.D32(uint32(filesz64))
			}
			s.D32(uint32(memsz)).D32(flags).D32(4096)
		}
	}
	phdr(4, 0, noteOff, 0, noteSize, 0, 0)
	for i, seg := range b.segs {
		segOffs[i] = testasm.NewLabel("seg")
		phdr(1, seg.Flags, segOffs[i], seg.Vaddr, nil, uint64(len(seg.Data)), seg.Memsz)
	}
	s.Mark(noteOff)
	start := s.Size()
	s.AppendSection(b.notes())
	noteSize.Set(uint64(s.Size() - start))
	for i, seg := range b.segs {
		s.Align(16).Mark(segOffs[i]).Append(seg.Data)
	}
	out, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	if b.truncate > 0 && b.truncate < len(out) {
		out = out[:b.truncate]
	}
	return out, nil
}

// ELFImage returns the first bytes of a mapped ELF file as a core holds
// them (the gABI's ELF header, program headers, and one PT_NOTE holding an
// NT_GNU_BUILD_ID note named "GNU"), for a 64-bit little-endian image whose
// first PT_LOAD has p_vaddr vaddr and p_offset 0. The note is at file
// offset and p_vaddr offset 0x100 from the image's start.
func ELFImage(vaddr uint64, buildID []byte) []byte {
	s := testasm.New(binary.LittleEndian).Append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0}).Repeat(0, 8)
	// e_type ET_DYN, e_machine x86-64, e_version, e_entry, e_phoff 64,
	// e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum 2, e_shentsize,
	// e_shnum, e_shstrndx.
	s.D16(3).D16(62).D32(1).D64(0).D64(64).D64(0).D32(0).D16(64).D16(56).D16(2).D16(0).D16(0).D16(0)
	noteSize := uint64(16 + len(buildID))
	// PT_LOAD: p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align.
	s.D32(1).D32(5).D64(0).D64(vaddr).D64(vaddr).D64(0x1000).D64(0x1000).D64(0x1000)
	// PT_NOTE
	s.D32(4).D32(4).D64(0x100).D64(vaddr + 0x100).D64(vaddr + 0x100).D64(noteSize).D64(noteSize).D64(4)
	s.PadTo(0x100)
	s.D32(4).D32(uint32(len(buildID))).D32(3).Append([]byte("GNU\x00")).Append(buildID).Align(4)
	return s.MustBytes()
}

// ReaderAt returns the core as an io.ReaderAt and its size.
func (b *Builder) ReaderAt() (io.ReaderAt, int64, error) {
	d, err := b.Bytes()
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(d), int64(len(d)), nil
}

// Scenarios returns named cores shared by tests and fuzz seeds.
func Scenarios() map[string]func() *Builder {
	return map[string]func() *Builder{
		"minimal": New,
		"sigsegv-threads": func() *Builder {
			return New().Threads(Thread{TID: 200, Signal: 11}, Thread{TID: 201}, Thread{TID: 202}).
				Process("crashc", "./crashc --go", 200).SigInfo(11, 1, 0x10).
				MapFile(File{0x400000, 0x401000, 0, "/usr/bin/crashc"}).
				MapFile(File{0x401000, 0x402000, 1, "/usr/bin/crashc"}).
				MapFile(File{0x7f0000000000, 0x7f0000100000, 0, "/lib/libc.so.6"}).
				Load(Segment{Vaddr: 0x400000, Memsz: 0x1000, Flags: 5, Data: bytes.Repeat([]byte{0x90}, 0x1000)}).
				Load(Segment{Vaddr: 0x7ffff000, Memsz: 0x2000, Flags: 6})
		},
		"modules": func() *Builder {
			regs := make([]uint64, 27)
			for i := range regs {
				regs[i] = 0x1000 + uint64(i)
			}
			return New().Threads(Thread{TID: 300, Signal: 11, Regs: regs}, Thread{TID: 301}).
				Process("app", "/usr/bin/app", 300).SigInfo(11, 1, 0).
				MapFile(File{0x555555554000, 0x555555555000, 0, "/usr/bin/app"}).
				MapFile(File{0x555555555000, 0x555555557000, 1, "/usr/bin/app"}).
				MapFile(File{0x555555557000, 0x555555558000, 3, "/usr/bin/app"}).
				MapFile(File{0x7f0000001000, 0x7f0000003000, 1, "/lib/libz.so.1"}).
				MapFile(File{0x7f0000000000, 0x7f0000001000, 0, "/lib/libz.so.1"}).
				MapFile(File{0x7f1000002000, 0x7f1000003000, 2, "/lib/libnozero.so"}).
				MapFile(File{0x7f1000001000, 0x7f1000002000, 3, "/lib/libnozero.so"}).
				MapFile(File{0x7f2000000000, 0x7f2000001000, 5, "/lib/weird.so"}).
				MapFile(File{0x7f2000001000, 0x7f2000002000, 0, "/lib/weird.so"}).
				MapFile(File{0x7fff00000000, 0x7fff00002000, 0, "[vdso]"}).
				Load(Segment{Vaddr: 0x555555554000, Memsz: 0x1000, Flags: 4, Data: ELFImage(0, []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})}).
				Load(Segment{Vaddr: 0x7f0000000000, Memsz: 0x1000, Flags: 4, Data: ELFImage(0, []byte{0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89})}).
				Load(Segment{Vaddr: 0x7ffff000, Memsz: 0x2000, Flags: 6})
		},
		"i386": func() *Builder {
			return New().Class32().Machine(3).Process("a.out", "./a.out", 32306).Threads(Thread{TID: 32306, Signal: 11})
		},
		"s390x-be": func() *Builder {
			return New().BigEndian().Machine(22).Process("a.out", "./a.out", 1045).Threads(Thread{TID: 1045, Signal: 4})
		},
		"gcore": func() *Builder { return New().Threads(Thread{TID: 5669, Signal: 19}, Thread{TID: 5670, Signal: 19}) },
	}
}
