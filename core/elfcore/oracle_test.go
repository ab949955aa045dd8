package elfcore

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// gdbOracle is what gdb's "info threads" and "info registers" print.
type gdbOracle struct {
	lwps []uint64          // in gdb's thread order
	regs map[string]uint64 // the current thread's registers with a value
	libs []uint64          // "info sharedlibrary" From addresses
}

var (
	reLWP = regexp.MustCompile(`^\*?\s+\d+\s+.*\bLWP (\d+)\)?`)
	// gdb names a thread whose pr_pid is 0 "process N" after a made-up pid.
	reProc = regexp.MustCompile(`^\*?\s+\d+\s+process \d+\s`)
	reReg  = regexp.MustCompile(`^([a-z][a-z0-9_]*)\s+(0x[0-9a-f]+)\s`)
	reLib  = regexp.MustCompile(`^(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(Yes|No)`)
)

func parseGDB(t *testing.T, text string) gdbOracle {
	t.Helper()
	o := gdbOracle{regs: map[string]uint64{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	inThreads := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  Id   Target Id") {
			inThreads = true
			continue
		}
		if inThreads {
			if m := reLWP.FindStringSubmatch(line); m != nil {
				n, _ := strconv.ParseUint(m[1], 10, 64)
				o.lwps = append(o.lwps, n)
				continue
			}
			if reProc.MatchString(line) {
				o.lwps = append(o.lwps, 0)
				continue
			}
			if strings.HasPrefix(line, "0x") { // a frame continued after a warning
				continue
			}
			inThreads = false
		}
		if m := reReg.FindStringSubmatch(line + " "); m != nil {
			if _, dup := o.regs[m[1]]; !dup {
				v, err := strconv.ParseUint(m[2][2:], 16, 64)
				if err != nil {
					t.Fatalf("oracle line %q: %v", line, err)
				}
				o.regs[m[1]] = v
			}
			continue
		}
		if m := reLib.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseUint(m[1][2:], 16, 64)
			o.libs = append(o.libs, v)
		}
	}
	return o
}

// openCorpusCore opens a core from the corpus, decompressing .bz2.
func openCorpusCore(t *testing.T, path string) *File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".bz2") {
		if b, err = io.ReadAll(bzip2.NewReader(bytes.NewReader(b))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("NewFile(%s): %v", path, err)
	}
	return f
}

// gdbRegNames are the registers gdb prints that pr_reg holds, per arch.
var gdbRegNames = map[model.Arch][]string{
	model.AMD64: {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
		"r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es", "fs", "gs"},
	model.X86: {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
		"cs", "ss", "ds", "es", "fs", "gs"},
	model.ARM64: func() []string {
		var s []string
		for i := range 31 {
			s = append(s, "x"+strconv.Itoa(i))
		}
		return append(s, "sp", "pc", "cpsr")
	}(),
}

// gdbOptional are printed by gdb only when it found them (fs_base and
// gs_base are missing when gdb reads an incomplete xstate note).
var gdbOptional = map[model.Arch][]string{model.AMD64: {"fs_base", "gs_base"}}

// checkRegisters asserts every register gdb printed for the current thread
// that pr_reg holds.
func checkRegisters(t *testing.T, c model.Context, o gdbOracle) {
	t.Helper()
	if c == nil {
		t.Fatal("no context")
	}
	names := gdbRegNames[c.Arch()]
	for _, name := range names {
		want, ok := o.regs[name]
		if !ok {
			t.Errorf("oracle has no %s", name)
			continue
		}
		if got, ok := c.Reg(name); !ok || got != want {
			t.Errorf("%s = %#x (%v), gdb says %#x", name, got, ok, want)
		}
	}
	for _, name := range gdbOptional[c.Arch()] {
		if want, ok := o.regs[name]; ok {
			if got, _ := c.Reg(name); got != want {
				t.Errorf("%s = %#x, gdb says %#x", name, got, want)
			}
		}
	}
	want := map[model.Arch][3]string{
		model.AMD64: {"rip", "rsp", "rbp"}, model.X86: {"eip", "esp", "ebp"}, model.ARM64: {"pc", "sp", "x29"},
	}[c.Arch()]
	pc, sp, fp := want[0], want[1], want[2]
	if c.PC() != o.regs[pc] || c.SP() != o.regs[sp] || c.FP() != o.regs[fp] {
		t.Errorf("PC/SP/FP = %#x/%#x/%#x, gdb %#x/%#x/%#x", c.PC(), c.SP(), c.FP(), o.regs[pc], o.regs[sp], o.regs[fp])
	}
}

func threadIDs(ts []model.Thread) []uint64 {
	var ids []uint64
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

// TestGDBOracles checks every core with a local gdb oracle: the thread ids
// (gdb's LWP numbers, in order) and, for x86-64, i386 and arm64 cores, every
// register gdb prints for the current (crashing) thread, through Threads and
// ExceptionContext.
func TestGDBOracles(t *testing.T) {
	t.Parallel()
	dir := fixture.CorpusDir(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "local-oracles", "*.gdb-threads-regs.txt"))
	if len(oracles) == 0 {
		t.Skip("no gdb oracles in the corpus")
	}
	checked := map[model.Arch]int{}
	for _, op := range oracles {
		sub := filepath.Base(filepath.Dir(filepath.Dir(op)))
		base := strings.TrimSuffix(filepath.Base(op), ".gdb-threads-regs.txt")
		d, file, ok := strings.Cut(base, "__")
		var cands []string
		if ok {
			cands = append(cands, filepath.Join(sub, d, file), filepath.Join(sub, strings.Replace(d, "_", "/", 1), file))
		} else {
			cands = append(cands, filepath.Join(sub, base))
		}
		core := ""
		for _, c := range cands {
			for _, ext := range []string{"", ".bz2"} {
				if _, err := os.Stat(filepath.Join(dir, c+ext)); err == nil && core == "" {
					core = filepath.Join(dir, c+ext)
				}
			}
		}
		if core == "" {
			continue // .zst cores: no decompressor in the standard library
		}
		text, err := os.ReadFile(op)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(sub+"/"+base, func(t *testing.T) {
			o := parseGDB(t, string(text))
			if len(o.lwps) == 0 || bytes.Contains(text, []byte("Couldn't find general-purpose registers")) {
				t.Skip("gdb does not read this core")
			}
			f := openCorpusCore(t, core)
			ts, err := f.Threads()
			if err != nil {
				t.Fatal(err)
			}
			if got := threadIDs(ts); !slicesEqual(got, o.lwps) {
				t.Fatalf("thread ids %v, gdb %v", got, o.lwps)
			}
			if ci := f.Info().Crash; ci != nil && (ci.ThreadID == nil || *ci.ThreadID != ts[0].ID) {
				t.Errorf("crash thread %v, first thread %d", ci.ThreadID, ts[0].ID)
			}
			arch := f.Info().Arch
			if _, ok := gdbRegNames[arch]; !ok || f.Header.Class == 1 && arch == model.AMD64 {
				if ts[0].Context != nil {
					t.Errorf("%s: context decoded for an undecoded layout", arch)
				}
				return
			}
			checkRegisters(t, ts[0].Context, o)
			ec, err := f.ExceptionContext()
			if err != nil {
				t.Fatal(err)
			}
			checkRegisters(t, ec, o)
			checked[arch]++ // subtests are sequential
		})
	}
	for _, a := range []model.Arch{model.AMD64, model.X86, model.ARM64} {
		if checked[a] == 0 {
			t.Errorf("no %s core was checked against gdb", a)
		}
	}
}

func slicesEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNamedOracles pins the cores the brief names, so that renaming an
// oracle cannot silently drop them from TestGDBOracles.
func TestNamedOracles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ core, oracle string }{
		{"lldb/elf-core/linux-x86_64.core", "lldb/local-oracles/elf-core__linux-x86_64.core.gdb-threads-regs.txt"},
		{"rizin/elf-core/core-linux-x86", "rizin/local-oracles/elf-core__core-linux-x86.gdb-threads-regs.txt"},
		{"rizin/elf-core/core-linux-arm64", "rizin/local-oracles/elf-core__core-linux-arm64.gdb-threads-regs.txt"},
		{"generated/linux-core/core.crashc.sigsegv", "generated/linux-core/core.crashc.sigsegv.gdb.txt"},
	} {
		t.Run(tc.core, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(fixture.Corpus(t, tc.oracle))
			if err != nil {
				t.Fatal(err)
			}
			o := parseGDB(t, string(text))
			f := openCorpusCore(t, fixture.Corpus(t, tc.core))
			ts, _ := f.Threads()
			if got := threadIDs(ts); len(o.lwps) == 0 || !slicesEqual(got, o.lwps) {
				t.Fatalf("thread ids %v, gdb %v", got, o.lwps)
			}
			for _, th := range ts {
				if th.Context == nil {
					t.Errorf("thread %d has no context", th.ID)
				}
			}
			ec, err := f.ExceptionContext()
			if err != nil {
				t.Fatal(err)
			}
			checkRegisters(t, ec, o)
		})
	}
}

// TestCrashcModules checks core.crashc.sigsegv's modules against gdb's
// "info sharedlibrary": each From address (the library's .text) lies in a
// module, the executable is a module, and the build ids read from the
// core's memory match the ones in the shipped binary.
func TestCrashcModules(t *testing.T) {
	t.Parallel()
	text, err := os.ReadFile(fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv.gdb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	o := parseGDB(t, string(text))
	if len(o.libs) != 2 {
		t.Fatalf("oracle lists %d libraries, want 2", len(o.libs))
	}
	f := openCorpusCore(t, fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv"))
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if f.Info().Modules != len(mods) {
		t.Errorf("Info.Modules = %d, Modules() has %d", f.Info().Modules, len(mods))
	}
	for _, from := range o.libs {
		found := false
		for _, m := range mods {
			if m.Contains(from) {
				found = true
				if !strings.HasPrefix(m.Name(), "libc.so") && !strings.HasPrefix(m.Name(), "ld-linux") {
					t.Errorf("%#x lies in %s", from, m.Path)
				}
				if len(m.BuildID) < 16 || m.CodeID == "" {
					t.Errorf("%s: build id %x code id %q", m.Path, m.BuildID, m.CodeID)
				}
			}
		}
		if !found {
			t.Errorf("library at %#x lies in no module: %+v", from, mods)
		}
	}
	// The executable: its pc (level3, from gdb's backtrace) lies inside it,
	// and its build id is the one in the crashc binary.
	var exe *model.Module
	for i := range mods {
		if mods[i].Name() == "crashc" {
			exe = &mods[i]
		}
	}
	if exe == nil {
		t.Fatalf("no crashc module in %+v", mods)
	}
	if !exe.Contains(0x5642e0279234) {
		t.Errorf("crashc %#x+%#x does not contain the crashing pc", exe.Base, exe.Size)
	}
	bin, err := os.ReadFile(fixture.Corpus(t, "generated/linux-core/crashc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(exe.BuildID) == 0 || !bytes.Contains(bin, append([]byte("GNU\x00"), exe.BuildID...)) {
		t.Errorf("crashc build id %x is not in the binary's GNU note", exe.BuildID)
	}
	for _, m := range mods {
		if strings.HasPrefix(m.Path, "[") {
			t.Errorf("pseudo file %q listed", m.Path)
		}
	}
	// Memory: the crashing instruction is readable and is a store.
	sp, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	if err := mem.ReadFull(sp, b[:], exe.Base); err != nil || string(b[:]) != "\x7fELF" {
		t.Errorf("crashc header at %#x: %q, %v", exe.Base, b, err)
	}
}
