package breakpad

import (
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/mem"
)

// Evaluator evaluates the postfix expressions of STACK CFI rules and the
// programs of STACK WIN records. Tokens are separated by white space:
//
//	decimal literals, optionally negative ("-8"); "0x" hex is accepted too
//	$name, .name      variables from Vars ($esp, $T0, .cfa, .cbParams, ...)
//	+ - * / %         binary arithmetic on unsigned values ("a b -" is a-b)
//	@                 "a b @" aligns a down to a multiple of b
//	^                 dereference: replaces the address on top with the
//	                  Width-byte value Deref reads there
//	=                 "$v expr =" assigns (programs only)
//
// Arithmetic wraps at Width bytes. Bad programs yield *EvalError, never a
// panic.
type Evaluator struct {
	// Vars holds the variables; Run stores assignments here (allocating
	// the map if nil).
	Vars map[string]uint64
	// Deref reads a Width-byte value; nil makes ^ fail with ErrNoDeref.
	Deref func(addr uint64) (uint64, error)
	// Width is 4 for 32-bit frames (STACK WIN, x86 CFI) or 8 (the default
	// when 0).
	Width int
}

// DerefFrom returns a Deref callback reading width-byte little-endian
// values from r.
func DerefFrom(r mem.Reader, width int) func(uint64) (uint64, error) {
	return func(addr uint64) (uint64, error) {
		return mem.ReadUint(r, addr, width, binary.LittleEndian)
	}
}

func (e *Evaluator) mask(v uint64) uint64 {
	if e.Width == 4 {
		return v & 0xffffffff
	}
	return v
}

// item is a stack entry: a value, or an identifier not yet looked up
// (assignment targets must stay names).
type item struct {
	v    uint64
	name string
}

type run struct {
	e     *Evaluator
	expr  string
	stack []item
	tok   int
}

func (r *run) fail(what string, err error) error {
	return &EvalError{Expr: r.expr, Token: r.tok, What: what, Err: err}
}

func (r *run) pop() (uint64, error) {
	if len(r.stack) == 0 {
		return 0, r.fail("operand missing", ErrStack)
	}
	it := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	if it.name == "" {
		return it.v, nil
	}
	v, ok := r.e.Vars[it.name]
	if !ok {
		return 0, r.fail("undefined "+it.name, ErrUndefined)
	}
	return v, nil
}

func (r *run) step(tok string) error {
	e := r.e
	switch tok {
	case "+", "-", "*", "/", "%", "@":
		b, err := r.pop()
		if err != nil {
			return err
		}
		a, err := r.pop()
		if err != nil {
			return err
		}
		var v uint64
		switch tok {
		case "+":
			v = a + b
		case "-":
			v = a - b
		case "*":
			v = a * b
		case "/", "%":
			if b == 0 {
				return r.fail("divide by zero", ErrDivideByZero)
			}
			if tok == "/" {
				v = a / b
			} else {
				v = a % b
			}
		case "@":
			if b == 0 || b&(b-1) != 0 {
				return r.fail("alignment is not a power of two", ErrSyntax)
			}
			v = a &^ (b - 1)
		}
		r.stack = append(r.stack, item{v: e.mask(v)})
	case "^":
		a, err := r.pop()
		if err != nil {
			return err
		}
		if e.Deref == nil {
			return r.fail("dereference without memory", ErrNoDeref)
		}
		v, err := e.Deref(a)
		if err != nil {
			return r.fail("dereference failed", err)
		}
		r.stack = append(r.stack, item{v: e.mask(v)})
	case "=":
		v, err := r.pop()
		if err != nil {
			return err
		}
		if len(r.stack) == 0 {
			return r.fail("assignment without target", ErrStack)
		}
		target := r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		if !strings.HasPrefix(target.name, "$") {
			return r.fail("assignment target is not a $variable", errNotAssignable)
		}
		if e.Vars == nil {
			e.Vars = map[string]uint64{}
		}
		e.Vars[target.name] = v
	default:
		if tok[0] == '$' || tok[0] == '.' {
			if len(tok) == 1 {
				return r.fail("empty variable name", ErrSyntax)
			}
			r.stack = append(r.stack, item{name: tok})
			return nil
		}
		v, ok := parseLiteral(tok)
		if !ok {
			return r.fail("bad token "+strconv.Quote(tok), ErrSyntax)
		}
		r.stack = append(r.stack, item{v: e.mask(v)})
	}
	return nil
}

func parseLiteral(tok string) (uint64, bool) {
	neg := false
	if strings.HasPrefix(tok, "-") {
		neg, tok = true, tok[1:]
	}
	var v uint64
	var err error
	if strings.HasPrefix(tok, "0x") || strings.HasPrefix(tok, "0X") {
		v, err = strconv.ParseUint(tok[2:], 16, 64)
	} else {
		v, err = strconv.ParseUint(tok, 10, 64)
	}
	if err != nil || tok == "" {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// Eval evaluates a single expression and returns its value; the
// expression must leave exactly one value and may not assign.
func (e *Evaluator) Eval(expr string) (uint64, error) {
	r := &run{e: e, expr: expr}
	for tok := range strings.FieldsSeq(expr) {
		if tok == "=" {
			return 0, r.fail("assignment in an expression", ErrSyntax)
		}
		if err := r.step(tok); err != nil {
			return 0, err
		}
		r.tok++
	}
	r.tok = -1
	if len(r.stack) != 1 {
		return 0, r.fail("expression must leave one value", ErrStack)
	}
	return r.pop()
}

// Run executes a STACK WIN program, a sequence of "$var expr =" steps,
// storing each assignment in Vars. The program must leave nothing on the
// stack.
func (e *Evaluator) Run(program string) error {
	r := &run{e: e, expr: program}
	for field := range strings.FieldsSeq(program) {
		// MSVC's program strings sometimes glue an assignment to the next
		// token ("$T0 $ebp 204 + =$eip $T0 4 + ^ ="), as crash.pdb's and
		// the .sym files made from it do; Breakpad's evaluator splits
		// them too.
		toks := []string{field}
		if len(field) > 1 && field[0] == '=' {
			toks = []string{"=", field[1:]}
		}
		for _, tok := range toks {
			if err := r.step(tok); err != nil {
				return err
			}
			r.tok++
		}
	}
	r.tok = -1
	if len(r.stack) != 0 {
		return r.fail("values left on the stack", ErrStack)
	}
	return nil
}
