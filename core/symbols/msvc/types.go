package msvc

import "strings"

// qualifier modes of a type: a parameter drops them, a pointee mangles
// them always, a return type or RTTI type has them after a '?'.
type qualMode uint8

const (
	modeDrop qualMode = iota
	modeMangle
	modeResult
)

var primitives = map[byte]string{
	'X': "void", 'D': "char", 'C': "signed char", 'E': "unsigned char",
	'F': "short", 'G': "unsigned short", 'H': "int", 'I': "unsigned int",
	'J': "long", 'K': "unsigned long", 'M': "float", 'N': "double", 'O': "long double",
}

var underPrimitives = map[byte]string{
	'N': "bool", 'J': "__int64", 'K': "unsigned __int64", 'W': "wchar_t",
	'Q': "char8_t", 'S': "char16_t", 'U': "char32_t", 'P': "auto", 'T': "decltype(auto)",
}

func (p *parser) typ(mode qualMode) *typ {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	var q quals
	switch mode {
	case modeMangle:
		q, _ = p.qualifiers()
	case modeResult:
		if p.eatByte('?') {
			q, _ = p.qualifiers()
		}
	}
	if p.err != nil {
		return nil
	}
	if p.s == "" {
		p.fail("missing type")
		return nil
	}
	var t *typ
	switch c := p.s[0]; {
	case c == 'T' || c == 'U' || c == 'V' || c == 'W':
		t = p.tagType()
	case strings.HasPrefix(p.s, "$$Q") || c == 'A' || c == 'P' || c == 'Q' || c == 'R' || c == 'S':
		member, ok := p.isMemberPointer()
		if !ok {
			p.fail("bad pointer type")
			return nil
		}
		if member {
			t = p.memberPointer()
		} else {
			t = p.pointer()
		}
	case c == 'Y':
		t = p.array()
	case strings.HasPrefix(p.s, "$$A8@@"):
		p.s = p.s[6:]
		t = p.funcType(true)
	case strings.HasPrefix(p.s, "$$A6"):
		p.s = p.s[4:]
		t = p.funcType(false)
	case c == '?':
		p.s = p.s[1:]
		id := p.unqualifiedTypeName()
		if p.err == nil && !p.eatByte('@') {
			p.fail("unterminated custom type")
		}
		t = &typ{kind: tCustom, custom: id}
	default:
		t = p.primitive()
	}
	if p.err != nil || t == nil {
		return nil
	}
	t.q |= q
	return t
}

func (p *parser) funcType(this bool) *typ {
	s := p.functionType(this)
	if p.err != nil {
		return nil
	}
	return &typ{kind: tFunc, fn: s}
}

func (p *parser) primitive() *typ {
	if p.eat("$$T") {
		return &typ{kind: tPrim, prim: "std::nullptr_t"}
	}
	c := p.next()
	if c == '_' {
		d := p.next()
		if s, ok := underPrimitives[d]; ok {
			return &typ{kind: tPrim, prim: s}
		}
	} else if s, ok := primitives[c]; ok {
		return &typ{kind: tPrim, prim: s}
	}
	p.fail("bad type")
	return nil
}

func (p *parser) tagType() *typ {
	t := &typ{kind: tTag}
	switch p.next() {
	case 'T':
		t.tag = "union"
	case 'U':
		t.tag = "struct"
	case 'V':
		t.tag = "class"
	case 'W':
		if !p.eatByte('4') {
			p.unsupported("enum with a non-int underlying type")
			return nil
		}
		t.tag = "enum"
	}
	t.name = p.typeName()
	if p.err != nil {
		return nil
	}
	return t
}

// isMemberPointer looks ahead at a pointer type: 6 and 8 are function
// pointers, and after the extension qualifiers A-D is an ordinary
// pointee and Q-T a member's.
func (p *parser) isMemberPointer() (member, ok bool) {
	s := p.s
	switch s[0] {
	case '$', 'A':
		return false, true
	}
	s = s[1:]
	if s != "" && isDigit(s[0]) {
		if s[0] != '6' && s[0] != '8' {
			return false, false
		}
		return s[0] == '8', true
	}
	for _, c := range []byte{'E', 'I', 'F'} {
		if s != "" && s[0] == c {
			s = s[1:]
		}
	}
	if s == "" {
		return false, false
	}
	switch s[0] {
	case 'A', 'B', 'C', 'D':
		return false, true
	case 'Q', 'R', 'S', 'T':
		return true, true
	}
	return false, false
}

func (p *parser) pointerCV() (quals, affinity) {
	if p.eat("$$Q") {
		return 0, affRValue
	}
	switch p.next() {
	case 'A':
		return 0, affRef
	case 'P':
		return 0, affPointer
	case 'Q':
		return qConst, affPointer
	case 'R':
		return qVolatile, affPointer
	default: // 'S'
		return qConst | qVolatile, affPointer
	}
}

func (p *parser) pointer() *typ {
	t := &typ{kind: tPointer}
	t.q, t.aff = p.pointerCV()
	if p.eatByte('6') {
		t.pointee = p.funcType(false)
	} else {
		t.q |= p.pointerExtQualifiers()
		t.pointee = p.typ(modeMangle)
	}
	if p.err != nil {
		return nil
	}
	return t
}

func (p *parser) memberPointer() *typ {
	t := &typ{kind: tPointer}
	t.q, t.aff = p.pointerCV()
	t.q |= p.pointerExtQualifiers()
	if p.eatByte('8') {
		t.parent = p.typeName()
		if p.err == nil {
			t.pointee = p.funcType(true)
		}
	} else {
		q, _ := p.qualifiers()
		t.parent = p.typeName()
		if p.err == nil {
			t.pointee = p.typ(modeDrop)
		}
		if p.err == nil {
			t.pointee.q = q
		}
	}
	if p.err != nil {
		return nil
	}
	return t
}

func (p *parser) array() *typ {
	p.s = p.s[1:]
	rank, neg := p.number()
	if p.err != nil {
		return nil
	}
	if neg || rank == 0 {
		p.fail("bad array rank")
		return nil
	}
	if rank > uint64(len(p.s)) {
		p.fail("array rank larger than the name")
		return nil
	}
	t := &typ{kind: tArray}
	for i := uint64(0); i < rank; i++ {
		d, neg := p.number()
		if p.err != nil || neg {
			p.fail("bad array dimension")
			return nil
		}
		t.dims = append(t.dims, d)
	}
	if p.eat("$$C") {
		q, member := p.qualifiers()
		if member {
			p.fail("member qualifiers on an array")
			return nil
		}
		t.q = q
	}
	t.elem = p.typ(modeDrop)
	if p.err != nil {
		return nil
	}
	return t
}

// templateArgs reads template arguments up to their closing '@'.
func (p *parser) templateArgs() []node {
	args := []node{}
	for p.err == nil && !p.eatByte('@') {
		if p.s == "" {
			p.fail("unterminated template arguments")
			return nil
		}
		if p.eat("$S") || p.eat("$$V") || p.eat("$$$V") || p.eat("$$Z") {
			continue
		}
		auto := p.eat("$M")
		if auto {
			p.typ(modeDrop)
			if p.err != nil {
				return nil
			}
		}
		pre := func(long, short string) bool {
			if auto {
				return strings.HasPrefix(p.s, short)
			}
			return strings.HasPrefix(p.s, long)
		}
		switch {
		case p.eat("$$Y"):
			args = append(args, p.typeName())
		case p.eat("$$B"):
			args = append(args, p.typ(modeDrop))
		case p.eat("$$C"):
			args = append(args, p.typ(modeMangle))
		case pre("$1", "1") || pre("$H", "H") || pre("$I", "I") || pre("$J", "J"):
			if !auto {
				p.s = p.s[1:]
			}
			kind := p.next()
			r := &paramRef{}
			if p.peek() == '?' {
				r.sym = p.parse()
				if p.err != nil {
					return nil
				}
				if r.sym.name == nil {
					p.fail("template argument symbol without a name")
					return nil
				}
				o := &output{limit: p.limit}
				r.sym.name.last().out(o, 0)
				if o.over {
					p.unsupported("name too long")
					return nil
				}
				p.memorize(string(o.b))
			}
			n := map[byte]int{'1': 0, 'H': 1, 'I': 2, 'J': 3}[kind]
			for i := 0; i < n; i++ {
				r.offsets = append(r.offsets, p.signed())
			}
			args = append(args, r)
		case strings.HasPrefix(p.s, "$E?"):
			p.s = p.s[2:]
			r := &paramRef{ref: true}
			r.sym = p.parse()
			args = append(args, r)
		case pre("$F", "F") || pre("$G", "G"):
			if !auto {
				p.s = p.s[1:]
			}
			n := 2
			if p.next() == 'G' {
				n = 3
			}
			r := &paramRef{}
			for i := 0; i < n; i++ {
				r.offsets = append(r.offsets, p.signed())
			}
			args = append(args, r)
		case pre("$0", "0"):
			if !auto {
				p.s = p.s[1:]
			}
			p.s = p.s[1:]
			v, neg := p.number()
			args = append(args, intLit{v: v, neg: neg})
		default:
			args = append(args, p.typ(modeDrop))
		}
	}
	if p.err != nil {
		return nil
	}
	return args
}
