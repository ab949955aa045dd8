package vmcoretest

import (
	"bytes"
	"encoding/binary"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// ELF constants (System V gABI; include/uapi/linux/elf.h).
const (
	ET_EXEC = 2
	ET_CORE = 4

	PT_LOAD = 1
	PT_NOTE = 4

	NT_PRSTATUS = 1
	NT_PRPSINFO = 3
	NT_AUXV     = 6
	NT_FILE     = 0x46494c45

	EM_386     = 3
	EM_PPC64   = 21
	EM_S390    = 22
	EM_ARM     = 40
	EM_X86_64  = 62
	EM_AARCH64 = 183
	EM_RISCV   = 243
)

// Load is one PT_LOAD segment: Data is stored in the file (p_filesz);
// Memsz, when larger, adds memory that is not.
type Load struct {
	Vaddr, Paddr uint64
	Data         []byte
	Memsz        uint64
}

// Note is one ELF note.
type Note struct {
	Name string
	Type uint32
	Desc []byte
}

// ELF builds an ELF /proc/vmcore: an ELF header, one PT_NOTE followed by
// PT_LOADs, the notes (NT_PRSTATUS "CORE" per CPU, then "VMCOREINFO"), and
// each segment's data.
type ELF struct {
	order      testasm.Order
	class      int
	machine    uint16
	etype      uint16
	cpus       int
	vmcoreinfo *VMCOREINFO
	qemu       bool
	extra      []Note
	loads      []Load

	truncate     int
	phnum        int // -1: honest
	noteFilesz   int64
	loadFileOffs map[int]uint64
}

// NewELF returns the default ELF vmcore: ELFCLASS64 EM_X86_64 in the given
// byte order, two CPUs, DefaultVMCOREINFO, and two PT_LOADs (one page of
// kernel text at 0xffffffff81000000 → 16 MiB, one page of the direct map at
// 0xffff888000000000 → 0).
func NewELF(order testasm.Order) *ELF {
	v := DefaultVMCOREINFO()
	return &ELF{
		order:      order,
		class:      64,
		machine:    EM_X86_64,
		etype:      ET_CORE,
		cpus:       DefaultCPUs,
		vmcoreinfo: &v,
		loads: []Load{
			{Vaddr: 0xffffffff81000000, Paddr: 0x1000000, Data: pattern(0x1000, 1)},
			{Vaddr: 0xffff888000000000, Paddr: 0, Data: pattern(0x1000, 2)},
		},
		truncate:   -1,
		phnum:      -1,
		noteFilesz: -1,
	}
}

func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

// Class sets ELFCLASS32 (32) or ELFCLASS64 (64).
func (e *ELF) Class(bits int) *ELF { e.class = bits; return e }

// Machine sets e_machine.
func (e *ELF) Machine(m uint16) *ELF { e.machine = m; return e }

// Type sets e_type (ET_CORE by default).
func (e *ELF) Type(t uint16) *ELF { e.etype = t; return e }

// CPUs sets the number of NT_PRSTATUS notes.
func (e *ELF) CPUs(n int) *ELF { e.cpus = n; return e }

// VMCOREINFO replaces the VMCOREINFO note's entries.
func (e *ELF) VMCOREINFO(v VMCOREINFO) *ELF { e.vmcoreinfo = &v; return e }

// Set sets one VMCOREINFO entry.
func (e *ELF) Set(key, value string) *ELF {
	v := DefaultVMCOREINFO()
	if e.vmcoreinfo != nil {
		v = *e.vmcoreinfo
	}
	v = v.Set(key, value)
	e.vmcoreinfo = &v
	return e
}

// NoVMCOREINFO leaves the VMCOREINFO note out.
func (e *ELF) NoVMCOREINFO() *ELF { e.vmcoreinfo = nil; return e }

// QEMUNotes adds a "QEMU" note (QEMUCPUState) per CPU, as QEMU's
// dump-guest-memory does for x86 guests.
func (e *ELF) QEMUNotes() *ELF { e.qemu = true; return e }

// Note appends a note after the others.
func (e *ELF) Note(n Note) *ELF { e.extra = append(e.extra, n); return e }

// Loads replaces the PT_LOAD segments.
func (e *ELF) Loads(ls ...Load) *ELF { e.loads = ls; return e }

// LoadData returns the data of PT_LOAD i.
func (e *ELF) LoadData(i int) []byte { return e.loads[i].Data }

// Truncate cuts the output to n bytes (damage).
func (e *ELF) Truncate(n int) *ELF { e.truncate = n; return e }

// Phnum makes e_phnum lie (damage).
func (e *ELF) Phnum(n int) *ELF { e.phnum = n; return e }

// NoteFilesz makes the PT_NOTE p_filesz lie (damage).
func (e *ELF) NoteFilesz(n int64) *ELF { e.noteFilesz = n; return e }

// LoadOffset makes PT_LOAD i's p_offset lie (damage).
func (e *ELF) LoadOffset(i int, off uint64) *ELF {
	if e.loadFileOffs == nil {
		e.loadFileOffs = map[int]uint64{}
	}
	e.loadFileOffs[i] = off
	return e
}

// prstatusSize is sizeof(struct elf_prstatus) for the common ABIs: 336 on
// x86_64, 144 on i386; other machines only need a plausible size here.
func (e *ELF) prstatusSize() int {
	if e.class == 32 {
		return 144
	}
	return 336
}

// note appends one note: namesz, descsz, type, then name and desc, each
// padded to 4 bytes (every Linux core writer pads to 4, also in ELF64).
func note(s *testasm.Section, n Note) {
	name := append([]byte(n.Name), 0)
	s.D32(uint32(len(name))).D32(uint32(len(n.Desc))).D32(n.Type)
	s.Append(name).Align(4).Append(n.Desc).Align(4)
}

// notes returns the PT_NOTE contents.
func (e *ELF) notes() []byte {
	s := testasm.New(e.order)
	for i := range e.cpus {
		desc := make([]byte, e.prstatusSize())
		// pr_pid follows pr_info (12), pr_cursig (2 + 2 padding), pr_sigpend
		// and pr_sighold (a long each).
		pid := 32
		if e.class == 32 {
			pid = 24
		}
		e.order.PutUint32(desc[pid:], uint32(100+i))
		note(s, Note{Name: "CORE", Type: NT_PRSTATUS, Desc: desc})
		if e.qemu {
			note(s, Note{Name: "QEMU", Type: 0, Desc: make([]byte, 0x1b8)})
		}
	}
	if e.vmcoreinfo != nil {
		note(s, Note{Name: "VMCOREINFO", Type: 0, Desc: e.vmcoreinfo.Text()})
	}
	for _, n := range e.extra {
		note(s, n)
	}
	return s.MustBytes()
}

// Bytes lays out the file.
func (e *ELF) Bytes() ([]byte, error) {
	ws, ehsize, phentsize := 8, 64, 56
	class := byte(2)
	if e.class == 32 {
		ws, ehsize, phentsize, class = 4, 52, 32, 1
	}
	data := byte(1)
	if e.order == binary.BigEndian {
		data = 2
	}
	phnum := 1 + len(e.loads)
	if e.phnum >= 0 {
		phnum = e.phnum
	}
	notes := e.notes()
	s := testasm.New(e.order)
	// e_ident: magic, class, data, EV_CURRENT, ELFOSABI_NONE, padding.
	s.Append([]byte{0x7f, 'E', 'L', 'F', class, data, 1, 0}).Repeat(0, 8)
	s.D16(e.etype).D16(e.machine).D32(1)
	s.DW(ws, 0).DW(ws, uint64(ehsize)).DW(ws, 0) // e_entry, e_phoff, e_shoff
	s.D32(0).D16(uint16(ehsize)).D16(uint16(phentsize)).D16(uint16(phnum))
	s.D16(0).D16(0).D16(0) // e_shentsize, e_shnum, e_shstrndx

	noteOff := testasm.NewLabel("notes")
	loadOff := make([]*testasm.Label, len(e.loads))
	noteSize := uint64(len(notes))
	if e.noteFilesz >= 0 {
		noteSize = uint64(e.noteFilesz)
	}
	phdr := func(typ, flags uint32, off *testasm.Label, offLie *uint64, vaddr, paddr, filesz, memsz, align uint64) {
		s.D32(typ)
		if ws == 8 {
			s.D32(flags)
		}
		if offLie != nil {
			s.DW(ws, *offLie)
		} else {
			s.LW(ws, off)
		}
		s.DW(ws, vaddr).DW(ws, paddr).DW(ws, filesz).DW(ws, memsz)
		if ws == 4 {
			s.D32(flags)
		}
		s.DW(ws, align)
	}
	phdr(PT_NOTE, 0, noteOff, nil, 0, 0, noteSize, noteSize, 0)
	for i, l := range e.loads {
		loadOff[i] = testasm.NewLabel("load")
		memsz := max(l.Memsz, uint64(len(l.Data)))
		var lie *uint64
		if v, ok := e.loadFileOffs[i]; ok {
			lie = &v
		}
		phdr(PT_LOAD, 7, loadOff[i], lie, l.Vaddr, l.Paddr, uint64(len(l.Data)), memsz, 0)
	}
	s.Mark(noteOff).Append(notes)
	for i, l := range e.loads {
		s.Align(16).Mark(loadOff[i]).Append(l.Data)
	}
	b, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	if e.truncate >= 0 && e.truncate < len(b) {
		b = b[:e.truncate]
	}
	return b, nil
}

// ProcessCore returns an ELF builder dressed as a process core (what the
// ProbeELF rule must reject): no VMCOREINFO, NT_PRPSINFO and NT_AUXV notes,
// and user-space PT_LOADs with p_paddr 0.
func ProcessCore(order testasm.Order) *ELF {
	return NewELF(order).NoVMCOREINFO().
		Note(Note{Name: "CORE", Type: NT_PRPSINFO, Desc: make([]byte, 136)}).
		Note(Note{Name: "CORE", Type: NT_AUXV, Desc: make([]byte, 16)}).
		Loads(Load{Vaddr: 0x400000, Data: bytes.Repeat([]byte{0x90}, 64)}, Load{Vaddr: 0x7ffc0000, Data: make([]byte, 64)})
}
