package kdmp

import (
	"encoding/binary"
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// KernelThread is what a dump says, without symbols, about the thread that
// bugchecked (WinDbg's !thread). Fields the dump does not give are zero;
// the KTHREAD offsets come from KDDEBUGGER_DATA64.
type KernelThread struct {
	Address     uint64 // ETHREAD
	Via         string // how Address was found ("KPRCB.CurrentThread", ...)
	Process     uint64 // KTHREAD.ApcState.Process (the EPROCESS)
	ProcessName string // EPROCESS.ImageFileName, when known

	InitialStack uint64 // KTHREAD.InitialStack
	KernelStack  uint64 // KTHREAD.KernelStack: the SP saved at the last context switch
	StackLimit   uint64 // KTHREAD.StackLimit (Windows 8+)
	StackBase    uint64 // KTHREAD.StackBase (Windows 8+)
	Teb          uint64 // KTHREAD.Teb
	State        uint8  // KTHREAD.State (KTHREAD_STATE: 2 Running, 5 Waiting...)
	HasState     bool
}

// DebuggerData returns the KDDEBUGGER_DATA64 the dump carries: the decoded
// copy at TRIAGE_DUMP.DebuggerDataOffset in a triage dump, the block at
// KdDebuggerDataBlock otherwise (see KDDebuggerData).
func (f *File) DebuggerData() (*KDDebuggerData, error) {
	if !f.isTriage() {
		return f.KDDebuggerData()
	}
	o, err := f.triViews().objects()
	if err != nil {
		return nil, err
	}
	if o.kdbg == nil {
		return nil, fmt.Errorf("kdmp: the triage dump has no usable KDDEBUGGER_DATA64 copy: %w", model.ErrNotRecorded)
	}
	k := *o.kdbg
	return &k, nil
}

// CrashThread describes the thread that bugchecked. A triage dump names it
// (KPRCB.CurrentThread) and copies its ETHREAD; a full, kernel or bitmap
// dump does not, so it is the current thread of the processor (from
// KDDEBUGGER_DATA64.KiProcessorBlock) whose kernel stack holds the stack
// pointer of the header's context.
func (f *File) CrashThread() (*KernelThread, error) {
	k, err := f.DebuggerData()
	if err != nil {
		return nil, err
	}
	if f.isTriage() {
		th, err := f.TriageThread()
		if err != nil {
			return nil, err
		}
		if th == nil {
			return nil, fmt.Errorf("kdmp: the triage dump has no ETHREAD copy: %w", model.ErrNotRecorded)
		}
		kt := f.decodeKThread(th.Data, k)
		kt.Address, kt.Via = th.Address, th.Via
		if p, err := f.TriageProcess(); err == nil && p != nil && p.Address != 0 && kt.Process == 0 {
			kt.Process = p.Address
		}
		kt.ProcessName = f.TriageProcessName()
		return kt, nil
	}
	return f.fullCrashThread(k)
}

// decodeKThread reads the KTHREAD fields KDDEBUGGER_DATA64 locates.
func (f *File) decodeKThread(b []byte, k *KDDebuggerData) *KernelThread {
	kt := &KernelThread{}
	ptr := func(off uint32) uint64 {
		if off == 0 || off > 0xffff {
			return 0
		}
		return f.ptrAt(b, uint16(off))
	}
	kt.Process = ptr(uint32(k.OffsetKThreadApcProcess))
	kt.InitialStack = ptr(uint32(k.OffsetKThreadInitialStack))
	kt.KernelStack = ptr(uint32(k.OffsetKThreadKernelStack))
	kt.StackLimit = ptr(k.OffsetKThreadStackLimit)
	kt.StackBase = ptr(k.OffsetKThreadStackBase)
	kt.Teb = ptr(uint32(k.OffsetKThreadTeb))
	if at := int(k.OffsetKThreadState); at != 0 && at < len(b) {
		kt.State, kt.HasState = b[at], true
	}
	return kt
}

// prcbs returns the KPRCB addresses KiProcessorBlock lists.
func (f *File) prcbs(ks *VirtualSpace, k *KDDebuggerData) []uint64 {
	n := f.hdr.cpus
	if n == 0 || n == DUMP_SIGNATURE32 || n > 2048 || k.KiProcessorBlock == 0 {
		return nil
	}
	var out []uint64
	for i := range uint64(n) {
		p, err := f.readPtr(ks, k.KiProcessorBlock+i*f.kptrSize())
		if err != nil || p == 0 {
			continue
		}
		out = append(out, p)
	}
	return out
}

func (f *File) fullCrashThread(k *KDDebuggerData) (*KernelThread, error) {
	ks, err := f.KernelSpace()
	if err != nil {
		return nil, err
	}
	if k.OffsetPrcbCurrentThread == 0 || k.SizeEThread == 0 {
		return nil, fmt.Errorf("kdmp: KDDEBUGGER_DATA64 gives no KPRCB.CurrentThread offset or ETHREAD size: %w", model.ErrNotRecorded)
	}
	ctx, err := f.headerContext()
	if err != nil {
		return nil, err
	}
	sp := ctx.SP()
	var first *KernelThread
	for _, prcb := range f.prcbs(ks, k) {
		th, err := f.readPtr(ks, prcb+uint64(k.OffsetPrcbCurrentThread))
		if err != nil || th == 0 {
			continue
		}
		b := make([]byte, k.SizeEThread)
		if err := mem.ReadFull(ks, b, th); err != nil {
			continue
		}
		kt := f.decodeKThread(b, k)
		kt.Address, kt.Via = th, "KPRCB.CurrentThread"
		if kt.Process != 0 {
			kt.ProcessName, _ = f.processName(kt.Process)
		}
		if first == nil {
			first = kt
		}
		lo := kt.StackLimit
		if lo == 0 && kt.InitialStack > 0x6000 {
			lo = kt.InitialStack - 0x6000 // the x64 kernel stack's usual size
		}
		if kt.InitialStack != 0 && sp >= lo && sp < kt.InitialStack {
			return kt, nil
		}
	}
	if first == nil {
		return nil, fmt.Errorf("kdmp: no processor's current thread could be read through KiProcessorBlock: %w", model.ErrNotRecorded)
	}
	return nil, fmt.Errorf("kdmp: no processor's current thread has a kernel stack holding sp %#x: %w", sp, model.ErrNotRecorded)
}

// processName finds an EPROCESS's ImageFileName through the process list
// (Processes), when it can be walked.
func (f *File) processName(eprocess uint64) (string, bool) {
	ps, err := f.Processes()
	if err != nil {
		return "", false
	}
	for _, p := range ps {
		if p.Address == eprocess {
			return p.Name, true
		}
	}
	return "", false
}

// SavedIRQL is the IRQL in the crashing processor's KPRCB: the CR8 saved in
// KPRCB.ProcessorState.SpecialRegisters (x64 only: KSPECIAL_REGISTERS.Cr8
// at 0xa0), located through KDDEBUGGER_DATA64's
// OffsetPrcbProcStateSpecialReg. KPRCB.DebuggerSavedIRQL, which WinDbg's
// !irql prints, has no offset outside nt's symbols. prcb is the KPRCB's
// address when known.
func (f *File) SavedIRQL() (irql uint8, prcb uint64, err error) {
	if f.hdr.machine != IMAGE_FILE_MACHINE_AMD64 {
		return 0, 0, fmt.Errorf("kdmp: only the x64 KSPECIAL_REGISTERS holds CR8 (MachineImageType %#x): %w", f.hdr.machine, model.ErrNotRecorded)
	}
	k, err := f.DebuggerData()
	if err != nil {
		return 0, 0, err
	}
	if k.OffsetPrcbProcStateSpecialReg == 0 {
		return 0, 0, fmt.Errorf("kdmp: KDDEBUGGER_DATA64 gives no OffsetPrcbProcStateSpecialReg: %w", model.ErrNotRecorded)
	}
	const cr8 = 0xa0
	at := int(k.OffsetPrcbProcStateSpecialReg) + cr8
	if f.isTriage() {
		p, err := f.TriagePrcb()
		if err != nil {
			return 0, 0, err
		}
		if p == nil || at+8 > len(p.Data) {
			return 0, 0, fmt.Errorf("kdmp: the triage dump has no KPRCB copy holding KSPECIAL_REGISTERS.Cr8: %w", model.ErrNotRecorded)
		}
		return uint8(binary.LittleEndian.Uint64(p.Data[at:]) & 0xf), p.Address, nil
	}
	kt, err := f.CrashThread()
	if err != nil {
		return 0, 0, err
	}
	ks, err := f.KernelSpace()
	if err != nil {
		return 0, 0, err
	}
	for _, prcb := range f.prcbs(ks, k) {
		th, err := f.readPtr(ks, prcb+uint64(k.OffsetPrcbCurrentThread))
		if err != nil || th != kt.Address {
			continue
		}
		v, err := mem.ReadUint(ks, prcb+uint64(at), 8, binary.LittleEndian)
		if err != nil {
			return 0, prcb, err
		}
		return uint8(v & 0xf), prcb, nil
	}
	return 0, 0, fmt.Errorf("kdmp: the crashing thread's KPRCB was not found: %w", model.ErrNotRecorded)
}

// PhysicalMemory is the header's PHYSICAL_MEMORY_DESCRIPTOR (full and
// bitmap dumps fill it; triage dumps leave "PAGE" there).
type PhysicalMemory struct {
	Runs  []PhysicalRun
	Pages uint64 // NumberOfPages as stored
}

// PhysicalRun is one PHYSICAL_MEMORY_RUN, in pages.
type PhysicalRun struct{ BasePage, PageCount uint64 }

// PhysicalMemoryDescriptor returns the header's descriptor, or an error
// wrapping model.ErrNotRecorded when the dump does not fill it.
func (f *File) PhysicalMemoryDescriptor() (*PhysicalMemory, error) {
	h := &f.hdr
	if h.numRuns == DUMP_SIGNATURE32 || h.numPages == DUMP_SIGNATURE64 || h.numPages == 0 || f.isTriage() {
		return nil, fmt.Errorf("kdmp: the header's PHYSICAL_MEMORY_DESCRIPTOR is not filled in a DumpType %d dump: %w", h.dumpType, model.ErrNotRecorded)
	}
	pm := &PhysicalMemory{Pages: h.numPages}
	for _, r := range h.runs {
		pm.Runs = append(pm.Runs, PhysicalRun(r))
	}
	return pm, nil
}

// PfnDatabase returns DUMP_HEADER.PfnDataBase (the address of
// MmPfnDatabase), 0 when unset.
func (f *File) PfnDatabase() uint64 {
	if f.unset(f.hdr.pfnDB) {
		return 0
	}
	return f.hdr.pfnDB
}
