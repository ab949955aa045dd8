package linux

import (
	"errors"
	"fmt"
	"sort"
)

// Symbol table limits: allyesconfig kernels have about 400k symbols.
const (
	maxSyms       = 1 << 22
	maxSymNameLen = 1 << 14
	namesChunk    = 1 << 16
)

// Sym is one kallsyms entry.
type Sym struct {
	Name string
	Addr uint64
	Type byte // nm-style type letter: 'T' text, 'D' data, 'b' local bss, ...
}

// Symbols is the kernel's own symbol table (kallsyms), decoded from memory.
type Symbols struct {
	byAddr []Sym            // sorted by address (stable: kallsyms order among equals)
	byName map[string]int32 // first symbol of each name, as index into byAddr
	// AbsolutePercpu says how kallsyms_offsets were read: true for
	// CONFIG_KALLSYMS_ABSOLUTE_PERCPU (non-negative offsets are absolute
	// per-cpu addresses, negative ones relative_base-1-offset), false for
	// plain base-relative offsets (relative_base+offset).
	AbsolutePercpu bool
}

// Len returns the number of symbols.
func (s *Symbols) Len() int { return len(s.byAddr) }

// All returns the symbols in address order; the slice must not be modified.
func (s *Symbols) All() []Sym { return s.byAddr }

// Lookup returns the address of the first symbol called name.
func (s *Symbols) Lookup(name string) (uint64, bool) {
	i, ok := s.byName[name]
	if !ok {
		return 0, false
	}
	return s.byAddr[i].Addr, true
}

// Nearest returns the symbol at or before addr (the last of several at the
// same address in kallsyms order) and addr's offset from it.
func (s *Symbols) Nearest(addr uint64) (Sym, uint64, bool) {
	i := sort.Search(len(s.byAddr), func(i int) bool { return s.byAddr[i].Addr > addr })
	if i == 0 {
		return Sym{}, 0, false
	}
	sym := s.byAddr[i-1]
	return sym, addr - sym.Addr, true
}

// Symbols returns the kernel's symbol table, decoded on first use from the
// kallsyms tables VMCOREINFO points at (SYMBOL(kallsyms_names),
// kallsyms_num_syms, kallsyms_token_table, kallsyms_token_index and
// kallsyms_offsets with kallsyms_relative_base, or kallsyms_addresses).
func (k *Kernel) Symbols() (*Symbols, error) {
	k.symsOnce.Do(func() { k.syms, k.symsErr = k.loadKallsyms() })
	return k.syms, k.symsErr
}

// Lookup returns a symbol's address from kallsyms, or failing that from
// VMCOREINFO's SYMBOL() entries.
func (k *Kernel) Lookup(name string) (uint64, bool) {
	if s, err := k.Symbols(); err == nil {
		if a, ok := s.Lookup(name); ok {
			return a, true
		}
	}
	return k.Symbol(name)
}

func (k *Kernel) loadKallsyms() (*Symbols, error) {
	sym := func(n string) (uint64, error) {
		v, ok := k.Symbol(n)
		if !ok {
			return 0, fmt.Errorf("linux: VMCOREINFO lacks SYMBOL(%s): no kallsyms", n)
		}
		return v, nil
	}
	numA, err := sym("kallsyms_num_syms")
	if err != nil {
		return nil, err
	}
	namesA, err := sym("kallsyms_names")
	if err != nil {
		return nil, err
	}
	tabA, err := sym("kallsyms_token_table")
	if err != nil {
		return nil, err
	}
	idxA, err := sym("kallsyms_token_index")
	if err != nil {
		return nil, err
	}
	num, err := k.u32(numA)
	if err != nil {
		return nil, fmt.Errorf("linux: reading kallsyms_num_syms: %w", err)
	}
	if num == 0 || num > maxSyms {
		return nil, fmt.Errorf("linux: kallsyms_num_syms = %d is implausible", num)
	}
	// Token table: 256 NUL-terminated strings at the offsets of the index.
	idxRaw, err := k.readBytes(idxA, 512, 512, "kallsyms_token_index")
	if err != nil {
		return nil, err
	}
	var maxIdx uint64
	for i := range 256 {
		maxIdx = max(maxIdx, uint64(le.Uint16(idxRaw[2*i:])))
	}
	tabLen := maxIdx + 256
	if idxA > tabA && idxA-tabA > maxIdx && idxA-tabA < 1<<16 {
		tabLen = idxA - tabA
	}
	tab, err := k.readPartial(tabA, tabLen)
	if err != nil {
		return nil, fmt.Errorf("linux: reading kallsyms_token_table: %w", err)
	}
	var tokens [256][]byte
	for i := range 256 {
		o := uint64(le.Uint16(idxRaw[2*i:]))
		if o >= uint64(len(tab)) {
			return nil, fmt.Errorf("linux: kallsyms_token_index[%d] = %d lies outside the token table", i, o)
		}
		end := o
		for end < uint64(len(tab)) && tab[end] != 0 {
			end++
		}
		tokens[i] = tab[o:end]
	}
	// Addresses.
	addrs, absPercpu, err := k.kallsymsAddrs(int(num))
	if err != nil {
		return nil, err
	}
	// Names: a length byte (two bytes, little-endian 7-bit groups, when the
	// first has bit 7 set, Linux 6.1+), then that many token indices.
	s := &Symbols{byAddr: make([]Sym, 0, min(num, 1<<16)), byName: map[string]int32{}, AbsolutePercpu: absPercpu}
	nr := &chunkReader{k: k, addr: namesA, limit: uint64(num) * (2 + maxSymNameLen)}
	var name []byte
	for i := range int(num) {
		b0, err := nr.byte()
		if err != nil {
			return nil, fmt.Errorf("linux: kallsyms_names entry %d: %w", i, err)
		}
		n := int(b0)
		if b0&0x80 != 0 {
			b1, err := nr.byte()
			if err != nil {
				return nil, fmt.Errorf("linux: kallsyms_names entry %d: %w", i, err)
			}
			n = int(b0&0x7f) | int(b1)<<7
		}
		if n == 0 {
			return nil, fmt.Errorf("linux: kallsyms_names entry %d is empty", i)
		}
		name = name[:0]
		for range n {
			t, err := nr.byte()
			if err != nil {
				return nil, fmt.Errorf("linux: kallsyms_names entry %d: %w", i, err)
			}
			name = append(name, tokens[t]...)
			if len(name) > maxSymNameLen {
				return nil, fmt.Errorf("linux: kallsyms_names entry %d is longer than %d bytes", i, maxSymNameLen)
			}
		}
		if len(name) < 2 {
			return nil, fmt.Errorf("linux: kallsyms_names entry %d (%q) has no name after its type", i, name)
		}
		s.byAddr = append(s.byAddr, Sym{Name: string(name[1:]), Addr: addrs[i], Type: name[0]})
	}
	sort.SliceStable(s.byAddr, func(i, j int) bool { return s.byAddr[i].Addr < s.byAddr[j].Addr })
	for i, sy := range s.byAddr {
		if _, ok := s.byName[sy.Name]; !ok {
			s.byName[sy.Name] = int32(i)
		}
	}
	// Cross-check: kallsyms must agree with VMCOREINFO on _stext.
	if want, ok := k.Symbol("_stext"); ok {
		if got, ok := s.Lookup("_stext"); !ok || got != want {
			return nil, fmt.Errorf("linux: kallsyms gives _stext = %#x, VMCOREINFO %#x: tables misread", got, want)
		}
	}
	return s, nil
}

// kallsymsAddrs returns the symbols' addresses: kallsyms_addresses when
// VMCOREINFO has it, else kallsyms_offsets from kallsyms_relative_base,
// choosing between the absolute-percpu and plain base-relative readings by
// which one puts _stext where VMCOREINFO says it is.
func (k *Kernel) kallsymsAddrs(num int) ([]uint64, bool, error) {
	if a, ok := k.Symbol("kallsyms_addresses"); ok {
		raw, err := k.readBytes(a, uint64(num)*8, maxSyms*8, "kallsyms_addresses")
		if err != nil {
			return nil, false, err
		}
		out := make([]uint64, num)
		for i := range out {
			out[i] = le.Uint64(raw[8*i:])
		}
		return out, false, nil
	}
	offA, ok := k.Symbol("kallsyms_offsets")
	if !ok {
		return nil, false, errors.New("linux: VMCOREINFO lacks SYMBOL(kallsyms_offsets) and SYMBOL(kallsyms_addresses)")
	}
	baseA, ok := k.Symbol("kallsyms_relative_base")
	if !ok {
		return nil, false, errors.New("linux: VMCOREINFO lacks SYMBOL(kallsyms_relative_base)")
	}
	base, err := k.u64(baseA)
	if err != nil {
		return nil, false, fmt.Errorf("linux: reading kallsyms_relative_base: %w", err)
	}
	raw, err := k.readBytes(offA, uint64(num)*4, maxSyms*4, "kallsyms_offsets")
	if err != nil {
		return nil, false, err
	}
	abs := make([]uint64, num)
	rel := make([]uint64, num)
	for i := range num {
		o := int32(le.Uint32(raw[4*i:]))
		if o >= 0 {
			abs[i] = uint64(o)
		} else {
			abs[i] = base - 1 - uint64(int64(o))
		}
		rel[i] = base + uint64(uint32(o))
	}
	// Without _stext to decide, x86-64 SMP kernels up to 6.14 use
	// absolute per-cpu: prefer it when the first address (per-cpu
	// symbols come first) is small.
	stext, ok := k.Symbol("_stext")
	if !ok {
		return abs, true, nil
	}
	for _, a := range abs {
		if a == stext {
			return abs, true, nil
		}
	}
	return rel, false, nil
}

// readPartial reads up to n bytes at va, returning the readable prefix
// (at least one byte).
func (k *Kernel) readPartial(va, n uint64) ([]byte, error) {
	b := make([]byte, n)
	got, err := k.virt.ReadMemory(b, va)
	if got == 0 {
		return nil, err
	}
	return b[:got], nil
}

// chunkReader reads kernel memory a byte at a time through a buffer.
type chunkReader struct {
	k     *Kernel
	addr  uint64 // address of buf[0]
	buf   []byte
	pos   int
	total uint64
	limit uint64
}

func (c *chunkReader) byte() (byte, error) {
	if c.pos >= len(c.buf) {
		if c.total >= c.limit {
			return 0, errors.New("linux: table is longer than its entry count allows")
		}
		next := c.addr + uint64(len(c.buf))
		b, err := c.k.readPartial(next, namesChunk)
		if err != nil {
			return 0, err
		}
		c.addr, c.buf, c.pos = next, b, 0
		c.total += uint64(len(b))
	}
	b := c.buf[c.pos]
	c.pos++
	return b, nil
}

// LookupAll returns every symbol called name (static symbols of different
// files may share one), in address order.
func (s *Symbols) LookupAll(name string) []Sym {
	i, ok := s.byName[name]
	if !ok {
		return nil
	}
	var out []Sym
	for _, sy := range s.byAddr[i:] {
		if sy.Name == name {
			out = append(out, sy)
		}
	}
	return out
}
