package linux

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// BTF kinds (include/uapi/linux/btf.h).
const (
	btfInt       = 1
	btfPtr       = 2
	btfArray     = 3
	btfStruct    = 4
	btfUnion     = 5
	btfEnum      = 6
	btfFwd       = 7
	btfTypedef   = 8
	btfVolatile  = 9
	btfConst     = 10
	btfRestrict  = 11
	btfFunc      = 12
	btfFuncProto = 13
	btfVar       = 14
	btfDatasec   = 15
	btfFloat     = 16
	btfDeclTag   = 17
	btfTypeTag   = 18
	btfEnum64    = 19

	btfMagic     = 0xeb9f
	btfHeaderLen = 24
	maxBTFDepth  = 32 // typedef/qualifier chains and anonymous-member nesting
	// maxMemberVisits bounds the members one lookup may examine, so that
	// anonymous members that refer to each other cannot blow up.
	maxMemberVisits = 1 << 16
)

// BTF is a parsed BPF Type Format blob (the kernel's .BTF section): enough
// to find struct layouts. Only little-endian blobs are accepted here.
type BTF struct {
	types []btfType // types[0] is void
	strs  []byte
	tdata []byte
	named map[string][]uint32 // struct/union name -> type ids
}

type btfType struct {
	name  uint32 // offset into strs
	info  uint32
	size  uint32 // size or referenced type
	extra uint32 // offset into tdata of the kind-specific data
}

func (t btfType) kind() uint32    { return t.info >> 24 & 0x1f }
func (t btfType) vlen() uint32    { return t.info & 0xffff }
func (t btfType) kflag() bool     { return t.info>>31 != 0 }
func (t btfType) aggregate() bool { return t.kind() == btfStruct || t.kind() == btfUnion }

// Member is one member of a struct or union.
type Member struct {
	Name    string // "" for an anonymous struct or union
	Type    uint32 // BTF type id
	BitOff  uint64 // offset in bits from the start of the enclosing type
	BitSize uint32 // bitfield width; 0 for an ordinary member
}

// ParseBTF parses a BTF blob: the header, the type section and the string
// section. It checks every record lies inside the type section and every
// name inside the string section; it allocates in proportion to len(data).
func ParseBTF(data []byte) (*BTF, error) {
	if len(data) < btfHeaderLen {
		return nil, errors.New("btf: shorter than its header")
	}
	if binary.LittleEndian.Uint16(data) != btfMagic {
		if binary.BigEndian.Uint16(data) == btfMagic {
			return nil, errors.New("btf: big-endian BTF is not supported")
		}
		return nil, fmt.Errorf("btf: bad magic %#04x", binary.LittleEndian.Uint16(data))
	}
	if data[2] != 1 {
		return nil, fmt.Errorf("btf: version %d, want 1", data[2])
	}
	hdrLen := uint64(binary.LittleEndian.Uint32(data[4:]))
	typeOff := uint64(binary.LittleEndian.Uint32(data[8:]))
	typeLen := uint64(binary.LittleEndian.Uint32(data[12:]))
	strOff := uint64(binary.LittleEndian.Uint32(data[16:]))
	strLen := uint64(binary.LittleEndian.Uint32(data[20:]))
	if hdrLen < btfHeaderLen || hdrLen > uint64(len(data)) {
		return nil, fmt.Errorf("btf: header length %d", hdrLen)
	}
	body := data[hdrLen:]
	if typeOff+typeLen > uint64(len(body)) || strOff+strLen > uint64(len(body)) {
		return nil, fmt.Errorf("btf: sections (types %d+%d, strings %d+%d) exceed the %d bytes after the header",
			typeOff, typeLen, strOff, strLen, len(body))
	}
	if typeOff%4 != 0 {
		return nil, fmt.Errorf("btf: type section offset %d is not 4-aligned", typeOff)
	}
	b := &BTF{tdata: body[typeOff : typeOff+typeLen], strs: body[strOff : strOff+strLen], named: map[string][]uint32{}}
	if len(b.strs) > 0 && b.strs[len(b.strs)-1] != 0 {
		return nil, errors.New("btf: string section does not end with NUL")
	}
	b.types = make([]btfType, 1, 1+typeLen/12)
	td := b.tdata
	for p := uint64(0); p < uint64(len(td)); {
		if p+12 > uint64(len(td)) {
			return nil, fmt.Errorf("btf: type %d at %d is truncated", len(b.types), p)
		}
		t := btfType{name: binary.LittleEndian.Uint32(td[p:]), info: binary.LittleEndian.Uint32(td[p+4:]), size: binary.LittleEndian.Uint32(td[p+8:]), extra: uint32(p + 12)}
		var n uint64
		switch vl := uint64(t.vlen()); t.kind() {
		case btfInt, btfVar, btfDeclTag:
			n = 4
		case btfArray:
			n = 12
		case btfStruct, btfUnion, btfDatasec, btfEnum64:
			n = 12 * vl
		case btfEnum, btfFuncProto:
			n = 8 * vl
		case btfPtr, btfFwd, btfTypedef, btfVolatile, btfConst, btfRestrict, btfFunc, btfFloat, btfTypeTag:
		default:
			return nil, fmt.Errorf("btf: type %d has unknown kind %d", len(b.types), t.kind())
		}
		p += 12 + n
		if p > uint64(len(td)) {
			return nil, fmt.Errorf("btf: type %d (kind %d) overruns the type section", len(b.types), t.kind())
		}
		if _, ok := b.str(t.name); !ok {
			return nil, fmt.Errorf("btf: type %d has name offset %d outside the string section", len(b.types), t.name)
		}
		if len(b.types) >= 1<<31 {
			return nil, errors.New("btf: too many types")
		}
		if t.aggregate() && t.name != 0 {
			name, _ := b.str(t.name)
			b.named[name] = append(b.named[name], uint32(len(b.types)))
		}
		b.types = append(b.types, t)
	}
	return b, nil
}

// str returns the NUL-terminated string at off.
func (b *BTF) str(off uint32) (string, bool) {
	if uint64(off) >= uint64(len(b.strs)) {
		return "", off == 0
	}
	s := b.strs[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return string(s[:i]), true
	}
	return "", false
}

// NumTypes returns the number of types, not counting void.
func (b *BTF) NumTypes() int { return len(b.types) - 1 }

// Struct returns the type id of the complete struct or union called name
// (the first with members if several, e.g. after a forward declaration).
func (b *BTF) Struct(name string) (uint32, bool) {
	ids := b.named[name]
	for _, id := range ids {
		if b.types[id].vlen() > 0 {
			return id, true
		}
	}
	if len(ids) > 0 {
		return ids[0], true
	}
	return 0, false
}

// TypeName returns a type's name ("" if anonymous or out of range).
func (b *BTF) TypeName(id uint32) string {
	if uint64(id) >= uint64(len(b.types)) {
		return ""
	}
	s, _ := b.str(b.types[id].name)
	return s
}

// Members returns the members of struct or union id.
func (b *BTF) Members(id uint32) ([]Member, error) {
	if id == 0 || uint64(id) >= uint64(len(b.types)) {
		return nil, fmt.Errorf("btf: no type %d", id)
	}
	t := b.types[id]
	if !t.aggregate() {
		return nil, fmt.Errorf("btf: type %d is kind %d, not a struct or union", id, t.kind())
	}
	out := make([]Member, t.vlen())
	for i := range out {
		p := uint64(t.extra) + 12*uint64(i)
		m := b.tdata[p:]
		name, _ := b.str(binary.LittleEndian.Uint32(m))
		off := binary.LittleEndian.Uint32(m[8:])
		out[i] = Member{Name: name, Type: binary.LittleEndian.Uint32(m[4:]), BitOff: uint64(off)}
		if t.kflag() {
			out[i].BitOff, out[i].BitSize = uint64(off&0xffffff), off>>24
		}
	}
	return out, nil
}

// MemberOffset returns the byte offset of member name in struct or union
// id, looking through anonymous struct and union members as C does. It
// fails for bitfields that do not start on a byte boundary.
func (b *BTF) MemberOffset(id uint32, name string) (uint64, error) {
	budget := maxMemberVisits
	off, ok, err := b.memberOffset(id, name, 0, &budget)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("btf: %s has no member %q", b.TypeName(id), name)
	}
	if off%8 != 0 {
		return 0, fmt.Errorf("btf: %s.%s is a bitfield at bit %d", b.TypeName(id), name, off)
	}
	return off / 8, nil
}

func (b *BTF) memberOffset(id uint32, name string, depth int, budget *int) (uint64, bool, error) {
	if depth > maxBTFDepth {
		return 0, false, errors.New("btf: anonymous members nest too deeply")
	}
	ms, err := b.Members(id)
	if err != nil {
		return 0, false, err
	}
	if *budget -= len(ms); *budget < 0 {
		return 0, false, errors.New("btf: too many anonymous members to search")
	}
	for _, m := range ms {
		if m.Name == name {
			return m.BitOff, true, nil
		}
	}
	for _, m := range ms {
		if m.Name != "" {
			continue
		}
		inner := b.resolve(m.Type)
		if inner == 0 || !b.types[inner].aggregate() {
			continue
		}
		off, ok, err := b.memberOffset(inner, name, depth+1, budget)
		if err != nil {
			return 0, false, err
		}
		if ok {
			return m.BitOff + off, true, nil
		}
	}
	return 0, false, nil
}

// resolve follows typedefs and qualifiers to the underlying type id (0 if
// the chain is broken or too long).
func (b *BTF) resolve(id uint32) uint32 {
	for range maxBTFDepth {
		if id == 0 || uint64(id) >= uint64(len(b.types)) {
			return 0
		}
		switch b.types[id].kind() {
		case btfTypedef, btfVolatile, btfConst, btfRestrict, btfTypeTag:
			id = b.types[id].size
		default:
			return id
		}
	}
	return 0
}

// Size returns the size in bytes of type id (structs, unions, ints,
// enums, pointers, arrays and what typedefs name).
func (b *BTF) Size(id uint32) (uint64, error) {
	var mul uint64 = 1
	for range maxBTFDepth {
		id = b.resolve(id)
		if id == 0 {
			return 0, errors.New("btf: void or broken type chain")
		}
		t := b.types[id]
		switch t.kind() {
		case btfInt, btfStruct, btfUnion, btfEnum, btfEnum64, btfFloat, btfDatasec:
			return mul * uint64(t.size), nil
		case btfPtr:
			return mul * 8, nil
		case btfArray:
			a := b.tdata[t.extra:]
			n := uint64(binary.LittleEndian.Uint32(a[8:]))
			if n != 0 && mul > (1<<40)/n {
				return 0, errors.New("btf: array too large")
			}
			mul *= n
			id = binary.LittleEndian.Uint32(a)
		default:
			return 0, fmt.Errorf("btf: type %d of kind %d has no size", id, t.kind())
		}
	}
	return 0, errors.New("btf: type chain too long")
}

// MemberType returns the type id of member name of struct id (searching
// anonymous members too).
func (b *BTF) MemberType(id uint32, name string) (uint32, error) {
	budget := maxMemberVisits
	return b.memberType(id, name, 0, &budget)
}

func (b *BTF) memberType(id uint32, name string, depth int, budget *int) (uint32, error) {
	if depth > maxBTFDepth {
		return 0, errors.New("btf: anonymous members nest too deeply")
	}
	ms, err := b.Members(id)
	if err != nil {
		return 0, err
	}
	if *budget -= len(ms); *budget < 0 {
		return 0, errors.New("btf: too many anonymous members to search")
	}
	for _, m := range ms {
		if m.Name == name {
			return m.Type, nil
		}
	}
	for _, m := range ms {
		if inner := b.resolve(m.Type); m.Name == "" && inner != 0 && b.types[inner].aggregate() {
			t, err := b.memberType(inner, name, depth+1, budget)
			if err == nil {
				return t, nil
			}
			if *budget < 0 {
				return 0, err
			}
		}
	}
	return 0, fmt.Errorf("btf: %s has no member %q", b.TypeName(id), name)
}
