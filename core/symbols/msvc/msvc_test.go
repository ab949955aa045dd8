package msvc

import (
	"errors"
	"strings"
	"testing"
)

func TestDemangleCases(t *testing.T) {
	cases := []struct{ in, want string }{
		// names, scopes and back-references
		{"?SomeCoolFunction@@YAXXZ", "void __cdecl SomeCoolFunction(void)"},
		{"?main@@YAHHPAPAD@Z", "int __cdecl main(int, char **)"},
		{"?f@A@B@@QAEXXZ", "public: void __thiscall B::A::f(void)"},
		{"?f@A@B@@YAXV12@@Z", "void __cdecl B::A::f(class B::A)"},
		{"?f@?A0x1234@@YAXXZ", "void __cdecl `anonymous namespace'::f(void)"},
		{"?x@?1??f@@YAXXZ@4HA", "int `void __cdecl f(void)'::`2'::x"},
		// templates
		{"??$f@H@@YAXH@Z", "void __cdecl f<int>(int)"},
		{"?f@?$C@H@@QAEXXZ", "public: void __thiscall C<int>::f(void)"},
		{"??$f@$0BAA@@@YAXXZ", "void __cdecl f<256>(void)"},
		{"??$f@$0?0@@YAXXZ", "void __cdecl f<-1>(void)"},
		{"??$f@$$T@@YAXXZ", "void __cdecl f<std::nullptr_t>(void)"},
		{"??$f@$1?x@@3HA@@YAXXZ", "void __cdecl f<&int x>(void)"},
		{"?f@?$A@V?$B@H@@V1@@@QAEXXZ", "public: void __thiscall A<class B<int>, class B<int>>::f(void)"},
		// special names
		{"??0CTest@@QAE@XZ", "public: __thiscall CTest::CTest(void)"},
		{"??1CTest@@UAE@XZ", "public: virtual __thiscall CTest::~CTest(void)"},
		{"??_7Foo@@6B@", "const Foo::`vftable'"},
		{"??_8Middle2@@7B@", "const Middle2::`vbtable'"},
		{"??_GBase@@UEAAPEAXI@Z", "public: virtual void * __cdecl Base::`scalar deleting dtor'(unsigned int)"},
		{"??_EBase@@UEAAPEAXI@Z", "public: virtual void * __cdecl Base::`vector deleting dtor'(unsigned int)"},
		{"??_R0?AVFoo@@@8", "class Foo `RTTI Type Descriptor'"},
		{"??_R1A@?0A@EA@Base@@8", "Base::`RTTI Base Class Descriptor at (0, -1, 0, 64)'"},
		{"??_R2Base@@8", "Base::`RTTI Base Class Array'"},
		{"??_R3Base@@8", "Base::`RTTI Class Hierarchy Descriptor'"},
		{"??_R4Base@@6B@", "const Base::`RTTI Complete Object Locator'"},
		{"??2@YAPEAX_K@Z", "void * __cdecl operator new(unsigned __int64)"},
		{"??3@YAXPEAX@Z", "void __cdecl operator delete(void *)"},
		{"??4Base@@QEAAAEAV0@AEBV0@@Z", "public: class Base & __cdecl Base::operator=(class Base const &)"},
		{"??_U@YAPAXI@Z", "void * __cdecl operator new[](unsigned int)"},
		{"??_V@YAXPAX@Z", "void __cdecl operator delete[](void *)"},
		{"??BBase@@QEAAHXZ", "public: int __cdecl Base::operator int(void)"},
		{"??__EFoo@@YAXXZ", "void __cdecl `dynamic initializer for 'Foo''(void)"},
		{"??__FFoo@@YAXXZ", "void __cdecl `dynamic atexit destructor for 'Foo''(void)"},
		{"??_C@_0M@KDBKFNDN@hello?5world?$AA@", `"hello world"`},
		{"??_C@_0N@KDBKFNDN@hello?5world?$AA@", `"hello world\0"...`},
		{"??_C@_1M@FOJDDGIC@?$AAh?$AAe?$AAl?$AAl?$AAo?$AA?$AA@", `L"hello"`},
		{"??_9Base@@$B7AA", "[thunk]: __cdecl Base::`vcall'{8, {flat}}"},
		{"??_EBase@@G3AEPAXI@Z", "[thunk]: private: void * __thiscall Base::`vector deleting dtor'`adjustor{4}'(unsigned int)"},
		// function classes and calling conventions
		{"?f@S@@SAXXZ", "public: static void __cdecl S::f(void)"},
		{"?f@S@@IAEXXZ", "protected: void __thiscall S::f(void)"},
		{"?f@S@@EAEXXZ", "private: virtual void __thiscall S::f(void)"},
		{"?f@@YGXH@Z", "void __stdcall f(int)"},
		{"?f@@YIXH@Z", "void __fastcall f(int)"},
		{"?f@@YQXH@Z", "void __vectorcall f(int)"},
		{"?f@@YMXH@Z", "void __clrcall f(int)"},
		{"?f@S@@QEBAXXZ", "public: void __cdecl S::f(void) const"},
		{"?f@S@@QEGAAXXZ", "public: void __cdecl S::f(void) &"},
		{"?f@@YAXHZZ", "void __cdecl f(int, ...)"},
		{"?f@@YAXZZ", "void __cdecl f(...)"},
		{"?f@@YAXX_E", "void __cdecl f(void) noexcept"},
		{"?f@@YAXH@_E", "void __cdecl f(int) noexcept"},
		// types
		{"?f@@YAXDEFGHIJKMNO_J_K_N_W_S_U_Q@Z", "void __cdecl f(char, unsigned char, short, unsigned short, int, unsigned int, long, unsigned long, float, double, long double, __int64, unsigned __int64, bool, wchar_t, char16_t, char32_t, char8_t)"},
		{"?f@@YAXPEAX@Z", "void __cdecl f(void *)"},
		{"?f@@YAXAEAVA@@@Z", "void __cdecl f(class A &)"},
		{"?f@@YAX$$QEAVA@@@Z", "void __cdecl f(class A &&)"},
		{"?f@@YAXPEBD@Z", "void __cdecl f(char const *)"},
		{"?f@@YAXPCH@Z", "void __cdecl f(int volatile *)"},
		{"?f@@YAXPAY02N@Z", "void __cdecl f(double (*)[3])"},
		{"?f@@YAXP6AHH@Z@Z", "void __cdecl f(int (__cdecl *)(int))"},
		{"?f@@YAXP8S@@AEHH@Z@Z", "void __cdecl f(int (__thiscall S::*)(int))"},
		{"?f@@YAXPQS@@H@Z", "void __cdecl f(int S::*)"},
		{"?f@@YAXW4E@@@Z", "void __cdecl f(enum E)"},
		{"?f@@YAXTU@@UV@@@Z", "void __cdecl f(union U, struct V)"},
		{"?f@@YAXPAH0@Z", "void __cdecl f(int *, int *)"},
		{"?f@@YAP6AHXZXZ", "int (__cdecl * __cdecl f(void))(void)"},
		// data
		{"?x@Foo@@2HA", "public: static int Foo::x"},
		{"?x@Foo@@0HB", "private: static int const Foo::x"},
		{"?x@@3HA", "int x"},
		{"?x@@3PEAHEA", "int *x"},
		{"?p@@3P6AXXZA", "void (__cdecl *p)(void)"},
	}
	for _, c := range cases {
		got, err := Demangle(c.in)
		if err != nil || got != c.want {
			t.Errorf("Demangle(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"?SomeCoolFunction@@YAXXZ", "SomeCoolFunction"},
		{"??0CTest@@QAE@XZ", "CTest::CTest"},
		{"?x@Foo@@2HA", "Foo::x"},
		{"?assign@?$basic_string@DU?$char_traits@D@std@@V?$allocator@D@2@@std@@QEAAAEAV12@QEBD_K@Z",
			"std::basic_string<char, struct std::char_traits<char>, class std::allocator<char>>::assign"},
		{"??_7Foo@@6B@", "const Foo::`vftable'"},
		{"??_C@_0N@KDBKFNDN@hello?5world?$AA@", "`string'"},
		{"??_EBase@@G3AEPAXI@Z", "[thunk]: Base::`vector deleting dtor'`adjustor{4}'"},
		{"??BBase@@QEAAHXZ", "Base::operator int"},
		{"?f@@YAP6AHXZXZ", "f"},
		{"main", "main"},
		{"?bad", "?bad"},
	}
	for _, c := range cases {
		if got := Name(c.in); got != c.want {
			t.Errorf("Name(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestNameOracle checks Name against llvm-undname with all its --no-*
// options: for a function that output is the name, then the parameters.
func TestNameOracle(t *testing.T) {
	for _, c := range readOracle(t, "testdata/undname-name.txt") {
		if c.want == "" || known[c.mangled] != "" {
			continue
		}
		s, _, err := parse(c.mangled)
		if err != nil || s.kind != sFunc {
			continue
		}
		got := Name(c.mangled)
		ok := strings.HasPrefix(c.want, got)
		if ok && s.fn.fc&fcNoParams == 0 && !s.fn.thunk {
			ok = strings.HasPrefix(c.want[len(got):], "(")
		}
		if !ok {
			t.Errorf("Name(%q) = %q, not the name in %q", c.mangled, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := Demangle("main"); !errors.Is(err, ErrNotMangled) {
		t.Errorf("Demangle(main) error %v, want ErrNotMangled", err)
	}
	_, err := Demangle("?f@@YAXH@")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Offset != len("?f@@YAXH@") {
		t.Errorf("Demangle(?f@@YAXH@) error %v, want a SyntaxError at the end", err)
	}
	for _, n := range []string{"??_A@@8", "??_Pfoo@@YAXXZ"} {
		if _, err := Demangle(n); !errors.Is(err, ErrUnsupported) {
			t.Errorf("Demangle(%q) error %v, want ErrUnsupported", n, err)
		}
	}
	// Nested templates each naming the one inside twice (the second
	// time by back-reference 1) double the output at every level; the
	// cap turns that into ErrUnsupported instead of 2^24 copies.
	name := "?f@@YAXV"
	for i := 0; i < 24; i++ {
		name += "?$A@V"
	}
	name += "B@@"
	for i := 0; i < 24; i++ {
		name += "V1@@@"
	}
	name += "@Z"
	if out, err := Demangle(name); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Demangle of a doubling name = %d bytes, %v; want ErrUnsupported", len(out), err)
	}
	small := "?f@@YAXV?$A@V?$A@VB@@V1@@@V1@@@@Z"
	if out, err := Demangle(small); err != nil || out != "void __cdecl f(class A<class A<class B, class B>, class A<class B, class B>>)" {
		t.Errorf("Demangle(%q) = %q, %v", small, out, err)
	}
}
