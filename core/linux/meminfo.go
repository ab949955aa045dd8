package linux

import (
	"errors"
	"fmt"
)

// MemInfo is the kernel's own count of its memory, in pages: what crash's
// kmem -i and /proc/meminfo start with.
type MemInfo struct {
	PageSize   uint64
	TotalPages uint64 // _totalram_pages: RAM the page allocator manages
	FreePages  uint64 // vm_zone_stat[NR_FREE_PAGES]
}

// MemInfo reads _totalram_pages (totalram_pages before 5.0) and
// vm_zone_stat[NR_FREE_PAGES] (the index from VMCOREINFO, 0 when it
// does not say), found through kallsyms.
func (k *Kernel) MemInfo() (*MemInfo, error) {
	syms, err := k.Symbols()
	if err != nil {
		return nil, err
	}
	mi := &MemInfo{PageSize: 4096}
	if ps, ok := k.decimal("PAGESIZE"); ok && ps > 0 {
		mi.PageSize = uint64(ps)
	}
	total, ok := syms.Lookup("_totalram_pages")
	if !ok {
		if total, ok = syms.Lookup("totalram_pages"); !ok {
			return nil, errors.New("linux: kallsyms has no _totalram_pages")
		}
	}
	if mi.TotalPages, err = k.u64(total); err != nil {
		return nil, fmt.Errorf("linux: reading _totalram_pages: %w", err)
	}
	stat, ok := syms.Lookup("vm_zone_stat")
	if !ok {
		return nil, errors.New("linux: kallsyms has no vm_zone_stat")
	}
	idx, _ := k.Number("NR_FREE_PAGES")
	if idx < 0 || idx > 64 {
		return nil, fmt.Errorf("linux: NUMBER(NR_FREE_PAGES) = %d is implausible", idx)
	}
	free, err := k.u64(stat + uint64(idx)*8)
	if err != nil {
		return nil, fmt.Errorf("linux: reading vm_zone_stat: %w", err)
	}
	// The per-zone counters are signed and updated lazily: a transient
	// negative sum reads as a huge number.
	if int64(free) < 0 {
		free = 0
	}
	mi.FreePages = min(free, mi.TotalPages)
	return mi, nil
}
