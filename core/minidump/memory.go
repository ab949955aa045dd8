package minidump

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// MemoryInfo is MINIDUMP_MEMORY_INFO: one region of the process's address
// space as VirtualQuery described it.
type MemoryInfo struct {
	BaseAddress       uint64
	AllocationBase    uint64
	AllocationProtect uint32
	RegionSize        uint64
	State             uint32 // MEM_COMMIT 0x1000, MEM_RESERVE 0x2000, MEM_FREE 0x10000
	Protect           uint32 // PAGE_*
	Type              uint32 // MEM_PRIVATE, MEM_MAPPED, MEM_IMAGE
}

// MemoryList decodes the MemoryListStream (MINIDUMP_MEMORY_LIST).
func (f *File) MemoryList() ([]MemoryRange, error) {
	i := f.find(MemoryListStream)
	if i < 0 {
		return nil, ErrNoStream
	}
	return f.memory32(i)
}

// Memory64List decodes the Memory64ListStream (MINIDUMP_MEMORY64_LIST:
// ranges stored back to back from BaseRva).
func (f *File) Memory64List() ([]MemoryRange, error) {
	i := f.find(Memory64ListStream)
	if i < 0 {
		return nil, ErrNoStream
	}
	return f.memory64(i)
}

// MemoryInfoList decodes the MemoryInfoListStream.
func (f *File) MemoryInfoList() ([]MemoryInfo, error) {
	c, n, esize, err := f.headerList(MemoryInfoListStream, 48, true)
	if err != nil {
		return nil, err
	}
	out := make([]MemoryInfo, n)
	for i := range out {
		start := c.Pos()
		m := &out[i]
		m.BaseAddress, m.AllocationBase, m.AllocationProtect = c.U64(), c.U64(), c.U32()
		c.U32()
		m.RegionSize, m.State, m.Protect, m.Type = c.U64(), c.U32(), c.U32(), c.U32()
		c.Seek(start + esize)
	}
	return out, c.Err()
}

// Memory returns the captured memory as an address space over the file
// (memoised): the MemoryList's ranges and the Memory64List's, mapped with
// mem.NewRuns over mem.NewFile. Overlapping or duplicate ranges (Breakpad
// and Wine write them) keep the first and become diagnostics. A dump
// without memory gives an empty space.
func (f *File) Memory() (mem.Space, error) { return f.memory() }

func (f *File) buildMemory() (mem.Space, error) {
	type run struct {
		mem.Mapping
		idx int
	}
	var runs []run
	for _, get := range []func() ([]MemoryRange, error){f.MemoryList, f.Memory64List} {
		rs, err := get()
		if errors.Is(err, ErrNoStream) {
			continue
		}
		if err != nil {
			f.note(err)
			continue
		}
		for _, r := range rs {
			if r.Size == 0 {
				continue
			}
			if r.Start+r.Size-1 < r.Start || r.FileOff < 0 || uint64(r.FileOff)+r.Size < uint64(r.FileOff) {
				f.diag(model.Warning, r.FileOff, fmt.Sprintf("memory range %#x+%#x wraps the address space; dropped", r.Start, r.Size))
				continue
			}
			runs = append(runs, run{mem.Mapping{Addr: r.Start, Len: r.Size, BaseAddr: uint64(r.FileOff)}, len(runs)})
		}
	}
	slices.SortStableFunc(runs, func(a, b run) int { return cmp.Compare(a.Addr, b.Addr) })
	kept := make([]mem.Mapping, 0, len(runs))
	for _, r := range runs {
		m := r.Mapping
		if n := len(kept); n > 0 {
			prev := kept[n-1]
			end := prev.Addr + prev.Len
			if m.Addr < end {
				f.diag(model.Warning, int64(m.BaseAddr), fmt.Sprintf("memory range [%#x, %#x) overlaps [%#x, %#x); keeping the first", m.Addr, m.Addr+m.Len, prev.Addr, end))
				if m.Addr+m.Len <= end {
					continue
				}
				cut := end - m.Addr
				m.Addr, m.Len, m.BaseAddr = end, m.Len-cut, m.BaseAddr+cut
			}
		}
		kept = append(kept, m)
	}
	rs, err := mem.NewRuns(mem.NewFile(f.r, f.size, "file"), "process", kept)
	if err != nil {
		return nil, &FormatError{Off: -1, What: "building the memory map", Err: err}
	}
	return rs, nil
}
