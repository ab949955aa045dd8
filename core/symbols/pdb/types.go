package pdb

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/symbols/ctype"
)

// CodeView type record leaf kinds (LEAF_ENUM_e). See
// https://llvm.org/docs/PDB/CodeViewTypes.html and cvinfo.h.
const (
	lfModifier   = 0x1001
	lfPointer    = 0x1002
	lfProcedure  = 0x1008
	lfMFunction  = 0x1009
	lfFieldList  = 0x1203
	lfBitfield   = 0x1205
	lfArray      = 0x1503
	lfClass      = 0x1504
	lfStructure  = 0x1505
	lfUnion      = 0x1506
	lfEnum       = 0x1507
	lfAlias      = 0x150a
	lfInterface  = 0x1519
	lfClass2     = 0x1608 // LF_CLASS_19: 32-bit property, count after vshape
	lfStructure2 = 0x1609
	lfUnion2     = 0x160a
	lfInterface2 = 0x160b

	// Field list subrecords.
	lfBClass       = 0x1400
	lfVBClass      = 0x1401
	lfIVBClass     = 0x1402
	lfIndex        = 0x1404
	lfVFuncTab     = 0x1409
	lfFriendCls    = 0x140b
	lfVFuncOff     = 0x140c
	lfEnumerate    = 0x1502
	lfFriendFcn    = 0x150c
	lfMember       = 0x150d
	lfSTMember     = 0x150e
	lfMethod       = 0x150f
	lfNestType     = 0x1510
	lfOneMethod    = 0x1511
	lfNestTypeEx   = 0x1512
	lfMemberModify = 0x1513
	lfBInterface   = 0x151a
)

// Structure, union and enum property bits (CV_prop_t).
const (
	propFwdRef     = 0x80
	propUniqueName = 0x200
)

// Bounds on the work one lookup does on a corrupt stream.
const (
	maxTypeDepth   = 64   // nested pointers, arrays, modifiers
	maxListChain   = 4096 // LF_INDEX continuations of one field list
	firstNonSimple = 0x1000
)

// Types is the type information of a PDB's TPI stream in the ctype model:
// structures, classes, unions and enums by name, with the types they
// refer to built on first use. MSVC writes no typedef records, so names
// are the tags ("_EPROCESS", "std::vector<int,std::allocator<int> >");
// an LF_ALIAS record, where one exists, becomes a ctype.Typedef.
// A Types is safe for concurrent use; the *ctype.Type graphs it returns
// are shared and must not be modified.
type Types struct {
	ts     *typeStream
	byName map[string]uint32 // named struct/union/enum/alias → its record, a definition when one exists
	names  []string          // the keys of byName, sorted
	defs   map[string]uint32 // unique name (else name), and NUL+name → the first definition

	mu     sync.Mutex
	memo   map[uint32]*ctype.Type
	lists  map[uint32]*memberList
	jobs   []typeJob
	budget int // fields and enumerators still to be decoded
}

// memberList is a decoded LF_FIELDLIST (with its LF_INDEX continuations).
type memberList struct {
	fields []ctype.Field
	enums  []ctype.Enumerator
}

// typeJob is work deferred until the type being built is in the memo:
// filling a record's members, copying a modified type once its source is
// complete, or counting an array's elements once the element's size is.
type typeJob struct {
	dst        *ctype.Type
	list       uint32      // fill dst's members from this field list
	src        *ctype.Type // copy src into dst, adding the qualifiers
	cnst, vol  bool
	arrayCount bool
}

// Types returns the PDB's type records, indexed on first use. It fails
// only when the TPI stream cannot be read.
func (f *File) Types() (*Types, error) { return f.types() }

func (f *File) readTypes() (*Types, error) {
	ts, err := f.tpi()
	if err != nil {
		return nil, err
	}
	return newTypes(ts), nil
}

// Types returns the type records of the table's PDB.
func (t *Table) Types() (ctype.Source, error) {
	ty, err := t.file.Types()
	if err != nil {
		return nil, err
	}
	return ty, nil
}

// recordHead is the part of a structure, union, enum or alias record the
// name index and the builder need.
type recordHead struct {
	kind         ctype.Kind
	prop         uint32
	list         uint32 // field list, 0 for none
	utype        uint32 // an enum's underlying type, an alias's type
	size         uint64
	name, unique string
}

func (h *recordHead) fwd() bool { return h.prop&propFwdRef != 0 }

// key is what matches a forward reference with its definition.
func (h *recordHead) key() string {
	if h.unique != "" {
		return h.unique
	}
	return h.name
}

// parseHead decodes a structure, class, interface, union, enum or alias
// record; ok is false for other kinds.
func parseHead(kind uint16, body []byte) (h recordHead, ok bool) {
	c := bin.New(body, 0, binary.LittleEndian)
	switch kind {
	case lfClass, lfStructure, lfInterface:
		h.kind = ctype.Struct
		c.U16() // member count
		h.prop = uint32(c.U16())
		h.list = c.U32()
		c.U32() // derivation list
		c.U32() // vtable shape
		h.size, _ = numeric(c)
	case lfClass2, lfStructure2, lfInterface2:
		h.kind = ctype.Struct
		h.prop = c.U32()
		h.list = c.U32()
		c.U32()
		c.U32()
		numeric(c) // member count
		h.size, _ = numeric(c)
	case lfUnion:
		h.kind = ctype.Union
		c.U16()
		h.prop = uint32(c.U16())
		h.list = c.U32()
		h.size, _ = numeric(c)
	case lfUnion2:
		h.kind = ctype.Union
		h.prop = c.U32()
		h.list = c.U32()
		numeric(c)
		h.size, _ = numeric(c)
	case lfEnum:
		h.kind = ctype.Enum
		c.U16()
		h.prop = uint32(c.U16())
		h.utype = c.U32()
		h.list = c.U32()
	case lfAlias:
		h.kind = ctype.Typedef
		h.utype = c.U32()
	default:
		return h, false
	}
	if c.Err() != nil {
		return h, false
	}
	h.name = cstring(c)
	if h.prop&propUniqueName != 0 {
		h.unique = cstring(c)
	}
	return h, true
}

// cstring reads a NUL-terminated name; an unterminated one runs to the end.
func cstring(c *bin.Cursor) string {
	b := c.Bytes(c.Len())
	if i := slices.Index(b, 0); i >= 0 {
		c.Seek(c.Pos() - len(b) + i + 1)
		return string(b[:i])
	}
	return string(b)
}

// anonymous reports whether name is one MSVC gives unnamed types.
func anonymous(name string) bool {
	if i := strings.LastIndex(name, "::"); i >= 0 {
		name = name[i+2:]
	}
	return name == "" || name == "__unnamed" ||
		strings.HasPrefix(name, "<unnamed-") || strings.HasPrefix(name, "<anonymous-")
}

// newTypes indexes the named types of ts in one pass.
func newTypes(ts *typeStream) *Types {
	t := &Types{
		ts:     ts,
		byName: map[string]uint32{},
		defs:   map[string]uint32{},
		memo:   map[uint32]*ctype.Type{},
		lists:  map[uint32]*memberList{},
		budget: len(ts.data)/4 + 64,
	}
	isDef := map[uint32]bool{}
	for i := range ts.len() {
		ti := ts.begin + uint32(i)
		kind, body, _ := ts.record(ti)
		h, ok := parseHead(kind, body)
		if !ok {
			continue
		}
		def := !h.fwd()
		if def {
			keys := []string{h.key()}
			if !anonymous(h.name) {
				keys = append(keys, "\x00"+h.name)
			}
			for _, k := range keys {
				if _, dup := t.defs[k]; !dup && k != "" {
					t.defs[k] = ti
				}
			}
		}
		if anonymous(h.name) {
			continue
		}
		if old, ok := t.byName[h.name]; !ok || def && !isDef[old] {
			t.byName[h.name] = ti
			isDef[ti] = def
		}
	}
	t.names = make([]string, 0, len(t.byName))
	for n := range t.byName {
		t.names = append(t.names, n)
	}
	slices.Sort(t.names)
	return t
}

// Type returns the named structure, class, union or enum: its definition
// when the PDB has one, else an Incomplete type.
func (t *Types) Type(name string) (*ctype.Type, bool) {
	ti, ok := t.byName[name]
	if !ok {
		return nil, false
	}
	return t.ByIndex(ti), true
}

// TypeNames calls yield with every named structure, class, union, enum
// and alias once, in sorted order. Anonymous types ("<unnamed-tag>") are left out.
func (t *Types) TypeNames(yield func(string) bool) {
	for _, n := range t.names {
		if !yield(n) {
			return
		}
	}
}

// ByIndex returns the type with CodeView type index ti, as symbol records
// (S_GDATA32, S_LOCAL, …) name it. Indices below 0x1000 are the built-in
// types; a forward reference resolves to the definition. An index the
// stream lacks gives a Base type named "<type 0x…>".
func (t *Types) ByIndex(ti uint32) *ctype.Type {
	t.mu.Lock()
	defer t.mu.Unlock()
	x := t.build(ti, 0)
	t.drain()
	return x
}

// drain runs the deferred jobs, including those they add.
func (t *Types) drain() {
	for i := 0; i < len(t.jobs); i++ {
		j := t.jobs[i]
		switch {
		case j.list != 0:
			l := t.memberList(j.list)
			if j.dst.Kind == ctype.Enum {
				j.dst.Enumerators = l.enums
			} else {
				j.dst.Fields = l.fields
			}
		case j.src != nil:
			x := *j.src
			x.Const = x.Const || j.cnst
			x.Volatile = x.Volatile || j.vol
			*j.dst = x
		case j.arrayCount:
			if e := j.dst.Elem; e != nil && e.Size > 0 {
				j.dst.Count = j.dst.Size / e.Size
			}
		}
	}
	t.jobs = t.jobs[:0]
}

// build returns the type of index ti, memoised. A type goes into the memo
// before the types it refers to are built, so cycles end; members are
// filled by jobs that drain runs.
func (t *Types) build(ti uint32, depth int) *ctype.Type {
	if x, ok := t.memo[ti]; ok {
		return x
	}
	if ti < firstNonSimple {
		x := t.simple(ti, depth)
		t.memo[ti] = x
		return x
	}
	if depth > maxTypeDepth {
		return &ctype.Type{Kind: ctype.Base, Name: "<too deep>"}
	}
	kind, body, ok := t.ts.record(ti)
	if !ok { // not memoised: the memo stays bounded by the stream
		return &ctype.Type{Kind: ctype.Base, Name: fmt.Sprintf("<type %#x>", ti)}
	}
	if h, ok := parseHead(kind, body); ok {
		return t.buildRecord(ti, &h, depth)
	}
	c := bin.New(body, 0, binary.LittleEndian)
	x := &ctype.Type{Kind: ctype.Base}
	t.memo[ti] = x
	switch kind {
	case lfPointer:
		ref, attr := c.U32(), c.U32()
		x.Kind = ctype.Pointer
		x.Size = uint64(attr>>13) & 0x3f
		x.Volatile = attr&0x200 != 0
		x.Const = attr&0x400 != 0
		if x.Size == 0 {
			switch attr & 0x1f { // CV_ptrtype_e
			case 0x0a: // near32
				x.Size = 4
			case 0x0c: // 64
				x.Size = 8
			}
		}
		x.Elem = t.build(ref, depth+1)
	case lfModifier:
		ref, mods := c.U32(), c.U16()
		src := t.build(ref, depth+1)
		*x = *src
		cnst, vol := mods&1 != 0, mods&2 != 0
		x.Const = x.Const || cnst
		x.Volatile = x.Volatile || vol
		// src may still be filling (a member of a structure being built
		// that is a const pointer to it): copy again when it is done.
		t.jobs = append(t.jobs, typeJob{dst: x, src: src, cnst: cnst, vol: vol})
	case lfArray:
		elem := c.U32()
		c.U32() // index type
		x.Kind = ctype.Array
		x.Size, _ = numeric(c)
		x.Elem = t.build(elem, depth+1)
		t.jobs = append(t.jobs, typeJob{dst: x, arrayCount: true})
	case lfBitfield:
		// A bitfield's storage type; Field carries the bits.
		*x = *t.build(c.U32(), depth+1)
	case lfProcedure:
		x.Kind = ctype.Function
		x.Elem = t.build(c.U32(), depth+1)
	case lfMFunction:
		x.Kind = ctype.Function
		x.Elem = t.build(c.U32(), depth+1)
	default:
		x.Name = leafName(kind)
	}
	return x
}

// buildRecord builds a structure, union, enum or alias.
func (t *Types) buildRecord(ti uint32, h *recordHead, depth int) *ctype.Type {
	if h.fwd() {
		def, ok := t.defs[h.key()]
		if !ok && !anonymous(h.name) {
			def, ok = t.defs["\x00"+h.name]
		}
		if ok && def != ti {
			x := t.build(def, depth) // a definition: it does not redirect again
			t.memo[ti] = x
			return x
		}
	}
	x := &ctype.Type{Kind: h.kind, Size: h.size, Incomplete: h.fwd()}
	if !anonymous(h.name) {
		x.Name = h.name
	}
	t.memo[ti] = x
	switch h.kind {
	case ctype.Typedef:
		x.Elem = t.build(h.utype, depth+1)
		x.Size = x.Elem.Size
		return x
	case ctype.Enum:
		x.Elem = t.build(h.utype, depth+1)
		x.Size = x.Elem.Size
	}
	if !h.fwd() && h.list != 0 {
		t.jobs = append(t.jobs, typeJob{dst: x, list: h.list})
	}
	return x
}

// memberList decodes field list ti and its continuations, once.
func (t *Types) memberList(ti uint32) *memberList {
	if l, ok := t.lists[ti]; ok {
		return l
	}
	l := &memberList{}
	t.lists[ti] = l
	seen := map[uint32]bool{}
	for hops := 0; ti != 0 && !seen[ti] && hops < maxListChain; hops++ {
		seen[ti] = true
		kind, body, ok := t.ts.record(ti)
		if !ok || kind != lfFieldList {
			break
		}
		ti = t.decodeMembers(l, body)
	}
	return l
}

// decodeMembers appends the members of one LF_FIELDLIST body to l and
// returns the LF_INDEX continuation, 0 for none. It stops at a subrecord
// it cannot size.
func (t *Types) decodeMembers(l *memberList, body []byte) (next uint32) {
	c := bin.New(body, 0, binary.LittleEndian)
	for c.Len() >= 2 && c.Err() == nil && t.budget > 0 {
		switch leaf := c.U16(); leaf {
		case lfMember:
			c.U16() // attributes
			ti := c.U32()
			off, _ := numeric(c)
			name := cstring(c)
			if c.Err() != nil {
				return next
			}
			f := ctype.Field{Name: name, Offset: off}
			if kind, b, ok := t.ts.record(ti); ok && kind == lfBitfield && len(b) >= 6 {
				bc := bin.New(b, 0, binary.LittleEndian)
				f.Type = t.build(bc.U32(), 0)
				f.BitSize = uint32(bc.U8())
				f.BitOffset = uint32(bc.U8())
			} else {
				f.Type = t.build(ti, 0)
			}
			l.fields = append(l.fields, f)
			t.budget--
		case lfBClass, lfBInterface:
			c.U16()
			ti := c.U32()
			off, _ := numeric(c)
			if c.Err() != nil {
				return next
			}
			b := t.build(ti, 0)
			l.fields = append(l.fields, ctype.Field{Name: b.Name, Offset: off, Type: b, BaseClass: true})
			t.budget--
		case lfVBClass, lfIVBClass:
			c.U16()
			c.U32() // base class
			c.U32() // virtual base pointer type
			numeric(c)
			numeric(c)
		case lfEnumerate:
			c.U16()
			v, _ := numeric(c)
			name := cstring(c)
			if c.Err() != nil {
				return next
			}
			l.enums = append(l.enums, ctype.Enumerator{Name: name, Value: int64(v)})
			t.budget--
		case lfVFuncTab:
			c.U16()
			ti := c.U32()
			if c.Err() != nil {
				return next
			}
			l.fields = append(l.fields, ctype.Field{Name: "__VFN_table", Type: t.build(ti, 0)})
			t.budget--
		case lfIndex:
			c.U16()
			next = c.U32()
		case lfSTMember, lfNestTypeEx, lfMemberModify:
			c.U16()
			c.U32()
			cstring(c)
		case lfNestType, lfFriendFcn:
			c.U16()
			c.U32()
			cstring(c)
		case lfMethod:
			c.U16() // overload count
			c.U32() // method list
			cstring(c)
		case lfOneMethod:
			attr := c.U16()
			c.U32()
			if mprop := attr >> 2 & 7; mprop == 4 || mprop == 6 { // (pure) introducing virtual
				c.U32() // vtable offset
			}
			cstring(c)
		case lfFriendCls:
			c.U16()
			c.U32()
		case lfVFuncOff:
			c.U16()
			c.U32()
			c.U32()
		default:
			return next
		}
		for c.Len() > 0 && body[c.Pos()] >= 0xf0 { // LF_PAD0..LF_PAD15
			c.Skip(1)
		}
	}
	return next
}

// simple builds a built-in type: bits 0-7 the kind, bits 8-11 the mode
// (direct or a pointer of some size). See TypeIndex in the TPI docs.
func (t *Types) simple(ti uint32, depth int) *ctype.Type {
	mode := ti >> 8 & 0xf
	if mode != 0 {
		var size uint64
		switch mode {
		case 1: // near16
			size = 2
		case 2, 3: // far16, huge16
			size = 4
		case 4: // near32
			size = 4
		case 5: // far32 (16:32)
			size = 6
		case 6: // near64
			size = 8
		case 7: // near128
			size = 16
		}
		return &ctype.Type{Kind: ctype.Pointer, Size: size, Elem: t.build(ti&0xff, depth+1)}
	}
	if s, ok := simpleTypes[ti&0xff]; ok {
		x := s.t
		return &x
	}
	return &ctype.Type{Kind: ctype.Base, Name: fmt.Sprintf("<T_%#04x>", ti)}
}

type simpleType struct{ t ctype.Type }

func base(name string, size uint64, signed bool) simpleType {
	return simpleType{ctype.Type{Kind: ctype.Base, Name: name, Size: size, Signed: signed}}
}

func char(name string, size uint64, signed bool) simpleType {
	s := base(name, size, signed)
	s.t.Char = true
	return s
}

func float(name string, size uint64) simpleType {
	s := base(name, size, true)
	s.t.Float = true
	return s
}

// simpleTypes are the built-in types by kind (TypeIndex bits 0-7), named
// as MSVC spells them.
var simpleTypes = map[uint32]simpleType{
	0x00: {ctype.Type{Kind: ctype.Void, Name: "<no type>"}},
	0x03: {ctype.Type{Kind: ctype.Void, Name: "void"}},
	0x07: {ctype.Type{Kind: ctype.Base, Name: "<not translated>"}},
	0x08: base("HRESULT", 4, true),
	0x10: char("signed char", 1, true), // T_CHAR
	0x20: char("unsigned char", 1, false),
	0x70: char("char", 1, true), // T_RCHAR
	0x71: char("wchar_t", 2, false),
	0x7a: char("char16_t", 2, false),
	0x7b: char("char32_t", 4, false),
	0x7c: char("char8_t", 1, false),
	0x68: base("__int8", 1, true),
	0x69: base("unsigned __int8", 1, false),
	0x11: base("short", 2, true),
	0x21: base("unsigned short", 2, false),
	0x72: base("__int16", 2, true),
	0x73: base("unsigned __int16", 2, false),
	0x12: base("long", 4, true),
	0x22: base("unsigned long", 4, false),
	0x74: base("int", 4, true),
	0x75: base("unsigned int", 4, false),
	0x13: base("__int64", 8, true),
	0x23: base("unsigned __int64", 8, false),
	0x76: base("__int64", 8, true),
	0x77: base("unsigned __int64", 8, false),
	0x14: base("__int128", 16, true),
	0x24: base("unsigned __int128", 16, false),
	0x78: base("__int128", 16, true),
	0x79: base("unsigned __int128", 16, false),
	0x46: float("__half", 2),
	0x40: float("float", 4),
	0x45: float("float", 4),
	0x44: float("__float48", 6),
	0x41: float("double", 8),
	0x42: float("long double", 10),
	0x43: float("__float128", 16),
	0x30: base("bool", 1, false),
	0x31: base("__bool16", 2, false),
	0x32: base("__bool32", 4, false),
	0x33: base("__bool64", 8, false),
}

// leafName names a leaf kind for a type this package does not model.
func leafName(kind uint16) string {
	if n, ok := leafNames[kind]; ok {
		return "<" + n + ">"
	}
	return fmt.Sprintf("<LF_%#04x>", kind)
}

var leafNames = map[uint16]string{
	0x000a: "LF_VTSHAPE",
	0x000e: "LF_LABEL",
	0x1201: "LF_ARGLIST",
	0x1203: "LF_FIELDLIST",
	0x1206: "LF_METHODLIST",
	0x151d: "LF_VFTABLE",
	0x1515: "LF_TYPESERVER2",
	0x1601: "LF_FUNC_ID",
	0x1602: "LF_MFUNC_ID",
	0x1603: "LF_BUILDINFO",
	0x1604: "LF_SUBSTR_LIST",
	0x1605: "LF_STRING_ID",
	0x1606: "LF_UDT_SRC_LINE",
	0x1607: "LF_UDT_MOD_SRC_LINE",
}
