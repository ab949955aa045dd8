package breakpad

import (
	"path"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// lookupBenchFiles are corpus .sym files: Windows (test_app, FUNC and
// LINE records for a whole program), Linux with INLINE records, and a
// Rust crash client.
var lookupBenchFiles = []string{testAppSym, inlineSym, clientSym}

// funcAddrs returns an address inside each FUNC of f (its middle), with
// the FUNC it must resolve to. (PUBLICs are left out: one that lies
// inside a FUNC rightly resolves to the FUNC.)
func funcAddrs(f *File) (rvas []uint64, want []symtab.Symbol) {
	f.Symbols(func(s symtab.Symbol) bool {
		if s.Size > 0 {
			rvas = append(rvas, s.Addr+s.Size/2)
			want = append(want, s)
		}
		return true
	})
	return rvas, want
}

// BenchmarkLookup is one address lookup in a parsed .sym file, as naming
// a frame does: the FUNC containing it with its line record and inline
// chain. Addresses cycle over every FUNC.
func BenchmarkLookup(b *testing.B) {
	for _, rel := range lookupBenchFiles {
		b.Run(path.Base(rel), func(b *testing.B) {
			f := openCorpus(b, rel)
			rvas, want := funcAddrs(f)
			if len(rvas) == 0 {
				b.Fatal("no FUNC records")
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				rva, w := rvas[i], want[i]
				s, ok := f.LookupRVA(rva)
				// Of folded functions (one address) the first listed is
				// returned, and Symbols lists it first too.
				if !ok || s.Addr != w.Addr || s.Name == "" {
					b.Fatalf("LookupRVA(%#x) = %+v, %v; want %s at %#x", rva, s, ok, w.Name, w.Addr)
				}
				if i++; i == len(rvas) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkOpenLookup is what the first frame in a module costs when its
// symbols come from a .sym file: parsing test_app.sym (818 KB) and
// looking up the frames of minidump2.dmp's crashing thread in it.
func BenchmarkOpenLookup(b *testing.B) {
	p := fixture.Corpus(b, testAppSym)
	// test_app.exe's frames in minidump2.stackwalk.out: the crash
	// address, then return addresses minus one.
	frames := []struct {
		rva  uint64
		name string
	}{{0x429e, "`anonymous namespace'::CrashFunction"}, {0x41ff, "main"}, {0x53eb, "__tmainCRTStartup"}}
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, fr := range frames {
			if s, ok := f.LookupRVA(fr.rva); !ok || s.Name != fr.name {
				b.Fatalf("LookupRVA(%#x) = %+v, %v; want %s", fr.rva, s, ok, fr.name)
			}
		}
	}
}
