package unwind

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

// regsContext is a model.Context from a register map.
type regsContext struct {
	arch       model.Arch
	regs       []model.Reg
	pc, sp, fp string
}

func (c regsContext) Arch() model.Arch  { return c.arch }
func (c regsContext) Regs() []model.Reg { return c.regs }
func (c regsContext) PC() uint64        { v, _ := c.Reg(c.pc); return v }
func (c regsContext) SP() uint64        { v, _ := c.Reg(c.sp); return v }
func (c regsContext) FP() uint64        { v, _ := c.Reg(c.fp); return v }
func (c regsContext) Reg(n string) (uint64, bool) {
	for _, r := range c.regs {
		if r.Name == n {
			return r.Value, true
		}
	}
	return 0, false
}

func amd64(rip, rsp, rbp uint64) model.Context {
	return regsContext{arch: model.AMD64, pc: "rip", sp: "rsp", fp: "rbp",
		regs: []model.Reg{{Name: "rip", Value: rip, Size: 8}, {Name: "rsp", Value: rsp, Size: 8}, {Name: "rbp", Value: rbp, Size: 8}}}
}

// stack lays out little-endian 64-bit words from base.
func stack(base uint64, words ...uint64) memtest.Map {
	b := make([]byte, 8*len(words))
	for i, w := range words {
		binary.LittleEndian.PutUint64(b[8*i:], w)
	}
	return memtest.Map{base: b}
}

var mods = []model.Module{
	{Base: 0x400000, Size: 0x10000, Path: "/bin/app"},
	{Base: 0x7f0000000000, Size: 0x200000, Path: "/lib/libc.so.6"},
}

func TestFramePointerChain(t *testing.T) {
	t.Parallel()
	// Frame records at 0x1010 and 0x1030: [saved rbp][return address].
	m := stack(0x1000,
		0, 0, // 0x1000: locals of frame 0
		0x1030, 0x401234, // 0x1010: rbp of frame 0 -> caller's rbp, return into app
		0, 0, // 0x1020
		0, 0x7f0000001000, // 0x1030: outermost record, return into libc
	)
	frames, err := Walk(context.Background(), m, amd64(0x400100, 0x1000, 0x1010), mods, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		pc, sp uint64
		trust  Trust
	}{{0x400100, 0x1000, Context}, {0x401234, 0x1020, FramePointer}, {0x7f0000001000, 0x1040, FramePointer}}
	if len(frames) != len(want) {
		t.Fatalf("got %d frames: %+v", len(frames), frames)
	}
	for i, w := range want {
		f := frames[i]
		if f.PC != w.pc || f.SP != w.sp || f.Trust != w.trust || f.Index != i {
			t.Errorf("frame %d = pc %#x sp %#x %v, want pc %#x sp %#x %v", i, f.PC, f.SP, f.Trust, w.pc, w.sp, w.trust)
		}
	}
	if frames[2].Module == nil || frames[2].Module.Name() != "libc.so.6" {
		t.Errorf("frame 2 module = %v", frames[2].Module)
	}
	if frames[1].LookupPC() != 0x401233 || frames[0].LookupPC() != 0x400100 {
		t.Errorf("LookupPC: %#x %#x", frames[0].LookupPC(), frames[1].LookupPC())
	}
}

func TestScanSkipsNonCode(t *testing.T) {
	t.Parallel()
	// No frame pointer (rbp 0): the walker scans and must skip data words
	// that point outside modules.
	m := stack(0x2000, 0xdeadbeef, 0x1234, 0x400500, 0x99)
	frames, _ := Walk(context.Background(), m, amd64(0x400100, 0x2000, 0), mods, Options{})
	if len(frames) < 2 || frames[1].PC != 0x400500 || frames[1].SP != 0x2018 || frames[1].Trust != Scan {
		t.Fatalf("frames = %+v", frames)
	}
}

// fakeRules unwinds one known function: the caller's rip is at [rsp], and
// rsp moves up 8.
type fakeRules struct{ at uint64 }

func (r fakeRules) Caller(pc uint64, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	if pc != r.at {
		return nil, false, nil
	}
	ret, err := read(callee["rsp"], 8)
	if err != nil {
		return nil, false, err
	}
	return Registers{"rip": ret, "rsp": callee["rsp"] + 8, "rbp": callee["rbp"]}, true, nil
}

func TestRulesComeFirst(t *testing.T) {
	t.Parallel()
	// rbp points at a plausible record, but the rules know better.
	m := stack(0x3000, 0x401000, 0x3020, 0x400900, 0, 0)
	frames, _ := Walk(context.Background(), m, amd64(0x400100, 0x3000, 0x3008), mods, Options{Rules: fakeRules{at: 0x400100}})
	if len(frames) < 2 || frames[1].PC != 0x401000 || frames[1].Trust != CFI {
		t.Fatalf("frames = %+v", frames)
	}
}

func TestStopsOnLoopsAndUnreadableStack(t *testing.T) {
	t.Parallel()
	// A frame record pointing at itself must not loop.
	m := stack(0x4000, 0x4000, 0x400200)
	frames, _ := Walk(context.Background(), m, amd64(0x400100, 0x4000, 0x4000), mods, Options{MaxFrames: 50})
	if len(frames) > 3 {
		t.Fatalf("walked %d frames on a self-referencing chain", len(frames))
	}
	frames, err := Walk(context.Background(), memtest.Map{}, amd64(0x400100, 0x5000, 0x5000), mods, Options{})
	if err != nil || len(frames) != 1 {
		t.Fatalf("unreadable stack: %d frames, %v", len(frames), err)
	}
}

func TestARM64UsesLinkRegister(t *testing.T) {
	t.Parallel()
	// A leaf function at pc with lr set; fp points at the caller's record.
	m := stack(0x6000, 0, 0x7f0000002000)
	ctx := regsContext{arch: model.ARM64, pc: "pc", sp: "sp", fp: "fp", regs: []model.Reg{
		{Name: "pc", Value: 0x400100}, {Name: "sp", Value: 0x5ff0}, {Name: "fp", Value: 0x6000}, {Name: "lr", Value: 0x400800},
	}}
	frames, _ := Walk(context.Background(), m, ctx, mods, Options{})
	if len(frames) < 3 || frames[1].PC != 0x400800 || frames[2].PC != 0x7f0000002000 {
		t.Fatalf("frames = %+v", frames)
	}
}

func TestUnsupportedArch(t *testing.T) {
	t.Parallel()
	ctx := regsContext{arch: model.SPARC64, pc: "pc", sp: "sp", fp: "fp"}
	if _, err := Walk(context.Background(), memtest.Map{}, ctx, nil, Options{}); err == nil {
		t.Fatal("no error for sparc64")
	}
}

func TestOutermostGoesOnOnlyByRules(t *testing.T) {
	t.Parallel()
	// Frame 0 is in a thread entry routine at 0x400100. Its caller is
	// found by rules (at [rsp]), and the walk goes on normally from
	// there; without rules, the entry routine's frame pointer must not
	// be followed.
	m := stack(0x3000, 0x401000, 0x3020, 0x400900, 0, 0)
	outermost := func(pc uint64) bool { return pc == 0x400100 }
	frames, _ := Walk(context.Background(), m, amd64(0x400100, 0x3000, 0x3008), mods,
		Options{Rules: fakeRules{at: 0x400100}, IsOutermost: outermost})
	if len(frames) < 2 || frames[1].PC != 0x401000 || frames[1].Trust != CFI {
		t.Fatalf("with rules: frames = %+v", frames)
	}
	// Without rules for the entry routine, the walk ends at it although
	// its frame pointer points at a plausible record.
	frames, _ = Walk(context.Background(), m, amd64(0x400100, 0x3000, 0x3008), mods, Options{IsOutermost: outermost})
	if len(frames) != 1 {
		t.Fatalf("without rules: frames = %+v", frames)
	}
}

// signalRules is fakeRules that also knows one signal trampoline.
type signalRules struct {
	fakeRules
	trampoline uint64
}

func (r signalRules) SignalFrame(pc uint64) bool { return pc == r.trampoline }

func TestSignalFrames(t *testing.T) {
	t.Parallel()
	// Frame 0 (a handler at 0x400100) returns to the trampoline at
	// 0x7f0000002000, whose frame returns to the interrupted instruction
	// 0x400200: rules read each caller at [rsp].
	m := stack(0x3000, 0x7f0000002000, 0x400200, 0x400300)
	rules := Chain{signalRules{fakeRules: fakeRules{at: 0x400100}, trampoline: 0x7f0000002000},
		ruleAt{0x7f0000001fff}}
	frames, _ := Walk(context.Background(), m, amd64(0x400100, 0x3000, 0), mods, Options{Rules: rules})
	if len(frames) < 3 {
		t.Fatalf("frames = %+v", frames)
	}
	if frames[0].Signal || !frames[1].Signal || frames[2].Signal || !frames[2].Interrupted || frames[1].Interrupted {
		t.Fatalf("signal marks: %+v", frames[:3])
	}
	// The trampoline and the interrupted frame are named at their own
	// address: neither PC is a return address after a call.
	if frames[1].LookupPC() != 0x7f0000002000 || frames[2].LookupPC() != 0x400200 {
		t.Errorf("LookupPC %#x %#x", frames[1].LookupPC(), frames[2].LookupPC())
	}
}

// ruleAt unwinds the one function at pc by [rsp] like fakeRules.
type ruleAt struct{ pc uint64 }

func (r ruleAt) Caller(pc uint64, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	return fakeRules{at: r.pc}.Caller(pc, callee, read)
}

// TestARM64KernelFrameRecords walks a Windows ARM64 kernel stack as a bug
// check leaves it: lr is 0 (KeBugCheck2 reused it), so each fp is the
// function's own record {caller fp, return address}, and return addresses
// in the upper half keep their high bits (they are not PAC-stripped to
// zero).
func TestARM64KernelFrameRecords(t *testing.T) {
	t.Parallel()
	const kbase = 0xfffff80000000000
	kmods := []model.Module{{Base: kbase, Size: 0x1000000, Path: `\SystemRoot\system32\ntoskrnl.exe`}}
	m := memtest.Map{}
	put := func(addr uint64, words ...uint64) {
		for k, v := range stack(addr, words...) {
			m[k] = v
		}
	}
	// Records at 0xffffe000_00001000 (frame 0's) and ..1100 (frame 1's),
	// the last with a zero caller fp.
	put(0xffffe00000001000, 0xffffe00000001100, kbase+0x5000)
	put(0xffffe00000001100, 0, kbase+0x6000)
	ctx := regsContext{arch: model.ARM64, pc: "pc", sp: "sp", fp: "fp", regs: []model.Reg{
		{Name: "pc", Value: kbase + 0x4000}, {Name: "sp", Value: 0xffffe00000001000},
		{Name: "fp", Value: 0xffffe00000001000}, {Name: "lr", Value: 0},
	}}
	frames, _ := Walk(context.Background(), m, ctx, kmods, Options{})
	if len(frames) < 3 || frames[1].PC != kbase+0x5000 || frames[1].SP != 0xffffe00000001010 ||
		frames[2].PC != kbase+0x6000 || frames[2].SP != 0xffffe00000001110 {
		t.Fatalf("frames = %+v", frames)
	}
}
