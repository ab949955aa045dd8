package disasm_test

import (
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

func syms(addr uint64) (string, uint64) {
	switch {
	case addr >= 0x140003000 && addr < 0x140003100:
		return "app!g_table", 0x140003000
	case addr >= 0x140001100 && addr < 0x140001200:
		return "app!helper", 0x140001100
	}
	return "", 0
}

func mustFor(t *testing.T, a model.Arch) disasm.Decoder {
	t.Helper()
	d, err := disasm.For(a)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecode(t *testing.T) {
	tests := map[string]struct {
		arch   model.Arch
		addr   uint64
		code   []byte
		intel  string
		kind   disasm.Kind
		target uint64
		mnem   string
	}{
		"mov store": {model.AMD64, 0x140001000, []byte{0x48, 0x89, 0x5c, 0x24, 0x08}, "mov qword ptr [rsp+8],rbx", disasm.Other, 0, "mov"},
		// lldb's sigsegv.test: the write through NULL at the faulting pc.
		"store to 0": {model.AMD64, 0x7ff7a13110d9, []byte{0xc7, 0x04, 0x25, 0, 0, 0, 0, 0, 0, 0, 0}, "mov dword ptr [0],0", disasm.Other, 0, "mov"},
		"sub imm":    {model.AMD64, 0x140001000, []byte{0x48, 0x83, 0xec, 0x28}, "sub rsp,28h", disasm.Other, 0, "sub"},
		"and mask":   {model.AMD64, 0x140001000, []byte{0x48, 0x83, 0xe4, 0xf0}, "and rsp,-10h", disasm.Other, 0, "and"},
		"call sym": {model.AMD64, 0x140001000, []byte{0xe8, 0xfb, 0x00, 0x00, 0x00},
			"call app!helper (00000001`40001100)", disasm.Call, 0x140001100, "call"},
		"call nosym": {model.AMD64, 0x140001000, []byte{0xe8, 0x00, 0x10, 0x00, 0x00},
			"call 00000001`40002005", disasm.Call, 0x140002005, "call"},
		"lea rip sym": {model.AMD64, 0x140001000, []byte{0x48, 0x8d, 0x0d, 0x09, 0x20, 0x00, 0x00},
			"lea rcx,[app!g_table+0x10 (00000001`40003010)]", disasm.Other, 0, "lea"},
		"mov rip nosym": {model.AMD64, 0x140001000, []byte{0x48, 0x8b, 0x05, 0xf9, 0x4f, 0x00, 0x00},
			"mov rax,qword ptr [00000001`40006000]", disasm.Other, 0, "mov"},
		"ret":      {model.AMD64, 0x140001000, []byte{0xc3}, "ret", disasm.Ret, 0, "ret"},
		"int3":     {model.AMD64, 0x140001000, []byte{0xcc}, "int3", disasm.Int3, 0, "int3"},
		"jne":      {model.AMD64, 0x140001000, []byte{0x75, 0x10}, "jne 00000001`40001012", disasm.CondJmp, 0x140001012, "jne"},
		"jmp":      {model.AMD64, 0x140001000, []byte{0xeb, 0xfe}, "jmp 00000001`40001000", disasm.Jmp, 0x140001000, "jmp"},
		"x86 push": {model.X86, 0x401000, []byte{0x55}, "push ebp", disasm.Other, 0, "push"},
		"x86 call": {model.X86, 0x401000, []byte{0xe8, 0xfb, 0x00, 0x00, 0x00}, "call 00401100", disasm.Call, 0x401100, "call"},
		"arm64 bl": {model.ARM64, 0x140001000, []byte{0x40, 0x00, 0x00, 0x94},
			"bl app!helper (00000001`40001100)", disasm.Call, 0x140001100, "bl"},
		"arm64 ret":  {model.ARM64, 0x1000, []byte{0xc0, 0x03, 0x5f, 0xd6}, "ret", disasm.Ret, 0, "ret"},
		"arm64 b.ne": {model.ARM64, 0x1000, []byte{0x41, 0x00, 0x00, 0x54}, "b.ne 00000000`00001008", disasm.CondJmp, 0x1008, "b"},
		"arm64 brk":  {model.ARM64, 0x1000, []byte{0x00, 0x00, 0x20, 0xd4}, "brk #0x0", disasm.Int3, 0, "brk"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := mustFor(t, tt.arch)
			in, err := d.Decode(tt.code, tt.addr)
			if err != nil {
				t.Fatal(err)
			}
			if got := in.Text(disasm.Intel, syms); got != tt.intel {
				t.Errorf("Text = %q, want %q", got, tt.intel)
			}
			if in.Kind != tt.kind || in.Target != tt.target || in.Mnemonic != tt.mnem {
				t.Errorf("Kind, Target, Mnemonic = %v, %#x, %q; want %v, %#x, %q", in.Kind, in.Target, in.Mnemonic, tt.kind, tt.target, tt.mnem)
			}
			if in.Len != len(tt.code) || string(in.Bytes) != string(tt.code) {
				t.Errorf("Len, Bytes = %d, % x", in.Len, in.Bytes)
			}
		})
	}
}

func TestGNUSyntax(t *testing.T) {
	in, err := mustFor(t, model.AMD64).Decode([]byte{0x48, 0x89, 0x5c, 0x24, 0x08}, 0x1000)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := in.Text(disasm.GNU, nil), "mov %rbx,0x8(%rsp)"; got != want {
		t.Errorf("GNU = %q, want %q", got, want)
	}
}

func TestForUnsupported(t *testing.T) {
	for _, a := range []model.Arch{model.PPC64LE, model.RISCV64, ""} {
		if _, err := disasm.For(a); !errors.Is(err, disasm.ErrUnsupportedArch) {
			t.Errorf("For(%q) = %v, want ErrUnsupportedArch", a, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	_, err := mustFor(t, model.AMD64).Decode([]byte{0x48, 0x89}, 0x1000)
	var de *disasm.DecodeError
	if !errors.As(err, &de) || de.Addr != 0x1000 {
		t.Errorf("truncated: %v", err)
	}
	if _, err := mustFor(t, model.ARM64).Decode([]byte{1, 2}, 0); !errors.As(err, &de) {
		t.Errorf("short arm64: %v", err)
	}
}

// code is a small amd64 function at 0x1000:
//
//	push rbp; mov rbp,rsp; sub rsp,20h; call +0; add rsp,20h; pop rbp; ret
var code = []byte{
	0x55,
	0x48, 0x89, 0xe5,
	0x48, 0x83, 0xec, 0x20,
	0xe8, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x83, 0xc4, 0x20,
	0x5d,
	0xc3,
}

func TestRangeStopsAtFault(t *testing.T) {
	m := memtest.Map{0x1000: code}
	d := mustFor(t, model.AMD64)
	ins, err := disasm.Range(m, d, 0x1000, 5)
	if err != nil || len(ins) != 5 || ins[4].Addr != 0x100d {
		t.Fatalf("Range 5 = %d insts, %v", len(ins), err)
	}
	ins, err = disasm.Range(m, d, 0x1000, 20)
	if len(ins) != 7 || ins[6].Mnemonic != "ret" {
		t.Fatalf("Range 20 = %d insts", len(ins))
	}
	var fe *mem.FaultError
	if !errors.As(err, &fe) || fe.Addr != 0x1000+uint64(len(code)) {
		t.Fatalf("err = %v, want fault at end", err)
	}
	// An instruction cut by the fault is not shown.
	ins, err = disasm.Range(memtest.Map{0x1000: code[:6]}, d, 0x1000, 5)
	if len(ins) != 2 || !errors.Is(err, mem.ErrUnmapped) {
		t.Fatalf("cut: %d insts, %v", len(ins), err)
	}
	if _, err := disasm.Range(m, d, 0x9000, 1); !errors.Is(err, mem.ErrUnmapped) {
		t.Fatalf("unmapped: %v", err)
	}
}

func TestRangeBadBytes(t *testing.T) {
	m := memtest.Map{0x1000: {0x0f, 0x0b, 0xc3}} // ud2; ret
	ins, err := disasm.Range(m, mustFor(t, model.AMD64), 0x1000, 2)
	if err != nil || len(ins) != 2 || ins[1].Kind != disasm.Ret {
		t.Fatalf("%v %v", ins, err)
	}
}

func TestBackward(t *testing.T) {
	// Pad with bytes that decode in several ways so that ub has to choose.
	pre := []byte{0x00, 0x48, 0x8b, 0x44, 0x24, 0x08, 0x90, 0x90}
	m := memtest.Map{0x1000 - uint64(len(pre)): append(append([]byte{}, pre...), code...)}
	d := mustFor(t, model.AMD64)
	end := uint64(0x1000 + len(code) - 1) // the ret
	ins, err := disasm.Backward(m, d, end, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0x1008, 0x100d, 0x1011}
	if len(ins) != 3 {
		t.Fatalf("got %d insts", len(ins))
	}
	for k, in := range ins {
		if in.Addr != want[k] {
			t.Errorf("inst %d at %#x, want %#x", k, in.Addr, want[k])
		}
	}
	// Memory before the function is missing: use what can be read.
	m2 := memtest.Map{0x1000: code}
	ins, err = disasm.Backward(m2, d, 0x1008, 8)
	if err != nil || len(ins) != 3 || ins[0].Addr != 0x1000 {
		t.Fatalf("partial: %v %v", ins, err)
	}
	if _, err := disasm.Backward(m2, d, 0x1000, 2); !errors.Is(err, mem.ErrUnmapped) {
		t.Fatalf("nothing readable: %v", err)
	}
}

func TestBackwardARM64(t *testing.T) {
	arm := []byte{0x1f, 0x20, 0x03, 0xd5, 0x40, 0x00, 0x00, 0x94, 0xc0, 0x03, 0x5f, 0xd6}
	m := memtest.Map{0x2000: arm}
	ins, err := disasm.Backward(m, mustFor(t, model.ARM64), 0x200c, 2)
	if err != nil || len(ins) != 2 || ins[0].Mnemonic != "bl" || ins[1].Kind != disasm.Ret {
		t.Fatalf("%v %v", ins, err)
	}
}
