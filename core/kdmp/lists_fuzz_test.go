package kdmp_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
)

// fuzzMachines are the dumps FuzzKernelViews damages: one per page-table
// format, built once.
var fuzzMachines = sync.OnceValue(func() [][]byte {
	var out [][]byte
	for _, p := range []kdmptest.Paging{kdmptest.PagingAMD64, kdmptest.PagingPAE, kdmptest.PagingX86, kdmptest.PagingARM64, kdmptest.PagingLA57} {
		m := kdmptest.NewMachine(p)
		b := m.NewBuilder()
		if p == kdmptest.PagingARM64 {
			b.DumpType(kdmptest.Bitmap)
		}
		raw, err := m.Bytes(b)
		if err != nil {
			return nil // reported by the fuzz function
		}
		out = append(out, raw)
	}
	return out
})

// FuzzKernelViews overwrites bytes of a synthetic kernel dump (page tables,
// KDDEBUGGER_DATA64, list entries, EPROCESSes: everything the views read)
// and checks that translation, the list walks and the region walk end
// without panicking, whatever the damage.
func FuzzKernelViews(f *testing.F) {
	f.Add(uint8(0), uint32(0x2000+0x100*0), []byte{0xff})
	f.Add(uint8(1), uint32(0x1000), []byte{0x41, 0x41, 0x41, 0x41})
	f.Add(uint8(2), uint32(0x1100), []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(3), uint32(0x3000), []byte{0x83, 0, 0, 0})
	f.Add(uint8(4), uint32(0x2f98), []byte{1})
	f.Fuzz(func(t *testing.T, which uint8, off uint32, patch []byte) {
		dumps := fuzzMachines()
		if dumps == nil {
			t.Fatal("the builder failed to assemble a machine")
		}
		raw := bytes.Clone(dumps[int(which)%len(dumps)])
		copy(raw[int(off)%len(raw):], patch)
		f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			return
		}
		f.LoadedModules()
		f.Processes()
		f.KDDebuggerData()
		for _, va := range []uint64{0xfffff80000100000, 0x80100000, 0xff7ff80000100000, 0xfffff80010000000} {
			f.Translate(va)
		}
		if ks, err := f.KernelSpace(); err == nil {
			n := 0
			for range ks.Regions() {
				if n++; n > 1<<12 {
					break
				}
			}
			p := make([]byte, 0x3000)
			ks.ReadMemory(p, 0xfffff80000100000)
		}
		f.Diagnostics()
	})
}
