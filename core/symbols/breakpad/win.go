package breakpad

import "sort"

// WinFrameInfo is a STACK WIN record: how to unwind an x86 frame from the
// FPO or FrameData stream of a PDB.
type WinFrameInfo struct {
	Type         WinFrameType
	RVA          uint64 // start of the code range
	CodeSize     uint64
	PrologSize   uint32
	EpilogSize   uint32
	ParamSize    uint32 // bytes of parameters the callee pops
	SavedRegSize uint32
	LocalSize    uint32
	MaxStackSize uint32
	// HasProgramString selects between ProgramString (a postfix program
	// run with Evaluator.Run, FrameData) and AllocatesBasePointer (FPO).
	HasProgramString     bool
	ProgramString        string
	AllocatesBasePointer bool
}

// maxWinScan bounds the backwards scan for enclosing STACK WIN ranges.
const maxWinScan = 64

// WinFrame returns the STACK WIN record for rva. As in Breakpad's
// processor it prefers a FrameData (type 4) record over an FPO (type 0)
// one and, of records of one type, the innermost (smallest) range
// containing rva. Other types are never returned.
func (f *File) WinFrame(rva uint64) (*WinFrameInfo, bool) {
	i := sort.Search(len(f.wins), func(i int) bool { return f.wins[i].rva > rva }) - 1
	best := -1
	for j := i; j >= 0 && i-j < maxWinScan; j-- {
		w := &f.wins[j]
		if rva-w.rva >= w.codeSize || (w.typ != WinFrameData && w.typ != WinFPO) {
			continue
		}
		if best < 0 {
			best = j
			continue
		}
		b := &f.wins[best]
		if (w.typ == WinFrameData && b.typ != WinFrameData) || (w.typ == b.typ && w.codeSize < b.codeSize) {
			best = j
		}
	}
	if best < 0 {
		return nil, false
	}
	w := f.wins[best]
	info := &WinFrameInfo{Type: w.typ, RVA: w.rva, CodeSize: w.codeSize, PrologSize: w.prolog, EpilogSize: w.epilog,
		ParamSize: w.params, SavedRegSize: w.saved, LocalSize: w.locals, MaxStackSize: w.mx,
		HasProgramString: w.hasProgram, AllocatesBasePointer: w.allocBP}
	if w.hasProgram {
		info.ProgramString = f.s(w.program)
	}
	return info, true
}
