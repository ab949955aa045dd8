package msvc

import (
	"strings"
)

// maxDepth bounds the recursion of the parser (nested types, template
// arguments and local scopes).
const maxDepth = 200

// backrefs are the two back-reference tables of a name: up to ten names
// and up to ten function parameter types. A template instantiation gets
// fresh tables of its own.
type backrefs struct {
	names  []string
	params []*typ
}

type parser struct {
	in    string // the whole input
	s     string // what is left of it
	err   error
	depth int
	br    backrefs
	limit int // output cap for memorized names
}

func (p *parser) fail(msg string) {
	if p.err == nil {
		p.err = &SyntaxError{Offset: len(p.in) - len(p.s), Msg: msg}
	}
}

func (p *parser) unsupported(what string) {
	if p.err == nil {
		p.err = &unsupportedError{what: what, offset: len(p.in) - len(p.s)}
	}
}

func (p *parser) eat(prefix string) bool {
	if strings.HasPrefix(p.s, prefix) {
		p.s = p.s[len(prefix):]
		return true
	}
	return false
}

func (p *parser) eatByte(c byte) bool {
	if len(p.s) > 0 && p.s[0] == c {
		p.s = p.s[1:]
		return true
	}
	return false
}

func (p *parser) peek() byte {
	if len(p.s) == 0 {
		return 0
	}
	return p.s[0]
}

func (p *parser) next() byte {
	if len(p.s) == 0 {
		p.fail("unexpected end of name")
		return 0
	}
	c := p.s[0]
	p.s = p.s[1:]
	return c
}

func (p *parser) enter() bool {
	p.depth++
	if p.depth > maxDepth {
		p.unsupported("nesting too deep")
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parse reads a whole symbol: the entry point, also used for the
// symbols nested in local scopes and template arguments.
func (p *parser) parse() *symbol {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	if strings.HasPrefix(p.s, "??@") {
		return p.md5()
	}
	if !p.eatByte('?') {
		p.fail("expected '?'")
		return nil
	}
	if s, ok := p.special(); ok {
		return s
	}
	return p.declarator()
}

func (p *parser) md5() *symbol {
	end := strings.IndexByte(p.s[3:], '@')
	if end < 0 {
		p.fail("unterminated MD5 name")
		return nil
	}
	start := p.s
	p.s = p.s[3+end+1:]
	p.eat("??_R4@")
	text := start[:len(start)-len(p.s)]
	return &symbol{kind: sPlain, name: &qname{parts: []*ident{{name: text}}}}
}

// special handles the ?_7-style special names that are not ordinary
// declarations; ok is false when the name is an ordinary one.
func (p *parser) special() (*symbol, bool) {
	switch {
	case p.eat("?_7"):
		return p.table("`vftable'"), true
	case p.eat("?_8"):
		return p.table("`vbtable'"), true
	case p.eat("?_9"):
		return p.vcall(), true
	case p.eat("?_A"):
		p.unsupported("typeof (?_A)")
		return nil, true
	case p.eat("?_B"):
		return p.guard(false), true
	case p.eat("?_C"):
		return p.stringLiteral(), true
	case p.eat("?_P"):
		p.unsupported("udt returning (?_P)")
		return nil, true
	case p.eat("?_R0"):
		t := p.typ(modeResult)
		if p.err != nil {
			return nil, true
		}
		if !p.eat("@8") || p.s != "" {
			p.fail("bad RTTI type descriptor")
			return nil, true
		}
		return &symbol{kind: sVar, vtype: t, name: single("`RTTI Type Descriptor'")}, true
	case p.eat("?_R1"):
		return p.baseClassDescriptor(), true
	case p.eat("?_R2"):
		return p.untyped("`RTTI Base Class Array'"), true
	case p.eat("?_R3"):
		return p.untyped("`RTTI Class Hierarchy Descriptor'"), true
	case p.eat("?_R4"):
		return p.table("`RTTI Complete Object Locator'"), true
	case p.eat("?_S"):
		return p.table("`local vftable'"), true
	case p.eat("?__E"):
		return p.structorStub(false), true
	case p.eat("?__F"):
		return p.structorStub(true), true
	case p.eat("?__J"):
		return p.guard(true), true
	}
	return nil, false
}

func single(name string) *qname { return &qname{parts: []*ident{{name: name}}} }

func (p *parser) table(name string) *symbol {
	s := &symbol{kind: sTable, name: p.scopeChain(&ident{name: name})}
	if p.err != nil {
		return nil
	}
	if c := p.next(); c != '6' && c != '7' {
		p.fail("expected 6 or 7 after a table name")
		return nil
	}
	s.q, _ = p.qualifiers()
	for p.err == nil && !p.eatByte('@') {
		s.targets = append(s.targets, p.typeName())
	}
	if p.err != nil {
		return nil
	}
	return s
}

func (p *parser) vcall() *symbol {
	id := &ident{kind: idVcall}
	s := &symbol{kind: sFunc, fn: &sig{fc: fcNoParams, thunk: true}}
	s.name = p.scopeChain(id)
	if p.err == nil && !p.eat("$B") {
		p.fail("expected $B in a vcall thunk")
	}
	if p.err == nil {
		id.offset = p.unsigned()
	}
	if p.err == nil && !p.eatByte('A') {
		p.fail("expected A in a vcall thunk")
	}
	if p.err == nil {
		s.fn.cc = p.callingConvention()
	}
	if p.err != nil {
		return nil
	}
	return s
}

func (p *parser) guard(thread bool) *symbol {
	id := &ident{kind: idGuard, thread: thread}
	s := &symbol{kind: sPlain, name: p.scopeChain(id)}
	if p.err != nil {
		return nil
	}
	if !p.eat("4IA") && !p.eat("5") {
		p.fail("bad local static guard")
		return nil
	}
	if p.s != "" {
		id.scope = p.unsigned()
	}
	if p.err != nil {
		return nil
	}
	return s
}

func (p *parser) untyped(name string) *symbol {
	s := &symbol{kind: sPlain, name: p.scopeChain(&ident{name: name})}
	if p.err == nil && !p.eatByte('8') {
		p.fail("expected 8")
	}
	if p.err != nil {
		return nil
	}
	return s
}

func (p *parser) baseClassDescriptor() *symbol {
	id := &ident{kind: idBaseClassDesc}
	id.nums[0] = int64(p.unsigned())
	id.nums[1] = p.signed()
	id.nums[2] = int64(p.unsigned())
	id.nums[3] = int64(p.unsigned())
	if p.err != nil {
		return nil
	}
	s := &symbol{kind: sPlain, name: p.scopeChain(id)}
	p.eatByte('8')
	if p.err != nil {
		return nil
	}
	return s
}

func (p *parser) structorStub(dtor bool) *symbol {
	id := &ident{kind: idDynamic, dtor: dtor}
	member := p.eatByte('?')
	inner := p.declarator()
	if p.err != nil {
		return nil
	}
	if inner.kind == sVar {
		id.varSym = inner
		n := 1
		if member {
			n = 2
		}
		for i := 0; i < n; i++ {
			if !p.eatByte('@') {
				p.fail("expected @ after a dynamic initializer's variable")
				return nil
			}
		}
		fn := p.functionEncoding()
		if p.err != nil {
			return nil
		}
		fn.name = &qname{parts: []*ident{id}}
		return fn
	}
	if member {
		p.fail("expected a static data member")
		return nil
	}
	id.inner = inner.name
	inner.name = &qname{parts: []*ident{id}}
	return inner
}

// declarator reads a qualified symbol name and what follows it.
func (p *parser) declarator() *symbol {
	name := p.symbolName()
	if p.err != nil {
		return nil
	}
	var s *symbol
	switch c := p.peek(); {
	case c == 0:
		p.fail("missing symbol encoding")
		return nil
	case c >= '0' && c <= '4':
		p.s = p.s[1:]
		s = p.variable(storage(c-'0') + scPrivateStatic)
	default:
		s = p.functionEncoding()
	}
	if p.err != nil {
		return nil
	}
	s.name = name
	if last := name.last(); last.kind == idConversion {
		if s.kind != sFunc || s.fn.ret == nil {
			p.fail("conversion operator without a type")
			return nil
		}
		last.target = s.fn.ret
	}
	return s
}

func (p *parser) variable(sc storage) *symbol {
	s := &symbol{kind: sVar, sc: sc}
	t := p.typ(modeDrop)
	if p.err != nil {
		return nil
	}
	s.vtype = t
	if t.kind == tPointer {
		t.q |= p.pointerExtQualifiers()
		q, _ := p.qualifiers()
		if t.parent != nil {
			p.typeName()
		}
		t.pointee.q |= q
	} else {
		t.q, _ = p.qualifiers()
	}
	if p.err != nil {
		return nil
	}
	return s
}

// ---- numbers ----

func (p *parser) number() (uint64, bool) {
	neg := p.eatByte('?')
	if c := p.peek(); isDigit(c) {
		p.s = p.s[1:]
		return uint64(c-'0') + 1, neg
	}
	var v uint64
	for i := 0; i < len(p.s); i++ {
		c := p.s[i]
		if c == '@' {
			p.s = p.s[i+1:]
			return v, neg
		}
		if c < 'A' || c > 'P' {
			break
		}
		v = v<<4 + uint64(c-'A')
	}
	p.fail("bad number")
	return 0, false
}

func (p *parser) unsigned() uint64 {
	v, neg := p.number()
	if neg {
		p.fail("negative number")
	}
	return v
}

func (p *parser) signed() int64 {
	v, neg := p.number()
	if v > 1<<63-1 {
		p.fail("number out of range")
	}
	if neg {
		return -int64(v)
	}
	return int64(v)
}

// signed32 reads a this-adjustment, which llvm-undname 14 keeps in 32
// bits: PPPPPPPM@ is -4.
func (p *parser) signed32() int64 { return int64(int32(p.signed())) }

// ---- names ----

func (p *parser) memorize(s string) {
	if len(p.br.names) >= 10 {
		return
	}
	for _, n := range p.br.names {
		if n == s {
			return
		}
	}
	p.br.names = append(p.br.names, s)
}

func (p *parser) backrefName() *ident {
	i := int(p.s[0] - '0')
	if i >= len(p.br.names) {
		p.fail("name back-reference out of range")
		return nil
	}
	p.s = p.s[1:]
	return &ident{name: p.br.names[i]}
}

func (p *parser) simpleString(memorize bool) string {
	i := strings.IndexByte(p.s, '@')
	if i <= 0 {
		p.fail("bad simple name")
		return ""
	}
	s := p.s[:i]
	p.s = p.s[i+1:]
	if memorize {
		p.memorize(s)
	}
	return s
}

func (p *parser) simpleName(memorize bool) *ident {
	s := p.simpleString(memorize)
	if p.err != nil {
		return nil
	}
	return &ident{name: s}
}

// symbolName reads the qualified name of a symbol; a constructor or
// destructor learns its class from the scope before it.
func (p *parser) symbolName() *qname {
	id := p.unqualifiedSymbolName()
	if p.err != nil {
		return nil
	}
	q := p.scopeChain(id)
	if p.err != nil {
		return nil
	}
	if id.kind == idStructor {
		if len(q.parts) < 2 {
			p.fail("constructor or destructor outside a class")
			return nil
		}
		id.class = q.parts[len(q.parts)-2]
	}
	return q
}

// typeName reads a qualified type name (A@B@@ is B::A).
func (p *parser) typeName() *qname {
	id := p.unqualifiedTypeName()
	if p.err != nil {
		return nil
	}
	return p.scopeChain(id)
}

func (p *parser) unqualifiedTypeName() *ident {
	switch {
	case isDigit(p.peek()):
		return p.backrefName()
	case strings.HasPrefix(p.s, "?$"):
		return p.templateName(true)
	}
	return p.simpleName(true)
}

// unqualifiedSymbolName reads the innermost name of a symbol, or the
// name of a template; a template instantiation there is not memorized.
func (p *parser) unqualifiedSymbolName() *ident {
	switch {
	case isDigit(p.peek()):
		return p.backrefName()
	case strings.HasPrefix(p.s, "?$"):
		return p.templateName(false)
	case strings.HasPrefix(p.s, "?"):
		return p.operatorName()
	}
	return p.simpleName(true)
}

func (p *parser) scopeChain(id *ident) *qname {
	parts := []*ident{id}
	for !p.eatByte('@') {
		if p.s == "" {
			p.fail("unterminated qualified name")
			return nil
		}
		piece := p.scopePiece()
		if p.err != nil {
			return nil
		}
		parts = append(parts, piece)
	}
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return &qname{parts: parts}
}

func (p *parser) scopePiece() *ident {
	switch {
	case isDigit(p.peek()):
		return p.backrefName()
	case strings.HasPrefix(p.s, "?$"):
		return p.templateName(true)
	case strings.HasPrefix(p.s, "?A"):
		p.s = p.s[2:]
		i := strings.IndexByte(p.s, '@')
		if i < 0 {
			p.fail("unterminated anonymous namespace")
			return nil
		}
		p.memorize(p.s[:i])
		p.s = p.s[i+1:]
		return &ident{name: "`anonymous namespace'"}
	case localScopeAhead(p.s):
		return p.localScope()
	}
	return p.simpleName(true)
}

// localScopeAhead reports whether s starts with ?<number>? where the
// number is a digit, @, or B-P followed by A-P and a closing @.
func localScopeAhead(s string) bool {
	if len(s) < 2 || s[0] != '?' {
		return false
	}
	s = s[1:]
	end := strings.IndexByte(s, '?')
	if end <= 0 {
		return false
	}
	c := s[:end]
	if len(c) == 1 {
		return c[0] == '@' || isDigit(c[0])
	}
	if c[len(c)-1] != '@' {
		return false
	}
	c = c[:len(c)-1]
	if c[0] < 'B' || c[0] > 'P' {
		return false
	}
	for i := 1; i < len(c); i++ {
		if c[i] < 'A' || c[i] > 'P' {
			return false
		}
	}
	return true
}

func (p *parser) localScope() *ident {
	p.s = p.s[1:]
	n, _ := p.number()
	p.eatByte('?')
	if p.err != nil {
		return nil
	}
	scope := p.parse()
	if p.err != nil {
		return nil
	}
	o := &output{limit: p.limit}
	o.s("`")
	scope.out(o, 0)
	o.s("'::`")
	o.u(n)
	o.s("'")
	if o.over {
		p.unsupported("name too long")
		return nil
	}
	return &ident{name: string(o.b)}
}

// templateName reads ?$name@args@. The arguments have back-reference
// tables of their own; as a scope or type the rendered instantiation is
// itself memorized as a name.
func (p *parser) templateName(memorize bool) *ident {
	if !p.enter() {
		return nil
	}
	defer p.leave()
	p.s = p.s[2:]
	outer := p.br
	p.br = backrefs{}
	id := p.unqualifiedSymbolName()
	if p.err == nil {
		id.isTmpl = true
		id.targs = p.templateArgs()
	}
	p.br = outer
	if p.err != nil {
		return nil
	}
	if memorize {
		if id.kind == idConversion || id.kind == idStructor {
			p.fail("constructor or conversion in a scope")
			return nil
		}
		o := &output{limit: p.limit}
		id.out(o, 0)
		if o.over {
			p.unsupported("name too long")
			return nil
		}
		p.memorize(string(o.b))
	}
	return id
}

var basicOps = [36]string{
	"", "", "operator new", "operator delete", "operator=", "operator>>", "operator<<", "operator!",
	"operator==", "operator!=", "operator[]", "", "operator->", "operator*", "operator++",
	"operator--", "operator-", "operator+", "operator&", "operator->*", "operator/", "operator%",
	"operator<", "operator<=", "operator>", "operator>=", "operator,", "operator()", "operator~",
	"operator^", "operator|", "operator&&", "operator||", "operator*=", "operator+=", "operator-=",
}

var underOps = [36]string{
	"operator/=", "operator%=", "operator>>=", "operator<<=", "operator&=", "operator|=",
	"operator^=", "", "", "", "", "", "", "`vbase dtor'", "`vector deleting dtor'",
	"`default ctor closure'", "`scalar deleting dtor'", "`vector ctor iterator'",
	"`vector dtor iterator'", "`vector vbase ctor iterator'", "`virtual displacement map'",
	"`eh vector ctor iterator'", "`eh vector dtor iterator'", "`eh vector vbase ctor iterator'",
	"`copy ctor closure'", "", "", "", "", "`local vftable ctor closure'", "operator new[]",
	"operator delete[]", "", "", "", "",
}

var doubleUnderOps = [36]string{
	"", "", "", "", "", "", "", "", "", "",
	"`managed vector ctor iterator'", "`managed vector dtor iterator'",
	"`EH vector copy ctor iterator'", "`EH vector vbase copy ctor iterator'", "", "",
	"`vector copy ctor iterator'", "`vector vbase copy constructor iterator'",
	"`managed vector vbase copy constructor iterator'", "", "", "operator co_await",
	"operator<=>", "", "", "", "", "", "", "", "", "", "", "", "", "",
}

func opIndex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// operatorName reads ?<code>: constructors, destructors, operators and
// the compiler-generated helpers.
func (p *parser) operatorName() *ident {
	p.s = p.s[1:]
	table := &basicOps
	switch {
	case p.eat("__"):
		table = &doubleUnderOps
		if p.eatByte('K') {
			s := p.simpleString(false)
			if p.err != nil {
				return nil
			}
			return &ident{kind: idLiteralOp, name: s}
		}
	case p.eat("_"):
		table = &underOps
	default:
		switch p.peek() {
		case '0', '1':
			return &ident{kind: idStructor, dtor: p.next() == '1'}
		case 'B':
			p.s = p.s[1:]
			return &ident{kind: idConversion}
		}
	}
	c := p.next()
	if p.err != nil {
		return nil
	}
	i := opIndex(c)
	if i < 0 {
		p.fail("bad operator code")
		return nil
	}
	// LLVM renders codes it does not know as an empty operator name.
	return &ident{kind: idOperator, name: table[i]}
}

// ---- functions ----

func (p *parser) functionClass() funcClass {
	c := p.next()
	switch {
	case c == '9':
		return fcExternC | fcNoParams
	case c >= 'A' && c <= 'X':
		i := c - 'A'
		var fc funcClass
		switch i / 8 {
		case 0:
			fc = fcPrivate
		case 1:
			fc = fcProtected
		case 2:
			fc = fcPublic
		}
		if i%2 == 1 {
			fc |= fcFar
		}
		switch i % 8 / 2 {
		case 1:
			fc |= fcStatic
		case 2:
			fc |= fcVirtual
		case 3:
			fc |= fcStaticAdjust
			if i/8 != 0 {
				fc |= fcVirtual
			}
		}
		return fc
	case c == 'Y':
		return fcGlobal
	case c == 'Z':
		return fcGlobal | fcFar
	case c == '$':
		v := fcVirtualAdjust
		if p.eatByte('R') {
			v |= fcVirtualAdjustEx
		}
		d := p.next()
		if d >= '0' && d <= '5' {
			fc := []funcClass{fcPrivate, fcProtected, fcPublic}[(d-'0')/2] | fcVirtual | v
			if (d-'0')%2 == 1 {
				fc |= fcFar
			}
			return fc
		}
	}
	p.fail("bad function class")
	return fcPublic
}

var callingConventions = map[byte]string{
	'A': "__cdecl", 'B': "__cdecl", 'C': "__pascal", 'D': "__pascal",
	'E': "__thiscall", 'F': "__thiscall", 'G': "__stdcall", 'H': "__stdcall",
	'I': "__fastcall", 'J': "__fastcall", 'M': "__clrcall", 'N': "__clrcall",
	'O': "__eabi", 'P': "__eabi", 'Q': "__vectorcall",
	'S': "__attribute__((__swiftcall__)) ", 'W': "__attribute__((__swiftasynccall__)) ",
}

func (p *parser) callingConvention() string {
	c := p.next()
	return callingConventions[c]
}

func (p *parser) functionEncoding() *symbol {
	var extra funcClass
	if p.eat("$$J0") {
		extra = fcExternC
	}
	if p.s == "" {
		p.fail("missing function class")
		return nil
	}
	fc := p.functionClass() | extra
	var adj [4]int64
	thunk := false
	if fc&fcStaticAdjust != 0 {
		thunk = true
		adj[3] = p.signed32()
	} else if fc&fcVirtualAdjust != 0 {
		thunk = true
		if fc&fcVirtualAdjustEx != 0 {
			adj[0] = p.signed32()
			adj[1] = p.signed32()
		}
		adj[2] = p.signed32()
		adj[3] = p.signed32()
	}
	var s *sig
	if fc&fcNoParams != 0 {
		s = &sig{}
	} else {
		s = p.functionType(fc&(fcGlobal|fcStatic) == 0)
	}
	if p.err != nil {
		return nil
	}
	s.fc = fc
	s.thunk = thunk
	s.adj = adj
	return &symbol{kind: sFunc, fn: s}
}

func (p *parser) functionType(thisQuals bool) *sig {
	s := &sig{}
	if thisQuals {
		s.q = p.pointerExtQualifiers()
		switch {
		case p.eatByte('G'):
			s.refq = " &"
		case p.eatByte('H'):
			s.refq = " &&"
		}
		q, _ := p.qualifiers()
		s.q |= q
	}
	s.cc = p.callingConvention()
	if p.err != nil {
		return nil
	}
	if !p.eatByte('@') {
		s.ret = p.typ(modeResult)
	}
	if p.err != nil {
		return nil
	}
	s.params, s.variadic = p.params()
	if p.err != nil {
		return nil
	}
	switch {
	case p.eat("_E"):
		s.noexcept = true
	case p.eatByte('Z'):
	default:
		p.fail("bad throw specification")
		return nil
	}
	return s
}

func (p *parser) params() ([]*typ, bool) {
	if p.eatByte('X') {
		return nil, false
	}
	list := []*typ{}
	for p.err == nil && p.s != "" && p.s[0] != '@' && p.s[0] != 'Z' {
		if isDigit(p.s[0]) {
			i := int(p.s[0] - '0')
			if i >= len(p.br.params) {
				p.fail("parameter back-reference out of range")
				return nil, false
			}
			p.s = p.s[1:]
			list = append(list, p.br.params[i])
			continue
		}
		before := len(p.s)
		t := p.typ(modeDrop)
		if p.err != nil {
			return nil, false
		}
		list = append(list, t)
		if len(p.br.params) < 10 && before-len(p.s) > 1 {
			p.br.params = append(p.br.params, t)
		}
	}
	if p.err != nil {
		return nil, false
	}
	if p.eatByte('@') {
		return list, false
	}
	if p.eatByte('Z') {
		return list, true
	}
	p.fail("unterminated parameter list")
	return nil, false
}

// ---- qualifiers ----

// qualifiers reads one cv-qualifier letter; member is true for the
// member-pointer forms Q-T.
func (p *parser) qualifiers() (quals, bool) {
	if p.s == "" {
		p.fail("missing qualifiers")
		return 0, false
	}
	switch p.next() {
	case 'A':
		return 0, false
	case 'B':
		return qConst, false
	case 'C':
		return qVolatile, false
	case 'D':
		return qConst | qVolatile, false
	case 'Q':
		return 0, true
	case 'R':
		return qConst, true
	case 'S':
		return qVolatile, true
	case 'T':
		return qConst | qVolatile, true
	}
	p.fail("bad qualifiers")
	return 0, false
}

func (p *parser) pointerExtQualifiers() quals {
	var q quals
	if p.eatByte('E') {
		q |= qPtr64
	}
	if p.eatByte('I') {
		q |= qRestrict
	}
	if p.eatByte('F') {
		q |= qUnaligned
	}
	return q
}
