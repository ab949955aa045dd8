package ctype

import "testing"

func TestString(t *testing.T) {
	ulong := &Type{Kind: Base, Name: "unsigned long", Size: 4}
	node := &Type{Kind: Struct, Name: "node", Size: 16}
	self := &Type{Kind: Pointer, Size: 8, Elem: node}
	node.Fields = []Field{{Name: "next", Type: self}}
	loop := &Type{Kind: Pointer, Size: 8}
	loop.Elem = loop
	fn := &Type{Kind: Function, Elem: &Type{Kind: Void, Name: "void"}}
	for _, c := range []struct {
		t    *Type
		want string
	}{
		{ulong, "unsigned long"},
		{&Type{Kind: Base, Name: "char", Size: 1, Const: true}, "const char"},
		{self, "struct node *"},
		{&Type{Kind: Pointer, Size: 8, Elem: node, Const: true}, "struct node *const"},
		{&Type{Kind: Array, Elem: ulong, Count: 3, Size: 12}, "unsigned long[3]"},
		{&Type{Kind: Union}, "union <anonymous>"},
		{&Type{Kind: Pointer, Elem: &Type{Kind: Pointer, Elem: fn}}, "function * *"},
		{&Type{Kind: Typedef, Name: "ULONG", Elem: ulong}, "ULONG"},
	} {
		if got := c.t.String(); got != c.want {
			t.Errorf("%q, want %q", got, c.want)
		}
	}
	if s := loop.String(); len(s) == 0 || len(s) > 200 {
		t.Errorf("a pointer to itself spells %q", s)
	}
	td := &Type{Kind: Typedef, Name: "A"}
	td.Elem = &Type{Kind: Typedef, Name: "B", Elem: ulong}
	if td.Underlying() != ulong {
		t.Error("Underlying does not follow typedefs")
	}
	cyc := &Type{Kind: Typedef, Name: "C"}
	cyc.Elem = cyc
	cyc.Underlying() // ends
	if Kind(200).String() != "kind?" || Enum.String() != "enum" {
		t.Error("Kind.String")
	}
}
