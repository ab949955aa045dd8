package console_test

import (
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
)

// A damaged core's module path with invalid UTF-8 before ".so" made
// ModuleName slice past the end of the name (issue 12's damage test, on
// elfutils/testfile_i686_core with bytes inverted in its NT_FILE note):
// the lower-cased copy it searched was longer than the name.
func TestModuleNameOddBytes(t *testing.T) {
	for path, want := range map[string]string{
		"/lib/\xff\xff\xff.so":       "\xff\xff\xff",
		"/lib/\xffc.so.6":            "\xffc",
		"/usr/lib/İİ.so.1":           "İİ", // U+0130 lower-cases to 3 bytes
		"C:\\Windows\\\xffNTDLL.DLL": "\xffNTDLL",
		"/lib/\xff\xff\xff.so\xff":   "\xff\xff\xff", // extension ".so\xff"
		"/lib/x86_64/libc.so.6":      "libc",
		`C:\Windows\System32\a.b.c`:  "a_b",
	} {
		if got := console.ModuleName(path); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", path, got, want)
		}
	}
}

// FuzzModuleName: module paths come from the dump, so any bytes.
func FuzzModuleName(f *testing.F) {
	for _, s := range []string{"/lib/x86_64-linux-gnu/libc.so.6", `C:\Windows\System32\ntdll.dll`, "ntoskrnl.exe", "/lib/\xff\xff\xff.so"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		n := console.ModuleName(path)
		if n != "nt" && strings.Contains(n, ".") {
			t.Fatalf("ModuleName(%q) = %q keeps a dot", path, n)
		}
		if len(n) > len(path) && n != "nt" {
			t.Fatalf("ModuleName(%q) = %q is longer than the path", path, n)
		}
	})
}
