package consoletest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/ctype"
)

func u64(v uint64) *uint64 { return &v }

// AMD64AV is a Windows x64 process dump that crashed reading through a null
// pointer in app!main: two threads, app.exe with symbols and ntdll.dll
// without, code, a string table and a stack in memory.
func AMD64AV() *Env {
	const app, ntdll = 0x7ff600000000, 0x7ffb00000000
	code := []byte{
		0x48, 0x89, 0x5c, 0x24, 0x08, // 1000 mov qword ptr [rsp+8],rbx
		0x48, 0x83, 0xec, 0x28, // 1005 sub rsp,28h
		0x48, 0x8d, 0x0d, 0xf0, 0x1f, 0x00, 0x00, // 1009 lea rcx,[app!g_table]
		0x48, 0x8b, 0x00, // 1010 mov rax,qword ptr [rax]  <- crash
		0xe8, 0xe8, 0x00, 0x00, 0x00, // 1013 call app!helper
		0x48, 0x83, 0xc4, 0x28, // 1018 add rsp,28h
		0xc3, // 101c ret
	}
	for len(code) < 0x100 {
		code = append(code, 0xcc)
	}
	code = append(code, 0x55, 0x48, 0x89, 0xe5, 0x5d, 0xc3) // 1100 helper
	data := []byte("Hello, crash!\x00")
	for _, u := range utf16.Encode([]rune("Wide text")) {
		data = binary.LittleEndian.AppendUint16(data, u)
	}
	data = append(data, 0, 0, 0xef, 0xbe, 0xad, 0xde, 0x78, 0x56, 0x34, 0x12)
	stack := make([]byte, 0x40)
	binary.LittleEndian.PutUint64(stack[0x00:], app+0x1018)
	binary.LittleEndian.PutUint64(stack[0x08:], app+0x3000)
	binary.LittleEndian.PutUint64(stack[0x10:], 0x1122334455667788)
	binary.LittleEndian.PutUint64(stack[0x18:], ntdll+0x1234)
	pad := make([]byte, 0x20) // int3 padding before main, as linkers leave it
	for i := range pad {
		pad[i] = 0xcc
	}
	m := memtest.Map{
		app + 0xfe0:  append(pad, code...),
		app + 0x3000: data,
		0x14fe00:     stack,
		ntdll + 0x1200: {0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
			0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
			0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
			0x90, 0x90, 0x90, 0x90, 0x0f, 0x05, 0xc3},
	}
	main := AMD64(map[string]uint64{"rip": app + 0x1010, "rsp": 0x14fe00, "rbp": 0x14fe40, "rcx": app + 0x3000, "rbx": 0x5, "efl": 0x10246})
	exc := AMD64(map[string]uint64{"rip": app + 0x1010, "rsp": 0x14fe00, "rbp": 0x14fe40, "rcx": app + 0x3000, "rbx": 0x5, "rax": 0, "r8": 0x8888, "efl": 0x10246})
	worker := AMD64(map[string]uint64{"rip": ntdll + 0x1234, "rsp": 0x24fe00, "efl": 0x246})
	mods := []model.Module{
		{Base: app, Size: 0x10000, Path: `C:\app\app.exe`, Version: "1.2.3.4", Time: time.Unix(0x65e1c0de, 0), Checksum: 0x1a2b3,
			CodeID: "65E1C0DE10000", DebugFile: "app.pdb", DebugID: "0123456789ABCDEF0123456789ABCDEF1"},
		{Base: ntdll, Size: 0x200000, Path: `C:\Windows\System32\ntdll.dll`, Version: "10.0.19041.3636"},
	}
	t := &Target{
		InfoV: model.Info{
			Format: model.Minidump, Variant: "full-memory",
			OS:   model.OS{Family: model.Windows, Version: "10.0.19045", Build: "19041.1.amd64fre.vb_release.191206-1406"},
			Arch: model.AMD64, CPUs: 8,
			Time:    time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
			Uptime:  26*time.Hour + 2*time.Minute + 3*time.Second,
			Process: &model.Process{PID: 0x1a2c, Name: "app.exe", CommandLine: `C:\app\app.exe --parse input.txt`},
			Crash: &model.Crash{Kind: model.Exception, Code: 0xc0000005, Name: "EXCEPTION_ACCESS_VIOLATION_READ",
				Address: u64(0), PC: u64(app + 0x1010), Parameters: []uint64{0, 0}, ThreadID: u64(0x1b30)},
			Threads: 2, Modules: 2,
			Details: []model.Detail{{Key: "Dump flags", Value: "MiniDumpWithFullMemory"}, {Key: "Streams", Value: "12"}},
		},
		ThreadList: []model.Thread{
			{ID: 0x1c44, Name: "worker", Context: worker, TEB: 0xc5d7a51000, StackStart: 0x24f000, StackSize: 0x1000, Suspend: 1},
			{ID: 0x1b30, Name: "main", Context: main, TEB: 0xc5d7a4f000, StackStart: 0x14f000, StackSize: 0x1000, Suspend: 1},
		},
		ModuleList: mods,
		Mem:        m,
		Exception:  exc,
		Diags:      []model.Diagnostic{{Severity: model.Warning, Off: 0x1f0, Msg: "memory range 3 overlaps range 2"}},
	}
	res := &Resolver{Modules: mods, Syms: []symbols.Symbol{
		{Name: "main", Module: "app.exe", Addr: app + 0x1000, Size: 0x100, File: `c:\src\app\main.c`, Line: 42},
		{Name: "helper", Module: "app.exe", Addr: app + 0x1100, Size: 0x80},
		{Name: "g_table", Module: "app.exe", Addr: app + 0x3000, Size: 0x40},
		{Name: "g_wide", Module: "app.exe", Addr: app + 0x300e, Size: 0x14},
	}, TypeMaps: map[string]TypeMap{"app": appTypes()}}
	// The stack of the crashing thread (index 1) as a walker finds it: main, its caller
	// in ntdll by scanning.
	frames := []console.StackFrame{
		{Index: 0, SP: 0x000000a1b2c3d000, PC: app + 0x1010, Name: "app!main+0x10", Function: "main", File: `c:\src\app\main.c`, Line: 42, Trust: "context"},
		{Index: 1, SP: 0x000000a1b2c3d020, PC: ntdll + 0x1234, Name: "ntdll+0x1234", Trust: "scan"},
	}
	return &Env{T: t, Syms: res, Frames: map[int][]console.StackFrame{1: frames}}
}

// ARM64Segv is a Linux arm64 process core killed by SIGSEGV in main.
func ARM64Segv() *Env {
	const exe = 0x400000
	code := []byte{
		0x1f, 0x20, 0x03, 0xd5, // 400100 nop
		0x40, 0x00, 0x00, 0x94, // 400104 bl work
		0xc0, 0x03, 0x5f, 0xd6, // 400108 ret
	}
	m := memtest.Map{exe + 0x100: code, exe + 0x204: {0x00, 0x00, 0x40, 0xf9, 0xc0, 0x03, 0x5f, 0xd6}}
	ctx := &Context{ArchV: model.ARM64, PCName: "pc", SPName: "sp", FPName: "x29"}
	for _, r := range []model.Reg{{Name: "x0", Value: 0x10}, {Name: "x1", Value: 1}, {Name: "x29", Value: 0x7ffff000}, {Name: "x30", Value: exe + 0x108},
		{Name: "sp", Value: 0x7fffefe0}, {Name: "pc", Value: exe + 0x204}, {Name: "cpsr", Value: 0x60000000, Size: 4}} {
		if r.Size == 0 {
			r.Size = 8
		}
		ctx.RegList = append(ctx.RegList, r)
	}
	mods := []model.Module{{Base: exe, Size: 0x1000, Path: "/usr/bin/crasher", BuildID: []byte{0xde, 0xad, 0xbe, 0xef}}}
	t := &Target{
		InfoV: model.Info{Format: model.ELFCore, OS: model.OS{Family: model.Linux, Release: "6.1.0-26-arm64"}, Arch: model.ARM64,
			Process: &model.Process{PID: 4242, Name: "crasher"},
			Crash:   &model.Crash{Kind: model.Signal, Code: 11, Name: "SIGSEGV", Address: u64(0x10), ThreadID: u64(4242)},
			Threads: 1, Modules: 1},
		ThreadList: []model.Thread{{ID: 4242, Name: "crasher", Context: ctx}},
		ModuleList: mods,
		Mem:        m,
	}
	res := &Resolver{Modules: mods, Syms: []symbols.Symbol{
		{Name: "main", Module: "crasher", Addr: exe + 0x100, Size: 0x40},
		{Name: "work", Module: "crasher", Addr: exe + 0x204, Size: 0x10},
	}}
	return &Env{T: t, Syms: res}
}

// LinuxCore is a Linux x86-64 process core of crashc killed by SIGSEGV in
// level3, as the kernel writes it: two threads, the executable and libc
// mapped from files whose text the core does not hold (mem.Absent regions
// with the PT_LOAD protections and NT_FILE labels), stacks labelled, and
// module images underneath (Images) filling in the executable's code.
func LinuxCore() *Env {
	const exe, libc, libm = 0x555555554000, 0x7ffff7d80000, 0x7ffff7e00000
	const exePath, libcPath = "/usr/bin/crashc", "/usr/lib/x86_64-linux-gnu/libc.so.6"
	level3 := []byte{
		0x55,             // push rbp
		0x48, 0x89, 0xe5, // mov rbp,rsp
		0x48, 0x89, 0x7d, 0xf8, // mov [rbp-8],rdi
		0x48, 0x8b, 0x45, 0xf8, // mov rax,[rbp-8]
		0xc7, 0x00, 0x2a, 0x00, 0x00, 0x00, // mov dword ptr [rax],2Ah  <- crash
		0x90, 0x5d, 0xc3, // nop; pop rbp; ret
	}
	code := append(make([]byte, 0x139), level3...)
	for len(code) < 0x200 {
		code = append(code, 0xcc)
	}
	images := memtest.Map{exe + 0x1000: code, libc + 0x41000: make([]byte, 0x100)}
	stack := make([]byte, 0x40)
	binary.LittleEndian.PutUint64(stack[0x18:], exe+0x1155)
	space := Space{
		Map: memtest.Map{0x7fffffffe0f0: stack, exe + 0x2000: []byte("DUMPTEST-C-MARKER\x00")},
		RegionList: []mem.Region{
			{Start: exe, Size: 0x1000, Prot: mem.R, Label: model.FileLabel(exePath, 0)},
			{Start: exe + 0x1000, Size: 0x1000, Prot: mem.R | mem.X, State: mem.Absent, Label: model.FileLabel(exePath, 0x1000)},
			{Start: exe + 0x2000, Size: 0x1000, Prot: mem.R | mem.W, Label: model.FileLabel(exePath, 0x2000)},
			{Start: 0x555555559000, Size: 0x21000, Prot: mem.R | mem.W},
			{Start: 0x7ffff7400000, Size: 0x1000, State: mem.Absent},
			{Start: 0x7ffff7401000, Size: 0x800000, Prot: mem.R | mem.W, Label: "[stack:4243]"},
			{Start: libc, Size: 0x1000, Prot: mem.R, Label: model.FileLabel(libcPath, 0)},
			{Start: libc + 0x1000, Size: 0x3f000, Prot: mem.R | mem.X, State: mem.Absent, Label: model.FileLabel(libcPath, 0x1000)},
			{Start: 0x7fffffffd000, Size: 0x2000, Prot: mem.R | mem.W, Label: "[stack]"},
			{Start: 0xffffffffff600000, Size: 0x1000, Prot: mem.X, Label: "[vsyscall]"},
		},
	}
	// The session's memory: image pieces underneath, the dump's captured
	// regions on top.
	wide := mem.NewSpliced("process+images")
	wide.Add(images, exe+0x1000, 0x200, "crashc (image file)")
	wide.Add(images, libc+0x41000, 0x100, "libc.so.6 (image file)")
	for _, r := range space.RegionList {
		if r.State != mem.Absent {
			wide.Add(space, r.Start, r.Size, r.Label)
		}
	}
	main := AMD64(map[string]uint64{"rip": exe + 0x1145, "rsp": 0x7fffffffe0f0, "rbp": 0x7fffffffe0f0, "rax": 0x10, "rdi": 0x10,
		"rbx": 0x7fffffffe218, "r11": 0x293, "r12": 0xffffffffffffffda, "efl": 0x10212})
	worker := AMD64(map[string]uint64{"rip": libc + 0x1df2, "rsp": 0x7ffff7c00e50, "rbp": 0x7ffff7c00e80, "efl": 0x246})
	mods := []model.Module{
		{Base: exe, Size: 0x4000, Path: exePath, BuildID: []byte{0x2e, 0x72, 0x27, 0x18}},
		{Base: libc, Size: 0x42000, Path: libcPath},
		{Base: libm, Size: 0x1000, Path: "/usr/lib/x86_64-linux-gnu/libm.so.6"},
	}
	t := &Target{
		InfoV: model.Info{Format: model.ELFCore, Variant: "process", OS: model.OS{Family: model.Linux}, Arch: model.AMD64,
			Process: &model.Process{PID: 4242, Name: "crashc", CommandLine: "./crashc"},
			Crash:   &model.Crash{Kind: model.Signal, Code: 11, Name: "SIGSEGV / SEGV_MAPERR", Address: u64(0x10), ThreadID: u64(4242)},
			Threads: 2, Modules: 3},
		ThreadList: []model.Thread{{ID: 4242, Context: main}, {ID: 4243, Context: worker}},
		ModuleList: mods,
		Mem:        space,
		Exception:  main,
	}
	res := &Resolver{Modules: mods, Syms: []symbols.Symbol{
		{Name: "level3", Module: "crashc", Addr: exe + 0x1139, Size: 0x15, File: "crash.c", Line: 8},
		{Name: "level2", Module: "crashc", Addr: exe + 0x114e, Size: 0x14, File: "crash.c", Line: 9},
		{Name: "main", Module: "crashc", Addr: exe + 0x1162, Size: 0x40, File: "crash.c", Line: 18},
		{Name: "worker", Module: "crashc", Addr: exe + 0x11a2, Size: 0x20, File: "crash.c", Line: 7},
		{Name: "__libc_pause", Module: "libc.so.6", Addr: libc + 0x1de0, Size: 0x20},
		{Name: "start_thread", Module: "libc.so.6", Addr: libc + 0x1e00, Size: 0x100},
	}}
	regs := func(pc, sp, fp uint64) map[string]uint64 { return map[string]uint64{"rip": pc, "rsp": sp, "rbp": fp} }
	frames := map[int][]console.StackFrame{
		0: {
			{Index: 0, SP: 0x7fffffffe0f0, PC: exe + 0x1145, FP: 0x7fffffffe0f0, Name: "crashc!level3+0xc", Function: "level3", File: "crash.c", Line: 8, Trust: "context"},
			// level2 calls level3 through check(), inlined into it.
			{Index: 1, SP: 0x7fffffffe100, PC: exe + 0x115a, FP: 0x7fffffffe110, Name: "crashc!level2+0xc", Function: "level2", File: "crash.c", Line: 9, Trust: "cfi",
				Regs:    regs(exe+0x115a, 0x7fffffffe100, 0x7fffffffe110),
				Inlined: []console.InlineFrame{{Name: "crashc!check", Function: "check", File: "check.h", Line: 3}}},
			{Index: 2, SP: 0x7fffffffe120, PC: exe + 0x1185, FP: 0x7fffffffe160, Name: "crashc!main+0x23", Function: "main", File: "crash.c", Line: 18, Trust: "cfi",
				Regs: regs(exe+0x1185, 0x7fffffffe120, 0x7fffffffe160)},
			{Index: 3, SP: 0x7fffffffe170, PC: libc + 0x2724a, Name: "libc+0x2724a", Trust: "scan", Regs: regs(libc+0x2724a, 0x7fffffffe170, 0)},
		},
		1: {
			{Index: 0, SP: 0x7ffff7c00e50, PC: libc + 0x1df2, Name: "libc!__libc_pause+0x12", Function: "__libc_pause", Trust: "context"},
			{Index: 1, SP: 0x7ffff7c00e90, PC: exe + 0x11ba, Name: "crashc!worker+0x18", Function: "worker", File: "crash.c", Line: 7, Trust: "cfi",
				Regs: regs(exe+0x11ba, 0x7ffff7c00e90, 0x7ffff7c00eb0)},
			{Index: 2, SP: 0x7ffff7c00ec0, PC: libc + 0x1e80, Name: "libc!start_thread+0x80", Function: "start_thread", Trust: "cfi",
				Regs: regs(libc+0x1e80, 0x7ffff7c00ec0, 0)},
		},
	}
	return &Env{T: t, Syms: res, Frames: frames, Images: wide}
}

// KernelTriage is a Windows 10 x64 kernel triage dump stopped by bug check
// 0x1000007E (SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M): an access violation
// in amdppm.sys, with the parameters, drivers and bases of the corpus dump
// rizin/dmp/triage_x64.dmp. It has one thread and no memory.
func KernelTriage() *Env {
	const nt, wdf, amdppm = 0xfffff8047ba00000, 0xfffff80479950000, 0xfffff8048b580000
	mods := []model.Module{
		{Base: nt, Size: 0x1046000, Path: `\SystemRoot\system32\ntoskrnl.exe`, Time: time.Unix(0x0D8333E6, 0), CodeID: "0D8333E61046000"},
		{Base: wdf, Size: 0xd1000, Path: `\SystemRoot\system32\drivers\Wdf01000.sys`, Time: time.Unix(0xA9A9D36E, 0), CodeID: "A9A9D36Ed1000"},
		{Base: amdppm, Size: 0x3b000, Path: `\SystemRoot\System32\drivers\amdppm.sys`, Time: time.Unix(0xC9C03000, 0), CodeID: "C9C030003b000"},
	}
	ctx := AMD64(map[string]uint64{"rip": amdppm + 0x334c, "rsp": 0xffff850429891ea0, "efl": 0x10282})
	t := &Target{
		InfoV: model.Info{
			Format: model.WindowsKernel, Variant: "triage",
			OS:   model.OS{Family: model.Windows, Version: "10.0.19041", Build: "19041.1.amd64fre.vb_release.191206-1406"},
			Arch: model.AMD64,
			Crash: &model.Crash{Kind: model.BugCheck, Code: 0x1000007E, Name: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
				Parameters: []uint64{0xffffffffc0000005, amdppm + 0x334c, 0xffff850429891ee8, 0xffff850429891720}},
			Threads: 1, Modules: 3,
			Details: []model.Detail{{Key: "Header", Value: "DUMP_HEADER64 (PAGEDU64)"}, {Key: "Dump type", Value: "4 (triage)"}},
		},
		ThreadList: []model.Thread{{ID: 0x84, Context: ctx}},
		ModuleList: mods,
	}
	kt := &KernelTriageTarget{Target: t, KernelFacts: KernelFacts{
		Thread: &console.KernelThread{Address: 0xffffc08bde9e1640, Via: "KPRCB.CurrentThread", Process: 0xffffc08bdce94180, ProcessName: "System",
			InitialStack: 0xffff850429892c90, KernelStack: 0xffff850429891fe0, StackLimit: 0xffff85042988d000, StackBase: 0xffff850429893000, State: 2},
		IRQL: 0, PRCB: 0xfffff804782d4180, IRQLSource: "KPRCB.ProcessorState.SpecialRegisters.Cr8",
		Tags: []console.SecondaryTag{
			{Tag: "{54C84888-01D1-4C1E-BED6-282C98241303}", Size: 0x120, Present: 0x120},
			{Tag: "{67FC721A-2852-4F62-A3B1-2AFC53953777}", Size: 0x44, Present: 0x20},
		},
		Data:   [][]byte{append([]byte("AmdPPM\x00"), make([]byte, 0x120-7)...), []byte("DriverLog\x00 cut off by the end of the file")[:0x20]},
		Memory: &console.KernelMemory{NoRunsWhy: "a triage dump does not fill PHYSICAL_MEMORY_DESCRIPTOR", PfnDatabase: 0xfffff8047c6fc500, PageSize: 0x1000},
		Traps: map[uint64]model.Context{0xffff850429891f90: AMD64(map[string]uint64{
			"rax": 0xffffc08be4da6240, "rcx": 0x20, "rdx": 1, "r8": 0xffff9b0003360008, "r9": 0x44, "r10": 0x20, "r11": 0x20,
			"rbp": 0xfffff8048b58f598, "rsp": 0xffff850429892120, "rip": amdppm + 0x334c, "efl": 0x50246})},
	}}
	return &Env{T: kt, Syms: &Resolver{Modules: mods}}
}

// KernelFacts answers console.KernelInspector and console.TrapReader for
// the kernel scenarios.
type KernelFacts struct {
	Thread     *console.KernelThread
	IRQL       uint8
	PRCB       uint64
	IRQLSource string
	Memory     *console.KernelMemory
	Traps      map[uint64]model.Context // KTRAP_FRAMEs by address
	// Secondary dump data: each tag with its data (Present bytes held).
	Tags []console.SecondaryTag
	Data [][]byte
}

// SecondaryTags returns Tags.
func (k *KernelFacts) SecondaryTags() []console.SecondaryTag { return k.Tags }

// SecondaryBytes returns up to max bytes of Data[i].
func (k *KernelFacts) SecondaryBytes(i, max int) ([]byte, error) {
	if i < 0 || i >= len(k.Data) {
		return nil, errors.New("no such blob in this fake dump")
	}
	return k.Data[i][:min(max, len(k.Data[i]))], nil
}

// KernelThread returns Thread.
func (k *KernelFacts) KernelThread() (*console.KernelThread, error) {
	if k.Thread == nil {
		return nil, errors.New("no ETHREAD in this fake dump")
	}
	return k.Thread, nil
}

// KernelIRQL returns IRQL, PRCB and IRQLSource.
func (k *KernelFacts) KernelIRQL() (uint8, uint64, string, error) {
	if k.IRQLSource == "" {
		return 0, 0, "", errors.New("no KPRCB in this fake dump")
	}
	return k.IRQL, k.PRCB, k.IRQLSource, nil
}

// KernelMemory returns Memory.
func (k *KernelFacts) KernelMemory() (*console.KernelMemory, error) {
	if k.Memory == nil {
		return nil, errors.New("no memory description in this fake dump")
	}
	return k.Memory, nil
}

// TrapFrameAt answers from Traps.
func (k *KernelFacts) TrapFrameAt(addr uint64) (model.Context, error) {
	c, ok := k.Traps[addr]
	if !ok {
		return nil, fmt.Errorf("KTRAP_FRAME SegCs at %#x is not an x64 code selector", addr)
	}
	return c, nil
}

// KernelTriageTarget is the triage scenario's target: a Target with the
// kernel facts a triage dump gives.
type KernelTriageTarget struct {
	*Target
	KernelFacts
}

// KernelTarget is a kernel dump target that lists processes
// (model.ProcessLister), as full, kernel and bitmap dumps do.
type KernelTarget struct {
	*Target
	KernelFacts
	Procs []model.KernelProcess
}

// Processes returns Procs.
func (t *KernelTarget) Processes() ([]model.KernelProcess, error) { return t.Procs, nil }

// KernelFull is a full Windows kernel dump: the triage scenario's drivers
// and bug check, plus the process list and two page walks (one mapped,
// one paged out) for !process, !pte and !vtop.
func KernelFull() *Env {
	e := KernelTriage()
	tt := e.T.(*KernelTriageTarget)
	base := tt.Target
	base.InfoV.Variant = "complete"
	base.InfoV.Details = []model.Detail{{Key: "Header", Value: "DUMP_HEADER64 (PAGEDU64)"}, {Key: "Dump type", Value: "1 (full)"}}
	facts := tt.KernelFacts
	facts.Memory = &console.KernelMemory{Runs: [][2]uint64{{0x1, 0x9f}, {0x100, 0x7fef0}, {0x80000, 0x80000}}, Pages: 0x10008f,
		PfnDatabase: 0xfffff8047c6fc500, PageSize: 0x1000}
	e.T = &KernelTarget{Target: base, KernelFacts: facts, Procs: []model.KernelProcess{
		{PID: 4, Name: "System", DirBase: 0x1ad000, Address: 0xffffc08bd4a7e040, Threads: 143, Handles: -1},
		{PID: 0x1f4, ParentPID: 4, Name: "smss.exe", DirBase: 0x10d4a000, Address: 0xffffc08bd8f1e080, Threads: 2, Handles: -1},
		{PID: 0x2a0, ParentPID: 0x290, Name: "csrss.exe", DirBase: 0x7e1c6000, Address: 0xffffc08bd9a2c140, Threads: -1, Handles: -1},
	}}
	e.Walks = map[uint64]PageWalkResult{
		0xfffff8048b58334c: {PA: 0x2b6a334c, Size: 0x1000, Steps: []console.PageWalkStep{
			{Level: "PXE", Addr: 0x1adf80, Entry: 0x4a03063}, {Level: "PPE", Addr: 0x4a03090, Entry: 0x4a04063},
			{Level: "PDE", Addr: 0x4a042d0, Entry: 0x2c1f3063}, {Level: "PTE", Addr: 0x2c1f3ac0, Entry: 0x890000002b6a3021}}},
		0xffff850429000000: {Err: errors.New("paged out to pagefile 0 offset 0x1a2b000"), Steps: []console.PageWalkStep{
			{Level: "PXE", Addr: 0x1ad850, Entry: 0x4a01063}, {Level: "PPE", Addr: 0x4a01080, Entry: 0x4a02063},
			{Level: "PDE", Addr: 0x4a020a0, Entry: 0x4b10063}, {Level: "PTE", Addr: 0x4b10000, Entry: 0x1a2b00000080}}},
	}
	return e
}

// appTypes are app.exe's types for dt: APP_RECORD lays out the bytes at
// g_table (a string, a wide string, a magic number, bitfields and an
// enum sharing a dword), APP_NODE embeds a _LIST_ENTRY.
func appTypes() TypeMap {
	char := &ctype.Type{Kind: ctype.Base, Name: "char", Size: 1, Signed: true, Char: true}
	wchar := &ctype.Type{Kind: ctype.Base, Name: "wchar_t", Size: 2, Char: true}
	u16 := &ctype.Type{Kind: ctype.Base, Name: "unsigned short", Size: 2}
	u32 := &ctype.Type{Kind: ctype.Base, Name: "unsigned long", Size: 4}
	i32 := &ctype.Type{Kind: ctype.Base, Name: "long", Size: 4, Signed: true}
	state := &ctype.Type{Kind: ctype.Enum, Name: "APP_STATE", Size: 4, Elem: i32,
		Enumerators: []ctype.Enumerator{{Name: "AppIdle", Value: 0}, {Name: "AppRunning", Value: 0x12345678}}}
	rec := &ctype.Type{Kind: ctype.Struct, Name: "APP_RECORD", Size: 0x2a}
	rec.Fields = []ctype.Field{
		{Name: "Name", Offset: 0, Type: &ctype.Type{Kind: ctype.Array, Size: 14, Count: 14, Elem: char}},
		{Name: "Wide", Offset: 0xe, Type: &ctype.Type{Kind: ctype.Array, Size: 18, Count: 9, Elem: wchar}},
		{Name: "Pad", Offset: 0x20, Type: u16},
		{Name: "Magic", Offset: 0x22, Type: u32},
		{Name: "Low", Offset: 0x26, Type: u32, BitOffset: 0, BitSize: 4},
		{Name: "High", Offset: 0x26, Type: u32, BitOffset: 4, BitSize: 1},
		{Name: "State", Offset: 0x26, Type: state},
	}
	list := &ctype.Type{Kind: ctype.Struct, Name: "_LIST_ENTRY", Size: 16}
	list.Fields = []ctype.Field{
		{Name: "Flink", Offset: 0, Type: &ctype.Type{Kind: ctype.Pointer, Size: 8, Elem: list}},
		{Name: "Blink", Offset: 8, Type: &ctype.Type{Kind: ctype.Pointer, Size: 8, Elem: list}},
	}
	node := &ctype.Type{Kind: ctype.Struct, Name: "APP_NODE", Size: 0x20, Fields: []ctype.Field{
		{Name: "Links", Offset: 0, Type: list},
		{Name: "Record", Offset: 0x10, Type: &ctype.Type{Kind: ctype.Pointer, Size: 8, Elem: rec}},
		{Name: "Count", Offset: 0x18, Type: i32},
	}}
	fwd := &ctype.Type{Kind: ctype.Struct, Name: "APP_OPAQUE", Incomplete: true}
	return TypeMap{"APP_RECORD": rec, "APP_NODE": node, "APP_STATE": state, "_LIST_ENTRY": list, "APP_OPAQUE": fwd}
}

// LinuxVMCore is a Linux x86_64 vmcore whose kernel view gives a log (a
// panic), three tasks and the sys lines.
func LinuxVMCore() *Env {
	t := &Target{InfoV: model.Info{Format: model.LinuxVMCore, Variant: "kdump-compressed",
		OS: model.OS{Family: model.Linux, Release: "6.1.0-56-cloud-amd64"}, Arch: model.AMD64, CPUs: 2}}
	return &Env{T: t, Linux: &LinuxKernel{
		Log: []string{
			"[    0.000000] Linux version 6.1.0-56-cloud-amd64 (debian-kernel@lists.debian.org)",
			"[    6.642971] sysrq: Trigger a crash",
			"[    6.642971] Kernel panic - not syncing: sysrq triggered crash",
		},
		Tasks: []console.LinuxTask{
			{PID: 0, TGID: 0, PPID: 0, Comm: "swapper/0", State: "RU", Task: 0xffffffff9b21aa40, KernelThread: true},
			{PID: 1, TGID: 1, PPID: 0, Comm: "init", State: "RU", Task: 0xffff89ff03df4180},
			{PID: 2, TGID: 2, PPID: 0, Comm: "kthreadd", State: "IN", Task: 0xffff89ff03df6300, KernelThread: true},
		},
		Sys:      [][2]string{{"KERNEL", "6.1.0-56-cloud-amd64"}, {"CPUS", "2"}, {"PANIC", "Kernel panic - not syncing: sysrq triggered crash"}},
		Mods:     []console.LinuxModule{{Address: 0xffffffffc0286040, Name: "qemu_fw_cfg", Base: 0xffffffffc0284000, Size: 20480}},
		PageSize: 4096, TotalPages: 15447, FreePages: 8493,
		Stacks: map[int64]*console.LinuxStack{-1: {
			Task: console.LinuxTask{PID: 1, TGID: 1, Comm: "init", Task: 0xffff89ff03df4180}, CPU: 0,
			Note: "running on CPU 0: the whole stack is scanned",
			Entries: []console.LinuxStackEntry{
				{Slot: 0xffffa5e8c0013d28, Value: 0xffffffff99ea8a06, Name: "sysrq_handle_crash+0x16", Call: true},
				{Slot: 0xffffa5e8c0013d30, Value: 0xffffffff9a1cd0a0, Name: "_printk+0x68"},
			},
		}, 2: {
			// A sleeping kernel thread unwound with ORC (crash's bt), its
			// scan beside it (bt -t).
			Task:       console.LinuxTask{PID: 2, TGID: 2, Comm: "kthreadd", Task: 0xffff89ff03df20c0, KernelThread: true},
			CPU:        -1,
			Note:       "from the stack pointer saved when it was switched out",
			FramesNote: "unwound with ORC from the frame saved when it was switched out",
			Frames: []console.LinuxFrame{
				{Slot: 0xffffcf42c001be50, PC: 0xffffffff9a210e3d, Name: "__schedule+0x34d"},
				{Slot: 0xffffcf42c001bea8, PC: 0xffffffff9a21154a, Name: "schedule+0x5a"},
				{Slot: 0xffffcf42c001bf50, PC: 0xffffffff998032f2, Name: "ret_from_fork+0x22"},
			},
			Entries: []console.LinuxStackEntry{
				{Slot: 0xffffcf42c001be50, Value: 0xffffffff9a210e3d, Name: "__schedule+0x34d", Call: true},
				{Slot: 0xffffcf42c001bf20, Value: 0xffffffff998bfd40, Name: "kthreadd+0x0"},
			},
		}, 1: {
			// A running task unwound to its system call's user registers,
			// and one whose unwind stopped early.
			Task: console.LinuxTask{PID: 1, TGID: 1, Comm: "init", Task: 0xffff89ff03df4180}, CPU: 0,
			FramesNote: "running on CPU 0: unwound with ORC from the registers the crash saved (NT_PRSTATUS)",
			Frames: []console.LinuxFrame{
				{Slot: 0xffffcf42c0013c68, PC: 0xffffffffc028f230, Name: "pvpanic.ko+0x230"},
				{Slot: 0xffffcf42c0013f50, PC: 0xffffffff9a400126, Name: "entry_SYSCALL_64_after_hwframe+0x6e"},
			},
			User: &console.LinuxUserRegs{IP: 0x47b7a0, SP: 0x7ffd0df14a08, Flags: 0x202, AX: 0xffffffffffffffda, OrigAX: 1},
		}, 3: {
			Task: console.LinuxTask{PID: 3, TGID: 3, Comm: "rcu_gp", Task: 0xffff89ff03df6000, KernelThread: true}, CPU: -1,
			Frames:     []console.LinuxFrame{{Slot: 0xffffcf42c0023e50, PC: 0xffffffff9a210e3d, Name: "__schedule+0x34d"}},
			FramesStop: "no ORC data for 0xffffffffc0300000",
		}},
	}}
}
