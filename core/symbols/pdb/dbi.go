package pdb

import (
	"encoding/binary"
	"sort"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// DBI is the debug info stream (stream 3): the header fields that locate
// the other streams, the modules, section contributions, the section map
// and the optional debug streams. See https://llvm.org/docs/PDB/DbiStream.html
type DBI struct {
	VersionHeader   uint32
	Age             uint32 // the age in the image's RSDS record; see File.ID
	GlobalStream    int    // GSI hash stream, -1 when absent
	PublicStream    int    // PSI hash stream, -1 when absent
	SymRecordStream int    // global symbol records (S_PUB32, …), -1 when absent
	BuildNumber     uint16
	Flags           uint16
	Machine         uint16 // IMAGE_FILE_MACHINE_*

	Modules       []Module
	Contributions []SectionContrib
	SectionMap    []SectionMapEntry
	// DebugStreams holds the optional debug header's stream indices
	// (FPO, exception, fixup, OMAP to/from source, section headers, token
	// map, xdata, pdata, new FPO, original section headers), -1 for none.
	DebugStreams [dbgCount]int

	// Sections are the image's section headers (from the debug header's
	// section-header stream); OrigSections the headers before the image
	// was rewritten (present with OMAP).
	Sections     []SectionHeader
	OrigSections []SectionHeader
	omapFromSrc  []omapEntry
}

// Module is one entry of the DBI module info substream (ModInfo).
type Module struct {
	Name       string // object file or import DLL ("ntoskrnl.exe", "* CIL *")
	ObjFile    string // library or object it came from
	SymStream  int    // module symbol stream, -1 when absent
	SymSize    uint32 // bytes of CodeView symbols, with the 4-byte signature
	C11Size    uint32
	C13Size    uint32 // bytes of C13 line information
	NumFiles   uint16
	Contrib    SectionContrib
	Flags      uint16
	SourceFile uint32 // string table index
	PDBFile    uint32 // string table index
}

// SectionContrib is a section contribution entry (SectionContribEntry).
type SectionContrib struct {
	Section         uint16 // 1-based
	Offset          uint32
	Size            uint32
	Characteristics uint32
	Module          uint16
	DataCRC         uint32
	RelocCRC        uint32
}

// SectionMapEntry is an entry of the DBI section map.
type SectionMapEntry struct {
	Flags, Ovl, Group, Frame, SectionName, ClassName uint16
	Offset, Length                                   uint32
}

// SectionHeader is an IMAGE_SECTION_HEADER as the PDB stores it.
type SectionHeader struct {
	Name                 string
	VirtualSize          uint32
	VirtualAddress       uint32
	SizeOfRawData        uint32
	PointerToRawData     uint32
	PointerToRelocations uint32
	PointerToLinenumbers uint32
	NumberOfRelocations  uint16
	NumberOfLinenumbers  uint16
	Characteristics      uint32
}

type omapEntry struct{ from, to uint32 }

// DBI returns the DBI stream, read on first use. A PDB without one (a
// compiler's type-server PDB) gives an error wrapping ErrNoStream.
func (f *File) DBI() (*DBI, error) { return f.dbi() }

func stream16(v uint16) int {
	if v == nilStream {
		return -1
	}
	return int(v)
}

func (f *File) readDBI() (*DBI, error) {
	b, err := f.msf.stream(streamDBI)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errAt(streamDBI, 0, "empty DBI stream", ErrNoStream)
	}
	le := binary.LittleEndian
	c := bin.New(b, 0, le)
	d := &DBI{}
	c.U32() // VersionSignature, -1
	d.VersionHeader = c.U32()
	d.Age = c.U32()
	d.GlobalStream = stream16(c.U16())
	d.BuildNumber = c.U16()
	d.PublicStream = stream16(c.U16())
	c.U16() // PdbDllVersion
	d.SymRecordStream = stream16(c.U16())
	c.U16()             // PdbDllRbld
	var sizes [6]uint32 // mod info, sec contrib, sec map, file info, type server map, MFC index skipped below
	sizes[0] = c.U32()
	sizes[1] = c.U32()
	sizes[2] = c.U32()
	sizes[3] = c.U32()
	sizes[4] = c.U32()
	c.U32() // MFCTypeServerIndex
	dbgSize := c.U32()
	sizes[5] = c.U32() // EC substream
	d.Flags = c.U16()
	d.Machine = c.U16()
	c.U32()
	if c.Err() != nil {
		return nil, errAt(streamDBI, c.Off(), "DBI header", c.Err())
	}
	// Substreams in file order: modules, section contributions, section
	// map, file info, type server map, EC, optional debug header.
	var sub [7][]byte
	pos := uint64(dbiHeaderSize)
	for i, n := range append(sizes[:], dbgSize) {
		if pos+uint64(n) > uint64(len(b)) {
			return nil, errAt(streamDBI, int64(pos), "DBI substream past the end of the stream", nil)
		}
		sub[i] = b[pos : pos+uint64(n)]
		pos += uint64(n)
	}
	if d.Modules, err = readModules(sub[0], dbiHeaderSize); err != nil {
		return nil, err
	}
	d.Contributions = readContribs(sub[1])
	d.SectionMap = readSectionMap(sub[2])
	for i := range d.DebugStreams {
		d.DebugStreams[i] = -1
		if 2*i+2 <= len(sub[6]) {
			d.DebugStreams[i] = stream16(le.Uint16(sub[6][2*i:]))
		}
	}
	// Section headers and OMAP are optional: a broken stream leaves them
	// empty rather than failing the file.
	d.Sections = f.sectionHeaders(d.DebugStreams[dbgSectionHdr])
	d.OrigSections = f.sectionHeaders(d.DebugStreams[dbgSectionHdrOrig])
	d.omapFromSrc = f.omap(d.DebugStreams[dbgOmapFromSrc])
	return d, nil
}

func readModules(b []byte, base int64) ([]Module, error) {
	c := bin.New(b, base, binary.LittleEndian)
	var mods []Module
	for c.Len() >= modInfoHeaderSize {
		var m Module
		c.U32() // Unused1
		m.Contrib = readContrib(c)
		m.Flags = c.U16()
		m.SymStream = stream16(c.U16())
		m.SymSize = c.U32()
		m.C11Size = c.U32()
		m.C13Size = c.U32()
		m.NumFiles = c.U16()
		c.U16()
		c.U32() // Unused2
		m.SourceFile = c.U32()
		m.PDBFile = c.U32()
		m.Name = cstr(c)
		m.ObjFile = cstr(c)
		if c.Err() != nil {
			return nil, errAt(streamDBI, c.Off(), "module info", c.Err())
		}
		if p := c.Pos() % 4; p != 0 && c.Len() >= 4-p {
			c.Skip(4 - p)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// cstr reads a NUL-terminated string; a missing NUL is a short read.
func cstr(c *bin.Cursor) string {
	rest := c.Bytes(c.Len())
	for i, x := range rest {
		if x == 0 {
			c.Seek(c.Pos() - len(rest) + i + 1)
			return string(rest[:i])
		}
	}
	c.Bytes(1) // sets the error
	return ""
}

func readContrib(c *bin.Cursor) SectionContrib {
	var s SectionContrib
	s.Section = c.U16()
	c.U16()
	s.Offset = c.U32()
	s.Size = c.U32()
	s.Characteristics = c.U32()
	s.Module = c.U16()
	c.U16()
	s.DataCRC = c.U32()
	s.RelocCRC = c.U32()
	return s
}

func readContribs(b []byte) []SectionContrib {
	c := bin.New(b, 0, binary.LittleEndian)
	ver := c.U32()
	entry := 28
	switch ver {
	case secContribV60:
	case secContribV2:
		entry = 32
	default:
		return nil
	}
	out := make([]SectionContrib, 0, c.Len()/entry)
	for c.Len() >= entry {
		out = append(out, readContrib(c))
		if entry == 32 {
			c.U32() // ISectCoff
		}
	}
	return out
}

func readSectionMap(b []byte) []SectionMapEntry {
	c := bin.New(b, 0, binary.LittleEndian)
	n := int(c.U16())
	c.U16() // LogCount
	n = min(n, c.Len()/20)
	out := make([]SectionMapEntry, n)
	for i := range out {
		e := &out[i]
		e.Flags, e.Ovl, e.Group, e.Frame, e.SectionName, e.ClassName = c.U16(), c.U16(), c.U16(), c.U16(), c.U16(), c.U16()
		e.Offset, e.Length = c.U32(), c.U32()
	}
	return out
}

func (f *File) sectionHeaders(stream int) []SectionHeader {
	if stream < 0 {
		return nil
	}
	b, err := f.msf.stream(stream)
	if err != nil {
		return nil
	}
	c := bin.New(b, 0, binary.LittleEndian)
	out := make([]SectionHeader, len(b)/sectionHeaderSize)
	for i := range out {
		s := &out[i]
		s.Name = c.CString(8)
		s.VirtualSize = c.U32()
		s.VirtualAddress = c.U32()
		s.SizeOfRawData = c.U32()
		s.PointerToRawData = c.U32()
		s.PointerToRelocations = c.U32()
		s.PointerToLinenumbers = c.U32()
		s.NumberOfRelocations = c.U16()
		s.NumberOfLinenumbers = c.U16()
		s.Characteristics = c.U32()
	}
	return out
}

func (f *File) omap(stream int) []omapEntry {
	if stream < 0 {
		return nil
	}
	b, err := f.msf.stream(stream)
	if err != nil {
		return nil
	}
	le := binary.LittleEndian
	out := make([]omapEntry, len(b)/8)
	for i := range out {
		out[i] = omapEntry{le.Uint32(b[8*i:]), le.Uint32(b[8*i+4:])}
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].from < out[j].from }) {
		sort.SliceStable(out, func(i, j int) bool { return out[i].from < out[j].from })
	}
	return out
}

// RVA translates a segment:offset address (1-based section number) to an
// RVA of the image. When the PDB has an OMAP-from-source table (images
// rewritten after linking: older Windows binaries, Breakpad's omap_*
// tests) the address is first made an RVA of the original image, through
// the original section headers when present, else the section headers,
// and then mapped through OMAP. It returns false for segments with no section
// header and for addresses OMAP maps to nothing.
func (d *DBI) RVA(segment uint16, offset uint32) (uint32, bool) {
	secs := d.Sections
	if len(d.OrigSections) > 0 {
		secs = d.OrigSections
	}
	if segment == 0 || int(segment) > len(secs) {
		return 0, false
	}
	return d.mapRVA(secs[segment-1].VirtualAddress + offset)
}

// section returns the index of the section header holding rva, or -1.
func (d *DBI) section(rva uint32) int {
	for i, s := range d.Sections {
		size := max(s.VirtualSize, s.SizeOfRawData)
		if rva >= s.VirtualAddress && rva-s.VirtualAddress < size {
			return i
		}
	}
	return -1
}

// omapSize returns the size in the final image of code that had size
// bytes at segment:offset in the original one and starts at rva: with
// OMAP the last byte is translated too, since rewriting may have
// stretched the code (a translated end before the start, or implausibly
// far, keeps the original size).
func (d *DBI) omapSize(segment uint16, offset, size, rva uint32) uint32 {
	if len(d.omapFromSrc) == 0 || size == 0 {
		return size
	}
	last, ok := d.RVA(segment, offset+size-1)
	if !ok || last < rva || last-rva >= 16*size {
		return size
	}
	return last - rva + 1
}

// mapRVA translates an RVA of the original image to the final one through
// OMAP, as RVA does for segment:offset addresses; without OMAP it is the
// identity.
func (d *DBI) mapRVA(rva uint32) (uint32, bool) {
	om := d.omapFromSrc
	if len(om) == 0 {
		return rva, true
	}
	i := sort.Search(len(om), func(i int) bool { return om[i].from > rva }) - 1
	if i < 0 {
		return 0, false
	}
	if om[i].to == 0 {
		// Code the rewrite dropped (user32's 2-byte hot-patch pads
		// before a function) maps to nothing; a symbol starting there
		// starts at the next range the rewrite kept, as the image's
		// exports say.
		if i+1 < len(om) && om[i+1].to != 0 && om[i].from == rva {
			return om[i+1].to, true
		}
		return 0, false
	}
	return om[i].to + (rva - om[i].from), true
}

// mapSize is omapSize for an original-image RVA.
func (d *DBI) mapSize(start, size, rva uint32) uint32 {
	if len(d.omapFromSrc) == 0 || size == 0 {
		return size
	}
	last, ok := d.mapRVA(start + size - 1)
	if !ok || last < rva || last-rva >= 16*size {
		return size
	}
	return last - rva + 1
}
