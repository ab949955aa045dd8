package msvc

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotMangled is wrapped by the error of a name that is not an
	// MSVC decorated name (it does not start with '?').
	ErrNotMangled = errors.New("msvc: not a decorated name")
	// ErrUnsupported is wrapped by the error of a name that uses a part
	// of the mangling this package does not demangle.
	ErrUnsupported = errors.New("msvc: unsupported mangling")
)

// SyntaxError reports a malformed decorated name.
type SyntaxError struct {
	Offset int    // byte offset in the name where parsing failed
	Msg    string // what was wrong there
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("msvc: bad decorated name at offset %d: %s", e.Offset, e.Msg)
}

type unsupportedError struct {
	what   string
	offset int
}

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("msvc: unsupported mangling at offset %d: %s", e.offset, e.what)
}

func (e *unsupportedError) Unwrap() error { return ErrUnsupported }

// outputLimit is the most text one name may expand to: back-references
// let a short name repeat long names, and nested templates can make
// that exponential.
func outputLimit(name string) int { return 16*len(name) + 256 }

func parse(name string) (*symbol, int, error) {
	if !strings.HasPrefix(name, "?") {
		return nil, 0, fmt.Errorf("%w: %q", ErrNotMangled, name)
	}
	limit := outputLimit(name)
	p := &parser{in: name, s: name, limit: limit}
	s := p.parse()
	if p.err != nil {
		return nil, 0, p.err
	}
	if s == nil {
		return nil, 0, &SyntaxError{Offset: len(name) - len(p.s), Msg: "empty symbol"}
	}
	return s, limit, nil
}

func render(name string, f flags) (string, error) {
	s, limit, err := parse(name)
	if err != nil {
		return "", err
	}
	o := &output{limit: limit}
	s.out(o, f)
	if o.over {
		return "", &unsupportedError{what: "demangled name too long", offset: 0}
	}
	return string(o.b), nil
}

// Demangle returns the undecorated form of an MSVC C++ decorated name,
// as llvm-undname prints it: "void __cdecl SomeCoolFunction(void)",
// "public: __thiscall CTest::CTest(void)", "public: static int Foo::x",
// "const Foo::`vftable'". A name that does not start with '?' gets an
// error wrapping ErrNotMangled; a malformed one a *SyntaxError; one
// using manglings this package does not know an error wrapping
// ErrUnsupported. Characters after a complete name are ignored, as
// llvm-undname ignores them.
func Demangle(name string) (string, error) { return render(name, 0) }

// Name returns just the qualified name of the function or variable that
// name decorates, without access, storage class, return or variable
// type, calling convention or parameters: "Foo::bar",
// "std::basic_string<char, struct std::char_traits<char>, class std::allocator<char>>::assign".
// Template arguments are kept, in llvm-undname's spelling. String
// literals are "`string'"; special tables and RTTI data come out as
// llvm-undname prints them with all its --no-* options. Name returns its
// argument unchanged when it cannot demangle it.
func Name(name string) string {
	s, limit, err := parse(name)
	if err != nil {
		return name
	}
	o := &output{limit: limit}
	switch s.kind {
	case sFunc:
		o.s(funcPrefix(s))
		s.name.out(o, nameFlags)
		if s.fn.thunk {
			// keep the adjustment: it tells thunks from their targets
			t := *s.fn
			t.fc |= fcNoParams
			t.q, t.noexcept, t.refq, t.ret = 0, false, "", nil
			t.post(o, nameFlags)
		}
	case sString:
		o.s("`string'")
	default:
		s.out(o, nameFlags)
	}
	if o.over {
		return name
	}
	return string(o.b)
}

func funcPrefix(s *symbol) string {
	if s.fn.thunk {
		return "[thunk]: "
	}
	return ""
}
