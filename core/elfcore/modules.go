package elfcore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"math"
	"slices"
	"strings"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// MappedFile is one NT_FILE entry: [Start, End) maps the file Name from
// byte Offset (NT_FILE stores it in pages; this is already multiplied by
// the note's page size).
type MappedFile struct {
	Start, End, Offset uint64
	Name               string
}

// MappedFiles decodes the NT_FILE note: a count and a page size, count
// (start, end, file offset in pages) triples, then count NUL-terminated
// names. ok is false when the core has no NT_FILE or it is malformed.
func (f *File) MappedFiles() (files []MappedFile, ok bool) {
	for _, n := range f.Notes {
		if n.Type == NT_FILE {
			return parseNTFile(n.Desc, f.Header.WordSize(), f.Header.Order)
		}
	}
	return nil, false
}

func parseNTFile(d []byte, ws int, order binary.ByteOrder) ([]MappedFile, bool) {
	word := func(off int) uint64 {
		if ws == 8 {
			return order.Uint64(d[off:])
		}
		return uint64(order.Uint32(d[off:]))
	}
	if len(d) < 2*ws {
		return nil, false
	}
	count, page := word(0), word(ws)
	if count > uint64(len(d)-2*ws)/uint64(3*ws) {
		return nil, false
	}
	names := d[2*ws+int(count)*3*ws:]
	out := make([]MappedFile, 0, count)
	for i := range int(count) {
		j := bytes.IndexByte(names, 0)
		if j < 0 {
			return nil, false
		}
		at := 2*ws + i*3*ws
		off := word(at + 2*ws)
		if page != 0 && off > math.MaxUint64/page {
			off = math.MaxUint64
		} else {
			off *= page
		}
		out = append(out, MappedFile{Start: word(at), End: word(at + ws), Offset: off, Name: string(names[:j])})
		names = names[j+1:]
	}
	return out, true
}

// pseudoFile reports names that are not files on disk ("[vdso]", "[heap]").
func pseudoFile(name string) bool { return name == "" || strings.HasPrefix(name, "[") }

// groupModules groups NT_FILE mappings by name, in order of Base.
func groupModules(files []MappedFile) []model.Module {
	type group struct {
		base, lowest, end uint64
		haveZero          bool
	}
	idx := map[string]*group{}
	var order []string
	for _, m := range files {
		if pseudoFile(m.Name) || m.End < m.Start {
			continue
		}
		g := idx[m.Name]
		if g == nil {
			g = &group{lowest: m.Start, end: m.End}
			idx[m.Name] = g
			order = append(order, m.Name)
		}
		g.lowest = min(g.lowest, m.Start)
		g.end = max(g.end, m.End)
		if m.Offset == 0 && (!g.haveZero || m.Start < g.base) {
			g.base, g.haveZero = m.Start, true
		}
	}
	out := make([]model.Module, 0, len(order))
	for _, name := range order {
		g := idx[name]
		base := g.lowest
		if g.haveZero {
			base = g.base
		}
		out = append(out, model.Module{Base: base, Size: g.end - base, Path: name, DebugFile: name})
	}
	slices.SortStableFunc(out, func(a, b model.Module) int { return cmp.Compare(a.Base, b.Base) })
	return out
}

// Modules returns the mapped files of NT_FILE as modules, the executable
// included and pseudo files such as "[vdso]" skipped. A module's Base is
// the start of its mapping at file offset 0 (else its lowest mapping), Size
// runs to the end of its highest mapping, and Path is the mapped file's
// name. When the core holds the module's ELF header (Linux dumps the first
// page of mapped ELF files by default), BuildID and CodeID (lowercase hex)
// come from its NT_GNU_BUILD_ID note. A core without NT_FILE yields an
// error wrapping model.ErrNotRecorded.
func (f *File) Modules() ([]model.Module, error) {
	files, ok := f.MappedFiles()
	if !ok {
		return nil, errNoNTFile
	}
	mods := groupModules(files)
	space, err := f.Memory()
	if err != nil {
		return mods, nil
	}
	for i := range mods {
		if id := buildID(space, mods[i].Base); len(id) > 0 {
			mods[i].BuildID = id
			mods[i].CodeID = hex.EncodeToString(id)
		}
	}
	return mods, nil
}

var errNoNTFile = &notRecorded{"elfcore: the core has no (valid) NT_FILE note"}

type notRecorded struct{ msg string }

func (e *notRecorded) Error() string { return e.msg }
func (e *notRecorded) Unwrap() error { return model.ErrNotRecorded }

const (
	ntGNUBuildID = 3
	maxNoteRead  = 64 << 10
)

// buildID reads the ELF image whose header is at base in the process's
// memory and returns its NT_GNU_BUILD_ID, or nil. PT_NOTE segments are
// located by p_vaddr relative to the load bias (base minus the page-aligned
// p_vaddr of the lowest PT_LOAD).
func buildID(space mem.Space, base uint64) []byte {
	var ident [64]byte
	if mem.ReadFull(space, ident[:52], base) != nil || !elfx.IsELF(ident[:]) {
		return nil
	}
	var order binary.ByteOrder
	switch ident[5] {
	case elfx.ELFDATA2LSB:
		order = binary.LittleEndian
	case elfx.ELFDATA2MSB:
		order = binary.BigEndian
	default:
		return nil
	}
	is64 := ident[4] == elfx.ELFCLASS64
	if !is64 && ident[4] != elfx.ELFCLASS32 {
		return nil
	}
	var phoff uint64
	var phentsize, phnum int
	if is64 {
		if mem.ReadFull(space, ident[52:64], base+52) != nil {
			return nil
		}
		phoff = order.Uint64(ident[32:])
		phentsize, phnum = int(order.Uint16(ident[54:])), int(order.Uint16(ident[56:]))
	} else {
		phoff = uint64(order.Uint32(ident[28:]))
		phentsize, phnum = int(order.Uint16(ident[42:])), int(order.Uint16(ident[44:]))
	}
	want := 32
	if is64 {
		want = 56
	}
	if phentsize < want || phnum == 0 || phnum > 256 || phoff > math.MaxUint64-base {
		return nil
	}
	ph := make([]byte, phentsize*phnum)
	if mem.ReadFull(space, ph, base+phoff) != nil {
		return nil
	}
	type seg struct{ typ, vaddr, filesz, align uint64 }
	segs := make([]seg, phnum)
	for i := range segs {
		p := ph[i*phentsize:]
		if is64 {
			segs[i] = seg{uint64(order.Uint32(p)), order.Uint64(p[16:]), order.Uint64(p[32:]), order.Uint64(p[48:])}
		} else {
			segs[i] = seg{uint64(order.Uint32(p)), uint64(order.Uint32(p[8:])), uint64(order.Uint32(p[16:])), uint64(order.Uint32(p[28:]))}
		}
	}
	first, found := uint64(0), false
	for _, s := range segs {
		if s.typ == elfx.PT_LOAD && (!found || s.vaddr < first) {
			first, found = s.vaddr, true
		}
	}
	if !found {
		return nil
	}
	first &^= 0xfff // the header's page; segment alignment is at least a page
	bias := base - first
	for _, s := range segs {
		if s.typ != elfx.PT_NOTE || s.filesz == 0 || s.filesz > maxNoteRead {
			continue
		}
		buf := make([]byte, s.filesz)
		if mem.ReadFull(space, buf, bias+s.vaddr) != nil {
			continue
		}
		notes, _ := elfx.ParseNotes(buf, 0, order)
		for _, n := range notes {
			if n.Name == "GNU" && n.Type == ntGNUBuildID && len(n.Desc) > 0 {
				return bytes.Clone(n.Desc)
			}
		}
	}
	return nil
}
