package elfcore

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"io"
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
	files, page, ok := parseNTFileWords(d, ws, order)
	if ok && plausibleNTFile(files, page) || ws != 4 {
		return files, ok
	}
	// Some 32-bit MIPS cores carry an NT_FILE written with 64-bit fields
	// (the kernel's compat path for o32 on a 64-bit kernel): read as
	// 32-bit words it holds no page size and no sane mapping.
	if wide, page, ok := parseNTFileWords(d, 8, order); ok && plausibleNTFile(wide, page) {
		return wide, true
	}
	return files, ok
}

// plausibleNTFile reports whether a parse of NT_FILE looks like what the
// kernel writes: a power-of-two page size and non-empty mappings.
func plausibleNTFile(files []MappedFile, page uint64) bool {
	if page < 512 || page > 1<<30 || page&(page-1) != 0 {
		return false
	}
	for _, m := range files {
		if m.End <= m.Start {
			return false
		}
	}
	return true
}

// parseNTFileWords parses NT_FILE with ws-byte fields: count, page size,
// count × (start, end, file offset in pages), then the names.
func parseNTFileWords(d []byte, ws int, order binary.ByteOrder) ([]MappedFile, uint64, bool) {
	word := func(off int) uint64 {
		if ws == 8 {
			return order.Uint64(d[off:])
		}
		return uint64(order.Uint32(d[off:]))
	}
	if len(d) < 2*ws {
		return nil, 0, false
	}
	count, page := word(0), word(ws)
	if count > uint64(len(d)-2*ws)/uint64(3*ws) {
		return nil, 0, false
	}
	names := d[2*ws+int(count)*3*ws:]
	out := make([]MappedFile, 0, count)
	for i := range int(count) {
		j := bytes.IndexByte(names, 0)
		if j < 0 {
			return nil, 0, false
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
	return out, page, true
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
// included and pseudo files such as "[vdso]" skipped, and the vDSO (see
// below). A module's Base is the start of its mapping at file offset 0
// (else its lowest mapping), Size runs to the end of its highest mapping,
// and Path is the mapped file's name. When the core holds the module's ELF
// header (Linux dumps the first page of mapped ELF files by default),
// BuildID and CodeID (lowercase hex) come from its NT_GNU_BUILD_ID note.
//
// The vDSO has no NT_FILE entry (it is no file), but the kernel always
// dumps it whole (a private mapping the process cannot write): its Base is
// AT_SYSINFO_EHDR from NT_AUXV (FreeBSD: AT_KPRELOAD from
// NT_PROCSTAT_AUXV), its Size runs to the end of its last PT_LOAD read
// from the ELF header in memory, and its Path is its DT_SONAME
// ("linux-vdso.so.1" on x86-64 and arm64, "linux-gate.so.1" on i386):
// the name ldd prints, glibc's link map holds and drgn reports (gdb lists
// no name; its "info proc mappings" says [vdso]).
//
// A core with neither NT_FILE nor a vDSO yields an error wrapping
// model.ErrNotRecorded; FreeBSD cores, which have no NT_FILE, yield the
// vDSO alone.
func (f *File) Modules() ([]model.Module, error) {
	files, ok := f.MappedFiles()
	var mods []model.Module
	if ok {
		mods = groupModules(files)
	}
	space, err := f.Memory()
	if err != nil {
		if !ok {
			return nil, errNoNTFile
		}
		return mods, nil
	}
	for i := range mods {
		if id := buildID(space, mods[i].Base); len(id) > 0 {
			mods[i].BuildID = id
			mods[i].CodeID = hex.EncodeToString(id)
		}
	}
	if v, found := f.vdsoModule(space); found && !overlaps(mods, v) {
		mods = append(mods, v)
		slices.SortStableFunc(mods, func(a, b model.Module) int { return cmp.Compare(a.Base, b.Base) })
	} else if !ok {
		return nil, errNoNTFile
	}
	return mods, nil
}

// vdsoCount is 1 when the core holds a vDSO Modules lists, else 0: Info
// counts it among the modules.
func (f *File) vdsoCount() int {
	space, err := f.Memory()
	if err != nil {
		return 0
	}
	if _, ok := f.vdsoModule(space); ok {
		return 1
	}
	return 0
}

func overlaps(mods []model.Module, m model.Module) bool {
	for _, o := range mods {
		if m.Base < o.Base+o.Size && o.Base < m.Base+m.Size {
			return true
		}
	}
	return false
}

var errNoNTFile = &notRecorded{"elfcore: the core has no (valid) NT_FILE note"}

type notRecorded struct{ msg string }

func (e *notRecorded) Error() string { return e.msg }
func (e *notRecorded) Unwrap() error { return model.ErrNotRecorded }

const (
	ntGNUBuildID = 3
	maxNoteRead  = 64 << 10

	// maxHeaderRead bounds the program headers read from memory: the
	// ELF header and its program headers lie in the image's first page,
	// and 64 KiB holds over a thousand of them.
	maxHeaderRead = 64 << 10
	// maxVDSOSize bounds the vDSO's extent: real ones are two to eight
	// pages; anything larger is a corrupt header, not a vDSO.
	maxVDSOSize = 16 << 20
	pageMask    = 0xfff

	ptDynamic = 2
	dtNull    = 0
	dtStrtab  = 5
	dtStrsz   = 10
	dtSoname  = 14

	// FreeBSD's auxiliary vector note and its vDSO entry
	// (sys/sys/elf_common.h: NT_PROCSTAT_AUXV, AT_KPRELOAD "base of vdso").
	ntProcstatAuxv = 16
	atKPreload     = 34
)

// memImage is the header of an ELF image read from a process's memory.
type memImage struct {
	h        *elfx.Header
	progs    []elfx.Prog
	linkBase uint64 // lowest PT_LOAD p_vaddr, page aligned
	bias     uint64 // address = bias + p_vaddr
}

// memReaderAt reads memory at base+off: elfx's file readers then parse an
// ELF image where it is mapped.
type memReaderAt struct {
	space mem.Reader
	base  uint64
}

func (r memReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || uint64(off) > math.MaxUint64-r.base {
		return 0, io.EOF
	}
	if err := mem.ReadFull(r.space, p, r.base+uint64(off)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// readMemImage reads the ELF header and program headers of the image
// whose header is at base. It needs at least one PT_LOAD.
func readMemImage(space mem.Reader, base uint64) (*memImage, bool) {
	r := memReaderAt{space, base}
	h, err := elfx.ReadHeader(r, maxHeaderRead)
	if err != nil {
		return nil, false
	}
	progs, err := elfx.ReadProgs(r, maxHeaderRead, h)
	if err != nil {
		return nil, false
	}
	im := &memImage{h: h, progs: progs}
	found := false
	for _, p := range progs {
		if p.Type == elfx.PT_LOAD && (!found || p.Vaddr < im.linkBase) {
			im.linkBase, found = p.Vaddr, true
		}
	}
	if !found {
		return nil, false
	}
	im.linkBase &^= pageMask // the header's page; segment alignment is at least a page
	im.bias = base - im.linkBase
	return im, true
}

// buildID reads the ELF image whose header is at base in the process's
// memory and returns its NT_GNU_BUILD_ID, or nil. PT_NOTE segments are
// located by p_vaddr relative to the load bias (base minus the page-aligned
// p_vaddr of the lowest PT_LOAD).
func buildID(space mem.Space, base uint64) []byte {
	im, ok := readMemImage(space, base)
	if !ok {
		return nil
	}
	for _, s := range im.progs {
		if s.Type != elfx.PT_NOTE || s.Filesz == 0 || s.Filesz > maxNoteRead {
			continue
		}
		buf := make([]byte, s.Filesz)
		if mem.ReadFull(space, buf, im.bias+s.Vaddr) != nil {
			continue
		}
		notes, _ := elfx.ParseNotes(buf, 0, im.h.Order)
		for _, n := range notes {
			if n.Name == "GNU" && n.Type == ntGNUBuildID && len(n.Desc) > 0 {
				return bytes.Clone(n.Desc)
			}
		}
	}
	return nil
}

// vdsoModule returns the vDSO as a module (see Modules). Its ELF header
// must match the core's class, byte order and machine, be ET_DYN, and its
// PT_LOADs must end within maxVDSOSize of its base.
func (f *File) vdsoModule(space mem.Space) (model.Module, bool) {
	var base uint64
	name := "linux-vdso.so.1"
	if f.isFreeBSD() {
		base, name = f.freebsdAuxv(atKPreload), "elf-vdso.so.1"
	} else {
		base = f.auxv(atSysinfoEHdr)
	}
	if base == 0 || base&pageMask != 0 {
		return model.Module{}, false
	}
	im, ok := readMemImage(space, base)
	if !ok || im.h.Class != f.Header.Class || im.h.Data != f.Header.Data ||
		im.h.Machine != f.Header.Machine || im.h.Type != elfx.ET_DYN {
		return model.Module{}, false
	}
	var end uint64
	for _, p := range im.progs {
		if p.Type != elfx.PT_LOAD {
			continue
		}
		if p.Memsz > maxVDSOSize || p.Vaddr-im.linkBase > maxVDSOSize {
			return model.Module{}, false
		}
		end = max(end, p.Vaddr-im.linkBase+p.Memsz)
	}
	if end == 0 || end > maxVDSOSize || end > math.MaxUint64-base {
		return model.Module{}, false
	}
	m := model.Module{Base: base, Size: end}
	if so := soname(space, im, base, end); so != "" {
		name = so
	}
	m.Path, m.DebugFile = name, name
	if id := buildID(space, base); len(id) > 0 {
		m.BuildID, m.CodeID = id, hex.EncodeToString(id)
	}
	return m, true
}

// soname returns the DT_SONAME of the image at [base, base+size), or "".
// Pointers in the dynamic section are link-time addresses, unless the
// dynamic linker relocated them in place (glibc does, for writable
// dynamic sections): a pointer already inside the image is taken as is.
func soname(space mem.Reader, im *memImage, base, size uint64) string {
	ws := uint64(im.h.WordSize())
	for _, p := range im.progs {
		if p.Type != ptDynamic || p.Filesz == 0 {
			continue
		}
		n := min(p.Filesz, maxNoteRead)
		if p.Vaddr < im.linkBase || p.Vaddr-im.linkBase >= size {
			return ""
		}
		buf := make([]byte, n-n%(2*ws))
		if mem.ReadFull(space, buf, im.bias+p.Vaddr) != nil {
			return ""
		}
		word := func(b []byte) uint64 {
			if ws == 8 {
				return im.h.Order.Uint64(b)
			}
			return uint64(im.h.Order.Uint32(b))
		}
		var strtab, strsz, so uint64
		haveSO := false
		for d := buf; len(d) >= int(2*ws); d = d[2*ws:] {
			tag, val := word(d), word(d[ws:])
			if tag == dtNull {
				break
			}
			switch tag {
			case dtStrtab:
				strtab = val
			case dtStrsz:
				strsz = val
			case dtSoname:
				so, haveSO = val, true
			}
		}
		if !haveSO || strtab == 0 || (strsz != 0 && so >= strsz) {
			return ""
		}
		var addr uint64
		switch {
		case strtab-im.linkBase < size:
			addr = im.bias + strtab
		case strtab-base < size:
			addr = strtab
		default:
			return ""
		}
		if so >= size || addr-base+so >= size {
			return ""
		}
		addr += so
		var b [256]byte
		k := min(uint64(len(b)), base+size-addr)
		if mem.ReadFull(space, b[:k], addr) != nil {
			return ""
		}
		if i := bytes.IndexByte(b[:k], 0); i > 0 {
			return string(b[:i])
		}
		return ""
	}
	return ""
}

// freebsdAuxv returns entry typ of FreeBSD's NT_PROCSTAT_AUXV: an int
// giving the size of one Elf_Auxinfo, then the vector (a_type and a_un,
// each a long).
func (f *File) freebsdAuxv(typ uint64) uint64 {
	ws, order := f.Header.WordSize(), f.Header.Order
	for _, n := range f.Notes {
		if n.Type != ntProcstatAuxv || len(n.Desc) < 4 || int(order.Uint32(n.Desc)) != 2*ws {
			continue
		}
		for d := n.Desc[4:]; len(d) >= 2*ws; d = d[2*ws:] {
			t, v := uint64(order.Uint32(d)), uint64(order.Uint32(d[ws:]))
			if ws == 8 {
				t, v = order.Uint64(d), order.Uint64(d[ws:])
			}
			switch t {
			case 0:
				return 0
			case typ:
				return v
			}
		}
	}
	return 0
}
