// Package elfcoretest builds synthetic ELF process cores for tests, from the
// ELF gABI, the Linux kernel's struct elf_prstatus / elf_prpsinfo /
// siginfo_t layouts (include/uapi/linux/elfcore.h, asm-generic/siginfo.h)
// with each architecture's elf_gregset_t, and FreeBSD's prstatus_t /
// prpsinfo_t (sys/sys/procfs.h) with its struct reg.
// It imports nothing from package elfcore, so a layout mistake in the parser
// fails a test instead of agreeing with itself.
package elfcoretest

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Thread is one NT_PRSTATUS.
type Thread struct {
	TID    uint32
	Signal uint16
	// Regs fills pr_reg, one value per field in the kernel's order (see
	// Builder.GRegs for the fields' widths). Missing fields are zero.
	Regs []uint64
	// Notes are the thread's other register notes (NT_FPREGSET,
	// NT_X86_XSTATE, NT_ARM_TLS, ...; fpregs.go builds their payloads),
	// written right after its NT_PRSTATUS as FreeBSD and gdb's gcore do.
	Notes []Note
}

// GRegs returns the widths in bytes of pr_reg's fields for the core's
// machine, class and OS, written from the kernel headers:
//
//   - x86-64 and x32: struct user_regs_struct, 27 × 8 (x32 keeps it)
//   - i386: 17 × 4; arm64: struct user_pt_regs, 34 × 8
//   - arm: struct user_regs, 18 × 4
//   - powerpc: struct pt_regs padded to ELF_NGREG, 48 longs
//   - s390x: psw mask and addr, gprs[16] (8 bytes), acrs[16] (4),
//     orig_gpr2 (8); 31-bit s390: the same 35 fields, 4 bytes each
//   - riscv: struct user_regs_struct, 32 longs
//   - mips: ELF_NGREG 45, 8 bytes on n64 and n32, 4 on o32
//   - hppa: ELF_NGREG 80 longs; m68k: 20 longs; alpha: 33; sparc64: 36;
//     loongarch: struct user_pt_regs, 45
//   - FreeBSD amd64: struct __reg64 (15 × 8, then 4, 2, 2, 4, 2, 2, then
//     5 × 8); i386: struct __reg32, 19 × 4; arm64: struct reg, 33 × 8,
//     spsr (4) and 4 bytes of padding
//
// Other machines get 27 longs.
func (b *Builder) GRegs() []int {
	ws := b.ws()
	n := func(k, w int) []int {
		s := make([]int, k)
		for i := range s {
			s[i] = w
		}
		return s
	}
	if b.osabi == 9 {
		switch b.machine {
		case 62:
			return slices.Concat(n(15, 8), []int{4, 2, 2, 4, 2, 2}, n(5, 8))
		case 3:
			return n(19, 4)
		case 183:
			return slices.Concat(n(33, 8), []int{4, 4})
		}
	}
	switch b.machine {
	case 62:
		return n(27, 8)
	case 3:
		return n(17, 4)
	case 183:
		return n(34, 8)
	case 40:
		return n(18, 4)
	case 20, 21:
		return n(48, ws)
	case 22:
		if ws == 4 {
			return n(35, 4)
		}
		return slices.Concat(n(18, 8), n(16, 4), n(1, 8))
	case 243:
		return n(32, ws)
	case 8:
		if b.n32 {
			return n(45, 8)
		}
		return n(45, ws)
	case 15:
		return n(80, ws)
	case 4:
		return n(20, 4)
	case 0x9026:
		return n(33, 8)
	case 43:
		return n(36, 8)
	case 258:
		return n(45, 8)
	}
	return n(27, ws)
}

// gregs appends pr_reg, regs[i] in field i. A gregset with 8-byte fields
// starts 8-byte aligned (it is on every ABI here) and is padded to 8.
func (b *Builder) gregs(d *testasm.Section, regs []uint64) {
	fields := b.GRegs()
	wide := slices.Contains(fields, 8)
	if wide {
		d.Align(8)
	}
	for i, w := range fields {
		var v uint64
		if i < len(regs) {
			v = regs[i]
		}
		switch w {
		case 2:
			d.D16(uint16(v))
		default:
			d.DW(w, v)
		}
	}
	if wide {
		d.Align(8)
	}
}

// freebsdPRStatus returns a FreeBSD prstatus_t (sys/sys/procfs.h):
// pr_version 1, pr_statussz, pr_gregsetsz, pr_fpregsetsz (size_t),
// pr_osreldate, pr_cursig, pr_pid, then pr_reg (struct reg).
func (b *Builder) freebsdPRStatus(t Thread) []byte {
	ws := b.ws()
	greg := 0
	for _, w := range b.GRegs() {
		greg += w
	}
	d := testasm.New(b.order).D32(1).Align(ws)
	size := d.Size() + 3*ws + 12 + greg
	if ws == 8 {
		size += 4 // pr_reg is 8-byte aligned after pr_pid
	}
	d.DW(ws, uint64(size)).DW(ws, uint64(greg)).DW(ws, 512)
	d.D32(1400000).D32(uint32(t.Signal)).D32(t.TID)
	b.gregs(d, t.Regs)
	return d.MustBytes()
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
	n32      bool
	noteName string
	threads  []Thread
	psName   string
	psArgs   string
	pid      uint32
	siginfo  *[3]int64 // signo, code, addr
	files    []File
	auxv     []uint64 // type, value pairs
	segs     []Segment
	last     []Note // process-wide notes after all others (Note)
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

// FreeBSD makes a FreeBSD core: OSABI, note names, and FreeBSD's
// prstatus_t and prpsinfo_t (sys/sys/procfs.h) with the machine's struct
// reg as pr_reg.
func (b *Builder) FreeBSD() *Builder { b.osabi = 9; b.noteName = "FreeBSD"; return b }

// MIPSN32 makes a MIPS n32 core: ELFCLASS32 with e_flags 0, as the
// kernel writes it, but 64-bit pr_reg slots.
func (b *Builder) MIPSN32() *Builder {
	b.class64, b.machine, b.n32 = false, 8, true
	return b
}

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

// Auxv adds the auxiliary vector note, type and value pairs (AT_NULL is
// appended): NT_AUXV, an array of {long a_type; long a_val} (Linux
// fs/binfmt_elf.c fill_auxv_note), or on FreeBSD NT_PROCSTAT_AUXV (16), an
// int giving sizeof(Elf_Auxinfo) and then the array (sys/kern/imgact_elf.c
// note_procstat_auxv).
func (b *Builder) Auxv(pairs ...uint64) *Builder { b.auxv = append(b.auxv, pairs...); return b }

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
	// m68k aligns longs to 2 bytes.
	al := ws
	if b.machine == 4 {
		al = 2
	}
	for _, t := range b.threads {
		if b.osabi == 9 {
			b.note(n, 1, b.freebsdPRStatus(t))
			b.threadNotes(n, t)
			continue
		}
		// elf_prstatus: pr_info (3 ints), pr_cursig (short, padded to a long),
		// pr_sigpend, pr_sighold (longs), pr_pid, pr_ppid, pr_pgrp, pr_sid,
		// four timevals, then pr_reg and pr_fpvalid.
		d := testasm.New(b.order).D32(uint32(t.Signal)).D32(0).D32(0).D16(t.Signal).Align(al)
		d.DW(ws, 0).DW(ws, 0).D32(t.TID).D32(1).D32(t.TID).D32(t.TID)
		d.Repeat(0, 4*2*ws) // pr_utime, pr_stime, pr_cutime, pr_cstime
		b.gregs(d, t.Regs)
		d.D32(0).Align(al) // pr_fpvalid
		b.note(n, 1, d.MustBytes())
		b.threadNotes(n, t)
	}
	if b.osabi == 9 {
		// FreeBSD prpsinfo_t (sys/sys/procfs.h), version 2: pr_version,
		// pr_psinfosz (size_t), pr_fname[17], pr_psargs[81], pr_pid.
		d := testasm.New(b.order).D32(2).Align(ws).DW(ws, 0).String(b.psName, 17).String(b.psArgs, 81).Align(4).D32(b.pid)
		b.note(n, 3, d.MustBytes())
		if len(b.auxv) > 0 {
			d := testasm.New(b.order).D32(uint32(2 * ws)).Append(b.auxvDesc())
			b.note(n, 16, d.MustBytes())
		}
		return n
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
	if len(b.auxv) > 0 {
		b.note(n, 6, b.auxvDesc())
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

func (b *Builder) auxvDesc() []byte {
	ws := b.ws()
	d := testasm.New(b.order)
	for _, v := range b.auxv {
		d.DW(ws, v)
	}
	if len(b.auxv)%2 != 0 {
		d.DW(ws, 0)
	}
	return d.DW(ws, 0).DW(ws, 0).MustBytes()
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
	s.AppendSection(b.notes()).AppendSection(b.lastNotes())
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
		"vdso": func() *Builder {
			img, l := Image{BuildID: []byte{0xfd, 0xc3, 0xe4, 0xd4}, SOName: "linux-vdso.so.1",
				Funcs: []Func{{Name: "__vdso_time", Size: 0x20}, {Name: "__vdso_clock_gettime", Size: 0x40}}}.Bytes()
			regs := make([]uint64, 27)
			regs[16], regs[19] = 0x7fff00000000+l.Funcs[1]+4, 0x7ffff800 // rip, rsp
			return New().Threads(Thread{TID: 500, Signal: 11, Regs: regs}).Process("app", "/usr/bin/app", 500).
				Auxv(6, 4096, 33, 0x7fff00000000).
				MapFile(File{0x555555554000, 0x555555555000, 0, "/usr/bin/app"}).
				Load(Segment{Vaddr: 0x555555554000, Memsz: 0x1000, Flags: 5, Data: ELFImage(0, []byte{1, 2, 3, 4})}).
				Load(Segment{Vaddr: 0x7fff00000000, Memsz: l.Size, Flags: 5, Data: img}).
				Load(Segment{Vaddr: 0x7ffff000, Memsz: 0x1000, Flags: 6, Data: make([]byte, 0x1000)})
		},
		"i386": func() *Builder {
			return New().Class32().Machine(3).Process("a.out", "./a.out", 32306).Threads(Thread{TID: 32306, Signal: 11})
		},
		"s390x-be": func() *Builder {
			return New().BigEndian().Machine(22).Process("a.out", "./a.out", 1045).Threads(Thread{TID: 1045, Signal: 4})
		},
		"gcore": func() *Builder { return New().Threads(Thread{TID: 5669, Signal: 19}, Thread{TID: 5670, Signal: 19}) },
		// Register layouts other than x86-64's, as fuzz seeds.
		"freebsd-amd64": func() *Builder { return withRegs(New().FreeBSD()) },
		"mips-n32":      func() *Builder { return withRegs(New().MIPSN32()) },
		"hppa":          func() *Builder { return withRegs(New().Class32().BigEndian().Machine(15)) },
		"ppc64-be":      func() *Builder { return withRegs(New().BigEndian().Machine(21)) },
		// Floating-point, vector and TLS notes (fpregs.go).
		"amd64-xstate": AMD64XState,
		"arm64-fpsimd": ARM64FPSIMD,
	}
}

// withRegs gives b two threads whose pr_reg fields hold distinct values.
func withRegs(b *Builder) *Builder {
	regs := make([]uint64, len(b.GRegs()))
	for i := range regs {
		regs[i] = 0x1000 + 8*uint64(i)
	}
	return b.Threads(Thread{TID: 400, Signal: 11, Regs: regs}, Thread{TID: 401})
}
