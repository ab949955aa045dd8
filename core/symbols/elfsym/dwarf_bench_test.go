package elfsym

import (
	"path"
	"testing"

	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// dwarfBenchFiles are the corpus binaries with the most DWARF: a Go 1.9
// program (145 KB of .debug_info, hundreds of units) and crashc
// (gcc -g -O0, C).
var dwarfBenchFiles = []string{"golang-debug/testdata/tmp/test", "generated/linux-core/crashc"}

// dwarfBenchAddrs returns an address inside each function the file's DWARF
// (and symbol table) lists, with what a lookup must answer there, read
// with every unit loaded.
func dwarfBenchAddrs(b *testing.B, p string) ([]uint64, []symbols.Symbol) {
	all, err := Open(p)
	if err != nil {
		b.Fatal(err)
	}
	if !all.dw.HasCode() {
		b.Fatalf("%s: no DWARF", p)
	}
	var rvas []uint64
	all.Symbols(func(s symbols.Symbol) bool {
		if s.Size > 0 {
			rvas = append(rvas, s.Addr+s.Size/2)
		}
		return true
	})
	want := make([]symbols.Symbol, len(rvas))
	lines := 0
	for i, rva := range rvas {
		want[i], _ = all.LookupRVA(rva)
		if want[i].Line != 0 {
			lines++
		}
	}
	if lines == 0 {
		b.Fatalf("%s: no address has a source line", p)
	}
	return rvas, want
}

func sameSymbol(a, b symbols.Symbol) bool {
	return a.Name == b.Name && a.Addr == b.Addr && a.File == b.File && a.Line == b.Line && len(a.Inlined) == len(b.Inlined)
}

// BenchmarkDWARFLookup is one function and line lookup in an opened
// binary whose DWARF units the lookups have already read, as a session's
// lookups are after the first frames: the function containing the
// address, its source line and inline chain. Addresses cycle over every
// function; each answer must be what a table that read all its units at
// once gives.
func BenchmarkDWARFLookup(b *testing.B) {
	for _, rel := range dwarfBenchFiles {
		b.Run(path.Base(rel), func(b *testing.B) {
			p := fixture.Corpus(b, rel)
			rvas, want := dwarfBenchAddrs(b, p)
			tab, err := Open(p)
			if err != nil {
				b.Fatal(err)
			}
			for _, rva := range rvas {
				tab.LookupRVA(rva) // read the units lazily
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if s, ok := tab.LookupRVA(rvas[i]); !ok || !sameSymbol(s, want[i]) {
					b.Fatalf("LookupRVA(%#x) = %+v, %v; want %+v", rvas[i], s, ok, want[i])
				}
				if i++; i == len(rvas) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkDWARFOpenLookup is the first lookups in a module: opening the
// binary (symbol tables, stored DWARF bytes) and looking up ten
// addresses spread over it, which reads only the units covering them.
func BenchmarkDWARFOpenLookup(b *testing.B) {
	for _, rel := range dwarfBenchFiles {
		b.Run(path.Base(rel), func(b *testing.B) {
			p := fixture.Corpus(b, rel)
			rvas, want := dwarfBenchAddrs(b, p)
			var pick []int
			for i := range 10 {
				pick = append(pick, i*len(rvas)/10)
			}
			b.ReportAllocs()
			for b.Loop() {
				tab, err := Open(p)
				if err != nil {
					b.Fatal(err)
				}
				for _, i := range pick {
					if s, ok := tab.LookupRVA(rvas[i]); !ok || !sameSymbol(s, want[i]) {
						b.Fatalf("LookupRVA(%#x) = %+v, %v; want %+v", rvas[i], s, ok, want[i])
					}
				}
			}
		})
	}
}
