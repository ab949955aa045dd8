package kdmp_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// vmVariant is one dump layout the memory views are tested on.
type vmVariant struct {
	name    string
	paging  kdmptest.Paging
	base    uint64 // kernel base; 0 for the default
	builder func(m *kdmptest.Machine) *kdmptest.Builder
}

func vmVariants() []vmVariant {
	b := func(m *kdmptest.Machine) *kdmptest.Builder { return m.NewBuilder() }
	return []vmVariant{
		{"full-amd64", kdmptest.PagingAMD64, 0, b},
		{"bitmap-sdmp", kdmptest.PagingAMD64, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.Bitmap)
		}},
		{"bitmap-fdmp", kdmptest.PagingAMD64, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.Bitmap).BitmapSignature(kdmptest.FullSignature)
		}},
		{"live-kernel", kdmptest.PagingAMD64, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.LiveKernelBitmap).BugCheck(0x161)
		}},
		{"kernel-memory", kdmptest.PagingAMD64, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.KernelMemory).BugCheck(0)
		}},
		{"complete-memory", kdmptest.PagingAMD64, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.CompleteMemory).BugCheck(0)
		}},
		{"full-la57", kdmptest.PagingLA57, 0, b},
		{"full-la57-48bit-addresses", kdmptest.PagingLA57, 0xfffff80000000000, b},
		{"full-pae", kdmptest.PagingPAE, 0, b},
		{"bitmap-pae", kdmptest.PagingPAE, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New32().DumpType(kdmptest.Bitmap)
		}},
		{"full-x86", kdmptest.PagingX86, 0, b},
		{"full-arm64", kdmptest.PagingARM64, 0, b},
		{"bitmap-arm64", kdmptest.PagingARM64, 0, func(m *kdmptest.Machine) *kdmptest.Builder {
			return kdmptest.New().DumpType(kdmptest.Bitmap)
		}},
	}
}

func (v vmVariant) machine() *kdmptest.Machine {
	if v.base != 0 {
		return kdmptest.NewMachineAt(v.paging, v.base)
	}
	return kdmptest.NewMachine(v.paging)
}

// vmOpen assembles the machine's dump with b and opens it.
func vmOpen(t testing.TB, m *kdmptest.Machine, b *kdmptest.Builder) *kdmp.File {
	t.Helper()
	raw, err := m.Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f
}

// vmRead reads n bytes at va of s.
func vmRead(t *testing.T, s mem.Space, va uint64, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	if err := mem.ReadFull(s, p, va); err != nil {
		t.Fatalf("read %#x: %v", va, err)
	}
	return p
}

// viewDiags returns the diagnostics the views added (Off -1) of severity
// Warning or worse.
func viewDiags(f *kdmp.File) []model.Diagnostic {
	var out []model.Diagnostic
	for _, d := range f.Diagnostics() {
		if d.Off == -1 && d.Severity >= model.Warning {
			out = append(out, d)
		}
	}
	return out
}

func wantPaging(p kdmptest.Paging) kdmp.Paging {
	switch p {
	case kdmptest.PagingLA57:
		return kdmp.PagingAMD64LA57
	case kdmptest.PagingPAE:
		return kdmp.PagingPAE
	case kdmptest.PagingX86:
		return kdmp.PagingX86
	case kdmptest.PagingARM64:
		return kdmp.PagingARM64
	}
	return kdmp.PagingAMD64
}

func TestTranslateVariants(t *testing.T) {
	t.Parallel()
	for _, v := range vmVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			m := v.machine()
			f := vmOpen(t, m, v.builder(m))
			ks, err := f.KernelSpace()
			if err != nil {
				t.Fatal(err)
			}
			if got := ks.Paging(); got != wantPaging(v.paging) {
				t.Errorf("Paging = %v, want %v", got, wantPaging(v.paging))
			}
			phys, err := f.PhysicalSpace()
			if err != nil {
				t.Fatal(err)
			}
			root := m.AS.DTB()
			if got := vmRead(t, phys, root, kdmptest.PageSize); !bytes.Equal(got, m.Mem.ReadPhys(root, kdmptest.PageSize)) {
				t.Errorf("physical page %#x differs from the machine's", root)
			}

			// A 4 KiB page: walk, translation and contents.
			pa, walk, err := f.Translate(m.StackVA + 0x18)
			if err != nil {
				t.Fatalf("Translate(stack): %v", err)
			}
			if len(walk.Steps) != m.AS.Levels() || walk.PageSize != kdmptest.PageSize || walk.Transition {
				t.Errorf("stack walk = %+v", walk)
			}
			if wantX := v.paging == kdmptest.PagingX86; walk.Prot&mem.W == 0 || (walk.Prot&mem.X != 0) != wantX {
				t.Errorf("stack page protection %v", walk.Prot)
			}
			if last := walk.Steps[len(walk.Steps)-1]; last.Addr != m.AS.EntryAddr(m.StackVA, m.AS.Levels()-1) {
				t.Errorf("PTE address %#x, want %#x", last.Addr, m.AS.EntryAddr(m.StackVA, m.AS.Levels()-1))
			}
			if got := vmRead(t, phys, pa-0x18, kdmptest.PageSize); !bytes.Equal(got, kdmptest.StackData()) {
				t.Errorf("stack page at PA %#x does not hold StackData", pa-0x18)
			}
			if got := vmRead(t, ks, m.StackVA, kdmptest.PageSize); !bytes.Equal(got, kdmptest.StackData()) {
				t.Error("stack page read through the kernel space differs")
			}

			// Large pages map PA 0, where the machine's first tables live.
			probe := uint64(0x100) * kdmptest.PageSize
			for _, va := range []uint64{m.LargeVA, m.HugeVA} {
				if va == 0 {
					continue
				}
				pa, walk, err := f.Translate(va + probe + 8)
				if err != nil || pa != probe+8 || walk.PageSize < 2<<20 {
					t.Errorf("Translate(large %#x) = %#x, %+v, %v", va, pa, walk, err)
				}
				if got := vmRead(t, ks, va+probe, 64); !bytes.Equal(got, m.Mem.ReadPhys(probe, 64)) {
					t.Errorf("large page at %#x reads wrong bytes", va)
				}
			}

			// Transition PTE: still in RAM, translated.
			pa, walk, err = f.Translate(m.TransitionVA)
			if err != nil || pa != m.TransitionPA || !walk.Transition {
				t.Errorf("Translate(transition) = %#x, %+v, %v; want %#x", pa, walk, err, m.TransitionPA)
			}
			if got := vmRead(t, ks, m.TransitionVA, 15); string(got) != "transition page" {
				t.Errorf("transition page reads %q", got)
			}
			if v.paging != kdmptest.PagingARM64 {
				if got := vmRead(t, ks, m.TransitionTableVA, 23); string(got) != "behind a transition PDE" {
					t.Errorf("page behind a transition PDE reads %q", got)
				}
			}

			// Paged out: NotPresent, with the page file and offset.
			_, walk, err = f.Translate(m.PagedOutVA)
			var pe *kdmp.PTEError
			if !errors.Is(err, mem.ErrNotPresent) || !errors.As(err, &pe) {
				t.Fatalf("Translate(paged out) error = %v", err)
			}
			if v.paging == kdmptest.PagingARM64 {
				if pe.State != kdmp.PTEInvalid {
					t.Errorf("ARM64 software PTE state = %v", pe.State)
				}
			} else if pe.State != kdmp.PTEPagedOut || pe.PageFile != m.PageFile || pe.Offset != m.PageFileOffset || pe.Swizzled {
				t.Errorf("paged-out PTE decoded as %+v (%v)", pe, pe)
			}
			var fe *mem.FaultError
			if errors.As(err, &fe) && (fe.Level != "PTE" || fe.Addr != m.PagedOutVA) {
				t.Errorf("fault %+v", fe)
			}
			if len(walk.Steps) != m.AS.Levels() || walk.PageSize != 0 {
				t.Errorf("paged-out walk = %+v", walk)
			}

			if m.PrototypeVA != 0 {
				_, _, err = f.Translate(m.PrototypeVA)
				if !errors.As(err, &pe) || pe.State != kdmp.PTEPrototype || pe.ProtoAddress != m.ProtoAddress {
					t.Errorf("prototype PTE: %v (%+v), want proto %#x", err, pe, m.ProtoAddress)
				}
			}

			// A page table the dump lacks; a page the dump lacks.
			if _, _, err := f.Translate(m.MissingTableVA); !errors.Is(err, mem.ErrNotInDump) {
				t.Errorf("Translate(missing table) = %v, want not in dump", err)
			}
			if _, _, err := f.Translate(m.MissingPageVA); err != nil {
				t.Errorf("Translate(missing page) = %v", err)
			}
			if _, err := ks.ReadMemory(make([]byte, 8), m.MissingPageVA); !errors.Is(err, mem.ErrNotInDump) {
				t.Errorf("read of a page the dump lacks = %v", err)
			}
			if _, _, err := f.Translate(0x0000900000000000); !errors.Is(err, mem.ErrUnmapped) && !errors.Is(err, mem.ErrNotPresent) {
				t.Errorf("Translate(unmapped) = %v", err)
			}

			// A process's own space.
			last := m.Processes[len(m.Processes)-1]
			ps, err := f.ProcessSpace(last.DTB)
			if err != nil {
				t.Fatal(err)
			}
			if got := vmRead(t, ps, m.UserVA, kdmptest.PageSize); !bytes.Equal(got, kdmptest.UserData()) {
				t.Error("user page of the last process differs")
			}

			if d := viewDiags(f); len(d) > 0 {
				t.Errorf("diagnostics on a clean dump: %v", d)
			}
		})
	}
}

// TestNonCanonical checks addresses no format can translate.
func TestNonCanonical(t *testing.T) {
	t.Parallel()
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	f := vmOpen(t, m, m.NewBuilder())
	for _, va := range []uint64{0x0000800000000000, 0xfff0000000000000, 0x8000000000000000} {
		_, w, err := f.Translate(va)
		var fe *mem.FaultError
		if !errors.Is(err, mem.ErrUnmapped) || !errors.As(err, &fe) || fe.Addr != va || len(w.Steps) != 0 {
			t.Errorf("Translate(%#x) = %+v, %v", va, w, err)
		}
	}
	m32 := kdmptest.NewMachine(kdmptest.PagingPAE)
	f32 := vmOpen(t, m32, m32.NewBuilder())
	if _, _, err := f32.Translate(0x100000000); !errors.Is(err, mem.ErrUnmapped) {
		t.Errorf("PAE Translate(4 GiB) = %v", err)
	}
}

// TestRegions checks the kernel space's region list: ascending, disjoint,
// covering the stack and large pages, marking data non-executable.
func TestRegions(t *testing.T) {
	t.Parallel()
	for _, p := range []kdmptest.Paging{kdmptest.PagingAMD64, kdmptest.PagingPAE, kdmptest.PagingX86, kdmptest.PagingARM64, kdmptest.PagingLA57} {
		m := kdmptest.NewMachine(p)
		f := vmOpen(t, m, m.NewBuilder())
		ks, err := f.KernelSpace()
		if err != nil {
			t.Fatal(err)
		}
		var regions []mem.Region
		for r := range ks.Regions() {
			regions = append(regions, r)
		}
		for i := 1; i < len(regions); i++ {
			if regions[i].Start <= regions[i-1].Last() {
				t.Errorf("%v: region %d %+v overlaps or precedes %+v", p, i, regions[i], regions[i-1])
			}
		}
		covers := func(va uint64) (mem.Region, bool) {
			i := slices.IndexFunc(regions, func(r mem.Region) bool { return r.Contains(va) })
			if i < 0 {
				return mem.Region{}, false
			}
			return regions[i], true
		}
		for _, va := range []uint64{m.StackVA, m.LargeVA, m.TransitionVA, m.KdDebuggerDataBlock} {
			if _, ok := covers(va); !ok {
				t.Errorf("%v: no region covers %#x", p, va)
			}
		}
		if _, ok := covers(m.PagedOutVA); ok {
			t.Errorf("%v: a region covers the paged-out page", p)
		}
		if r, _ := covers(m.StackVA); p != kdmptest.PagingX86 && r.Prot&mem.X != 0 || r.Prot&mem.W == 0 {
			t.Errorf("%v: stack region %+v, want rw-", p, r)
		}
	}
}

// TestPSE36 maps a 4 MiB page above 4 GiB with 32-bit paging.
func TestPSE36(t *testing.T) {
	t.Parallel()
	m := kdmptest.NewMachine(kdmptest.PagingX86)
	const va, pa = 0xc0000000, 0x1_0040_0000 // PA 4 GiB + 4 MiB
	if err := m.AS.MapLarge(va, pa, 4<<20); err != nil {
		t.Fatal(err)
	}
	m.Mem.WritePhys(pa+0x3000, []byte("above 4 GiB"))
	f := vmOpen(t, m, m.NewBuilder())
	got, w, err := f.Translate(va + 0x3004)
	if err != nil || got != pa+0x3004 || w.PageSize != 4<<20 {
		t.Fatalf("Translate = %#x, %+v, %v", got, w, err)
	}
	ks, _ := f.KernelSpace()
	if b := vmRead(t, ks, va+0x3000, 11); string(b) != "above 4 GiB" {
		t.Errorf("read %q", b)
	}
}

// TestOldBuildPagedOut decodes a Windows 7 software PTE, whose PageFileLow
// sits at bits 1..4, and a swizzled one of a newer build.
func TestOldBuildPagedOut(t *testing.T) {
	t.Parallel()
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	m.Build = 7601
	m.AS.SetPTE(m.PagedOutVA, kdmptest.PagingAMD64.PagedOutPTE(5, 0x7000, 7601))
	f := vmOpen(t, m, m.NewBuilder())
	var pe *kdmp.PTEError
	if _, _, err := f.Translate(m.PagedOutVA); !errors.As(err, &pe) || pe.State != kdmp.PTEPagedOut || pe.PageFile != 5 || pe.Offset != 0x7000 || pe.Swizzled {
		t.Errorf("build 7601 paged-out PTE: %v %+v", err, pe)
	}

	const swizzledVA = 0xfffff80020801000
	m2 := kdmptest.NewMachine(kdmptest.PagingAMD64)
	m2.AS.SetPTE(swizzledVA, kdmptest.PagingAMD64.PagedOutPTE(1, 0x3000, 19041)&^0x10)
	f2 := vmOpen(t, m2, m2.NewBuilder())
	if _, _, err := f2.Translate(swizzledVA); !errors.As(err, &pe) || pe.State != kdmp.PTEPagedOut || pe.PageFile != 1 || !pe.Swizzled {
		t.Errorf("swizzled PTE: %v %+v", err, pe)
	}
	m2.AS.SetPTE(swizzledVA, 4<<5) // protection only: demand zero
	f2 = vmOpen(t, m2, m2.NewBuilder())
	if _, _, err := f2.Translate(swizzledVA); !errors.As(err, &pe) || pe.State != kdmp.PTEDemandZero {
		t.Errorf("demand-zero PTE: %v %+v", err, pe)
	}
}

// TestNoMemory checks the dumps that store no physical pages.
func TestNoMemory(t *testing.T) {
	t.Parallel()
	for name, b := range map[string]*kdmptest.Builder{
		"triage":      kdmptest.New().DumpType(kdmptest.Triage),
		"header-only": kdmptest.New().Truncate(0x2000),
		"summary":     kdmptest.New().DumpType(kdmptest.Kernel),
	} {
		raw, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.PhysicalSpace(); !errors.Is(err, model.ErrNotRecorded) {
			t.Errorf("%s: PhysicalSpace = %v", name, err)
		}
		if _, err := f.KernelSpace(); err == nil {
			t.Errorf("%s: KernelSpace succeeded", name)
		}
		if _, err := f.Processes(); err == nil {
			t.Errorf("%s: Processes succeeded", name)
		}
		if _, err := f.LoadedModules(); err == nil {
			t.Errorf("%s: LoadedModules succeeded", name)
		}
	}
	raw, _ := kdmptest.New().Machine(kdmptest.ARM).Bytes()
	f, _ := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if _, err := f.KernelSpace(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ARM (32-bit) KernelSpace = %v", err)
	}
}

// TestOverlappingRuns checks that overlapping runs of a corrupt full dump
// still give a physical space, first copy winning.
func TestOverlappingRuns(t *testing.T) {
	t.Parallel()
	raw, err := kdmptest.New().Runs(kdmptest.Run{BasePage: 1, PageCount: 3}, kdmptest.Run{BasePage: 3, PageCount: 2}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	phys, err := f.PhysicalSpace()
	if err != nil {
		t.Fatal(err)
	}
	if got := vmRead(t, phys, 2*kdmptest.PageSize, 8); !bytes.Equal(got, kdmptest.PageData(2)[:8]) {
		t.Errorf("page 2 = %x", got)
	}
	if got := vmRead(t, phys, 3*kdmptest.PageSize, 8); !bytes.Equal(got, kdmptest.PageData(3)[:8]) {
		t.Errorf("page 3 = %x", got)
	}
	if got := vmRead(t, phys, 4*kdmptest.PageSize, 8); !bytes.Equal(got, kdmptest.PageData(4)[:8]) {
		t.Errorf("page 4 = %x", got)
	}
	if len(viewDiags(f)) == 0 {
		t.Error("no diagnostic for overlapping runs")
	}
}
