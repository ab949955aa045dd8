package unwind

import (
	"context"
	"encoding/binary"
	"testing"

	"github.com/crashbench/crashbench/core/mem/memtest"
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
