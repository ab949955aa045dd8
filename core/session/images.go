package session

import (
	"debug/pe"
	"fmt"
	"io"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/image"
)

// Minidumps rarely hold code: MiniDumpNormal captures stacks and a little
// data, so u, uf and the disassembly views would show "??". WinDbg fills
// the gap from the module images on its executable path; so does the
// session: each PE image found beside the dump or on the symbol path (and
// matching the module's TimeDateStamp and SizeOfImage) is mapped at the
// module's base, under the dump's own memory, which always wins.

// fileRange reads image bytes from a file offset as memory at base.
type fileRange struct {
	r    io.ReaderAt
	off  int64
	base uint64
	size uint64
	name string
}

func (f fileRange) ReadMemory(p []byte, addr uint64) (int, error) {
	if addr < f.base || addr-f.base >= f.size {
		return 0, &mem.FaultError{Space: f.name, Addr: addr, Kind: mem.Unmapped}
	}
	n := min(uint64(len(p)), f.size-(addr-f.base))
	got, err := f.r.ReadAt(p[:n], f.off+int64(addr-f.base))
	if got < len(p) {
		if err == nil || err == io.EOF {
			err = &mem.FaultError{Space: f.name, Addr: addr + uint64(got), Kind: mem.Unmapped}
		}
		return got, err
	}
	return got, nil
}

// withImages returns the dump's memory with the matching module images
// underneath, and the files opened (closed with the session).
func withImages(dumpMem mem.Space, mods []model.Module, finder *image.Finder) (mem.Reader, []io.Closer, []string) {
	sp := mem.NewSpliced("process+images")
	var closers []io.Closer
	var used []string
	for _, m := range mods {
		if m.Unloaded {
			continue
		}
		path, ok := finder.Find(m)
		if !ok {
			continue
		}
		mf, err := mem.OpenFile(path)
		if err != nil {
			continue
		}
		f, err := pe.NewFile(mf)
		if err != nil {
			mf.Close()
			continue
		}
		var headers uint32
		switch oh := f.OptionalHeader.(type) {
		case *pe.OptionalHeader64:
			headers = oh.SizeOfHeaders
		case *pe.OptionalHeader32:
			headers = oh.SizeOfHeaders
		}
		label := m.Name() + " (image file)"
		sp.Add(fileRange{r: mf, off: 0, base: m.Base, size: uint64(headers), name: label}, m.Base, uint64(headers), label)
		for _, s := range f.Sections {
			n := uint64(min(s.VirtualSize, s.Size))
			if n == 0 || uint64(s.VirtualAddress)+n > m.Size {
				continue
			}
			start := m.Base + uint64(s.VirtualAddress)
			sp.Add(fileRange{r: mf, off: int64(s.Offset), base: start, size: n, name: label}, start, n, fmt.Sprintf("%s %s", m.Name(), s.Name))
		}
		closers = append(closers, mf)
		used = append(used, path)
	}
	if len(closers) == 0 {
		return dumpMem, nil, nil
	}
	if dumpMem != nil {
		for r := range dumpMem.Regions() {
			sp.Add(dumpMem, r.Start, r.Size, r.Label)
		}
	}
	return sp, closers, used
}
