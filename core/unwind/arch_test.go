package unwind

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

// order is binary.LittleEndian or binary.BigEndian.
type order interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// cfiBuilder assembles an .eh_frame (eh) or .debug_frame section at
// synthSecAddr by hand, in either byte order: one CIE, then FDEs.
type cfiBuilder struct {
	order order
	eh    bool
	ptr   int // address size of .debug_frame FDEs
	b     []byte
}

// cie appends the CIE: .eh_frame's with augmentation "zR" (FDE addresses
// pcrel|sdata4), .debug_frame's with none. dataAlign is one SLEB128 byte.
func (c *cfiBuilder) cie(codeAlign, dataAlign, ra byte, insns ...byte) {
	id := uint32(0xffffffff)
	body := []byte{1} // version
	if c.eh {
		id = 0
		body = append(body, 'z', 'R', 0, codeAlign, dataAlign, ra, 1, 0x1b)
	} else {
		body = append(body, 0, codeAlign, dataAlign, ra)
	}
	body = append(c.order.AppendUint32(nil, id), append(body, insns...)...)
	c.b = append(c.order.AppendUint32(c.b, uint32(len(body))), body...)
}

// fde appends an FDE for [begin, begin+size) of the CIE at offset 0.
func (c *cfiBuilder) fde(begin, size uint64, insns ...byte) {
	start := len(c.b) + 4 // the CIE pointer's offset
	var body []byte
	if c.eh {
		body = c.order.AppendUint32(nil, uint32(start))
		body = c.order.AppendUint32(body, uint32(int32(int64(begin)-int64(synthSecAddr+start+4))))
		body = c.order.AppendUint32(body, uint32(size))
		body = append(body, 0) // augmentation data length
	} else {
		body = c.order.AppendUint32(nil, 0)
		if c.ptr == 4 {
			body = c.order.AppendUint32(body, uint32(begin))
			body = c.order.AppendUint32(body, uint32(size))
		} else {
			body = c.order.AppendUint64(body, begin)
			body = c.order.AppendUint64(body, size)
		}
	}
	body = append(body, insns...)
	c.b = append(c.order.AppendUint32(c.b, uint32(len(body))), body...)
}

// table parses the section for arch.
func (c *cfiBuilder) table(t *testing.T, arch *cfiArch) *cfiTable {
	t.Helper()
	data := c.b
	if c.eh {
		data = c.order.AppendUint32(append([]byte(nil), data...), 0)
	}
	fdes, bad := parseCFIOrder(data, synthSecAddr, 0, c.eh, arch.ptrSize, c.order)
	if bad != 0 || len(fdes) == 0 {
		t.Fatalf("%d FDEs, %d malformed entries", len(fdes), bad)
	}
	return &cfiTable{arch: arch, order: c.order, fdes: fdes}
}

// tableRules applies a cfiTable whose addresses are the run-time ones.
type tableRules struct{ t *cfiTable }

func (r tableRules) Caller(pc uint64, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	return r.t.caller(pc, callee, read)
}

// words lays out ptr-byte words in order from base.
func words(order order, ptr int, base uint64, ws ...uint64) memtest.Map {
	var b []byte
	for _, w := range ws {
		if ptr == 4 {
			b = order.AppendUint32(b, uint32(w))
		} else {
			b = order.AppendUint64(b, w)
		}
	}
	return memtest.Map{base: b}
}

// merge joins memtest maps.
func merge(ms ...memtest.Map) memtest.Map {
	out := memtest.Map{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func ctx(arch model.Arch, regs map[string]uint64) model.Context {
	c := regsContext{arch: arch, pc: "pc"}
	for n, v := range regs {
		c.regs = append(c.regs, model.Reg{Name: n, Value: v})
	}
	return c
}

// orderedContext is a context that says its dump's byte order.
type orderedContext struct {
	model.Context
	order binary.ByteOrder
}

func (c orderedContext) ByteOrder() binary.ByteOrder { return c.order }

type wantFrame struct {
	pc, sp uint64
	trust  Trust
}

func checkFrames(t *testing.T, frames []Frame, want ...wantFrame) {
	t.Helper()
	if len(frames) < len(want) {
		t.Fatalf("%d frames, want %d: %+v", len(frames), len(want), frames)
	}
	for i, w := range want {
		if f := frames[i]; f.PC != w.pc || f.SP != w.sp || f.Trust != w.trust {
			t.Errorf("frame %d: pc %#x sp %#x %v, want pc %#x sp %#x %v", i, f.PC, f.SP, f.Trust, w.pc, w.sp, w.trust)
		}
	}
}

var ppcMods = []model.Module{{Base: 0x10000000, Size: 0x10000, Path: "/bin/app"}}

// TestPPC64BigEndian walks a big-endian ppc64 (ELFv1) stack: a non-leaf
// function with CFI whose link register is stale (it has called since its
// prologue saved the real one at CFA+16, as GCC's .eh_frame says with
// register 65), then a function without CFI, left by the back chain.
// Read as little-endian, neither the CFI nor the stack would make sense.
func TestPPC64BigEndian(t *testing.T) {
	t.Parallel()
	be := binary.BigEndian
	c := &cfiBuilder{order: be, eh: true}
	c.cie(4, 0x78, 65, 0x0c, 1, 0) // code 4, data -8, RA lr; def_cfa r1+0
	c.fde(0x10000100, 0x80,
		0x42,           // advance 2*4 -> 0x10000108 (mflr r0; std r0,16(r1))
		0x11, 65, 0x7e, // offset_extended_sf lr at cfa+16 (-2 * -8)
		0x41,      // advance -> 0x1000010c (stdu r1,-112(r1))
		0x0e, 112, // def_cfa_offset 112
		0x80|31, 1) // offset r31 at cfa-8
	tab := c.table(t, cfiPPC64)
	m := merge(
		// 0x7000: frame 0 (112 bytes); its back chain word -> 0x7070.
		words(be, 8, 0x7000, 0x7070),
		words(be, 8, 0x7068, 0x3131), // r31 saved at cfa-8
		// 0x7070: the caller's frame: back chain -> 0x7100, CR save,
		// LR save (frame 0's return address into 0x10000240).
		words(be, 8, 0x7070, 0x7100, 0, 0x10000240),
		// 0x7100: its caller's: back chain 0 (outermost), LR save.
		words(be, 8, 0x7100, 0, 0, 0x10000400),
	)
	regs := map[string]uint64{"pc": 0x10000120, "r1": 0x7000, "r31": 0x7000, "lr": 0x10000150}
	frames, err := Walk(context.Background(), m, ctx(model.PPC64, regs), ppcMods, Options{Rules: tableRules{tab}})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames,
		wantFrame{0x10000120, 0x7000, Context},
		wantFrame{0x10000240, 0x7070, CFI},
		wantFrame{0x10000400, 0x7100, FramePointer})
	if frames[1].FP != 0x3131 {
		t.Errorf("r31 not recovered: %#x", frames[1].FP)
	}
	if len(frames) != 3 {
		t.Errorf("walked past the outermost back chain: %+v", frames[3:])
	}
}

// TestPPC32LeafAndBackChain walks 32-bit PowerPC stacks without CFI. The
// byte order comes from the module's ELF header in memory (ppc may be
// either). A leaf's caller is at lr; a function that saved lr (the saved
// word at back chain+4 equals lr) is left by the back chain, which also
// gives the caller's SP.
func TestPPC32LeafAndBackChain(t *testing.T) {
	t.Parallel()
	be := binary.BigEndian
	stack := merge(
		memtest.Map{0x10000000: []byte("\x7fELF\x01\x02\x01")}, // ELFCLASS32, ELFDATA2MSB
		words(be, 4, 0x7000, 0x7040),                           // frame at 0x7000: back chain
		words(be, 4, 0x7040, 0x7080, 0x10000500),               // back chain, LR save
		words(be, 4, 0x7080, 0, 0x10000600),
	)
	// A leaf: r1 is its caller's SP, lr the return address; the back
	// chain's saved word is the caller's own return address.
	leaf := map[string]uint64{"pc": 0x10000100, "r1": 0x7000, "lr": 0x10000300}
	frames, _ := Walk(context.Background(), stack, ctx(model.PPC, leaf), ppcMods, Options{})
	checkFrames(t, frames,
		wantFrame{0x10000100, 0x7000, Context},
		wantFrame{0x10000300, 0x7000, FramePointer},
		wantFrame{0x10000500, 0x7040, FramePointer},
		wantFrame{0x10000600, 0x7080, FramePointer})
	// A function with its frame set up: lr equals the word it saved.
	nonLeaf := map[string]uint64{"pc": 0x10000100, "r1": 0x7000, "lr": 0x10000500}
	frames, _ = Walk(context.Background(), stack, ctx(model.PPC, nonLeaf), ppcMods, Options{})
	checkFrames(t, frames,
		wantFrame{0x10000100, 0x7000, Context},
		wantFrame{0x10000500, 0x7040, FramePointer},
		wantFrame{0x10000600, 0x7080, FramePointer})
	// Options.ByteOrder overrides the probe: read little-endian, the
	// back chain is garbage and only lr is left.
	frames, _ = Walk(context.Background(), stack, ctx(model.PPC, leaf), ppcMods, Options{ByteOrder: binary.LittleEndian})
	if len(frames) != 2 || frames[1].PC != 0x10000300 {
		t.Errorf("little-endian override: %+v", frames)
	}
	// So does a context that knows its byte order.
	frames, _ = Walk(context.Background(), stack, orderedContext{ctx(model.PPC, leaf), binary.LittleEndian}, ppcMods, Options{})
	if len(frames) != 2 || frames[1].PC != 0x10000300 {
		t.Errorf("little-endian context: %+v", frames)
	}
}

// TestS390XSaveArea walks s390x with GCC's CFI: the CIE's CFA is r15+160
// (the register save area the caller allocated), so the caller's r15 is
// not the CFA but r15's own rule: same value in a leaf, the word stmg
// saved in a function that moved r15. Big-endian.
func TestS390XSaveArea(t *testing.T) {
	t.Parallel()
	be := binary.BigEndian
	c := &cfiBuilder{order: be, eh: true}
	c.cie(1, 0x78, 14, 0x0c, 15, 0xa0, 0x01) // data -8, RA r14; def_cfa r15+160
	c.fde(0x80000200, 0x20)                  // leaf: the CIE's rules only
	c.fde(0x80000110, 0x30,
		0x46,                               // advance 6: stmg %r11,%r15,88(%r15)
		0x80|11, 9, 0x80|14, 6, 0x80|15, 5, // r11 cfa-72, r14 cfa-48, r15 cfa-40
		0x46, 0x0e, 0xd0, 0x02) // advance 6: aghi %r15,-176; def_cfa_offset 336
	tab := c.table(t, cfiS390X)
	// Frame 1 (pc 0x80000130) runs on r15 = 0x7000, CFA 0x7150; its
	// caller's r15 0x70b0 and r14 were saved in that caller's save area.
	m := merge(words(be, 8, 0x70b0+88, 0x1111, 0, 0, 0x80000400, 0x70b0))
	mods := []model.Module{{Base: 0x80000000, Size: 0x1000, Path: "/bin/app"}}
	regs := map[string]uint64{"pswa": 0x80000210, "r15": 0x7000, "r14": 0x80000130, "r11": 0x7000}
	frames, err := Walk(context.Background(), m, ctx(model.S390X, regs), mods, Options{Rules: tableRules{tab}})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames,
		wantFrame{0x80000210, 0x7000, Context},
		wantFrame{0x80000130, 0x7000, CFI},
		wantFrame{0x80000400, 0x70b0, CFI})
	if frames[2].FP != 0x1111 {
		t.Errorf("r11 not recovered: %#x", frames[2].FP)
	}
	// Without CFI, frame 0's caller is at r14.
	frames, _ = Walk(context.Background(), m, ctx(model.S390X, regs), mods, Options{})
	checkFrames(t, frames, wantFrame{0x80000210, 0x7000, Context}, wantFrame{0x80000130, 0x7000, FramePointer})
}

// TestMIPSO32BigEndian walks big-endian o32 with .debug_frame as GCC
// writes it for MIPS (version 1, no augmentation, RA column 31, CFA from
// s8 once the frame pointer is set up): a leaf, then its caller. The
// byte order comes from the ELF header in memory.
func TestMIPSO32BigEndian(t *testing.T) {
	t.Parallel()
	be := binary.BigEndian
	c := &cfiBuilder{order: be, ptr: 4}
	c.cie(1, 0x7c, 31, 0x0d, 29) // data -4; def_cfa_register sp
	c.fde(0x400110, 0x3c, 0x44, 0x0e, 16, 0x44, 0x80|30, 1, 0x44, 0x0d, 30)
	c.fde(0x40014c, 0x4c, 0x44, 0x0e, 32, 0x48, 0x80|31, 1, 0x80|30, 2, 0x44, 0x0d, 30)
	tab := c.table(t, cfiMIPSO32)
	mods := []model.Module{{Base: 0x400000, Size: 0x1000, Path: "/bin/app"}}
	m := merge(
		memtest.Map{0x400000: []byte("\x7fELF\x01\x02\x01")},
		words(be, 4, 0x7fdd4e60+12, 0x7fdd4e90),        // bar: saved s8
		words(be, 4, 0x7fdd4ea8, 0x7fdd4f00, 0x4001c4), // foo (CFA s8+32): saved s8, ra
	)
	regs := map[string]uint64{"pc": 0x400130, "sp": 0x7fdd4e60, "s8": 0x7fdd4e60, "ra": 0x40017c}
	frames, err := Walk(context.Background(), m, ctx(model.MIPS, regs), mods, Options{Rules: tableRules{tab}})
	if err != nil {
		t.Fatal(err)
	}
	checkFrames(t, frames,
		wantFrame{0x400130, 0x7fdd4e60, Context},
		wantFrame{0x40017c, 0x7fdd4e70, CFI},
		wantFrame{0x4001c4, 0x7fdd4eb0, CFI})
	if frames[1].FP != 0x7fdd4e90 || frames[2].FP != 0x7fdd4f00 {
		t.Errorf("s8: %#x %#x", frames[1].FP, frames[2].FP)
	}
}

// TestRISCV64CFIAndLeaf walks riscv64: a CFI frame whose CFA is fp-based
// (GCC at -O0), and, without rules, a leaf's caller at ra then a scan.
func TestRISCV64CFIAndLeaf(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	c := &cfiBuilder{order: le, eh: true}
	c.cie(1, 0x78, 1, 0x0c, 2, 0) // data -8, RA ra; def_cfa sp+0
	c.fde(0x10100, 0x40,
		0x42, 0x0e, 32, // addi sp,sp,-32
		0x44, 0x80|1, 1, 0x80|8, 2, // sd ra,24(sp); sd s0,16(sp)
		0x42, 0x0c, 8, 0) // addi s0,sp,32; def_cfa s0+0
	tab := c.table(t, cfiRISCV64)
	mods := []model.Module{{Base: 0x10000, Size: 0x10000, Path: "/bin/app"}}
	m := words(le, 8, 0x3fe0, 0, 0, 0x3ff0+0x100, 0x10400)
	regs := map[string]uint64{"pc": 0x10120, "sp": 0x3fe0, "fp": 0x4000, "ra": 0x10300, "s1": 9}
	frames, _ := Walk(context.Background(), m, ctx(model.RISCV64, regs), mods, Options{Rules: tableRules{tab}})
	checkFrames(t, frames, wantFrame{0x10120, 0x3fe0, Context}, wantFrame{0x10400, 0x4000, CFI})
	if frames[1].FP != 0x40f0 || frames[1].Regs["s1"] != 9 {
		t.Errorf("callee-saved: %v", frames[1].Regs)
	}
	// No rules: the leaf's caller is at ra (SP unchanged); its own
	// caller is found by scanning.
	frames, _ = Walk(context.Background(), m, ctx(model.RISCV64, regs), mods, Options{})
	checkFrames(t, frames,
		wantFrame{0x10120, 0x3fe0, Context},
		wantFrame{0x10300, 0x3fe0, FramePointer},
		wantFrame{0x10400, 0x4000, Scan})
}

// TestMIPS64LeafLinkRegister: n64 without rules; the o32/n64 CFI tables
// name the registers as gdb does.
func TestMIPS64LeafLinkRegister(t *testing.T) {
	t.Parallel()
	mods := []model.Module{{Base: 0x120000000, Size: 0x1000, Path: "/bin/app"}}
	regs := map[string]uint64{"pc": 0x120000170, "sp": 0xffffc01e00, "s8": 0xffffc01e00, "ra": 0x1200001bc}
	frames, _ := Walk(context.Background(), memtest.Map{}, ctx(model.MIPS64, regs), mods, Options{})
	checkFrames(t, frames, wantFrame{0x120000170, 0xffffc01e00, Context}, wantFrame{0x1200001bc, 0xffffc01e00, FramePointer})
	if cfiMIPSO32.names[8] != "t0" || cfiMIPSN64.names[8] != "a4" || cfiMIPSN64.names[12] != "t0" || cfiMIPSO32.names[30] != "s8" {
		t.Errorf("MIPS register names: o32 %v, n64 %v", cfiMIPSO32.names, cfiMIPSN64.names)
	}
}

// TestPPCDebugFrameNumbering: .debug_frame in the ABI's numbering names
// lr 108; the CIE's return-address column says so.
func TestPPCDebugFrameNumbering(t *testing.T) {
	t.Parallel()
	le := binary.LittleEndian
	c := &cfiBuilder{order: le, ptr: 8}
	c.cie(4, 0x78, 108, 0x0c, 1, 0)
	c.fde(0x10000100, 0x40, 0x41, 0x0e, 48, 0x11, 108, 0x7e) // offset_extended_sf lr at cfa+16 (-2 * -8)
	tab := c.table(t, cfiPPC64)
	read := stackMem(map[uint64]uint64{0x7040: 0x10000800})
	got, ok, _ := tab.caller(0x10000110, Registers{"pc": 0x10000110, "r1": 0x7000, "lr": 0x10000110}, read)
	if !ok || got["pc"] != 0x10000800 || got["r1"] != 0x7030 {
		t.Errorf("caller %v %v", got, ok)
	}
	// At entry, lr holds it (same value).
	got, ok, _ = tab.caller(0x10000100, Registers{"pc": 0x10000100, "r1": 0x7000, "lr": 0x10000900}, read)
	if !ok || got["pc"] != 0x10000900 || got["r1"] != 0x7000 {
		t.Errorf("at entry: %v %v", got, ok)
	}
}

// SignalFrame implements SignalRules as DWARFUnwind does.
func (r tableRules) SignalFrame(pc uint64) bool {
	f, ok := r.t.lookup(pc - 1)
	return ok && f.cie.signal
}

// TestPPC64SignalFrameLeaf: the kernel's signal trampoline ("S" CIE, its
// own return-address column for the interrupted pc, as the ppc64 vDSO's
// __kernel_sigtramp_rt64 uses) restores every register, lr included; the
// interrupted function, a leaf without CFI, returns to that lr.
func TestPPC64SignalFrameLeaf(t *testing.T) {
	t.Parallel()
	plain := &cfiCIE{codeAlign: 4, dataAlign: -8, ra: 65, addrSize: 8, initial: []byte{0x0c, 1, 0}}
	sig := &cfiCIE{codeAlign: 4, dataAlign: 8, ra: 67, addrSize: 8, signal: true, initial: []byte{
		0x0c, 1, 0x80, 0x01, // def_cfa r1+128
		0x05, 67, 1, // the interrupted pc at cfa+8
		0x05, 65, 2, // lr at cfa+16
		0x80 | 1, 3, // r1 at cfa+24
		0x80 | 31, 4, // r31 at cfa+32
	}}
	tab := &cfiTable{arch: cfiPPC64, fdes: []cfiFDE{
		{begin: 0x10000100, end: 0x10000140, cie: plain},
		{begin: 0x100007fc, end: 0x10000810, cie: sig}, // from the nop before the trampoline
	}}
	m := words(binary.LittleEndian, 8, 0x7088, 0x10000200, 0x10000300, 0x7400, 0x3131)
	regs := map[string]uint64{"pc": 0x10000120, "r1": 0x7000, "lr": 0x10000800}
	frames, _ := Walk(context.Background(), m, ctx(model.PPC64LE, regs), ppcMods, Options{Rules: tableRules{tab}})
	checkFrames(t, frames,
		wantFrame{0x10000120, 0x7000, Context},
		wantFrame{0x10000800, 0x7000, CFI},
		wantFrame{0x10000200, 0x7400, CFI},
		wantFrame{0x10000300, 0x7400, FramePointer})
	if !frames[1].Signal || !frames[2].Interrupted || frames[2].Regs["lr"] != 0x10000300 || frames[2].FP != 0x3131 {
		t.Errorf("signal frame: %+v", frames[1:3])
	}
}
