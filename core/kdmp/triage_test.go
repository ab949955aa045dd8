package kdmp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// triageCase is a triage dump spelled out completely, so that every
// decoded field can be compared with what was written.
type triageCase struct {
	b           *kdmptest.TriageBuilder
	is64        bool
	ctxRegs     map[string]uint64 // at ContextOffset
	threadRegs  map[string]uint64 // the context with SP == TopOfStack
	prcbCtxVA   uint64            // 0: the thread context is the header's
	stackTop    uint64
	stack       []byte
	drivers     []kdmptest.TriageDriver
	unloaded    []kdmptest.TriageUnloaded
	wantUnl     []string // the names the dump can hold
	blocks      []kdmptest.TriageBlock
	addrs       [3]uint64 // KPRCB, ETHREAD, EPROCESS
	kdbg        uint64
	exc         kdmptest.TriageException
	triageStart int64
}

func amd64Case() triageCase {
	ctx := map[string]uint64{"rax": 0x11, "rbx": 0x22, "rcx": 0x33, "rdx": 0x44, "rsi": 0x55, "rdi": 0x66, "rbp": 0xffff850429890f80,
		"rsp": 0xffff850429891000, "r8": 8, "r9": 9, "r10": 10, "r11": 11, "r12": 12, "r13": 13, "r14": 14, "r15": 15,
		"rip": 0xfffff8048b58334c, "eflags": 0x10282, "cs": 0x10, "ds": 0x2b, "es": 0x2b, "fs": 0x53, "gs": 0x2b, "ss": 0x18, "mxcsr": 0x1f80}
	thr := map[string]uint64{"rax": 0xffff850429891720, "rcx": 0x7e, "rdx": 0xffffffffc0000005, "rsp": 0xffff850429890ee8,
		"rbp": 0xffff850429892c10, "rip": 0xfffff8047bdf5a80, "eflags": 0x40286, "cs": 0x10, "ss": 0x18, "mxcsr": 0x1f80}
	c := triageCase{
		is64: true, ctxRegs: ctx, threadRegs: thr, prcbCtxVA: 0xffff9b00021ff340,
		stackTop: 0xffff850429890ee8, stack: pattern(0x300, 1),
		drivers: []kdmptest.TriageDriver{
			{Name: `\SystemRoot\system32\ntoskrnl.exe`, Base: 0xfffff8047ba00000, EntryPoint: 0xfffff8047c011010, Size: 0x1046000, CheckSum: 0xa5938c, TimeDateStamp: 0x0d8333e6},
			{Name: `\SystemRoot\System32\drivers\amdppm.sys`, Base: 0xfffff8048b580000, Size: 0x3b000, TimeDateStamp: 0xc9c03000, Flags: 0x49104000},
			{Name: `\SystemRoot\System32\drivers\Ünïcode.sys`, Base: 0xfffff8048b600000, Size: 0x1000},
		},
		unloaded: []kdmptest.TriageUnloaded{
			{Name: "dam.sys", Start: 0xfffff80487de0000, End: 0xfffff80487dfc000},
			{Name: "averyveryverylongname.sys", Start: 0xfffff8047ec00000, End: 0xfffff8047ec29000},
		},
		wantUnl: []string{"dam.sys", "averyveryver"},
		blocks: []kdmptest.TriageBlock{
			{Address: 0xfffff8047c62a7a0, Data: pattern(0x9c, 2)},
			{Address: 0xffff850429891100, Data: pattern(0x300, 3)}, // overlaps the stack's end
		},
		addrs: [3]uint64{0xfffff804782d4180, 0xffffc08bde9e1640, 0xffffc08bdce94180},
		kdbg:  0xfffff8047c600b20,
		exc:   kdmptest.TriageException{Code: 0xc0000005, Flags: 0, Address: 0xfffff8048b58334c, Params: []uint64{1, 0xdead}},
	}
	c.b = kdmptest.NewTriage().Context(kdmptest.ContextAMD64(ctx)).PrcbContext(kdmptest.ContextAMD64(thr), c.prcbCtxVA).
		Stack(c.stackTop, c.stack).Drivers(c.drivers...).Unloaded(c.unloaded...).DataBlocks(c.blocks...).
		Addresses(c.addrs[0], c.addrs[1], c.addrs[2]).Exception(&c.exc)
	c.b.Header().KdDebuggerDataBlock(c.kdbg)
	c.triageStart = 0x2000
	return c
}

func arm64Case() triageCase {
	regs := map[string]uint64{"fp": 0xffffe00e0e4bc4a0, "lr": 0xfffff803f33442a0, "sp": 0xffffe00e0e4bc4a0,
		"pc": 0xfffff803f32de014, "cpsr": 0x80000144, "fpcr": 0x3, "fpsr": 0x10}
	for i := range 29 {
		regs[fmt.Sprintf("x%d", i)] = 0x1000 + uint64(i)
	}
	c := triageCase{
		is64: true, ctxRegs: regs, threadRegs: regs,
		stackTop: 0xffffe00e0e4bc4a0, stack: pattern(0x200, 4),
		drivers: []kdmptest.TriageDriver{
			{Name: `\SystemRoot\system32\ntoskrnl.exe`, Base: 0xfffff803f2e00000, Size: 0x103e000, TimeDateStamp: 0xdf291b09},
		},
		unloaded: []kdmptest.TriageUnloaded{{Name: "MSKSSRV.sys", Start: 0xfffff80400000000, End: 0xfffff80400011000}},
		wantUnl:  []string{"MSKSSRV.sys"},
		blocks:   []kdmptest.TriageBlock{{Address: 0xfffff803f3a20860, Data: pattern(0xa0, 5)}},
		addrs:    [3]uint64{0xfffff803efd00980, 0xffffbb8eb1719180, 0xffffbb8eb1690080},
		kdbg:     0xfffff803f3a00d00,
		exc:      kdmptest.TriageException{Code: 0x80000003, Flags: 1, Address: 0xfffff803f32de014},
	}
	c.b = kdmptest.NewTriageARM64().Context(kdmptest.ContextARM64(regs)).PrcbContext(nil, 0).
		Stack(c.stackTop, c.stack).Drivers(c.drivers...).Unloaded(c.unloaded...).DataBlocks(c.blocks...).
		Addresses(c.addrs[0], c.addrs[1], c.addrs[2]).Exception(&c.exc)
	c.b.Header().KdDebuggerDataBlock(c.kdbg)
	c.triageStart = 0x2000
	return c
}

func x86Case() triageCase {
	ctx := map[string]uint64{"eax": 1, "ebx": 2, "ecx": 3, "edx": 4, "esi": 5, "edi": 6, "ebp": 0x8c890f80, "esp": 0x8c891000,
		"eip": 0x8b58334c, "efl": 0x10282, "cs": 0x8, "ss": 0x10, "ds": 0x23, "es": 0x23, "fs": 0x30, "gs": 0}
	thr := map[string]uint64{"eax": 0x8c891720, "ecx": 0x7e, "esp": 0x8c890ee8, "ebp": 0x8c890f40, "eip": 0x82af5a80, "efl": 0x246, "cs": 0x8, "ss": 0x10}
	c := triageCase{
		ctxRegs: ctx, threadRegs: thr, prcbCtxVA: 0x8cff0340,
		stackTop: 0x8c890ee8, stack: pattern(0x280, 6),
		drivers: []kdmptest.TriageDriver{
			{Name: `\SystemRoot\system32\ntkrnlpa.exe`, Base: 0x82a00000, EntryPoint: 0x82b11010, Size: 0x410000, CheckSum: 0x3d3f9c, TimeDateStamp: 0x4ce7951a},
			{Name: `\SystemRoot\System32\drivers\amdppm.sys`, Base: 0x8b580000, Size: 0xb000, TimeDateStamp: 0x4a5bc0fd, Flags: 4},
		},
		unloaded: []kdmptest.TriageUnloaded{{Name: "dam.sys", Start: 0x8bde0000, End: 0x8bdfc000}},
		wantUnl:  []string{"dam.sys"},
		// 32-bit writers sign-extend the address in TRIAGE_DATA_BLOCK.
		blocks: []kdmptest.TriageBlock{{Address: 0xffffffff82f2a7a0, Data: pattern(0x9c, 7)}},
		addrs:  [3]uint64{0x82f6dd20, 0x86c1a030, 0x84cf5020},
		kdbg:   0x82d74be8,
		exc:    kdmptest.TriageException{Code: 0xc0000005, Address: 0x8b58334c, Params: []uint64{0, 0x10}},
	}
	c.b = kdmptest.NewTriage32().Context(kdmptest.ContextX86(ctx)).PrcbContext(kdmptest.ContextX86(thr), c.prcbCtxVA).
		Stack(c.stackTop, c.stack).Drivers(c.drivers...).Unloaded(c.unloaded...).DataBlocks(c.blocks...).
		Addresses(c.addrs[0], c.addrs[1], c.addrs[2]).Exception(&c.exc)
	c.b.Header().KdDebuggerDataBlock(c.kdbg)
	c.triageStart = 0x1000
	return c
}

// pattern returns n bytes that differ from every other pattern's.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed<<4 ^ byte(i>>8)
	}
	return b
}

func checkRegs(t *testing.T, what string, c model.Context, want map[string]uint64) {
	t.Helper()
	if c == nil {
		t.Fatalf("%s: no context", what)
	}
	for _, r := range c.Regs() {
		if r.Value != want[r.Name] {
			t.Errorf("%s: %s = %#x, wrote %#x", what, r.Name, r.Value, want[r.Name])
		}
	}
	for name := range want {
		if _, ok := c.Reg(name); !ok {
			t.Errorf("%s: register %s missing", what, name)
		}
	}
}

// TestTriageDecode writes every part of a triage dump with kdmptest and
// reads each back: TRIAGE_DUMP, both contexts, the exception record, the
// drivers and unloaded drivers, the data blocks, the kernel structure
// copies and their addresses, and the memory they make up.
func TestTriageDecode(t *testing.T) {
	t.Parallel()
	for name, mk := range map[string]func() triageCase{"amd64": amd64Case, "arm64": arm64Case, "x86": x86Case} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := mk()
			f, raw := open(t, c.b)
			if d := f.Diagnostics(); len(d) != 0 {
				t.Fatalf("diagnostics on a valid dump: %+v", d)
			}
			le := binary.LittleEndian
			h := f.Triage()
			if h == nil || h.Off != c.triageStart {
				t.Fatalf("Triage() = %+v", h)
			}
			if string(raw[h.ValidOffset:h.ValidOffset+4]) != "TRGD" || h.SizeOfDump != h.ValidOffset+4 || h.ServicePackBuild != 1 {
				t.Errorf("SizeOfDump %#x ValidOffset %#x", h.SizeOfDump, h.ValidOffset)
			}
			if h.TopOfStack != c.stackTop || int(h.SizeOfCallStack) != len(c.stack) || !bytes.Equal(raw[h.CallStackOffset:int(h.CallStackOffset)+len(c.stack)], c.stack) {
				t.Errorf("stack: TopOfStack %#x size %#x at %#x", h.TopOfStack, h.SizeOfCallStack, h.CallStackOffset)
			}
			if h.DriverCount != uint32(len(c.drivers)) || h.TriageOptions != 0xffffffff || h.MiniDumpFields != 0xcff || h.DebuggerDataSize != 0x340 {
				t.Errorf("DriverCount/TriageOptions/MiniDumpFields/DebuggerDataSize = %d/%#x/%#x/%#x", h.DriverCount, h.TriageOptions, h.MiniDumpFields, h.DebuggerDataSize)
			}
			if got := le.Uint32(raw[h.MmOffset+4:]); h.MmOffset == 0 || (got != 0x50 && got != 0x34) {
				t.Errorf("MmOffset %#x holds DUMP_MM_STORAGE.Size %#x", h.MmOffset, got)
			}

			// Contexts.
			ths, err := f.Threads()
			if err != nil || len(ths) != 1 {
				t.Fatalf("Threads = %v, %v", ths, err)
			}
			th := ths[0]
			checkRegs(t, "thread context", th.Context, c.threadRegs)
			if th.ID != c.addrs[1] || th.StackStart != c.stackTop || th.StackSize != uint64(len(c.stack)) {
				t.Errorf("thread %#x stack %#x+%#x", th.ID, th.StackStart, th.StackSize)
			}
			ec, err := f.ExceptionContext()
			if err != nil {
				t.Fatal(err)
			}
			checkRegs(t, "exception context", ec, c.ctxRegs)
			if c.prcbCtxVA != 0 {
				cx, err := f.ContextAt(c.prcbCtxVA)
				if err != nil {
					t.Fatal(err)
				}
				checkRegs(t, ".cxr KPRCB.Context", cx, c.threadRegs)
			}
			if _, err := f.ContextAt(c.stackTop); err == nil {
				t.Errorf("ContextAt(stack) decoded a CONTEXT where there is none")
			}
			e, err := f.Exception()
			if err != nil {
				t.Fatal(err)
			}
			if e.Code != c.exc.Code || e.Flags != c.exc.Flags || e.Address != c.exc.Address || !slices.Equal(e.Information, c.exc.Params) && len(c.exc.Params) > 0 {
				t.Errorf("exception %+v, wrote %+v", e, c.exc)
			}

			// Drivers.
			drivers, err := f.TriageDrivers()
			if err != nil || len(drivers) != len(c.drivers) {
				t.Fatalf("TriageDrivers = %d, %v", len(drivers), err)
			}
			for i, d := range c.drivers {
				g := drivers[i]
				if g.Name != d.Name || g.Base != d.Base || g.Size != d.Size || g.TimeDateStamp != d.TimeDateStamp ||
					g.CheckSum != d.CheckSum || g.EntryPoint != d.EntryPoint || g.Flags != d.Flags {
					t.Errorf("driver %d = %+v, wrote %+v", i, g, d)
				}
				if g.Off != int64(h.DriverListOffset)+int64(i)*int64(map[bool]int{true: 0x90, false: 0x4c}[c.is64]) {
					t.Errorf("driver %d at %#x", i, g.Off)
				}
			}
			unl, err := f.TriageUnloadedDrivers()
			if err != nil || len(unl) != len(c.unloaded) {
				t.Fatalf("TriageUnloadedDrivers = %+v, %v", unl, err)
			}
			for i, u := range c.unloaded {
				if unl[i].Name != c.wantUnl[i] || unl[i].Start != u.Start || unl[i].End != u.End {
					t.Errorf("unloaded %d = %+v, wrote %+v", i, unl[i], u)
				}
			}
			mods, err := f.Modules()
			if err != nil || len(mods) != len(c.drivers)+len(c.unloaded) {
				t.Fatalf("Modules = %d, %v", len(mods), err)
			}
			for i, d := range c.drivers {
				m := mods[i]
				wantTime := time.Time{}
				if d.TimeDateStamp != 0 {
					wantTime = time.Unix(int64(d.TimeDateStamp), 0).UTC()
				}
				if m.Path != d.Name || m.Base != d.Base || m.Size != uint64(d.Size) || !m.Time.Equal(wantTime) || m.Checksum != d.CheckSum ||
					m.CodeID != fmt.Sprintf("%08X%x", d.TimeDateStamp, d.Size) || m.Unloaded {
					t.Errorf("module %d = %+v, wrote %+v", i, m, d)
				}
			}
			for i, u := range c.unloaded {
				m := mods[len(c.drivers)+i]
				if !m.Unloaded || m.Path != c.wantUnl[i] || m.Base != u.Start || m.Size != u.End-u.Start {
					t.Errorf("unloaded module %d = %+v", i, m)
				}
			}

			// The structure copies and the memory.
			space, err := f.Memory()
			if err != nil {
				t.Fatal(err)
			}
			read := func(addr uint64, n int) []byte {
				t.Helper()
				b := make([]byte, n)
				if err := mem.ReadFull(space, b, addr); err != nil {
					t.Errorf("read %#x+%#x: %v", addr, n, err)
				}
				return b
			}
			if got := read(c.stackTop, len(c.stack)); !bytes.Equal(got, c.stack) {
				t.Errorf("stack memory differs from the stack written")
			}
			addrMask := ^uint64(0)
			if !c.is64 {
				addrMask = 0xffffffff
			}
			blocks, err := f.TriageDataBlocks()
			if err != nil || len(blocks) != len(c.blocks)+map[bool]int{true: 1, false: 0}[c.prcbCtxVA != 0] {
				t.Fatalf("TriageDataBlocks = %+v, %v", blocks, err)
			}
			for i, b := range c.blocks {
				if blocks[i].Address != b.Address&addrMask || int(blocks[i].Size) != len(b.Data) {
					t.Errorf("data block %d = %+v", i, blocks[i])
				}
				// The stack wins where a block overlaps it.
				want := slices.Clone(b.Data)
				if lo, hi := b.Address&addrMask, b.Address&addrMask+uint64(len(b.Data)); lo < c.stackTop+uint64(len(c.stack)) && hi > c.stackTop {
					from := max(lo, c.stackTop)
					to := min(hi, c.stackTop+uint64(len(c.stack)))
					copy(want[from-lo:to-lo], c.stack[from-c.stackTop:to-c.stackTop])
				}
				if got := read(b.Address&addrMask, len(b.Data)); !bytes.Equal(got, want) {
					t.Errorf("data block %d memory differs", i)
				}
			}
			if got := read(c.kdbg, 0x18); string(got[0x10:0x14]) != "KDBG" {
				t.Errorf("KDDEBUGGER_DATA64 at %#x: % x", c.kdbg, got)
			}
			objs := []func() (*kdmp.TriageObject, error){f.TriagePrcb, f.TriageThread, f.TriageProcess}
			via := []string{"self-referencing list heads", "KPRCB.CurrentThread", "KTHREAD.ApcState.Process"}
			for i, get := range objs {
				o, err := get()
				if err != nil || o == nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if o.Address != c.addrs[i] || o.Via != via[i] || !bytes.Equal(raw[o.Off:o.Off+int64(len(o.Data))], o.Data) {
					t.Errorf("%s at %#x via %q, want %#x via %q", o.Name, o.Address, o.Via, c.addrs[i], via[i])
				}
				if got := read(o.Address+0x20, 8); !bytes.Equal(got, o.Data[0x20:0x28]) {
					t.Errorf("%s memory at %#x differs from the copy", o.Name, o.Address)
				}
			}
			labels := map[string]bool{}
			for r := range space.Regions() {
				labels[r.Label] = true
			}
			for _, l := range []string{"call stack", "data block", "KDDEBUGGER_DATA64", "KPRCB", "ETHREAD", "EPROCESS"} {
				if !labels[l] {
					t.Errorf("no region labelled %q: %v", l, labels)
				}
			}
			if _, err := space.ReadMemory(make([]byte, 8), 0x1000); !errors.Is(err, mem.ErrNotInDump) {
				t.Errorf("read at 0x1000: %v", err)
			}

			// The summary.
			info := f.Info()
			if info.Threads != 1 || info.Modules != len(c.drivers) {
				t.Errorf("Threads/Modules = %d/%d", info.Threads, info.Modules)
			}
			if info.Process == nil || info.Process.Name != "System" {
				t.Errorf("Process = %+v", info.Process)
			}
			if info.Crash == nil || info.Crash.ThreadID == nil || *info.Crash.ThreadID != c.addrs[1] {
				t.Errorf("Crash = %+v", info.Crash)
			}
			if got := detail(info, "Crash thread"); got != fmt.Sprintf("ETHREAD %#x", c.addrs[1]) {
				t.Errorf("Crash thread detail %q", got)
			}
			if got := detail(info, "Secondary data"); !strings.Contains(got, ": 2 tagged blobs") {
				t.Errorf("Secondary data detail %q", got)
			}
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics after decoding a valid dump: %+v", d)
			}
		})
	}
}

// TestTriageLayout checks the builder's bytes at the offsets ntiodump.h
// implies, independently of the package's tables.
func TestTriageLayout(t *testing.T) {
	t.Parallel()
	c := amd64Case()
	raw, err := c.b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint32(raw[0xF98:]) != 4 || le.Uint64(raw[0x2048:]) != c.stackTop || le.Uint32(raw[0x2074:]) != 0x340 {
		t.Errorf("DumpType %d TopOfStack %#x DebuggerDataSize %#x", le.Uint32(raw[0xF98:]), le.Uint64(raw[0x2048:]), le.Uint32(raw[0x2074:]))
	}
	// The first driver entry: its name at +0, DllBase at +0x38,
	// SizeOfImage at +0x48, TimeDateStamp at +0x88; the DUMP_STRING holds
	// the UTF-16 length.
	dl := le.Uint32(raw[0x2030:])
	d := c.drivers[0]
	if le.Uint64(raw[dl+0x38:]) != d.Base || le.Uint32(raw[dl+0x48:]) != d.Size || le.Uint32(raw[dl+0x88:]) != d.TimeDateStamp {
		t.Errorf("driver entry at %#x", dl)
	}
	name := le.Uint32(raw[dl:])
	if le.Uint32(raw[name:]) != uint32(len(d.Name)) || name != le.Uint32(raw[0x2038:]) {
		t.Errorf("DUMP_STRING at %#x: length %d", name, le.Uint32(raw[name:]))
	}
	if le.Uint32(raw[0x348+0x30:]) != 0x0010001f || le.Uint64(raw[0x348+0xf8:]) != c.ctxRegs["rip"] || le.Uint32(raw[0xF00:]) != c.exc.Code {
		t.Errorf("header context/exception")
	}
}

// TestTriageDamage makes each section lie and checks that the damage is a
// diagnostic, that NewFile and every decoder still succeed, and that what
// can be read still is.
func TestTriageDamage(t *testing.T) {
	t.Parallel()
	base := func() *kdmptest.TriageBuilder { return amd64Case().b }
	ref, err := base().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	dl := int(le.Uint32(ref[0x2030:]))
	pool := int(le.Uint32(ref[0x2038:]))
	unl := int(le.Uint32(ref[0x2018:]))
	db := int(le.Uint32(ref[0x2078:]))
	valid := int(le.Uint32(ref[0x2008:]))
	u32 := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	for name, tc := range map[string]struct {
		b        *kdmptest.TriageBuilder
		sev      model.Severity
		off      int64 // -1: any offset
		drivers  int   // -1: do not check
		noThread bool
	}{
		"driver-list-past-eof":  {b: base().Set(kdmptest.FieldDriverListOffset, 0x7fff0000), sev: model.Error, off: 0x2030, drivers: 0},
		"prcb-past-eof":         {b: base().Set(kdmptest.FieldPrcbOffset, 0x7fff0000), sev: model.Error, off: 0x201c, drivers: 3},
		"stack-past-eof":        {b: base().Set(kdmptest.FieldCallStackOffset, 0x7fff0000), sev: model.Error, off: 0x2028, drivers: 3},
		"stack-too-long":        {b: base().Set(kdmptest.FieldSizeOfCallStack, 0xfffffff0), sev: model.Error, off: 0x202c, drivers: 3},
		"driver-count-too-big":  {b: base().Set(kdmptest.FieldDriverCount, 0xfffffff0), sev: model.Error, off: 0x2034, drivers: -1},
		"block-count-too-big":   {b: base().Set(kdmptest.Field64DataBlocksCount, 0xfffffff0), sev: model.Error, off: 0x207c, drivers: 3},
		"string-pool-too-small": {b: base().Set(kdmptest.FieldStringPoolSize, 8), sev: model.Warning, off: int64(dl), drivers: 3},
		"string-pool-past-eof":  {b: base().Set(kdmptest.FieldStringPoolOffset, 0x7fff0000), sev: model.Error, off: 0x2038, drivers: 3},
		"string-too-long":       {b: base().Patch(pool, u32(0x7fffffff)), sev: model.Warning, off: int64(dl), drivers: 3},
		"string-overruns-pool":  {b: base().Patch(pool, u32(0x4000)), sev: model.Warning, off: int64(dl), drivers: 3},
		"name-offset-past-eof":  {b: base().Patch(dl, u32(0x7fff0000)), sev: model.Warning, off: int64(dl), drivers: 3},
		"unloaded-count-lies":   {b: base().Patch(unl, u32(1000)), sev: model.Warning, off: int64(unl), drivers: 3},
		"unloaded-name-long":    {b: base().Patch(unl+8, []byte{100, 0}), sev: model.Warning, off: int64(unl + 8), drivers: 3},
		"unloaded-inverted":     {b: base().Patch(unl+8+0x28, le.AppendUint64(nil, 0xffffffffffffffff)), sev: model.Warning, off: int64(unl + 8), drivers: 3},
		"data-block-past-eof":   {b: base().Patch(db+8, u32(0x7fff0000)), sev: model.Warning, off: int64(db), drivers: 3},
		"exception-params":      {b: base().Patch(0xF18, u32(99)), sev: model.Warning, off: 0xF00, drivers: 3},
		"broken-driver-bogus":   {b: base().Set(kdmptest.FieldBrokenDriverOffset, 0x2001), sev: model.Warning, off: 0x2040, drivers: 3},
		"truncated-in-blocks":   {b: base().Truncate(db + 0x20), sev: model.Error, off: -1, drivers: 3},
		// The context record in DUMP_HEADER survives.
		"truncated-in-header": {b: base().Truncate(0x2040), sev: model.Error, off: 0x2040, drivers: 0},
		"no-marker":           {b: base().Patch(valid, []byte("XXXX")), sev: model.Warning, off: int64(valid), drivers: 3},
		"context-never-written": {b: base().Patch(0x348+0x30, []byte("PAGE")).PrcbContext(nil, 0).Stack(0, nil),
			sev: model.Warning, off: -1, drivers: 3, noThread: false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, _ := open(t, tc.b)
			_ = f.Info()
			drivers, err := f.TriageDrivers()
			if err != nil {
				t.Fatalf("TriageDrivers: %v", err)
			}
			if tc.drivers >= 0 && len(drivers) != tc.drivers {
				t.Errorf("%d drivers, want %d", len(drivers), tc.drivers)
			}
			exercise(t, f)
			if _, err := f.Threads(); (err != nil) != tc.noThread {
				t.Errorf("Threads: %v", err)
			}
			d := f.Diagnostics()
			ok := slices.ContainsFunc(d, func(x model.Diagnostic) bool { return x.Severity == tc.sev && (tc.off < 0 || x.Off == tc.off) })
			if !ok {
				t.Errorf("want a %v diagnostic at %#x, got %+v", tc.sev, tc.off, d)
			}
		})
	}
}

// exercise calls every decoder of the target, which must not fail with
// anything but a FormatError, a fault or an absence.
func exercise(t *testing.T, f *kdmp.File) {
	t.Helper()
	check := func(what string, err error) {
		t.Helper()
		var fe *kdmp.FormatError
		var mf *mem.FaultError
		if err != nil && !errors.As(err, &fe) && !errors.As(err, &mf) && !errors.Is(err, model.ErrNotRecorded) && !errors.Is(err, kdmp.ErrBadContext) && !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: %v", what, err)
		}
	}
	_ = f.Info()
	ths, err := f.Threads()
	check("Threads", err)
	_, err = f.Modules()
	check("Modules", err)
	_, err = f.ExceptionContext()
	check("ExceptionContext", err)
	_, err = f.Exception()
	check("Exception", err)
	space, err := f.Memory()
	check("Memory", err)
	if space != nil {
		for r := range space.Regions() {
			b := make([]byte, min(r.Size, 64))
			_, err := space.ReadMemory(b, r.Start)
			check("ReadMemory", err)
		}
	}
	for _, th := range ths {
		if th.Context != nil {
			_, err := f.ContextAt(th.Context.SP())
			check("ContextAt", err)
		}
	}
	_, err = f.TriageBrokenDriver()
	check("TriageBrokenDriver", err)
	_, err = f.TriageUnloadedDrivers()
	check("TriageUnloadedDrivers", err)
	_, err = f.TriagePrcb()
	check("TriagePrcb", err)
}

// TestTriageScenarios opens every kdmptest triage scenario and runs every
// decoder.
func TestTriageScenarios(t *testing.T) {
	t.Parallel()
	for name, mk := range kdmptest.TriageScenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, _ := open(t, mk())
			exercise(t, f)
			valid := !strings.Contains(name, "past-eof") && !strings.Contains(name, "huge") && !strings.Contains(name, "overrun") && !strings.Contains(name, "truncated")
			if d := f.Diagnostics(); valid && len(d) != 0 {
				t.Errorf("diagnostics: %+v", d)
			} else if !valid && len(d) == 0 {
				t.Errorf("no diagnostic for a damaged dump")
			}
		})
	}
}

func TestTriageBrokenDriverAndDataPage(t *testing.T) {
	t.Parallel()
	f, _ := open(t, amd64Case().b.BrokenDriver(1).DataPage(&kdmptest.TriageBlock{Address: 0xffff850429a00000, Data: pattern(0x40, 9)}))
	if name, err := f.TriageBrokenDriver(); err != nil || name != `\SystemRoot\System32\drivers\amdppm.sys` {
		t.Errorf("broken driver %q, %v", name, err)
	}
	if got := detail(f.Info(), "Broken driver"); got != `\SystemRoot\System32\drivers\amdppm.sys` {
		t.Errorf("Broken driver detail %q", got)
	}
	space, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 0x40)
	if err := mem.ReadFull(space, b, 0xffff850429a00000); err != nil || !bytes.Equal(b, pattern(0x40, 9)) {
		t.Errorf("data page: %v", err)
	}
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %+v", d)
	}
}

// TestTriageWithoutHelpers: no KDDEBUGGER_DATA64, no structure copies, no
// KPRCB.Context: the thread context falls back to the context record and
// the addresses are unknown.
func TestTriageWithoutHelpers(t *testing.T) {
	t.Parallel()
	c := amd64Case()
	f, _ := open(t, c.b.DebuggerData(false).Objects(false).PrcbContext(nil, 0))
	ths, err := f.Threads()
	if err != nil || len(ths) != 1 || ths[0].ID != 0 {
		t.Fatalf("Threads = %+v, %v", ths, err)
	}
	checkRegs(t, "thread context", ths[0].Context, c.ctxRegs)
	if o, err := f.TriageThread(); o != nil || err != nil {
		t.Errorf("TriageThread = %+v, %v", o, err)
	}
	if f.Info().Process != nil || f.TriageProcessName() != "" {
		t.Errorf("process %+v", f.Info().Process)
	}
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %+v", d)
	}
}

// TestTriageThreadNotCurrent: the dumped thread is not KPRCB.CurrentThread
// (as for bugcheck 0xEA); its own list heads place it.
func TestTriageThreadNotCurrent(t *testing.T) {
	t.Parallel()
	c := amd64Case()
	raw, err := c.b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	prcb := le.Uint32(raw[0x201c:])
	le.PutUint64(raw[prcb+8:], 0xffffc08bde000000) // another thread
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	o, err := f.TriageThread()
	if err != nil || o.Address != c.addrs[1] || o.Via != "self-referencing list heads" {
		t.Errorf("TriageThread = %+v, %v", o, err)
	}
}

// TestNonTriageTarget: the target methods of a dump type not decoded yet
// say model.ErrNotRecorded.
func TestNonTriageTarget(t *testing.T) {
	t.Parallel()
	f, _ := open(t, kdmptest.New().DumpType(kdmptest.Header))
	_, e1 := f.Threads()
	_, e2 := f.Modules()
	_, e3 := f.Memory()
	_, e4 := f.ExceptionContext()
	_, e5 := f.ContextAt(0x1000)
	_, e6 := f.TriageDrivers()
	for i, err := range []error{e1, e2, e3, e4, e5, e6} {
		if !errors.Is(err, model.ErrNotRecorded) {
			t.Errorf("method %d: %v", i+1, err)
		}
	}
	if f.Triage() != nil {
		t.Error("Triage() on a header-only dump")
	}
	if e, err := f.Exception(); err != nil || e.Code != 0x80000003 {
		t.Errorf("Exception = %+v, %v", e, err)
	}
	// The pre-existing minimal triage layout (kdmptest.New().DumpType(4),
	// every TRIAGE_DUMP field past ValidOffset "PAGE") is a triage dump
	// with nothing in it.
	g, _ := open(t, kdmptest.New().DumpType(kdmptest.Triage))
	if _, err := g.Threads(); !errors.Is(err, model.ErrNotRecorded) {
		t.Errorf("Threads of an empty triage dump: %v", err)
	}
	if m, err := g.Modules(); !errors.Is(err, model.ErrNotRecorded) {
		t.Errorf("Modules of an empty triage dump: %v, %v", m, err)
	}
	exercise(t, g)
	if d := g.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %+v", d)
	}
}

// TestTriageAllocations: counts and sizes that claim gigabytes cost no
// more memory than the file justifies. Not parallel, so that other tests'
// allocations do not count.
func TestTriageAllocations(t *testing.T) {
	b := amd64Case().b.Set(kdmptest.FieldDriverCount, 0xfffffff0).Set(kdmptest.Field64DataBlocksCount, 0xfffffff0).
		Set(kdmptest.FieldSizeOfCallStack, 0xfffffff0).Set(kdmptest.FieldStringPoolSize, 0xfffffff0).
		Set(kdmptest.Field64DataPageOffset, 0x2100).Set64(kdmptest.Field64DataPageAddress, 0xffff800000000000).Set(kdmptest.Field64DataPageSize, 0xfffffff0)
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	exercise(t, f)
	runtime.ReadMemStats(&after)
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(64*len(raw)+1<<20); got > limit {
		t.Errorf("decoding a %#x-byte dump allocated %#x bytes (limit %#x)", len(raw), got, limit)
	}
}

// TestTriageConcurrent decodes one dump from many goroutines at once (run
// with -race): every view is memoised behind sync.OnceValues.
func TestTriageConcurrent(t *testing.T) {
	t.Parallel()
	f, _ := open(t, amd64Case().b)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			exercise(t, f)
			_, _ = f.TriageDataBlocks()
			_ = f.Diagnostics()
		}()
	}
	for range 8 {
		<-done
	}
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %+v", d)
	}
}
