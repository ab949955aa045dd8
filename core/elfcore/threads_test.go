package elfcore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Slot names of pr_reg in the kernel's order, written out again from the
// kernel headers (not from the parser), "" for unused slots. Names are
// gdb's or another spelling Reg accepts.
var (
	specAMD64 = []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
		"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
		"fs_base", "gs_base", "ds", "es", "fs", "gs"}
	specX86 = []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
		"orig_eax", "eip", "cs", "eflags", "esp", "ss"}
	// arch/arm/include/uapi/asm/ptrace.h: ARM_r0 .. ARM_pc, ARM_cpsr, ARM_ORIG_r0.
	specARM = names("r", 0, 12, "sp", "lr", "pc", "cpsr", "orig_r0")
	// arch/s390/include/uapi/asm/ptrace.h: psw, gprs, acrs, orig_gpr2.
	specS390 = slices.Concat([]string{"pswm", "pswa"}, names("r", 0, 15), names("acr", 0, 15), []string{"orig_r2"})
	// arch/riscv/include/uapi/asm/ptrace.h: pc, then x1..x31 by ABI name.
	specRISCV = []string{"pc", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1",
		"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
		"s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"}
	// arch/mips/include/uapi/asm/reg.h: MIPS32_EF_R0 is 6, MIPS64_EF_R0 0;
	// then lo, hi, cp0_epc, cp0_badvaddr, cp0_status, cp0_cause.
	specMIPSSpecial = []string{"lo", "hi", "epc", "badvaddr", "status", "cause"}
	specMIPSO32     = slices.Concat(make([]string, 6), names("r", 0, 31), specMIPSSpecial, make([]string, 1))
	specMIPS64      = slices.Concat(names("r", 0, 31), specMIPSSpecial, make([]string, 7))
	// arch/parisc/include/asm/elf.h ELF_CORE_COPY_REGS (80 slots, 64 used).
	specHPPA = slices.Concat(names("r", 0, 31), names("sr", 0, 7),
		[]string{"pcoqh", "pcoqt", "pcsqh", "pcsqt", "sar", "iir", "isr", "ior", "ipsw", "cr0"},
		names("cr", 24, 31), []string{"cr8", "cr9", "cr12", "cr13", "cr10", "cr15"}, make([]string, 16))
	// arch/m68k/include/asm/elf.h ELF_CORE_COPY_REGS.
	specM68K = slices.Concat(names("d", 1, 7), names("a", 0, 6), []string{"d0", "usp", "orig_d0", "sr", "pc", "fmtvec"})
	// arch/alpha/kernel/process.c dump_elf_thread: r0..r28, gp, usp, pc, unique.
	specAlpha = slices.Concat(names("r", 0, 28), []string{"gp", "sp", "pc", "unique"})
	// arch/sparc/include/asm/elf_64.h: g, o, l, i, tstate, tpc, tnpc, y.
	specSPARC64 = slices.Concat(names("g", 0, 7), names("o", 0, 7), names("l", 0, 7), names("i", 0, 7),
		[]string{"tstate", "tpc", "tnpc", "y"})
	// arch/loongarch/include/uapi/asm/ptrace.h struct user_pt_regs.
	specLoongArch = slices.Concat(names("r", 0, 31), []string{"orig_a0", "pc", "badv"}, make([]string, 10))
	// FreeBSD sys/x86/include/reg.h and sys/arm64/include/reg.h struct reg.
	specFreeBSDAMD64 = []string{"r15", "r14", "r13", "r12", "r11", "r10", "r9", "r8", "rdi", "rsi",
		"rbp", "rbx", "rdx", "rcx", "rax", "trapno", "fs", "gs", "err", "es", "ds",
		"rip", "cs", "rflags", "rsp", "ss"}
	specFreeBSDX86 = []string{"fs", "es", "ds", "edi", "esi", "ebp", "isp", "ebx", "edx", "ecx",
		"eax", "trapno", "err", "eip", "cs", "eflags", "esp", "ss", "gs"}
	specFreeBSDARM64 = slices.Concat(names("x", 0, 29), []string{"lr", "sp", "elr", "spsr", ""})
)

func names(prefix string, from, to int, more ...string) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return append(s, more...)
}

func specARM64() []string { return names("x", 0, 30, "sp", "pc", "cpsr") }

func specPPC(slot40 string) []string {
	return slices.Concat(names("r", 0, 31), []string{"nip", "msr", "orig_gpr3", "ctr", "link", "xer", "ccr",
		slot40, "trap", "dar", "dsisr", "result"}, make([]string, 4))
}

func TestRegisterLayouts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		b          *elfcoretest.Builder
		arch       model.Arch
		slots      []string
		pc, sp, fp string
	}{
		{"amd64", elfcoretest.New(), model.AMD64, specAMD64, "rip", "rsp", "rbp"},
		{"x32", elfcoretest.New().Class32(), model.AMD64, specAMD64, "rip", "rsp", "rbp"},
		{"i386", elfcoretest.New().Class32().Machine(3), model.X86, specX86, "eip", "esp", "ebp"},
		{"arm64", elfcoretest.New().Machine(183), model.ARM64, specARM64(), "pc", "sp", "x29"},
		{"arm", elfcoretest.New().Class32().Machine(40), model.ARM, specARM, "pc", "sp", "r11"},
		{"ppc", elfcoretest.New().Class32().BigEndian().Machine(20), model.PPC, specPPC("mq"), "nip", "r1", "r31"},
		{"ppc64", elfcoretest.New().BigEndian().Machine(21), model.PPC64, specPPC("softe"), "nip", "r1", "r31"},
		{"ppc64le", elfcoretest.New().Machine(21), model.PPC64LE, specPPC("softe"), "nip", "r1", "r31"},
		{"s390x", elfcoretest.New().BigEndian().Machine(22), model.S390X, specS390, "pswa", "r15", "r11"},
		{"s390", elfcoretest.New().Class32().BigEndian().Machine(22), model.S390, specS390, "pswa", "r15", "r11"},
		{"riscv64", elfcoretest.New().Machine(243), model.RISCV64, specRISCV, "pc", "sp", "s0"},
		{"riscv32", elfcoretest.New().Class32().Machine(243), model.RISCV32, specRISCV, "pc", "sp", "s0"},
		{"mips-o32", elfcoretest.New().Class32().Machine(8), model.MIPS, specMIPSO32, "epc", "r29", "r30"},
		{"mips-n32", elfcoretest.New().MIPSN32(), model.MIPS64, specMIPS64, "epc", "r29", "r30"},
		{"mips64-be", elfcoretest.New().BigEndian().Machine(8), model.MIPS64, specMIPS64, "epc", "r29", "r30"},
		{"hppa", elfcoretest.New().Class32().BigEndian().Machine(15), model.HPPA, specHPPA, "pcoqh", "r30", "r3"},
		{"m68k", elfcoretest.New().Class32().BigEndian().Machine(4), model.M68K, specM68K, "pc", "usp", "a6"},
		{"alpha", elfcoretest.New().Machine(0x9026), model.Alpha, specAlpha, "pc", "sp", "r15"},
		{"sparc64", elfcoretest.New().BigEndian().Machine(43), model.SPARC64, specSPARC64, "tpc", "o6", "i6"},
		{"loongarch", elfcoretest.New().Machine(258), model.LoongArch, specLoongArch, "pc", "r3", "r22"},
		{"freebsd-amd64", elfcoretest.New().FreeBSD(), model.AMD64, specFreeBSDAMD64, "rip", "rsp", "rbp"},
		{"freebsd-i386", elfcoretest.New().FreeBSD().Class32().Machine(3), model.X86, specFreeBSDX86, "eip", "esp", "ebp"},
		{"freebsd-arm64", elfcoretest.New().FreeBSD().Machine(183), model.ARM64, specFreeBSDARM64, "elr", "sp", "x29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if n := len(tc.b.GRegs()); n != len(tc.slots) {
				t.Fatalf("builder writes %d fields, spec has %d", n, len(tc.slots))
			}
			regs := make([]uint64, len(tc.slots))
			named := 0
			for i := range regs {
				regs[i] = 0x10 + 4*uint64(i) // distinct, 4-aligned, small enough for 16-bit fields
				if tc.slots[i] != "" {
					named++
				}
			}
			f := open(t, tc.b.Threads(elfcoretest.Thread{TID: 7, Signal: 11, Regs: regs}, elfcoretest.Thread{TID: 8}))
			ts, err := f.Threads()
			if err != nil || len(ts) != 2 || ts[0].ID != 7 || ts[1].ID != 8 {
				t.Fatalf("threads %+v, %v", ts, err)
			}
			c := ts[0].Context
			if c == nil || c.Arch() != tc.arch {
				t.Fatalf("context %v", c)
			}
			for i, name := range tc.slots {
				if name == "" {
					continue
				}
				if v, ok := c.Reg(name); !ok || v != regs[i] {
					t.Errorf("%s = %#x %v, want %#x", name, v, ok, regs[i])
				}
			}
			if len(c.Regs()) != named {
				t.Errorf("Regs() lists %d registers, want %d", len(c.Regs()), named)
			}
			idx := func(n string) uint64 {
				i := slices.Index(tc.slots, n)
				if i < 0 {
					t.Fatalf("no slot %s", n)
				}
				return regs[i]
			}
			if c.PC() != idx(tc.pc) || c.SP() != idx(tc.sp) || c.FP() != idx(tc.fp) {
				t.Errorf("PC/SP/FP = %#x/%#x/%#x, want %s/%s/%s", c.PC(), c.SP(), c.FP(), tc.pc, tc.sp, tc.fp)
			}
			if v, ok := ts[1].Context.Reg(tc.pc); !ok || v != 0 {
				t.Errorf("second thread %s = %#x", tc.pc, v)
			}
			ec, err := f.ExceptionContext()
			if err != nil || ec.PC() != c.PC() {
				t.Fatalf("exception context %v, %v", ec, err)
			}
		})
	}
}

// TestLayoutTables checks the layout tables against themselves: every
// field is shown once, the PC, SP and FP are fields, and aliases lead to
// registers without hiding one.
func TestLayoutTables(t *testing.T) {
	t.Parallel()
	for name, l := range map[string]*gregLayout{
		"amd64": layoutAMD64, "x86": layoutX86, "arm64": layoutARM64, "arm": layoutARM,
		"ppc": layoutPPC, "ppc64": layoutPPC64, "s390x": layoutS390X, "s390": layoutS390,
		"riscv64": layoutRISCV64, "riscv32": layoutRISCV32, "mips32": layoutMIPS32,
		"mipsn32": layoutMIPSN32, "mips64": layoutMIPS64, "hppa": layoutHPPA, "m68k": layoutM68K,
		"alpha": layoutAlpha, "sparc64": layoutSPARC64, "loongarch": layoutLoongArch,
		"freebsd-amd64": layoutFreeBSDAMD64, "freebsd-x86": layoutFreeBSDX86, "freebsd-arm64": layoutFreeBSDARM64,
	} {
		fields := map[string]bool{}
		for _, s := range l.slots {
			if s != "" && fields[s] {
				t.Errorf("%s: field %s twice", name, s)
			}
			fields[s] = s != ""
		}
		if l.display != nil {
			shown := map[string]bool{}
			for _, s := range l.display {
				if !fields[s] || shown[s] {
					t.Errorf("%s: display lists %s, not a field or twice", name, s)
				}
				shown[s] = true
			}
			for s, ok := range fields {
				if ok && !shown[s] {
					t.Errorf("%s: field %s not displayed", name, s)
				}
			}
		}
		for _, r := range []string{l.pc, l.sp, l.fp, l.thumbFP} {
			if r != "" && !fields[r] {
				t.Errorf("%s: pc/sp/fp %s is not a field", name, r)
			}
		}
		for a, r := range l.aliases {
			if !fields[r] || fields[a] {
				t.Errorf("%s: alias %s → %s", name, a, r)
			}
		}
		// A pr_reg cut anywhere short decodes to nothing, without panicking.
		full := make([]byte, l.size())
		for n := range full {
			if decodeContext(l, model.AMD64, 0, full[:n], binary.LittleEndian) != nil {
				t.Errorf("%s: context from %d of %d bytes", name, n, len(full))
			}
		}
		if decodeContext(l, model.AMD64, 0, full, binary.BigEndian) == nil {
			t.Errorf("%s: no context from %d bytes", name, len(full))
		}
	}
}

func TestRegisterAliases(t *testing.T) {
	t.Parallel()
	ctx := func(b *elfcoretest.Builder, set map[int]uint64) model.Context {
		t.Helper()
		regs := make([]uint64, len(b.GRegs()))
		for i, v := range set {
			regs[i] = v
		}
		c, err := open(t, b.Threads(elfcoretest.Thread{TID: 1, Regs: regs})).ExceptionContext()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		c    model.Context
		want map[string]uint64
	}{
		{"arm64", ctx(elfcoretest.New().Machine(183), map[int]uint64{29: 0x2900, 30: 0x3000, 33: 0x60001000}),
			map[string]uint64{"fp": 0x2900, "lr": 0x3000, "pstate": 0x60001000, "cpsr": 0x60001000}},
		{"amd64", ctx(elfcoretest.New(), map[int]uint64{4: 0xb9, 16: 0x401000, 18: 0x10246, 19: 0x7ff0}),
			map[string]uint64{"rflags": 0x10246, "pc": 0x401000, "sp": 0x7ff0, "fp": 0xb9}},
		{"arm", ctx(elfcoretest.New().Class32().Machine(40), map[int]uint64{7: 0x77, 11: 0x1111, 13: 0xd0, 14: 0xe0, 15: 0xf0, 16: 0x10}),
			map[string]uint64{"r13": 0xd0, "r14": 0xe0, "r15": 0xf0, "fp": 0x1111, "r11": 0x1111}},
		{"arm-thumb", ctx(elfcoretest.New().Class32().Machine(40), map[int]uint64{7: 0x77, 11: 0x1111, 16: 0x30}),
			map[string]uint64{"fp": 0x77, "r7": 0x77}},
		{"ppc64", ctx(elfcoretest.New().BigEndian().Machine(21), map[int]uint64{1: 0x1000, 31: 0x3100, 32: 0x32, 36: 0x36, 38: 0x38}),
			map[string]uint64{"sp": 0x1000, "fp": 0x3100, "nip": 0x32, "pc": 0x32, "link": 0x36, "lr": 0x36, "ccr": 0x38, "cr": 0x38}},
		{"s390", ctx(elfcoretest.New().Class32().BigEndian().Machine(22), map[int]uint64{1: 0x80400130, 17: 0x7f00}),
			map[string]uint64{"pc": 0x400130, "pswa": 0x80400130, "sp": 0x7f00}},
		{"riscv64", ctx(elfcoretest.New().Machine(243), map[int]uint64{0: 0x100, 2: 0x200, 8: 0x800}),
			map[string]uint64{"s0": 0x800, "x8": 0x800, "fp": 0x800, "x2": 0x200, "pc": 0x100}},
		{"mips64", ctx(elfcoretest.New().Machine(8), map[int]uint64{29: 0x29, 30: 0x30, 31: 0x31, 34: 0x34}),
			map[string]uint64{"r29": 0x29, "sp": 0x29, "fp": 0x30, "s8": 0x30, "r31": 0x31, "ra": 0x31, "epc": 0x34, "pc": 0x34}},
		{"hppa", ctx(elfcoretest.New().Class32().BigEndian().Machine(15), map[int]uint64{2: 0x22, 3: 0x33, 30: 0x3000, 40: 0x107eb}),
			map[string]uint64{"r2": 0x22, "rp": 0x22, "fp": 0x33, "r30": 0x3000, "pc": 0x107e8, "pcoqh": 0x107eb}},
		{"freebsd-arm64", ctx(elfcoretest.New().FreeBSD().Machine(183), map[int]uint64{30: 0x30, 32: 0x32, 33: 0x33}),
			map[string]uint64{"lr": 0x30, "x30": 0x30, "elr": 0x32, "pc": 0x32, "spsr": 0x33, "cpsr": 0x33}},
	} {
		for name, want := range tc.want {
			if v, ok := tc.c.Reg(name); !ok || v != want {
				t.Errorf("%s: %s = %#x %v, want %#x", tc.name, name, v, ok, want)
			}
		}
	}
}

func TestUndecodedArchitectures(t *testing.T) {
	t.Parallel()
	for name, b := range map[string]*elfcoretest.Builder{
		"sparc32":       elfcoretest.New().Class32().BigEndian().Machine(2),
		"sh":            elfcoretest.New().Class32().Machine(42),
		"freebsd-ppc64": elfcoretest.New().FreeBSD().BigEndian().Machine(21),
	} {
		f := open(t, b)
		ts, err := f.Threads()
		if err != nil || len(ts) != 1 || ts[0].Context != nil {
			t.Errorf("%s: threads %+v, %v", name, ts, err)
		}
		if _, err := f.ExceptionContext(); !errors.Is(err, ErrUnsupportedContext) {
			t.Errorf("%s: ExceptionContext err = %v", name, err)
		}
	}
	f := open(t, elfcoretest.New().Threads())
	if _, err := f.ExceptionContext(); !errors.Is(err, model.ErrNotRecorded) {
		t.Errorf("no threads: err = %v", err)
	}
	if ts, err := f.Threads(); err != nil || len(ts) != 0 {
		t.Errorf("no threads: %v %v", ts, err)
	}
}

func TestMemory(t *testing.T) {
	t.Parallel()
	data := make([]byte, 0x800)
	for i := range data {
		data[i] = byte(i * 7)
	}
	f := open(t, elfcoretest.New().
		Load(elfcoretest.Segment{Vaddr: 0x10000, Memsz: 0x1000, Flags: 5, Data: data}). // tail 0x800 absent
		Load(elfcoretest.Segment{Vaddr: 0x20000, Memsz: 0x1000, Flags: 6}).             // not dumped
		Load(elfcoretest.Segment{Vaddr: 0x30000, Memsz: 0x10, Flags: 6, Data: []byte("0123456789abcdef")}))
	sp, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if err := mem.ReadFull(sp, got, 0x10000); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("segment data: %v", err)
	}
	b := make([]byte, 16)
	if err := mem.ReadFull(sp, b, 0x30000); err != nil || string(b) != "0123456789abcdef" {
		t.Fatalf("third segment %q, %v", b, err)
	}
	for _, addr := range []uint64{0x10800, 0x10fff, 0x20000, 0x20800, 0x30010, 0x5000} {
		_, err := sp.ReadMemory(b[:1], addr)
		var fe *mem.FaultError
		if !errors.As(err, &fe) || fe.Kind != mem.NotInDump {
			t.Errorf("read at %#x: err = %v, want NotInDump", addr, err)
		}
	}
	// A read running off the end of the dumped part returns what is there.
	if n, err := sp.ReadMemory(make([]byte, 0x20), 0x107f0); n != 0x10 || err == nil {
		t.Errorf("straddling read: n = %#x, err = %v", n, err)
	}
	sp2, _ := f.Memory()
	if sp2 != sp {
		t.Error("Memory is not memoised")
	}
}

func TestOverlappingLoadsAreDiagnosed(t *testing.T) {
	t.Parallel()
	f := open(t, elfcoretest.New().
		Load(elfcoretest.Segment{Vaddr: 0x1000, Memsz: 0x100, Data: bytes.Repeat([]byte{1}, 0x100)}).
		Load(elfcoretest.Segment{Vaddr: 0x1080, Memsz: 0x100, Data: bytes.Repeat([]byte{2}, 0x100)}))
	sp, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if err := mem.ReadFull(sp, b[:], 0x10ff); err != nil || b[0] != 1 {
		t.Errorf("read %v %v", b, err)
	}
	if len(f.Diagnostics()) == 0 {
		t.Error("no diagnostic for overlapping PT_LOADs")
	}
}

func TestModules(t *testing.T) {
	t.Parallel()
	f := open(t, elfcoretest.Scenarios()["modules"]())
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Module{
		{Base: 0x555555554000, Size: 0x4000, Path: "/usr/bin/app", CodeID: "deadbeef0102030405060708090a0b0c0d0e0f10"},
		{Base: 0x7f0000000000, Size: 0x3000, Path: "/lib/libz.so.1", CodeID: "abcdef0123456789"},
		{Base: 0x7f1000001000, Size: 0x2000, Path: "/lib/libnozero.so"}, // no offset-0 mapping: lowest start
		{Base: 0x7f2000001000, Size: 0x1000, Path: "/lib/weird.so"},     // offset-0 mapping above another
	}
	if len(mods) != len(want) {
		t.Fatalf("modules %+v", mods)
	}
	for i, w := range want {
		m := mods[i]
		if m.Base != w.Base || m.Size != w.Size || m.Path != w.Path || m.CodeID != w.CodeID {
			t.Errorf("module %d = %#x+%#x %s %q, want %#x+%#x %s %q", i, m.Base, m.Size, m.Path, m.CodeID, w.Base, w.Size, w.Path, w.CodeID)
		}
		if fmt.Sprintf("%x", m.BuildID) != w.CodeID {
			t.Errorf("module %d build id %x", i, m.BuildID)
		}
	}
	if i := f.Info(); i.Modules != 4 {
		t.Errorf("Info.Modules = %d", i.Modules)
	}
	files, ok := f.MappedFiles()
	if !ok || len(files) != 10 || files[1].Offset != 0x1000 || files[2].Offset != 0x3000 || files[9].Name != "[vdso]" {
		t.Errorf("mapped files %+v", files)
	}
	if c, err := f.ExceptionContext(); err != nil || c.PC() != 0x1000+16 || c.SP() != 0x1000+19 {
		t.Errorf("exception context %v %v", c, err)
	}
}

func TestModulesWithoutNTFile(t *testing.T) {
	t.Parallel()
	f := open(t, elfcoretest.New())
	if _, err := f.Modules(); !errors.Is(err, model.ErrNotRecorded) {
		t.Errorf("err = %v", err)
	}
	if f.Info().Modules != -1 {
		t.Errorf("Info.Modules = %d", f.Info().Modules)
	}
}

func TestModules32(t *testing.T) {
	t.Parallel()
	f := open(t, elfcoretest.New().Class32().Machine(3).
		MapFile(elfcoretest.File{Start: 0x8048000, End: 0x8049000, Offset: 0, Name: "/bin/a.out"}).
		MapFile(elfcoretest.File{Start: 0x8049000, End: 0x804b000, Offset: 1, Name: "/bin/a.out"}))
	mods, err := f.Modules()
	if err != nil || len(mods) != 1 || mods[0].Base != 0x8048000 || mods[0].Size != 0x3000 {
		t.Fatalf("modules %+v, %v", mods, err)
	}
}
