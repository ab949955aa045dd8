package kdmp

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// TriageHeader is TRIAGE_DUMP64 or TRIAGE_DUMP32 (ntiodump.h; rizin
// dmp_specs.h dmp64_triage/dmp32_triage) as stored, widened to 64 bits,
// with DUMP_HEADER.MiniDumpFields, which says which parts the writer
// filled. Offsets are file offsets; 0 (or the "PAGE" filler 0x45474150 of
// a header nobody wrote) means the section is absent.
type TriageHeader struct {
	Off            int64 // file offset of the structure: 0x2000 (64-bit) or 0x1000 (32-bit)
	MiniDumpFields uint32

	ServicePackBuild      uint32
	SizeOfDump            uint32 // bytes of the triage dump proper; tagged blobs may follow
	ValidOffset           uint32 // where "TRGD" (TRIAGE_VALID_MARKER) ends a complete dump
	ContextOffset         uint32 // CONTEXT, normally DUMP_HEADER.ContextRecord
	ExceptionOffset       uint32 // EXCEPTION_RECORD64/32, normally DUMP_HEADER.Exception
	MmOffset              uint32 // DUMP_MM_STORAGE64/32
	UnloadedDriversOffset uint32
	PrcbOffset            uint32 // copy of the crashing processor's KPRCB
	ProcessOffset         uint32 // copy of the thread's EPROCESS
	ThreadOffset          uint32 // copy of the ETHREAD
	CallStackOffset       uint32
	SizeOfCallStack       uint32
	DriverListOffset      uint32
	DriverCount           uint32
	StringPoolOffset      uint32
	StringPoolSize        uint32
	BrokenDriverOffset    uint32
	TriageOptions         uint32
	TopOfStack            uint64 // the stack pointer: CallStack holds [TopOfStack, TopOfStack+SizeOfCallStack)

	// ArchitectureSpecific.Ia64 (64-bit dumps only): the IA64 register
	// backing store. Zero on x64 and ARM64.
	BStoreOffset  uint32
	SizeOfBStore  uint32
	LimitOfBStore uint64

	DataPageAddress    uint64
	DataPageOffset     uint32
	DataPageSize       uint32
	DebuggerDataOffset uint32 // copy of KDDEBUGGER_DATA64
	DebuggerDataSize   uint32
	DataBlocksOffset   uint32 // TRIAGE_DATA_BLOCK array
	DataBlocksCount    uint32
}

// Triage returns the TRIAGE_DUMP of a triage dump (DumpType 4), or nil for
// the other dump types and for a file that ends before it.
func (f *File) Triage() *TriageHeader {
	if f.hdr.triage == nil {
		return nil
	}
	t := *f.hdr.triage
	return &t
}

// present reports whether a TRIAGE_DUMP offset or count was written: 0 is
// "absent" for the writers, "PAGE" for a header left unfilled.
func present(v uint32) bool { return v != 0 && v != DUMP_SIGNATURE32 }

// present64 is present for the 64-bit fields.
func present64(v uint64) bool { return v != 0 && v != DUMP_SIGNATURE64 }

// readTriage reads TRIAGE_DUMP64/32 at off, right after DUMP_HEADER. A file
// that ends inside it keeps the fields it holds (the rest read as absent)
// and gets a diagnostic; one too short for even SizeOfDump and ValidOffset
// gets no TriageHeader.
func (f *File) readTriage(off int64) error {
	h := &f.hdr
	size := int64(triageSize32)
	what := "TRIAGE_DUMP32"
	if h.is64 {
		size, what = triageSize64, "TRIAGE_DUMP64"
	}
	avail := f.size - off
	if avail < 12 {
		f.diag(model.Error, off, "file ends before the TRIAGE_DUMP header")
		return nil
	}
	b := make([]byte, size)
	n := min(size, avail)
	if err := readFull(f.r, b[:n], off, what); err != nil {
		return err
	}
	if n < size {
		f.diag(model.Error, f.size, "file ends inside the %#x-byte %s at %#x", size, what, off)
	}
	le := binary.LittleEndian
	u32 := func(at int) uint32 { return le.Uint32(b[at:]) }
	t := &TriageHeader{Off: off}
	t.ServicePackBuild = u32(t64ServicePackBuild)
	t.SizeOfDump = u32(t64SizeOfDump)
	t.ValidOffset = u32(t64ValidOffset)
	t.ContextOffset = u32(t64ContextOffset)
	t.ExceptionOffset = u32(t64ExceptionOffset)
	t.MmOffset = u32(t64MmOffset)
	t.UnloadedDriversOffset = u32(t64UnloadedDriversOffset)
	t.PrcbOffset = u32(t64PrcbOffset)
	t.ProcessOffset = u32(t64ProcessOffset)
	t.ThreadOffset = u32(t64ThreadOffset)
	t.CallStackOffset = u32(t64CallStackOffset)
	t.SizeOfCallStack = u32(t64SizeOfCallStack)
	t.DriverListOffset = u32(t64DriverListOffset)
	t.DriverCount = u32(t64DriverCount)
	t.StringPoolOffset = u32(t64StringPoolOffset)
	t.StringPoolSize = u32(t64StringPoolSize)
	t.BrokenDriverOffset = u32(t64BrokenDriverOffset)
	t.TriageOptions = u32(t64TriageOptions)
	if h.is64 {
		t.TopOfStack = le.Uint64(b[t64TopOfStack:])
		t.BStoreOffset = u32(t64BStoreOffset)
		t.SizeOfBStore = u32(t64SizeOfBStore)
		t.LimitOfBStore = le.Uint64(b[t64LimitOfBStore:])
		t.DataPageAddress = le.Uint64(b[t64DataPageAddress:])
		t.DataPageOffset = u32(t64DataPageOffset)
		t.DataPageSize = u32(t64DataPageSize)
		t.DebuggerDataOffset = u32(t64DebuggerDataOffset)
		t.DebuggerDataSize = u32(t64DebuggerDataSize)
		t.DataBlocksOffset = u32(t64DataBlocksOffset)
		t.DataBlocksCount = u32(t64DataBlocksCount)
	} else {
		t.TopOfStack = uint64(u32(t32TopOfStack))
		t.DataPageAddress = uint64(u32(t32DataPageAddress))
		t.DataPageOffset = u32(t32DataPageOffset)
		t.DataPageSize = u32(t32DataPageSize)
		t.DebuggerDataOffset = u32(t32DebuggerDataOffset)
		t.DebuggerDataSize = u32(t32DebuggerDataSize)
		t.DataBlocksOffset = u32(t32DataBlocksOffset)
		t.DataBlocksCount = u32(t32DataBlocksCount)
	}
	// MiniDumpFields lies inside DUMP_HEADER, which NewFile has read, but
	// parse64/32 do not keep it; it is only needed here.
	mdf := int64(h32MiniDumpFields)
	if h.is64 {
		mdf = h64MiniDumpFields
	}
	var w [4]byte
	if err := readFull(f.r, w[:], mdf, "MiniDumpFields"); err != nil {
		return err
	}
	t.MiniDumpFields = le.Uint32(w[:])
	h.triage = t
	return nil
}

// fieldOff gives the file offset of a TRIAGE_DUMP field, so that each
// diagnostic points at the field that caused it.
func (t *TriageHeader) fieldOff(rel int) int64 { return t.Off + int64(rel) }

// checkTriage compares the TRIAGE_DUMP with the file: the "TRGD" marker,
// and every section offset, size and count against the file size. It is
// O(1); the sections themselves are read on demand and clipped to what
// the file holds, so each problem is reported once, here.
func (f *File) checkTriage() {
	t := f.hdr.triage
	if t == nil {
		return
	}
	if int64(t.SizeOfDump) > f.size {
		f.diag(model.Error, f.size, "file is %#x bytes but TRIAGE_DUMP.SizeOfDump is %#x (truncated dump)", f.size, t.SizeOfDump)
	} else if vo := int64(t.ValidOffset); vo+4 <= f.size {
		var b [4]byte
		if _, err := f.r.ReadAt(b[:], vo); err == nil && binary.LittleEndian.Uint32(b[:]) != TRIAGE_VALID_MARKER {
			f.diag(model.Warning, vo, "TRIAGE_DUMP.ValidOffset %#x does not hold the \"TRGD\" end marker", vo)
		}
	}
	// Sections whose size is stored: the end must lie in the file.
	sized := []struct {
		name       string
		off, size  uint32
		offAt, nAt int
	}{
		{"CallStackOffset", t.CallStackOffset, t.SizeOfCallStack, t64CallStackOffset, t64SizeOfCallStack},
		{"StringPoolOffset", t.StringPoolOffset, t.StringPoolSize, t64StringPoolOffset, t64StringPoolSize},
		{"DataPageOffset", t.DataPageOffset, t.DataPageSize, f.triRel(t64DataPageOffset, t32DataPageOffset), f.triRel(t64DataPageSize, t32DataPageSize)},
		{"DebuggerDataOffset", t.DebuggerDataOffset, t.DebuggerDataSize, f.triRel(t64DebuggerDataOffset, t32DebuggerDataOffset), f.triRel(t64DebuggerDataSize, t32DebuggerDataSize)},
	}
	for _, s := range sized {
		if !present(s.off) {
			continue
		}
		if int64(s.off) >= f.size {
			f.diag(model.Error, t.fieldOff(s.offAt), "TRIAGE_DUMP.%s %#x is past the end of the file (%#x bytes)", s.name, s.off, f.size)
			continue
		}
		if present(s.size) && int64(s.off)+int64(s.size) > f.size {
			f.diag(model.Error, t.fieldOff(s.nAt), "TRIAGE_DUMP.%s: %#x bytes at %#x run past the end of the file (%#x bytes)", s.name, s.size, s.off, f.size)
		}
	}
	// Counted arrays: count × entry size must fit.
	counted := []struct {
		name, count string
		off, n      uint32
		entry       int64
		offAt, nAt  int
	}{
		{"DriverListOffset", "DriverCount", t.DriverListOffset, t.DriverCount, f.driverEntrySize(), t64DriverListOffset, t64DriverCount},
		{"DataBlocksOffset", "DataBlocksCount", t.DataBlocksOffset, t.DataBlocksCount, triageDataBlockSize, f.triRel(t64DataBlocksOffset, t32DataBlocksOffset), f.triRel(t64DataBlocksCount, t32DataBlocksCount)},
	}
	for _, c := range counted {
		if !present(c.off) {
			continue
		}
		if int64(c.off) >= f.size {
			f.diag(model.Error, t.fieldOff(c.offAt), "TRIAGE_DUMP.%s %#x is past the end of the file (%#x bytes)", c.name, c.off, f.size)
			continue
		}
		if fit := (f.size - int64(c.off)) / c.entry; present(c.n) && int64(c.n) > fit {
			f.diag(model.Error, t.fieldOff(c.nAt), "TRIAGE_DUMP.%s is %d but only %d entries of %#x bytes fit between %#x and the end of the file; reading %d",
				c.count, c.n, fit, c.entry, c.off, fit)
		}
	}
	// Sections whose size is implied.
	for _, s := range []struct {
		name  string
		off   uint32
		offAt int
	}{
		{"ContextOffset", t.ContextOffset, t64ContextOffset},
		{"ExceptionOffset", t.ExceptionOffset, t64ExceptionOffset},
		{"MmOffset", t.MmOffset, t64MmOffset},
		{"UnloadedDriversOffset", t.UnloadedDriversOffset, t64UnloadedDriversOffset},
		{"PrcbOffset", t.PrcbOffset, t64PrcbOffset},
		{"ProcessOffset", t.ProcessOffset, t64ProcessOffset},
		{"ThreadOffset", t.ThreadOffset, t64ThreadOffset},
		{"BrokenDriverOffset", t.BrokenDriverOffset, t64BrokenDriverOffset},
	} {
		if present(s.off) && int64(s.off) >= f.size {
			f.diag(model.Error, t.fieldOff(s.offAt), "TRIAGE_DUMP.%s %#x is past the end of the file (%#x bytes)", s.name, s.off, f.size)
		}
	}
}

// triRel picks the 64- or 32-bit offset of a TRIAGE_DUMP field that moves.
func (f *File) triRel(rel64, rel32 int) int {
	if f.hdr.is64 {
		return rel64
	}
	return rel32
}

func (f *File) driverEntrySize() int64 {
	if f.hdr.is64 {
		return drv64Size
	}
	return drv32Size
}

func (f *File) ptrSize() int {
	if f.hdr.is64 {
		return 8
	}
	return 4
}

// isTriage reports whether the dump is a triage dump whose TRIAGE_DUMP was
// read.
func (f *File) isTriage() bool { return f.hdr.dumpType == DumpTypeTriage && f.hdr.triage != nil }

// triRead reads up to n bytes at off, clipped to the end of the file, so
// that no count or size from the dump makes it allocate more than the file
// holds. An offset past the end yields nil. Only an I/O error fails.
func (f *File) triRead(off int64, n uint64, what string) ([]byte, error) {
	if off < 0 || off >= f.size || n == 0 {
		return nil, nil
	}
	n = min(n, uint64(f.size-off))
	b := make([]byte, n)
	if err := readFull(f.r, b, off, what); err != nil {
		return nil, err
	}
	return b, nil
}

// triageViews memoises what is decoded from a triage dump beyond its
// header; each part is built on first use. The zero value is ready.
type triageViews struct {
	once     sync.Once
	objects  func() (*triageObjects, error)
	drivers  func() ([]TriageDriver, error)
	unloaded func() ([]TriageUnloadedDriver, error)
	blocks   func() ([]TriageDataBlock, error)
	memory   func() (mem.Space, error)
	thread   func() (model.Context, error)
	header   func() (*CPUContext, error)
	modules  func() ([]model.Module, error)
	broken   func() (string, error)
}

func (f *File) triViews() *triageViews {
	v := &f.tv
	v.once.Do(func() {
		v.objects = sync.OnceValues(f.buildTriageObjects)
		v.drivers = sync.OnceValues(f.buildTriageDrivers)
		v.unloaded = sync.OnceValues(f.buildTriageUnloaded)
		v.blocks = sync.OnceValues(f.buildTriageBlocks)
		v.memory = sync.OnceValues(f.buildTriageMemory)
		v.thread = sync.OnceValues(f.buildTriageThreadContext)
		v.header = sync.OnceValues(f.buildTriageHeaderContext)
		v.modules = sync.OnceValues(f.buildTriageModules)
		v.broken = sync.OnceValues(f.buildTriageBrokenDriver)
	})
	return v
}

// errNotTriage is what the triage accessors return for other dump types.
func (f *File) errNotTriage(what string) error {
	return fmt.Errorf("kdmp: %s: DumpType %d is not a triage dump (4): %w", what, f.hdr.dumpType, model.ErrNotRecorded)
}

// TriageObject is one of the kernel structures a triage dump copies whole:
// the crashing processor's KPRCB, the crashing thread's ETHREAD and its
// EPROCESS. The dump stores their bytes but not their addresses; Address
// is recovered when the dump allows it (see Via), else 0.
type TriageObject struct {
	Name    string // "KPRCB", "EPROCESS" or "ETHREAD"
	Off     int64  // file offset of the copy
	Data    []byte // the copy, as long as KDDEBUGGER_DATA64 says the structure is (or up to the next section)
	Address uint64 // virtual address of the structure, 0 when unknown
	Via     string // how Address was found: "KPRCB.CurrentThread", "KTHREAD.ApcState.Process" or "self-referencing list heads"
}

// triageObjects is what buildTriageObjects finds.
type triageObjects struct {
	kdbg                  *KDDebuggerData // the copy at DebuggerDataOffset; nil without a usable one
	prcb, process, thread *TriageObject
	processName           string
}

// sectionEnd returns where the section at off ends when its size is not
// stored: at the next section the TRIAGE_DUMP lists, at SizeOfDump, or at
// the end of the file, whichever comes first. Windows lays the sections
// out back to back, so for the KPRCB, EPROCESS and ETHREAD copies this is
// their size rounded up to 8 (the corpus dumps' gaps equal
// KDDEBUGGER_DATA64's SizePrcb, SizeEProcess and SizeEThread).
func (f *File) sectionEnd(off uint32) int64 {
	t := f.hdr.triage
	end := f.size
	if present(t.SizeOfDump) && int64(t.SizeOfDump) > int64(off) {
		end = min(end, int64(t.SizeOfDump))
	}
	for _, o := range []uint32{t.ContextOffset, t.ExceptionOffset, t.MmOffset, t.UnloadedDriversOffset,
		t.PrcbOffset, t.ProcessOffset, t.ThreadOffset, t.CallStackOffset, t.DriverListOffset,
		t.StringPoolOffset, t.DataPageOffset, t.DebuggerDataOffset, t.DataBlocksOffset, t.BStoreOffset, t.ValidOffset} {
		if present(o) && o > off && int64(o) < end {
			end = int64(o)
		}
	}
	return end
}

// readObject reads a KPRCB, EPROCESS or ETHREAD copy: size bytes when
// KDDEBUGGER_DATA64 gives the size and they fit before the next section,
// else up to the next section.
func (f *File) readObject(name string, off uint32, size uint16) (*TriageObject, error) {
	if !present(off) || int64(off) >= f.size {
		return nil, nil
	}
	n := uint64(f.sectionEnd(off) - int64(off))
	if size != 0 && uint64(size) < n {
		n = uint64(size)
	}
	b, err := f.triRead(int64(off), n, name)
	if err != nil || b == nil {
		return nil, err
	}
	return &TriageObject{Name: name, Off: int64(off), Data: b}, nil
}

// kernelAddr reports whether va can be a kernel-mode address of the dumped
// machine: the upper half of the 64-bit space, or above 2 GiB on 32-bit
// Windows (whose /3GB option still keeps the kernel above 0x80000000).
func (f *File) kernelAddr(va uint64) bool {
	if f.hdr.is64 {
		return va >= 0xFFFF800000000000
	}
	return va >= 0x80000000 && va <= math.MaxUint32
}

// selfAddress finds the address a structure copy was taken from without
// symbols: an empty LIST_ENTRY points to itself (Flink == Blink == its own
// address), so every empty list head at offset o votes for address
// Flink-o. A KTHREAD, EPROCESS or KPRCB has many such heads; the corpus
// dumps' copies give 5 to 519 agreeing votes and no rival above 1. The
// winner must have at least min votes and twice as many as the runner-up.
func (f *File) selfAddress(b []byte, min int) (uint64, int) {
	p := f.ptrSize()
	word := func(o int) uint64 {
		if p == 8 {
			return binary.LittleEndian.Uint64(b[o:])
		}
		return uint64(binary.LittleEndian.Uint32(b[o:]))
	}
	votes := map[uint64]int{}
	for o := 0; o+2*p <= len(b); o += p {
		fl := word(o)
		if fl == 0 || fl != word(o+p) || fl < uint64(o) {
			continue
		}
		if va := fl - uint64(o); va%8 == 0 && f.kernelAddr(va) {
			votes[va]++
		}
	}
	var best uint64
	first := 0
	for va, n := range votes {
		if n > first || n == first && va < best {
			best, first = va, n
		}
	}
	second := 0
	for va, n := range votes {
		if va != best {
			second = max(second, n)
		}
	}
	if first < min || first < 2*second {
		return 0, 0
	}
	return best, first
}

// votesFor counts the empty list heads of b that agree with address va.
func (f *File) votesFor(b []byte, va uint64) int {
	p := f.ptrSize()
	n := 0
	for o := 0; o+2*p <= len(b); o += p {
		var fl, bl uint64
		if p == 8 {
			fl, bl = binary.LittleEndian.Uint64(b[o:]), binary.LittleEndian.Uint64(b[o+8:])
		} else {
			fl, bl = uint64(binary.LittleEndian.Uint32(b[o:])), uint64(binary.LittleEndian.Uint32(b[o+4:]))
		}
		if fl == bl && fl == va+uint64(o) {
			n++
		}
	}
	return n
}

// place sets obj.Address from a pointer the dump holds (ptr, found via
// "via"), checked against the copy's own list heads: the pointer wins when
// at least one head agrees with it or no other address has a clear
// majority; otherwise the majority wins (a bugcheck such as 0xEA dumps a
// thread other than KPRCB.CurrentThread).
func (f *File) place(obj *TriageObject, ptr uint64, via string) {
	if obj == nil {
		return
	}
	self, n := f.selfAddress(obj.Data, 3)
	switch {
	case ptr != 0 && f.kernelAddr(ptr) && (f.votesFor(obj.Data, ptr) > 0 || n == 0):
		obj.Address, obj.Via = ptr, via
	case n > 0:
		obj.Address, obj.Via = self, "self-referencing list heads"
	}
}

// ptrAt reads a pointer of the dumped machine at offset at of b, or 0 when
// b is too short.
func (f *File) ptrAt(b []byte, at uint16) uint64 {
	p := f.ptrSize()
	if int(at)+p > len(b) {
		return 0
	}
	if p == 8 {
		return binary.LittleEndian.Uint64(b[at:])
	}
	return uint64(binary.LittleEndian.Uint32(b[at:]))
}

// buildTriageObjects reads the KDDEBUGGER_DATA64, KPRCB, ETHREAD and
// EPROCESS copies and places them: the thread at KPRCB.CurrentThread and
// the process at KTHREAD.ApcState.Process, as dbgeng's triage reader maps
// them, each checked against the copy's own list heads. A
// KDDEBUGGER_DATA64 copy that does not parse only costs the offsets it
// would give; it is not a diagnostic (Windows writes a decoded copy).
func (f *File) buildTriageObjects() (*triageObjects, error) {
	t := f.hdr.triage
	o := &triageObjects{}
	if present(t.DebuggerDataOffset) && present(t.DebuggerDataSize) {
		b, err := f.triRead(int64(t.DebuggerDataOffset), uint64(t.DebuggerDataSize), "KDDEBUGGER_DATA64")
		if err != nil {
			return nil, err
		}
		if k, err := ParseKDDebuggerData(b, f.hdr.kdDebug, f.hdr.is64); err == nil {
			o.kdbg = k
		}
	}
	k := o.kdbg
	if k == nil {
		k = &KDDebuggerData{}
	}
	var err error
	if o.prcb, err = f.readObject("KPRCB", t.PrcbOffset, k.SizePrcb); err != nil {
		return nil, err
	}
	if o.thread, err = f.readObject("ETHREAD", t.ThreadOffset, k.SizeEThread); err != nil {
		return nil, err
	}
	if o.process, err = f.readObject("EPROCESS", t.ProcessOffset, k.SizeEProcess); err != nil {
		return nil, err
	}
	// The KPRCB's address is stored nowhere the dump keeps (KPCR.CurrentPrcb
	// is not copied), so only its list heads can tell.
	f.place(o.prcb, 0, "")
	var cur, proc uint64
	if o.prcb != nil && k.OffsetPrcbCurrentThread != 0 {
		cur = f.ptrAt(o.prcb.Data, k.OffsetPrcbCurrentThread)
	}
	f.place(o.thread, cur, "KPRCB.CurrentThread")
	if o.thread != nil && k.OffsetKThreadApcProcess != 0 {
		proc = f.ptrAt(o.thread.Data, k.OffsetKThreadApcProcess)
	}
	f.place(o.process, proc, "KTHREAD.ApcState.Process")
	if o.process != nil {
		lo, hi := 0, len(o.process.Data)
		if k.OffsetEprocessParentCID != 0 {
			lo, hi = int(k.OffsetEprocessParentCID)+8, min(hi, int(k.OffsetEprocessParentCID)+0x100)
		}
		o.processName = imageFileName(o.process.Data, lo, hi)
	}
	return o, nil
}

// pseudoProcesses are the image names of processes that run no .exe.
var pseudoProcesses = map[string]bool{
	"System": true, "Registry": true, "Idle": true, "Secure System": true,
	"MemCompression": true, "Interrupts": true, "vmmem": true,
}

// imageFileName looks for EPROCESS.ImageFileName (UCHAR[15], at most 14
// characters and a NUL, zero-padded) in b[lo:hi]. Its offset changes with
// every Windows release and KDDEBUGGER_DATA64 does not record it, so this
// is a search: a 4-byte-aligned, NUL-padded, printable name that ends in
// .exe/.com/.scr, is one of the kernel's pseudo-processes (System,
// Registry, ...) or fills all 14 characters (a truncated name). Windows
// places it shortly after InheritedFromUniqueProcessId (0x68 bytes after
// it on 19041 x64 and 22000 arm64, 0x28 on XP), so with
// KDDEBUGGER_DATA64 only the 0x100 bytes after that field are searched.
// An ambiguous search (two different names) finds nothing.
func imageFileName(b []byte, lo, hi int) string {
	found := ""
	for i := lo &^ 3; i+15 <= hi && i+15 <= len(b); i += 4 {
		s, ok := fixedName(b[i : i+15])
		if !ok {
			continue
		}
		lower := strings.ToLower(s)
		if !(strings.HasSuffix(lower, ".exe") || strings.HasSuffix(lower, ".com") || strings.HasSuffix(lower, ".scr") ||
			pseudoProcesses[s] || len(s) == 14) {
			continue
		}
		if found != "" && found != s {
			return ""
		}
		found = s
	}
	return found
}

// fixedName returns the NUL-terminated, zero-padded name of a 15-byte field
// when it looks like a file name.
func fixedName(b []byte) (string, bool) {
	s := bin.CString(b)
	if len(s) == 0 || len(s) > 14 {
		return "", false
	}
	for _, c := range b[len(s):] {
		if c != 0 {
			return "", false
		}
	}
	first := s[0]
	if !(first >= 'A' && first <= 'Z' || first >= 'a' && first <= 'z' || first >= '0' && first <= '9') {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(" ._-~$()+,&'@#!%=[]{}", c) >= 0) {
			return "", false
		}
	}
	return s, true
}

// TriagePrcb returns the copy of the crashing processor's KPRCB, or nil
// when the dump has none.
func (f *File) TriagePrcb() (*TriageObject, error) {
	return f.triObject(func(o *triageObjects) *TriageObject { return o.prcb })
}

// TriageThread returns the copy of the crashing thread's ETHREAD; its
// Address is KPRCB.CurrentThread (KDDEBUGGER_DATA64 gives the offset)
// when the copy's list heads agree.
func (f *File) TriageThread() (*TriageObject, error) {
	return f.triObject(func(o *triageObjects) *TriageObject { return o.thread })
}

// TriageProcess returns the copy of the crashing thread's EPROCESS; its
// Address is the thread's KTHREAD.ApcState.Process when the copy's list
// heads agree.
func (f *File) TriageProcess() (*TriageObject, error) {
	return f.triObject(func(o *triageObjects) *TriageObject { return o.process })
}

func (f *File) triObject(pick func(*triageObjects) *TriageObject) (*TriageObject, error) {
	if !f.isTriage() {
		return nil, f.errNotTriage("kernel structure copies")
	}
	o, err := f.triViews().objects()
	if err != nil {
		return nil, err
	}
	obj := pick(o)
	if obj == nil {
		return nil, nil
	}
	c := *obj
	return &c, nil
}

// TriageProcessName returns the crashing thread's process image name
// (EPROCESS.ImageFileName, e.g. "System"), found by the search
// imageFileName describes, or "" when the dump has no EPROCESS copy or the
// search is not conclusive.
func (f *File) TriageProcessName() string {
	if !f.isTriage() {
		return ""
	}
	o, err := f.triViews().objects()
	if err != nil {
		return ""
	}
	return o.processName
}

// triageInfo adds what a triage dump says beyond DUMP_HEADER to the
// summary: one thread (the crashing one, identified by its ETHREAD
// address), the drivers it lists, the process name and the broken driver.
// It stays quiet: damage is reported by the decoders, not by Info.
func (f *File) triageInfo(info *model.Info) {
	if !f.isTriage() {
		return
	}
	t := f.hdr.triage
	add := func(k, v string) { info.Details = append(info.Details, model.Detail{Key: k, Value: v}) }
	info.Threads = 1
	if present(t.DriverListOffset) && int64(t.DriverListOffset) < f.size && t.DriverCount != DUMP_SIGNATURE32 {
		info.Modules = int(min(int64(t.DriverCount), (f.size-int64(t.DriverListOffset))/f.driverEntrySize()))
	}
	o, err := f.triViews().objects()
	if err != nil {
		return
	}
	var tid uint64
	if o.thread != nil && o.thread.Address != 0 {
		tid = o.thread.Address
		add("Crash thread", fmt.Sprintf("ETHREAD %#x", tid))
	}
	if info.Crash != nil && info.Crash.Kind == model.BugCheck {
		c := *info.Crash
		c.ThreadID = &tid
		info.Crash = &c
	}
	if o.processName != "" {
		info.Process = &model.Process{Name: o.processName}
	}
	if present(t.BrokenDriverOffset) {
		if name, err := f.triViews().broken(); err == nil && name != "" {
			add("Broken driver", name)
		}
	}
	if present(t.SizeOfDump) && int64(t.SizeOfDump) < f.size {
		if n, ok := f.countBlobs(int64(t.SizeOfDump)); ok {
			add("Secondary data", fmt.Sprintf("%#x bytes after SizeOfDump: %d tagged blobs (DUMP_BLOB_FILE_HEADER)", f.size-int64(t.SizeOfDump), n))
		} else {
			add("Secondary data", fmt.Sprintf("%#x bytes after SizeOfDump", f.size-int64(t.SizeOfDump)))
		}
	}
}

// countBlobs walks the DUMP_BLOB_HEADERs that follow SizeOfDump, as far as
// they stay inside the file; ok is false when no DUMP_BLOB_FILE_HEADER is
// there.
func (f *File) countBlobs(off int64) (int, bool) {
	var hdr [dumpBlobFileHdrSize]byte
	if off+dumpBlobFileHdrSize > f.size {
		return 0, false
	}
	if _, err := f.r.ReadAt(hdr[:], off); err != nil || string(hdr[:8]) != dumpBlobSignature {
		return 0, false
	}
	le := binary.LittleEndian
	pos := off + int64(le.Uint32(hdr[8:]))
	n := 0
	var b [dumpBlobHeaderSize]byte
	for n < maxDumpBlobsReported && pos+dumpBlobHeaderSize <= f.size {
		if _, err := f.r.ReadAt(b[:], pos); err != nil {
			break
		}
		hs, size, pre, post := le.Uint32(b[0:]), le.Uint32(b[20:]), le.Uint32(b[24:]), le.Uint32(b[28:])
		if hs < dumpBlobHeaderSize {
			break
		}
		next := pos + int64(hs) + int64(pre) + int64(size) + int64(post)
		if next > f.size {
			break
		}
		n++
		pos = next
	}
	return n, true
}
