package msvc

import "strconv"

// flags select parts of the output to leave out, as llvm-undname's
// --no-* options do.
type flags uint8

const (
	noCallingConvention flags = 1 << iota
	noAccessSpecifier
	noReturnType
	noMemberType
	noVariableType

	nameFlags = noCallingConvention | noAccessSpecifier | noReturnType | noMemberType | noVariableType
)

// quals are cv-qualifiers and the Microsoft pointer extensions.
type quals uint8

const (
	qConst quals = 1 << iota
	qVolatile
	qRestrict
	qUnaligned
	qPtr64
)

// funcClass is what a function-class letter says about a function.
type funcClass uint16

const (
	fcPublic funcClass = 1 << iota
	fcProtected
	fcPrivate
	fcGlobal
	fcStatic
	fcVirtual
	fcFar
	fcExternC
	fcNoParams
	fcStaticAdjust
	fcVirtualAdjust
	fcVirtualAdjustEx
)

type storage uint8

const (
	scNone storage = iota
	scPrivateStatic
	scProtectedStatic
	scPublicStatic
	scGlobal
	scLocalStatic
)

// node is anything that renders: identifiers, names, types, template
// arguments and symbols.
type node interface {
	out(o *output, f flags)
}

// output is the rendering buffer; it stops growing at limit so that
// back-references cannot blow a short name up into an enormous string.
type output struct {
	b     []byte
	limit int
	over  bool
}

func (o *output) s(s string) {
	if o.over {
		return
	}
	if len(o.b)+len(s) > o.limit {
		o.over = true
		return
	}
	o.b = append(o.b, s...)
}

func (o *output) n(v int64)  { o.s(strconv.FormatInt(v, 10)) }
func (o *output) u(v uint64) { o.s(strconv.FormatUint(v, 10)) }

func (o *output) last() byte {
	if len(o.b) == 0 {
		return 0
	}
	return o.b[len(o.b)-1]
}

// space writes a blank unless the text so far ends in punctuation.
func (o *output) space() {
	c := o.last()
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '>' {
		o.s(" ")
	}
}

func (o *output) quals(q quals, before, after bool) {
	start := len(o.b)
	for _, x := range []struct {
		q quals
		s string
	}{{qConst, "const"}, {qVolatile, "volatile"}, {qRestrict, "__restrict"}} {
		if q&x.q == 0 {
			continue
		}
		if before {
			o.s(" ")
		}
		o.s(x.s)
		before = true
	}
	if after && len(o.b) > start {
		o.s(" ")
	}
}

// ---- names ----

type identKind uint8

const (
	idNamed identKind = iota
	idOperator
	idStructor
	idConversion
	idLiteralOp
	idDynamic
	idGuard
	idVcall
	idBaseClassDesc
)

type ident struct {
	kind    identKind
	name    string // idNamed text, idOperator spelling, idLiteralOp suffix
	targs   []node // template arguments
	isTmpl  bool
	dtor    bool   // idStructor, idDynamic
	class   *ident // idStructor
	target  *typ   // idConversion
	varSym  *symbol
	inner   *qname // idDynamic naming a function
	thread  bool   // idGuard
	scope   uint64 // idGuard
	offset  uint64 // idVcall
	nums    [4]int64
	nonNull bool
}

func (id *ident) outTemplate(o *output, f flags) {
	if !id.isTmpl {
		return
	}
	o.s("<")
	for i, a := range id.targs {
		if i > 0 {
			o.s(", ")
		}
		a.out(o, f)
	}
	o.s(">")
}

func (id *ident) out(o *output, f flags) {
	if o.over {
		return
	}
	switch id.kind {
	case idNamed, idOperator:
		o.s(id.name)
		id.outTemplate(o, f)
	case idStructor:
		if id.dtor {
			o.s("~")
		}
		if id.class != nil {
			id.class.out(o, f)
		}
		id.outTemplate(o, f)
	case idConversion:
		o.s("operator")
		id.outTemplate(o, f)
		o.s(" ")
		if id.target != nil {
			id.target.out(o, f)
		}
	case idLiteralOp:
		o.s(`operator ""`)
		o.s(id.name)
		id.outTemplate(o, f)
	case idDynamic:
		if id.dtor {
			o.s("`dynamic atexit destructor for ")
		} else {
			o.s("`dynamic initializer for ")
		}
		if id.varSym != nil {
			o.s("`")
			id.varSym.out(o, f)
			o.s("''")
		} else {
			o.s("'")
			id.inner.out(o, f)
			o.s("''")
		}
	case idGuard:
		if id.thread {
			o.s("`local static thread guard'")
		} else {
			o.s("`local static guard'")
		}
		if id.scope > 0 {
			o.s("{")
			o.u(id.scope)
			o.s("}")
		}
	case idVcall:
		o.s("`vcall'{")
		o.u(id.offset)
		o.s(", {flat}}")
	case idBaseClassDesc:
		o.s("`RTTI Base Class Descriptor at (")
		for i, n := range id.nums {
			if i > 0 {
				o.s(", ")
			}
			o.n(n)
		}
		o.s(")'")
	}
}

// qname is a qualified name, outermost scope first.
type qname struct{ parts []*ident }

func (q *qname) out(o *output, f flags) {
	for i, p := range q.parts {
		if o.over {
			return
		}
		if i > 0 {
			o.s("::")
		}
		p.out(o, f)
	}
}

func (q *qname) last() *ident { return q.parts[len(q.parts)-1] }

// ---- types ----

type typeKind uint8

const (
	tPrim typeKind = iota
	tTag
	tPointer
	tArray
	tFunc
	tCustom
)

type affinity uint8

const (
	affPointer affinity = iota
	affRef
	affRValue
)

type typ struct {
	kind    typeKind
	q       quals
	prim    string   // tPrim
	tag     string   // tTag: "class", "struct", "union", "enum"
	name    *qname   // tTag
	aff     affinity // tPointer
	pointee *typ
	parent  *qname // member pointers
	dims    []uint64
	elem    *typ
	fn      *sig
	custom  *ident
}

func (t *typ) out(o *output, f flags) {
	t.pre(o, f)
	t.post(o, f)
}

func (t *typ) pre(o *output, f flags) {
	if o.over {
		return
	}
	switch t.kind {
	case tPrim:
		o.s(t.prim)
		o.quals(t.q, true, false)
	case tTag:
		o.s(t.tag)
		o.s(" ")
		t.name.out(o, f)
		o.quals(t.q, true, false)
	case tCustom:
		t.custom.out(o, f)
	case tArray:
		t.elem.pre(o, f)
		o.quals(t.q, true, false)
	case tFunc:
		t.fn.pre(o, f)
	case tPointer:
		p := t.pointee
		if p.kind == tFunc {
			// llvm-undname 14 prints a function pointer's signature
			// in full, whatever the options
			p.fn.preSignature(o, 0)
		} else {
			p.pre(o, f)
		}
		o.space()
		if t.q&qUnaligned != 0 {
			o.s("__unaligned ")
		}
		switch p.kind {
		case tArray:
			o.s("(")
		case tFunc:
			o.s("(")
			o.callConv(p.fn.cc)
			o.s(" ")
		}
		if t.parent != nil {
			t.parent.out(o, f)
			o.s("::")
		}
		switch t.aff {
		case affPointer:
			o.s("*")
		case affRef:
			o.s("&")
		case affRValue:
			o.s("&&")
		}
		o.quals(t.q, false, false)
	}
}

func (t *typ) post(o *output, f flags) {
	if o.over {
		return
	}
	switch t.kind {
	case tArray:
		o.s("[")
		for i, d := range t.dims {
			if i > 0 {
				o.s("][")
			}
			if d != 0 {
				o.u(d)
			}
		}
		o.s("]")
		t.elem.post(o, f)
	case tFunc:
		t.fn.post(o, f)
	case tPointer:
		p := t.pointee
		if p.kind == tArray || p.kind == tFunc {
			o.s(")")
		}
		if p.kind == tFunc {
			p.fn.post(o, 0)
		} else {
			p.post(o, f)
		}
	}
}

// sig is a function signature, possibly a thunk's.
type sig struct {
	fc       funcClass
	cc       string
	ret      *typ
	params   []*typ
	variadic bool
	q        quals
	noexcept bool
	refq     string // "", " &", " &&"
	thunk    bool
	adj      [4]int64 // vbptr, vboffset, vtordisp, static
}

func (o *output) callConv(cc string) {
	o.space()
	o.s(cc)
}

func (s *sig) preSignature(o *output, f flags) {
	if f&noAccessSpecifier == 0 {
		switch {
		case s.fc&fcPublic != 0:
			o.s("public: ")
		case s.fc&fcProtected != 0:
			o.s("protected: ")
		case s.fc&fcPrivate != 0:
			o.s("private: ")
		}
	}
	if f&noMemberType == 0 {
		if s.fc&fcGlobal == 0 && s.fc&fcStatic != 0 {
			o.s("static ")
		}
		if s.fc&fcVirtual != 0 {
			o.s("virtual ")
		}
		if s.fc&fcExternC != 0 {
			o.s(`extern "C" `)
		}
	}
	if f&noReturnType == 0 && s.ret != nil {
		s.ret.pre(o, f)
		o.s(" ")
	}
}

func (s *sig) pre(o *output, f flags) {
	if s.thunk {
		o.s("[thunk]: ")
	}
	s.preSignature(o, f)
	if f&noCallingConvention == 0 {
		o.callConv(s.cc)
	}
}

func (s *sig) post(o *output, f flags) {
	if o.over {
		return
	}
	if s.thunk {
		switch {
		case s.fc&fcStaticAdjust != 0:
			o.s("`adjustor{")
			o.n(s.adj[3])
			o.s("}'")
		case s.fc&fcVirtualAdjustEx != 0:
			o.s("`vtordispex{")
			for i, n := range s.adj {
				if i > 0 {
					o.s(", ")
				}
				o.n(n)
			}
			o.s("}'")
		case s.fc&fcVirtualAdjust != 0:
			o.s("`vtordisp{")
			o.n(s.adj[2])
			o.s(", ")
			o.n(s.adj[3])
			o.s("}'")
		}
	}
	if s.fc&fcNoParams == 0 {
		o.s("(")
		if s.params == nil {
			o.s("void")
		}
		for i, p := range s.params {
			if i > 0 {
				o.s(", ")
			}
			p.out(o, f)
		}
		if s.variadic {
			if o.last() != '(' {
				o.s(", ")
			}
			o.s("...")
		}
		o.s(")")
	}
	if s.q&qConst != 0 {
		o.s(" const")
	}
	if s.q&qVolatile != 0 {
		o.s(" volatile")
	}
	if s.q&qRestrict != 0 {
		o.s(" __restrict")
	}
	if s.q&qUnaligned != 0 {
		o.s(" __unaligned")
	}
	if s.noexcept {
		o.s(" noexcept")
	}
	o.s(s.refq)
	if f&noReturnType == 0 && s.ret != nil {
		s.ret.post(o, f)
	}
}

// ---- template arguments that are not types ----

type intLit struct {
	v   uint64
	neg bool
}

func (l intLit) out(o *output, _ flags) {
	if l.neg {
		o.s("-")
	}
	o.u(l.v)
}

// paramRef is a template argument naming a symbol or a member pointer.
type paramRef struct {
	sym     *symbol
	ref     bool // &-less reference ($E)
	offsets []int64
}

func (r *paramRef) out(o *output, f flags) {
	if len(r.offsets) > 0 {
		o.s("{")
	} else if !r.ref {
		o.s("&")
	}
	if r.sym != nil {
		r.sym.out(o, f)
		if len(r.offsets) > 0 {
			o.s(", ")
		}
	}
	for i, v := range r.offsets {
		if i > 0 {
			o.s(", ")
		}
		o.n(v)
	}
	if len(r.offsets) > 0 {
		o.s("}")
	}
}

// ---- symbols ----

type symKind uint8

const (
	sFunc symKind = iota
	sVar
	sTable
	sString
	sPlain // MD5 names, untyped variables
)

type symbol struct {
	kind    symKind
	name    *qname
	fn      *sig
	vtype   *typ
	sc      storage
	q       quals
	targets []*qname
	str     string // sString: the rendered literal
}

func (s *symbol) out(o *output, f flags) {
	if o.over {
		return
	}
	switch s.kind {
	case sFunc:
		s.fn.pre(o, f)
		o.space()
		s.name.out(o, f)
		s.fn.post(o, f)
	case sVar:
		access := ""
		switch s.sc {
		case scPrivateStatic:
			access = "private"
		case scProtectedStatic:
			access = "protected"
		case scPublicStatic:
			access = "public"
		}
		if f&noAccessSpecifier == 0 && access != "" {
			o.s(access)
			o.s(": ")
		}
		if f&noMemberType == 0 && access != "" {
			o.s("static ")
		}
		if f&noVariableType == 0 && s.vtype != nil {
			s.vtype.pre(o, f)
		}
		o.space()
		s.name.out(o, f)
		if f&noVariableType == 0 && s.vtype != nil {
			s.vtype.post(o, f)
		}
	case sTable:
		o.quals(s.q, false, true)
		s.name.out(o, f)
		if len(s.targets) > 0 {
			o.s("{for `")
			for i, t := range s.targets {
				if i > 0 {
					o.s("'s `")
				}
				t.out(o, f)
			}
			o.s("'}")
		}
	case sString:
		o.s(s.str)
	case sPlain:
		s.name.out(o, f)
	}
}
