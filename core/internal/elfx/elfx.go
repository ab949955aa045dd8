// Package elfx reads the parts of an ELF file that core dumps are made of: the
// identification, the file header, program headers and notes. It is shared by
// the process-core and vmcore packages.
//
// Why not debug/elf: debug/elf insists on section headers being sane and
// reads them eagerly, while core writers (QEMU, makedumpfile, truncated
// vmcores) leave them empty or inconsistent; and a dump parser must bound
// every count by the file size. This package reads only what cores need.
//
// # Robustness
//
// Safe on corrupt and hostile input: counts are bounded by the file size and
// every read is checked. Fuzzed by the format packages that use it.
package elfx

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// ELF constants from the System V gABI.
const (
	ELFCLASS32 = 1
	ELFCLASS64 = 2

	ELFDATA2LSB = 1
	ELFDATA2MSB = 2

	ET_EXEC = 2
	ET_DYN  = 3
	ET_CORE = 4

	PT_LOAD = 1
	PT_NOTE = 4

	ELFOSABI_NONE       = 0
	ELFOSABI_FREEBSD    = 9
	ELFOSABI_STANDALONE = 255
)

// Error is a structural problem in an ELF file.
type Error struct {
	Off  int64
	What string
	Err  error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("ELF: offset %#x: %s", e.Off, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Header is the ELF file header.
type Header struct {
	Class     uint8
	Data      uint8
	OSABI     uint8
	Order     binary.ByteOrder
	Type      uint16
	Machine   uint16
	Flags     uint32
	Phoff     uint64
	Phentsize uint16
	Phnum     uint32 // PN_XNUM resolved through section 0
	Shoff     uint64
	Shentsize uint16
	Shnum     uint16
}

// WordSize returns 4 or 8.
func (h *Header) WordSize() int {
	if h.Class == ELFCLASS64 {
		return 8
	}
	return 4
}

// Prog is a program header.
type Prog struct {
	Type   uint32
	Flags  uint32
	Off    uint64
	Vaddr  uint64
	Paddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// Note is one ELF note; Desc aliases a buffer read once per PT_NOTE segment.
type Note struct {
	Name string
	Type uint32
	Desc []byte
	Off  int64 // file offset of Desc
}

// IsELF reports whether b starts with the ELF magic.
func IsELF(b []byte) bool {
	return len(b) >= 4 && b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F'
}

// ReadHeader reads and checks the ELF header.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	var b [64]byte
	n, _ := r.ReadAt(b[:], 0)
	if n < 16 || !IsELF(b[:n]) {
		return nil, &Error{Off: 0, What: "no ELF magic"}
	}
	h := &Header{Class: b[4], Data: b[5], OSABI: b[7]}
	switch h.Data {
	case ELFDATA2LSB:
		h.Order = binary.LittleEndian
	case ELFDATA2MSB:
		h.Order = binary.BigEndian
	default:
		return nil, &Error{Off: 5, What: fmt.Sprintf("bad data encoding %d", h.Data)}
	}
	need := 52
	if h.Class == ELFCLASS64 {
		need = 64
	} else if h.Class != ELFCLASS32 {
		return nil, &Error{Off: 4, What: fmt.Sprintf("bad class %d", h.Class)}
	}
	if n < need {
		return nil, &Error{Off: int64(n), What: "file header truncated", Err: io.ErrUnexpectedEOF}
	}
	c := bin.New(b[:need], 0, h.Order)
	c.Seek(16)
	h.Type = c.U16()
	h.Machine = c.U16()
	c.U32() // e_version
	ws := h.WordSize()
	c.Word(ws) // e_entry
	h.Phoff = c.Word(ws)
	h.Shoff = c.Word(ws)
	h.Flags = c.U32()
	c.U16() // e_ehsize
	h.Phentsize = c.U16()
	h.Phnum = uint32(c.U16())
	h.Shentsize = c.U16()
	h.Shnum = c.U16()
	if h.Phnum == 0xffff && h.Shoff != 0 { // PN_XNUM: the real count is sh_info of section 0
		if v, ok := readSection0Info(r, h); ok {
			h.Phnum = v
		}
	}
	return h, c.Err()
}

func readSection0Info(r io.ReaderAt, h *Header) (uint32, bool) {
	off := int64(h.Shoff) + 28
	if h.Class == ELFCLASS64 {
		off = int64(h.Shoff) + 44
	}
	var b [4]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return 0, false
	}
	return h.Order.Uint32(b[:]), true
}

// ReadProgs reads the program headers, bounded by the file size.
func ReadProgs(r io.ReaderAt, size int64, h *Header) ([]Prog, error) {
	ent := 32
	if h.Class == ELFCLASS64 {
		ent = 56
	}
	if h.Phnum == 0 {
		return nil, nil
	}
	if int(h.Phentsize) < ent {
		return nil, &Error{Off: 0, What: fmt.Sprintf("program header entry size %d, want at least %d", h.Phentsize, ent)}
	}
	total := uint64(h.Phnum) * uint64(h.Phentsize)
	if h.Phoff >= uint64(size) || total > uint64(size)-h.Phoff {
		return nil, &Error{Off: int64(min(h.Phoff, uint64(size))), What: fmt.Sprintf("%d program headers at %#x run past the end of the file (size %d)", h.Phnum, h.Phoff, size), Err: io.ErrUnexpectedEOF}
	}
	buf := make([]byte, total)
	if _, err := r.ReadAt(buf, int64(h.Phoff)); err != nil {
		return nil, &Error{Off: int64(h.Phoff), What: "reading program headers", Err: err}
	}
	progs := make([]Prog, h.Phnum)
	for i := range progs {
		c := bin.New(buf[i*int(h.Phentsize):(i+1)*int(h.Phentsize)], int64(h.Phoff)+int64(i)*int64(h.Phentsize), h.Order)
		p := &progs[i]
		p.Type = c.U32()
		if h.Class == ELFCLASS64 {
			p.Flags = c.U32()
			p.Off, p.Vaddr, p.Paddr = c.U64(), c.U64(), c.U64()
			p.Filesz, p.Memsz, p.Align = c.U64(), c.U64(), c.U64()
		} else {
			p.Off, p.Vaddr, p.Paddr = uint64(c.U32()), uint64(c.U32()), uint64(c.U32())
			p.Filesz, p.Memsz = uint64(c.U32()), uint64(c.U32())
			p.Flags = c.U32()
			p.Align = uint64(c.U32())
		}
	}
	return progs, nil
}

// maxNoteSegment caps one PT_NOTE read; real note segments are kilobytes to a
// few megabytes (NT_FILE of a large process).
const maxNoteSegment = 64 << 20

// ReadNotes reads the notes of every PT_NOTE segment. Problems that stop the
// reading of one segment are returned as diagnostics-ready errors alongside
// the notes read so far, so a truncated dump still yields what it has.
func ReadNotes(r io.ReaderAt, size int64, h *Header, progs []Prog) ([]Note, []error) {
	var notes []Note
	var errs []error
	// Hostile headers can point many PT_NOTEs at the whole file; bound the
	// total read by the file size so it cannot be copied once per header.
	budget := uint64(size)
	for _, p := range progs {
		if p.Type != PT_NOTE || p.Filesz == 0 {
			continue
		}
		if budget == 0 {
			errs = append(errs, &Error{Off: int64(min(p.Off, uint64(size))), What: "note segments add up to more than the file size; the rest are ignored"})
			break
		}
		if p.Off >= uint64(size) {
			errs = append(errs, &Error{Off: int64(min(p.Off, uint64(size))), What: fmt.Sprintf("note segment at %#x lies past the end of the file (size %d)", p.Off, size), Err: io.ErrUnexpectedEOF})
			continue
		}
		n := min(p.Filesz, uint64(size)-p.Off, maxNoteSegment, budget)
		budget -= n
		buf := make([]byte, n)
		if _, err := r.ReadAt(buf, int64(p.Off)); err != nil && err != io.EOF {
			errs = append(errs, &Error{Off: int64(p.Off), What: "reading notes", Err: err})
			continue
		}
		ns, err := ParseNotes(buf, int64(p.Off), h.Order)
		notes = append(notes, ns...)
		if err != nil {
			errs = append(errs, err)
		}
		if n < p.Filesz {
			errs = append(errs, &Error{Off: int64(p.Off + n), What: fmt.Sprintf("note segment truncated: %d of %d bytes present", n, p.Filesz), Err: io.ErrUnexpectedEOF})
		}
	}
	return notes, errs
}

// ParseNotes splits a note segment that was read from file offset base.
// Names and descriptors are 4-byte aligned in every core writer we know
// (including 64-bit ones, despite the gABI's 8).
func ParseNotes(buf []byte, base int64, order binary.ByteOrder) ([]Note, error) {
	var notes []Note
	c := bin.New(buf, base, order)
	for c.Len() >= 12 {
		start := c.Off()
		namesz, descsz, typ := c.U32(), c.U32(), c.U32()
		if uint64(namesz) > uint64(c.Len()) {
			return notes, &Error{Off: start, What: fmt.Sprintf("note name size %d exceeds the %d bytes left", namesz, c.Len())}
		}
		name := bin.CString(c.Bytes(int(namesz)))
		c.Skip(pad4(int(namesz)) - int(namesz))
		if uint64(descsz) > uint64(c.Len()) {
			return notes, &Error{Off: start, What: fmt.Sprintf("note %q descriptor size %d exceeds the %d bytes left", name, descsz, c.Len()), Err: io.ErrUnexpectedEOF}
		}
		off := c.Off()
		desc := c.Bytes(int(descsz))
		if c.Len() > 0 {
			c.Skip(min(pad4(int(descsz))-int(descsz), c.Len()))
		}
		if c.Err() != nil {
			return notes, &Error{Off: start, What: "note truncated", Err: c.Err()}
		}
		notes = append(notes, Note{Name: name, Type: typ, Desc: desc, Off: off})
	}
	return notes, nil
}

func pad4(n int) int { return (n + 3) &^ 3 }
