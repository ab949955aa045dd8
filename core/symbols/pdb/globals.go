package pdb

import (
	"encoding/binary"
	"sync/atomic"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/symbols/ctype"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Global is a data symbol: an S_GDATA32 or S_LDATA32 (a static) record,
// or their thread-local S_GTHREAD32 and S_LTHREAD32 forms, from the
// global symbol record stream or from a module symbol stream, at module
// scope or inside a procedure (a function's static local, InProc).
type Global struct {
	Name    string // undecorated, qualified: "std::exception::`vftable'"
	Type    uint32 // CodeView type index, for Types.ByIndex
	Segment uint16 // 1-based section number
	Offset  uint32
	// RVA is the data's address in the image. Thread-local data has none
	// (HasRVA false): its Offset is into the module's TLS block.
	RVA    uint32
	HasRVA bool
	Thread bool // S_GTHREAD32 or S_LTHREAD32
	Local  bool // S_LDATA32 or S_LTHREAD32: not visible outside its module
	// InProc marks a function's static local; Proc names the procedure
	// (when a procedure, not a thunk or block, encloses it).
	InProc bool
	Proc   string
	// Module is the index in DBI.Modules of the module whose symbol
	// stream has the record, -1 when only the global stream has it.
	Module int
}

func isDataSym(kind uint16) bool {
	switch kind {
	case sLData32, sGData32, sLThread32, sGThread32:
		return true
	}
	return false
}

// opensScope reports the symbol kinds that open a scope closed by S_END
// (or S_PROC_ID_END, S_INLINESITE_END), each with Parent and End
// pointers as its first two fields.
func opensScope(kind uint16) bool {
	switch kind {
	case sGProc32, sLProc32, sGProc32ID, sLProc32ID, sThunk32, sBlock32, sWith32, sSepCode,
		sInlineSite, sInlineSite2, sGManProc, sLManProc:
		return true
	}
	return false
}

// readDataSym decodes a DATASYM32 (or THREADSYM32, the same layout):
// type index, offset, segment, name.
func readDataSym(d *DBI, kind uint16, data []byte) (Global, bool) {
	c := bin.New(data, 0, binary.LittleEndian)
	g := Global{Type: c.U32(), Offset: c.U32(), Segment: c.U16()}
	g.Name = bin.CString(c.Bytes(c.Len()))
	if c.Err() != nil || g.Name == "" {
		return Global{}, false
	}
	g.Thread = kind == sLThread32 || kind == sGThread32
	g.Local = kind == sLData32 || kind == sLThread32
	if !g.Thread {
		g.RVA, g.HasRVA = d.RVA(g.Segment, g.Offset)
	}
	return g, true
}

// Globals returns the data symbols: those of the global symbol record
// stream in stream order, then those only module symbol streams have
// (file-scope statics and functions' static locals), module by module. A record both have is listed once,
// with the module's index. S_CONSTANT records (values, not addresses)
// are not read. The error is the first that reading either kind of
// stream met, with everything read.
func (f *File) Globals() ([]Global, error) { return f.globals() }

func (f *File) readGlobals() ([]Global, error) {
	sr, err1 := f.symRecords()
	ms, err2 := f.modSyms()
	if err1 == nil {
		err1 = err2
	}
	type key struct {
		name string
		seg  uint16
		off  uint32
	}
	out := make([]Global, 0, len(sr.data)+len(ms.data))
	out = append(out, sr.data...)
	at := make(map[key]int, len(out))
	for i, g := range out {
		if _, ok := at[key{g.Name, g.Segment, g.Offset}]; !ok {
			at[key{g.Name, g.Segment, g.Offset}] = i
		}
	}
	for _, g := range ms.data {
		k := key{g.Name, g.Segment, g.Offset}
		if i, ok := at[k]; ok {
			if out[i].Module < 0 {
				out[i].Module = g.Module
				out[i].InProc, out[i].Proc = g.InProc, g.Proc
			}
			continue
		}
		at[k] = len(out)
		out = append(out, g)
	}
	return out, err1
}

// dataIndex is the Table's view of the global data: entries (in
// Table.data) whose sizes come from their types on first need.
type dataIndex struct {
	sizes  []atomic.Uint32 // size+1 once known, 0 before
	byName func() map[string]Global
}

// dataSize returns the size of data entry i: its type's size, 0 when the
// type is unknown or has none. Types are read on the first call.
func (t *Table) dataSize(i int) uint32 {
	if v := t.dx.sizes[i].Load(); v != 0 {
		return v - 1
	}
	var n uint32
	if ty, err := t.file.Types(); err == nil {
		if x := ty.ByIndex(t.data[i].ti); x != nil && x.Size < 1<<32-1 {
			n = uint32(x.Size)
		}
	}
	t.dx.sizes[i].Store(n + 1)
	return n
}

// dataSymbol returns data entry i as a Symbol, with its size.
func (t *Table) dataSymbol(i int) symtab.Symbol {
	s := t.data[i].symbol()
	s.Size = uint64(t.dataSize(i))
	s.Data = true
	return s
}

// GlobalType returns the type and RVA of the global data named name (as
// the PDB spells it: "__security_cookie", "std::exception::`vftable'"),
// for showing its value (dt module!name). Of several with one name a
// global (S_GDATA32) wins over a file-scope static, which wins over a
// function's static local, then the first in Globals' order;
// thread-local data, having no RVA, is not found. The types and the name
// index are read on the first call.
func (t *Table) GlobalType(name string) (*ctype.Type, uint64, bool) {
	g, ok := t.dx.byName()[name]
	if !ok {
		return nil, 0, false
	}
	ty, err := t.file.Types()
	if err != nil {
		return nil, 0, false
	}
	return ty.ByIndex(g.Type), uint64(g.RVA), true
}

// rank orders globals of one name for GlobalType: lower wins.
func rank(g Global) int {
	switch {
	case g.InProc:
		return 2
	case g.Local:
		return 1
	}
	return 0
}

// globalNames indexes the file's global data with an RVA by name,
// preferring S_GDATA32 records.
func (t *Table) globalNames() map[string]Global {
	gs, _ := t.file.Globals()
	m := make(map[string]Global, len(gs))
	for _, g := range gs {
		if !g.HasRVA {
			continue
		}
		if h, ok := m[g.Name]; ok && rank(g) >= rank(h) {
			continue
		}
		m[g.Name] = g
	}
	return m
}
