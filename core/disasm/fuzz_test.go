package disasm_test

import (
	"testing"

	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

func FuzzDecode(f *testing.F) {
	f.Add(code, uint64(0x1000), uint8(0))
	f.Add([]byte{0x48, 0x8d, 0x0d, 0x09, 0x20, 0x00, 0x00}, uint64(0x140001000), uint8(0))
	f.Add([]byte{0x40, 0x00, 0x00, 0x94, 0xc0, 0x03, 0x5f, 0xd6}, uint64(0x1000), uint8(2))
	f.Add([]byte{0xe8, 0xfb, 0x00, 0x00, 0x00}, uint64(0xfffffffffffffff0), uint8(1))
	archs := []model.Arch{model.AMD64, model.X86, model.ARM64}
	f.Fuzz(func(t *testing.T, b []byte, addr uint64, a uint8) {
		arch := archs[int(a)%len(archs)]
		d, err := disasm.For(arch)
		if err != nil {
			t.Fatal(err)
		}
		if in, err := d.Decode(b, addr); err == nil {
			if in.Len <= 0 || in.Len > len(b) {
				t.Fatalf("Len %d of %d bytes", in.Len, len(b))
			}
			_ = in.Text(disasm.Intel, syms)
			_ = in.Text(disasm.GNU, nil)
		}
		m := memtest.Map{addr &^ 0xffff: b}
		ins, _ := disasm.Range(m, d, addr&^0xffff, 8)
		for _, in := range ins {
			_ = in.Text(disasm.Intel, nil)
		}
		end := addr&^0xffff + uint64(len(b))
		if ins, err := disasm.Backward(m, d, end, 4); err == nil {
			if len(ins) > 4 || len(ins) == 0 {
				t.Fatalf("Backward gave %d insts", len(ins))
			}
			last := ins[len(ins)-1]
			if last.Addr+uint64(last.Len) != end && (arch != model.ARM64 || end%4 == 0) {
				// arm64 is fixed width and x86 must land exactly on end.
				t.Fatalf("Backward ends at %#x, want %#x", last.Addr+uint64(last.Len), end)
			}
		}
	})
}
