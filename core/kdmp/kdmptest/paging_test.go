package kdmptest

import (
	"encoding/binary"
	"testing"
)

// TestKDBGLayout checks the sequential KDDEBUGGER_DATA64 against the field
// offsets the Windows metadata gives for it.
func TestKDBGLayout(t *testing.T) {
	t.Parallel()
	for _, p := range []Paging{PagingAMD64, PagingPAE} {
		m := NewMachine(p)
		b := m.kdbgBytes()
		if m.err != nil {
			t.Fatal(m.err)
		}
		if len(b) != kdbgSize {
			t.Fatalf("%v: KDDEBUGGER_DATA64 is %#x bytes, want %#x", p, len(b), kdbgSize)
		}
		le := binary.LittleEndian
		ext := func(v uint64) uint64 {
			if !p.Is64() {
				return uint64(int64(int32(uint32(v))))
			}
			return v
		}
		o := m.Offsets
		for _, c := range []struct {
			name      string
			off       int
			got, want uint64
		}{
			{"OwnerTag", 0x10, uint64(le.Uint32(b[0x10:])), 0x4742444B},
			{"KernBase", 0x18, le.Uint64(b[0x18:]), ext(m.KernBase)},
			{"PsLoadedModuleList", 0x48, le.Uint64(b[0x48:]), ext(m.PsLoadedModuleList)},
			{"PsActiveProcessHead", 0x50, le.Uint64(b[0x50:]), ext(m.PsActiveProcessHead)},
			{"MmPfnDatabase", 0xc0, le.Uint64(b[0xc0:]), ext(m.PfnDatabase)},
			{"OffsetKThreadApcProcess", 0x2a0, uint64(le.Uint16(b[0x2a0:])), o.KThreadApcProcess},
			{"SizeEProcess", 0x2a8, uint64(le.Uint16(b[0x2a8:])), o.EprocessSize},
			{"OffsetEprocessPeb", 0x2aa, uint64(le.Uint16(b[0x2aa:])), o.Peb},
			{"OffsetEprocessParentCID", 0x2ac, uint64(le.Uint16(b[0x2ac:])), o.ParentPID},
			{"OffsetEprocessDirectoryTableBase", 0x2ae, uint64(le.Uint16(b[0x2ae:])), o.DirectoryTableBase},
			{"SizeEThread", 0x2c0, uint64(le.Uint16(b[0x2c0:])), o.EthreadSize},
		} {
			if c.got != c.want {
				t.Errorf("%v: %s at %#x = %#x, want %#x", p, c.name, c.off, c.got, c.want)
			}
		}
	}
}

// TestSoftwarePTEs checks the encoders against MemProcFS's decoding
// macros (mm_win.c), written out here independently.
func TestSoftwarePTEs(t *testing.T) {
	t.Parallel()
	// MMWINX64_PTE_TRANSITION: (pte & 0xc01) == 0x800.
	if e := PagingAMD64.TransitionPTE(0x1234000); e&0xc01 != 0x800 || e&0x000ffffffffff000 != 0x1234000 {
		t.Errorf("x64 transition PTE %#x", e)
	}
	// MMWINX64_PTE_PAGE_FILE_NUMBER/OFFSET, builds 17134+ and before.
	if e := PagingAMD64.PagedOutPTE(3, 0x5000, 19041); e>>12&0xf != 3 || e>>32 != 5 || e&0x10 == 0 || e&0xc01 != 0 {
		t.Errorf("x64 19041 paged-out PTE %#x", e)
	}
	if e := PagingAMD64.PagedOutPTE(3, 0x5000, 7601); e>>1&0xf != 3 || e>>32 != 5 {
		t.Errorf("x64 7601 paged-out PTE %#x", e)
	}
	// MMWINX64_PTE_PROTOTYPE: (pte & 0x8000000000070401) == 0x8000000000000400.
	if e := PagingAMD64.PrototypePTE(0xfffff80000005008); e&0x8000000000070401 != 0x8000000000000400 || e>>16|0xffff000000000000 != 0xfffff80000005008 {
		t.Errorf("x64 prototype PTE %#x", e)
	}
	// MMWINX86_PTE_PROTOTYPE: 0x80000000 | ((pte >> 1) & 0x7ffffc00) | ((pte << 1) & 0x3ff).
	e := PagingX86.PrototypePTE(0x81234560)
	if e&0x407 != 0x400 || 0x80000000|(e>>1)&0x7ffffc00|(e<<1)&0x3ff != 0x81234560 {
		t.Errorf("x86 prototype PTE %#x", e)
	}
}

func TestMachineLayout(t *testing.T) {
	t.Parallel()
	for _, p := range []Paging{PagingAMD64, PagingLA57, PagingPAE, PagingX86, PagingARM64} {
		m := NewMachine(p)
		if m.err != nil {
			t.Fatalf("%v: %v", p, m.err)
		}
		for _, mod := range m.Modules {
			e := mod.Entry
			ptr := uint64(m.Ptr)
			base := binary.LittleEndian.Uint64(append(m.AS.Read(e+6*ptr, m.Ptr), make([]byte, 8)...))
			if base != mod.Base {
				t.Errorf("%v: %s: DllBase at +%#x = %#x, want %#x", p, mod.Name, 6*ptr, base, mod.Base)
			}
		}
		b, err := m.Bytes(m.NewBuilder())
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		if len(b) < 0x2000 {
			t.Fatalf("%v: %d bytes", p, len(b))
		}
	}
}
