package pdb

import (
	"encoding/binary"
	"errors"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// Public is an S_PUB32 record of the global symbol record stream: a
// linker (decorated) name at a segment:offset.
type Public struct {
	Name    string // as the linker saw it: "?FxStubInitTypes@@YAJXZ"
	Flags   uint32 // PubCode, PubFunction, …
	Segment uint16 // 1-based section number
	Offset  uint32
	RVA     uint32 // 0 with HasRVA false when the address maps to no section
	HasRVA  bool
}

// Proc is a procedure (S_GPROC32, S_LPROC32 or their _ID forms) of a
// module symbol stream, with its code size.
type Proc struct {
	Name     string // undecorated: "FxStubInitTypes"
	Module   int    // index in DBI.Modules
	Global   bool   // S_GPROC32[_ID] rather than S_LPROC32[_ID]
	Segment  uint16
	Offset   uint32
	CodeSize uint32 // in the original image
	RVA      uint32
	Size     uint32 // in the final image: CodeSize, or stretched by OMAP
	HasRVA   bool
}

// records walks CodeView symbol records (uint16 length, uint16 kind,
// payload) and calls fn with each kind and payload; it stops at the first
// record that overruns the data and reports it.
func records(b []byte, stream int, base int64, fn func(kind uint16, off int, data []byte)) error {
	le := binary.LittleEndian
	pos := 0
	for len(b)-pos >= 4 {
		n := int(le.Uint16(b[pos:]))
		if n < 2 || pos+2+n > len(b) {
			return errAt(stream, base+int64(pos), "symbol record overruns its stream", nil)
		}
		fn(le.Uint16(b[pos+2:]), pos, b[pos+4:pos+2+n])
		pos += 2 + n
	}
	return nil
}

// Publics returns the S_PUB32 records of the global symbol record stream
// in stream order, read on first use.
func (f *File) Publics() ([]Public, error) {
	r, err := f.symRecords()
	return r.pubs, err
}

// symRecords is what one walk of the global symbol record stream keeps:
// the publics and the global data records (globals.go).
type symRecords struct {
	pubs []Public
	data []Global
}

func (f *File) readSymRecords() (symRecords, error) {
	var r symRecords
	d, err := f.DBI()
	if err != nil {
		return r, err
	}
	if d.SymRecordStream < 0 {
		return r, nil
	}
	b, err := f.msf.stream(d.SymRecordStream)
	if err != nil {
		return r, err
	}
	err = records(b, d.SymRecordStream, 0, func(kind uint16, _ int, data []byte) {
		if isDataSym(kind) {
			if g, ok := readDataSym(d, kind, data); ok {
				g.Module = -1
				r.data = append(r.data, g)
			}
			return
		}
		if kind != sPub32 {
			return
		}
		c := bin.New(data, 0, binary.LittleEndian)
		p := Public{Flags: c.U32(), Offset: c.U32(), Segment: c.U16()}
		p.Name = bin.CString(c.Bytes(c.Len()))
		if c.Err() != nil {
			return
		}
		p.RVA, p.HasRVA = d.RVA(p.Segment, p.Offset)
		r.pubs = append(r.pubs, p)
	})
	return r, err
}

// Procs returns the procedures of every module symbol stream, module by
// module in stream order, read on first use. Public (stripped) PDBs have
// few or none. A module whose stream is broken is skipped; the error of
// the first such module is returned with everything read.
func (f *File) Procs() ([]Proc, error) {
	m, err := f.modSyms()
	return m.procs, err
}

// modSyms is what one walk of the module symbol streams keeps: the
// procedures and the data records at module scope (globals.go).
type modSyms struct {
	procs []Proc
	data  []Global
}

func (f *File) readModSyms() (modSyms, error) {
	var out modSyms
	d, err := f.DBI()
	if err != nil {
		return out, err
	}
	var procs []Proc
	var errs []error
	// Streams share blocks in a hostile file, so distinct modules could
	// name streams that decode to far more than the file holds: read each
	// stream once, and no more module bytes in all than the file has.
	seen := map[int]bool{}
	budget := f.msf.size
	for mi, m := range d.Modules {
		if m.SymStream < 0 || m.SymSize < 4 || seen[m.SymStream] {
			continue
		}
		seen[m.SymStream] = true
		var n int64
		if m.SymStream < len(f.msf.streams) {
			n = int64(f.msf.streams[m.SymStream].size)
		}
		if n > budget {
			errs = append(errs, errAt(m.SymStream, 0, "module streams exceed the file size in all", nil))
			break
		}
		budget -= n
		b, err := f.msf.stream(m.SymStream)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if uint64(m.SymSize) > uint64(len(b)) {
			errs = append(errs, errAt(m.SymStream, 0, "module symbols larger than the stream", nil))
			continue
		}
		if binary.LittleEndian.Uint32(b) != cvSignatureC13 {
			continue // C7/C11 symbols: not read
		}
		// scopeEnd is the stream offset of the S_END closing the
		// outermost scope (procedure, thunk, block) being walked, and
		// scope that procedure's name: data records before scopeEnd are
		// static locals.
		var scopeEnd uint32
		var scope string
		err = records(b[4:m.SymSize], m.SymStream, 4, func(kind uint16, pos int, data []byte) {
			off := uint32(pos) + 4
			if isDataSym(kind) {
				if g, ok := readDataSym(d, kind, data); ok {
					g.Module = mi
					if off < scopeEnd {
						g.Proc = scope
						g.InProc = true
					}
					out.data = append(out.data, g)
				}
				return
			}
			top := off >= scopeEnd
			if opensScope(kind) && top && len(data) >= 8 {
				if end := binary.LittleEndian.Uint32(data[4:]); end > off {
					scopeEnd, scope = end, ""
				}
			}
			switch kind {
			case sGProc32, sLProc32, sGProc32ID, sLProc32ID:
			default:
				return
			}
			c := bin.New(data, 0, binary.LittleEndian)
			c.Skip(12) // Parent, End, Next
			p := Proc{Module: mi, Global: kind == sGProc32 || kind == sGProc32ID}
			p.CodeSize = c.U32()
			c.Skip(12) // DbgStart, DbgEnd, FunctionType
			p.Offset = c.U32()
			p.Segment = c.U16()
			c.U8() // flags
			p.Name = bin.CString(c.Bytes(c.Len()))
			if c.Err() != nil {
				return
			}
			p.RVA, p.HasRVA = d.RVA(p.Segment, p.Offset)
			p.Size = d.omapSize(p.Segment, p.Offset, p.CodeSize, p.RVA)
			procs = append(procs, p)
			if top {
				scope = p.Name
			}
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	out.procs = procs
	return out, errors.Join(errs...)
}
