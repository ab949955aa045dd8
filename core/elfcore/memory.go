package elfcore

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Memory returns the process address space: each PT_LOAD's first p_filesz
// bytes at p_vaddr, read from the file at p_offset. The rest of a segment
// (p_filesz < p_memsz: pages the kernel did not dump) and segments with
// p_filesz 0 are absent: reads there fault with mem.NotInDump. A segment
// that overlaps an earlier one, or wraps the address space, is dropped with
// a diagnostic. The space is built once.
func (f *File) Memory() (mem.Space, error) { return f.memory() }

func (f *File) buildMemory() (mem.Space, error) {
	const name = "elfcore"
	var runs []mem.Mapping
	for _, p := range f.Progs {
		if p.Type != elfx.PT_LOAD || p.Filesz == 0 || p.Memsz == 0 {
			continue
		}
		n := min(p.Filesz, p.Memsz)
		if n-1 > math.MaxUint64-p.Vaddr || n-1 > math.MaxUint64-p.Off {
			f.diag(model.Warning, -1, fmt.Sprintf("PT_LOAD %#x of %#x bytes wraps the address space: ignored", p.Vaddr, n))
			continue
		}
		runs = append(runs, mem.Mapping{Addr: p.Vaddr, Len: n, BaseAddr: p.Off})
	}
	slices.SortStableFunc(runs, func(a, b mem.Mapping) int { return cmp.Compare(a.Addr, b.Addr) })
	kept := runs[:0]
	for _, r := range runs {
		if len(kept) > 0 {
			prev := kept[len(kept)-1]
			if r.Addr <= prev.Addr+prev.Len-1 {
				f.diag(model.Warning, -1, fmt.Sprintf("PT_LOAD %#x overlaps PT_LOAD %#x: ignored", r.Addr, prev.Addr))
				continue
			}
		}
		kept = append(kept, r)
	}
	return mem.NewRuns(mem.NewFile(f.r, f.size, name+" file"), name, kept)
}
