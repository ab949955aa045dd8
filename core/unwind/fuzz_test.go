package unwind

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

// FuzzWalk walks random stacks: it must terminate, never panic, and keep
// every caller's SP at or above its callee's.
func FuzzWalk(f *testing.F) {
	f.Add(make([]byte, 64), uint64(0x1008))
	f.Add([]byte{0x10, 0x10, 0, 0, 0, 0, 0, 0, 0x34, 0x12, 0x40, 0, 0, 0, 0, 0}, uint64(0x1000))
	f.Fuzz(func(t *testing.T, stk []byte, rbp uint64) {
		m := memtest.Map{0x1000: stk}
		rip := uint64(0x400100)
		if len(stk) >= 8 {
			rip = binary.LittleEndian.Uint64(stk)
		}
		frames, _ := Walk(context.Background(), m, amd64(rip, 0x1000, rbp), mods, Options{MaxFrames: 200})
		for i := 1; i < len(frames); i++ {
			if frames[i].SP < frames[i-1].SP {
				t.Fatalf("frame %d SP %#x below its callee's %#x", i, frames[i].SP, frames[i-1].SP)
			}
		}
	})
}

// FuzzWalkLinkRegister walks random stacks of the link-register
// architectures (PowerPC's back chain in both byte orders, s390x, MIPS,
// RISC-V) from random registers, with the same guarantees as FuzzWalk.
func FuzzWalkLinkRegister(f *testing.F) {
	f.Add(make([]byte, 64), uint64(0x400100), uint64(0x1000), uint64(0x400200), uint8(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0x10, 0x20, 0, 0, 0, 0, 0, 0x40, 0x12, 0x34}, uint64(0x400100), uint64(0x1000), uint64(0x1008), uint8(1))
	archs := []model.Arch{model.PPC64, model.PPC64LE, model.PPC, model.S390X, model.MIPS, model.MIPS64, model.RISCV64}
	f.Fuzz(func(t *testing.T, stk []byte, pc, sp, lr uint64, which uint8) {
		arch := archs[int(which)%len(archs)]
		s := specs[arch]
		m := memtest.Map{0x1000: stk, 0x400000: []byte("\x7fELF\x01\x02")}
		c := ctx(arch, map[string]uint64{s.pc: pc, s.sp: sp, s.lr: lr, s.fp: sp})
		frames, _ := Walk(context.Background(), m, c, mods, Options{MaxFrames: 200})
		for i := 1; i < len(frames); i++ {
			if frames[i].SP < frames[i-1].SP {
				t.Fatalf("frame %d SP %#x below its callee's %#x", i, frames[i].SP, frames[i-1].SP)
			}
		}
	})
}
