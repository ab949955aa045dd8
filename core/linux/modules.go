package linux

import (
	"bytes"
	"errors"
	"fmt"
)

const (
	maxModules    = 1 << 14
	moduleNameLen = 56 // MODULE_NAME_LEN on 64-bit: 64 - sizeof(unsigned long)
)

// Module is one loaded kernel module.
type Module struct {
	Address uint64 // the struct module
	Name    string
	State   uint32 // enum module_state: 0 live, 1 coming, 2 going, 3 unformed
	Base    uint64 // core text base (core_layout.base, or mem[MOD_TEXT].base from 6.4)
	Size    uint64 // core size (core_layout.size, or the sum of the core mem[] regions)
}

// Modules walks the kernel's module list (the static list_head "modules"
// found through kallsyms) using struct module's layout from BTF. The walk
// is bounded and stops at a loop or an unreadable pointer, returning what
// it found with an error.
func (k *Kernel) Modules() ([]Module, error) {
	syms, err := k.Symbols()
	if err != nil {
		return nil, err
	}
	b, err := k.BTF()
	if err != nil {
		return nil, err
	}
	mod, ok := b.Struct("module")
	if !ok {
		return nil, errors.New("linux: BTF has no struct module")
	}
	listOff, err := b.MemberOffset(mod, "list")
	if err != nil {
		return nil, fmt.Errorf("linux: struct module: %w", err)
	}
	nameOff, err := b.MemberOffset(mod, "name")
	if err != nil {
		return nil, fmt.Errorf("linux: struct module: %w", err)
	}
	stateOff, err := b.MemberOffset(mod, "state")
	if err != nil {
		return nil, fmt.Errorf("linux: struct module: %w", err)
	}
	layout, err := k.moduleLayout(b, mod)
	if err != nil {
		return nil, err
	}
	heads := syms.LookupAll("modules")
	if len(heads) == 0 {
		return nil, errors.New("linux: kallsyms has no \"modules\" list head")
	}
	var firstErr error
	for _, h := range heads {
		if h.Type != 'd' && h.Type != 'D' && h.Type != 'b' && h.Type != 'B' {
			continue
		}
		mods, err := k.walkModules(h.Addr, listOff, nameOff, stateOff, layout)
		if err == nil {
			return mods, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("linux: no \"modules\" data symbol in kallsyms")
	}
	return nil, firstErr
}

// moduleLayout says where the core base and size are in struct module.
type moduleLayout struct {
	baseOff  uint64   // offset of the text base pointer
	sizeOffs []uint64 // offsets of the unsigned int sizes to add up
}

func (k *Kernel) moduleLayout(b *BTF, mod uint32) (moduleLayout, error) {
	if cl, err := b.MemberOffset(mod, "core_layout"); err == nil {
		t, err := b.MemberType(mod, "core_layout")
		if err != nil {
			return moduleLayout{}, err
		}
		ml := b.resolve(t)
		base, err1 := b.MemberOffset(ml, "base")
		size, err2 := b.MemberOffset(ml, "size")
		if err := errors.Join(err1, err2); err != nil {
			return moduleLayout{}, fmt.Errorf("linux: struct module_layout: %w", err)
		}
		return moduleLayout{baseOff: cl + base, sizeOffs: []uint64{cl + size}}, nil
	}
	// Linux 6.4+: struct module_memory mem[MOD_MEM_NUM_TYPES], the core
	// types being MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT (0-3).
	memOff, err := b.MemberOffset(mod, "mem")
	if err != nil {
		return moduleLayout{}, errors.New("linux: struct module has neither core_layout nor mem[]")
	}
	t, err := b.MemberType(mod, "mem")
	if err != nil {
		return moduleLayout{}, err
	}
	arr := b.resolve(t)
	if arr == 0 || b.types[arr].kind() != btfArray {
		return moduleLayout{}, errors.New("linux: struct module.mem is not an array")
	}
	elem := b.resolve(le.Uint32(b.tdata[b.types[arr].extra:]))
	esize, err := b.Size(elem)
	if err != nil || esize == 0 || esize > maxStructLen {
		return moduleLayout{}, fmt.Errorf("linux: struct module_memory size %d: %v", esize, err)
	}
	base, err1 := b.MemberOffset(elem, "base")
	size, err2 := b.MemberOffset(elem, "size")
	if err := errors.Join(err1, err2); err != nil {
		return moduleLayout{}, fmt.Errorf("linux: struct module_memory: %w", err)
	}
	l := moduleLayout{baseOff: memOff + base}
	for i := range uint64(4) {
		l.sizeOffs = append(l.sizeOffs, memOff+i*esize+size)
	}
	return l, nil
}

func (k *Kernel) walkModules(head, listOff, nameOff, stateOff uint64, l moduleLayout) ([]Module, error) {
	var out []Module
	seen := map[uint64]bool{head: true}
	next, err := k.u64(head)
	if err != nil {
		return nil, fmt.Errorf("linux: reading the modules list head at %#x: %w", head, err)
	}
	for next != head {
		if seen[next] {
			return out, fmt.Errorf("linux: module list loops at %#x", next)
		}
		if len(out) >= maxModules {
			return out, fmt.Errorf("linux: more than %d modules", maxModules)
		}
		seen[next] = true
		m := Module{Address: next - listOff}
		var name [moduleNameLen]byte
		if err := k.read(name[:], m.Address+nameOff); err != nil {
			return out, fmt.Errorf("linux: reading the module at %#x: %w", m.Address, err)
		}
		n := name[:]
		if i := bytes.IndexByte(n, 0); i >= 0 {
			n = n[:i]
		}
		m.Name = string(n)
		if m.State, err = k.u32(m.Address + stateOff); err != nil {
			return out, err
		}
		if m.Base, err = k.u64(m.Address + l.baseOff); err != nil {
			return out, err
		}
		for _, o := range l.sizeOffs {
			s, err := k.u32(m.Address + o)
			if err != nil {
				return out, err
			}
			m.Size += uint64(s)
		}
		out = append(out, m)
		if next, err = k.u64(next); err != nil {
			return out, fmt.Errorf("linux: reading list.next of module %s: %w", m.Name, err)
		}
	}
	return out, nil
}
