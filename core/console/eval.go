package console

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EvalEnv is what a MASM expression may refer to. NewEvalEnv builds one
// from an Env; tests can implement it directly.
type EvalEnv interface {
	// Register returns a register or pseudo-register of the current scope,
	// by lowercase name without '@': "rip", "eax", "$ip", "$csp".
	Register(name string) (uint64, bool)
	// Symbol returns the address of "module!name", a bare symbol name or a
	// module name (its base). The error says why it cannot.
	Symbol(name string) (uint64, error)
	// ReadMemory reads target memory for poi(), by(), wo(), dwo(), qwo().
	ReadMemory(p []byte, addr uint64) (int, error)
	// PointerSize is 4 or 8: the size poi() reads.
	PointerSize() int
}

// ExprErrorKind classifies an expression error the way WinDbg words them.
type ExprErrorKind uint8

const (
	// SyntaxErr: the text is not an expression ("Syntax error at ...").
	SyntaxErr ExprErrorKind = iota
	// ResolveErr: a name is not a number, register, symbol or module
	// ("Couldn't resolve error at ...").
	ResolveErr
	// MemoryErr: poi() and friends could not read memory.
	MemoryErr
	// DivideErr: division or mod by zero.
	DivideErr
)

// ExprError reports a bad expression, naming the offending token and its
// 1-based column in the expression.
type ExprError struct {
	Kind  ExprErrorKind
	Expr  string
	Col   int
	Token string
	Err   error // cause: a symbol lookup or memory fault; may be nil
}

// Error returns WinDbg's wording with the column, e.g.
// "Couldn't resolve error at 'foo' (column 3)".
func (e *ExprError) Error() string {
	var what string
	switch e.Kind {
	case SyntaxErr:
		what = "Syntax error"
	case ResolveErr:
		what = "Couldn't resolve error"
	case MemoryErr:
		what = "Memory access error"
	default:
		what = "Divide by zero error"
	}
	tok := e.Token
	if tok == "" {
		tok = "end of expression"
	} else {
		tok = "'" + tok + "'"
	}
	s := fmt.Sprintf("%s at %s (column %d)", what, tok, e.Col)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *ExprError) Unwrap() error { return e.Err }

type tokKind uint8

const (
	tEOF tokKind = iota
	tNum
	tName
	tOp
	tLParen
	tRParen
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based
	val  uint64
}

type evaluator struct {
	expr string
	env  EvalEnv
	toks []token
	pos  int
}

// Eval evaluates a MASM expression as WinDbg does. Numbers are hexadecimal
// unless prefixed 0n (decimal), 0t (octal) or 0y (binary); 0x is allowed
// and backticks separate digit groups ("fffff800`00000000"). Names are
// registers ("rax", "@rip", "$ip", "@$csp"), symbols ("app!main+0x10") or
// module names. Operators, from tightest to loosest: unary - ~ ! and
// poi() by() wo() dwo() qwo() hi() low(); * / % mod; + -; << >> >>>;
// == = != < > <= >=; & and; ^ xor; | or. Comparisons yield 1 or 0.
func Eval(expr string, env EvalEnv) (uint64, error) {
	ev := &evaluator{expr: expr, env: env}
	if err := ev.lex(); err != nil {
		return 0, err
	}
	if ev.peek().kind == tEOF {
		return 0, &ExprError{Kind: SyntaxErr, Expr: expr, Col: len(expr) + 1}
	}
	v, err := ev.binary(0)
	if err != nil {
		return 0, err
	}
	if t := ev.peek(); t.kind != tEOF {
		return 0, ev.errAt(SyntaxErr, t, nil)
	}
	return v, nil
}

func (ev *evaluator) errAt(k ExprErrorKind, t token, err error) error {
	return &ExprError{Kind: k, Expr: ev.expr, Col: t.col, Token: t.text, Err: err}
}

func (ev *evaluator) peek() token {
	if ev.pos < len(ev.toks) {
		return ev.toks[ev.pos]
	}
	return token{kind: tEOF, col: len(ev.expr) + 1}
}

func (ev *evaluator) next() token {
	t := ev.peek()
	if ev.pos < len(ev.toks) {
		ev.pos++
	}
	return t
}

func isNameByte(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '_' || c == '!' || c == '$' || c == '@' ||
		c == '.' || c == ':' || c == '`' || c == '?' || c >= 0x80
}

var ops = []string{">>>", "<<", ">>", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "<", ">", "=", "!"}

func (ev *evaluator) lex() error {
	s := ev.expr
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		case c == '(':
			ev.toks = append(ev.toks, token{kind: tLParen, text: "(", col: i + 1})
			i++
			continue
		case c == ')':
			ev.toks = append(ev.toks, token{kind: tRParen, text: ")", col: i + 1})
			i++
			continue
		}
		// '!' is an operator unless it sits inside a name ("mod!sym").
		if c != '!' && isNameByte(c) {
			j := i
			for j < len(s) && isNameByte(s[j]) && !(s[j] == '!' && j+1 < len(s) && s[j+1] == '=') {
				j++
			}
			ev.toks = append(ev.toks, token{kind: tName, text: s[i:j], col: i + 1})
			i = j
			continue
		}
		matched := false
		for _, op := range ops {
			if strings.HasPrefix(s[i:], op) {
				ev.toks = append(ev.toks, token{kind: tOp, text: op, col: i + 1})
				i += len(op)
				matched = true
				break
			}
		}
		if !matched {
			return &ExprError{Kind: SyntaxErr, Expr: s, Col: i + 1, Token: s[i : i+1]}
		}
	}
	return nil
}

// binary operator levels, loosest first.
var levels = [][]string{
	{"|", "or"},
	{"^", "xor"},
	{"&", "and"},
	{"==", "=", "!=", "<", ">", "<=", ">="},
	{"<<", ">>", ">>>"},
	{"+", "-"},
	{"*", "/", "%", "mod"},
}

func (ev *evaluator) binaryOp(level int) (token, bool) {
	t := ev.peek()
	if t.kind != tOp && t.kind != tName {
		return t, false
	}
	for _, op := range levels[level] {
		if strings.EqualFold(t.text, op) {
			return t, true
		}
	}
	return t, false
}

func (ev *evaluator) binary(level int) (uint64, error) {
	if level == len(levels) {
		return ev.unary(0)
	}
	l, err := ev.binary(level + 1)
	if err != nil {
		return 0, err
	}
	for {
		op, ok := ev.binaryOp(level)
		if !ok {
			return l, nil
		}
		ev.next()
		r, err := ev.binary(level + 1)
		if err != nil {
			return 0, err
		}
		switch strings.ToLower(op.text) {
		case "|", "or":
			l |= r
		case "^", "xor":
			l ^= r
		case "&", "and":
			l &= r
		case "==", "=":
			l = b2u(l == r)
		case "!=":
			l = b2u(l != r)
		case "<":
			l = b2u(int64(l) < int64(r))
		case ">":
			l = b2u(int64(l) > int64(r))
		case "<=":
			l = b2u(int64(l) <= int64(r))
		case ">=":
			l = b2u(int64(l) >= int64(r))
		case "<<":
			l = shift(l, r, func(a uint64, n uint) uint64 { return a << n })
		case ">>":
			l = shift(l, r, func(a uint64, n uint) uint64 { return uint64(int64(a) >> n) })
			if r >= 64 && int64(l) < 0 {
				l = ^uint64(0)
			}
		case ">>>":
			l = shift(l, r, func(a uint64, n uint) uint64 { return a >> n })
		case "+":
			l += r
		case "-":
			l -= r
		case "*":
			l *= r
		case "/", "%", "mod":
			if r == 0 {
				return 0, ev.errAt(DivideErr, op, nil)
			}
			if op.text == "/" {
				l /= r
			} else {
				l %= r
			}
		}
	}
}

func shift(a, n uint64, f func(uint64, uint) uint64) uint64 {
	if n >= 64 {
		return 0
	}
	return f(a, uint(n))
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

var memFuncs = map[string]int{"by": 1, "wo": 2, "dwo": 4, "qwo": 8, "poi": 0}

func (ev *evaluator) unary(depth int) (uint64, error) {
	if depth > 1000 {
		return 0, ev.errAt(SyntaxErr, ev.peek(), errors.New("expression nested too deeply"))
	}
	t := ev.next()
	switch t.kind {
	case tOp:
		switch t.text {
		case "-", "+", "~", "!":
			v, err := ev.unary(depth + 1)
			if err != nil {
				return 0, err
			}
			switch t.text {
			case "-":
				return -v, nil
			case "~":
				return ^v, nil
			case "!":
				return b2u(v == 0), nil
			}
			return v, nil
		}
		return 0, ev.errAt(SyntaxErr, t, nil)
	case tLParen:
		v, err := ev.paren(depth)
		if err != nil {
			return 0, err
		}
		return v, nil
	case tName:
		name := strings.ToLower(t.text)
		if ev.peek().kind == tLParen {
			if size, ok := memFuncs[name]; ok {
				ev.next()
				addr, err := ev.paren(depth)
				if err != nil {
					return 0, err
				}
				if size == 0 {
					size = ev.env.PointerSize()
				}
				var buf [8]byte
				n, err := ev.env.ReadMemory(buf[:size], addr)
				if n < size || err != nil {
					if err == nil {
						err = fmt.Errorf("short read at %#x", addr)
					}
					return 0, ev.errAt(MemoryErr, t, err)
				}
				return binary.LittleEndian.Uint64(buf[:]), nil
			}
			if name == "hi" || name == "low" || name == "not" {
				ev.next()
				v, err := ev.paren(depth)
				if err != nil {
					return 0, err
				}
				switch name {
				case "hi":
					return (v >> 16) & 0xffff, nil
				case "low":
					return v & 0xffff, nil
				}
				return b2u(v == 0), nil
			}
		}
		if name == "not" {
			v, err := ev.unary(depth + 1)
			return b2u(v == 0), err
		}
		return ev.name(t)
	case tRParen:
		return 0, ev.errAt(SyntaxErr, t, nil)
	}
	return 0, ev.errAt(SyntaxErr, t, nil) // end of expression where an operand belongs
}

// paren evaluates up to and including the closing parenthesis.
func (ev *evaluator) paren(depth int) (uint64, error) {
	v, err := ev.binaryDepth(depth + 1)
	if err != nil {
		return 0, err
	}
	if t := ev.next(); t.kind != tRParen {
		return 0, ev.errAt(SyntaxErr, t, errors.New("missing ')'"))
	}
	return v, nil
}

func (ev *evaluator) binaryDepth(depth int) (uint64, error) {
	if depth > 1000 {
		return 0, ev.errAt(SyntaxErr, ev.peek(), errors.New("expression nested too deeply"))
	}
	return ev.binary(0)
}

// name resolves a number, register, symbol or module.
func (ev *evaluator) name(t token) (uint64, error) {
	s := t.text
	if v, ok, err := parseNumber(s); ok {
		if err != nil {
			return 0, ev.errAt(SyntaxErr, t, err)
		}
		return v, nil
	}
	if strings.HasPrefix(s, "@") {
		if v, ok := ev.env.Register(strings.ToLower(s[1:])); ok {
			return v, nil
		}
		return 0, ev.errAt(ResolveErr, t, errors.New("no such register"))
	}
	if strings.HasPrefix(s, "$") {
		if v, ok := ev.env.Register(strings.ToLower(s)); ok {
			return v, nil
		}
		return 0, ev.errAt(ResolveErr, t, errors.New("no such pseudo-register"))
	}
	if !strings.Contains(s, "!") {
		if v, ok := ev.env.Register(strings.ToLower(s)); ok {
			return v, nil
		}
	}
	v, err := ev.env.Symbol(s)
	if err != nil {
		return 0, ev.errAt(ResolveErr, t, err)
	}
	return v, nil
}

// parseNumber parses a MASM number. ok is false when s is not a number at
// all (so it may be a name); err is set when it looks like one but is bad.
func parseNumber(s string) (v uint64, ok bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	base := 16
	digits := s
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			digits = s[2:]
		case 'n', 'N':
			base, digits = 10, s[2:]
		case 't', 'T':
			base, digits = 8, s[2:]
		case 'y', 'Y':
			base, digits = 2, s[2:]
		}
	}
	if d := s[0]; !('0' <= d && d <= '9') {
		// A name made only of hex digits is a number, as in WinDbg.
		for i := 0; i < len(s); i++ {
			if !isHexDigit(s[i]) && s[i] != '`' {
				return 0, false, nil
			}
		}
	}
	digits = strings.ReplaceAll(digits, "`", "")
	if digits == "" {
		return 0, true, errors.New("no digits")
	}
	v, perr := strconv.ParseUint(digits, base, 64)
	if perr != nil {
		if errors.Is(perr, strconv.ErrRange) {
			return 0, true, errors.New("number too large for 64 bits")
		}
		return 0, true, fmt.Errorf("not a base-%d number", base)
	}
	return v, true, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// MaxRange is the largest range, in elements, a command accepts without
// WinDbg's size-check override "L?": WinDbg refuses ranges over 256 MB.
const MaxRange = 0x10000000

// Range is a parsed address range: "addr", "addr L20", "addr L?0x1000000"
// or "addr1 addr2" (end inclusive, as in WinDbg).
type Range struct {
	Start    uint64
	Count    uint64 // elements; the default or the L value
	End      uint64 // last address, inclusive; only when ByEnd
	ByEnd    bool   // given as "addr1 addr2"
	Override bool   // L? was used: no size check
}

// Elems returns the number of elements of the given size the range covers.
func (r Range) Elems(size uint64) uint64 {
	if !r.ByEnd {
		return r.Count
	}
	if size == 0 {
		size = 1
	}
	return (r.End-r.Start)/size + 1
}

// RangeError reports a range that is malformed or too large.
type RangeError struct {
	Args string
	Msg  string
}

// Error returns "Range error in 'args': msg".
func (e *RangeError) Error() string { return fmt.Sprintf("Range error in '%s': %s", e.Args, e.Msg) }

// ParseRange parses WinDbg range arguments: a start expression, then
// either "L count", "L? count" (no size check) or an inclusive end
// expression. defaultCount is used when neither is given. Ranges larger
// than MaxRange elements need L?.
func ParseRange(args string, env EvalEnv, defaultCount uint64) (Range, error) {
	toks := Tokens(args)
	if len(toks) == 0 {
		return Range{}, &RangeError{Args: args, Msg: "missing start address"}
	}
	li := -1
	for i, t := range toks {
		if i > 0 && isLength(t) {
			li = i
			break
		}
	}
	exprToks := toks
	var r Range
	r.Count = defaultCount
	if li >= 0 {
		exprToks = toks[:li]
		l := toks[li][1:]
		if strings.HasPrefix(l, "?") {
			r.Override = true
			l = l[1:]
		}
		rest := strings.Join(append([]string{l}, toks[li+1:]...), " ")
		if strings.TrimSpace(rest) == "" {
			return Range{}, &RangeError{Args: args, Msg: "missing length after L"}
		}
		n, err := Eval(rest, env)
		if err != nil {
			return Range{}, err
		}
		r.Count = n
	}
	start, err := Eval(strings.Join(exprToks, " "), env)
	if err != nil {
		// Perhaps "addr1 addr2": find the split where both evaluate.
		found := false
		for k := 1; k < len(exprToks) && li < 0; k++ {
			s, err1 := Eval(strings.Join(exprToks[:k], " "), env)
			e, err2 := Eval(strings.Join(exprToks[k:], " "), env)
			if err1 == nil && err2 == nil {
				start, r.End, r.ByEnd, found = s, e, true, true
				break
			}
		}
		if !found {
			return Range{}, err
		}
	}
	r.Start = start
	if r.ByEnd {
		if r.End < r.Start {
			return Range{}, &RangeError{Args: args, Msg: "end address is before start address"}
		}
		if r.End-r.Start >= MaxRange {
			return Range{}, &RangeError{Args: args, Msg: "range larger than 256 MB; use L? to override"}
		}
		return r, nil
	}
	if r.Count == 0 {
		return Range{}, &RangeError{Args: args, Msg: "length is zero"}
	}
	if r.Count > MaxRange && !r.Override {
		return Range{}, &RangeError{Args: args, Msg: "range larger than 256 MB; use L? to override the size check"}
	}
	return r, nil
}

// isLength reports whether a token starts a length: "L20", "L?20", "L",
// "l0n10".
func isLength(t string) bool {
	if t == "" || t[0] != 'L' && t[0] != 'l' {
		return false
	}
	if len(t) == 1 {
		return true
	}
	c := t[1]
	return c == '?' || '0' <= c && c <= '9' || c == '(' || c == '@' || c == '$' || isHexDigit(c) && isAllHex(t[1:])
}

func isAllHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) && s[i] != '`' {
			return false
		}
	}
	return true
}
