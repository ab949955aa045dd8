package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// x86-64 layout constants (arch/x86/include/asm/page_64_types.h).
const (
	startKernelMap     = 0xffffffff80000000 // __START_KERNEL_map
	defaultImageSize   = 1 << 30            // KERNEL_IMAGE_SIZE with KASLR (512 MiB without)
	x86PageSize        = 4096
	x86EntryFrame      = 0x000ffffffffff000 // PTE_PFN_MASK with 52-bit physical addresses
	x86Present         = 1 << 0
	x86Large           = 1 << 7 // _PAGE_PSE in a PUD/PMD
	maxVirtualReadSize = 1 << 26
)

var le = binary.LittleEndian

// Kernel is a Linux kernel's state read from its physical memory and its
// VMCOREINFO table. It is safe for concurrent use; the symbol table, the
// BTF and the derived offsets are decoded once, on first use.
type Kernel struct {
	phys     mem.Space
	info     map[string]string
	arch     model.Arch
	release  string
	physBase uint64 // NUMBER(phys_base), two's complement
	kaslr    uint64 // KERNELOFFSET
	l5       bool
	smeMask  uint64
	pgd      uint64       // physical address of init_top_pgt
	textSize uint64       // bytes of the kernel text mapping translated without a walk
	arm      *arm64Layout // arm64 only: layout from VMCOREINFO (arm64.go)

	virt *virtualSpace

	symsOnce sync.Once
	syms     *Symbols
	symsErr  error

	btfOnce sync.Once
	btf     *BTF
	btfErr  error

	taskOnce sync.Once
	taskOffs *TaskOffsets
	taskErr  error

	orcs    orcTables     // ORC unwind tables (orc.go), read on first use
	modSyms moduleSymbols // the modules' own symbol tables (modsyms.go)
}

var (
	_ model.LogReader     = (*Kernel)(nil)
	_ model.ProcessLister = (*Kernel)(nil)
)

// ErrUnsupportedArch is returned by New for architectures whose page tables
// this package does not walk yet.
var ErrUnsupportedArch = errors.New("linux: architecture not supported yet")

// New returns the kernel whose physical memory is phys and whose VMCOREINFO
// table (KEY=VALUE lines, as vmcore.File.VMCOREINFO returns them) is info.
// x86-64 (model.AMD64) and arm64 (model.ARM64) are supported; other
// architectures return an error wrapping ErrUnsupportedArch. An empty arch
// is taken for x86-64 when VMCOREINFO has SYMBOL(init_top_pgt), which only
// x86-64 exports, and for arm64 when it has NUMBER(kimage_voffset), which
// only arm64 exports. New reads nothing from memory except the top-level
// page table, to check that it is present.
func New(phys mem.Reader, info map[string]string, arch model.Arch) (*Kernel, error) {
	if phys == nil {
		return nil, errors.New("linux: nil physical memory")
	}
	if info == nil {
		return nil, errors.New("linux: no VMCOREINFO")
	}
	if _, ok := info["SYMBOL(init_top_pgt)"]; ok && arch == "" {
		arch = model.AMD64 // init_top_pgt exists only on x86-64
	}
	if _, ok := info["NUMBER(kimage_voffset)"]; ok && arch == "" {
		arch = model.ARM64 // kimage_voffset exists only on arm64
	}
	switch arch {
	case model.AMD64:
	case model.ARM64:
		k := &Kernel{phys: asSpace(phys), info: info, arch: arch, release: info["OSRELEASE"]}
		if err := k.parseArm64(); err != nil {
			return nil, err
		}
		return k.finish()
	default:
		return nil, fmt.Errorf("%w: %q (only amd64 and arm64 page tables are walked)", ErrUnsupportedArch, arch)
	}
	k := &Kernel{phys: asSpace(phys), info: info, arch: arch, release: info["OSRELEASE"], textSize: defaultImageSize}
	if ps, ok := info["PAGESIZE"]; ok && ps != strconv.Itoa(x86PageSize) {
		return nil, fmt.Errorf("linux: VMCOREINFO PAGESIZE=%s, want 4096 on amd64", ps)
	}
	pb, ok := info["NUMBER(phys_base)"]
	if !ok {
		return nil, errors.New("linux: VMCOREINFO lacks NUMBER(phys_base)")
	}
	v, err := strconv.ParseInt(pb, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("linux: VMCOREINFO NUMBER(phys_base)=%q: %v", pb, err)
	}
	k.physBase = uint64(v)
	if s, ok := info["KERNELOFFSET"]; ok {
		if k.kaslr, err = strconv.ParseUint(s, 16, 64); err != nil {
			return nil, fmt.Errorf("linux: VMCOREINFO KERNELOFFSET=%q: %v", s, err)
		}
	}
	if n, ok := k.Number("pgtable_l5_enabled"); ok && n != 0 {
		k.l5 = true
	}
	if n, ok := k.Number("sme_mask"); ok {
		k.smeMask = uint64(n)
	}
	if n, ok := k.Number("KERNEL_IMAGE_SIZE"); ok && n > 0 && n <= 1<<31 {
		k.textSize = uint64(n)
	}
	top, ok := k.Symbol("init_top_pgt")
	if !ok {
		if top, ok = k.Symbol("swapper_pg_dir"); !ok {
			return nil, errors.New("linux: VMCOREINFO lacks SYMBOL(init_top_pgt) and SYMBOL(swapper_pg_dir)")
		}
	}
	pa, ok := k.textToPhys(top)
	if !ok {
		return nil, fmt.Errorf("linux: init_top_pgt %#x is outside the kernel text mapping", top)
	}
	k.pgd = pa
	return k.finish()
}

// finish checks that the top-level page table is readable and sets up the
// virtual address space.
func (k *Kernel) finish() (*Kernel, error) {
	var probe [8]byte
	if err := mem.ReadFull(k.phys, probe[:], k.pgd); err != nil {
		return nil, fmt.Errorf("linux: reading the top page table at physical %#x: %w", k.pgd, err)
	}
	k.virt = &virtualSpace{k: k, tlb: make(map[uint64]tlbEntry)}
	return k, nil
}

// physSpace gives a plain mem.Reader a name for fault messages.
type physSpace struct{ r mem.Reader }

func (p physSpace) Name() string                                  { return "phys" }
func (p physSpace) Regions() iter.Seq[mem.Region]                 { return func(func(mem.Region) bool) {} }
func (p physSpace) ReadMemory(b []byte, addr uint64) (int, error) { return p.r.ReadMemory(b, addr) }

func asSpace(r mem.Reader) mem.Space {
	if s, ok := r.(mem.Space); ok {
		return s
	}
	return physSpace{r}
}

// Release returns OSRELEASE (uname -r).
func (k *Kernel) Release() string { return k.release }

// KASLROffset returns KERNELOFFSET, the shift KASLR applied to the kernel's
// text addresses.
func (k *Kernel) KASLROffset() uint64 { return k.kaslr }

// PhysBase returns phys_base: the physical address of the kernel text minus
// its link-time offset (negative values are two's complement). On arm64 it
// is NUMBER(PHYS_OFFSET), the physical address the linear map starts at.
func (k *Kernel) PhysBase() uint64 { return k.physBase }

// PageTable returns the physical address of init_top_pgt (swapper_pg_dir
// on arm64).
func (k *Kernel) PageTable() uint64 { return k.pgd }

// Symbol returns SYMBOL(name) from VMCOREINFO.
func (k *Kernel) Symbol(name string) (uint64, bool) {
	s, ok := k.info["SYMBOL("+name+")"]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	return v, err == nil
}

// Number returns NUMBER(name) from VMCOREINFO (decimal, possibly negative).
func (k *Kernel) Number(name string) (int64, bool) { return k.decimal("NUMBER(" + name + ")") }

// Offset returns OFFSET(name) from VMCOREINFO, e.g. Offset("printk_info.seq").
func (k *Kernel) Offset(name string) (int64, bool) { return k.decimal("OFFSET(" + name + ")") }

// Size returns SIZE(name) from VMCOREINFO.
func (k *Kernel) Size(name string) (int64, bool) { return k.decimal("SIZE(" + name + ")") }

func (k *Kernel) decimal(key string) (int64, bool) {
	s, ok := k.info[key]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// textToPhys translates an address of the kernel image mapping
// (__START_KERNEL_map onwards) without walking page tables.
func (k *Kernel) textToPhys(va uint64) (uint64, bool) {
	if va < startKernelMap || va-startKernelMap >= k.textSize {
		return 0, false
	}
	return va - startKernelMap + k.physBase, true
}

// Translate returns the physical address of the kernel virtual address va
// and the size of the page that maps it.
func (k *Kernel) Translate(va uint64) (pa, pageSize uint64, err error) {
	return k.virt.translate(va)
}

// Walk translates va through the page tables only, without the image
// arithmetic or the translation cache; it lets callers check one against
// the other.
func (k *Kernel) Walk(va uint64) (pa, pageSize uint64, err error) { return k.virt.walk(va) }

// Virtual returns the kernel's virtual address space: the image mapping by
// arithmetic, everything else (direct map, vmalloc, per-cpu, modules)
// through init_top_pgt. Faults are *mem.FaultError in space "kernel".
func (k *Kernel) Virtual() mem.Space { return k.virt }

// Physical returns the physical memory New was given.
func (k *Kernel) Physical() mem.Space { return k.phys }

// read reads exactly len(p) bytes of kernel virtual memory.
func (k *Kernel) read(p []byte, va uint64) error { return mem.ReadFull(k.virt, p, va) }

// ReadU64 reads a little-endian word of kernel virtual memory.
func (k *Kernel) ReadU64(va uint64) (uint64, error) { return k.u64(va) }

func (k *Kernel) u64(va uint64) (uint64, error) {
	var b [8]byte
	if err := k.read(b[:], va); err != nil {
		return 0, err
	}
	return le.Uint64(b[:]), nil
}

func (k *Kernel) u32(va uint64) (uint32, error) {
	var b [4]byte
	if err := k.read(b[:], va); err != nil {
		return 0, err
	}
	return le.Uint32(b[:]), nil
}

// readBytes reads n bytes at va, refusing sizes above limit so that a
// corrupt length cannot make it allocate without bound.
func (k *Kernel) readBytes(va, n, limit uint64, what string) ([]byte, error) {
	if n > limit {
		return nil, fmt.Errorf("linux: %s: size %d exceeds the limit %d", what, n, limit)
	}
	if n > 1<<16 {
		// Probe the last byte first: a corrupt length must not make us
		// allocate memory the dump cannot fill.
		var last [1]byte
		if err := k.read(last[:], va+n-1); err != nil {
			return nil, fmt.Errorf("linux: reading %s (%d bytes): %w", what, n, err)
		}
	}
	b := make([]byte, n)
	if err := k.read(b, va); err != nil {
		return nil, fmt.Errorf("linux: reading %s: %w", what, err)
	}
	return b, nil
}

// Info returns a VMCOREINFO entry as written ("" when absent), e.g.
// Info("BUILD-ID").
func (k *Kernel) Info(key string) string { return k.info[key] }
