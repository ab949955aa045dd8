package elfsym

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestSymbolName(t *testing.T) {
	for _, c := range []struct{ in, sym, linkage string }{
		// C++: the symbol table keeps parameters, as gdb prints a frame
		// without debug info; a DWARF linkage name drops them, as gdb
		// prints a frame from DWARF (arguments follow as values; checked
		// with gdb 13: "ns::Klass::method(int) ()" against
		// "ns::Klass::method (this=…, x=1) at p.cc:3").
		{"_ZN2ns4funcEi", "ns::func(int)", "ns::func"},
		{"_ZNK2ns5Klass3getEv", "ns::Klass::get() const", "ns::Klass::get"},
		{"_Z3fooIiEvT_", "void foo<int>(int)", "foo<int>"},
		{"_Z3foov.cold", "foo() [clone .cold]", "foo"},
		// Rust legacy (hash dropped, as gdb does) and v0.
		{"_ZN4core9panicking5panic17h1234567890abcdefE", "core::panicking::panic", "core::panicking::panic"},
		{"_RNvNtCs1234_7mycrate3foo3bar", "mycrate::foo::bar", "mycrate::foo::bar"},
		// Plain names (a C linkage name is an asm label, as gdb shows
		// it) and malformed mangled ones stay as they are.
		{"main", "main", "main"},
		{"__GI_raise", "__GI_raise", "__GI_raise"},
		{"main.main", "main.main", "main.main"},
		{"_Z", "_Z", "_Z"},
		{"_ZN3foo", "_ZN3foo", "_ZN3foo"},
		{"_R", "_R", "_R"},
	} {
		if got := symbolName(c.in); got != c.sym {
			t.Errorf("symbolName(%q) = %q, want %q", c.in, got, c.sym)
		}
		if got := dwarfName(c.in); got != c.linkage {
			t.Errorf("dwarfName(%q) = %q, want %q", c.in, got, c.linkage)
		}
	}
}

func FuzzSymbolName(f *testing.F) {
	for _, s := range []string{"_ZN2ns4funcEi", "_RNvNtCs1234_7mycrate3foo3bar", "_Z3fooIiEvT_", "_ZZ4mainENKUlvE_clEv"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := symbolName(s); len(n) > 1<<maxDemangledPow+len(s) {
			t.Fatalf("demangled to %d bytes", len(n))
		}
		dwarfName(s)
	})
}

// build runs a compiler in dir, skipping the test when it is missing.
func build(t *testing.T, dir, tool string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not installed", tool)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

// names returns the names of the functions of the ELF file at path.
func names(t *testing.T, path string) map[string]bool {
	t.Helper()
	tab, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range tab.syms {
		out[f.Name] = true
	}
	for _, f := range tab.dw.Funcs() {
		out["dwarf:"+f.Name] = true
	}
	return out
}

func TestDemangleCxx(t *testing.T) {
	dir := t.TempDir()
	src := `namespace ns {
struct Klass { int method(int x); };
__attribute__((noinline)) int Klass::method(int x) { return x * 2; }
__attribute__((noinline)) int func(int x) { return x + 1; }
template <typename T> __attribute__((noinline)) T twice(T x) { return x * 2; }
}
int main(int argc, char **) { ns::Klass k; return ns::func(argc) + k.method(argc) + ns::twice<int>(argc); }
`
	if err := os.WriteFile(filepath.Join(dir, "p.cc"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	build(t, dir, "g++", "-g", "-O1", "-o", "withdwarf", "p.cc")
	build(t, dir, "g++", "-O1", "-o", "plain", "p.cc")
	got := names(t, filepath.Join(dir, "withdwarf"))
	for _, n := range []string{"dwarf:ns::Klass::method", "dwarf:ns::func", "dwarf:ns::twice<int>", "dwarf:main"} {
		if !got[n] {
			t.Errorf("DWARF lacks %q: %v", n, got)
		}
	}
	got = names(t, filepath.Join(dir, "plain"))
	for _, n := range []string{"ns::Klass::method(int)", "ns::func(int)", "int ns::twice<int>(int)", "main"} {
		if !got[n] {
			t.Errorf(".symtab lacks %q: %v", n, got)
		}
	}
}

func TestDemangleRust(t *testing.T) {
	dir := t.TempDir()
	src := `mod inner {
    #[inline(never)]
    pub fn work(x: u32) -> u32 { x.wrapping_mul(3) }
}
fn main() { std::process::exit(inner::work(std::env::args().count() as u32) as i32) }
`
	if err := os.WriteFile(filepath.Join(dir, "p.rs"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// Stable rustc mangles the legacy way by default and takes v0 on
	// request.
	for mangling, flags := range map[string][]string{"legacy": nil, "v0": {"-C", "symbol-mangling-version=v0"}} {
		build(t, dir, "rustc", append(append([]string{"-g", "-o", mangling}, flags...), "p.rs")...)
		got := names(t, filepath.Join(dir, mangling))
		for _, n := range []string{"p::inner::work", "dwarf:p::inner::work"} {
			if !got[n] {
				t.Errorf("%s: no %q", mangling, n)
			}
		}
	}
}
