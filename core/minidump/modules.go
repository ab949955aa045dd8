package minidump

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/model"
)

// VSFixedFileInfo is VS_FIXEDFILEINFO (verrsrc.h).
type VSFixedFileInfo struct {
	Signature        uint32
	StrucVersion     uint32
	FileVersionMS    uint32
	FileVersionLS    uint32
	ProductVersionMS uint32
	ProductVersionLS uint32
	FileFlagsMask    uint32
	FileFlags        uint32
	FileOS           uint32
	FileType         uint32
	FileSubtype      uint32
	FileDateMS       uint32
	FileDateLS       uint32
}

// Version returns the file version as "a.b.c.d", or "" when the record is
// absent (its signature is not 0xfeef04bd), as minidump_dump prints it.
func (v VSFixedFileInfo) Version() string {
	if v.Signature != VSFixedFileInfoSignature {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d.%d", v.FileVersionMS>>16, v.FileVersionMS&0xffff, v.FileVersionLS>>16, v.FileVersionLS&0xffff)
}

// GUID is a Windows GUID in its struct layout.
type GUID struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// String formats the GUID in registry form, uppercase with dashes.
func (g GUID) String() string {
	return fmt.Sprintf("%08X-%04X-%04X-%X-%X", g.Data1, g.Data2, g.Data3, g.Data4[:2], g.Data4[2:])
}

// compact is the GUID as Breakpad debug identifiers spell it: uppercase, no
// dashes, fields in struct order.
func (g GUID) compact() string {
	return fmt.Sprintf("%08X%04X%04X%X", g.Data1, g.Data2, g.Data3, g.Data4[:])
}

// CodeView is a module's CodeView record: PDB 7.0 (RSDS: GUID, age, PDB
// path), PDB 2.0 (NB10: offset, timestamp signature, age, PDB path) or
// Breakpad's ELF build id record (BpEL).
type CodeView struct {
	Signature   uint32
	GUID        GUID   // RSDS
	Age         uint32 // RSDS, NB10
	PDBFileName string // RSDS, NB10
	Offset      uint32 // NB10
	Timestamp   uint32 // NB10 signature
	BuildID     []byte // BpEL
	Raw         []byte // the whole record for unknown signatures
}

// DebugID returns the Breakpad debug identifier the record implies: GUID
// and age in uppercase hex for RSDS, signature%08X age%x for NB10, and for an
// ELF build id its first 16 bytes read as a GUID (zero-padded) with age 0.
func (cv *CodeView) DebugID() string {
	switch cv.Signature {
	case CVSignatureRSDS:
		return fmt.Sprintf("%s%X", cv.GUID.compact(), cv.Age)
	case CVSignatureNB10:
		return fmt.Sprintf("%08X%x", cv.Timestamp, cv.Age)
	case CVSignatureELF:
		var b [16]byte
		copy(b[:], cv.BuildID)
		le := binary.LittleEndian
		g := GUID{Data1: le.Uint32(b[:]), Data2: le.Uint16(b[4:]), Data3: le.Uint16(b[6:])}
		copy(g.Data4[:], b[8:])
		return g.compact() + "0"
	}
	return ""
}

// MiscRecord is IMAGE_DEBUG_MISC, the pre-CodeView debug record.
type MiscRecord struct {
	DataType uint32
	Length   uint32
	Unicode  bool
	Data     string
}

// Module is MINIDUMP_MODULE with its name and records resolved.
type Module struct {
	BaseOfImage   uint64
	SizeOfImage   uint32
	CheckSum      uint32
	TimeDateStamp uint32
	ModuleNameRva uint32
	VersionInfo   VSFixedFileInfo
	CvRecord      Location
	MiscRecord    Location
	Name          string
	CodeView      *CodeView   // nil without a (readable) record
	Misc          *MiscRecord // nil without a (readable) record
}

// CodeID returns the Breakpad code identifier: TimeDateStamp%08X
// SizeOfImage%x for PE images, the build id in hex for ELF.
func (m *Module) CodeID() string {
	if m.CodeView != nil && m.CodeView.Signature == CVSignatureELF {
		return hex.EncodeToString(m.CodeView.BuildID)
	}
	return fmt.Sprintf("%08X%x", m.TimeDateStamp, m.SizeOfImage)
}

// DebugFile returns the PDB path of the CodeView record, or for ELF the
// module's own path.
func (m *Module) DebugFile() string {
	if m.CodeView == nil {
		return ""
	}
	if m.CodeView.Signature == CVSignatureELF {
		return m.Name
	}
	return m.CodeView.PDBFileName
}

// DebugID returns the Breakpad debug identifier (see CodeView.DebugID).
func (m *Module) DebugID() string {
	if m.CodeView == nil {
		return ""
	}
	return m.CodeView.DebugID()
}

// UnloadedModule is MINIDUMP_UNLOADED_MODULE with its name resolved.
type UnloadedModule struct {
	BaseOfImage   uint64
	SizeOfImage   uint32
	CheckSum      uint32
	TimeDateStamp uint32
	ModuleNameRva uint32
	Name          string
}

// ModuleList decodes the ModuleListStream. Unreadable names and records
// become diagnostics.
func (f *File) ModuleList() ([]Module, error) {
	c, n, err := f.list(ModuleListStream, moduleSize)
	if err != nil {
		return nil, err
	}
	out := make([]Module, n)
	for i := range out {
		m := &out[i]
		m.BaseOfImage, m.SizeOfImage, m.CheckSum, m.TimeDateStamp, m.ModuleNameRva = c.U64(), c.U32(), c.U32(), c.U32(), c.U32()
		v := &m.VersionInfo
		v.Signature, v.StrucVersion, v.FileVersionMS, v.FileVersionLS = c.U32(), c.U32(), c.U32(), c.U32()
		v.ProductVersionMS, v.ProductVersionLS, v.FileFlagsMask, v.FileFlags = c.U32(), c.U32(), c.U32(), c.U32()
		v.FileOS, v.FileType, v.FileSubtype, v.FileDateMS, v.FileDateLS = c.U32(), c.U32(), c.U32(), c.U32(), c.U32()
		m.CvRecord = Location{c.U32(), c.U32()}
		m.MiscRecord = Location{c.U32(), c.U32()}
		c.Skip(16) // Reserved0, Reserved1
		if c.Err() != nil {
			return nil, c.Err()
		}
		name, err := f.readString(m.ModuleNameRva)
		f.note(err)
		m.Name = name
		if m.CvRecord.DataSize != 0 {
			cv, err := f.codeView(m.CvRecord)
			f.note(err)
			m.CodeView = cv
		}
		if m.MiscRecord.DataSize != 0 {
			mr, err := f.miscRecord(m.MiscRecord)
			f.note(err)
			m.Misc = mr
		}
	}
	return out, nil
}

// maxCodeView bounds a CodeView record: a path and a header.
const maxCodeView = 64 << 10

func (f *File) codeView(loc Location) (*CodeView, error) {
	if loc.DataSize < 4 || loc.DataSize > maxCodeView {
		return nil, &FormatError{Off: int64(loc.Rva), What: fmt.Sprintf("CodeView record of %d bytes", loc.DataSize)}
	}
	b, err := f.read(int64(loc.Rva), int64(loc.DataSize))
	if err != nil {
		return nil, err
	}
	// The signatures are byte strings: read them little-endian whatever the
	// dump's order.
	cv := &CodeView{Signature: binary.LittleEndian.Uint32(b)}
	c := bin.New(b[4:], int64(loc.Rva)+4, f.order)
	switch cv.Signature {
	case CVSignatureRSDS:
		cv.GUID.Data1, cv.GUID.Data2, cv.GUID.Data3 = c.U32(), c.U16(), c.U16()
		copy(cv.GUID.Data4[:], c.Bytes(8))
		cv.Age = c.U32()
		cv.PDBFileName = bin.CString(c.Bytes(c.Len()))
	case CVSignatureNB10:
		cv.Offset, cv.Timestamp, cv.Age = c.U32(), c.U32(), c.U32()
		cv.PDBFileName = bin.CString(c.Bytes(c.Len()))
	case CVSignatureELF:
		cv.BuildID = append([]byte(nil), b[4:]...)
	default:
		cv.Raw = b
	}
	if c.Err() != nil {
		return nil, &FormatError{Off: int64(loc.Rva), What: "CodeView record too short", Err: c.Err()}
	}
	return cv, nil
}

func (f *File) miscRecord(loc Location) (*MiscRecord, error) {
	if loc.DataSize < 12 || loc.DataSize > maxCodeView {
		return nil, &FormatError{Off: int64(loc.Rva), What: fmt.Sprintf("misc debug record of %d bytes", loc.DataSize)}
	}
	b, err := f.read(int64(loc.Rva), int64(loc.DataSize))
	if err != nil {
		return nil, err
	}
	c := bin.New(b, int64(loc.Rva), f.order)
	m := &MiscRecord{DataType: c.U32(), Length: c.U32(), Unicode: c.U8() != 0}
	c.Skip(3)
	data := c.Bytes(c.Len())
	if m.Unicode {
		m.Data = bin.UTF16(data, f.order)
	} else {
		m.Data = bin.CString(data)
	}
	return m, nil
}

// UnloadedModuleList decodes the UnloadedModuleListStream.
func (f *File) UnloadedModuleList() ([]UnloadedModule, error) {
	c, n, esize, err := f.headerList(UnloadedModuleListStream, 24, false)
	if err != nil {
		return nil, err
	}
	out := make([]UnloadedModule, n)
	for i := range out {
		start := c.Pos()
		m := &out[i]
		m.BaseOfImage, m.SizeOfImage, m.CheckSum, m.TimeDateStamp, m.ModuleNameRva = c.U64(), c.U32(), c.U32(), c.U32(), c.U32()
		c.Seek(start + esize)
		name, err := f.readString(m.ModuleNameRva)
		f.note(err)
		m.Name = name
	}
	return out, c.Err()
}

// Modules returns the loaded modules followed by the unloaded ones
// (Unloaded set), in the model's terms (memoised).
func (f *File) Modules() ([]model.Module, error) { return f.modelModules() }

func stamp(t uint32) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(int64(t), 0).UTC()
}

func (f *File) buildModules() ([]model.Module, error) {
	ms, err := f.ModuleList()
	if err != nil && !errors.Is(err, ErrNoStream) {
		return nil, err
	}
	// Mach-O images have no TimeDateStamp/SizeOfImage: Breakpad and
	// rust-minidump identify their code by the Mach-O UUID, which the
	// CodeView record carries as the GUID.
	apple := false
	if si, err := f.SystemInfo(); err == nil {
		apple = si.PlatformID == PlatformMacOSX || si.PlatformID == PlatformIOS
	}
	var out []model.Module
	for i := range ms {
		m := &ms[i]
		mm := model.Module{
			Base: m.BaseOfImage, Size: uint64(m.SizeOfImage), Path: m.Name,
			Version: m.VersionInfo.Version(), Time: stamp(m.TimeDateStamp), Checksum: m.CheckSum,
			CodeID: m.CodeID(), DebugFile: m.DebugFile(), DebugID: m.DebugID(),
		}
		if apple && m.CodeView != nil && m.CodeView.Signature == CVSignatureRSDS && len(mm.DebugID) >= 32 {
			mm.CodeID = strings.ToLower(mm.DebugID[:32])
		}
		if m.CodeView != nil && m.CodeView.Signature == CVSignatureELF {
			mm.BuildID = m.CodeView.BuildID
		}
		out = append(out, mm)
	}
	um, uerr := f.UnloadedModuleList()
	if uerr != nil && !errors.Is(uerr, ErrNoStream) {
		f.note(uerr)
	}
	for _, m := range um {
		out = append(out, model.Module{
			Base: m.BaseOfImage, Size: uint64(m.SizeOfImage), Path: m.Name, Time: stamp(m.TimeDateStamp),
			Checksum: m.CheckSum, CodeID: fmt.Sprintf("%08X%x", m.TimeDateStamp, m.SizeOfImage), Unloaded: true,
		})
	}
	if err != nil && len(out) == 0 {
		return nil, err
	}
	return out, nil
}

// trimNUL strips trailing NULs and whitespace from a text stream.
func trimNUL(b []byte) string { return strings.TrimRight(string(b), "\x00") }
