package minidump

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/model"
)

func TestThreadsModulesScenario(t *testing.T) {
	t.Parallel()
	f := open(t, minidumptest.Scenarios()["amd64-threads-modules"]())
	ts, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || ts[0].ID != 0x1234 || ts[0].Name != "main thread" || ts[1].Name != "worker" || ts[0].TEB != 0x7ff0_0000_0000 {
		t.Fatalf("threads = %+v", ts)
	}
	if ts[0].StackStart != 0x14_0000 || ts[0].StackSize != 16 {
		t.Errorf("stack = %#x+%d", ts[0].StackStart, ts[0].StackSize)
	}
	ctx := ts[0].Context
	want := map[string]uint64{"rax": 0x45, "rbx": 1, "rcx": 2, "rdx": 3, "rsi": 4, "rdi": 5, "rbp": 0x14_0008, "rsp": 0x14_0000,
		"r8": 8, "r15": 15, "rip": 0x7ff6_0000_1010, "eflags": 0x10246, "cs": 0x33, "ss": 0x2b, "gs": 0x2b, "fs": 0x53}
	for r, v := range want {
		if got, ok := ctx.Reg(r); !ok || got != v {
			t.Errorf("%s = %#x, want %#x", r, got, v)
		}
	}
	if ctx.Arch() != model.AMD64 || ctx.PC() != 0x7ff6_0000_1010 || ctx.SP() != 0x14_0000 || ctx.FP() != 0x14_0008 {
		t.Errorf("context pc/sp/fp wrong: %+v", ctx)
	}
	ec, err := f.ExceptionContext()
	if err != nil || ec.PC() != ctx.PC() {
		t.Errorf("exception context %v, %v", ec, err)
	}
	m, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	ret, err := mem.ReadUint(m, 0x14_0008, 8, f.ByteOrder())
	if err != nil || ret != 0x7ff6_0000_1010 {
		t.Errorf("return address %#x, %v", ret, err)
	}
	var p [1]byte
	if _, err := m.ReadMemory(p[:], 0x13_ffff); !errors.Is(err, mem.ErrNotInDump) {
		t.Errorf("read outside captured memory: %v", err)
	}

	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 3 {
		t.Fatalf("modules = %+v", mods)
	}
	got := fmt.Sprintf("%s|%s|%s|%s|%s|%#x|%v", mods[0].Path, mods[0].Version, mods[0].CodeID, mods[0].DebugFile, mods[0].DebugID, mods[0].Checksum, mods[0].Unloaded)
	if got != `C:\app\app.exe|1.2.3.4|45D35F6C10000|C:\app\app.pdb|5A9832E5287241C1838ED98914E9B7FF1A|0x1234|false` {
		t.Errorf("module 0 = %s", got)
	}
	if mods[1].Version != "" || mods[1].DebugID != "" {
		t.Errorf("module 1 = %+v", mods[1])
	}
	if u := mods[2]; !u.Unloaded || u.Path != `C:\gone.dll` || u.Base != 0x7ffc_0000_0000 || u.Size != 0x3000 || u.CodeID != "500000003000" {
		t.Errorf("unloaded = %+v", u)
	}
	mi, err := f.MemoryInfoList()
	if err != nil || len(mi) != 1 || mi[0].BaseAddress != 0x14_0000 || mi[0].RegionSize != 0x1000 || mi[0].State != 0x1000 || mi[0].Type != 0x20000 {
		t.Errorf("memory info = %+v, %v", mi, err)
	}
	for st, dec := range Decoders {
		if f.find(st) < 0 {
			if _, err := dec(f); !errors.Is(err, ErrNoStream) {
				t.Errorf("%v absent: err = %v", st, err)
			}
			continue
		}
		if v, err := dec(f); err != nil || v == nil {
			t.Errorf("%v: %v, %v", st, v, err)
		}
	}
}

func TestOtherArchScenarios(t *testing.T) {
	t.Parallel()
	ts, err := open(t, minidumptest.Scenarios()["x86-threads"]()).Threads()
	if err != nil {
		t.Fatal(err)
	}
	x := ts[0].Context
	if x.Arch() != model.X86 || x.PC() != 0x40429e || x.SP() != 0x12_f000 || x.FP() != 0x12_f004 {
		t.Errorf("x86 context %+v", x)
	}
	if v, _ := x.Reg("efl"); v != 0x246 {
		t.Errorf("efl = %#x", v)
	}
	if v, _ := x.Reg("eax"); v != 0x45 {
		t.Errorf("eax = %#x", v)
	}

	ts, err = open(t, minidumptest.Scenarios()["arm64-threads"]()).Threads()
	if err != nil {
		t.Fatal(err)
	}
	a := ts[0].Context
	if a.Arch() != model.ARM64 || a.PC() != 0x1_4000_1000 || a.SP() != 0x7fff_0000 || a.FP() != 29*0x100 {
		t.Errorf("arm64 context %+v", a)
	}
	for name, want := range map[string]uint64{"x0": 0, "x5": 0x500, "x28": 28 * 0x100, "fp": 29 * 0x100, "lr": 30 * 0x100, "x30": 30 * 0x100, "cpsr": 0x60000000} {
		if v, ok := a.Reg(name); !ok || v != want {
			t.Errorf("%s = %#x, want %#x", name, v, want)
		}
	}

	ts, err = open(t, minidumptest.Scenarios()["amd64-cet"]()).Threads()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ts[0].Context.Reg("ssp"); !ok || v != 0xcbc8_3fef_c8 {
		t.Errorf("ssp = %#x, %v", v, ok)
	}
}

func TestLinuxBreakpadScenario(t *testing.T) {
	t.Parallel()
	f := open(t, minidumptest.Scenarios()["linux-breakpad-streams"]())
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	// The same build id as linux-mini.dmp's "crash": rust-minidump's
	// snapshot gives these identifiers.
	if m := mods[0]; m.CodeID != "f1c3bcc0279865fe3058404b2831d9e64135386c" || m.DebugID != "C0BCC3F19827FE653058404B2831D9E60" || m.DebugFile != "/bin/crash" {
		t.Errorf("module = %+v", m)
	}
	maps, err := f.LinuxMaps()
	if err != nil || len(maps) != 2 || maps[1].Path != "[stack]" || maps[0].End != 0x41a000 || maps[0].Perms != "r-xp" || maps[0].Inode != 123 {
		t.Errorf("maps = %+v, %v", maps, err)
	}
	env, err := f.LinuxEnviron()
	if err != nil || fmt.Sprint(env) != "[PATH=/bin HOME=/root]" {
		t.Errorf("environ = %q, %v", env, err)
	}
	auxv, err := f.LinuxAuxv()
	if err != nil || len(auxv) != 2 || auxv[0] != (AuxvEntry{6, 4096}) {
		t.Errorf("auxv = %v, %v", auxv, err)
	}
	if s, err := f.LinuxProcStatus(); err != nil || s != "Name:\tcrash\nPid:\t99\n" {
		t.Errorf("status = %q, %v", s, err)
	}
}

func TestCrashpadScenario(t *testing.T) {
	t.Parallel()
	ci, err := open(t, minidumptest.Scenarios()["crashpad-annotations"]()).CrashpadInfo()
	if err != nil {
		t.Fatal(err)
	}
	if ci.ReportID.Data1 != 0x030201 || fmt.Sprint(ci.SimpleAnnotations) != "[{hello world}]" || len(ci.Modules) != 1 {
		t.Fatalf("crashpad = %+v", ci)
	}
	m := ci.Modules[0]
	if fmt.Sprint(m.ListAnnotations) != "[abort() called]" || fmt.Sprint(m.SimpleAnnotations) != "[{k v}]" ||
		len(m.AnnotationObjects) != 1 || m.AnnotationObjects[0].Name != "exceptionReason" || string(m.AnnotationObjects[0].Value) != "boom" || m.AnnotationObjects[0].Type != 1 {
		t.Errorf("module = %+v", m)
	}
}

func TestStreamDamage(t *testing.T) {
	t.Parallel()
	t.Run("overlapping memory keeps the first", func(t *testing.T) {
		t.Parallel()
		f := open(t, minidumptest.New(minidumptest.LE).
			Memory(minidumptest.Memory{Start: 0x1000, Bytes: bytes.Repeat([]byte{1}, 16)}).
			Memory(minidumptest.Memory{Start: 0x1000, Bytes: bytes.Repeat([]byte{2}, 16)}).
			Memory(minidumptest.Memory{Start: 0x1008, Bytes: bytes.Repeat([]byte{3}, 16)}))
		m, err := f.Memory()
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 24)
		if err := mem.ReadFull(m, b, 0x1000); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, append(bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{3}, 8)...)) {
			t.Errorf("bytes = %x", b)
		}
		if len(f.Diagnostics()) != 2 {
			t.Errorf("diagnostics = %v", f.Diagnostics())
		}
	})
	t.Run("padded thread count", func(t *testing.T) {
		t.Parallel()
		// Count 1, 4 bytes of padding, one 48-byte MINIDUMP_THREAD.
		body := make([]byte, 56)
		body[0], body[8] = 1, 0x77
		f := open(t, minidumptest.New(minidumptest.LE).RawStream(3, body))
		ts, err := f.ThreadList()
		if err != nil || len(ts) != 1 || ts[0].ThreadID != 0x77 {
			t.Errorf("threads = %+v, %v", ts, err)
		}
	})
	t.Run("bad context is a diagnostic", func(t *testing.T) {
		t.Parallel()
		f := open(t, minidumptest.New(minidumptest.LE).SystemInfo(&minidumptest.SystemInfo{Arch: 0x8001, Platform: minidumptest.Linux}).
			AddThread(minidumptest.Thread{ID: 1, Context: []byte{1, 2, 3, 4}}))
		ts, err := f.Threads()
		if err != nil || len(ts) != 1 || ts[0].Context != nil || len(f.Diagnostics()) == 0 {
			t.Errorf("threads = %+v, %v, diags %v", ts, err, f.Diagnostics())
		}
	})
	t.Run("backwards maps range", func(t *testing.T) {
		t.Parallel()
		f := open(t, minidumptest.New(minidumptest.LE).LinuxMaps("2000-1000 r-xp 0 0:0 0\n"))
		var fe *FormatError
		if _, err := f.LinuxMaps(); !errors.As(err, &fe) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("truncated module list", func(t *testing.T) {
		t.Parallel()
		b := minidumptest.Scenarios()["amd64-threads-modules"]()
		full, _ := b.Bytes()
		f := open(t, minidumptest.Scenarios()["amd64-threads-modules"]().Truncate(len(full)/2))
		for _, dec := range Decoders {
			_, _ = dec(f)
		}
		_, _ = f.Threads()
		_, _ = f.Modules()
		_, _ = f.Memory()
		if len(f.Diagnostics()) == 0 {
			t.Error("no diagnostics")
		}
	})
}
