package elfcore

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/crashbench/crashbench/core/internal/elfx"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// gdbOracle is what gdb's "info threads" and "info registers" print.
type gdbOracle struct {
	lwps  []uint64          // in gdb's thread order
	pc    *uint64           // the current thread's frame address in "info threads"
	regs  map[string]uint64 // the current thread's registers with a value
	order []string          // the names in regs, in gdb's order
	libs  []uint64          // "info sharedlibrary" From addresses
}

var (
	reLWP = regexp.MustCompile(`^\*?\s+\d+\s+.*\bLWP (\d+)\)?`)
	// gdb names a thread whose pr_pid is 0 "process N" after a made-up pid.
	reProc    = regexp.MustCompile(`^\*?\s+\d+\s+process \d+\s`)
	reFramePC = regexp.MustCompile(`^\*\s+\d+\s+.*?\s(0x[0-9a-f]+) in `)
	reReg     = regexp.MustCompile(`^([a-z][a-z0-9_]*)\s+(0x[0-9a-f]+)\s`)
	reLib     = regexp.MustCompile(`^(0x[0-9a-f]+)\s+0x[0-9a-f]+\s+(Yes|No)`)
	// MIPS "info registers" is a table: a line of names, then a line of
	// bare hex values, the first table rows prefixed by "R0", "R8", ...
	reTableNames = regexp.MustCompile(`^\s+([a-z][a-z0-9]*\s+)*[a-z][a-z0-9]*\s*$`)
	reTableVals  = regexp.MustCompile(`^\s*(R\d+)?(\s+[0-9a-f]+)+\s*$`)
)

func parseGDB(t *testing.T, text string) gdbOracle {
	t.Helper()
	o := gdbOracle{regs: map[string]uint64{}}
	add := func(name, hex string) {
		if _, dup := o.regs[name]; dup {
			return
		}
		v, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			t.Fatalf("oracle register %s = %q: %v", name, hex, err)
		}
		o.regs[name] = v
		o.order = append(o.order, name)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	inThreads := false
	var tableNames []string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "  Id   Target Id") {
			inThreads = true
			continue
		}
		if inThreads {
			if m := reLWP.FindStringSubmatch(line); m != nil || reProc.MatchString(line) {
				var n uint64
				if m != nil {
					n, _ = strconv.ParseUint(m[1], 10, 64)
				}
				o.lwps = append(o.lwps, n)
				if pm := reFramePC.FindStringSubmatch(line); pm != nil {
					v, _ := strconv.ParseUint(pm[1][2:], 16, 64)
					o.pc = &v
				}
				continue
			}
			if strings.HasPrefix(line, "0x") { // a frame continued after a warning
				continue
			}
			inThreads = false
		}
		if tableNames != nil {
			names := tableNames
			tableNames = nil
			if reTableVals.MatchString(line) {
				vals := strings.Fields(line)
				if strings.HasPrefix(vals[0], "R") {
					vals = vals[1:]
				}
				if len(vals) == len(names) {
					for i, n := range names {
						add(n, vals[i])
					}
					continue
				}
			}
		}
		if m := reReg.FindStringSubmatch(line + " "); m != nil {
			add(m[1], m[2][2:])
			continue
		}
		if reTableNames.MatchString(line) {
			tableNames = strings.Fields(line)
			continue
		}
		if m := reLib.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseUint(m[1][2:], 16, 64)
			o.libs = append(o.libs, v)
		}
	}
	return o
}

// readCorpusCore reads a core from the corpus, decompressing .bz2 and .zst.
func readCorpusCore(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.HasSuffix(path, ".bz2"):
		b, err = io.ReadAll(bzip2.NewReader(bytes.NewReader(b)))
	case strings.HasSuffix(path, ".zst"):
		var d *zstd.Decoder
		if d, err = zstd.NewReader(nil); err == nil {
			b, err = d.DecodeAll(b, nil)
			d.Close()
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// openCorpusCore opens a core from the corpus.
func openCorpusCore(t *testing.T, path string) *File {
	t.Helper()
	b := readCorpusCore(t, path)
	f, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("NewFile(%s): %v", path, err)
	}
	return f
}

// gdbNotInPRReg lists, per architecture, the registers gdb prints that do
// not come from pr_reg, so there is nothing of ours to compare them with.
// Every other register gdb prints is compared.
var gdbNotInPRReg = map[model.Arch]map[string]string{
	model.AMD64: {
		"k0": "xstate", "k1": "xstate", "k2": "xstate", "k3": "xstate",
		"k4": "xstate", "k5": "xstate", "k6": "xstate", "k7": "xstate",
	},
	model.ARM64: {
		"fpsr": "NT_FPREGSET", "fpcr": "NT_FPREGSET",
		"tpidr": "NT_ARM_TLS", "tpidr2": "NT_ARM_TLS",
		"pauth_dmask": "NT_ARM_PAC_MASK", "pauth_cmask": "NT_ARM_PAC_MASK",
	},
	model.ARM: {"fpscr": "NT_ARM_VFP"},
	model.PPC: ppcNotInPRReg, model.PPC64: ppcNotInPRReg, model.PPC64LE: ppcNotInPRReg,
	model.S390X: s390NotInPRReg, model.S390: s390NotInPRReg,
	model.MIPS: mipsNotInPRReg, model.MIPS64: mipsNotInPRReg,
	model.HPPA: {
		// .reg2 (NT_FPREGSET) supplies these after .reg; gdb also maps
		// pr_reg slot 57 (cr31) onto fpsr, which .reg2 then overwrites.
		"fpsr": "NT_FPREGSET", "fpe1": "NT_FPREGSET", "fpe2": "NT_FPREGSET", "fpe3": "NT_FPREGSET",
		"fpe4": "NT_FPREGSET", "fpe5": "NT_FPREGSET", "fpe6": "NT_FPREGSET", "fpe7": "NT_FPREGSET",
	},
}

var (
	ppcNotInPRReg = map[string]string{
		"fpscr": "NT_FPREGSET", "vscr": "NT_PPC_VMX", "vrsave": "NT_PPC_VMX",
		"ppr": "NT_PPC_PPR", "dscr": "NT_PPC_DSCR", "tar": "NT_PPC_TAR",
		"mmcr0": "NT_PPC_PMU", "mmcr2": "NT_PPC_PMU", "siar": "NT_PPC_PMU", "sdar": "NT_PPC_PMU", "sier": "NT_PPC_PMU",
	}
	s390NotInPRReg = map[string]string{
		"fpc": "NT_FPREGSET", "last_break": "NT_S390_LAST_BREAK", "system_call": "NT_S390_SYSTEM_CALL",
		"cc": "derived by gdb from pswm's condition code bits",
	}
	mipsNotInPRReg = map[string]string{"fsr": "NT_FPREGSET", "fir": "NT_FPREGSET"}
)

// gdbFrameRegs names, in gdb's spelling, the registers PC, SP and FP must
// equal.
var gdbFrameRegs = map[model.Arch][3]string{
	model.AMD64: {"rip", "rsp", "rbp"}, model.X86: {"eip", "esp", "ebp"},
	model.ARM64: {"pc", "sp", "x29"}, model.ARM: {"pc", "sp", "r11"},
	model.PPC: {"pc", "r1", "r31"}, model.PPC64: {"pc", "r1", "r31"}, model.PPC64LE: {"pc", "r1", "r31"},
	model.S390X: {"pc", "r15", "r11"}, model.S390: {"pc", "r15", "r11"},
	model.RISCV64: {"pc", "sp", "fp"},
	model.MIPS:    {"pc", "sp", "s8"}, model.MIPS64: {"pc", "sp", "s8"},
	model.HPPA: {"pcoqh", "sp", "r3"},
}

// checkRegisters asserts every register gdb printed for the current thread
// against c: registers pr_reg holds must be equal (under gdb's name, or
// the name gdbName maps it to), the others must be listed in
// gdbNotInPRReg. They must come in gdb's order in Regs, and PC, SP and FP
// must be gdb's.
func checkRegisters(t *testing.T, c model.Context, o gdbOracle) {
	t.Helper()
	if c == nil {
		t.Fatal("no context")
	}
	arch := c.Arch()
	skip := gdbNotInPRReg[arch]
	var compared []string
	for _, name := range o.order {
		if _, ok := skip[name]; ok {
			continue
		}
		ours, ok := gdbName(arch, name, o)
		if !ok {
			continue
		}
		got, ok := c.Reg(ours)
		if want := o.regs[name]; !ok || got != want {
			t.Errorf("%s = %#x (%v), gdb says %#x", ours, got, ok, want)
		}
		compared = append(compared, ours)
	}
	if len(compared) < 16 {
		t.Errorf("only %d registers compared: %v", len(compared), compared)
	}
	// Order: the compared registers that Regs lists must be in gdb's order.
	pos := map[string]int{}
	for i, r := range c.Regs() {
		pos[r.Name] = i
	}
	last := -1
	for _, n := range compared {
		if p, ok := pos[n]; ok {
			if p < last {
				t.Errorf("Regs lists %s out of gdb's order", n)
			}
			last = p
		}
	}
	fr, ok := gdbFrameRegs[arch]
	if !ok {
		t.Fatalf("no PC/SP/FP names for %s", arch)
	}
	pc, sp, fp := gdbReg(fr[0], o), gdbReg(fr[1], o), gdbReg(fr[2], o)
	if arch == model.ARM && o.regs["cpsr"]&0x20 != 0 {
		fp = o.regs["r7"] // Thumb state
	}
	if arch == model.HPPA {
		pc &^= 3 // gdb's pc drops pcoqh's privilege level
	}
	if o.pc != nil && *o.pc != pc {
		t.Errorf("gdb's frame address %#x is not its %s %#x", *o.pc, fr[0], pc)
	}
	if c.PC() != pc || c.SP() != sp || c.FP() != fp {
		t.Errorf("PC/SP/FP = %#x/%#x/%#x, gdb %#x/%#x/%#x", c.PC(), c.SP(), c.FP(), pc, sp, fp)
	}
}

// reS390GPR matches gdb's s390 gpr names: rN, rNl, rNh.
var reS390GPR = regexp.MustCompile(`^(r\d+)([lh]?)$`)

// gdbName maps a register gdb printed to our name for it; ok is false for
// registers pr_reg does not hold. On 31-bit s390 cores with
// NT_S390_HIGH_GPRS gdb prints the pr_reg gprs as r0l..r15l, the high
// halves (from that note) as r0h..r15h and their 64-bit concatenations as
// r0..r15: only the low halves are in pr_reg.
func gdbName(arch model.Arch, name string, o gdbOracle) (string, bool) {
	if _, high := o.regs["r0l"]; arch == model.S390 && high {
		if m := reS390GPR.FindStringSubmatch(name); m != nil {
			return m[1], m[2] == "l"
		}
	}
	return name, true
}

// gdbReg returns the value gdb printed for one of our register names.
func gdbReg(ours string, o gdbOracle) uint64 {
	if v, ok := o.regs[ours]; ok {
		return v
	}
	return o.regs[ours+"l"] // s390 with high gprs
}

func threadIDs(ts []model.Thread) []uint64 {
	var ids []uint64
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

// TestGDBOracles checks every core with a local gdb oracle: the thread ids
// (gdb's LWP numbers, in order) and every register gdb prints for the
// current (crashing) thread, through Threads and ExceptionContext. Cores
// gdb prints no registers for have no truth to compare with; where the
// package decodes them anyway, plausibleContext checks what it can.
func TestGDBOracles(t *testing.T) {
	t.Parallel()
	dir := fixture.CorpusDir(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "local-oracles", "*.gdb-threads-regs.txt"))
	if len(oracles) == 0 {
		t.Skip("no gdb oracles in the corpus")
	}
	checked := map[model.Arch][]string{}
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
			for _, ext := range []string{"", ".bz2", ".zst"} {
				if _, err := os.Stat(filepath.Join(dir, c+ext)); err == nil && core == "" {
					core = filepath.Join(dir, c+ext)
				}
			}
		}
		text, err := os.ReadFile(op)
		if err != nil {
			t.Fatal(err)
		}
		name := sub + "/" + base
		t.Run(name, func(t *testing.T) {
			if core == "" {
				t.Fatalf("no core for %s (tried %v)", op, cands)
			}
			o := parseGDB(t, string(text))
			noRegs := len(o.regs) == 0 || bytes.Contains(text, []byte("Couldn't find general-purpose registers"))
			f := openCorpusCore(t, core)
			if noRegs {
				// gdb has no truth for this core.
				plausibleContext(t, f, core)
				return
			}
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
			checkRegisters(t, ts[0].Context, o)
			ec, err := f.ExceptionContext()
			if err != nil {
				t.Fatal(err)
			}
			checkRegisters(t, ec, o)
			if !t.Failed() {
				checked[ec.Arch()] = append(checked[ec.Arch()], name) // subtests are sequential
			}
		})
	}
	var total int
	for a, cores := range checked {
		total += len(cores)
		t.Logf("%s: %d cores agree with gdb", a, len(cores))
	}
	// Every architecture the corpus has gdb registers for.
	for _, a := range []model.Arch{model.AMD64, model.X86, model.ARM64, model.ARM, model.PPC,
		model.PPC64LE, model.S390X, model.S390, model.RISCV64, model.MIPS, model.MIPS64, model.HPPA} {
		if len(checked[a]) == 0 {
			t.Errorf("no %s core was checked against gdb", a)
		}
	}
}

// plausibleContext checks a context gdb gives no truth for: only that the
// decoded pc lies in an executable PT_LOAD and the stack pointer in a
// writable one (sparc64's %o6 plus its stack bias). Architectures the
// package does not decode must have no context.
func plausibleContext(t *testing.T, f *File, core string) {
	t.Helper()
	ts, err := f.Threads()
	if err != nil || len(ts) == 0 {
		t.Fatalf("threads %v, %v", ts, err)
	}
	c := ts[0].Context
	arch := f.Info().Arch
	if c == nil {
		if l, _, _ := f.regLayout(f.firstPRStatusLen()); l != nil {
			t.Fatalf("%s: layout known but no context", arch)
		}
		t.Logf("%s: not decoded", arch)
		return
	}
	in := func(addr uint64, flag uint32) bool {
		for _, p := range f.Progs {
			if p.Type == elfx.PT_LOAD && p.Flags&flag != 0 && addr >= p.Vaddr && addr-p.Vaddr < p.Memsz {
				return true
			}
		}
		return false
	}
	sp := c.SP()
	if c.Arch() == model.SPARC64 {
		sp += 2047
	}
	if !in(c.PC(), 1) || !in(sp, 2) {
		t.Errorf("%s: pc %#x not in code or sp %#x not in writable memory", c.Arch(), c.PC(), sp)
	}
	t.Logf("%s (no gdb truth): pc %#x sp %#x fp %#x", c.Arch(), c.PC(), c.SP(), c.FP())
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

// TestMIPSAgainstLLDB checks the three lldb MIPS cores against what lldb's
// TestLinuxCore asserts: the crash is in bar, called from foo. gdb 13
// cannot read the n32 core (it takes the ELFCLASS32 core for o32 and finds
// no registers of that size), so for n32 this is the only truth.
func TestMIPSAgainstLLDB(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		arch model.Arch
	}{
		{"linux-mipsel-gnuabio32", model.MIPS},
		{"linux-mips64el-gnuabin32", model.MIPS64},
		{"linux-mips64el-gnuabi64", model.MIPS64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			exe, err := elf.Open(fixture.Corpus(t, "lldb/elf-core/"+tc.name+".out"))
			if err != nil {
				t.Fatal(err)
			}
			defer exe.Close()
			syms, err := exe.Symbols()
			if err != nil {
				t.Fatal(err)
			}
			in := func(addr uint64, fn string) bool {
				for _, s := range syms {
					if s.Name == fn && addr >= s.Value && addr-s.Value < s.Size {
						return true
					}
				}
				return false
			}
			f := openCorpusCore(t, fixture.Corpus(t, "lldb/elf-core/"+tc.name+".core"))
			c, err := f.ExceptionContext()
			if err != nil {
				t.Fatal(err)
			}
			ra, _ := c.Reg("ra")
			if c.Arch() != tc.arch || !in(c.PC(), "bar") || !in(ra, "foo") {
				t.Errorf("%s: pc %#x, ra %#x: want bar called from foo", c.Arch(), c.PC(), ra)
			}
			if sp, _ := c.Reg("sp"); sp != c.SP() || sp == 0 {
				t.Errorf("sp %#x, SP() %#x", sp, c.SP())
			}
		})
	}
}
