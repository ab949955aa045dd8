package linux

import (
	"errors"
	"fmt"
	"sort"
	"sync"
)

// A module's symbols are not in /proc/kallsyms's static table (which is
// vmlinux's): each struct module keeps its own, in kallsyms (struct
// mod_kallsyms: an Elf64_Sym array, its count, and the string table; the
// offsets from BTF). They name the frames of modules that the unwinder
// reaches, as crash prints them: "function+0xoff [module]".

// maxModuleSymbols bounds one module's table read from a damaged dump.
const maxModuleSymbols = 1 << 20

type modSym struct {
	addr, size uint64
	name       string
}

type modSymTable struct {
	base, end uint64 // the module's core text
	module    string
	syms      []modSym // by address
}

type moduleSymbols struct {
	once   sync.Once
	tables []modSymTable
	err    error
}

// ModuleSymbol names pc as "function+0xoff [module]" from the symbol
// table of the loaded module holding it.
func (k *Kernel) ModuleSymbol(pc uint64) (string, bool) {
	for _, t := range k.moduleSymbolTables() {
		if pc < t.base || pc >= t.end {
			continue
		}
		i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].addr > pc }) - 1
		if i < 0 {
			return "", false
		}
		s := t.syms[i]
		return fmt.Sprintf("%s+%#x [%s]", s.name, pc-s.addr, t.module), true
	}
	return "", false
}

// moduleSymbolTables reads the modules' tables on first use.
func (k *Kernel) moduleSymbolTables() []modSymTable {
	ms := &k.modSyms
	ms.once.Do(func() { ms.tables, ms.err = k.readModuleSymbols() })
	return ms.tables
}

func (k *Kernel) readModuleSymbols() ([]modSymTable, error) {
	b, err := k.BTF()
	if err != nil {
		return nil, err
	}
	mod, ok1 := b.Struct("module")
	mk, ok2 := b.Struct("mod_kallsyms")
	if !ok1 || !ok2 {
		return nil, errors.New("linux: BTF has no struct module or mod_kallsyms")
	}
	ksOff, err1 := b.MemberOffset(mod, "kallsyms")
	symtabOff, err2 := b.MemberOffset(mk, "symtab")
	numOff, err3 := b.MemberOffset(mk, "num_symtab")
	strtabOff, err4 := b.MemberOffset(mk, "strtab")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	mods, err := k.Modules()
	var out []modSymTable
	for _, m := range mods {
		ks, err := k.u64(m.Address + ksOff)
		if err != nil || ks == 0 {
			continue
		}
		symtab, err1 := k.u64(ks + symtabOff)
		n, err2 := k.u32(ks + numOff)
		strtab, err3 := k.u64(ks + strtabOff)
		if errors.Join(err1, err2, err3) != nil || n == 0 || n > maxModuleSymbols {
			continue
		}
		raw, err := k.readBytes(symtab, uint64(n)*24, maxModuleSymbols*24, m.Name+" symbols")
		if err != nil {
			continue
		}
		t := modSymTable{base: m.Base, end: m.Base + m.Size, module: m.Name}
		for i := range int(n) {
			e := raw[24*i:]
			name, info := le.Uint32(e), e[4]
			value, size := le.Uint64(e[8:]), le.Uint64(e[16:])
			if info&0xf != 2 || value < t.base || value >= t.end { // STT_FUNC in the core text
				continue
			}
			if s, err := k.cString(strtab+uint64(name), 256); err == nil && s != "" {
				t.syms = append(t.syms, modSym{addr: value, size: size, name: s})
			}
		}
		sort.Slice(t.syms, func(i, j int) bool { return t.syms[i].addr < t.syms[j].addr })
		out = append(out, t)
	}
	return out, err
}

// cString reads a NUL-terminated string of at most max bytes at va, a
// chunk at a time so that a string near the end of a mapped page does not
// need the next page.
func (k *Kernel) cString(va uint64, max int) (string, error) {
	var out []byte
	var chunk [32]byte
	for len(out) < max {
		n := len(chunk) - int(va%uint64(len(chunk))) // stay inside an aligned chunk, so inside a page
		if err := k.read(chunk[:n], va); err != nil {
			return "", err
		}
		for _, c := range chunk[:n] {
			if c == 0 {
				return string(out), nil
			}
			out = append(out, c)
		}
		va += uint64(n)
	}
	return "", fmt.Errorf("linux: string at %#x is longer than %d bytes", va, max)
}

// ModuleSyms returns a loaded module's function symbols, by address, from
// its own symbol table; false when the module or its table is unknown.
func (k *Kernel) ModuleSyms(module string) ([]Sym, bool) {
	for _, t := range k.moduleSymbolTables() {
		if t.module != module {
			continue
		}
		out := make([]Sym, len(t.syms))
		for i, s := range t.syms {
			out[i] = Sym{Addr: s.addr, Name: s.name, Type: 't'}
		}
		return out, len(out) > 0
	}
	return nil, false
}
