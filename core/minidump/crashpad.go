package minidump

import (
	"fmt"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// CrashpadInfo is Crashpad's MinidumpCrashpadInfo (crashpad
// minidump/minidump_extensions.h) with its dictionaries and module entries
// resolved.
type CrashpadInfo struct {
	Version           uint32
	ReportID          GUID
	ClientID          GUID
	SimpleAnnotations []Annotation // key/value pairs in stream order
	Modules           []CrashpadModule
}

// Annotation is one simple (string) annotation.
type Annotation struct{ Key, Value string }

// AnnotationObject is a MinidumpAnnotation: a named, typed byte value
// (type 1 is a string).
type AnnotationObject struct {
	Name  string
	Type  uint16
	Value []byte
}

// CrashpadModule is MinidumpModuleCrashpadInfo for one module.
type CrashpadModule struct {
	ModuleIndex       uint32 // index into the ModuleListStream
	Version           uint32
	ListAnnotations   []string
	SimpleAnnotations []Annotation
	AnnotationObjects []AnnotationObject
}

// maxCrashpadEntries bounds each Crashpad list; real ones hold dozens.
const maxCrashpadEntries = 1 << 16

// CrashpadInfo decodes the CrashpadInfoStream.
func (f *File) CrashpadInfo() (*CrashpadInfo, error) {
	b, off, err := f.streamData(CrashpadInfoStream)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	ci := &CrashpadInfo{Version: c.U32(), ReportID: guid(c), ClientID: guid(c)}
	simple := Location{c.U32(), c.U32()}
	mods := Location{c.U32(), c.U32()}
	if c.Err() != nil {
		return nil, &FormatError{Off: off, What: "CrashpadInfoStream too short", Err: c.Err()}
	}
	if ci.SimpleAnnotations, err = f.dictionary(simple); err != nil {
		return nil, err
	}
	if mods.DataSize == 0 {
		return ci, nil
	}
	mc, n, err := f.counted(mods, 12)
	if err != nil {
		return nil, err
	}
	for range n {
		m := CrashpadModule{ModuleIndex: mc.U32()}
		loc := Location{mc.U32(), mc.U32()}
		if err := f.crashpadModule(&m, loc); err != nil {
			return nil, err
		}
		ci.Modules = append(ci.Modules, m)
	}
	return ci, nil
}

func guid(c *bin.Cursor) GUID {
	g := GUID{Data1: c.U32(), Data2: c.U16(), Data3: c.U16()}
	copy(g.Data4[:], c.Bytes(8))
	return g
}

// counted reads a {count u32, entries} structure at loc.
func (f *File) counted(loc Location, esize int) (*bin.Cursor, int, error) {
	hb, err := f.read(int64(loc.Rva), 4)
	if err != nil {
		return nil, 0, err
	}
	n := int64(f.order.Uint32(hb))
	if n > maxCrashpadEntries || 4+n*int64(esize) > f.size {
		return nil, 0, &FormatError{Off: int64(loc.Rva), What: fmt.Sprintf("list of %d entries at %#x is implausible", n, loc.Rva)}
	}
	b, err := f.read(int64(loc.Rva)+4, n*int64(esize))
	if err != nil {
		return nil, 0, err
	}
	return bin.New(b, int64(loc.Rva)+4, f.order), int(n), nil
}

// dictionary reads a MinidumpSimpleStringDictionary.
func (f *File) dictionary(loc Location) ([]Annotation, error) {
	if loc.DataSize == 0 {
		return nil, nil
	}
	c, n, err := f.counted(loc, 8)
	if err != nil {
		return nil, err
	}
	out := make([]Annotation, 0, n)
	for range n {
		k, v := c.U32(), c.U32()
		key, err := f.utf8String(k)
		if err != nil {
			return nil, err
		}
		val, err := f.utf8String(v)
		if err != nil {
			return nil, err
		}
		out = append(out, Annotation{key, val})
	}
	return out, nil
}

func (f *File) crashpadModule(m *CrashpadModule, loc Location) error {
	b, err := f.read(int64(loc.Rva), int64(min(loc.DataSize, 64)))
	if err != nil {
		return err
	}
	c := bin.New(b, int64(loc.Rva), f.order)
	m.Version = c.U32()
	list, simple, objs := Location{c.U32(), c.U32()}, Location{c.U32(), c.U32()}, Location{c.U32(), c.U32()}
	if c.Err() != nil {
		// Version 1 records end after the simple annotations.
		if c.Pos() < 20 {
			return &FormatError{Off: int64(loc.Rva), What: "MinidumpModuleCrashpadInfo too short", Err: c.Err()}
		}
		objs = Location{}
	}
	if list.DataSize != 0 {
		lc, n, err := f.counted(list, 4)
		if err != nil {
			return err
		}
		for range n {
			s, err := f.utf8String(lc.U32())
			if err != nil {
				return err
			}
			m.ListAnnotations = append(m.ListAnnotations, s)
		}
	}
	if m.SimpleAnnotations, err = f.dictionary(simple); err != nil {
		return err
	}
	if objs.DataSize != 0 {
		oc, n, err := f.counted(objs, 12)
		if err != nil {
			return err
		}
		for range n {
			nameRva, typ := oc.U32(), oc.U16()
			oc.U16()
			valRva := oc.U32()
			name, err := f.utf8String(nameRva)
			if err != nil {
				return err
			}
			val, err := f.utf8String(valRva) // MinidumpByteArray: same shape
			if err != nil {
				return err
			}
			m.AnnotationObjects = append(m.AnnotationObjects, AnnotationObject{name, typ, []byte(val)})
		}
	}
	return nil
}

// MacCrashInfo is Mozilla's MDRawMacCrashInfo: the __crash_info records of
// the images that had one.
type MacCrashInfo struct {
	Records []MacCrashInfoRecord
}

// MacCrashInfoRecord is MDRawMacCrashInfoRecord with its strings.
type MacCrashInfoRecord struct {
	StreamType      uint32
	Version         uint64
	Thread          uint64
	DialogMode      uint64
	AbortCause      uint64 // version 5 and later
	ModulePath      string
	Message         string
	SignatureString string
	Backtrace       string
	Message2        string
}

// MozMacosCrashInfo decodes the MozMacosCrashInfoStream.
func (f *File) MozMacosCrashInfo() (*MacCrashInfo, error) {
	b, off, err := f.streamData(MozMacosCrashInfo)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, off, f.order)
	c.U32() // stream_type
	n, start := c.U32(), c.U32()
	if c.Err() != nil || n > 20 {
		return nil, &FormatError{Off: off, What: fmt.Sprintf("MozMacosCrashInfoStream header invalid (%d records, at most 20)", n), Err: c.Err()}
	}
	out := &MacCrashInfo{}
	for range n {
		loc := Location{c.U32(), c.U32()}
		if c.Err() != nil {
			return nil, &FormatError{Off: off, What: "MozMacosCrashInfoStream too short", Err: c.Err()}
		}
		if loc.DataSize < start || start < 36 {
			return nil, &FormatError{Off: int64(loc.Rva), What: fmt.Sprintf("crash info record of %d bytes shorter than its fixed part (%d)", loc.DataSize, start)}
		}
		rb, err := f.read(int64(loc.Rva), int64(loc.DataSize))
		if err != nil {
			return nil, err
		}
		rc := bin.New(rb, int64(loc.Rva), f.order)
		r := MacCrashInfoRecord{StreamType: rc.U32(), Version: rc.U64(), Thread: rc.U64(), DialogMode: rc.U64()}
		if start >= 44 {
			r.AbortCause = rc.U64()
		}
		strs := splitNUL(rb[start:], 5)
		r.ModulePath, r.Message, r.SignatureString, r.Backtrace, r.Message2 = strs[0], strs[1], strs[2], strs[3], strs[4]
		out.Records = append(out.Records, r)
	}
	return out, nil
}

// splitNUL returns the first n NUL-terminated strings of b (missing ones
// empty).
func splitNUL(b []byte, n int) []string {
	out := make([]string, n)
	for i := range out {
		s := bin.CString(b)
		out[i] = s
		if len(s) >= len(b) {
			break
		}
		b = b[len(s)+1:]
	}
	return out
}
