package kdmptest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/internal/testasm"
)

// Triage dumps. The layouts below are written from ntiodump.h (TRIAGE_DUMP64
// and TRIAGE_DUMP32, DUMP_DRIVER_ENTRY64/32 with the frozen
// KLDR_DATA_TABLE_ENTRY64/32, DUMP_STRING, DUMP_UNLOADED_DRIVERS64/32,
// TRIAGE_DATA_BLOCK, DUMP_MM_STORAGE64/32, DUMP_BLOB_FILE_HEADER and
// DUMP_BLOB_HEADER), winnt.h (the x64, ARM64 and x86 CONTEXT,
// EXCEPTION_RECORD64/32) and wdbgexts.h (KDDEBUGGER_DATA64), field by field
// in declaration order, and laid out in the order Windows writes the
// sections (dbgeng's KernelTriage64DumpTargetInfo::Write): Mm information,
// unloaded drivers, KPRCB, EPROCESS, ETHREAD, call stack, debugger data,
// driver list, string pool, data blocks, and the "TRGD" marker at
// SizeOfDump-4, followed by tagged blobs as Windows 10 appends them. Where
// ntiodump.h and real dumps disagree the dumps win: DUMP_STRING.Length
// counts UTF-16 units, and TopOfStack is the stack pointer (the lowest
// stack address).

// TRIAGE_DUMP field offsets, for Set and Set64: the ULONGs up to
// TriageOptions are common to both layouts; the rest differ.
const (
	FieldServicePackBuild      = 0x00
	FieldSizeOfDump            = 0x04
	FieldValidOffset           = 0x08
	FieldContextOffset         = 0x0C
	FieldExceptionOffset       = 0x10
	FieldMmOffset              = 0x14
	FieldUnloadedDriversOffset = 0x18
	FieldPrcbOffset            = 0x1C
	FieldProcessOffset         = 0x20
	FieldThreadOffset          = 0x24
	FieldCallStackOffset       = 0x28
	FieldSizeOfCallStack       = 0x2C
	FieldDriverListOffset      = 0x30
	FieldDriverCount           = 0x34
	FieldStringPoolOffset      = 0x38
	FieldStringPoolSize        = 0x3C
	FieldBrokenDriverOffset    = 0x40
	FieldTriageOptions         = 0x44
	FieldTopOfStack            = 0x48 // ULONG64 in TRIAGE_DUMP64, ULONG in TRIAGE_DUMP32

	Field64DataPageAddress    = 0x60 // ULONG64
	Field64DataPageOffset     = 0x68
	Field64DataPageSize       = 0x6C
	Field64DebuggerDataOffset = 0x70
	Field64DebuggerDataSize   = 0x74
	Field64DataBlocksOffset   = 0x78
	Field64DataBlocksCount    = 0x7C

	Field32DataPageAddress    = 0x4C
	Field32DataPageOffset     = 0x50
	Field32DataPageSize       = 0x54
	Field32DebuggerDataOffset = 0x58
	Field32DebuggerDataSize   = 0x5C
	Field32DataBlocksOffset   = 0x60
	Field32DataBlocksCount    = 0x64
)

// TriageDriver is one entry of the loaded-driver list.
type TriageDriver struct {
	Name          string // stored as a DUMP_STRING in the string pool
	Base          uint64
	EntryPoint    uint64
	Size          uint32
	CheckSum      uint32
	TimeDateStamp uint32
	Flags         uint32
}

// TriageUnloaded is one DUMP_UNLOADED_DRIVERS entry. As the kernel does,
// the builder stores Name's UNICODE_STRING.Length clipped to 24 bytes and
// the first 12 characters in DriverName.
type TriageUnloaded struct {
	Name       string
	Start, End uint64
}

// TriageBlock is a range of virtual memory: a TRIAGE_DATA_BLOCK or the
// data page.
type TriageBlock struct {
	Address uint64
	Data    []byte
}

// TriageException is the EXCEPTION_RECORD at ExceptionOffset.
type TriageException struct {
	Code, Flags uint32
	Address     uint64
	Params      []uint64
}

// KDDEBUGGER_DATA64 offsets the builder writes, and the offsets it reports
// there for the synthetic KPRCB, KTHREAD and EPROCESS copies (small, so
// that seeds stay small; the values real kernels report are much larger).
const (
	kdbgBlockSize = 0x340

	synthSizePrcb        = 0x180
	synthPrcbContext     = 0x100 // KPRCB.Context, pointer to a CONTEXT
	synthSizeEThread     = 0x100
	synthApcProcess      = 0x98 // KTHREAD.ApcState.Process
	synthSizeEProcess    = 0x100
	synthParentCID       = 0x40 // EPROCESS.InheritedFromUniqueProcessId
	synthImageFileName64 = synthParentCID + 0x68
	synthImageFileName32 = synthParentCID + 0x28
)

// TriageBuilder assembles a triage dump (DumpType 4): DUMP_HEADER from a
// Builder, then everything above. Methods change the builder and return
// it. The header is configured through Header(); its own Truncate and
// Patch are not used (TriageBuilder has its own, applied to the whole
// file).
type TriageBuilder struct {
	hdr *Builder

	context     []byte // CONTEXT at ContextOffset (DUMP_HEADER.ContextRecord)
	prcbContext []byte // CONTEXT in a data block, pointed to by KPRCB.Context
	prcbCtxVA   uint64
	exception   *TriageException
	stackTop    uint64
	stack       []byte
	drivers     []TriageDriver
	unloaded    []TriageUnloaded
	blocks      []TriageBlock
	dataPage    *TriageBlock
	prcbVA      uint64
	threadVA    uint64
	processVA   uint64
	process     string
	kdbg        bool
	objects     bool
	broken      int
	blobs       bool
	fields      []fieldSet
	truncate    int
	patches     []patch
}

type fieldSet struct {
	off  int
	v    uint64
	size int
}

// NewTriage returns a builder for a complete 64-bit x64 triage dump of a
// SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (0x1000007E) bugcheck: the
// exception's context at ContextOffset, the thread's context at
// KeBugCheckEx in a data block referenced by KPRCB.Context, a stack, three
// drivers, two unloaded drivers, two data blocks, KDDEBUGGER_DATA64, the
// KPRCB/EPROCESS/ETHREAD copies of the System process's worker thread and
// a tagged blob trailer.
func NewTriage() *TriageBuilder {
	t := newTriage(New())
	t.hdr.BugCheck(0x1000007E, 0xffffffffc0000005, 0xfffff8048b58334c, 0xffff850429891ee8, 0xffff850429891720)
	t.context = ContextAMD64(map[string]uint64{
		"rax": 1, "rbx": 2, "rcx": 3, "rdx": 4, "rsi": 5, "rdi": 6, "rbp": 0xffff850429890f00,
		"rsp": 0xffff850429891000, "r8": 8, "r9": 9, "r10": 10, "r11": 11, "r12": 12, "r13": 13, "r14": 14, "r15": 15,
		"rip": 0xfffff8048b58334c, "eflags": 0x10282, "cs": 0x10, "ss": 0x18, "ds": 0x2b, "es": 0x2b, "fs": 0x53, "gs": 0x2b, "mxcsr": 0x1f80,
	})
	t.prcbContext = ContextAMD64(map[string]uint64{
		"rax": 0xffff850429891720, "rcx": 0x7e, "rdx": 0xffffffffc0000005, "rsp": 0xffff850429890ee8,
		"rbp": 0xffff850429892c10, "rip": 0xfffff8047bdf5a80, "eflags": 0x40286, "cs": 0x10, "ss": 0x18, "mxcsr": 0x1f80,
	})
	t.stackTop = 0xffff850429890ee8
	t.stack = stackData(0x400, 8, 0xfffff8047be0f4e1, 0xfffff8048b58313f)
	t.drivers = []TriageDriver{
		{Name: `\SystemRoot\system32\ntoskrnl.exe`, Base: 0xfffff8047ba00000, EntryPoint: 0xfffff8047c011010, Size: 0x1046000, CheckSum: 0xa5938c, TimeDateStamp: 0x0d8333e6},
		{Name: `\SystemRoot\system32\hal.dll`, Base: 0xfffff80479440000, Size: 0x6000, CheckSum: 0xce9f, TimeDateStamp: 0x1a7be8e9},
		{Name: `\SystemRoot\System32\drivers\amdppm.sys`, Base: 0xfffff8048b580000, Size: 0x3b000, TimeDateStamp: 0xc9c03000, Flags: 0x49104000},
	}
	t.unloaded = []TriageUnloaded{
		{Name: "dam.sys", Start: 0xfffff80487de0000, End: 0xfffff80487dfc000},
		{Name: "mcupdate.dll", Start: 0xfffff8047ec00000, End: 0xfffff8047ec29000},
	}
	t.blocks = []TriageBlock{
		{Address: 0xfffff8047c62a7a0, Data: bytes.Repeat([]byte{0xA5}, 0x9c)},
		{Address: 0xffff850429892120, Data: bytes.Repeat([]byte{0x5A}, 0x100)},
	}
	t.prcbVA, t.threadVA, t.processVA = 0xfffff804782d4180, 0xffffc08bde9e1640, 0xffffc08bdce94180
	t.prcbCtxVA = 0xffff9b00021ff340
	return t
}

// NewTriageARM64 returns the ARM64 counterpart of NewTriage (a
// MANUALLY_INITIATED_POWER_BUTTON_HOLD bugcheck on build 22000): one
// context at ContextOffset that is also the thread's, no KPRCB.Context.
func NewTriageARM64() *TriageBuilder {
	t := NewTriage()
	t.hdr.Machine(ARM64).Build(22000).CPUs(8).BugCheck(0x1C8, 0x1b58, 0xfffff803f3a20860)
	regs := map[string]uint64{"fp": 0xffffe00e0e4bc4a0, "lr": 0xfffff803f33442a0, "sp": 0xffffe00e0e4bc4a0, "pc": 0xfffff803f32de014, "cpsr": 0x80000144, "fpsr": 0x10}
	for i := range 29 {
		regs[fmt.Sprintf("x%d", i)] = uint64(0x100 + i)
	}
	t.context = ContextARM64(regs)
	t.prcbContext = nil
	t.stackTop = 0xffffe00e0e4bc4a0
	t.stack = stackData(0x200, 8, 0xfffff803f33442a0)
	t.drivers[0].Base, t.drivers[0].Size, t.drivers[0].TimeDateStamp = 0xfffff803f2e00000, 0x103e000, 0xdf291b09
	t.prcbVA, t.threadVA, t.processVA = 0xfffff803efd00980, 0xffffbb8eb1719180, 0xffffbb8eb1690080
	return t
}

// NewTriage32 returns a builder for a 32-bit (PAGEDUMP) x86 triage dump of
// Windows 7 SP1 with the same parts as NewTriage, at 32-bit addresses.
func NewTriage32() *TriageBuilder {
	t := newTriage(New32())
	t.hdr.BugCheck(0x1000007E, 0xc0000005, 0x8b58334c, 0x8c891ee8, 0x8c891720)
	t.context = ContextX86(map[string]uint64{
		"eax": 1, "ebx": 2, "ecx": 3, "edx": 4, "esi": 5, "edi": 6, "ebp": 0x8c890f80, "esp": 0x8c891000,
		"eip": 0x8b58334c, "efl": 0x10282, "cs": 0x8, "ss": 0x10, "ds": 0x23, "es": 0x23, "fs": 0x30, "gs": 0,
	})
	t.prcbContext = ContextX86(map[string]uint64{"eax": 0x8c891720, "ecx": 0x7e, "esp": 0x8c890ee8, "ebp": 0x8c890f40, "eip": 0x82af5a80, "efl": 0x246, "cs": 0x8, "ss": 0x10})
	t.stackTop = 0x8c890ee8
	t.stack = stackData(0x300, 4, 0x82b0f4e1, 0x8b58313f)
	t.drivers = []TriageDriver{
		{Name: `\SystemRoot\system32\ntkrnlpa.exe`, Base: 0x82a00000, EntryPoint: 0x82b11010, Size: 0x410000, CheckSum: 0x3d3f9c, TimeDateStamp: 0x4ce7951a},
		{Name: `\SystemRoot\system32\halmacpi.dll`, Base: 0x82e10000, Size: 0x37000, TimeDateStamp: 0x4ce788d7},
		{Name: `\SystemRoot\System32\drivers\amdppm.sys`, Base: 0x8b580000, Size: 0xb000, TimeDateStamp: 0x4a5bc0fd},
	}
	t.unloaded = []TriageUnloaded{
		{Name: "dam.sys", Start: 0x8bde0000, End: 0x8bdfc000},
		{Name: "averyveryverylongname.sys", Start: 0x8c000000, End: 0x8c010000},
	}
	t.blocks = []TriageBlock{
		{Address: 0x82f2a7a0, Data: bytes.Repeat([]byte{0xA5}, 0x9c)},
		{Address: 0x8c891200, Data: bytes.Repeat([]byte{0x5A}, 0x80)},
	}
	t.prcbVA, t.threadVA, t.processVA = 0x82f6dd20, 0x86c1a030, 0x84cf5020
	t.prcbCtxVA = 0x8cff0340
	return t
}

func newTriage(h *Builder) *TriageBuilder {
	h.DumpType(Triage)
	return &TriageBuilder{hdr: h, kdbg: true, objects: true, broken: -1, blobs: true, process: "System", truncate: -1,
		exception: &TriageException{Code: 0x80000003, Flags: 1}}
}

// stackData returns n bytes of stack: a pattern with the given return
// addresses as words at 0, 0x40, 0x80, ...
func stackData(n, word int, rets ...uint64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 3)
	}
	for i, r := range rets {
		at := i * 0x40
		if at+word > n {
			break
		}
		if word == 8 {
			binary.LittleEndian.PutUint64(b[at:], r)
		} else {
			binary.LittleEndian.PutUint32(b[at:], uint32(r))
		}
	}
	return b
}

// Header returns the builder of the DUMP_HEADER part (Machine, Build,
// BugCheck, KdDebuggerDataBlock, ...).
func (t *TriageBuilder) Header() *Builder { return t.hdr }

// Context sets the CONTEXT at ContextOffset; nil leaves ContextOffset 0.
func (t *TriageBuilder) Context(b []byte) *TriageBuilder { t.context = slices.Clone(b); return t }

// PrcbContext sets the CONTEXT KPRCB.Context points to, stored as a data
// block at address va; nil stores none (KPRCB.Context is 0).
func (t *TriageBuilder) PrcbContext(b []byte, va uint64) *TriageBuilder {
	t.prcbContext, t.prcbCtxVA = slices.Clone(b), va
	return t
}

// Exception sets the exception record; nil leaves ExceptionOffset 0.
func (t *TriageBuilder) Exception(e *TriageException) *TriageBuilder { t.exception = e; return t }

// Stack sets the call stack: data is the memory from top (TopOfStack)
// upwards. Empty data leaves CallStackOffset 0.
func (t *TriageBuilder) Stack(top uint64, data []byte) *TriageBuilder {
	t.stackTop, t.stack = top, slices.Clone(data)
	return t
}

// Drivers replaces the loaded-driver list.
func (t *TriageBuilder) Drivers(d ...TriageDriver) *TriageBuilder {
	t.drivers = slices.Clone(d)
	return t
}

// Unloaded replaces the unloaded-driver list; with none the section is
// still written, with a count of 0.
func (t *TriageBuilder) Unloaded(u ...TriageUnloaded) *TriageBuilder {
	t.unloaded = slices.Clone(u)
	return t
}

// DataBlocks replaces the data blocks (the KPRCB.Context block is added
// after them).
func (t *TriageBuilder) DataBlocks(b ...TriageBlock) *TriageBuilder {
	t.blocks = slices.Clone(b)
	return t
}

// DataPage sets the data page (DataPageAddress/Offset/Size).
func (t *TriageBuilder) DataPage(b *TriageBlock) *TriageBuilder { t.dataPage = b; return t }

// Objects says whether to write the KPRCB, EPROCESS and ETHREAD copies.
func (t *TriageBuilder) Objects(on bool) *TriageBuilder { t.objects = on; return t }

// Addresses sets where the KPRCB, ETHREAD and EPROCESS copies were taken
// from: the copies' empty list heads point there, KPRCB.CurrentThread
// holds the thread's and KTHREAD.ApcState.Process the process's.
func (t *TriageBuilder) Addresses(prcb, thread, process uint64) *TriageBuilder {
	t.prcbVA, t.threadVA, t.processVA = prcb, thread, process
	return t
}

// ProcessName sets EPROCESS.ImageFileName (at most 14 characters kept).
func (t *TriageBuilder) ProcessName(s string) *TriageBuilder { t.process = s; return t }

// DebuggerData says whether to write the KDDEBUGGER_DATA64 copy.
func (t *TriageBuilder) DebuggerData(on bool) *TriageBuilder { t.kdbg = on; return t }

// BrokenDriver makes BrokenDriverOffset point at driver entry i (-1: 0).
func (t *TriageBuilder) BrokenDriver(i int) *TriageBuilder { t.broken = i; return t }

// Blobs says whether to append the DUMP_BLOB trailer after SizeOfDump.
func (t *TriageBuilder) Blobs(on bool) *TriageBuilder { t.blobs = on; return t }

// Set overwrites the ULONG TRIAGE_DUMP field at offset off (a Field*
// constant) after layout, to make offsets, sizes and counts lie.
func (t *TriageBuilder) Set(off int, v uint32) *TriageBuilder {
	t.fields = append(t.fields, fieldSet{off, uint64(v), 4})
	return t
}

// Set64 overwrites a ULONG64 TRIAGE_DUMP64 field (TopOfStack,
// DataPageAddress).
func (t *TriageBuilder) Set64(off int, v uint64) *TriageBuilder {
	t.fields = append(t.fields, fieldSet{off, v, 8})
	return t
}

// Truncate cuts the assembled file to n bytes.
func (t *TriageBuilder) Truncate(n int) *TriageBuilder { t.truncate = n; return t }

// Patch overwrites the assembled bytes at file offset off.
func (t *TriageBuilder) Patch(off int, data []byte) *TriageBuilder {
	t.patches = append(t.patches, patch{off, slices.Clone(data)})
	return t
}

// Bytes assembles the dump.
func (t *TriageBuilder) Bytes() ([]byte, error) {
	h := t.hdr
	is64 := h.is64
	word := 4
	hdrSize, triSize := 0x1000, 0x68
	ctxAt, excAt, mdfAt, reqAt := 0x320, 0x7D0, 0xF8C, 0xFA0
	if is64 {
		word, hdrSize, triSize = 8, 0x2000, 0x80
		ctxAt, excAt, mdfAt, reqAt = 0x348, 0xF00, 0x1038, 0xFA0
	}
	saveTrunc, savePatches := h.truncate, h.patches
	h.truncate, h.patches = -1, nil
	hb, err := h.Bytes()
	h.truncate, h.patches = saveTrunc, savePatches
	if err != nil {
		return nil, err
	}
	if len(hb) < hdrSize {
		return nil, fmt.Errorf("kdmptest: header is %#x bytes", len(hb))
	}
	hdr := slices.Clone(hb[:hdrSize])
	le := binary.LittleEndian
	fields := uint32(0x0CFF) // TRIAGE_DUMP_BASIC_INFO | DEBUGGER_DATA | DATA_BLOCKS, as Windows 10 writes
	if t.context != nil {
		copy(hdr[ctxAt:], t.context)
	}
	if e := t.exception; e != nil {
		x := testasm.New(le)
		if is64 {
			x.D32(e.Code).D32(e.Flags).D64(0).D64(e.Address).D32(uint32(len(e.Params))).D32(0)
		} else {
			x.D32(e.Code).D32(e.Flags).D32(0).D32(uint32(e.Address)).D32(uint32(len(e.Params)))
		}
		for _, p := range e.Params {
			x.DW(word, p)
		}
		copy(hdr[excAt:], x.MustBytes())
	}
	le.PutUint32(hdr[mdfAt:], fields)

	s := testasm.New(le)
	s.Append(hdr)
	lbl := func(name string) *testasm.Label { return testasm.NewLabel(name) }
	sizeOfDump, validOff := lbl("SizeOfDump"), lbl("ValidOffset")
	mmOff, unlOff := lbl("MmOffset"), lbl("UnloadedDriversOffset")
	prcbOff, procOff, thrOff := lbl("PrcbOffset"), lbl("ProcessOffset"), lbl("ThreadOffset")
	csOff, dlOff, spOff, spSize := lbl("CallStackOffset"), lbl("DriverListOffset"), lbl("StringPoolOffset"), lbl("StringPoolSize")
	dpOff, kdOff, dbOff, brokenOff := lbl("DataPageOffset"), lbl("DebuggerDataOffset"), lbl("DataBlocksOffset"), lbl("BrokenDriverOffset")
	zero := func(l *testasm.Label) { l.Set(0) }

	// TRIAGE_DUMP64/32.
	s.D32(1).L32(sizeOfDump).L32(validOff)
	if t.context != nil {
		s.D32(uint32(ctxAt))
	} else {
		s.D32(0)
	}
	if t.exception != nil {
		s.D32(uint32(excAt))
	} else {
		s.D32(0)
	}
	s.L32(mmOff).L32(unlOff).L32(prcbOff).L32(procOff).L32(thrOff)
	s.L32(csOff).D32(uint32(len(t.stack)))
	s.L32(dlOff).D32(uint32(len(t.drivers))).L32(spOff).L32(spSize)
	s.L32(brokenOff).D32(0xFFFFFFFF)
	var dpAddr uint64
	dpSize := 0
	if t.dataPage != nil {
		dpAddr, dpSize = t.dataPage.Address, len(t.dataPage.Data)
	}
	blocks := slices.Clone(t.blocks)
	if t.prcbContext != nil {
		blocks = append(blocks, TriageBlock{Address: t.prcbCtxVA, Data: t.prcbContext})
	}
	kdSize := 0
	if t.kdbg {
		kdSize = kdbgBlockSize
	}
	if is64 {
		s.D64(t.stackTop)
		s.D32(0).D32(0).D64(0) // ArchitectureSpecific.Ia64
		s.D64(dpAddr).L32(dpOff).D32(uint32(dpSize))
	} else {
		s.D32(uint32(t.stackTop))
		s.D32(uint32(dpAddr)).L32(dpOff).D32(uint32(dpSize))
	}
	s.L32(kdOff).D32(uint32(kdSize)).L32(dbOff).D32(uint32(len(blocks)))
	if s.Size() != hdrSize+triSize {
		return nil, fmt.Errorf("kdmptest: TRIAGE_DUMP is %#x bytes, want %#x", s.Size()-hdrSize, triSize)
	}
	s.Align(8)

	// DUMP_MM_STORAGE64/32: Version, Size, then the counters (zero).
	s.Mark(mmOff)
	if is64 {
		s.D32(1).D32(0x50).Repeat(0, 0x48)
	} else {
		s.D32(1).D32(0x34).Repeat(0, 0x2C)
	}
	s.Align(8)

	// Unloaded drivers: a count, then DUMP_UNLOADED_DRIVERS64/32.
	s.Mark(unlOff)
	s.DW(word, uint64(len(t.unloaded)))
	for _, u := range t.unloaded {
		name := utf16.Encode([]rune(u.Name))
		n := min(len(name)*2, 0xFFFF)
		s.D16(uint16(min(n, 24))).D16(uint16(min(n, 24)))
		if is64 {
			s.D32(0).D64(0) // alignment, Buffer
		} else {
			s.D32(0)
		}
		for i := range 12 {
			var c uint16
			if i < len(name) {
				c = name[i]
			}
			s.D16(c)
		}
		s.DW(word, u.Start).DW(word, u.End)
	}
	s.Align(8)

	// KPRCB, EPROCESS and ETHREAD copies.
	ptr := func(b []byte, at int, v uint64) {
		if word == 8 {
			le.PutUint64(b[at:], v)
		} else {
			le.PutUint32(b[at:], uint32(v))
		}
	}
	heads := func(b []byte, va uint64, offs ...int) {
		for _, o := range offs {
			ptr(b, o, va+uint64(o))
			ptr(b, o+word, va+uint64(o))
		}
	}
	if t.objects {
		prcb := make([]byte, synthSizePrcb)
		ptr(prcb, word, t.threadVA) // KPRCB.CurrentThread: +8 on x64, +4 on x86
		if t.prcbContext != nil {
			ptr(prcb, synthPrcbContext, t.prcbCtxVA)
		}
		heads(prcb, t.prcbVA, 0x20, 0x30, 0x40, 0x150)
		proc := make([]byte, synthSizeEProcess)
		heads(proc, t.processVA, 0x10, 0x20, 0x80)
		name := synthImageFileName32
		if is64 {
			name = synthImageFileName64
		}
		copy(proc[name:name+14], t.process)
		thr := make([]byte, synthSizeEThread)
		heads(thr, t.threadVA, 0x20, 0x30, 0x60)
		ptr(thr, synthApcProcess, t.processVA)
		s.Mark(prcbOff).Append(prcb).Align(8)
		s.Mark(procOff).Append(proc).Align(8)
		s.Mark(thrOff).Append(thr).Align(8)
	} else {
		zero(prcbOff)
		zero(procOff)
		zero(thrOff)
	}

	// Call stack.
	if len(t.stack) > 0 {
		s.Mark(csOff).Append(t.stack).Align(8)
	} else {
		zero(csOff)
	}

	// KDDEBUGGER_DATA64: DBGKD_DEBUG_DATA_HEADER64 {List, OwnerTag, Size}
	// then the fields up to OffsetPrcbContext.
	if t.kdbg {
		k := make([]byte, kdbgBlockSize)
		copy(k[0x10:], "KDBG")
		le.PutUint32(k[0x14:], kdbgBlockSize)
		if len(t.drivers) > 0 {
			le.PutUint64(k[0x18:], t.drivers[0].Base) // KernBase
		}
		le.PutUint64(k[0x48:], h.psLoaded)
		le.PutUint64(k[0x50:], h.psActive)
		for at, v := range map[int]uint16{
			0x2A0: synthApcProcess, 0x2A8: synthSizeEProcess, 0x2AC: synthParentCID, 0x2B0: synthSizePrcb,
			0x2B4: uint16(word), 0x2C0: synthSizeEThread, 0x338: synthPrcbContext,
		} {
			le.PutUint16(k[at:], v)
		}
		s.Mark(kdOff).Append(k).Align(8)
	} else {
		zero(kdOff)
	}

	// Driver list and string pool.
	names := make([]*testasm.Label, len(t.drivers))
	if len(t.drivers) > 0 {
		s.Mark(dlOff)
		for i, d := range t.drivers {
			names[i] = lbl(fmt.Sprintf("driver %d name", i))
			if i == t.broken {
				brokenOff.Set(uint64(s.Size()))
			}
			if is64 {
				s.L32(names[i]).D32(0)
				s.D64(0).D64(0).D64(0).D64(0).D64(0).D64(0) // InLoadOrderLinks, __Undefined1..3, NonPagedDebugInfo
				s.D64(d.Base).D64(d.EntryPoint).D32(d.Size).D32(0)
				s.Repeat(0, 32) // FullDllName, BaseDllName
				s.D32(d.Flags).D16(1).D16(0).D64(0)
				s.D32(d.CheckSum).D32(0).D32(d.TimeDateStamp).D32(0)
			} else {
				s.L32(names[i])
				s.D32(0).D32(0).D32(0).D32(0).D32(0).D32(0)
				s.D32(uint32(d.Base)).D32(uint32(d.EntryPoint)).D32(d.Size)
				s.Repeat(0, 16)
				s.D32(d.Flags).D16(1).D16(0).D32(0)
				s.D32(d.CheckSum).D32(d.TimeDateStamp)
			}
		}
		s.Align(8)
		s.Mark(spOff)
		start := s.Size()
		for i, d := range t.drivers {
			s.Mark(names[i])
			u := utf16.Encode([]rune(d.Name))
			s.D32(uint32(len(u)))
			for _, c := range u {
				s.D16(c)
			}
			s.D16(0).Align(8)
		}
		spSize.Set(uint64(s.Size() - start))
	} else {
		zero(dlOff)
		zero(spOff)
		zero(spSize)
	}
	if t.broken < 0 || t.broken >= len(t.drivers) {
		zero(brokenOff)
	}

	// Data page, then TRIAGE_DATA_BLOCKs followed by their data.
	if t.dataPage != nil {
		s.Mark(dpOff).Append(t.dataPage.Data).Align(8)
	} else {
		zero(dpOff)
	}
	if len(blocks) > 0 {
		s.Mark(dbOff)
		data := make([]*testasm.Label, len(blocks))
		for i, b := range blocks {
			data[i] = lbl(fmt.Sprintf("block %d", i))
			s.D64(b.Address).L32(data[i]).D32(uint32(len(b.Data)))
		}
		for i, b := range blocks {
			s.Mark(data[i]).Append(b.Data)
		}
	} else {
		zero(dbOff)
	}
	s.Align(8)
	s.Mark(validOff).Append([]byte("TRGD"))
	sizeOfDump.Set(uint64(s.Size()))

	// Tagged blobs (DUMP_BLOB_FILE_HEADER, then DUMP_BLOB_HEADERs with
	// their data).
	if t.blobs {
		s.Append([]byte("DumpBlob")).D32(0x10).D32(h.build)
		for i, n := range []int{0x10, 0x7} {
			s.D32(0x20).Repeat(byte(0x11*(i+1)), 16).D32(uint32(n)).D32(0).D32(uint32((8 - n%8) % 8))
			s.Repeat(0xEE, n).Repeat(0, (8-n%8)%8)
		}
	}

	out, err := s.Bytes()
	if err != nil {
		return nil, err
	}
	le.PutUint64(out[reqAt:], uint64(len(out))) // RequiredDumpSpace
	for _, fs := range t.fields {
		at := hdrSize + fs.off
		if fs.size == 8 {
			le.PutUint64(out[at:], fs.v)
		} else {
			le.PutUint32(out[at:], uint32(fs.v))
		}
	}
	for _, p := range t.patches {
		if end := p.off + len(p.data); end > len(out) {
			out = append(out, make([]byte, end-len(out))...)
		}
		copy(out[p.off:], p.data)
	}
	if t.truncate >= 0 && t.truncate < len(out) {
		out = out[:t.truncate]
	}
	return out, nil
}

// ReaderAt assembles the dump and returns it as an io.ReaderAt with its size.
func (t *TriageBuilder) ReaderAt() (io.ReaderAt, int64, error) {
	out, err := t.Bytes()
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(out), int64(len(out)), nil
}

// ContextAMD64 encodes an x64 CONTEXT (winnt.h, 0x4D0 bytes): P1Home..P6Home,
// ContextFlags, MxCsr, SegCs..SegSs, EFlags, Dr0..Dr3, Dr6, Dr7, Rax, Rcx,
// Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8..R15, Rip, then FltSave, the vector
// registers and the branch registers (zero). regs holds registers by
// lowercase name ("contextflags" overrides CONTEXT_AMD64|CONTEXT_ALL's
// 0x0010001F).
func ContextAMD64(regs map[string]uint64) []byte {
	s := testasm.New(binary.LittleEndian)
	flags := uint32(0x0010001F)
	if v, ok := regs["contextflags"]; ok {
		flags = uint32(v)
	}
	s.Repeat(0, 6*8).D32(flags).D32(uint32(regs["mxcsr"]))
	for _, r := range []string{"cs", "ds", "es", "fs", "gs", "ss"} {
		s.D16(uint16(regs[r]))
	}
	s.D32(uint32(regs["eflags"])).Repeat(0, 6*8)
	for _, r := range []string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"} {
		s.D64(regs[r])
	}
	s.Repeat(0, 512+26*16+8+5*8)
	return s.MustBytes()
}

// ContextARM64 encodes ARM64_NT_CONTEXT (winnt.h, 0x390 bytes):
// ContextFlags, Cpsr, X0..X28, Fp, Lr, Sp, Pc, V[32], Fpcr, Fpsr and the
// debug registers (zero). regs holds x0..x28, fp, lr, sp, pc, cpsr, fpcr,
// fpsr ("contextflags" overrides CONTEXT_ARM64|CONTROL|INTEGER|FLOATING's
// 0x00400007).
func ContextARM64(regs map[string]uint64) []byte {
	s := testasm.New(binary.LittleEndian)
	flags := uint32(0x00400007)
	if v, ok := regs["contextflags"]; ok {
		flags = uint32(v)
	}
	s.D32(flags).D32(uint32(regs["cpsr"]))
	for i := range 29 {
		s.D64(regs[fmt.Sprintf("x%d", i)])
	}
	s.D64(regs["fp"]).D64(regs["lr"]).D64(regs["sp"]).D64(regs["pc"])
	s.Repeat(0, 32*16).D32(uint32(regs["fpcr"])).D32(uint32(regs["fpsr"]))
	s.Repeat(0, 8*4+8*8+2*4+2*8) // Bcr, Bvr, Wcr, Wvr
	return s.MustBytes()
}

// ContextX86 encodes the x86 CONTEXT (winnt.h, 0x2CC bytes): ContextFlags,
// Dr0..Dr3, Dr6, Dr7, FloatSave (112 bytes), SegGs, SegFs, SegEs, SegDs,
// Edi, Esi, Ebx, Edx, Ecx, Eax, Ebp, Eip, SegCs, EFlags, Esp, SegSs,
// ExtendedRegisters (512 bytes). regs holds eax..edi, ebp, esp, eip, efl
// and the segment registers ("contextflags" overrides 0x0001003F).
func ContextX86(regs map[string]uint64) []byte {
	s := testasm.New(binary.LittleEndian)
	flags := uint32(0x0001003F)
	if v, ok := regs["contextflags"]; ok {
		flags = uint32(v)
	}
	s.D32(flags).Repeat(0, 6*4+112)
	for _, r := range []string{"gs", "fs", "es", "ds", "edi", "esi", "ebx", "edx", "ecx", "eax", "ebp", "eip", "cs", "efl", "esp", "ss"} {
		s.D32(uint32(regs[r]))
	}
	s.Repeat(0, 512)
	return s.MustBytes()
}

// TriageScenarios returns named triage builders: the three architectures,
// a minimal one, and damaged variants whose damage must become
// diagnostics. Tests and fuzz seeds share them.
func TriageScenarios() map[string]func() *TriageBuilder {
	return map[string]func() *TriageBuilder{
		"triage-x64":   NewTriage,
		"triage-arm64": NewTriageARM64,
		"triage-x86":   NewTriage32,
		"triage-bare": func() *TriageBuilder {
			return NewTriage().DebuggerData(false).Objects(false).Blobs(false).DataBlocks().PrcbContext(nil, 0).Unloaded()
		},
		"triage-broken-driver": func() *TriageBuilder { return NewTriage().BrokenDriver(2) },
		"triage-data-page": func() *TriageBuilder {
			return NewTriage().DataPage(&TriageBlock{Address: 0xffff850429891000, Data: bytes.Repeat([]byte{0x77}, 0x40)})
		},
		"triage-offsets-past-eof": func() *TriageBuilder {
			return NewTriage().Set(FieldDriverListOffset, 0x7fff0000).Set(FieldPrcbOffset, 0x7fff0000).Set(FieldCallStackOffset, 0x7fff0000)
		},
		"triage-huge-counts": func() *TriageBuilder {
			return NewTriage().Set(FieldDriverCount, 0xfffffff0).Set(Field64DataBlocksCount, 0xfffffff0).Set(FieldSizeOfCallStack, 0xfffffff0)
		},
		"triage-string-pool-overrun": func() *TriageBuilder { return NewTriage().Set(FieldStringPoolSize, 0x10) },
		"triage-truncated":           func() *TriageBuilder { return NewTriage().Truncate(0x2400) },
	}
}
