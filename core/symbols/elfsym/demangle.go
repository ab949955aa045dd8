package elfsym

import (
	"strings"

	"github.com/ianlancetaylor/demangle"
)

// maxDemangledPow bounds a demangled name to 2^16 bytes: hostile or
// pathological names (deep template nesting) would otherwise expand
// without limit.
const maxDemangledPow = 16

// symbolName demangles an Itanium C++ ("_Z…") or Rust (legacy "_ZN…17h…E"
// or v0 "_R…") symbol-table name the way GDB prints a frame without debug
// information: C++ with its parameter list ("ns::func(int)"), Rust
// without the hash ("core::panicking::panic"). Anything else, or a name
// that does not demangle, is returned unchanged.
func symbolName(name string) string {
	if !mangled(name) {
		return name
	}
	return demangleName(name, demangle.MaxLength(maxDemangledPow))
}

// dwarfName returns the name GDB gives a DWARF function from its
// DW_AT_linkage_name: demangled without parameters for C++ and Rust
// ("ns::Klass::method"; GDB's backtrace prints argument values instead),
// and as it is for C, where a linkage name is an asm label such as
// glibc's __GI_raise for raise (GDB stores C symbols in linkage form).
func dwarfName(linkage string) string {
	if !mangled(linkage) {
		return linkage
	}
	return demangleName(linkage, demangle.NoParams, demangle.MaxLength(maxDemangledPow))
}

// mangled reports whether name looks like an Itanium or Rust v0 mangled
// name, so plain C names skip the demangler.
func mangled(name string) bool {
	return strings.HasPrefix(name, "_Z") || strings.HasPrefix(name, "_R")
}

// demangleName is demangle.Filter behind a recover: the library reports
// errors by panicking internally, and a name from a hostile file must not
// take the process down should one escape.
func demangleName(name string, opts ...demangle.Option) (out string) {
	defer func() {
		if recover() != nil {
			out = name
		}
	}()
	return demangle.Filter(name, opts...)
}
