package vmcore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

// TestPhysicalMemoryKdump reads panic-96M's physical memory: the kernel
// banner in init_uts_ns (found through the kernel's text mapping,
// virt - __START_KERNEL_map + phys_base, from VMCOREINFO) says the
// release VMCOREINFO names, and a page the bitmap leaves out faults
// NotInDump.
func TestPhysicalMemoryKdump(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.VMCOREINFO()
	if err != nil {
		t.Fatal(err)
	}
	phys, err := f.PhysicalMemory()
	if err != nil {
		t.Fatal(err)
	}
	physBase, err1 := strconv.ParseInt(info["NUMBER(phys_base)"], 10, 64)
	uts, err2 := strconv.ParseUint(info["SYMBOL(init_uts_ns)"], 16, 64)
	name, err3 := strconv.ParseUint(info["OFFSET(uts_namespace.name)"], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	// struct uts_namespace { struct new_utsname name; ... }: sysname[65], nodename[65], release[65].
	pa := uts + name - 0xffffffff80000000 + uint64(physBase)
	b := make([]byte, 3*65)
	if err := mem.ReadFull(phys, b, pa); err != nil {
		t.Fatalf("init_uts_ns at %#x: %v", pa, err)
	}
	sysname, release := cstr(b[:65]), cstr(b[130:])
	if sysname != "Linux" || release != info["OSRELEASE"] {
		t.Errorf("utsname %q %q, want Linux %q", sysname, release, info["OSRELEASE"])
	}
	// Some page outside the dumped ranges.
	rs, _ := f.Ranges()
	var gap uint64
	for i := 1; i < len(rs); i++ {
		if rs[i].Start > rs[i-1].Start+rs[i-1].Size {
			gap = rs[i-1].Start + rs[i-1].Size
			break
		}
	}
	if gap == 0 {
		t.Fatal("no gap in the dumped ranges")
	}
	if _, err := phys.ReadMemory(make([]byte, 8), gap); !errors.Is(err, mem.ErrNotInDump) {
		t.Errorf("excluded page %#x: %v", gap, err)
	}
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// TestPhysicalMemoryBuilt reads every page of built kdump-compressed
// dumps (each compression, and flattened) and ELF vmcores back: the
// builder's page contents at every dumpable pfn, NotInDump elsewhere.
func TestPhysicalMemoryBuilt(t *testing.T) {
	for _, c := range []struct {
		name   string
		status uint32
		flat   bool
	}{{"zlib", vmcoretest.CompressedZlib, false}, {"snappy", vmcoretest.CompressedSnappy, false},
		{"zstd", vmcoretest.CompressedZstd, false}, {"none", 0, false}, {"zlib-flattened", vmcoretest.CompressedZlib, true}} {
		t.Run(c.name, func(t *testing.T) {
			k := vmcoretest.NewKdump(binary.LittleEndian).Status(c.status)
			raw, err := k.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if c.flat {
				// Records in reverse order: the index, not the file
				// order, places the bytes.
				raw, err = vmcoretest.FlattenBytes(raw).Order(vmcoretest.Reverse).Bytes()
				if err != nil {
					t.Fatal(err)
				}
			}
			f, err := NewFile(bytes.NewReader(raw), int64(len(raw)))
			if err != nil {
				t.Fatal(err)
			}
			phys, err := f.PhysicalMemory()
			if err != nil {
				t.Fatal(err)
			}
			dumped := map[uint64]bool{}
			for _, p := range k.DumpablePFNs() {
				dumped[p] = true
				got := make([]byte, 4096)
				if err := mem.ReadFull(phys, got, p*4096); err != nil {
					t.Fatalf("pfn %#x: %v", p, err)
				}
				if !bytes.Equal(got, vmcoretest.PageContents(p, 4096)) {
					t.Fatalf("pfn %#x: wrong bytes", p)
				}
			}
			for p := uint64(0); p < 256; p++ {
				if !dumped[p] {
					if _, err := phys.ReadMemory(make([]byte, 1), p*4096+7); !errors.Is(err, mem.ErrNotInDump) {
						t.Fatalf("excluded pfn %#x: %v", p, err)
					}
				}
			}
			// A read across a dumped and an excluded page stops at the gap.
			n, err := phys.ReadMemory(make([]byte, 8192), 15*4096)
			if n != 4096 || !errors.Is(err, mem.ErrNotInDump) {
				t.Errorf("read across the gap: %d, %v", n, err)
			}
		})
	}
}

// TestPhysicalMemoryELF reads an ELF vmcore's PT_LOADs by physical
// address; memory past p_filesz (Memsz) is not in the dump.
func TestPhysicalMemoryELF(t *testing.T) {
	e := vmcoretest.NewELF(binary.LittleEndian)
	e.Loads(vmcoretest.Load{Paddr: 0x1000000, Vaddr: 0xffffffff81000000, Data: vmcoretest.PageContents(7, 4096), Memsz: 0x2000},
		vmcoretest.Load{Paddr: 0, Vaddr: 0xffff888000000000, Data: vmcoretest.PageContents(9, 4096)})
	raw, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	phys, err := f.PhysicalMemory()
	if err != nil {
		t.Fatal(err)
	}
	for pa, want := range map[uint64][]byte{0x1000000: vmcoretest.PageContents(7, 4096), 0: vmcoretest.PageContents(9, 4096)} {
		got := make([]byte, 4096)
		if err := mem.ReadFull(phys, got, pa); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%#x: %v", pa, err)
		}
	}
	if _, err := phys.ReadMemory(make([]byte, 4), 0x1001000); !errors.Is(err, mem.ErrNotInDump) {
		t.Errorf("past p_filesz: %v", err)
	}
}

// TestPhysBaseDisagrees: a sub-header phys_base that VMCOREINFO
// contradicts (QEMU's kdump output) gets a diagnostic; one that agrees
// (panic-96M's) does not.
func TestPhysBaseDisagrees(t *testing.T) {
	raw, err := vmcoretest.NewKdump(binary.LittleEndian).Set("NUMBER(phys_base)", "16777216").PhysBase(0).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range f.Diagnostics() {
		found = found || strings.Contains(d.Msg, "disagrees with VMCOREINFO's NUMBER(phys_base) 0x1000000")
	}
	if !found {
		t.Errorf("no phys_base diagnostic: %+v", f.Diagnostics())
	}
	g, err := Open(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, d := range g.Diagnostics() {
		if strings.Contains(d.Msg, "phys_base") {
			t.Errorf("panic-96M: %s", d.Msg)
		}
	}
}

// TestJoinSplit builds a dump split in two parts (pfns 0-24 and 24-256,
// each holding only its own dumpable pages) and reads every page of the
// whole through JoinSplit, in either part order.
func TestJoinSplit(t *testing.T) {
	all := vmcoretest.NewKdump(binary.LittleEndian).Dumpable(vmcoretest.PFNRange{Start: 0, End: 16}, vmcoretest.PFNRange{Start: 32, End: 48})
	open := func(r vmcoretest.PFNRange, d ...vmcoretest.PFNRange) *File {
		raw, err := vmcoretest.NewKdump(binary.LittleEndian).Split(r).Dumpable(d...).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		f, err := NewFile(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	a := open(vmcoretest.PFNRange{Start: 0, End: 24}, vmcoretest.PFNRange{Start: 0, End: 16})
	b := open(vmcoretest.PFNRange{Start: 24, End: 256}, vmcoretest.PFNRange{Start: 32, End: 48})
	if !a.SamePartSet(b) {
		t.Fatal("the parts are not of one set")
	}
	for _, parts := range [][]*File{{a, b}, {b, a}} {
		phys, err := JoinSplit(parts)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range all.DumpablePFNs() {
			got := make([]byte, 4096)
			if err := mem.ReadFull(phys, got, p*4096); err != nil || !bytes.Equal(got, vmcoretest.PageContents(p, 4096)) {
				t.Fatalf("pfn %#x: %v", p, err)
			}
		}
		if _, err := phys.ReadMemory(make([]byte, 8), 20*4096); !errors.Is(err, mem.ErrNotInDump) {
			t.Errorf("pfn 20: %v", err)
		}
	}
	if _, err := JoinSplit([]*File{a, a}); err == nil {
		t.Error("overlapping parts joined")
	}
}

// TestCPUStates reads panic-96M's NT_PRSTATUS notes: two CPUs, CPU 0
// running pid 1 (init, which dmesg's "CPU: 0 PID: 1" names) with a kernel
// stack pointer and a kernel instruction pointer.
func TestCPUStates(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cs := f.CPUStates()
	if len(cs) != 2 || cs[0].PID != 1 || cs[0].Regs == nil {
		t.Fatalf("%+v", cs)
	}
	if rsp, rip := cs[0].Regs["rsp"], cs[0].Regs["rip"]; rsp < 0xffff800000000000 || rip < 0xffffffff80000000 {
		t.Errorf("CPU 0: rsp %#x rip %#x", rsp, rip)
	}
}
