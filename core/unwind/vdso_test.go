package unwind

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

// TestDWARFUnwindI386 reads an i386 image's .eh_frame (a vDSO linked at
// 0xffffe000 and loaded elsewhere) and recovers eip and esp with i386's
// DWARF numbering; OpenFirst falls through an opener that has nothing.
func TestDWARFUnwindI386(t *testing.T) {
	t.Parallel()
	img, l := elfcoretest.Image{Class32: true, Machine: 3, Vaddr: 0xffffe000,
		Funcs: []elfcoretest.Func{{Name: "__kernel_vsyscall", Size: 0x14}}}.Bytes()
	m := model.Module{Base: 0xf77f7000, Size: l.Filesz, Path: "linux-gate.so.1"}
	none := func(model.Module) (io.ReaderAt, bool) { return nil, false }
	u := NewDWARFUnwind([]model.Module{m}, OpenFirst(nil, none, func(model.Module) (io.ReaderAt, bool) { return bytes.NewReader(img), true }))
	pc := m.Base + l.Funcs[0] + 0x10
	regs, ok, err := u.Caller(pc, Registers{"eip": pc, "esp": 0xffa80000, "ebp": 0xffa80010, "ebx": 7}, func(addr uint64, size int) (uint64, error) {
		if addr != 0xffa80000 || size != 4 {
			return 0, errors.New("unmapped")
		}
		return 0x0804c25d, nil
	})
	if err != nil || !ok || regs["eip"] != 0x0804c25d || regs["esp"] != 0xffa80004 || regs["ebp"] != 0xffa80010 || regs["ebx"] != 7 {
		t.Errorf("caller %v %v %v", regs, ok, err)
	}
	// Past the FDE: no rule.
	if _, ok, _ := u.Caller(m.Base+l.Filesz+0x10, Registers{"eip": 0, "esp": 0}, stackMem(nil)); ok {
		t.Error("rule outside the module")
	}
}

// TestWalkARM64NumberedFPLR walks an arm64 context that names the frame
// pointer and link register x29 and x30, as Linux cores and gdb do: the
// leaf's caller comes from lr, the next from the frame record at x29.
func TestWalkARM64NumberedFPLR(t *testing.T) {
	t.Parallel()
	b := make([]byte, 0x20)
	binary.LittleEndian.PutUint64(b[0x10:], 0)        // caller's record: outermost
	binary.LittleEndian.PutUint64(b[0x18:], 0x402000) // its return address
	m := memtest.Map{0x1000: b}
	ctx := regsContext{arch: model.ARM64, pc: "pc", sp: "sp", fp: "x29", regs: []model.Reg{
		{Name: "pc", Value: 0x401000, Size: 8}, {Name: "sp", Value: 0x1000, Size: 8},
		{Name: "x29", Value: 0x1010, Size: 8}, {Name: "x30", Value: 0x401800, Size: 8},
	}}
	frames, err := Walk(context.Background(), m, ctx, mods, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) < 2 || frames[1].PC != 0x401800 || frames[1].Trust != FramePointer {
		t.Fatalf("frames %+v", frames)
	}
	if frames[0].FP != 0x1010 {
		t.Errorf("frame 0 fp %#x", frames[0].FP)
	}
}

// TestDWARFUnwindExecWithoutCFI: an ET_EXEC image without .eh_frame or
// .debug_frame has no rules (and used to crash the parser's callback).
func TestDWARFUnwindExecWithoutCFI(t *testing.T) {
	t.Parallel()
	img, l := elfcoretest.Image{NoSections: true, Funcs: []elfcoretest.Func{{Name: "f", Size: 0x10}}}.Bytes()
	binary.LittleEndian.PutUint16(img[16:], 2) // ET_EXEC
	m := model.Module{Base: 0x400000, Size: l.Filesz}
	u := NewDWARFUnwind([]model.Module{m}, func(model.Module) (io.ReaderAt, bool) { return bytes.NewReader(img), true })
	if _, ok, err := u.Caller(m.Base+l.Funcs[0], Registers{"rip": m.Base + l.Funcs[0], "rsp": 0x1000}, stackMem(nil)); ok || err != nil {
		t.Errorf("ok %v err %v", ok, err)
	}
}
