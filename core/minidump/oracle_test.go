package minidump

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// dumpBlock is one record of breakpad's minidump_dump output: a header line
// ("MDRawModule") and its "key = value" lines; Data holds a following
// unindented hex line (memory and stack contents).
type dumpBlock struct {
	Name string
	KV   map[string]string
	Data string
}

func parseMinidumpDump(t *testing.T, rel string) []*dumpBlock {
	t.Helper()
	b, err := os.ReadFile(fixture.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	var out []*dumpBlock
	for line := range strings.SplitSeq(string(b), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "0x") && len(out) > 0:
			out[len(out)-1].Data = line
		case !strings.HasPrefix(line, " "):
			out = append(out, &dumpBlock{Name: line, KV: map[string]string{}})
		case len(out) > 0:
			k, v, ok := strings.Cut(line, "=")
			if ok {
				out[len(out)-1].KV[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return out
}

func blocks(bs []*dumpBlock, name string) []*dumpBlock {
	var out []*dumpBlock
	for _, b := range bs {
		if b.Name == name {
			out = append(out, b)
		}
	}
	return out
}

// num returns the first token of a value as a number.
func (b *dumpBlock) num(t *testing.T, key string) uint64 {
	t.Helper()
	v, ok := b.KV[key]
	if !ok {
		t.Fatalf("%s: no key %q", b.Name, key)
	}
	v = strings.Fields(v)[0]
	n, err := strconv.ParseUint(v, 0, 64)
	if err != nil {
		t.Fatalf("%s: %s = %q: %v", b.Name, key, v, err)
	}
	return n
}

// str returns a quoted value unquoted ("(null)" as "").
func (b *dumpBlock) str(t *testing.T, key string) string {
	t.Helper()
	v, ok := b.KV[key]
	if !ok {
		t.Fatalf("%s: no key %q", b.Name, key)
	}
	if v == "(null)" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
}

type check struct {
	t    *testing.T
	what string
}

func (c check) eq(field string, got, want any) {
	c.t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		c.t.Errorf("%s: %s = %v, want %v", c.what, field, got, want)
	}
}

func checkX86Context(t *testing.T, what string, ctx model.Context, b *dumpBlock) {
	t.Helper()
	x, ok := ctx.(*ContextX86)
	if !ok {
		t.Fatalf("%s: context %T, want *ContextX86", what, ctx)
	}
	c := check{t, what}
	c.eq("context_flags", x.ContextFlags, b.num(t, "context_flags"))
	for _, r := range []string{"edi", "esi", "ebx", "edx", "ecx", "eax", "ebp", "eip", "esp", "eflags", "cs", "ss", "ds", "es", "fs", "gs"} {
		v, ok := x.Reg(r)
		if !ok {
			t.Errorf("%s: no register %s", what, r)
		}
		c.eq(r, v, b.num(t, r))
	}
	for i, d := range []uint32{x.Dr0, x.Dr1, x.Dr2, x.Dr3, x.Dr6, x.Dr7} {
		c.eq("dr", d, b.num(t, []string{"dr0", "dr1", "dr2", "dr3", "dr6", "dr7"}[i]))
	}
	c.eq("float_save.control_word", uint32(x.FloatSave[0])|uint32(x.FloatSave[1])<<8|uint32(x.FloatSave[2])<<16|uint32(x.FloatSave[3])<<24, b.num(t, "float_save.control_word"))
	c.eq("extended_registers", "0x"+hex.EncodeToString(x.ExtendedRegisters[:]), b.KV["extended_registers[512]"])
}

// TestMinidump2AgainstMinidumpDump compares every stream of minidump2.dmp
// field by field with breakpad's minidump_dump output.
func TestMinidump2AgainstMinidumpDump(t *testing.T) {
	t.Parallel()
	bs := parseMinidumpDump(t, "breakpad/minidump2.dump.out")
	f := openCorpus(t, "breakpad/minidump2.dmp")

	h := blocks(bs, "MDRawHeader")[0]
	c := check{t, "header"}
	c.eq("version", f.Header().Version, h.num(t, "version"))
	c.eq("stream_count", f.Header().NumberOfStreams, h.num(t, "stream_count"))
	c.eq("time_date_stamp", f.Header().TimeDateStamp, h.num(t, "time_date_stamp"))

	// Threads and their contexts (each MDRawThread is followed by its
	// MDRawContextX86; the third context is the exception's).
	ctxs := blocks(bs, "MDRawContextX86")
	raw, err := f.ThreadList()
	if err != nil {
		t.Fatal(err)
	}
	ths, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	want := blocks(bs, "MDRawThread")
	if len(raw) != len(want) || len(ths) != len(want) {
		t.Fatalf("%d threads, want %d", len(raw), len(want))
	}
	stacks := blocks(bs, "Stack")
	mem, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		c := check{t, fmt.Sprintf("thread[%d]", i)}
		r := raw[i]
		c.eq("thread_id", r.ThreadID, w.num(t, "thread_id"))
		c.eq("suspend_count", r.SuspendCount, w.num(t, "suspend_count"))
		c.eq("teb", r.Teb, w.num(t, "teb"))
		c.eq("stack.start", r.Stack.StartOfMemoryRange, w.num(t, "stack.start_of_memory_range"))
		c.eq("stack.size", r.Stack.Memory.DataSize, w.num(t, "stack.memory.data_size"))
		c.eq("stack.rva", r.Stack.Memory.Rva, w.num(t, "stack.memory.rva"))
		c.eq("context.size", r.ThreadContext.DataSize, w.num(t, "thread_context.data_size"))
		c.eq("context.rva", r.ThreadContext.Rva, w.num(t, "thread_context.rva"))
		c.eq("model id", ths[i].ID, r.ThreadID)
		c.eq("model TEB", ths[i].TEB, r.Teb)
		c.eq("model stack", ths[i].StackStart, r.Stack.StartOfMemoryRange)
		checkX86Context(t, c.what, ths[i].Context, ctxs[i])
		// The stack bytes, read through the memory space.
		stack := make([]byte, ths[i].StackSize)
		if _, err := mem.ReadMemory(stack, ths[i].StackStart); err != nil {
			t.Fatal(err)
		}
		c.eq("stack bytes", "0x"+hex.EncodeToString(stack), stacks[i].Data)
	}

	// Modules.
	mods, err := f.ModuleList()
	if err != nil {
		t.Fatal(err)
	}
	mm, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	wantMods := blocks(bs, "MDRawModule")
	if len(mods) != len(wantMods) || len(mm) != len(wantMods) {
		t.Fatalf("%d modules, want %d", len(mods), len(wantMods))
	}
	for i, w := range wantMods {
		c := check{t, fmt.Sprintf("module[%d]", i)}
		m := &mods[i]
		c.eq("base", m.BaseOfImage, w.num(t, "base_of_image"))
		c.eq("size", m.SizeOfImage, w.num(t, "size_of_image"))
		c.eq("checksum", m.CheckSum, w.num(t, "checksum"))
		c.eq("time_date_stamp", m.TimeDateStamp, w.num(t, "time_date_stamp"))
		c.eq("module_name_rva", m.ModuleNameRva, w.num(t, "module_name_rva"))
		c.eq("version_info.signature", m.VersionInfo.Signature, w.num(t, "version_info.signature"))
		c.eq("version_info.file_version", fmt.Sprintf("%#x:%#x", m.VersionInfo.FileVersionMS, m.VersionInfo.FileVersionLS), w.KV["version_info.file_version"])
		c.eq("version_info.file_os", m.VersionInfo.FileOS, w.num(t, "version_info.file_os"))
		c.eq("version_info.file_type", m.VersionInfo.FileType, w.num(t, "version_info.file_type"))
		c.eq("version_info.file_flags_mask", m.VersionInfo.FileFlagsMask, w.num(t, "version_info.file_flags_mask"))
		c.eq("cv_record.data_size", m.CvRecord.DataSize, w.num(t, "cv_record.data_size"))
		c.eq("cv_record.rva", m.CvRecord.Rva, w.num(t, "cv_record.rva"))
		c.eq("code_file", m.Name, w.str(t, "(code_file)"))
		c.eq("cv_signature", m.CodeView.Signature, w.num(t, "(cv_record).cv_signature"))
		c.eq("cv age", m.CodeView.Age, w.num(t, "(cv_record).age"))
		c.eq("pdb_file_name", m.CodeView.PDBFileName, w.str(t, "(cv_record).pdb_file_name"))
		c.eq("cv signature", strings.ToLower(m.CodeView.GUID.String()), w.KV["(cv_record).signature"])
		// Model view: minidump_dump's derived identifiers.
		c.eq("Path", mm[i].Path, w.str(t, "(code_file)"))
		c.eq("CodeID", mm[i].CodeID, w.str(t, "(code_identifier)"))
		c.eq("DebugFile", mm[i].DebugFile, w.str(t, "(debug_file)"))
		c.eq("DebugID", mm[i].DebugID, w.str(t, "(debug_identifier)"))
		c.eq("Version", mm[i].Version, w.str(t, "(version)"))
		c.eq("Checksum", mm[i].Checksum, m.CheckSum)
		c.eq("Unloaded", mm[i].Unloaded, false)
	}

	// Memory list and contents through Memory().
	ml, err := f.MemoryList()
	if err != nil {
		t.Fatal(err)
	}
	regions := blocks(bs, "MDMemoryDescriptor")
	memData := blocks(bs, "Memory")
	if len(ml) != len(regions) {
		t.Fatalf("%d memory ranges, want %d", len(ml), len(regions))
	}
	for i, w := range regions {
		c := check{t, fmt.Sprintf("region[%d]", i)}
		c.eq("start", ml[i].Start, w.num(t, "start_of_memory_range"))
		c.eq("size", ml[i].Size, w.num(t, "memory.data_size"))
		c.eq("rva", ml[i].FileOff, w.num(t, "memory.rva"))
		b := make([]byte, ml[i].Size)
		if _, err := mem.ReadMemory(b, ml[i].Start); err != nil {
			t.Fatal(err)
		}
		c.eq("bytes", "0x"+hex.EncodeToString(b), memData[i].Data)
	}

	// Exception and its context.
	e, err := f.Exception()
	if err != nil {
		t.Fatal(err)
	}
	w := blocks(bs, "MDException")[0]
	c = check{t, "exception"}
	c.eq("thread_id", e.ThreadID, w.num(t, "thread_id"))
	c.eq("code", e.Record.ExceptionCode, w.num(t, "exception_record.exception_code"))
	c.eq("flags", e.Record.ExceptionFlags, w.num(t, "exception_record.exception_flags"))
	c.eq("address", e.Record.ExceptionAddress, w.num(t, "exception_record.exception_address"))
	c.eq("number_parameters", e.Record.NumberParameters, w.num(t, "exception_record.number_parameters"))
	c.eq("information[0]", e.Record.ExceptionInformation[0], w.num(t, "exception_record.exception_information[ 0]"))
	c.eq("information[1]", e.Record.ExceptionInformation[1], w.num(t, "exception_record.exception_information[ 1]"))
	c.eq("context size", e.ContextDataSize, w.num(t, "thread_context.data_size"))
	c.eq("context rva", e.ContextRva, w.num(t, "thread_context.rva"))
	ectx, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	checkX86Context(t, "exception context", ectx, ctxs[len(ctxs)-1])

	// System info.
	si, err := f.SystemInfo()
	if err != nil {
		t.Fatal(err)
	}
	w = blocks(bs, "MDRawSystemInfo")[0]
	c = check{t, "system info"}
	c.eq("processor_architecture", si.ProcessorArchitecture, w.num(t, "processor_architecture"))
	c.eq("processor_level", si.ProcessorLevel, w.num(t, "processor_level"))
	c.eq("processor_revision", si.ProcessorRevision, w.num(t, "processor_revision"))
	c.eq("number_of_processors", si.NumberOfProcessors, w.num(t, "number_of_processors"))
	c.eq("product_type", si.ProductType, w.num(t, "product_type"))
	c.eq("major", si.MajorVersion, w.num(t, "major_version"))
	c.eq("minor", si.MinorVersion, w.num(t, "minor_version"))
	c.eq("build", si.BuildNumber, w.num(t, "build_number"))
	c.eq("platform_id", si.PlatformID, w.num(t, "platform_id"))
	c.eq("csd_version_rva", si.CSDVersionRva, w.num(t, "csd_version_rva"))
	c.eq("suite_mask", si.SuiteMask, w.num(t, "suite_mask"))
	for i := range 3 {
		c.eq("vendor_id", si.CPU.VendorID[i], w.num(t, fmt.Sprintf("cpu.x86_cpu_info.vendor_id[%d]", i)))
	}
	c.eq("version_information", si.CPU.VersionInformation, w.num(t, "cpu.x86_cpu_info.version_information"))
	c.eq("feature_information", si.CPU.FeatureInformation, w.num(t, "cpu.x86_cpu_info.feature_information"))
	c.eq("amd_extended_cpu_features", si.CPU.AMDExtendedCPUFeatures, w.num(t, "cpu.x86_cpu_info.amd_extended_cpu_features"))
	c.eq("csd_version", si.CSDVersion, w.str(t, "(csd_version)"))
	c.eq("cpu_vendor", si.CPU.Vendor(), w.str(t, "(cpu_vendor)"))
	// rust-minidump's cpu_info for test.dmp.
	c.eq("cpu_info", si.CPUInfo(), "GenuineIntel family 6 model 13 stepping 8")

	// Misc info.
	mi, err := f.MiscInfo()
	if err != nil {
		t.Fatal(err)
	}
	w = blocks(bs, "MDRawMiscInfo")[0]
	c = check{t, "misc info"}
	c.eq("size_of_info", mi.SizeOfInfo, w.num(t, "size_of_info"))
	c.eq("flags1", mi.Flags1, w.num(t, "flags1"))
	c.eq("process_id", mi.ProcessID, w.num(t, "process_id"))
	c.eq("process_create_time", mi.ProcessCreateTime, w.num(t, "process_create_time"))
	c.eq("process_user_time", mi.ProcessUserTime, w.num(t, "process_user_time"))
	c.eq("process_kernel_time", mi.ProcessKernelTime, w.num(t, "process_kernel_time"))

	// Breakpad info.
	bi, err := f.BreakpadInfo()
	if err != nil {
		t.Fatal(err)
	}
	w = blocks(bs, "MDRawBreakpadInfo")[0]
	c = check{t, "breakpad info"}
	c.eq("validity", bi.Validity, w.num(t, "validity"))
	c.eq("dump_thread_id", bi.DumpThreadID, w.num(t, "dump_thread_id"))
	c.eq("requesting_thread_id", bi.RequestingThreadID, w.num(t, "requesting_thread_id"))
}

// TestTestDmpRustMinidumpValues checks the values rust-minidump's
// test_minidump.rs asserts for test.dmp (the same file as minidump2.dmp).
func TestTestDmpRustMinidumpValues(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "rust-minidump/test.dmp")
	mm, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	c := check{t, "test.dmp"}
	c.eq("modules", len(mm), 13)
	c.eq("m0", fmt.Sprintf("%#x %#x %s %s %s %s %q", mm[0].Base, mm[0].Size, mm[0].Path, mm[0].CodeID, mm[0].DebugFile, mm[0].DebugID, mm[0].Version),
		`0x400000 0x2d000 c:\test_app.exe 45D35F6C2d000 c:\test_app.pdb 5A9832E5287241C1838ED98914E9B7FF1 ""`)
	c.eq("m12", fmt.Sprintf("%#x %#x %s %s %s %s", mm[12].Base, mm[12].Size, mm[12].Path, mm[12].CodeID, mm[12].DebugID, mm[12].Version),
		`0x76bf0000 0xb000 C:\WINDOWS\system32\psapi.dll 411096CAb000 A5C3A1F9689F43D8AD228A09293889702 5.1.2600.2180`)
	ts, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	c.eq("thread ids", fmt.Sprintf("%#x %#x", ts[0].ID, ts[1].ID), "0xbf4 0x11c0")
	c.eq("thread0 eip/esp", fmt.Sprintf("%#x %#x", ts[0].Context.PC(), ts[0].Context.SP()), "0x7c90eb94 0x12f320")
	m, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[uint64]uint64{0x12f31c: 0x7c90e9c000000000, 0x12fff8: 0x405443} {
		v, err := mem.ReadUint(m, addr, 8, f.ByteOrder())
		if err != nil || v != want {
			t.Errorf("u64 at %#x = %#x, %v; want %#x", addr, v, err, want)
		}
	}
	ec, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	c.eq("exception eip/esp", fmt.Sprintf("%#x %#x", ec.PC(), ec.SP()), "0x40429e 0x12fe84")
}

// TestWineRegistersAgainstLLDB compares the crashing thread's registers in
// the Wine dump with lldb's `register read`.
func TestWineRegistersAgainstLLDB(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "generated/windows-minidump/wine-MiniDumpNormal-exception.dmp")
	b, err := os.ReadFile(fixture.Corpus(t, "generated/windows-minidump/wine-MiniDumpNormal-exception.lldb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 || ts[0].ID != 0x24 || ts[1].ID != 0x104 || ts[2].ID != 0x108 {
		t.Errorf("threads = %+v", ts)
	}
	n := 0
	_, regs, _ := strings.Cut(string(b), "General Purpose Registers:")
	for line := range strings.SplitSeq(regs, "\n") {
		name, val, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok {
			continue
		}
		want, err := strconv.ParseUint(strings.Fields(val)[0], 0, 64)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ctx.Reg(name)
		if !ok || got != want {
			t.Errorf("%s = %#x (%v), lldb says %#x", name, got, ok, want)
		}
		n++
	}
	if n != 24 {
		t.Fatalf("compared %d registers, want 24", n)
	}
	// The exception thread's own context agrees at the crash PC (lldb's
	// thread list: tid 0x24 at 0x140001737).
	if ctx.PC() != 0x140001737 {
		t.Errorf("pc = %#x", ctx.PC())
	}
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	wantBases := []uint64{0x140000000, 0x170000000, 0x7b600000, 0x7b000000, 0x23ecb0000, 0x241b90000, 0x228280000, 0x2c7470000}
	if len(mods) != len(wantBases) {
		t.Fatalf("%d modules, want %d", len(mods), len(wantBases))
	}
	for i, m := range mods {
		if m.Base != wantBases[i] {
			t.Errorf("module %d base %#x, want %#x", i, m.Base, wantBases[i])
		}
	}
	if !strings.HasSuffix(mods[1].Path, `\ntdll.dll`) {
		t.Errorf("module 1 = %q", mods[1].Path)
	}
}

// TestXStateCET checks the XSTATE/CET contexts of breakpad's tiny-exe
// dumps against ORACLE-NOTES (OS, CPU, thread count, no crash) and the
// CET_U component located through MiscInfo 5's feature table.
func TestXStateCET(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "breakpad/tiny-exe-with-cet-xsave.dmp")
	i := f.Info()
	si, _ := f.SystemInfo()
	if i.OS.Family != model.Windows || i.OS.Version != "10.0.22000" || i.OS.Build != "282" || i.Arch != model.AMD64 || i.Threads != 1 || i.Crash.Kind != model.NoCrash ||
		si.CPUInfo() != "family 6 model 140 stepping 1" {
		t.Errorf("info = %+v, cpu %q", i, si.CPUInfo())
	}
	ts, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	x := ts[0].Context.(*ContextAMD64)
	if x.XState == nil || !x.XState.HasCET || x.XState.Mask != 0x800 {
		t.Fatalf("xstate = %+v", x.XState)
	}
	// CET_U: U_CET = 1 (shadow stacks enabled), SSP in the shadow stack.
	if x.XState.UCET != 1 || x.XState.SSP != 0xcbc83fefc8 {
		t.Errorf("U_CET %#x SSP %#x", x.XState.UCET, x.XState.SSP)
	}
	if v, ok := x.Reg("ssp"); !ok || v != 0xcbc83fefc8 {
		t.Errorf("Reg(ssp) = %#x, %v", v, ok)
	}
	if x.Rsp < ts[0].StackStart || x.Rsp >= ts[0].StackStart+ts[0].StackSize {
		t.Errorf("rsp %#x outside the stack [%#x,+%#x)", x.Rsp, ts[0].StackStart, ts[0].StackSize)
	}

	f = openCorpus(t, "breakpad/tiny-exe-with-cet-xsave-x86.dmp")
	i = f.Info()
	si, _ = f.SystemInfo()
	if i.OS.Version != "10.0.22631" || i.Arch != model.X86 || i.Threads != 3 || i.Crash.Kind != model.NoCrash ||
		si.CPUInfo() != "GenuineIntel family 6 model 151 stepping 2" {
		t.Errorf("info = %+v", i)
	}
	ts, err = f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range ts {
		x := th.Context.(*ContextX86)
		// AVX and CET_U are allocated (compacted XCOMP_BV 0x804) but in
		// their initial state (XSTATE_BV 0): zero upper halves and SSP.
		if x.XState == nil || !x.XState.HasAVX || !x.XState.HasCET || x.XState.CompactionMask != 0x8000000000000804 || x.XState.SSP != 0 {
			t.Errorf("thread %#x xstate = %+v", th.ID, x.XState)
		}
		if esp := uint64(x.Esp); esp < th.StackStart || esp >= th.StackStart+th.StackSize {
			t.Errorf("thread %#x esp %#x outside its stack", th.ID, x.Esp)
		}
	}
}

// TestThreadNameList reads breakpad's thread_name_list.dmp. The names are
// those the ThreadNamesStream holds, read independently here from the raw
// stream bytes (no oracle ships with the dump).
func TestThreadNameList(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "breakpad/thread_name_list.dmp")
	ts, err := f.Threads()
	if err != nil {
		t.Fatal(err)
	}
	names, err := f.ThreadNames()
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 6 || len(names) == 0 {
		t.Fatalf("%d threads, %d names", len(ts), len(names))
	}
	got := map[uint64]string{}
	for _, th := range ts {
		got[th.ID] = th.Name
	}
	for _, n := range names {
		if got[uint64(n.ThreadID)] != n.Name {
			t.Errorf("thread %#x named %q, stream says %q", n.ThreadID, got[uint64(n.ThreadID)], n.Name)
		}
	}
	want := map[uint64]string{0x19a4: "main thread", 0x2274: "sleep thread", 0x2ae0: "overflow thread"}
	for id, name := range want {
		if got[id] != name {
			t.Errorf("thread %#x named %q, want %q", id, got[id], name)
		}
	}
	if len(names) != len(want) {
		t.Errorf("%d names, want %d", len(names), len(want))
	}
}

// TestCrashpadAnnotations checks the annotations ORACLE-NOTES lists for
// simple-crashpad.dmp (rust-minidump) and minidump_crashpad_annotation.dmp
// (breakpad).
func TestCrashpadAnnotations(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "rust-minidump/simple-crashpad.dmp")
	ci, err := f.CrashpadInfo()
	if err != nil {
		t.Fatal(err)
	}
	c := check{t, "simple-crashpad"}
	c.eq("report_id", ci.ReportID, "42F9DE72-518A-43DD-97D7-8DDC328D3662")
	c.eq("client_id", ci.ClientID, "6FD2B3B9-9833-4B2F-BBF7-0BCF501BAD7E")
	c.eq("simple", fmt.Sprint(ci.SimpleAnnotations), "[{hello world}]")
	c.eq("modules", len(ci.Modules), 2)
	m := ci.Modules[0]
	c.eq("module_index", m.ModuleIndex, 16)
	c.eq("list", fmt.Sprint(m.ListAnnotations), "[abort() called]")
	c.eq("module simple", len(m.SimpleAnnotations), 0)
	c.eq("module objects", len(m.AnnotationObjects), 0)

	f = openCorpus(t, "breakpad/minidump_crashpad_annotation.dmp")
	ci, err = f.CrashpadInfo()
	if err != nil {
		t.Fatal(err)
	}
	c = check{t, "minidump_crashpad_annotation"}
	c.eq("modules", len(ci.Modules), 2)
	var names []string
	for _, o := range ci.Modules[0].AnnotationObjects {
		names = append(names, o.Name)
		if o.Type == 0 || len(o.Value) == 0 {
			t.Errorf("annotation %q: type %d, %d value bytes", o.Name, o.Type, len(o.Value))
		}
	}
	c.eq("annotation names", strings.Join(names, ","), "exceptionReason,exceptionName,firstexception_bt,firstexception,CounterAnnotation")
	i := f.Info()
	c.eq("os", fmt.Sprint(i.OS.Family, " ", i.OS.Version, " ", i.Arch, " ", i.Threads, " ", i.Modules), "ios 16.2.0 amd64 7 354")
}

// TestLinuxMiniModules compares linux-mini.dmp's modules with
// rust-minidump's linux_json_pretty snapshot (code ids, debug ids, debug
// files) and checks the Breakpad Linux streams decode.
func TestLinuxMiniModules(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(fixture.Corpus(t, "rust-minidump/snapshots/test_minidump_stackwalk__linux_json_pretty.snap"))
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ base, end, codeID, debugFile, debugID string }
	var ws []want
	_, mods, _ := strings.Cut(string(b), `"modules": [`)
	var cur want
	for line := range strings.SplitSeq(mods, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSuffix(v, ","), `"`)
		switch k {
		case `"base_addr"`:
			cur = want{base: v}
		case `"code_id"`:
			cur.codeID = v
		case `"debug_file"`:
			cur.debugFile = v
		case `"debug_id"`:
			cur.debugID = v
		case `"end_addr"`:
			cur.end = v
			ws = append(ws, cur)
		}
		if strings.HasPrefix(k, `"pid"`) || strings.HasPrefix(k, `"sensitive"`) {
			break
		}
	}
	f := openCorpus(t, "rust-minidump/linux-mini.dmp")
	mm, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) == 0 || len(mm) != len(ws) {
		t.Fatalf("%d modules, snapshot has %d", len(mm), len(ws))
	}
	for i, w := range ws {
		m := mm[i]
		got := want{fmt.Sprintf("0x%016x", m.Base), fmt.Sprintf("0x%016x", m.Base+m.Size), m.CodeID, path.Base(m.DebugFile), m.DebugID}
		if got != w {
			t.Errorf("module %d = %+v, snapshot %+v", i, got, w)
		}
		if hex.EncodeToString(m.BuildID) != m.CodeID {
			t.Errorf("module %d build id %x", i, m.BuildID)
		}
	}
	si, _ := f.SystemInfo()
	if si.CSDVersion != "Linux 4.9.60-linuxkit-aufs #1 SMP Mon Nov 6 16:00:12 UTC 2017 x86_64" {
		t.Errorf("csd = %q", si.CSDVersion)
	}
	maps, err := f.LinuxMaps()
	if err != nil || len(maps) == 0 || maps[0].Start != 0x400000 {
		t.Errorf("maps = %v, %v", maps, err)
	}
	auxv, err := f.LinuxAuxv()
	if err != nil || len(auxv) != 304/16 {
		t.Errorf("auxv = %v, %v", auxv, err)
	}
	dso, err := f.LinuxDSODebug()
	if err != nil || int(dso.DSOCount) != len(dso.LinkMaps) || len(dso.LinkMaps) == 0 {
		t.Fatalf("dso = %+v, %v", dso, err)
	}
	found := false
	for _, lm := range dso.LinkMaps {
		found = found || strings.HasSuffix(lm.Name, "libc.so.6")
	}
	if !found {
		t.Errorf("no libc in the link map: %+v", dso.LinkMaps)
	}
	env, err := f.LinuxEnviron()
	if err != nil || len(env) == 0 || !bytes.Contains([]byte(strings.Join(env, "\n")), []byte("PATH=")) {
		t.Errorf("environ = %q, %v", env, err)
	}
}

// TestInvalidParameterAssertion checks rust-minidump's asserted values for
// the Assertion stream of invalid-parameter.dmp.
func TestInvalidParameterAssertion(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "rust-minidump/invalid-parameter.dmp")
	a, err := f.Assertion()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s|%s|%s|%d|%d", a.Expression, a.Function, a.File, a.Line, a.Type)
	if got != `format != nullptr|common_vfprintf|minkernel\crts\ucrt\src\appcrt\stdio\output.cpp|32|1` {
		t.Errorf("assertion = %s", got)
	}
}

// TestMalformedCorpus: the fuzzer-style rust-minidump dumps give a
// FormatError or diagnostics, never a panic.
func TestMalformedCorpus(t *testing.T) {
	t.Parallel()
	f := openCorpus(t, "rust-minidump/invalid-range.dmp")
	if _, err := f.LinuxMaps(); err == nil {
		t.Error("LinuxMaps with a backwards range decoded")
	}
	f = openCorpus(t, "rust-minidump/invalid-record-count.dmp")
	if _, err := f.MozMacosCrashInfo(); err == nil {
		t.Error("MozMacosCrashInfo with a corrupt record count decoded")
	}
}
