package session

import (
	"context"
	hexenc "encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// vmlinuxName is the module a Linux kernel's own image is listed as, as
// crash and the kernel's own traces call it.
const vmlinuxName = "vmlinux"

// linuxModules lists a Linux kernel dump's modules: vmlinux, spanning its
// kallsyms symbols from _text to _end, then the loadable modules of the
// kernel's module list (their core text and data).
func linuxModules(k *linux.Kernel) []model.Module {
	var mods []model.Module
	if syms, err := k.Symbols(); err == nil {
		lo, okLo := syms.Lookup("_text")
		hi, okHi := syms.Lookup("_end")
		if okLo && okHi && hi > lo {
			m := model.Module{Path: vmlinuxName, Base: lo, Size: hi - lo, Version: k.Release()}
			// VMCOREINFO's BUILD-ID is vmlinux's GNU build id: a
			// debuginfod server or /usr/lib/debug can give its DWARF.
			if id, err := hexenc.DecodeString(k.Info("BUILD-ID")); err == nil && len(id) > 0 {
				m.BuildID = id
			}
			mods = append(mods, m)
		}
	}
	if lms, err := k.Modules(); err == nil || len(lms) > 0 {
		for _, lm := range lms {
			if lm.Size > 0 {
				mods = append(mods, model.Module{Path: lm.Name + ".ko", Base: lm.Base, Size: lm.Size})
			}
		}
	}
	return mods
}

// kallsymsProvider names vmlinux's addresses from the kernel's kallsyms
// table, decoded from memory, and a loaded module's from the symbol table
// its struct module keeps: no vmlinux or .ko file is needed.
type kallsymsProvider struct{ k *linux.Kernel }

func (p kallsymsProvider) String() string { return "kallsyms" }

func (p kallsymsProvider) Load(_ context.Context, m model.Module) (symbols.Table, error) {
	if name, ok := strings.CutSuffix(m.Path, ".ko"); ok {
		// A loaded module: its own symbol table, in its struct module.
		syms, ok := p.k.ModuleSyms(name)
		if !ok {
			return nil, fmt.Errorf("kallsyms: module %s's symbol table cannot be read: %w", name, symbols.ErrNoSymbols)
		}
		return &kallsymsTable{all: syms, base: m.Base, end: m.Base + m.Size}, nil
	}
	if m.Path != vmlinuxName {
		return nil, fmt.Errorf("kallsyms: %s is not vmlinux: %w", m.Name(), symbols.ErrNoSymbols)
	}
	syms, err := p.k.Symbols()
	if err != nil {
		return nil, err
	}
	return &kallsymsTable{all: syms.All(), base: m.Base, end: m.Base + m.Size}, nil
}

// kallsymsTable is a symbols.Table over kallsyms: a symbol runs to the
// next one (kallsyms records no sizes).
type kallsymsTable struct {
	all       []linux.Sym // ascending address
	base, end uint64
}

func (t *kallsymsTable) Source() string { return "kallsyms (from memory)" }

func (t *kallsymsTable) LookupRVA(rva uint64) (symbols.Symbol, bool) {
	addr := t.base + rva
	i := sort.Search(len(t.all), func(i int) bool { return t.all[i].Addr > addr }) - 1
	if i < 0 || addr >= t.end {
		return symbols.Symbol{}, false
	}
	return t.symbol(i), true
}

func (t *kallsymsTable) symbol(i int) symbols.Symbol {
	s := t.all[i]
	sym := symbols.Symbol{Name: s.Name, Addr: s.Addr - t.base, Data: isDataType(s.Type)}
	for j := i + 1; j < len(t.all); j++ {
		if t.all[j].Addr > s.Addr {
			sym.Size = t.all[j].Addr - s.Addr
			break
		}
	}
	return sym
}

func (t *kallsymsTable) Symbols(yield func(symbols.Symbol) bool) {
	for i, s := range t.all {
		if s.Addr < t.base || s.Addr >= t.end {
			continue
		}
		if !yield(t.symbol(i)) {
			return
		}
	}
}

// isDataType reports whether an nm type letter names data (not text).
func isDataType(c byte) bool { return strings.IndexByte("dDbBrRgGsSvV", c) >= 0 }
