package elfx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// core builds a minimal ELF core with one PT_NOTE holding the given notes,
// from the gABI layout.
func core(order testasm.Order, class int, notes *testasm.Section) []byte {
	ws := 4
	if class == ELFCLASS64 {
		ws = 8
	}
	data := byte(ELFDATA2LSB)
	if order == binary.BigEndian {
		data = ELFDATA2MSB
	}
	phoff, noteOff, noteSize := testasm.NewLabel("phoff"), testasm.NewLabel("noteoff"), testasm.NewLabel("notesz")
	s := testasm.New(order).Append([]byte{0x7f, 'E', 'L', 'F', byte(class), data, 1, 0}).Repeat(0, 8)
	s.D16(ET_CORE).D16(62).D32(1).DW(ws, 0).LW(ws, phoff).DW(ws, 0).D32(0)
	ehsize, phentsize := 52, 32
	if ws == 8 {
		ehsize, phentsize = 64, 56
	}
	s.D16(uint16(ehsize)).D16(uint16(phentsize)).D16(1).D16(0).D16(0).D16(0)
	s.Mark(phoff)
	if ws == 8 {
		s.D32(PT_NOTE).D32(0).L64(noteOff).D64(0).D64(0).L64(noteSize).D64(0).D64(4)
	} else {
		s.D32(PT_NOTE).L32(noteOff).D32(0).D32(0).L32(noteSize).D32(0).D32(0).D32(4)
	}
	s.Mark(noteOff)
	start := s.Size()
	s.AppendSection(notes)
	noteSize.Set(uint64(s.Size() - start))
	return s.MustBytes()
}

func note(order testasm.Order, name string, typ uint32, desc []byte) *testasm.Section {
	s := testasm.New(order).D32(uint32(len(name) + 1)).D32(uint32(len(desc))).D32(typ)
	return s.String(name, len(name)+1).Align(4).Append(desc).Align(4)
}

func TestNotesBothOrdersAndClasses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		order testasm.Order
		class int
	}{
		{"le64", binary.LittleEndian, ELFCLASS64},
		{"be64", binary.BigEndian, ELFCLASS64},
		{"le32", binary.LittleEndian, ELFCLASS32},
		{"be32", binary.BigEndian, ELFCLASS32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := note(tc.order, "CORE", 1, []byte{1, 2, 3, 4, 5})
			ns.AppendSection(note(tc.order, "VMCOREINFO", 0, []byte("OSRELEASE=6.1.0\n")))
			b := core(tc.order, tc.class, ns)
			r := bytes.NewReader(b)
			h, err := ReadHeader(r, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if h.Type != ET_CORE || h.Machine != 62 || h.Phnum != 1 {
				t.Fatalf("header = %+v", h)
			}
			progs, err := ReadProgs(r, int64(len(b)), h)
			if err != nil {
				t.Fatal(err)
			}
			notes, errs := ReadNotes(r, int64(len(b)), h, progs)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if len(notes) != 2 || notes[0].Name != "CORE" || !bytes.Equal(notes[0].Desc, []byte{1, 2, 3, 4, 5}) ||
				notes[1].Name != "VMCOREINFO" || string(notes[1].Desc) != "OSRELEASE=6.1.0\n" {
				t.Fatalf("notes = %+v", notes)
			}
		})
	}
}

func TestTruncatedNotesKeepWhatIsThere(t *testing.T) {
	t.Parallel()
	ns := note(binary.LittleEndian, "CORE", 1, make([]byte, 8))
	ns.AppendSection(note(binary.LittleEndian, "CORE", 3, make([]byte, 400)))
	b := core(binary.LittleEndian, ELFCLASS64, ns)
	b = b[:len(b)-100]
	r := bytes.NewReader(b)
	h, _ := ReadHeader(r, int64(len(b)))
	progs, _ := ReadProgs(r, int64(len(b)), h)
	notes, errs := ReadNotes(r, int64(len(b)), h, progs)
	if len(notes) != 1 {
		t.Fatalf("got %d notes, want the 1 complete one", len(notes))
	}
	if len(errs) == 0 || !errors.Is(errs[0], io.ErrUnexpectedEOF) {
		t.Fatalf("errs = %v, want a truncation error", errs)
	}
}

func TestProgsPastEOF(t *testing.T) {
	t.Parallel()
	b := core(binary.LittleEndian, ELFCLASS64, note(binary.LittleEndian, "CORE", 1, nil))
	b = b[:70]
	r := bytes.NewReader(b)
	h, err := ReadHeader(r, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var e *Error
	if _, err := ReadProgs(r, int64(len(b)), h); !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error", err)
	}
}
