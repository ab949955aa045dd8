package unwind

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const synthSecAddr = 0x2000

// synthEHFrame builds an .eh_frame at synthSecAddr by hand: a "zR" CIE
// with pcrel|sdata4 FDE pointers (def_cfa rsp+8, rip at cfa-8) and one FDE
// for [0x1000, 0x1020) with the rules of
//
//	0x1000 push rbp
//	0x1001 mov rbp, rsp
//	0x1004 ... body ...
//	0x101e leave/pop rbp (CFA back to rsp+8)
func synthEHFrame() []byte {
	le := binary.LittleEndian
	var b []byte
	// CIE
	cie := []byte{0, 0, 0, 0, // CIE id
		1,           // version
		'z', 'R', 0, // augmentation
		1,       // code alignment
		0x78,    // data alignment -8
		16,      // return address column
		1, 0x1b, // augmentation data: DW_EH_PE_pcrel|sdata4
		0x0c, 7, 8, // def_cfa rsp+8
		0x90, 1, // offset r16 at cfa-8
		0, 0} // nops
	b = le.AppendUint32(b, uint32(len(cie)))
	b = append(b, cie...)
	fdeStart := len(b)
	fde := le.AppendUint32(nil, uint32(fdeStart+4)) // CIE pointer: back to offset 0
	pcField := synthSecAddr + fdeStart + 8
	fde = le.AppendUint32(fde, uint32(int32(0x1000-pcField)))
	fde = le.AppendUint32(fde, 0x20)
	fde = append(fde, 0, // augmentation data length
		0x41,     // advance_loc 1
		0x0e, 16, // def_cfa_offset 16
		0x86, 2, // offset r6 at cfa-16
		0x43,    // advance_loc 3
		0x0d, 6, // def_cfa_register r6
		0x40|26,    // advance_loc 26 -> 0x101e
		0x0c, 7, 8, // def_cfa rsp+8
		0, 0, 0)
	b = le.AppendUint32(b, uint32(len(fde)))
	b = append(b, fde...)
	return le.AppendUint32(b, 0) // terminator
}

// stackMem serves 8-byte reads from a map.
func stackMem(words map[uint64]uint64) func(addr uint64, size int) (uint64, error) {
	return func(addr uint64, size int) (uint64, error) {
		v, ok := words[addr]
		if !ok || size != 8 {
			return 0, errors.New("unmapped")
		}
		return v, nil
	}
}

func synthTable(t *testing.T, data []byte) *cfiTable {
	t.Helper()
	fdes, bad := parseCFI(data, synthSecAddr, 0, true, 8)
	if bad != 0 {
		t.Fatalf("%d malformed entries", bad)
	}
	return &cfiTable{arch: cfiAMD64, fdes: fdes}
}

func TestEHFrameSynthetic(t *testing.T) {
	tab := synthTable(t, synthEHFrame())
	if len(tab.fdes) != 1 || tab.fdes[0].begin != 0x1000 || tab.fdes[0].end != 0x1020 {
		t.Fatalf("fdes = %+v", tab.fdes)
	}
	const rsp, rbp = 0x7000, 0x7100
	read := stackMem(map[uint64]uint64{
		rsp: 0x4444, rsp + 8: 0x5555, rsp + 16: 0x6666,
		rbp: 0x7200, rbp + 8: 0x401234,
	})
	callee := Registers{"rip": 0, "rsp": rsp, "rbp": rbp, "rbx": 0xb, "r12": 0xc, "rax": 0xa}
	for _, tc := range []struct {
		pc            uint64
		rip, rsp, rbp uint64
	}{
		{0x1000, 0x4444, rsp + 8, rbp},     // before push rbp
		{0x1001, 0x5555, rsp + 16, 0x4444}, // after push rbp
		{0x1003, 0x5555, rsp + 16, 0x4444}, // inside mov rbp, rsp
		{0x1004, 0x401234, rbp + 16, 0x7200},
		{0x101d, 0x401234, rbp + 16, 0x7200},
		{0x101e, 0x4444, rsp + 8, 0}, // after leave: rbp not checked
	} {
		callee["rip"] = tc.pc
		got, ok, err := tab.caller(tc.pc, callee, read)
		if err != nil || !ok {
			t.Fatalf("pc %#x: ok=%v err=%v", tc.pc, ok, err)
		}
		if got["rip"] != tc.rip || got["rsp"] != tc.rsp {
			t.Errorf("pc %#x: rip=%#x rsp=%#x, want %#x %#x", tc.pc, got["rip"], got["rsp"], tc.rip, tc.rsp)
		}
		if tc.rbp != 0 && got["rbp"] != tc.rbp {
			t.Errorf("pc %#x: rbp=%#x, want %#x", tc.pc, got["rbp"], tc.rbp)
		}
		if got["rbx"] != 0xb || got["r12"] != 0xc {
			t.Errorf("pc %#x: callee-saved registers not kept: %v", tc.pc, got)
		}
		if _, ok := got["rax"]; ok {
			t.Errorf("pc %#x: volatile rax carried into the caller", tc.pc)
		}
	}
	for _, pc := range []uint64{0xfff, 0x1020, 0} {
		if _, ok, _ := tab.caller(pc, callee, read); ok {
			t.Errorf("pc %#x: rules found outside the FDE", pc)
		}
	}
}

func TestEHFrameStateAndExpressions(t *testing.T) {
	c := &cfiCIE{codeAlign: 1, dataAlign: -8, ra: 16, fdeEnc: 0x1b, addrSize: 8,
		initial: []byte{0x0c, 7, 8, 0x90, 1}}
	f := &cfiFDE{begin: 0x100, end: 0x200, cie: c, insns: []byte{
		0x41, 0x0e, 16, 0x86, 2, // 0x101: cfa rsp+16, rbp at cfa-16
		0x0a,    // remember_state
		0x41,    // 0x102
		0x0e, 8, // def_cfa_offset 8
		0xc6,    // restore rbp
		0x41,    // 0x103
		0x0b,    // restore_state
		0x2e, 4, // GNU_args_size
		0x41,    // 0x104
		0x07, 3, // undefined rbx
		0x08, 12, // same_value r12
		0x09, 13, 0, // r13 in rax
		0x41,                            // 0x105
		0x0f, 4, 0x77, 0x20, 0x23, 0x08, // def_cfa_expression: breg7 +32; plus_uconst 8
		0x10, 6, 2, 0x70, 0, // expression: rbp at [rax+0]
		0x41,              // 0x106
		0x16, 16, 1, 0x2f, // val_expression rip with an unknown operation: fall back
	}}
	tab := &cfiTable{arch: cfiAMD64, fdes: []cfiFDE{*f}}
	const rsp = 0x7000
	read := stackMem(map[uint64]uint64{rsp: 0x1111, rsp + 8: 0x2222, rsp + 32: 0x3333, 0x9000: 0x4444})
	callee := Registers{"rsp": rsp, "rbp": 0x50, "rbx": 0xb, "r12": 0xc, "rax": 0x9000}
	check := func(pc uint64, want Registers) {
		t.Helper()
		got, ok, err := tab.caller(pc, callee, read)
		if err != nil || !ok {
			t.Fatalf("pc %#x: ok=%v err=%v", pc, ok, err)
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("pc %#x: %s=%#x (present %v), want %#x; got %v", pc, k, g, ok, v, got)
			}
		}
		if pc >= 0x104 {
			if _, ok := got["rbx"]; ok {
				t.Errorf("pc %#x: undefined rbx recovered", pc)
			}
		}
	}
	check(0x101, Registers{"rsp": rsp + 16, "rip": 0x2222, "rbp": 0x1111})
	check(0x102, Registers{"rsp": rsp + 8, "rip": 0x1111, "rbp": 0x50})
	check(0x103, Registers{"rsp": rsp + 16, "rip": 0x2222, "rbp": 0x1111})
	check(0x104, Registers{"rsp": rsp + 16, "rip": 0x2222, "rbp": 0x1111, "r12": 0xc, "r13": 0x9000})
	check(0x105, Registers{"rsp": rsp + 40, "rip": 0x3333, "rbp": 0x4444})
	if _, ok, _ := tab.caller(0x106, callee, read); ok {
		t.Error("pc 0x106: a malformed expression did not fall back")
	}
	// An undefined return address marks the outermost frame.
	c2 := &cfiCIE{codeAlign: 1, dataAlign: -8, ra: 16, addrSize: 8, initial: []byte{0x0c, 7, 8, 0x07, 16}}
	tab2 := &cfiTable{arch: cfiAMD64, fdes: []cfiFDE{{begin: 0, end: 0x10, cie: c2}}}
	got, ok, err := tab2.caller(4, callee, read)
	if err != nil || !ok || got["rip"] != 0 {
		t.Errorf("outermost: %v %v %v", got, ok, err)
	}
}

func TestEHFrameARM64LeafUsesLR(t *testing.T) {
	c := &cfiCIE{codeAlign: 4, dataAlign: -8, ra: 30, addrSize: 8, initial: []byte{0x0c, 31, 0}}
	f := cfiFDE{begin: 0x400, end: 0x440, cie: c, insns: []byte{
		0x41, 0x0e, 16, 0x9d, 2, 0x9e, 1, // 0x404: stp x29, x30, [sp, #-16]!
	}}
	tab := &cfiTable{arch: cfiARM64, fdes: []cfiFDE{f}}
	read := stackMem(map[uint64]uint64{0x8000: 0x8800, 0x8008: 0x5678})
	callee := Registers{"pc": 0x400, "sp": 0x8000, "fp": 0x8100, "lr": 0x1234, "x19": 19}
	got, ok, _ := tab.caller(0x400, callee, read)
	if !ok || got["pc"] != 0x1234 || got["sp"] != 0x8000 || got["fp"] != 0x8100 || got["x19"] != 19 {
		t.Errorf("leaf: %v %v", got, ok)
	}
	got, ok, _ = tab.caller(0x404, callee, read)
	if !ok || got["pc"] != 0x5678 || got["sp"] != 0x8010 || got["fp"] != 0x8800 {
		t.Errorf("after prologue: %v %v", got, ok)
	}
}

func TestEHFrameCorrupt(t *testing.T) {
	good := synthEHFrame()
	// Truncations and bit flips must not panic; they may lose entries.
	for n := 0; n < len(good); n++ {
		fdes, _ := parseCFI(good[:n], synthSecAddr, 0, true, 8)
		tab := &cfiTable{arch: cfiAMD64, fdes: fdes}
		tab.caller(0x1008, Registers{"rsp": 0x7000, "rbp": 0x7100}, stackMem(nil))
	}
	// A length running past the section.
	bad := bytes.Clone(good)
	binary.LittleEndian.PutUint32(bad, 0x7fffffff)
	if fdes, n := parseCFI(bad, synthSecAddr, 0, true, 8); len(fdes) != 0 || n == 0 {
		t.Errorf("oversized length: %d fdes, %d bad", len(fdes), n)
	}
	// An FDE whose CIE pointer points nowhere.
	bad = bytes.Clone(good)
	binary.LittleEndian.PutUint32(bad[28:], 0x1000)
	if fdes, n := parseCFI(bad, synthSecAddr, 0, true, 8); len(fdes) != 0 || n != 1 {
		t.Errorf("bad CIE pointer: %d fdes, %d bad", len(fdes), n)
	}
	// An unknown CIE version.
	bad = bytes.Clone(good)
	bad[8] = 9
	if fdes, n := parseCFI(bad, synthSecAddr, 0, true, 8); len(fdes) != 0 || n == 0 {
		t.Errorf("bad version: %d fdes, %d bad", len(fdes), n)
	}
	// restore_state without remember_state, and an unknown opcode.
	c := &cfiCIE{codeAlign: 1, dataAlign: -8, ra: 16, addrSize: 8, initial: []byte{0x0c, 7, 8, 0x90, 1}}
	for _, insns := range [][]byte{{0x0b}, {0x3f}, {0x0c, 7}, {0x0f, 0x80}} {
		tab := &cfiTable{arch: cfiAMD64, fdes: []cfiFDE{{begin: 0, end: 16, cie: c, insns: insns}}}
		if _, ok, _ := tab.caller(8, Registers{"rsp": 0x7000}, stackMem(map[uint64]uint64{0x7000: 1})); ok {
			t.Errorf("insns % x: unwound", insns)
		}
	}
	// Not an ELF file at all.
	u := NewDWARFUnwind([]model.Module{{Base: 0x1000, Size: 0x1000, Path: "/junk"}},
		func(model.Module) (io.ReaderAt, bool) { return bytes.NewReader([]byte("junk junk junk junk")), true })
	if _, ok, err := u.Caller(0x1800, Registers{"rsp": 1}, stackMem(nil)); ok || err == nil {
		t.Errorf("junk image: ok=%v err=%v", ok, err)
	}
	if _, ok, err := u.Caller(0x1800, Registers{"rsp": 1}, stackMem(nil)); ok || err != nil {
		t.Errorf("junk image, second lookup: ok=%v err=%v (want cached nil)", ok, err)
	}
}

func FuzzEHFrame(f *testing.F) {
	f.Add(synthEHFrame(), uint64(0x1004), false)
	f.Add([]byte{8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 1, 0x78}, uint64(0), true)
	// Once hung: a DW_EH_PE_aligned personality pointer at the end of the augmentation data.
	f.Add([]byte("\x14\x00\x00\x00\x00\x00\x00\x00\x01zP\x000\x9200\x02PPPPPPP"), uint64(4152), false)
	f.Fuzz(func(t *testing.T, data []byte, pc uint64, debugFrame bool) {
		// Every architecture's table, over the section parsed in either
		// byte order with its address size.
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, ptr := range []int{8, 4} {
				fdes, _ := parseCFIOrder(data, synthSecAddr, 0x3000, !debugFrame, ptr, order)
				for _, a := range []*cfiArch{cfiAMD64, cfiARM64, cfiX86, cfiARM, cfiPPC64, cfiPPC32, cfiS390X, cfiMIPSO32, cfiMIPSN64, cfiRISCV64} {
					if a.ptrSize != ptr {
						continue
					}
					tab := &cfiTable{arch: a, order: order, fdes: fdes}
					read := func(addr uint64, size int) (uint64, error) { return addr ^ 0x5a5a, nil }
					regs := Registers{"rsp": 0x7000, "rbp": 0x7100, "sp": 0x7000, "fp": 0x7100, "lr": 0x1234,
						"r1": 0x7000, "r15": 0x7000, "r14": 0x1234, "s8": 0x7100, "ra": 0x1234, "r11": 0x7100,
						"esp": 0x7000, "ebp": 0x7100}
					tab.caller(pc, regs, read)
					for i := range fdes {
						if i > 8 {
							break
						}
						tab.caller(fdes[i].begin, regs, read)
						tab.caller(fdes[i].end-1, regs, read)
					}
				}
			}
		}
	})
}

func TestEHFrameCrashc(t *testing.T) {
	path := fixture.Corpus(t, "generated/linux-core/crashc")
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	tab, err := readCFITable(fh)
	if err != nil || tab == nil {
		t.Fatalf("readCFITable: %v %v", tab, err)
	}
	if tab.errs != 0 || len(tab.fdes) < 5 {
		t.Fatalf("%d FDEs, %d malformed entries", len(tab.fdes), tab.errs)
	}
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	syms, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var level2 elf.Symbol
	for _, s := range syms {
		if s.Name == "level2" {
			level2 = s
		}
	}
	if level2.Value == 0 {
		t.Fatal("no level2 symbol")
	}
	fde, ok := tab.lookup(level2.Value)
	if !ok || fde.begin != level2.Value {
		t.Fatalf("FDE for level2 at %#x: %+v %v", level2.Value, fde, ok)
	}
	// Every FDE's rows must execute to the end of its range.
	for i := range tab.fdes {
		fd := &tab.fdes[i]
		if _, err := fd.execute(fd.end - 1); err != nil {
			t.Errorf("FDE [%#x,%#x): %v", fd.begin, fd.end, err)
		}
	}
	body := level2.Value + 8 // past push rbp; mov rbp, rsp
	row, err := fde.execute(body)
	if err != nil || row.cfaExpr != nil || row.cfaReg != 6 || row.cfaOff != 16 {
		t.Fatalf("level2 body row: %+v %v, want CFA rbp+16", row, err)
	}

	// Through the public API, with the image loaded at a PIE base.
	const base = 0x555555554000
	mod := model.Module{Base: base, Size: 0x5000, Path: path}
	u := NewDWARFUnwind([]model.Module{mod}, OpenFiles(func(model.Module) (string, bool) { return path, true }))
	const rbp = 0x7ffc0000
	read := stackMem(map[uint64]uint64{rbp: 0x7ffc0100, rbp + 8: base + 0x1270})
	regs, ok, err := u.Caller(base+body, Registers{"rip": base + body, "rsp": rbp - 0x10, "rbp": rbp}, read)
	if err != nil || !ok {
		t.Fatalf("Caller: ok=%v err=%v", ok, err)
	}
	if regs["rip"] != base+0x1270 || regs["rsp"] != rbp+16 || regs["rbp"] != 0x7ffc0100 {
		t.Errorf("caller of level2: %v", regs)
	}
	// The PLT's CFA is a DWARF expression the evaluator handles.
	if plt, ok := tab.lookup(0x1030); ok {
		if row, err := plt.execute(0x1030); err != nil || row.cfaExpr == nil {
			t.Errorf("PLT row: %+v %v", row, err)
		}
		read := stackMem(map[uint64]uint64{0x7000: 0x1111})
		if _, ok, _ := u.Caller(base+0x1030, Registers{"rip": base + 0x1030, "rsp": 0x7000}, read); !ok {
			t.Error("PLT expression not evaluated")
		}
	}
}
