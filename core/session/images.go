package session

import (
	"debug/elf"
	"debug/pe"
	"fmt"
	"io"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
	"github.com/crashbench/crashbench/core/symbols/image"
)

// Dumps rarely hold code: MiniDumpNormal captures stacks and a little
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
// underneath (PE images by timestamp and size, ELF files by build id), and
// the files opened (closed with the session).
func withImages(dumpMem mem.Space, mods []model.Module, finder *image.Finder, elfFinder *elfsym.Finder) (mem.Reader, []io.Closer, []string) {
	sp := mem.NewSpliced("process+images")
	var closers []io.Closer
	var used []string
	for _, m := range mods {
		if m.Unloaded {
			continue
		}
		if path, ok := elfFinder.Find(m); ok && len(m.BuildID) > 0 {
			if c := addELF(sp, m, path); c != nil {
				closers, used = append(closers, c), append(used, path)
			}
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
			if r.State == mem.Absent {
				continue // known but not captured: the image's bytes stand
			}
			sp.Add(dumpMem, r.Start, r.Size, r.Label)
		}
	}
	return sp, closers, used
}

// addELF maps an ELF file's loadable segments at the module's base: each
// PT_LOAD's file bytes at base + (p_vaddr − link base), the link base being
// the lowest PT_LOAD address rounded down to a page (0 for PIEs and shared
// objects, the load address for fixed executables).
func addELF(sp *mem.Spliced, m model.Module, path string) io.Closer {
	mf, err := mem.OpenFile(path)
	if err != nil {
		return nil
	}
	f, err := elf.NewFile(mf)
	if err != nil {
		mf.Close()
		return nil
	}
	link := ^uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			link = min(link, p.Vaddr&^0xfff)
		}
	}
	label := m.Name() + " (image file)"
	added := false
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 || p.Vaddr < link {
			continue
		}
		start := m.Base + (p.Vaddr - link)
		if start < m.Base || start-m.Base+p.Filesz > m.Size {
			continue // the file does not fit the mapping the core recorded
		}
		sp.Add(fileRange{r: mf, off: int64(p.Off), base: start, size: p.Filesz, name: label}, start, p.Filesz, label)
		added = true
	}
	if !added {
		mf.Close()
		return nil
	}
	return mf
}
