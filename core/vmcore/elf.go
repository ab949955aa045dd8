package vmcore

import (
	"fmt"
	"io"
	"strconv"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/model"
)

// Evidence strings for the ProbeELF rule, shown as the "Detected by" detail.
const (
	evidenceVMCOREINFO = "VMCOREINFO note"
	evidenceQEMU       = "QEMU note (dump-guest-memory)"
	evidencePhysical   = "CORE PRSTATUS notes, no process-core notes, physical PT_LOADs"
	evidenceFlattened  = "makedumpfile flattened container"
)

// elfPart is what an ELF vmcore's headers say.
type elfPart struct {
	hdr      *elfx.Header
	progs    []elfx.Prog
	notes    []elfx.Note
	noteErrs []error
	evidence string // why this is a kernel vmcore; "" if it is not
	prstatus int    // NT_PRSTATUS notes named CORE: one per CPU
	qemu     bool
	loads    int
}

// readELF reads the ELF header, program headers and notes and classifies the
// file. A non-nil error means the headers are unusable.
func readELF(r io.ReaderAt, size int64) (*elfPart, []error, error) {
	h, err := elfx.ReadHeader(r, size)
	if err != nil {
		return nil, nil, &FormatError{Off: 0, What: "ELF header", Err: err}
	}
	if h.Type != elfx.ET_CORE {
		return nil, nil, &FormatError{Off: 16, What: fmt.Sprintf("ELF type %d is not ET_CORE", h.Type), Err: ErrUnrecognized}
	}
	progs, err := elfx.ReadProgs(r, size, h)
	if err != nil {
		return nil, nil, &FormatError{Off: safeInt64(h.Phoff), What: "ELF program headers", Err: err}
	}
	var budgetErrs []error
	notes, nerrs := elfx.ReadNotes(r, size, h, noteBudget(progs, size, &budgetErrs))
	nerrs = append(nerrs, budgetErrs...)
	e := &elfPart{hdr: h, progs: progs, notes: notes, noteErrs: nerrs}
	e.classify()
	return e, nerrs, nil
}

// noteBudget returns the PT_NOTE headers whose segments fit, together, in
// the file size. elfx.ReadNotes copies each segment, so without a budget a
// few thousand headers naming the whole file would copy it as many times.
// Real vmcores have one PT_NOTE (the capture kernel merges the per-CPU ones).
func noteBudget(progs []elfx.Prog, size int64, errs *[]error) []elfx.Prog {
	var out []elfx.Prog
	budget := uint64(size)
	skipped := 0
	for _, p := range progs {
		if p.Type != elfx.PT_NOTE {
			continue
		}
		n := p.Filesz
		if p.Off < uint64(size) {
			n = min(n, uint64(size)-p.Off)
		} else {
			n = 0 // ReadNotes reports it without reading
		}
		if n > budget {
			skipped++
			continue
		}
		budget -= n
		out = append(out, p)
	}
	if skipped > 0 {
		*errs = append(*errs, &FormatError{Off: -1, What: fmt.Sprintf("%d PT_NOTE segments skipped: together the note segments exceed the file size (%d)", skipped, size)})
	}
	return out
}

// classify applies the vmcore rule (see the package documentation):
//
//  1. a note named "VMCOREINFO" (the kernel's /proc/vmcore, makedumpfile -E,
//     QEMU with the vmcoreinfo device), or
//  2. a note named "QEMU" (QEMU dump-guest-memory's per-CPU QEMUCPUState), or
//  3. all of: an NT_PRSTATUS note named "CORE"; no NT_PRPSINFO, NT_AUXV,
//     NT_FILE or NT_SIGINFO note named "CORE" or "FreeBSD"; a PT_LOAD; and
//     some PT_LOAD with p_paddr != 0 or, in an ELFCLASS64 file, with bit 63
//     of p_vaddr set.
func (e *elfPart) classify() {
	var vmcoreinfo, qemu, processNote bool
	for _, n := range e.notes {
		switch {
		case n.Name == noteNameVMCOREINFO:
			vmcoreinfo = true
		case n.Name == noteNameQEMU:
			qemu = true
		}
		switch n.Type {
		case NT_PRSTATUS:
			if n.Name == noteNameCore {
				e.prstatus++
			}
		case NT_PRPSINFO, NT_AUXV, NT_FILE, NT_SIGINFO:
			// Process-core writers (fs/binfmt_elf.c, gdb gcore, FreeBSD)
			// always emit NT_PRPSINFO and NT_AUXV; the kernel's crash
			// notes (crash_save_cpu) hold only NT_PRSTATUS.
			if n.Name == noteNameCore || n.Name == "FreeBSD" {
				processNote = true
			}
		}
	}
	physical := false
	for _, p := range e.progs {
		if p.Type != elfx.PT_LOAD {
			continue
		}
		e.loads++
		// Process cores leave p_paddr 0; user space never reaches the upper
		// half of a 64-bit address space.
		if p.Paddr != 0 || (e.hdr.Class == elfx.ELFCLASS64 && p.Vaddr>>63 == 1) {
			physical = true
		}
	}
	e.qemu = qemu
	switch {
	case vmcoreinfo:
		e.evidence = evidenceVMCOREINFO
	case qemu:
		e.evidence = evidenceQEMU
	case e.prstatus > 0 && !processNote && e.loads > 0 && physical:
		e.evidence = evidencePhysical
	}
}

// parseELF reads an ELF vmcore (directly, or inside a flattened file).
func (f *File) parseELF() error {
	bound := f.lsize
	if !f.lsizeKnown {
		// Reads past the probed records fail on their own; the bound only
		// keeps allocations within the file size.
		bound = f.size
	}
	e, nerrs, err := readELF(f.lr, bound)
	if err != nil {
		return err
	}
	if f.variant == VariantFlattened {
		// makedumpfile -E -F writes only kernel dumps.
		if e.evidence == "" {
			e.evidence = evidenceFlattened
		}
	} else if e.evidence == "" {
		return &FormatError{Off: 0, What: "ELF core without VMCOREINFO or QEMU notes, or CORE PRSTATUS notes with physical PT_LOADs and no process notes: a process core?", Err: ErrUnrecognized}
	}
	f.elf = e
	for _, err := range nerrs {
		f.addErr(model.Warning, err)
	}
	for _, n := range e.notes {
		if n.Name == noteNameVMCOREINFO {
			if len(n.Desc) > maxVMCOREINFO {
				f.vmcoreinfoErr = &FormatError{Off: n.Off, What: fmt.Sprintf("VMCOREINFO note of %d bytes exceeds the %d-byte limit", len(n.Desc), maxVMCOREINFO)}
				f.addErr(model.Warning, f.vmcoreinfoErr)
				break
			}
			f.vmcoreinfoRaw = n.Desc
			break
		}
	}
	if e.prstatus == 0 {
		f.addDiag(model.Note, -1, "no NT_PRSTATUS notes: the CPU count and registers are unknown")
	}
	if f.variant == VariantELF {
		f.checkLoads(f.size)
	}
	return nil
}

// maxLoadDiags caps the per-segment diagnostics for missing PT_LOAD data.
const maxLoadDiags = 8

// checkLoads reports PT_LOAD segments whose data lies (partly) past the end
// of the file: a truncated vmcore.
func (f *File) checkLoads(size int64) {
	missing := 0
	for i, p := range f.elf.progs {
		if p.Type != elfx.PT_LOAD || p.Filesz == 0 {
			continue
		}
		var msg string
		switch {
		case p.Off >= uint64(size):
			msg = fmt.Sprintf("PT_LOAD %d (paddr %#x, %d bytes at %#x) lies past the end of the file (size %d): its memory is missing", i, p.Paddr, p.Filesz, p.Off, size)
		case p.Filesz > uint64(size)-p.Off:
			msg = fmt.Sprintf("PT_LOAD %d (paddr %#x) truncated: %d of %d bytes present", i, p.Paddr, uint64(size)-p.Off, p.Filesz)
		default:
			continue
		}
		missing++
		if missing <= maxLoadDiags {
			f.addDiag(model.Warning, safeInt64(p.Off), msg)
		}
	}
	if missing > maxLoadDiags {
		f.addDiag(model.Warning, -1, fmt.Sprintf("%d more PT_LOAD segments lie past the end of the file", missing-maxLoadDiags))
	}
}

// elfRanges lists the PT_LOAD segments by physical address.
func (f *File) elfRanges(lsize int64) []model.Range {
	if f.variant == VariantFlattened {
		f.checkLoads(lsize)
	}
	var rs []model.Range
	for _, p := range f.elf.progs {
		if p.Type != elfx.PT_LOAD || p.Filesz == 0 {
			continue
		}
		off := int64(-1)
		if f.variant == VariantELF && p.Off <= 1<<62 {
			off = int64(p.Off)
		}
		rs = append(rs, model.Range{
			Start:    p.Paddr,
			Size:     p.Filesz,
			FileOff:  off,
			Physical: true,
			Label:    fmt.Sprintf("PT_LOAD vaddr %#x", p.Vaddr),
		})
	}
	return rs
}

// fillInfo adds what the ELF headers say to info.
func (e *elfPart) fillInfo(info *model.Info) {
	info.Arch = elfArch(e.hdr)
	info.CPUs = e.prstatus
	info.Details = append(info.Details,
		model.Detail{Key: "Detected by", Value: e.evidence},
		model.Detail{Key: "PT_LOAD segments", Value: strconv.Itoa(e.loads)},
	)
	if e.qemu {
		info.Details = append(info.Details, model.Detail{Key: "Writer", Value: "QEMU dump-guest-memory"})
	}
}
