package linux

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/mem"
)

// arm64 translation: arch/arm64/include/asm/memory.h (PAGE_OFFSET,
// __lm_to_phys, __kimg_to_phys), asm/pgtable-hwdef.h (descriptor formats)
// and the ARM ARM's VMSAv8-64 translation tables.

// arm64 descriptor bits.
const (
	armValid = 1 << 0 // bit 0: the descriptor is valid
	armTable = 1 << 1 // bit 1: table (or page, at the last level); clear: block
)

// armLevel is one level of an arm64 walk.
type armLevel struct {
	name  string
	shift uint // va bits below this level's index
	bits  uint // index width
	block bool // a block descriptor is allowed at this level
}

// arm64Layout is what New learns from an arm64 VMCOREINFO.
type arm64Layout struct {
	pageShift     uint   // 12, 14 or 16 (PAGESIZE)
	vaBits        uint   // NUMBER(VA_BITS): the configured kernel VA size
	vaBitsActual  uint   // 64 - NUMBER(TCR_EL1_T1SZ), else vaBits
	kimageVoffset uint64 // NUMBER(kimage_voffset): image VA - PA
	physOffset    uint64 // NUMBER(PHYS_OFFSET): memstart_addr
	flipped       bool   // Linux 5.4+ layout: linear map in the lower half
	pageOffset    uint64 // PAGE_OFFSET, the linear map's start
	// [linLo, linHi) is the part of the linear map translated by
	// arithmetic (linHi 0 means up to 2^64); [imgLo, imgHi) the part of
	// the image.
	linLo, linHi uint64
	imgLo, imgHi uint64
	pa52         bool // 64 KiB pages with ARMv8.2-LPA: PA[51:48] in bits [15:12]
	lpa2         bool // 4/16 KiB pages with 52-bit VA (FEAT_LPA2): PA[51:50] in bits [9:8]
	levels       []armLevel
}

// parseArm64 reads the arm64 VMCOREINFO entries into k.arm and sets
// k.physBase and k.pgd.
func (k *Kernel) parseArm64() error {
	a := &arm64Layout{pageShift: 12}
	if ps, ok := k.info["PAGESIZE"]; ok {
		switch ps {
		case "4096":
			a.pageShift = 12
		case "16384":
			a.pageShift = 14
		case "65536":
			a.pageShift = 16
		default:
			return fmt.Errorf("linux: VMCOREINFO PAGESIZE=%s, want 4096, 16384 or 65536 on arm64", ps)
		}
	}
	num := func(name string) (uint64, bool, error) {
		s, ok := k.info["NUMBER("+name+")"]
		if !ok {
			return 0, false, nil
		}
		v, err := parseNumber(s)
		if err != nil {
			return 0, true, fmt.Errorf("linux: VMCOREINFO NUMBER(%s)=%q: %v", name, s, err)
		}
		return v, true, nil
	}
	va, ok, err := num("VA_BITS")
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("linux: VMCOREINFO lacks NUMBER(VA_BITS) (Linux 4.12+ exports it)")
	}
	if va < 36 || va > 52 {
		return fmt.Errorf("linux: VMCOREINFO NUMBER(VA_BITS)=%d is not an arm64 VA size", va)
	}
	a.vaBits, a.vaBitsActual = uint(va), uint(va)
	if t1sz, ok, err := num("TCR_EL1_T1SZ"); err != nil {
		return err
	} else if ok {
		if t1sz < 12 || t1sz > 28 || 64-uint(t1sz) > a.vaBits {
			return fmt.Errorf("linux: VMCOREINFO NUMBER(TCR_EL1_T1SZ)=%d does not fit VA_BITS=%d", t1sz, va)
		}
		a.vaBitsActual = 64 - uint(t1sz)
	}
	if a.kimageVoffset, ok, err = num("kimage_voffset"); err != nil {
		return err
	} else if !ok {
		return errors.New("linux: VMCOREINFO lacks NUMBER(kimage_voffset)")
	}
	if a.physOffset, ok, err = num("PHYS_OFFSET"); err != nil {
		return err
	} else if !ok {
		return errors.New("linux: VMCOREINFO lacks NUMBER(PHYS_OFFSET)")
	}
	if s, ok := k.info["KERNELOFFSET"]; ok {
		if k.kaslr, err = strconv.ParseUint(s, 16, 64); err != nil {
			return fmt.Errorf("linux: VMCOREINFO KERNELOFFSET=%q: %v", s, err)
		}
	}
	if bits, ok, _ := num("MAX_PHYSMEM_BITS"); ok && bits == 52 && a.pageShift == 16 {
		a.pa52 = true
	}
	if a.vaBitsActual == 52 && a.pageShift != 16 {
		a.lpa2 = true // 52-bit VAs with 4/16 KiB pages exist only with LPA2
	}
	if a.levels = armLevels(a.pageShift, a.vaBits, a.vaBitsActual, a.pa52 || a.lpa2); a.levels == nil {
		return fmt.Errorf("linux: arm64 with %d-byte pages and %d-bit VAs is not a kernel configuration", 1<<a.pageShift, a.vaBitsActual)
	}
	pgdVA, ok := k.Symbol("swapper_pg_dir")
	if !ok {
		return errors.New("linux: VMCOREINFO lacks SYMBOL(swapper_pg_dir)")
	}
	// The image lies in the upper half of the kernel VA space from Linux
	// 5.4 (the "flipped" layout, linear map below it), in the lower half
	// before; where swapper_pg_dir is tells them apart even on kernels
	// whose version number says nothing (backports).
	half := min(a.vaBits, 48) - 1
	a.flipped = pgdVA>>half&1 == 1
	if a.flipped {
		a.pageOffset = -(uint64(1) << a.vaBits)
		// Linux 5.4-5.10 end the linear map at -2^(VA_BITS-1), later
		// kernels further up; only the half common to both is done by
		// arithmetic, the rest walks. Addresses TTBR1 cannot hold
		// (a 52-bit kernel on 48-bit hardware) are left to the walk.
		a.linLo = max(a.pageOffset, -(uint64(1) << a.vaBitsActual))
		a.linHi = a.pageOffset + uint64(1)<<(a.vaBits-1)
		if a.linLo > a.linHi {
			a.linLo = a.linHi
		}
	} else {
		a.pageOffset = -(uint64(1) << (a.vaBits - 1))
		a.linLo, a.linHi = a.pageOffset, 0
	}
	// The image from _stext through swapper_pg_dir (text and rodata)
	// translates by kimage_voffset; its data and bss, which VMCOREINFO
	// does not bound, go through the walk, which maps them the same way.
	page := uint64(1) << a.pageShift
	a.imgHi = (pgdVA | (page - 1)) + 1
	a.imgLo = pgdVA &^ (page - 1)
	if st, ok := k.Symbol("_stext"); ok && st < a.imgLo && a.imgLo-st < 1<<30 {
		a.imgLo = st &^ (page - 1)
	}
	if a.imgHi == 0 || a.inLinear(a.imgLo) || a.inLinear(a.imgHi-1) {
		return fmt.Errorf("linux: swapper_pg_dir %#x lies in the linear map", pgdVA)
	}
	k.physBase = a.physOffset
	k.pgd = pgdVA - a.kimageVoffset
	k.textSize = 0
	k.arm = a
	return nil
}

// parseNumber reads a VMCOREINFO NUMBER: arm64 writes kimage_voffset,
// PHYS_OFFSET and TCR_EL1_T1SZ as 0x-prefixed hex, the rest in decimal
// (possibly negative, taken as two's complement).
func parseNumber(s string) (uint64, error) {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		return strconv.ParseUint(h, 16, 64)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return uint64(v), err
}

// armLevels returns the walk's levels for a granule of 2^pageShift bytes
// and a TTBR1 range of 2^vaActual bytes whose top table is sized for
// vaBits (a 52-bit kernel on 48-bit hardware points TTBR1 into the top
// of a 52-bit-sized table, so indexing with the larger width lands on the
// same entry). Levels are named as Linux folds them: the last is PTE, the
// one above PMD, then PUD, P4D; the first is always PGD.
func armLevels(pageShift, vaBits, vaActual uint, pa52 bool) []armLevel {
	switch {
	case pageShift == 12 && (vaActual == 39 || vaActual == 48 || vaActual == 52),
		pageShift == 14 && (vaActual == 36 || vaActual == 47 || vaActual == 48 || vaActual == 52),
		pageShift == 16 && (vaActual == 42 || vaActual == 48 || vaActual == 52):
	default:
		return nil
	}
	per := pageShift - 3
	count := func(va uint) int { return int((va - pageShift + per - 1) / per) }
	n := count(vaActual)
	width := vaActual
	if count(vaBits) == n {
		width = vaBits
	}
	names := []string{"PTE", "PMD", "PUD", "P4D"}
	lv := make([]armLevel, n)
	for i := range lv {
		fromBottom := n - 1 - i // 0 for the last level
		l := armLevel{shift: pageShift + per*uint(fromBottom), bits: per}
		hw := 3 - fromBottom // the ARM ARM's lookup level (-1..3)
		switch {
		case i == 0:
			l.name = "PGD"
			l.bits = width - l.shift
		default:
			l.name = names[fromBottom]
		}
		// Block descriptors: level 2 always; level 1 with 4 KiB pages,
		// or with 52-bit output addresses; level 0 with 4 KiB pages and
		// LPA2. Never at the last level.
		switch hw {
		case 2:
			l.block = true
		case 1:
			l.block = pageShift == 12 || pa52
		case 0:
			l.block = pageShift == 12 && pa52
		}
		lv[i] = l
	}
	return lv
}

// inLinear reports whether va is in the arithmetic part of the linear map.
func (a *arm64Layout) inLinear(va uint64) bool {
	return va >= a.linLo && (a.linHi == 0 || va < a.linHi)
}

// direct translates va by arithmetic: the linear map and the image. It
// returns the physical address and the end of the window va is in (0 for
// 2^64).
func (a *arm64Layout) direct(va uint64) (pa, end uint64, ok bool) {
	if a.inLinear(va) {
		return va - a.pageOffset + a.physOffset, a.linHi, true
	}
	if va >= a.imgLo && va < a.imgHi {
		return va - a.kimageVoffset, a.imgHi, true
	}
	return 0, 0, false
}

// outputAddress returns the address a descriptor e points to (a table, a
// block or a page), keeping the bits below shift clear.
func (a *arm64Layout) outputAddress(e uint64, shift uint) uint64 {
	var pa uint64
	switch {
	case a.lpa2: // bits [49:shift], PA[51:50] in [9:8]
		pa = e&(1<<50-1) | (e>>8&3)<<50
	case a.pa52: // bits [47:16], PA[51:48] in [15:12]
		pa = e&(1<<48-1) | (e>>12&0xf)<<48
	default: // bits [47:shift]
		pa = e & (1<<48 - 1)
	}
	return pa &^ (uint64(1)<<shift - 1)
}

// ttbr1 reports whether va is inside the range TTBR1 translates.
func (a *arm64Layout) ttbr1(va uint64) bool {
	return va >= -(uint64(1) << a.vaBitsActual)
}

// walk translates va through swapper_pg_dir.
func (a *arm64Layout) walk(k *Kernel, va uint64) (uint64, uint64, error) {
	if !a.ttbr1(va) {
		return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.Unmapped, Err: errNonCanonical}
	}
	table := k.pgd
	for i, l := range a.levels {
		addr := table + (va>>l.shift)&(uint64(1)<<l.bits-1)*8
		var b [8]byte
		if err := mem.ReadFull(k.phys, b[:], addr); err != nil {
			kind := mem.ReadFailed
			var fe *mem.FaultError
			if errors.As(err, &fe) {
				kind = fe.Kind
			}
			return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: kind,
				Err: fmt.Errorf("reading the %s entry at physical %#x: %w", l.name, addr, err)}
		}
		e := le.Uint64(b[:])
		if e&armValid == 0 {
			return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.NotPresent, Level: l.name, Entry: e}
		}
		last := i == len(a.levels)-1
		switch {
		case e&armTable != 0 && !last:
			table = a.outputAddress(e, a.pageShift)
		case e&armTable != 0 || l.block: // a page, or a block where one may be
			size := uint64(1) << l.shift
			return a.outputAddress(e, l.shift) | va&(size-1), size, nil
		default: // a block at the last level or where none is allowed: reserved
			return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.Corrupt, Level: l.name, Entry: e,
				Err: errors.New("reserved descriptor")}
		}
	}
	return 0, 0, &mem.FaultError{Space: "kernel", Addr: va, Kind: mem.NotPresent} // unreachable
}

// regions visits the valid leaf descriptors of swapper_pg_dir in
// ascending virtual order, calling emit(va, size) for each. It returns
// false when emit did (the caller stops), true when the walk ended, also
// after maxRegionEntries entries.
func (a *arm64Layout) regions(k *Kernel, emit func(va, size uint64) bool) bool {
	visited, stopped := 0, false
	var rec func(table uint64, depth int, base uint64) bool
	rec = func(table uint64, depth int, base uint64) bool {
		l := a.levels[depth]
		n := uint64(1) << l.bits
		buf := make([]byte, n*8)
		if err := mem.ReadFull(k.phys, buf, table); err != nil {
			return true // an unreadable table: skip its range
		}
		for i := range n {
			visited++
			if visited > maxRegionEntries {
				stopped = true
				return false
			}
			e := le.Uint64(buf[i*8:])
			if e&armValid == 0 {
				continue
			}
			va := base | i<<l.shift
			if depth == 0 && !a.ttbr1(va) {
				continue // below the TTBR1 offset of a 52-bit table
			}
			last := depth == len(a.levels)-1
			switch {
			case e&armTable != 0 && !last:
				if !rec(a.outputAddress(e, a.pageShift), depth+1, va) {
					return false
				}
			case e&armTable != 0 || l.block:
				if !emit(va, uint64(1)<<l.shift) {
					return false
				}
			}
		}
		return true
	}
	top := a.levels[0]
	return rec(k.pgd, 0, ^uint64(0)<<(top.shift+top.bits)) || stopped
}
