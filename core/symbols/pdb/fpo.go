package pdb

import (
	"encoding/binary"
	"sort"

	"github.com/crashbench/crashbench/core/symbols/breakpad"
)

// fpoDataSize is the size of an FPO_DATA record (winnt.h): ulOffStart,
// cbProcSize, cdwLocals (dwords), cdwParams (16-bit dwords), then a 16-bit
// field: cbProlog:8, cbRegs:3, fHasSEH:1, fUseBP:1, reserved:1, cbFrame:2.
const fpoDataSize = 16

// fpoData reads the old FPO stream of the DBI's optional debug header:
// FPO_DATA records, which describe x86 functions of older compilers and
// of system DLLs that have no FrameData. Each becomes the STACK WIN
// record Breakpad's dump_syms writes for it (through DIA's frame data):
// its type is cbFrame (0 FPO, 1 trap, 2 TSS, 3 non-FPO), the sizes of
// locals, parameters and saved registers are the dword counts times 4,
// the prolog size is cbProlog, the epilog and maximum stack sizes 0, no
// program string, and AllocatesBasePointer is fUseBP. Addresses are
// RVAs of the original image, translated through OMAP when the PDB has
// one (the code size by its last byte, as for procedures). Records are
// returned sorted by RVA; a missing or damaged stream yields none.
func (f *File) fpoData(d *DBI) []breakpad.WinFrameInfo {
	i := d.DebugStreams[dbgFPO]
	if i < 0 {
		return nil
	}
	b, err := f.Stream(i)
	if err != nil {
		return nil
	}
	le := binary.LittleEndian
	out := make([]breakpad.WinFrameInfo, 0, len(b)/fpoDataSize)
	for ; len(b) >= fpoDataSize; b = b[fpoDataSize:] {
		start, size := le.Uint32(b[0:]), le.Uint32(b[4:])
		bits := le.Uint16(b[14:])
		if size == 0 {
			continue
		}
		rva, ok := d.mapRVA(start)
		if !ok {
			continue
		}
		w := breakpad.WinFrameInfo{
			Type:                 breakpad.WinFrameType(bits >> 14),
			RVA:                  uint64(rva),
			CodeSize:             uint64(d.mapSize(start, size, rva)),
			LocalSize:            le.Uint32(b[8:]) * 4,
			ParamSize:            uint32(le.Uint16(b[12:])) * 4,
			PrologSize:           uint32(bits & 0xFF),
			SavedRegSize:         uint32(bits>>8&7) * 4,
			AllocatesBasePointer: bits&(1<<12) != 0,
		}
		out = append(out, w)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].RVA < out[b].RVA })
	return out
}

// winFrameIn returns the record of ws (sorted by RVA) covering rva: the
// innermost (smallest) range holding it, the first in stream order among
// equal ones; with fpoOnly, only FPO (type 0) records count, as
// Breakpad's processor uses no trap, TSS or non-FPO ones.
func winFrameIn(ws []breakpad.WinFrameInfo, rva uint64, fpoOnly bool) *breakpad.WinFrameInfo {
	i := sort.Search(len(ws), func(i int) bool { return ws[i].RVA > rva }) - 1
	var best *breakpad.WinFrameInfo
	for j := i; j >= 0 && i-j < 64; j-- {
		w := &ws[j]
		if rva-w.RVA >= w.CodeSize || fpoOnly && w.Type != breakpad.WinFPO {
			continue
		}
		// Among equal ranges the first record in the stream wins, as in
		// dump_syms' output (the linker may repeat a range).
		if best == nil || w.CodeSize <= best.CodeSize {
			best = w
		}
	}
	return best
}
