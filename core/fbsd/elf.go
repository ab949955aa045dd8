package fbsd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// FreeBSD's full (non-mini) kernel dumps are ELF files: dumpsys_generic in
// sys/kern/kern_dump.c writes an ET_CORE header with EI_OSABI set to
// ELFOSABI_STANDALONE, then one PT_LOAD per physical memory chunk (p_paddr =
// p_vaddr = the physical address) and no notes. Process cores carry
// ELFOSABI_FREEBSD and notes instead, so the OSABI alone tells them apart.

var (
	_ model.Target      = (*ELFFile)(nil)
	_ model.RangeLister = (*ELFFile)(nil)
)

// ProbeELF reports whether r is a FreeBSD full kernel dump: an ELF ET_CORE
// with ELFOSABI_STANDALONE.
func ProbeELF(r io.ReaderAt, size int64) bool {
	var b [18]byte
	if n, _ := r.ReadAt(b[:], 0); n < len(b) || !elfx.IsELF(b[:]) || b[7] != elfx.ELFOSABI_STANDALONE {
		return false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if b[5] == elfx.ELFDATA2MSB {
		order = binary.BigEndian
	}
	return order.Uint16(b[16:]) == elfx.ET_CORE
}

// ELFFile is an open FreeBSD full kernel dump.
type ELFFile struct {
	r      io.ReaderAt
	size   int64
	closer io.Closer
	Header *elfx.Header
	Progs  []elfx.Prog
	diags  []model.Diagnostic
	info   func() model.Info
}

// OpenELF opens the named full dump.
func OpenELF(path string) (*ELFFile, error) {
	f, file, err := osfile.Open(path, NewELFFile)
	if err != nil {
		return nil, err
	}
	f.closer = file
	return f, nil
}

// NewELFFile reads the ELF header and program headers.
func NewELFFile(r io.ReaderAt, size int64) (*ELFFile, error) {
	h, err := elfx.ReadHeader(r, size)
	if err != nil {
		return nil, elfError(err)
	}
	if h.Type != elfx.ET_CORE || h.OSABI != elfx.ELFOSABI_STANDALONE {
		return nil, &FormatError{Off: 7, What: fmt.Sprintf("e_type %d, OSABI %d: not a FreeBSD full dump (ET_CORE, ELFOSABI_STANDALONE)", h.Type, h.OSABI), Err: ErrUnrecognized}
	}
	f := &ELFFile{r: r, size: size, Header: h}
	if f.Progs, err = elfx.ReadProgs(r, size, h); err != nil {
		return nil, elfError(err)
	}
	for _, p := range f.Progs {
		if p.Type == elfx.PT_LOAD && p.Filesz > 0 && p.Off+p.Filesz > uint64(size) {
			f.diags = append(f.diags, model.Diagnostic{Severity: model.Warning, Off: int64(min(p.Off, uint64(size))),
				Msg: fmt.Sprintf("physical chunk %#x (%d bytes at file offset %#x) runs past the end of the file: the dump is truncated", p.Paddr, p.Filesz, p.Off)})
		}
	}
	f.info = sync.OnceValue(f.buildInfo)
	return f, nil
}

func elfError(err error) error {
	var ee *elfx.Error
	if errors.As(err, &ee) {
		return &FormatError{Off: ee.Off, What: ee.What, Err: ee.Err}
	}
	return &FormatError{What: "reading ELF header", Err: err}
}

// Info returns the dump's summary.
func (f *ELFFile) Info() model.Info { return f.info() }

func (f *ELFFile) buildInfo() model.Info {
	arch, abi := elfx.Arch(f.Header)
	var chunks int
	var bytes uint64
	for _, p := range f.Progs {
		if p.Type == elfx.PT_LOAD {
			chunks++
			bytes += p.Filesz
		}
	}
	return model.Info{Format: model.FreeBSDVMCore, Variant: "full", OS: model.OS{Family: model.FreeBSD},
		Arch: arch, ABI: abi, Threads: -1, Modules: -1,
		Details: []model.Detail{
			{Key: "Physical chunks", Value: fmt.Sprint(chunks)},
			{Key: "Captured", Value: fmt.Sprintf("%d bytes", bytes)},
		}}
}

// Diagnostics returns the problems found while reading the headers.
func (f *ELFFile) Diagnostics() []model.Diagnostic { return slices.Clone(f.diags) }

// Ranges returns the physical memory chunks.
func (f *ELFFile) Ranges() ([]model.Range, error) {
	var out []model.Range
	for _, p := range f.Progs {
		if p.Type == elfx.PT_LOAD {
			out = append(out, model.Range{Start: p.Paddr, Size: p.Filesz, FileOff: int64(p.Off), Physical: true})
		}
	}
	return out, nil
}

// PhysicalMemory returns the dumped physical memory: each PT_LOAD's
// p_paddr range read from its file bytes. Addresses no PT_LOAD covers fault
// mem.NotInDump; bytes a truncated file lost fault mem.OutsideFile.
func (f *ELFFile) PhysicalMemory() (mem.Space, error) {
	var runs []mem.Mapping
	for _, p := range f.Progs {
		if p.Type == elfx.PT_LOAD && p.Filesz > 0 {
			runs = append(runs, mem.Mapping{Addr: p.Paddr, Len: p.Filesz, BaseAddr: p.Off})
		}
	}
	rs, err := mem.NewRuns(mem.NewFile(f.r, f.size, "full dump file"), "physical", runs)
	if err != nil {
		return nil, &FormatError{Off: int64(f.Header.Phoff), What: "PT_LOAD segments", Err: err}
	}
	return rs, nil
}

// Close closes the file if OpenELF opened it.
func (f *ELFFile) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}
