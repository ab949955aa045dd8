package elfcore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// Slot names of elf_gregset_t in the kernel's order, written out again
// from struct user_regs_struct / user_pt_regs (not from the parser).
var (
	specAMD64 = []string{"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
		"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
		"fs_base", "gs_base", "ds", "es", "fs", "gs"}
	specX86 = []string{"ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
		"orig_eax", "eip", "cs", "eflags", "esp", "ss"}
)

func specARM64() []string {
	var s []string
	for i := range 31 {
		s = append(s, fmt.Sprintf("x%d", i))
	}
	return append(s, "sp", "pc", "cpsr")
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
		{"i386", elfcoretest.New().Class32().Machine(3), model.X86, specX86, "eip", "esp", "ebp"},
		{"arm64", elfcoretest.New().Machine(183), model.ARM64, specARM64(), "pc", "sp", "x29"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			regs := make([]uint64, len(tc.slots))
			for i := range regs {
				regs[i] = 0x10 + uint64(i) // distinct and small enough for 32-bit slots
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
				if v, ok := c.Reg(name); !ok || v != regs[i] {
					t.Errorf("%s = %#x %v, want %#x", name, v, ok, regs[i])
				}
			}
			if len(c.Regs()) != len(tc.slots) {
				t.Errorf("Regs() lists %d registers, want %d", len(c.Regs()), len(tc.slots))
			}
			idx := func(n string) uint64 {
				for i, s := range tc.slots {
					if s == n {
						return regs[i]
					}
				}
				t.Fatalf("no slot %s", n)
				return 0
			}
			if c.PC() != idx(tc.pc) || c.SP() != idx(tc.sp) || c.FP() != idx(tc.fp) {
				t.Errorf("PC/SP/FP = %#x/%#x/%#x", c.PC(), c.SP(), c.FP())
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

func TestRegisterAliases(t *testing.T) {
	t.Parallel()
	regs := make([]uint64, 34)
	regs[29], regs[30], regs[33] = 0x2900, 0x3000, 0x60001000
	c, err := open(t, elfcoretest.New().Machine(183).Threads(elfcoretest.Thread{TID: 1, Regs: regs})).ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]uint64{"fp": 0x2900, "lr": 0x3000, "pstate": 0x60001000, "cpsr": 0x60001000} {
		if v, ok := c.Reg(name); !ok || v != want {
			t.Errorf("%s = %#x %v", name, v, ok)
		}
	}
	amd := make([]uint64, 27)
	amd[18] = 0x10246
	c, _ = open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 1, Regs: amd})).ExceptionContext()
	if v, _ := c.Reg("rflags"); v != 0x10246 {
		t.Errorf("rflags = %#x", v)
	}
}

func TestUndecodedArchitectures(t *testing.T) {
	t.Parallel()
	for name, b := range map[string]*elfcoretest.Builder{
		"s390x":   elfcoretest.New().BigEndian().Machine(22),
		"freebsd": elfcoretest.New().FreeBSD(),
		"x32":     elfcoretest.New().Class32(),
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
