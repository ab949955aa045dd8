package dwarftab

import (
	"debug/dwarf"
	"slices"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/symbols/ctype"
)

// Types is the DWARF type information of one module as a ctype.Source,
// for dt on ELF modules: the named structures, unions, classes, enums and
// typedefs at the top level of each compile unit and inside C++
// namespaces ("ns::name"). The names are indexed on the first question
// (one pass over .debug_info); each type is converted when first asked
// for, through debug/dwarf's own type reader, and kept. Safe for
// concurrent use.
type Types struct {
	d     *dwarf.Data
	index func() map[string]dwarf.Offset

	mu   sync.Mutex
	memo map[dwarf.Type]*ctype.Type
}

// NewTypes returns the types of d.
func NewTypes(d *dwarf.Data) *Types {
	t := &Types{d: d, memo: map[dwarf.Type]*ctype.Type{}}
	t.index = sync.OnceValue(t.buildIndex)
	return t
}

var _ ctype.Source = (*Types)(nil)

// buildIndex maps each type name to its entry, a definition rather than a
// declaration where both exist.
func (t *Types) buildIndex() map[string]dwarf.Offset {
	idx := map[string]dwarf.Offset{}
	declared := map[string]bool{} // names indexed only by a declaration
	r := t.d.Reader()
	var scope []string // enclosing namespaces; "" marks a non-namespace level
	var nulls nullRun
	for {
		e, err := r.Next()
		if err != nil || e == nil || nulls.stalled(e) {
			break
		}
		if e.Tag == 0 { // end of a level's children
			if len(scope) > 0 {
				scope = scope[:len(scope)-1]
			}
			continue
		}
		name, _ := e.Val(dwarf.AttrName).(string)
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
			scope = scope[:0]
			if e.Children {
				scope = append(scope, "")
			}
			continue
		case dwarf.TagNamespace:
			if e.Children {
				scope = append(scope, name)
			}
			continue
		case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType, dwarf.TagEnumerationType, dwarf.TagTypedef:
			if name != "" {
				full := qualify(scope, name)
				decl, _ := e.Val(dwarf.AttrDeclaration).(bool)
				if _, ok := idx[full]; !ok || (declared[full] && !decl) {
					idx[full] = e.Offset
					declared[full] = decl
				}
			}
		}
		// Types are not looked for inside functions, structures and
		// other entries: their children are skipped.
		if e.Children {
			r.SkipChildren()
		}
	}
	return idx
}

// qualify joins the namespaces of scope (skipping the unit's level) and name.
func qualify(scope []string, name string) string {
	var parts []string
	for _, s := range scope {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(append(parts, name), "::")
}

// Type returns the named type. "struct node" and "node" both find a
// structure tagged node.
func (t *Types) Type(name string) (*ctype.Type, bool) {
	for _, p := range []string{"struct ", "union ", "enum ", "class "} {
		name = strings.TrimPrefix(name, p)
	}
	off, ok := t.index()[name]
	if !ok {
		return nil, false
	}
	dt, err := t.d.Type(off)
	if err != nil {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.convert(dt, 0), true
}

// TypeNames yields the indexed names in sorted order.
func (t *Types) TypeNames(yield func(string) bool) {
	idx := t.index()
	names := make([]string, 0, len(idx))
	for n := range idx {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !yield(n) {
			return
		}
	}
}

// maxDepth bounds conversion: debug/dwarf resolves cycles itself, but a
// corrupt file may still nest absurdly.
const maxDepth = 64

// convert turns a debug/dwarf type into the ctype model; t.mu is held.
// The result is memoised before its parts are converted, so cycles
// (struct node { struct node *next; }) end.
func (t *Types) convert(dt dwarf.Type, depth int) *ctype.Type {
	if dt == nil {
		return &ctype.Type{Kind: ctype.Void, Name: "void"}
	}
	if c, ok := t.memo[dt]; ok {
		return c
	}
	if depth > maxDepth {
		return &ctype.Type{Kind: ctype.Base, Name: "<too deep>"}
	}
	c := &ctype.Type{}
	t.memo[dt] = c
	switch x := dt.(type) {
	case *dwarf.StructType:
		c.Kind, c.Name, c.Size, c.Incomplete = ctype.Struct, x.StructName, uint64(max(x.ByteSize, 0)), x.Incomplete
		if x.Kind == "union" {
			c.Kind = ctype.Union
		}
		for _, f := range x.Field {
			c.Fields = append(c.Fields, t.field(f, depth))
		}
	case *dwarf.EnumType:
		c.Kind, c.Name, c.Size = ctype.Enum, x.EnumName, uint64(max(x.ByteSize, 0))
		for _, v := range x.Val {
			c.Enumerators = append(c.Enumerators, ctype.Enumerator{Name: v.Name, Value: v.Val})
		}
		c.Elem = &ctype.Type{Kind: ctype.Base, Name: "int", Size: c.Size, Signed: true}
	case *dwarf.PtrType:
		c.Kind, c.Size = ctype.Pointer, uint64(max(x.ByteSize, 0))
		c.Elem = t.convert(x.Type, depth+1)
	case *dwarf.ArrayType:
		c.Kind, c.Size = ctype.Array, uint64(max(x.ByteSize, 0))
		c.Count = uint64(max(x.Count, 0))
		c.Elem = t.convert(x.Type, depth+1)
	case *dwarf.TypedefType:
		c.Kind, c.Name, c.Size = ctype.Typedef, x.Name, uint64(max(x.Size(), 0))
		c.Elem = t.convert(x.Type, depth+1)
	case *dwarf.QualType:
		// ctype keeps qualifiers on the type's use: a copy of the
		// qualified type with the flag set.
		inner := t.convert(x.Type, depth+1)
		*c = *inner
		switch x.Qual {
		case "const":
			c.Const = true
		case "volatile":
			c.Volatile = true
		}
	case *dwarf.FuncType:
		c.Kind, c.Name = ctype.Function, x.String()
		c.Elem = t.convert(x.ReturnType, depth+1)
	case *dwarf.VoidType:
		c.Kind, c.Name = ctype.Void, "void"
	case *dwarf.CharType:
		c.Kind, c.Name, c.Size, c.Signed, c.Char = ctype.Base, x.Name, uint64(max(x.ByteSize, 0)), true, true
	case *dwarf.UcharType:
		c.Kind, c.Name, c.Size, c.Char = ctype.Base, x.Name, uint64(max(x.ByteSize, 0)), true
	case *dwarf.IntType:
		c.Kind, c.Name, c.Size, c.Signed = ctype.Base, x.Name, uint64(max(x.ByteSize, 0)), true
	case *dwarf.UintType:
		c.Kind, c.Name, c.Size = ctype.Base, x.Name, uint64(max(x.ByteSize, 0))
		c.Char = strings.Contains(x.Name, "char") // char16_t, char32_t, wchar_t
	case *dwarf.FloatType:
		c.Kind, c.Name, c.Size, c.Float = ctype.Base, x.Name, uint64(max(x.ByteSize, 0)), true
	case *dwarf.BoolType:
		c.Kind, c.Name, c.Size = ctype.Base, "bool", uint64(max(x.ByteSize, 0))
	default:
		c.Kind, c.Name, c.Size = ctype.Base, dt.String(), uint64(max(dt.Size(), 0))
	}
	return c
}

// field converts a structure member. Bitfields come in two forms: DWARF
// 4's DW_AT_data_bit_offset (bits from the structure's start) and the
// older DW_AT_bit_offset (bits from the most significant bit of a storage
// unit of DW_AT_byte_size bytes at the member's offset); ctype wants the
// storage unit's offset and the bit position from its least significant
// bit, as on little-endian targets. debug/dwarf leaves both offsets 0 for
// a bitfield at bit 0 of the new form and at the top bit of the old one;
// the old form always has a byte size, the new one does not.
func (t *Types) field(f *dwarf.StructField, depth int) ctype.Field {
	cf := ctype.Field{Name: f.Name, Offset: uint64(max(f.ByteOffset, 0)), Type: t.convert(f.Type, depth+1)}
	if f.BitSize <= 0 {
		return cf
	}
	cf.BitSize = uint32(f.BitSize)
	if f.BitOffset != 0 || (f.DataBitOffset == 0 && f.ByteSize != 0) {
		unit := f.ByteSize
		if unit <= 0 {
			unit = max(f.Type.Size(), 1)
		}
		cf.BitOffset = uint32(max(unit*8-f.BitOffset-f.BitSize, 0))
		return cf
	}
	unit := max(f.Type.Size(), 1)
	abs := f.DataBitOffset + f.ByteOffset*8
	start := abs / (unit * 8) * unit
	if abs-start*8+f.BitSize > unit*8 {
		// The field crosses the natural unit (packed layouts): start at its byte.
		start = abs / 8
	}
	cf.Offset = uint64(start)
	cf.BitOffset = uint32(abs - start*8)
	return cf
}
