package kdmp

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// The model interfaces a kernel dump serves. Each method dispatches on the
// dump type: triage dumps are decoded by the triage*.go files; the other
// types are read through their page tables (vtop.go, lists.go).
var (
	_ model.ThreadLister     = (*File)(nil)
	_ model.ModuleLister     = (*File)(nil)
	_ model.MemoryReader     = (*File)(nil)
	_ model.ExceptionContext = (*File)(nil)
	_ model.ContextReader    = (*File)(nil)
)

// headerContext decodes DUMP_HEADER.ContextRecord: the registers of the
// processor that called KeBugCheckEx, in every dump type.
func (f *File) headerContext() (model.Context, error) {
	size := ContextSize(f.hdr.machine)
	if size == 0 {
		return nil, fmt.Errorf("kdmp: no CONTEXT layout for MachineImageType %#x: %w", f.hdr.machine, model.ErrNotRecorded)
	}
	off := int64(h64ContextRecord)
	if !f.hdr.is64 {
		off = h32ContextRecord
	}
	b := make([]byte, size)
	if err := readFull(f.r, b, off, "CONTEXT"); err != nil {
		return nil, err
	}
	c, err := DecodeContext(f.hdr.machine, b)
	if err != nil {
		return nil, fmt.Errorf("kdmp: header context record: %w (%w)", err, model.ErrNotRecorded)
	}
	return c, nil
}

// asContext returns a decoded context as a model.Context, and a nil
// interface (not a typed nil pointer) with an error.
func asContext(c *CPUContext, err error) (model.Context, error) {
	if err != nil {
		return nil, err
	}
	return c, nil
}

// contextIn decodes a CONTEXT at a virtual address of space (.cxr).
func (f *File) contextIn(space mem.Reader, addr uint64) (*CPUContext, error) {
	size := ContextSize(f.hdr.machine)
	if size == 0 {
		return nil, fmt.Errorf("%w: no CONTEXT layout for MachineImageType %#x", ErrBadContext, f.hdr.machine)
	}
	b := make([]byte, size)
	if err := mem.ReadFull(space, b, addr); err != nil {
		return nil, err
	}
	return DecodeContext(f.hdr.machine, b)
}

// Threads returns the threads the dump records. A triage dump records one,
// the crashing thread: its ID is its ETHREAD address (as WinDbg's .thread
// names kernel threads; 0 when the dump does not let it be found), its
// context the registers whose stack pointer is TopOfStack (normally
// *KPRCB.Context; see the package documentation) and its stack the one the
// dump stores. Other dump types: model.ErrNotRecorded for now.
func (f *File) Threads() ([]model.Thread, error) {
	if !f.isTriage() {
		// A full, kernel or bitmap dump: the processor that bugchecked,
		// with the context its header holds (DUMP_HEADER.ContextRecord).
		ctx, err := f.headerContext()
		if err != nil {
			return nil, err
		}
		return []model.Thread{{Context: ctx}}, nil
	}
	t := f.hdr.triage
	o, err := f.triViews().objects()
	if err != nil {
		return nil, err
	}
	th := model.Thread{}
	if o.thread != nil {
		th.ID = o.thread.Address
	}
	ctx, err := f.triViews().thread()
	switch {
	case err == nil:
		th.Context = ctx
	case !isAbsence(err):
		return nil, err
	}
	if present(t.CallStackOffset) && present(t.SizeOfCallStack) && present64(t.TopOfStack) && int64(t.CallStackOffset) < f.size {
		th.StackStart = t.TopOfStack
		th.StackSize = min(uint64(t.SizeOfCallStack), uint64(f.size-int64(t.CallStackOffset)))
	}
	if th.Context == nil && th.StackSize == 0 && o.thread == nil {
		return nil, fmt.Errorf("kdmp: the triage dump records no thread context, stack or ETHREAD: %w", model.ErrNotRecorded)
	}
	return []model.Thread{th}, nil
}

// Modules returns the drivers: for a triage dump the loaded-driver list
// (names from the string pool, DllBase, SizeOfImage, TimeDateStamp) then
// the unloaded drivers with Unloaded set. Other dump types:
// model.ErrNotRecorded for now.
func (f *File) Modules() ([]model.Module, error) {
	if !f.isTriage() {
		return f.LoadedModules() // PsLoadedModuleList, through the page tables
	}
	return f.triViews().modules()
}

// Memory returns the kernel virtual address space. A triage dump has no
// page tables; its memory is the stack, the data blocks and the copies
// buildTriageMemory lists. Other dump types: model.ErrNotRecorded for now.
func (f *File) Memory() (mem.Space, error) {
	if !f.isTriage() {
		v, err := f.KernelSpace()
		if err != nil {
			return nil, err
		}
		return v, nil
	}
	return f.triViews().memory()
}

// ExceptionContext returns the context record of the crash: for a triage
// dump the CONTEXT at TRIAGE_DUMP.ContextOffset. For a bugcheck the
// kernel marks with 0x10000000 ("_M", e.g. 0x1000007E) that is the
// context of the exception the bugcheck reports (the one `.cxr
// BugCheckParameter4` shows), so !analyze starts from the faulting driver;
// otherwise it is the crashing thread's own. Other dump types:
// model.ErrNotRecorded for now.
func (f *File) ExceptionContext() (model.Context, error) {
	if !f.isTriage() {
		return f.headerContext()
	}
	return asContext(f.triageHeaderContext())
}

// ContextAt decodes a CONTEXT stored at a virtual address (the .cxr
// command), in the dump's MachineImageType layout; its ContextFlags must
// carry the architecture bit.
func (f *File) ContextAt(addr uint64) (model.Context, error) {
	if !f.isTriage() {
		v, err := f.KernelSpace()
		if err != nil {
			return nil, err
		}
		return asContext(f.contextIn(v, addr))
	}
	return asContext(f.triageContextAt(addr))
}

// ExceptionRecord is EXCEPTION_RECORD64 or EXCEPTION_RECORD32 (winnt.h),
// widened to 64 bits.
type ExceptionRecord struct {
	Off              int64 // file offset
	Code             uint32
	Flags            uint32
	Record           uint64 // address of a chained record
	Address          uint64
	NumberParameters uint32   // as stored
	Information      []uint64 // the first min(NumberParameters, 15) parameters
}

// Exception returns the exception record of the dump: the one at
// TRIAGE_DUMP.ExceptionOffset in a triage dump, DUMP_HEADER.Exception
// otherwise. Writers fill it even without an exception: a bugcheck dump
// holds a fake STATUS_BREAKPOINT (0x80000003) at the PC. A NumberParameters
// above 15 becomes a diagnostic.
func (f *File) Exception() (*ExceptionRecord, error) {
	off := int64(h32Exception)
	if f.hdr.is64 {
		off = h64Exception
	}
	if f.isTriage() {
		t := f.hdr.triage
		if !present(t.ExceptionOffset) {
			return nil, fmt.Errorf("kdmp: the triage dump has no exception record: %w", model.ErrNotRecorded)
		}
		off = int64(t.ExceptionOffset)
	}
	size := uint64(exceptionRecord32Size)
	if f.hdr.is64 {
		size = exceptionRecord64Size
	}
	b, err := f.triRead(off, size, "EXCEPTION_RECORD")
	if err != nil {
		return nil, err
	}
	if uint64(len(b)) < size {
		return nil, &FormatError{Off: off + int64(len(b)), What: "file ends inside the exception record", Err: io.ErrUnexpectedEOF}
	}
	le := binary.LittleEndian
	e := &ExceptionRecord{Off: off, Code: le.Uint32(b), Flags: le.Uint32(b[4:])}
	word, params := 4, 20
	if f.hdr.is64 {
		e.Record, e.Address = le.Uint64(b[8:]), le.Uint64(b[16:])
		e.NumberParameters = le.Uint32(b[24:])
		word, params = 8, 32
	} else {
		e.Record, e.Address = uint64(le.Uint32(b[8:])), uint64(le.Uint32(b[12:]))
		e.NumberParameters = le.Uint32(b[16:])
	}
	if e.Code == DUMP_SIGNATURE32 {
		return nil, fmt.Errorf("kdmp: the exception record at %#x was never written: %w", off, model.ErrNotRecorded)
	}
	n := e.NumberParameters
	if n > exceptionMaximumParameters {
		f.addRangeDiag(model.Warning, off, "exception record: NumberParameters %d exceeds %d; reading %d", n, exceptionMaximumParameters, exceptionMaximumParameters)
		n = exceptionMaximumParameters
	}
	e.Information = make([]uint64, n)
	for i := range e.Information {
		at := params + i*word
		if word == 8 {
			e.Information[i] = le.Uint64(b[at:])
		} else {
			e.Information[i] = uint64(le.Uint32(b[at:]))
		}
	}
	return e, nil
}
