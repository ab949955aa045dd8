package kdmp

import (
	"errors"
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// ProcessOffsets are EPROCESS field offsets as the kernel's symbols give
// them (ntkrnlmp.pdb's _EPROCESS, with Pcb, its _KPROCESS, at offset 0).
// With them ProcessesWithOffsets reads each field where the symbols say,
// instead of where Processes' search finds it, and reads what no search
// finds: a triage dump's process id. A field the symbols lack is -1.
type ProcessOffsets struct {
	ActiveProcessLinks           int64
	UniqueProcessId              int64
	ImageFileName                int64
	InheritedFromUniqueProcessId int64
	DirectoryTableBase           int64 // Pcb.DirectoryTableBase
	ThreadListHead               int64 // Pcb.ThreadListHead
	Size                         int64 // sizeof(_EPROCESS)
}

// ErrOffsetsMismatch says symbol offsets do not fit the dump's kernel
// (symbols of another build): the System process is not where they put it.
var ErrOffsetsMismatch = errors.New("kdmp: the symbols' EPROCESS layout does not fit this kernel")

// ProcessesWithOffsets is Processes with the EPROCESS layout from the
// kernel's symbols. It checks the layout on the System process first (type
// byte, PID 4) and returns an error wrapping ErrOffsetsMismatch when it
// does not fit. The result is not memoised.
func (f *File) ProcessesWithOffsets(o ProcessOffsets) ([]model.KernelProcess, error) {
	if o.ActiveProcessLinks <= 0 || o.UniqueProcessId < 0 || o.DirectoryTableBase < 0 {
		return nil, fmt.Errorf("%w: ActiveProcessLinks, UniqueProcessId and Pcb.DirectoryTableBase are needed", ErrOffsetsMismatch)
	}
	if f.isTriage() {
		return f.triageProcessesWith(o)
	}
	lay := eprocLayout{apl: uint64(o.ActiveProcessLinks), pidOff: o.UniqueProcessId, dtb: uint64(o.DirectoryTableBase),
		name: o.ImageFileName, ppid: o.InheritedFromUniqueProcessId, threads: o.ThreadListHead, size: maxEprocess, ptr: int(f.kptrSize())}
	if o.Size > 0 && o.Size <= maxEprocess {
		lay.size = uint64(o.Size)
	}
	return f.walkProcesses(&lay)
}

// checkSystem checks a layout from symbols on System, whose
// ActiveProcessLinks is first: a process object with PID 4.
func (f *File) checkSystem(ks *VirtualSpace, first uint64, lay eprocLayout) error {
	base := first - lay.apl
	var typ [1]byte
	if err := mem.ReadFull(ks, typ[:], base); err != nil || typ[0] != processObject {
		return fmt.Errorf("%w: no process object at %#x, ActiveProcessLinks-%#x of the first list entry (%v)", ErrOffsetsMismatch, base, lay.apl, err)
	}
	if pid, err := f.readPtr(ks, base+lay.pid()); err != nil || pid != 4 {
		return fmt.Errorf("%w: System's UniqueProcessId at +%#x is %#x, not 4 (%v)", ErrOffsetsMismatch, lay.pid(), pid, err)
	}
	return nil
}

// triageProcessesWith reads the triage dump's one process with symbol
// offsets: its id and name from the EPROCESS copy.
func (f *File) triageProcessesWith(o ProcessOffsets) ([]model.KernelProcess, error) {
	obj, err := f.TriageProcess()
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("kdmp: the triage dump records no process: %w", model.ErrNotRecorded)
	}
	ptr := int(f.kptrSize())
	field := func(off int64, n int) ([]byte, bool) {
		if off < 0 || off+int64(n) > int64(len(obj.Data)) {
			return nil, false
		}
		return obj.Data[off : off+int64(n)], true
	}
	p := model.KernelProcess{Name: f.TriageProcessName(), Address: obj.Address, Threads: -1, Handles: -1}
	if typ, ok := field(0, 1); !ok || typ[0] != processObject {
		return nil, fmt.Errorf("%w: the EPROCESS copy is not a process object", ErrOffsetsMismatch)
	}
	if b, ok := field(o.UniqueProcessId, ptr); ok {
		p.PID = leWord(b, ptr)
	}
	if b, ok := field(o.InheritedFromUniqueProcessId, ptr); ok {
		p.ParentPID = leWord(b, ptr)
	}
	if b, ok := field(o.ImageFileName, 15); ok {
		p.Name = eprocName(b)
	}
	if b, ok := field(o.DirectoryTableBase, ptr); ok {
		p.DirBase = leWord(b, ptr) &^ 0xfff
	}
	return []model.KernelProcess{p}, nil
}

// leWord reads a little-endian pointer-sized word.
func leWord(b []byte, ptr int) uint64 {
	var v uint64
	for i := ptr - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
