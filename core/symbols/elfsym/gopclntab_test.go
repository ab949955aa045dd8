package elfsym

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// goTestRel is a Go 1.9 linux/amd64 executable from golang.org/x/debug's
// testdata (ET_EXEC at 0x400000, with DWARF, .symtab and .gopclntab).
const goTestRel = "golang-debug/testdata/tmp/test"

// TestGopclntabGo19 reads the Go 1.2-layout pclntab of a Go 1.9 binary:
// addresses and lines must agree with its DWARF (addr2line: main.main at
// 0x4509b0 is /tmp/test.go:3; runtime.raise at 0x44bc30).
func TestGopclntabGo19(t *testing.T) {
	path := fixture.Corpus(t, goTestRel)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base, _ := linkBase(f)
	if base != 0x400000 {
		t.Fatalf("link base %#x", base)
	}
	gt := readGopclntab(f, base)
	if gt == nil {
		t.Fatal("no pclntab")
	}
	for _, c := range []struct {
		addr uint64
		name string
		file string
		line int
	}{
		{0x4509b0, "main.main", "/tmp/test.go", 3},
		{0x44bc30, "runtime.raise", "runtime/sys_linux_amd64.s", 107},
	} {
		fn, file, line, ok := gt.lookup(c.addr - base)
		if !ok || fn.Name != c.name || fn.Low != c.addr-base || !strings.HasSuffix(file, c.file) || line != c.line {
			t.Errorf("pclntab at %#x: %+v %s:%d %v; want %s %s:%d", c.addr, fn, file, line, ok, c.name, c.file, c.line)
		}
	}
	// DWARF and pclntab agree on main.main.
	tab, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := tab.LookupRVA(0x4509b0 - base)
	if !ok || s.Name != "main.main" || s.Line != 3 {
		t.Errorf("LookupRVA(main.main) = %+v, %v", s, ok)
	}
}

// buildGo builds a small Go program with the given flags into a temporary
// directory, skipping the test without a go command.
func buildGo(t *testing.T, cgo bool, flags ...string) (exe, src string) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	dir := t.TempDir()
	src = filepath.Join(dir, "prog.go")
	prog := `package main

import "os"

//go:noinline
func crashHere(n int) int {
	if n > 100 {
		panic("big")
	}
	return n * 7
}

func main() { os.Exit(crashHere(len(os.Args))) }
`
	files := map[string]string{"prog.go": prog, "go.mod": "module prog\n\ngo 1.21\n"}
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=", "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if cgo {
		if _, err := exec.LookPath("gcc"); err != nil {
			t.Skip("cgo needs gcc")
		}
		// C code linked first moves runtime.text past the start of .text.
		files["c.go"] = "package main\n\n// int twice(int x) { return 2 * x; }\nimport \"C\"\n\nvar _ = C.twice(1)\n"
		env = append(env, "CGO_ENABLED=1")
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exe = filepath.Join(dir, "prog")
	cmd := exec.Command(goCmd, append(append([]string{"build", "-o", exe}, flags...), ".")...)
	cmd.Dir = dir
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", flags, err, out)
	}
	return exe, src
}

// TestGopclntabStripped resolves a Go function with file and line from a
// binary without DWARF (-w), without .symtab too (-s), as a PIE (whose
// table header holds no text address) and with cgo (runtime.text is not
// where .text starts).
func TestGopclntabStripped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	for _, c := range []struct {
		cgo   bool
		flags []string
	}{
		{false, []string{"-ldflags=-w"}},
		{false, []string{"-ldflags=-s -w", "-buildmode=pie"}},
		{true, []string{"-ldflags=-s -w"}},
		{true, []string{"-ldflags=-s -w", "-buildmode=pie"}},
	} {
		name := strings.Join(c.flags, " ")
		if c.cgo {
			name += " cgo"
		}
		t.Run(name, func(t *testing.T) {
			exe, src := buildGo(t, c.cgo, c.flags...)
			tab, err := Open(exe)
			if err != nil {
				t.Fatal(err)
			}
			if len(tab.dw.Funcs()) != 0 || tab.gosyms == nil || !strings.Contains(tab.Source(), "pclntab") {
				t.Fatalf("%d DWARF funcs, pclntab %v, source %q", len(tab.dw.Funcs()), tab.gosyms != nil, tab.Source())
			}
			s, ok := symbolNamed(tab, "main.crashHere")
			if !ok || s.Size == 0 {
				t.Fatalf("main.crashHere = %+v, %v", s, ok)
			}
			// The same build with .symtab says where the function is.
			ref, _ := buildGo(t, c.cgo, append(slices.Clone(c.flags[1:]), "-ldflags=-w")...)
			if want := symbolValue(t, ref, "main.crashHere"); s.Addr+tab.LinkBase() != want {
				t.Errorf("main.crashHere at %#x, .symtab of the same build says %#x", s.Addr+tab.LinkBase(), want)
			}
			// The entry is on the func line (6); the body follows.
			got, ok := tab.LookupRVA(s.Addr)
			if !ok || got.Name != "main.crashHere" || got.File != filepath.ToSlash(src) || got.Line != 6 {
				t.Errorf("LookupRVA(entry) = %+v, %v; want %s:6", got, ok, src)
			}
			lines := map[int]bool{}
			for rva := s.Addr; rva < s.Addr+s.Size; rva++ {
				if file, line := tab.Line(rva); file == got.File {
					lines[line] = true
				}
			}
			if !lines[7] || !lines[10] {
				t.Errorf("lines in main.crashHere: %v; want 7 and 10 among them", lines)
			}
			// Concurrent lookups share gosym's memo maps under the lock.
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for rva := s.Addr; rva < s.Addr+s.Size; rva++ {
						tab.LookupRVA(rva)
					}
				}()
			}
			wg.Wait()
		})
	}
}

// symbolValue returns the value of the named symbol in the ELF file's
// .symtab.
func symbolValue(t *testing.T, path, name string) uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s: no symbol %s", path, name)
	return 0
}

// TestCheckPclntab refuses headers that would make debug/gosym allocate
// or scan far beyond the table.
func TestCheckPclntab(t *testing.T) {
	f, err := elf.Open(fixture.Corpus(t, goTestRel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	good, err := f.Section(".gopclntab").Data()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPclntab(good); err != nil {
		t.Fatalf("real table: %v", err)
	}
	hugeCount := bytes.Clone(good)
	binary.LittleEndian.PutUint64(hugeCount[8:], 1<<40)
	// A Go 1.2 layout whose 1000 functions share one _func, whose name
	// is a 48 KiB run without a NUL: gosym would copy it 1000 times.
	const fn, run = 16100, 16200
	longNames := make([]byte, 1<<16)
	copy(longNames, good[:8])
	binary.LittleEndian.PutUint64(longNames[8:], 1000)
	for i := range 1000 {
		binary.LittleEndian.PutUint64(longNames[16+16*i:], uint64(0x401000+i))
		binary.LittleEndian.PutUint64(longNames[16+16*i+8:], fn)
	}
	binary.LittleEndian.PutUint32(longNames[fn+8:], run)
	for i := run; i < len(longNames); i++ {
		longNames[i] = 'a'
	}
	shortNames := bytes.Clone(longNames)
	shortNames[run+10] = 0
	if err := checkPclntab(shortNames); err != nil {
		t.Errorf("table with short shared names: %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":       nil,
		"short":       good[:15],
		"bad magic":   append([]byte{1, 2, 3, 4}, good[4:]...),
		"huge count":  hugeCount,
		"long names":  longNames,
		"zero quant":  append(append([]byte{}, good[:6]...), append([]byte{0}, good[7:]...)...),
		"truncated":   good[:len(good)/100],
		"ptrsize 3":   append(append([]byte{}, good[:7]...), append([]byte{3}, good[8:]...)...),
		"header only": good[:16],
	} {
		if err := checkPclntab(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzGopclntab feeds tables to the checks and debug/gosym behind them:
// no panic, no allocation or time beyond what the input justifies.
func FuzzGopclntab(f *testing.F) {
	corpus := os.Getenv("CRASHBENCH_CORPUS")
	if corpus == "" {
		corpus = filepath.Join(fixture.Root(f), "..", "shared", "corpus")
	}
	if ef, err := elf.Open(filepath.Join(corpus, filepath.FromSlash(goTestRel))); err == nil {
		if b, err := ef.Section(".gopclntab").Data(); err == nil {
			f.Add(b[:4096])
			// A whole small table: functab, names and the first funcs.
			n := binary.LittleEndian.Uint64(b[8:])
			f.Add(b[:min(len(b), int(16+16*n+4096))])
		}
		ef.Close()
	}
	f.Add([]byte("\xf1\xff\xff\xff\x00\x00\x01\x08"))
	f.Fuzz(func(t *testing.T, b []byte) {
		gt := newGoTable(b, 0x401000, 0x400000)
		if gt == nil {
			return
		}
		for _, fn := range gt.funcs {
			gt.lookup(fn.Low)
			gt.lookup(fn.High - 1)
		}
	})
}
