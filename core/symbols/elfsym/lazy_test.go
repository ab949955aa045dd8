package elfsym

import (
	"bytes"
	"debug/elf"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/internal/dwarftab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// checkLazyMatchesEager reads path's DWARF both ways, eagerly (all of it
// through f.DWARF, as before lookups were lazy) and lazily, and checks
// that lookups agree at the start, second and last byte and end of every
// function, at and before every step-th line row, and at n random
// addresses. The lazy table is fresh for each batch of addresses, so
// that units are read one by one (not all at once through Funcs).
func checkLazyMatchesEager(t *testing.T, path string, step, n int) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	f, err := elf.NewFile(fh)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := linkBase(f)
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	eager := &dwarftab.Tables{Base: base, LinkageName: dwarfName}
	if err := eager.Read(d); err != nil {
		t.Fatal(err)
	}
	if len(eager.Funcs) == 0 {
		t.Fatal("no DWARF functions")
	}
	var rvas []uint64
	for _, fn := range eager.Funcs {
		rvas = append(rvas, fn.Low, fn.Low+1, fn.High-1, fn.High)
	}
	for i := 0; i < len(eager.Lines); i += step {
		rvas = append(rvas, eager.Lines[i].RVA, eager.Lines[i].RVA-1)
	}
	hi := eager.Funcs[len(eager.Funcs)-1].High + 0x100
	rng := rand.New(rand.NewPCG(1, 2))
	for range n {
		rvas = append(rvas, rng.Uint64N(hi))
	}
	rng.Shuffle(len(rvas), func(i, j int) { rvas[i], rvas[j] = rvas[j], rvas[i] })

	var lazy *dwarftab.Lazy
	bad := 0
	for i, rva := range rvas {
		if i%20000 == 0 {
			lazy = lazyDWARF(f, fh, base, sectionCache{})
		}
		want, wok := eager.Lookup(rva)
		got, gok := lazy.Lookup(rva)
		if wok != gok || !reflect.DeepEqual(want, got) {
			t.Errorf("Lookup(%#x) = %+v, %v; eager %+v, %v", rva, got, gok, want, wok)
			bad++
		}
		wf, wl := eager.LineAt(rva)
		gf, gl := lazy.LineAt(rva)
		if wf != gf || wl != gl {
			t.Errorf("LineAt(%#x) = %s:%d; eager %s:%d", rva, gf, gl, wf, wl)
			bad++
		}
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
	if !reflect.DeepEqual(lazy.Funcs(), eager.Funcs) || !reflect.DeepEqual(lazy.Lines(), eager.Lines) {
		t.Error("Funcs or Lines differ from the eager tables")
	}
	if !lazy.HasCode() {
		t.Error("HasCode = false")
	}
}

// TestLazyMatchesEagerCrashc: lazy and eager DWARF agree on crashc.
func TestLazyMatchesEagerCrashc(t *testing.T) {
	checkLazyMatchesEager(t, fixture.Corpus(t, crashcRel), 1, 2000)
}

// TestLazyMatchesEagerLibc: lazy and eager DWARF agree on all of glibc's
// separate debug file (compressed, DWARF 5, with .debug_aranges).
func TestLazyMatchesEagerLibc(t *testing.T) {
	skipWithoutLibcDebug(t)
	if testing.Short() {
		t.Skip("reads every unit of libc's DWARF")
	}
	checkLazyMatchesEager(t, libcDebug, 5, 20000)
}

// TestLazyConcurrent looks up the corpus core's libc frames from several
// goroutines at once on a fresh table (run with -race).
func TestLazyConcurrent(t *testing.T) {
	skipWithoutLibcDebug(t)
	tab, err := OpenPair(libcPath, libcDebug)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{0xd3df2: "__libc_pause", 0x891f5: "start_thread", 0x1098ec: "clone3", 0x2724a: "__libc_start_call_main"}
	done := make(chan error)
	for g := range 4 {
		go func() {
			var err error
			for i := range 3 * len(libcFrameRVAs) {
				rva := libcFrameRVAs[(g+i)%len(libcFrameRVAs)]
				if i%4 == 3 {
					rva = 0x2724a
				}
				if s, ok := tab.LookupRVA(rva); !ok || s.Name != want[rva] || s.Line == 0 {
					err = fmt.Errorf("LookupRVA(%#x) = %+v, %v; want %s with a line", rva, s, ok, want[rva])
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestLazyMatchesEagerBuilt builds a program of several compile units
// (C with inlined calls, one split into sections, and assembler) as
// DWARF 4 and 5, compressed with zlib and zstd and without
// .debug_aranges, and checks lazy against eager lookups in each.
func TestLazyMatchesEagerBuilt(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"main.c": `int helper(int);
int twice(int);
int asmfn(void);
static inline int sq(int x) { return x * x; }
int main(int argc, char **argv) { return sq(helper(argc)) + twice(argc) + asmfn(); }
`,
		"helper.c": `static inline __attribute__((always_inline)) int inner(int x) { return x ^ 0x55; }
static inline __attribute__((always_inline)) int outer(int x) { return inner(x) + inner(x + 1); }
__attribute__((noinline)) int helper(int x) { return outer(x) * 3; }
__attribute__((noinline, cold)) int rarely(int x) { return x - 7; }
`,
		"twice.c": `extern int rarely(int);
__attribute__((noinline)) int twice(int x) { if (x > 100) return rarely(x); return 2 * x; }
`,
		"asm.S": `	.text
	.globl asmfn
	.type asmfn, @function
asmfn:
	ret
	.size asmfn, .-asmfn
`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcs := []string{"main.c", "helper.c", "twice.c", "asm.S"}
	for _, c := range []struct {
		name  string
		flags []string
	}{
		{"dwarf5", []string{"-gdwarf-5"}},
		{"dwarf4-sections", []string{"-gdwarf-4", "-ffunction-sections"}},
		{"dwarf5-zlib", []string{"-gdwarf-5", "-Wl,--compress-debug-sections=zlib"}},
		{"dwarf4-zstd", []string{"-gdwarf-4", "-Wl,--compress-debug-sections=zstd"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			exe := filepath.Join(dir, c.name)
			args := append([]string{"-g", "-O2", "-o", exe}, c.flags...)
			cmd := exec.Command("gcc", append(args, srcs...)...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Skipf("gcc %v: %v\n%s", c.flags, err, out)
			}
			checkLazyMatchesEager(t, exe, 1, 2000)
			// Without .debug_aranges every unit is indexed from its
			// top entry.
			noar := exe + ".noaranges"
			if out, err := exec.Command("objcopy", "--remove-section=.debug_aranges", exe, noar).CombinedOutput(); err != nil {
				t.Skipf("objcopy: %v\n%s", err, out)
			}
			checkLazyMatchesEager(t, noar, 1, 2000)
		})
	}
	// A relocatable object's DWARF needs its relocations applied: it is
	// read through f.DWARF (dwarftab.NewLazyData).
	t.Run("relocatable", func(t *testing.T) {
		obj := filepath.Join(dir, "all.o")
		cmd := exec.Command("gcc", append([]string{"-g", "-O2", "-r", "-nostdlib", "-o", obj}, srcs...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("gcc -r: %v\n%s", err, out)
		}
		checkLazyMatchesEager(t, obj, 1, 2000)
	})
}

// FuzzLazyDWARF reads units one by one (lookups before anything reads
// all of the DWARF) from mutated ELF files, compressed ones among the
// seeds.
func FuzzLazyDWARF(f *testing.F) {
	corpus := os.Getenv("CRASHBENCH_CORPUS")
	if corpus == "" {
		corpus = filepath.Join(fixture.Root(f), "..", "shared", "corpus")
	}
	src := filepath.Join(corpus, filepath.FromSlash(crashcRel))
	if data, err := os.ReadFile(src); err == nil {
		f.Add(data)
		for _, z := range []string{"zlib", "zstd"} {
			dst := filepath.Join(f.TempDir(), "crashc."+z)
			if exec.Command("objcopy", "--compress-debug-sections="+z, src, dst).Run() == nil {
				if data, err := os.ReadFile(dst); err == nil {
					f.Add(data)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Opening is under Read's recover (debug/elf panics on some
		// corrupt files); lookups after it are not.
		l := func() (l *dwarftab.Lazy) {
			defer func() { recover() }()
			ef, err := elf.NewFile(bytes.NewReader(b))
			if err != nil {
				return nil
			}
			base, _ := linkBase(ef)
			return lazyDWARF(ef, bytes.NewReader(b), base, sectionCache{})
		}()
		for _, rva := range []uint64{0x1129, 0x1139, 0x1200, 0x11a0, 0} {
			l.Lookup(rva)
			l.LineAt(rva)
		}
		l.HasCode()
		l.Funcs()
		// Types by name (dt): every indexed name converts.
		if d, err := l.Data(); err == nil {
			ty := dwarftab.NewTypes(d)
			n := 0
			for name := range ty.TypeNames {
				if n++; n > 200 {
					break
				}
				if c, ok := ty.Type(name); ok {
					_ = c.String()
				}
			}
		}
	})
}

// TestLazyMatchesEagerGo: a Go binary's DWARF (zlib-compressed, DWARF 5,
// no .debug_aranges, one unit per package) reads the same lazily.
func TestLazyMatchesEagerGo(t *testing.T) {
	exe, _ := buildGo(t, false)
	checkLazyMatchesEager(t, exe, 1, 2000)
}
