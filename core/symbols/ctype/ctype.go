// Package ctype is the format-neutral model of C and C++ data types that
// symbol sources read (PDB type records today; DWARF and BTF can fill the
// same model) and that the console's dt command and the kernel-dump code
// use: structures with their field offsets, unions, enums, pointers,
// arrays and bitfields.
//
// A *Type graph may be cyclic (a structure holding a pointer to itself),
// so walk it by following Fields and Elem only as deep as needed.
package ctype

import "strings"

// Kind says what a Type is.
type Kind uint8

const (
	Void     Kind = iota
	Base          // an integer, character, boolean or floating-point type
	Pointer       // Elem is the pointee
	Array         // Elem is the element type, Count the element count
	Struct        // Fields; also C++ classes and interfaces
	Union         // Fields, all usually at offset 0
	Enum          // Enumerators; Elem is the underlying integer type
	Function      // a function type (pointers to functions point here)
	Typedef       // Elem is the named type
)

var kindNames = [...]string{"void", "base", "pointer", "array", "struct", "union", "enum", "function", "typedef"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Type is one data type.
type Type struct {
	Kind Kind
	// Name is the type's name as the source spells it: "_EPROCESS",
	// "unsigned long", "std::vector<int>"; "" for anonymous types and
	// for pointers and arrays (see String).
	Name string
	// Size is the size in bytes; 0 for void, functions and incomplete types.
	Size uint64
	// Elem: Pointer, Array, Enum, Typedef (see Kind); for a Function,
	// its return type when the source records one.
	Elem *Type
	// Count is the element count of an Array.
	Count uint64
	// Fields are a Struct's or Union's data members and base classes, in
	// declaration order.
	Fields []Field
	// Enumerators are an Enum's named values.
	Enumerators []Enumerator
	// Signed and Float describe a Base type; Char marks character types
	// (char, wchar_t, char16_t, char32_t).
	Signed, Float, Char bool
	// Const and Volatile are the qualifiers of this use of the type.
	Const, Volatile bool
	// Incomplete marks a structure, union or enum that is only declared:
	// no definition was found.
	Incomplete bool
}

// Field is one member of a Struct or Union.
type Field struct {
	Name   string
	Offset uint64 // byte offset in the containing type
	Type   *Type
	// BitSize is the width of a bitfield, 0 for other fields; BitOffset is
	// then the bit position within the storage unit at Offset (whose type
	// is Type), counting from the least significant bit.
	BitOffset, BitSize uint32
	// BaseClass marks a C++ base class subobject (Name is then the base's name).
	BaseClass bool
}

// Enumerator is one named value of an Enum.
type Enumerator struct {
	Name  string
	Value int64
}

// Source answers type questions for one module.
type Source interface {
	// Type returns the named type, its definition rather than a forward
	// declaration when one exists.
	Type(name string) (*Type, bool)
	// TypeNames calls yield with the name of every named struct, union,
	// enum and typedef, each once.
	TypeNames(yield func(string) bool)
}

// Underlying follows typedefs and returns the type they name.
func (t *Type) Underlying() *Type {
	for i := 0; t != nil && t.Kind == Typedef && i < 64; i++ {
		t = t.Elem
	}
	return t
}

// String spells the type as C would in a declaration without a name:
// "struct _LIST_ENTRY *", "unsigned char[16]", "const char *".
func (t *Type) String() string {
	var b strings.Builder
	t.write(&b, 0)
	return b.String()
}

func (t *Type) write(b *strings.Builder, depth int) {
	if t == nil || depth > 32 {
		b.WriteString("?")
		return
	}
	if t.Const && t.Kind != Pointer {
		b.WriteString("const ")
	}
	if t.Volatile && t.Kind != Pointer {
		b.WriteString("volatile ")
	}
	switch t.Kind {
	case Void:
		b.WriteString("void")
	case Pointer:
		t.Elem.write(b, depth+1)
		b.WriteString(" *")
		if t.Const {
			b.WriteString("const")
		}
	case Array:
		t.Elem.write(b, depth+1)
		b.WriteString("[")
		b.WriteString(uitoa(t.Count))
		b.WriteString("]")
	case Struct, Union, Enum:
		b.WriteString(t.Kind.String())
		b.WriteString(" ")
		if t.Name == "" {
			b.WriteString("<anonymous>")
		} else {
			b.WriteString(t.Name)
		}
	case Function:
		if t.Name != "" {
			b.WriteString(t.Name)
		} else {
			b.WriteString("function")
		}
	default:
		b.WriteString(t.Name)
	}
}

func uitoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(buf[i:])
		}
	}
}
