package dwarftab

import (
	"bytes"
	"debug/dwarf"
	"sync"
)

// Alt is a supplementary DWARF file: dwz moves what several files share
// (type and inline-function entries, strings) into one file that they
// name in .gnu_debugaltlink and point into with DW_FORM_GNU_ref_alt and
// DW_FORM_GNU_strp_alt (standardised in DWARF 5 as DW_FORM_ref_sup4/8
// and DW_FORM_strp_sup, with .debug_sup). Debian and Fedora debug
// packages are made this way, so without it inlined calls and some
// functions have no name. It is safe for concurrent use.
type Alt struct {
	d   *dwarf.Data
	str []byte // .debug_str

	mu sync.Mutex
	r  *dwarf.Reader
}

// NewAlt returns the supplementary file whose DWARF is d and whose
// .debug_str is str.
func NewAlt(d *dwarf.Data, str []byte) *Alt { return &Alt{d: d, str: str} }

// String returns the NUL-terminated string at off in the file's
// .debug_str.
func (a *Alt) String(off uint64) (string, bool) {
	if a == nil || off >= uint64(len(a.str)) {
		return "", false
	}
	s := a.str[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return string(s[:i]), true
	}
	return "", false
}

// Entry returns the entry at off in the file's .debug_info, nil when there
// is none.
func (a *Alt) Entry(off dwarf.Offset) *dwarf.Entry {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.r == nil {
		a.r = a.d.Reader()
	}
	a.r.Seek(off)
	e, err := a.r.Next()
	if err != nil || e == nil || e.Tag == 0 {
		return nil
	}
	return e
}

// refs resolves what an entry's attributes point at: entries of its own
// file through ref, and strings and entries of the supplementary file
// through alt (nil when there is none).
type refs struct {
	ref deref
	alt *Alt
}

// str returns attribute at of e as a string, read from the supplementary
// file's strings when the attribute points there.
func (r refs) str(e *dwarf.Entry, at dwarf.Attr) string {
	f := e.AttrField(at)
	if f == nil {
		return ""
	}
	switch v := f.Val.(type) {
	case string:
		return v
	case int64: // DW_FORM_GNU_strp_alt
		if f.Class == dwarf.ClassStringAlt && v >= 0 {
			s, _ := r.alt.String(uint64(v))
			return s
		}
	case uint64: // DW_FORM_strp_sup
		if f.Class == dwarf.ClassString {
			s, _ := r.alt.String(v)
			return s
		}
	case uint32:
		if f.Class == dwarf.ClassString {
			s, _ := r.alt.String(uint64(v))
			return s
		}
	}
	return ""
}

// follow returns the entry attribute at of e refers to, and the refs that
// resolve that entry's own attributes: an entry of the supplementary file
// refers within that file.
func (r refs) follow(e *dwarf.Entry, at dwarf.Attr) (*dwarf.Entry, refs) {
	f := e.AttrField(at)
	if f == nil {
		return nil, r
	}
	alt := refs{ref: r.alt.Entry}
	switch v := f.Val.(type) {
	case dwarf.Offset:
		if r.ref != nil {
			return r.ref(v), r
		}
	case int64: // DW_FORM_GNU_ref_alt
		if f.Class == dwarf.ClassReferenceAlt && v >= 0 && r.alt != nil {
			return r.alt.Entry(dwarf.Offset(v)), alt
		}
	case uint64: // DW_FORM_ref_sup8
		if f.Class == dwarf.ClassReference && r.alt != nil {
			return r.alt.Entry(dwarf.Offset(v)), alt
		}
	case uint32: // DW_FORM_ref_sup4
		if f.Class == dwarf.ClassReference && r.alt != nil {
			return r.alt.Entry(dwarf.Offset(v)), alt
		}
	}
	return nil, r
}
