package pdb

import (
	"encoding/binary"
	"sort"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/symbols/breakpad"
)

// frameDataSize is the size of a FRAMEDATA record (cvinfo.h): RvaStart,
// CodeSize, LocalSize, ParamsSize, MaxStackSize, FrameFunc (an offset
// into /names), PrologSize (16 bits), SavedRegsSize (16 bits), Flags.
const frameDataSize = 32

// frameData reads the "new FPO" stream of the DBI's optional debug
// header: FRAMEDATA records, each with
// the postfix program that unwinds its range (what Breakpad's dump_syms
// turns into STACK WIN 4 records). Records are returned sorted by RVA,
// translated through OMAP when the PDB has it.
// A missing or damaged stream yields none: x86 frames then fall back to
// frame pointers and scanning.
func (f *File) frameData(d *DBI) []breakpad.WinFrameInfo {
	i := d.DebugStreams[dbgNewFPO]
	if i < 0 {
		return nil
	}
	b, err := f.Stream(i)
	if err != nil {
		return nil
	}
	names, _ := f.strtab()
	le := binary.LittleEndian
	// Object files' DEBUG_S_FRAMEDATA subsections start with a 4-byte
	// relocation field; the PDB stream, as MSVC's linker writes it, does
	// not (its length is a whole number of records).
	if len(b)%frameDataSize == 4 {
		b = b[4:]
	}
	out := make([]breakpad.WinFrameInfo, 0, len(b)/frameDataSize)
	for ; len(b) >= frameDataSize; b = b[frameDataSize:] {
		w := breakpad.WinFrameInfo{
			Type:         breakpad.WinFrameData,
			RVA:          uint64(le.Uint32(b[0:])),
			CodeSize:     uint64(le.Uint32(b[4:])),
			LocalSize:    le.Uint32(b[8:]),
			ParamSize:    le.Uint32(b[12:]),
			MaxStackSize: le.Uint32(b[16:]),
			PrologSize:   uint32(le.Uint16(b[24:])),
			SavedRegSize: uint32(le.Uint16(b[26:])),
		}
		if off := le.Uint32(b[20:]); uint64(off) < uint64(len(names)) {
			w.ProgramString = bin.CString(names[off:])
			w.HasProgramString = w.ProgramString != ""
		}
		if w.CodeSize == 0 {
			continue
		}
		// With OMAP the record's range is in the original image: its
		// start and last byte are translated (fpo.go), as DIA does for
		// dump_syms (whole-function reordering; DIA also splits records
		// at basic-block reordering, which this does not).
		if start := uint32(w.RVA); len(d.omapFromSrc) > 0 {
			rva, ok := d.mapRVA(start)
			if !ok {
				continue
			}
			w.RVA, w.CodeSize = uint64(rva), uint64(d.mapSize(start, uint32(w.CodeSize), rva))
		}
		out = append(out, w)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].RVA < out[b].RVA })
	return out
}

// WinFrame returns the STACK WIN record for rva, as Breakpad's processor
// picks among a module's records: a FrameData record if one covers rva,
// else an FPO record of the old FPO stream (fpo.go); of either, the
// innermost (smallest) range holding rva. It lets the x86 stack walker
// unwind with a PDB alone. The returned record must not be modified.
func (t *Table) WinFrame(rva uint64) (*breakpad.WinFrameInfo, bool) {
	if w := winFrameIn(t.frames(), rva, false); w != nil {
		return w, true
	}
	if w := winFrameIn(t.fpo(), rva, true); w != nil {
		return w, true
	}
	return nil, false
}
