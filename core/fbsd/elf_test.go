package fbsd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/internal/testasm"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// fullDump lays out what dumpsys_generic writes: an ELF64 header with
// ELFOSABI_STANDALONE and ET_CORE, one PT_LOAD per physical chunk, then the
// page-aligned chunk data.
func fullDump(osabi byte, chunks ...uint64) []byte {
	s := testasm.New(binary.LittleEndian).Append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, osabi}).Repeat(0, 8)
	s.D16(4).D16(62).D32(1).D64(0).D64(64).D64(0).D32(0).D16(64).D16(56).D16(uint16(len(chunks))).D16(64).D16(0).D16(0)
	offs := make([]*testasm.Label, len(chunks))
	for i, pa := range chunks {
		offs[i] = testasm.NewLabel("chunk")
		s.D32(1).D32(6).L64(offs[i]).D64(pa).D64(pa).D64(0x1000).D64(0x1000).D64(0x1000)
	}
	for i := range chunks {
		s.Align(0x1000).Mark(offs[i]).Repeat(byte(i+1), 0x1000)
	}
	return s.MustBytes()
}

func TestFullDump(t *testing.T) {
	t.Parallel()
	b := fullDump(255, 0x0, 0x100000)
	if !ProbeELF(bytes.NewReader(b), int64(len(b))) {
		t.Fatal("ProbeELF rejected a full dump")
	}
	f, err := NewELFFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	i := f.Info()
	if i.Format != model.FreeBSDVMCore || i.Variant != "full" || i.Arch != model.AMD64 || i.OS.Family != model.FreeBSD {
		t.Fatalf("info = %+v", i)
	}
	rs, _ := f.Ranges()
	if len(rs) != 2 || rs[1].Start != 0x100000 || !rs[1].Physical || b[rs[1].FileOff] != 2 {
		t.Fatalf("ranges = %+v", rs)
	}
	if len(f.Diagnostics()) != 0 {
		t.Fatalf("diagnostics: %v", f.Diagnostics())
	}
	cut := b[:len(b)-0x800]
	f, err = NewELFFile(bytes.NewReader(cut), int64(len(cut)))
	if err != nil || len(f.Diagnostics()) != 1 {
		t.Fatalf("truncated: err %v, diagnostics %v", err, f.Diagnostics())
	}
}

func TestProcessCoreIsNotAFullDump(t *testing.T) {
	t.Parallel()
	b := fullDump(9, 0x1000) // ELFOSABI_FREEBSD: a process core
	if ProbeELF(bytes.NewReader(b), int64(len(b))) {
		t.Fatal("ProbeELF accepted ELFOSABI_FREEBSD")
	}
	_, err := NewELFFile(bytes.NewReader(b), int64(len(b)))
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, ErrUnrecognized) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzNewELFFile(f *testing.F) {
	f.Add(fullDump(255, 0, 0x1000))
	f.Fuzz(func(t *testing.T, b []byte) {
		ef, err := NewELFFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error %v", err)
			}
			return
		}
		_ = ef.Info()
		_, _ = ef.Ranges()
	})
}

func TestFullDumpPhysical(t *testing.T) {
	t.Parallel()
	b := fullDump(255, 0x0, 0x100000)
	f, err := NewELFFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	phys, err := f.PhysicalMemory()
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 0x1000)
	for i, pa := range []uint64{0, 0x100000} {
		if err := mem.ReadFull(phys, p, pa); err != nil || !bytes.Equal(p, bytes.Repeat([]byte{byte(i + 1)}, 0x1000)) {
			t.Errorf("chunk %#x: %v", pa, err)
		}
	}
	if _, err := phys.ReadMemory(p[:8], 0x1000); !errors.Is(err, mem.ErrNotInDump) {
		t.Errorf("hole: %v", err)
	}
	cut := b[:len(b)-0x800]
	f, err = NewELFFile(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		t.Fatal(err)
	}
	phys, _ = f.PhysicalMemory()
	if n, err := phys.ReadMemory(p, 0x100000); n != 0x800 || !errors.Is(err, mem.ErrOutsideFile) {
		t.Errorf("truncated chunk: %d, %v", n, err)
	}
}
