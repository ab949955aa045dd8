package session

import (
	"debug/elf"
	"fmt"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
)

// namedExecutables returns modules for the fixed-address executables among
// files (ET_EXEC ELF images named with --image) that no module of the dump
// covers, at their link address, as gdb's `file` command loads them. Some
// cores list no mappings at all (no NT_FILE note, as older kernels wrote
// them, or one this reader cannot use), so without this the executable's
// frames would have no module, no symbols and no unwind tables. A
// position-independent image has no fixed address and is not added.
func namedExecutables(files []string, mods []model.Module) []model.Module {
	var out []model.Module
	for _, path := range files {
		m, ok := fixedExecutable(path)
		if !ok {
			continue
		}
		covered := false
		for _, o := range append(mods, out...) {
			if !o.Unloaded && m.Base < o.Base+o.Size && o.Base < m.Base+m.Size {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, m)
		}
	}
	return out
}

// fixedExecutable describes an ET_EXEC file as the module it would be
// when loaded: from its lowest PT_LOAD page to the end of its last one.
func fixedExecutable(path string) (model.Module, bool) {
	mf, err := mem.OpenFile(path)
	if err != nil {
		return model.Module{}, false
	}
	defer mf.Close()
	f, err := elf.NewFile(mf)
	if err != nil || f.Type != elf.ET_EXEC {
		return model.Module{}, false
	}
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			lo, hi = min(lo, p.Vaddr&^0xfff), max(hi, p.Vaddr+p.Memsz)
		}
	}
	if lo >= hi {
		return model.Module{}, false
	}
	id, _ := elfsym.BuildID(path)
	return model.Module{Base: lo, Size: hi - lo, Path: path, BuildID: id,
		CodeID: fmt.Sprintf("%x", id)}, true
}
