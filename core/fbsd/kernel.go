package fbsd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/crashbench/crashbench/core/mem"
)

// Kernel virtual addresses are translated as libkvm's
// kvm_minidump_{amd64,aarch64}.c do: an address in [dmapbase, dmapend) is
// in the direct map (physical = va - dmapbase + dmapphys; dmapphys is 0 on
// amd64); an address at or above kernbase is looked up in the page-table
// section, which the kernel writes for kernbase up to the end of the kernel
// map:
//
//	amd64 v2-3  one PDE per 2 MiB (index (va-kernbase)>>21): PG_PS maps a
//	            2 MiB page; otherwise the PDE's frame is a page-table page,
//	            read from the dumped physical memory, whose PTE
//	            ((va>>12)&511) maps the 4 KiB page.
//	amd64 v1    one PTE per 4 KiB page (index (va-kernbase)>>12).
//	arm64       one L3 descriptor per page (index (va-kernbase)>>PAGE_SHIFT);
//	            the kernel writes fake L3 pages for L1/L2 blocks.
//
// amd64 checks the kernel map first, arm64 the direct map, as libkvm does.

// Page-table entry bits.
const (
	amd64PG_V        = 1 << 0
	amd64PG_PS       = 1 << 7
	amd64PG_FRAME    = 0x000ffffffffff000
	amd64PG_PS_FRAME = 0x000fffffffe00000
	amd64NBPDR       = 1 << 21

	arm64DescrMask = 3
	arm64L3Page    = 3
	arm64AttrMask  = 0xfffc000000000fff // ATTR_MASK_H | ATTR_MASK_L
)

// kernelMap is the kernel virtual space: a mem.Mapper over physical memory.
type kernelMap struct {
	f       *File
	phys    mem.Space
	order   binary.ByteOrder
	page    uint64
	amd64   bool
	v1      bool
	pmapOff uint64 // file offset of the page-table section
	entries uint64 // entries in the page-table section
	span    uint64 // bytes of address space per entry
	kernEnd uint64 // last address the section covers
	err     error
}

func (f *File) buildKernel() *kernelMap {
	pm := f.phys()
	if pm.err != nil {
		return &kernelMap{err: pm.err}
	}
	_, _, _, pmapOff, _ := f.sections()
	k := &kernelMap{f: f, phys: pm.space, order: f.order, page: f.pageSize(), pmapOff: pmapOff,
		amd64: f.lay.magic == MagicAMD64}
	k.v1 = k.amd64 && f.hdr.version == 1
	k.entries = uint64(f.hdr.pmapsize) / 8
	k.span = k.page
	if k.amd64 && !k.v1 {
		k.span = amd64NBPDR
	}
	if k.entries > 0 {
		size := k.entries * k.span
		if k.entries > math.MaxUint64/k.span || size-1 > math.MaxUint64-f.hdr.kernbase {
			k.kernEnd = math.MaxUint64
		} else {
			k.kernEnd = f.hdr.kernbase + size - 1
		}
	}
	return k
}

// KernelMemory returns the kernel's virtual address space (amd64 and arm64
// minidumps): the direct map and the kernel map described by the
// page-table section. Addresses outside both fault mem.Unmapped; an invalid
// entry faults mem.NotPresent with the level ("PDE", "PTE", "L3") and
// entry; a mapped page the dump does not hold faults mem.NotInDump.
func (f *File) KernelMemory() (mem.Space, error) {
	k := f.kern()
	if k.err != nil {
		return nil, k.err
	}
	return k, nil
}

func (k *kernelMap) Name() string    { return "kernel" }
func (k *kernelMap) Base() mem.Space { return k.phys }
func (k *kernelMap) ReadMemory(p []byte, addr uint64) (int, error) {
	return mem.ReadMapped(k, p, addr)
}

// Regions yields the direct map and the span the page-table section covers
// (which has holes wherever entries are invalid).
func (k *kernelMap) Regions() iter.Seq[mem.Region] {
	return func(yield func(mem.Region) bool) {
		h := &k.f.hdr
		var rs []mem.Region
		if h.dmapend > h.dmapbase {
			rs = append(rs, mem.Region{Start: h.dmapbase, Size: h.dmapend - h.dmapbase, Prot: mem.R | mem.W, State: mem.Committed, Label: "direct map"})
		}
		if k.entries > 0 {
			rs = append(rs, mem.Region{Start: h.kernbase, Size: k.kernEnd - h.kernbase + 1, Prot: mem.R, State: mem.Committed, Label: "kernel map"})
		}
		if len(rs) == 2 && rs[1].Start < rs[0].Start {
			rs[0], rs[1] = rs[1], rs[0]
		}
		for i, r := range rs {
			if i > 0 && r.Start <= rs[i-1].Last() {
				// Overlapping (arm64: the direct map lies above kernbase).
				continue
			}
			if !yield(r) {
				return
			}
		}
	}
}

func (k *kernelMap) inDMap(va uint64) bool {
	h := &k.f.hdr
	return va >= h.dmapbase && va < h.dmapend
}

func (k *kernelMap) inKernel(va uint64) bool {
	return k.entries > 0 && va >= k.f.hdr.kernbase && va <= k.kernEnd
}

// Map yields the mappings covering [addr, addr+n): the rest of the direct
// map in one piece, or one page (a 2 MiB page for an amd64 PG_PS PDE) of
// the kernel map.
func (k *kernelMap) Map(addr, n uint64) iter.Seq2[mem.Mapping, error] {
	return func(yield func(mem.Mapping, error) bool) {
		if n == 0 {
			return
		}
		last := addr + n - 1
		if last < addr {
			last = math.MaxUint64
		}
		for cur := addr; ; {
			m, err := k.translate(cur)
			if !yield(m, err) || err != nil {
				return
			}
			end := m.Addr + m.Len - 1
			if end >= last || end == math.MaxUint64 {
				return
			}
			cur = end + 1
		}
	}
}

func (k *kernelMap) translate(va uint64) (mem.Mapping, error) {
	h := &k.f.hdr
	dmap := func() mem.Mapping {
		return mem.Mapping{Addr: h.dmapbase, Len: h.dmapend - h.dmapbase, BaseAddr: h.dmapphys}
	}
	if k.amd64 {
		if va >= h.kernbase {
			return k.kernelPage(va)
		}
		if k.inDMap(va) {
			return dmap(), nil
		}
	} else {
		if k.inDMap(va) {
			m := dmap()
			if m.Len-1 > math.MaxUint64-m.BaseAddr {
				m.Len = math.MaxUint64 - m.BaseAddr + 1
				if va-m.Addr >= m.Len {
					return mem.Mapping{}, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.Unmapped, Err: errors.New("direct map runs past the top of physical addresses")}
				}
			}
			return m, nil
		}
		if va >= h.kernbase {
			return k.kernelPage(va)
		}
	}
	return mem.Mapping{}, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.Unmapped,
		Err: errors.New("neither in the direct map nor in the kernel map the minidump describes")}
}

// entry reads entry i of the page-table section.
func (k *kernelMap) entry(i uint64, va uint64, level string) (uint64, error) {
	off := k.pmapOff + i*8
	var b [8]byte
	if off > math.MaxInt64-8 || off+8 > uint64(k.f.size) {
		return 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.OutsideFile, Level: level,
			Err: fmt.Errorf("%s %d at file offset %#x is past the end of the file", level, i, off)}
	}
	if _, err := k.f.r.ReadAt(b[:], int64(off)); err != nil {
		return 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.ReadFailed, Level: level, Err: err}
	}
	return k.order.Uint64(b[:]), nil
}

func notPresent(va uint64, level string, e uint64) error {
	return &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.NotPresent, Level: level, Entry: e}
}

// kernelPage translates an address of the kernel map.
func (k *kernelMap) kernelPage(va uint64) (mem.Mapping, error) {
	h := &k.f.hdr
	if !k.inKernel(va) {
		return mem.Mapping{}, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.Unmapped,
			Err: fmt.Errorf("beyond the %d page-table entries the minidump holds", k.entries)}
	}
	idx := (va - h.kernbase) / k.span
	pageVA := va &^ (k.page - 1)
	switch {
	case !k.amd64: // arm64 L3
		l3, err := k.entry(idx, va, "L3")
		if err != nil {
			return mem.Mapping{}, err
		}
		if l3&arm64DescrMask != arm64L3Page {
			return mem.Mapping{}, notPresent(va, "L3", l3)
		}
		return mem.Mapping{Addr: pageVA, Len: k.page, BaseAddr: l3 &^ arm64AttrMask &^ (k.page - 1)}, nil
	case k.v1:
		pte, err := k.entry(idx, va, "PTE")
		if err != nil {
			return mem.Mapping{}, err
		}
		if pte&amd64PG_V == 0 {
			return mem.Mapping{}, notPresent(va, "PTE", pte)
		}
		return mem.Mapping{Addr: pageVA, Len: k.page, BaseAddr: pte & amd64PG_FRAME}, nil
	}
	pde, err := k.entry(idx, va, "PDE")
	if err != nil {
		return mem.Mapping{}, err
	}
	if pde&amd64PG_V == 0 {
		return mem.Mapping{}, notPresent(va, "PDE", pde)
	}
	if pde&amd64PG_PS != 0 {
		// As libkvm: the offset into the 2 MiB page is va's offset
		// into its 2 MiB-aligned block.
		return mem.Mapping{Addr: va &^ (amd64NBPDR - 1), Len: amd64NBPDR, BaseAddr: pde & amd64PG_PS_FRAME}, nil
	}
	ptAddr := pde&amd64PG_FRAME + ((va>>12)&511)*8
	pte, err := mem.ReadUint(k.phys, ptAddr, 8, k.order)
	if err != nil {
		fe := &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.NotInDump, Level: "PDE", Entry: pde, Err: err}
		var lower *mem.FaultError
		if errors.As(err, &lower) {
			fe.Kind = lower.Kind
		}
		return mem.Mapping{}, fe
	}
	if pte&amd64PG_V == 0 {
		return mem.Mapping{}, notPresent(va, "PTE", pte)
	}
	return mem.Mapping{Addr: pageVA, Len: k.page, BaseAddr: pte & amd64PG_FRAME}, nil
}
