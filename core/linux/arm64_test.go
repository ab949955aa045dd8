package linux_test

// Synthetic arm64 machines, laid out from the architecture's and the
// kernel's definitions, not from the parser's code:
//   - VMSAv8-64 descriptors (ARM ARM D8.3, asm/pgtable-hwdef.h): bit 0
//     valid; bit 1 set: table (or page at the last level), clear: block;
//     output address bits [47:granule]; with 64 KiB pages and LPA, PA[51:48]
//     in bits [15:12]; AF is bit 10;
//   - levels: 4 KiB granule, 9 index bits a level above bit 12 (48-bit VA:
//     4 levels from bit 39; 39-bit: 3 levels from bit 30); 64 KiB granule,
//     13 bits a level above bit 16 (3 levels from bit 42);
//   - the VMCOREINFO arch/arm64/kernel/vmcore_info.c writes:
//     NUMBER(VA_BITS) in decimal, NUMBER(kimage_voffset),
//     NUMBER(PHYS_OFFSET) and NUMBER(TCR_EL1_T1SZ) as 0x%llx;
//   - Documentation/arm64/memory.rst: before 5.4 the linear map is the
//     upper half (PAGE_OFFSET = -2^(VA_BITS-1)) and the image lies in the
//     lower half (KIMAGE_VADDR 0xffffff8008000000 for 39-bit 4.19); from
//     5.4 the linear map starts at -2^VA_BITS and the image is in the upper
//     half (0xffff800080000000 for 48-bit 6.x);
//   - a 52-bit kernel on 48-bit hardware points TTBR1 at swapper_pg_dir +
//     TTBR1_BADDR_4852_OFFSET ((2^(52-PGDIR_SHIFT) - 2^(48-PGDIR_SHIFT)) *
//     8) and lowers memstart_addr by _PAGE_OFFSET(48) - _PAGE_OFFSET(52).

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
)

const (
	dValid = 1 << 0
	dTable = 1 << 1 // table, or page at the last level
	dAF    = 1 << 10
	// A block and a page as Linux writes kernel mappings (AF set,
	// normal memory attribute index 4 in bits [4:2], inner shareable).
	dBlock = dValid | dAF | 4<<2 | 3<<8
	dPage  = dValid | dTable | dAF | 4<<2 | 3<<8
	dNext  = dValid | dTable
)

// armMachine is RAM at physBase plus optional extra segments.
type armMachine struct {
	base uint64
	ram  []byte
	more memtest.Map
	info map[string]string
}

func (m *armMachine) put64(pa, v uint64) { le.PutUint64(m.ram[pa-m.base:], v) }

func (m *armMachine) Map() memtest.Map {
	out := memtest.Map{m.base: m.ram}
	maps.Copy(out, m.more)
	return out
}

func (m *armMachine) kernel(t testing.TB) *linux.Kernel {
	t.Helper()
	k, err := linux.New(m.Map(), m.info, model.ARM64)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The 4 KiB, 48-bit, Linux 6.x machine: 4 MiB of RAM at 1 GiB.
const (
	a48RAM      = 0x40000000
	a48Image    = 0xffff800080000000 // _text (KIMAGE_VADDR)
	a48ImagePA  = 0x40200000
	a48Swapper  = a48Image + 0x80000
	a48Vmalloc  = 0xffff800100000000
	a48Block1G  = 0xffff800140000000
	a48Linear   = 0xffff000000000000 // PAGE_OFFSET = -2^48
	a48Voffset  = a48Image - a48ImagePA
	a48PudHigh  = 0x40281000 // PUD for PGD[256]
	a48PudLow   = 0x40282000 // PUD for PGD[0] (linear map)
	a48PmdImage = 0x40283000
	a48PmdVm    = 0x40284000
	a48Pte      = 0x40285000
)

func idx(va uint64, shift, bits uint) uint64 { return va >> shift & (1<<bits - 1) }

func arm48Machine() *armMachine {
	m := &armMachine{base: a48RAM, ram: make([]byte, 4<<20), info: map[string]string{
		"OSRELEASE": "6.6.0-arm64", "PAGESIZE": "4096", "NUMBER(VA_BITS)": "48",
		"NUMBER(kimage_voffset)": fmt.Sprintf("0x%x", uint64(a48Voffset)),
		"NUMBER(PHYS_OFFSET)":    fmt.Sprintf("0x%x", a48RAM),
		"NUMBER(TCR_EL1_T1SZ)":   "0x10", "KERNELOFFSET": "0", "NUMBER(MAX_PHYSMEM_BITS)": "48",
		"SYMBOL(swapper_pg_dir)": fmt.Sprintf("%016x", uint64(a48Swapper)),
		"SYMBOL(_stext)":         fmt.Sprintf("%016x", uint64(a48Image+0x10000)),
	}}
	pgd := uint64(a48Swapper - a48Voffset)
	level := func(va uint64) [4]uint64 { // PGD, PUD, PMD, PTE indices
		return [4]uint64{idx(va, 39, 9), idx(va, 30, 9), idx(va, 21, 9), idx(va, 12, 9)}
	}
	im, vm, g1, lin := level(a48Image), level(a48Vmalloc), level(a48Block1G), level(a48Linear)
	m.put64(pgd+im[0]*8, a48PudHigh|dNext)
	m.put64(pgd+lin[0]*8, a48PudLow|dNext)
	m.put64(a48PudLow+lin[1]*8, a48RAM|dBlock)                     // 1 GiB linear block
	m.put64(a48PudHigh+im[1]*8, a48PmdImage|dNext)                 // image
	m.put64(a48PmdImage+im[2]*8, a48ImagePA|dBlock)                // 2 MiB image block
	m.put64(a48PudHigh+g1[1]*8, a48RAM|dBlock)                     // 1 GiB block
	m.put64(a48PudHigh+vm[1]*8, a48PmdVm|dNext)                    // vmalloc
	m.put64(a48PmdVm+vm[2]*8, a48Pte|dNext)                        //
	m.put64(a48Pte+0*8, 0x40100000|dPage)                          // page 0
	m.put64(a48Pte+1*8, 0x40105000|dPage)                          // page 1, elsewhere
	m.put64(a48Pte+2*8, 0x40106000|dPage&^dValid)                  // page 2: invalid
	m.put64(a48Pte+3*8, 0x40107000|dBlock)                         // page 3: a block at level 3 is reserved
	m.put64(a48PmdVm+(vm[2]+1)*8, 0x40000000|dBlock)               // next 2 MiB: a block
	m.put64(a48Pte+4*8, (0xfff<<48)|0x40108000|dPage|0x3<<53)      // attribute bits above 48
	copy(m.ram[0x40100010-a48RAM:], "vmalloc page 0")              //
	copy(m.ram[0x40105000-a48RAM:], "vmalloc page 1")              //
	copy(m.ram[a48ImagePA+0x90000-a48RAM:], "image data past pgd") //
	return m
}

func checkTranslate(t *testing.T, k *linux.Kernel, va, pa, size uint64) {
	t.Helper()
	gpa, gsize, err := k.Translate(va)
	if err != nil || gpa != pa || gsize != size {
		t.Errorf("Translate(%#x) = %#x, %#x, %v; want %#x, %#x", va, gpa, gsize, err, pa, size)
	}
}

func checkFault(t *testing.T, k *linux.Kernel, va uint64, kind mem.FaultKind, level string, entry uint64) {
	t.Helper()
	for _, f := range []func(uint64) (uint64, uint64, error){k.Translate, k.Walk} {
		_, _, err := f(va)
		var fe *mem.FaultError
		if !errors.As(err, &fe) || fe.Kind != kind || fe.Level != level || fe.Space != "kernel" || (level != "" && fe.Entry != entry) {
			t.Errorf("%#x: %v, want %v at %q entry %#x", va, err, kind, level, entry)
		}
	}
}

func TestArm64Translate48(t *testing.T) {
	m := arm48Machine()
	k := m.kernel(t)
	if k.PageTable() != a48Swapper-a48Voffset || k.PhysBase() != a48RAM {
		t.Fatalf("pgd %#x, phys base %#x", k.PageTable(), k.PhysBase())
	}
	checkTranslate(t, k, a48Image+0x10123, a48ImagePA+0x10123, 4096)                                     // image: kimage_voffset
	checkTranslate(t, k, a48Linear+0x123456, a48RAM+0x123456, 4096)                                      // linear map: PHYS_OFFSET
	checkTranslate(t, k, a48Image+0x90004, a48ImagePA+0x90004, 2<<20)                                    // image data: the 2 MiB block
	checkTranslate(t, k, a48Vmalloc+0x10, 0x40100010, 4096)                                              // PTE 0
	checkTranslate(t, k, a48Vmalloc+0x1008, 0x40105008, 4096)                                            // PTE 1
	checkTranslate(t, k, a48Vmalloc+0x4008, 0x40108008, 4096)                                            // attributes stripped
	checkTranslate(t, k, a48Vmalloc+0x200000+0x12345, 0x40012345, 2<<20)                                 // PMD block
	checkTranslate(t, k, a48Block1G+0x3ffff8, a48RAM+0x3ffff8, 1<<30)                                    // PUD block
	if pa, size, err := k.Walk(a48Linear + 0x5000); err != nil || pa != a48RAM+0x5000 || size != 1<<30 { // the walk agrees
		t.Errorf("Walk(linear) = %#x, %#x, %v", pa, size, err)
	}
	if pa, _, err := k.Walk(a48Image + 0x10123); err != nil || pa != a48ImagePA+0x10123 {
		t.Errorf("Walk(image) = %#x, %v", pa, err)
	}
	checkFault(t, k, a48Vmalloc+0x2000, mem.NotPresent, "PTE", 0x40106000|dPage&^dValid)
	checkFault(t, k, a48Vmalloc+0x3000, mem.Corrupt, "PTE", 0x40107000|dBlock)
	checkFault(t, k, a48Vmalloc+0x400000, mem.NotPresent, "PMD", 0)
	checkFault(t, k, 0xffff808000000000, mem.NotPresent, "PGD", 0)
	checkFault(t, k, 0xffff800000000000, mem.NotPresent, "PUD", 0)
	checkFault(t, k, 0x0000aaaa00000000, mem.Unmapped, "", 0) // TTBR0: user space

	// Virtual reads through each kind of mapping.
	v := k.Virtual()
	for va, want := range map[uint64]string{
		a48Vmalloc + 0x10:                         "vmalloc page 0",
		a48Vmalloc + 0x1000:                       "vmalloc page 1",
		a48Linear + 0x100010:                      "vmalloc page 0",
		a48Block1G + 0x100010:                     "vmalloc page 0",
		a48Image + 0x90000:                        "image data past pgd",
		a48Linear + a48ImagePA - a48RAM + 0x90000: "image data past pgd",
	} {
		b := make([]byte, len(want))
		if err := mem.ReadFull(v, b, va); err != nil || string(b) != want {
			t.Errorf("read %#x: %q, %v", va, b, err)
		}
	}
	// A read across two vmalloc pages that are not physically adjacent.
	b := make([]byte, 8)
	copy(m.ram[0x40100ffc-a48RAM:], "abcd")
	copy(m.ram[0x40105000-a48RAM:], "efgh")
	k = m.kernel(t)
	if err := mem.ReadFull(k.Virtual(), b, a48Vmalloc+0xffc); err != nil || string(b) != "abcdefgh" {
		t.Errorf("read across pages: %q, %v", b, err)
	}
	if err := mem.ReadFull(k.Virtual(), b, a48Vmalloc+0x1ffc); !errors.Is(err, mem.ErrNotPresent) {
		t.Errorf("read into an invalid page: %v", err)
	}

	// Regions lists the mappings in ascending order.
	var got []mem.Region
	for r := range k.Virtual().Regions() {
		got = append(got, r)
	}
	want := []mem.Region{
		{Start: a48Linear, Size: 1 << 30},
		{Start: a48Image, Size: 2 << 20},
		{Start: a48Vmalloc, Size: 2 * 4096},
		{Start: a48Vmalloc + 4*4096, Size: 4096},
		{Start: a48Vmalloc + 0x200000, Size: 2 << 20},
		{Start: a48Block1G, Size: 1 << 30},
	}
	if len(got) != len(want) {
		t.Fatalf("Regions: %+v", got)
	}
	for i := range want {
		if got[i].Start != want[i].Start || got[i].Size != want[i].Size {
			t.Errorf("region %d: %#x+%#x, want %#x+%#x", i, got[i].Start, got[i].Size, want[i].Start, want[i].Size)
		}
	}
}

// TestArm64Translate39 is a Linux 4.19 kernel with 4 KiB pages and 39-bit
// VAs: 3 levels, the linear map in the upper half, no TCR_EL1_T1SZ.
func TestArm64Translate39(t *testing.T) {
	const (
		ram     = 0x80000000
		linear  = 0xffffffc000000000 // PAGE_OFFSET = -2^38
		text    = 0xffffff8008080000 // _text: KIMAGE_VADDR + TEXT_OFFSET
		textPA  = 0x80080000
		voffset = text - textPA
		swapper = text + 0x200000
		vmalloc = 0xffffff8010000000
		pmdImg  = 0x80301000
		pte     = 0x80303000
	)
	m := &armMachine{base: ram, ram: make([]byte, 4<<20), info: map[string]string{
		"OSRELEASE": "4.19.0", "PAGESIZE": "4096", "NUMBER(VA_BITS)": "39",
		"NUMBER(kimage_voffset)": fmt.Sprintf("0x%x", uint64(voffset)),
		"NUMBER(PHYS_OFFSET)":    fmt.Sprintf("0x%x", ram),
		"KERNELOFFSET":           "0",
		"SYMBOL(swapper_pg_dir)": fmt.Sprintf("%016x", uint64(swapper)),
	}}
	pgd := uint64(swapper - voffset)
	m.put64(pgd+idx(linear, 30, 9)*8, ram|dBlock) // 1 GiB linear block at level 1
	m.put64(pgd+idx(text, 30, 9)*8, pmdImg|dNext)
	m.put64(pmdImg+idx(text, 21, 9)*8, 0x80000000|dBlock) // 2 MiB block holding the image's first bytes
	m.put64(pmdImg+idx(vmalloc, 21, 9)*8, pte|dNext)      // the same GiB as the image
	m.put64(pte+idx(vmalloc, 12, 9)*8, 0x80004000|dPage)
	k := m.kernel(t)
	checkTranslate(t, k, linear+0x1234, ram+0x1234, 4096)
	checkTranslate(t, k, text+0x100, textPA+0x100, 2<<20)     // without SYMBOL(_stext): walked
	checkTranslate(t, k, swapper+0x10, textPA+0x200010, 4096) // swapper_pg_dir: by kimage_voffset
	checkTranslate(t, k, vmalloc+0x10, 0x80004010, 4096)
	checkTranslate(t, k, text-0x80000+0x40, 0x80000040, 2<<20) // below _stext: walked
	if pa, _, err := k.Walk(linear + 0x1234); err != nil || pa != ram+0x1234 {
		t.Errorf("Walk(linear) = %#x, %v", pa, err)
	}
	checkFault(t, k, vmalloc+0x1000, mem.NotPresent, "PTE", 0)
	checkFault(t, k, vmalloc+0x200000, mem.NotPresent, "PMD", 0)
	checkFault(t, k, 0xffffff0000000000, mem.Unmapped, "", 0) // below -2^39
	// The 5.4+ reading of the same numbers would put the linear map at
	// -2^39: that address must not translate by arithmetic here.
	checkFault(t, k, 0xffffff8000000000, mem.NotPresent, "PMD", 0)
}

// TestArm64Translate64K is a 52-bit (VA and PA) kernel with 64 KiB pages
// running on 48-bit VA hardware (TCR_EL1_T1SZ = 16): the PGD has 1024
// entries and TTBR1 points at its last 64.
func TestArm64Translate64K(t *testing.T) {
	const (
		ram     = 0x40000000
		image   = 0xffff800080000000
		imagePA = 0x40000000 // 512 MiB-aligned, for one block to map it
		voffset = image - imagePA
		swapper = image + 0x100000
		vmalloc = 0xffff800100000000
		lin48   = 0xffff000000000000 // _PAGE_OFFSET(48): where the linear map is on this hardware
		highPA  = 0x000a000000120000 // above 2^48
		pmdHigh = 0x40310000
		pmdLow  = 0x40320000
		pte     = 0x40330000
	)
	// memstart_addr lowered by _PAGE_OFFSET(48) - _PAGE_OFFSET(52).
	var lowered uint64 = 1<<52 - 1<<48
	physOffset := ram - lowered
	m := &armMachine{base: ram, ram: make([]byte, 4<<20), more: memtest.Map{highPA &^ 0xffff: make([]byte, 64<<10)},
		info: map[string]string{
			"OSRELEASE": "6.8.0", "PAGESIZE": "65536", "NUMBER(VA_BITS)": "52", "NUMBER(TCR_EL1_T1SZ)": "0x10",
			"NUMBER(MAX_PHYSMEM_BITS)": "52",
			"NUMBER(kimage_voffset)":   fmt.Sprintf("0x%x", uint64(voffset)),
			"NUMBER(PHYS_OFFSET)":      fmt.Sprintf("0x%x", physOffset),
			"SYMBOL(swapper_pg_dir)":   fmt.Sprintf("%016x", uint64(swapper)),
			"SYMBOL(_stext)":           fmt.Sprintf("%016x", uint64(image+0x10000)),
		}}
	ttbr1 := uint64(swapper-voffset) + ((1<<(52-42))-(1<<(48-42)))*8
	pgdEntry := func(va uint64) uint64 { return ttbr1 + idx(va, 42, 48-42)*8 }
	m.put64(pgdEntry(image), pmdHigh|dNext)
	m.put64(pmdHigh+idx(image, 29, 13)*8, ram|dBlock) // 512 MiB block: the image and all RAM
	m.put64(pgdEntry(vmalloc), pmdHigh|dNext)         // vmalloc shares the PMD table
	m.put64(pmdHigh+idx(vmalloc, 29, 13)*8, pte|dNext)
	m.put64(pte+0*8, 0x40050000|dPage)
	m.put64(pte+1*8, highPA&(1<<48-1)|(highPA>>48)<<12|dPage) // PA[51:48] in bits [15:12]
	m.put64(pgdEntry(lin48), pmdLow|dNext)
	m.put64(pmdLow+idx(lin48, 29, 13)*8, ram|dBlock)
	copy(m.more[highPA&^0xffff][highPA&0xffff+0x20:], "above 2^48")
	k := m.kernel(t)
	checkTranslate(t, k, image+0x11234, imagePA+0x11234, 64<<10)    // _stext onwards: by kimage_voffset
	checkTranslate(t, k, image+0x1234, imagePA+0x1234, 512<<20)     // below _stext: walked
	checkTranslate(t, k, image+0x400000, imagePA+0x400000, 512<<20) // past swapper_pg_dir: walked
	checkTranslate(t, k, vmalloc+0x10, 0x40050010, 64<<10)
	checkTranslate(t, k, vmalloc+0x10020, highPA+0x20, 64<<10)
	checkTranslate(t, k, lin48+0x1234, ram+0x1234, 512<<20) // the linear map on 48-bit hardware: walked
	b := make([]byte, 10)
	if err := mem.ReadFull(k.Virtual(), b, vmalloc+0x10020); err != nil || string(b) != "above 2^48" {
		t.Errorf("read of a 52-bit PA page: %q, %v", b, err)
	}
	checkFault(t, k, vmalloc+0x20000, mem.NotPresent, "PTE", 0)
	checkFault(t, k, 0xfff0000000000000, mem.Unmapped, "", 0) // 52-bit VA, but TTBR1 holds 48 bits
	var starts []uint64
	for r := range k.Virtual().Regions() {
		starts = append(starts, r.Start)
	}
	if !slices.Equal(starts, []uint64{lin48, image &^ (512<<20 - 1), vmalloc}) {
		t.Errorf("Regions start at %#x", starts)
	}
}

func TestArm64NewErrors(t *testing.T) {
	m := arm48Machine()
	if k, err := linux.New(m.Map(), m.info, ""); err != nil || k.PageTable() != a48Swapper-a48Voffset {
		t.Errorf("arch from VMCOREINFO: %v", err)
	}
	if _, err := linux.New(m.Map(), m.info, model.RISCV64); !errors.Is(err, linux.ErrUnsupportedArch) {
		t.Errorf("riscv64: %v", err)
	}
	for key, val := range map[string]string{
		"NUMBER(VA_BITS)": "", "NUMBER(kimage_voffset)": "", "NUMBER(PHYS_OFFSET)": "", "SYMBOL(swapper_pg_dir)": "",
		"PAGESIZE": "8192", "NUMBER(TCR_EL1_T1SZ)": "0x8", "KERNELOFFSET": "xyz",
	} {
		info := maps.Clone(m.info)
		if val == "" {
			delete(info, key)
		} else {
			info[key] = val
		}
		if _, err := linux.New(m.Map(), info, model.ARM64); err == nil || !strings.Contains(err.Error(), strings.Trim(strings.TrimPrefix(key, "NUMBER"), "()")) {
			t.Errorf("%s=%q: %v", key, val, err)
		}
	}
	info := maps.Clone(m.info)
	info["NUMBER(kimage_voffset)"] = "0xffff000000000000" // swapper_pg_dir far outside RAM
	if _, err := linux.New(m.Map(), info, model.ARM64); !errors.Is(err, mem.ErrUnmapped) {
		t.Errorf("page table outside memory: %v", err)
	}
}

// TestArm64CorruptTables points tables at themselves and at each other:
// walks end after a fixed number of levels, Regions after a bounded count.
func TestArm64CorruptTables(t *testing.T) {
	m := arm48Machine()
	pgd := uint64(a48Swapper - a48Voffset)
	for i := range uint64(512) {
		m.put64(pgd+i*8, pgd|dNext) // every entry: the PGD itself
	}
	k := m.kernel(t)
	// Four levels, each reading the PGD: the fourth entry is a page.
	if pa, size, err := k.Walk(0xffffffffffff1234); err != nil || pa != pgd+0x234 || size != 4096 {
		t.Errorf("self-referencing walk: %#x, %#x, %v", pa, size, err)
	}
	n := 0
	for range k.Virtual().Regions() {
		n++
	}
	if n == 0 {
		t.Error("no regions")
	}
}

// arm64FullMachine is the x86-64 fullMachine's memory (log, kallsyms,
// BTF, tasks, module) seen by an arm64 kernel: arm64 page tables map the
// addresses the structures use (a 48-bit 6.x layout with KASLR placing the
// image at 0xffffffff81000000; the direct-map and vmalloc addresses of the
// x86 machine are vmalloc addresses here), and VMCOREINFO is arm64's.
const (
	fullSwapperPA = 0x5c0000
	fullPud273    = 0x5c1000
	fullPud402    = 0x5c2000
	fullPmd402    = 0x5c3000
	fullPte402    = 0x5c4000
	fullPud511    = 0x5c5000
	fullPmd511    = 0x5c6000
)

func arm64FullMachine() *machine {
	m := fullMachine()
	info := map[string]string{}
	for k, v := range m.info {
		if k != "SYMBOL(init_top_pgt)" && k != "NUMBER(phys_base)" && k != "NUMBER(pgtable_l5_enabled)" &&
			k != "NUMBER(sme_mask)" && k != "NUMBER(KERNEL_IMAGE_SIZE)" {
			info[k] = v
		}
	}
	info["OSRELEASE"] = "6.1.0-synthetic-arm64"
	info["NUMBER(VA_BITS)"] = "48"
	info["NUMBER(TCR_EL1_T1SZ)"] = "0x10"
	info["NUMBER(kimage_voffset)"] = fmt.Sprintf("0x%x", uint64(textVA-textPA))
	info["NUMBER(PHYS_OFFSET)"] = "0x0"
	info["SYMBOL(swapper_pg_dir)"] = fmt.Sprintf("%016x", textAddr(fullSwapperPA))
	m.info = info
	va := func(shift uint, x uint64) uint64 { return idx(x, shift, 9) * 8 }
	dm := uint64(pageOffset)
	m.put64(fullSwapperPA+va(39, dm), fullPud273|dNext)
	m.put64(fullPud273+va(30, dm), 0|dBlock) // 1 GiB: all of physical memory
	m.put64(fullSwapperPA+va(39, vmallocVA), fullPud402|dNext)
	m.put64(fullPud402+va(30, vmallocVA), fullPmd402|dNext)
	m.put64(fullPmd402+va(21, vmallocVA), fullPte402|dNext)
	m.put64(fullPte402+3*8, modPA|dPage) // the module, as on x86
	m.put64(fullSwapperPA+va(39, textVA), fullPud511|dNext)
	m.put64(fullPud511+va(30, textVA), fullPmd511|dNext)
	m.put64(fullPmd511+va(21, textVA), 0x200000|dBlock)
	m.put64(fullPmd511+va(21, textVA+0x200000), 0x400000|dBlock)
	return m
}

// TestArm64LogTasks reads the log, the symbols, the tasks and the modules
// of the arm64 machine: everything but translation is arch-neutral, so
// each must equal what the x86-64 machine with the same memory gives.
func TestArm64LogTasks(t *testing.T) {
	x := newKernel(t, fullMachine())
	am := arm64FullMachine()
	a, err := linux.New(am.Map(), am.info, "")
	if err != nil {
		t.Fatal(err)
	}
	xl, err1 := x.Log()
	al, err2 := a.Log()
	if err1 != nil || err2 != nil || !slices.Equal(al, xl) || !strings.Contains(strings.Join(al, "\n"), "first") {
		t.Errorf("Log: arm64 %q, %v; x86-64 %q, %v", al, err2, xl, err1)
	}
	xt, err1 := x.Tasks()
	at, err2 := a.Tasks()
	if err1 != nil || err2 != nil || len(at) != 3 || fmt.Sprint(at) != fmt.Sprint(xt) {
		t.Errorf("Tasks: arm64 %v, %v; x86-64 %v, %v", at, err2, xt, err1)
	}
	xm, err1 := x.Modules()
	amods, err2 := a.Modules()
	if err1 != nil || err2 != nil || len(amods) != 1 || fmt.Sprint(amods) != fmt.Sprint(xm) {
		t.Errorf("Modules: arm64 %v, %v; x86-64 %v, %v", amods, err2, xm, err1)
	}
	ps, err := a.Processes()
	if err != nil || len(ps) != 3 || ps[1].DirBase != 0x1000 {
		t.Errorf("Processes: %+v, %v", ps, err)
	}
	s, err := a.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	if addr, ok := s.Lookup("start_kernel"); !ok || addr != textVA+0x100 {
		t.Errorf("start_kernel: %#x, %v", addr, ok)
	}
	// The arithmetic image window and the walk agree.
	for _, v := range []uint64{textVA, textAddr(prbPA), textAddr(btfPA) + 0x40, textAddr(fullSwapperPA)} {
		p1, _, err1 := a.Translate(v)
		p2, _, err2 := a.Walk(v)
		if err1 != nil || err2 != nil || p1 != p2 {
			t.Errorf("%#x: Translate %#x, %v; Walk %#x, %v", v, p1, err1, p2, err2)
		}
	}
	var raw bytes.Buffer
	for r := range a.Virtual().Regions() {
		fmt.Fprintf(&raw, "%#x+%#x ", r.Start, r.Size)
	}
	if raw.Len() == 0 {
		t.Error("no regions")
	}
}

var fuzzArmMachine = sync.OnceValue(arm64FullMachine)

// fuzzArmTargets are the arm64 page tables and the structures behind them.
var fuzzArmTargets = []uint64{fullSwapperPA, fullPud273, fullPud402, fullPmd402, fullPte402, fullPud511, fullPmd511,
	prbPA, descsPA, kallsymsPA, btfPA, initTaskPA, tasksPA, modPA}

var fuzzArmKeys = []string{"NUMBER(VA_BITS)", "NUMBER(TCR_EL1_T1SZ)", "NUMBER(kimage_voffset)", "NUMBER(PHYS_OFFSET)",
	"PAGESIZE", "SYMBOL(swapper_pg_dir)", "SYMBOL(_stext)", "NUMBER(MAX_PHYSMEM_BITS)"}

// FuzzArm64 damages the arm64 machine's page tables (and the structures
// they lead to) and one arm64 VMCOREINFO value, then translates and reads
// through every view: nothing may panic or hang.
func FuzzArm64(f *testing.F) {
	f.Add(uint8(0), uint16(273*8), []byte{0x03, 0x00, 0x5c}, uint8(255), "")
	f.Add(uint8(1), uint16(0), []byte{0x03, 0x10, 0x5c}, uint8(255), "")                // PUD -> its own PGD
	f.Add(uint8(4), uint16(3*8), []byte{0x01}, uint8(255), "")                          // reserved PTE
	f.Add(uint8(6), uint16(8*8), []byte{0x00}, uint8(0), "52")                          // 52-bit VAs
	f.Add(uint8(0), uint16(0), []byte{0xff, 0xff}, uint8(4), "65536")                   // 64 KiB granule
	f.Add(uint8(2), uint16(0), []byte{0x03, 0x20, 0x5c, 0, 0, 0, 0xf}, uint8(1), "0xc") // 52 bits with LPA2
	f.Fuzz(func(t *testing.T, target uint8, off uint16, patch []byte, key uint8, value string) {
		base := fuzzArmMachine()
		if len(patch) > 1024 {
			patch = patch[:1024]
		}
		info := maps.Clone(base.info)
		if int(key) < len(fuzzArmKeys) {
			info[fuzzArmKeys[key]] = value
		}
		p := patched{base: base.Map(), off: fuzzArmTargets[int(target)%len(fuzzArmTargets)] + uint64(off), patch: patch}
		k, err := linux.New(p, info, model.ARM64)
		if err != nil {
			return
		}
		for _, va := range []uint64{textVA, pageOffset + 0x1000, vmallocVA + 3*4096, 0xffff000000001000, 0xffffffffffff0000} {
			_, _, _ = k.Translate(va)
			_, _, _ = k.Walk(va)
		}
		_, _ = k.Log()
		_, _ = k.Tasks()
		_, _ = k.Processes()
		_, _ = k.Modules()
		n := 0
		for range k.Virtual().Regions() {
			if n++; n > 1000 {
				break
			}
		}
	})
}
