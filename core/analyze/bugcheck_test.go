package analyze

import (
	"strings"
	"testing"

	"github.com/crashbench/crashbench/assets/bugcheck"
	"github.com/crashbench/crashbench/core/model"
)

// Drivers of rizin/dmp/triage_x64.dmp (bases and sizes from the dump's
// driver list, see corpus/rizin-symstore/ORACLE-NOTES.md), with a
// third-party driver that the crash does not involve.
var triageModules = []model.Module{
	{Base: 0xfffff8047ba00000, Size: 0x1046000, Path: `\SystemRoot\system32\ntoskrnl.exe`},
	{Base: 0xfffff80479950000, Size: 0xd1000, Path: `\SystemRoot\system32\drivers\Wdf01000.sys`},
	{Base: 0xfffff8048b580000, Size: 0x3b000, Path: `\SystemRoot\System32\drivers\amdppm.sys`},
	{Base: 0xfffff8048c000000, Size: 0x80000, Path: `\SystemRoot\system32\DRIVERS\VBoxDrv.sys`},
}

// triageInfo is the header of triage_x64.dmp: SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M
// with an access violation at amdppm!WriteIoMemRawEx+0x70.
func triageInfo() model.Info {
	return model.Info{
		Format: model.WindowsKernel, Variant: "triage", Arch: model.AMD64,
		Crash: &model.Crash{Kind: model.BugCheck, Code: 0x1000007E, Name: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
			Parameters: []uint64{0xffffffffc0000005, 0xfffff8048b58334c, 0xffff850429891ee8, 0xffff850429891720}},
	}
}

// triageFrames is the crashing thread as rizin's oracle walks it: the
// kernel's bug-check and exception dispatch, amdppm from frame 8, then KMDF.
func triageFrames() []Frame {
	var fs []Frame
	for _, fn := range []string{"KeBugCheckEx", "PspSystemThreadStartup$filt$0", "_C_specific_handler", "PspSystemThreadStartup$fin$0",
		"_C_specific_handler", "RtlpExecuteHandlerForException", "RtlDispatchException", "KiDispatchException"} {
		fs = append(fs, Frame{Module: "nt", Function: fn})
	}
	fs = append(fs,
		Frame{Module: "amdppm", Function: "WriteIoMemRawEx", Offset: 0x70, PC: 0xfffff8048b58334c},
		Frame{Module: "amdppm", Function: "WriteGenAddrEx", Offset: 0x6b, PC: 0xfffff8048b58313f},
		Frame{PC: 0xfffff8048b583234}, // unsymbolised: found by address
		Frame{PC: 0xfffff80479951234},
		Frame{Module: "Wdf01000", Offset: 0x2000, PC: 0xfffff80479952000},
	)
	return fs
}

func TestBugcheckReportTriage(t *testing.T) {
	t.Parallel()
	want := []string{
		"Arg1: ffffffffc0000005, The exception code that wasn't handled (EXCEPTION_ACCESS_VIOLATION)",
		"Arg2: fffff8048b58334c, The address where the exception occurred",
		"Arg3: ffff850429891ee8, The address of the exception record",
		"Arg4: ffff850429891720, The address of the context record",
	}
	for _, tc := range []struct {
		name           string
		frames         []Frame
		reason, bucket string
	}{
		// Without a stack (the lead wires frames later) the faulting
		// address in parameter 2 names the driver.
		{"parameters", nil, "parameter 2 0xfffff8048b58334c is inside amdppm.sys", "0x7E_amdppm!unknown_function"},
		{"stack", triageFrames(), "return address on the stack at frame 8", "0x7E_amdppm!WriteIoMemRawEx"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewBugcheckReport(triageInfo(), triageModules, tc.frames)
			if r == nil {
				t.Fatal("no report for a bug check")
			}
			if r.Code != 0x1000007E || r.Name != "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" ||
				r.Description != "A system thread generated an exception that the error handler didn't catch." {
				t.Errorf("code %#x name %q description %q", r.Code, r.Name, r.Description)
			}
			var got []string
			for _, a := range r.Args {
				got = append(got, a.String())
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("args:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// amdppm.sys ships with Windows, but it is the only driver
			// implicated outside the kernel, so it is named.
			if r.CausedBy != "amdppm.sys" {
				t.Errorf("caused by %q (%s), want amdppm.sys", r.CausedBy, r.Reason)
			}
			wantReason := tc.reason + "; every implicated driver ships with Windows, so the first outside the kernel is named"
			if r.Reason != wantReason {
				t.Errorf("reason %q, want %q", r.Reason, wantReason)
			}
			if r.BucketID != tc.bucket {
				t.Errorf("bucket %q, want %q", r.BucketID, tc.bucket)
			}
		})
	}
}

func TestCausedByOrder(t *testing.T) {
	t.Parallel()
	mods := append([]model.Module{
		{Base: 0xfffff80500000000, Size: 0x10000, Path: `\SystemRoot\system32\drivers\thirdparty.sys`},
		{Base: 0xfffff80600000000, Size: 0x10000, Path: `\SystemRoot\system32\drivers\gone.sys`, Unloaded: true},
	}, triageModules...)
	crash := func(params ...uint64) *model.Crash {
		return &model.Crash{Kind: model.BugCheck, Code: 0xD1, Parameters: params}
	}
	const msNote = "; every implicated driver ships with Windows, so the first outside the kernel is named"
	for _, tc := range []struct {
		name           string
		crash          *model.Crash
		frames         []Frame
		broken         string
		driver, reason string
	}{
		{"third-party frame beats Microsoft frames", crash(0, 2, 0, 0),
			[]Frame{{Module: "nt"}, {Module: "Wdf01000.sys"}, {Module: "thirdparty"}}, "",
			"thirdparty.sys", "return address on the stack at frame 2"},
		{"third-party frame 0", crash(), []Frame{{PC: 0xfffff80500001000}}, "",
			"thirdparty.sys", "instruction pointer at frame 0"},
		{"third-party parameter beats Microsoft frames", crash(0, 2, 0, 0xfffff80500000010),
			[]Frame{{Module: "nt"}, {Module: "amdppm"}}, "",
			"thirdparty.sys", "parameter 4 0xfffff80500000010 is inside thirdparty.sys"},
		{"unloaded driver", crash(0xfffff80600000100, 2, 0, 0), nil, "",
			"gone.sys", "parameter 1 0xfffff80600000100 is inside gone.sys (unloaded)"},
		{"broken driver recorded by the dump", crash(0, 2, 0, 0xfffff8047ba01000), []Frame{{Module: "nt"}}, "nvlddmkm.sys",
			"nvlddmkm.sys", "the dump names nvlddmkm.sys as the broken driver"},
		{"Microsoft driver outside the kernel", crash(0, 2, 0, 0xfffff80479950010), []Frame{{Module: "nt"}}, "",
			"Wdf01000.sys", "parameter 4 0xfffff80479950010 is inside Wdf01000.sys" + msNote},
		{"kernel only", crash(0xfffff8047ba01000, 2, 0, 0), []Frame{{Module: "nt", Function: "KeBugCheckEx"}}, "",
			"ntoskrnl.exe", "instruction pointer at frame 0; only the kernel is implicated"},
		{"kernel by address", crash(0xfffff8047ba01000, 2, 0, 0), nil, "",
			"ntoskrnl.exe", "parameter 1 0xfffff8047ba01000 is inside ntoskrnl.exe; only the kernel is implicated"},
		{"nothing", crash(0, 2, 0, 0), []Frame{{PC: 0x1234}}, "", "", ""},
		{"no crash", nil, nil, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, r := CausedBy(tc.crash, mods, tc.frames, tc.broken)
			if d != tc.driver || r != tc.reason {
				t.Errorf("CausedBy = %q, %q; want %q, %q", d, r, tc.driver, tc.reason)
			}
		})
	}
	// Without a module list, frame names are all there is.
	if d, _ := CausedBy(crash(), nil, []Frame{{Module: "nt"}, {Module: "mydrv"}}, ""); d != "mydrv" {
		t.Errorf("CausedBy without modules = %q, want mydrv", d)
	}
	if d, _ := CausedBy(crash(), nil, []Frame{{Module: "nt", Function: "KeBugCheckEx"}}, ""); d != "nt" {
		t.Errorf("CausedBy without modules = %q, want nt", d)
	}
}

func TestNewBugcheckReportSources(t *testing.T) {
	t.Parallel()
	if r := NewBugcheckReport(model.Info{Crash: &model.Crash{Kind: model.Exception, Code: 0xc0000005}}, nil, nil); r != nil {
		t.Errorf("report for an exception: %+v", r)
	}
	if r := NewBugcheckReport(model.Info{}, nil, nil); r != nil {
		t.Errorf("report without a crash: %+v", r)
	}
	// The broken driver comes from the header details; the name from the
	// code table when the reader left it empty.
	info := model.Info{Arch: model.X86,
		Crash:   &model.Crash{Kind: model.BugCheck, Code: 0xD1, Parameters: []uint64{0x10, 2, 0, 0x8a001234}},
		Details: []model.Detail{{Key: "Dump type", Value: "triage"}, {Key: BrokenDriverDetail, Value: " mydrv.sys "}},
	}
	r := NewBugcheckReport(info, nil, nil)
	if r.Name != "DRIVER_IRQL_NOT_LESS_OR_EQUAL" || r.CausedBy != "mydrv.sys" || r.BucketID != "0xD1_mydrv!unknown_function" {
		t.Errorf("report %+v", r)
	}
	if got := r.Args[1].String(); got != "Arg2: 00000002, IRQL at time of reference (DISPATCH_LEVEL)" {
		t.Errorf("x86 arg 2 = %q", got)
	}
	// Nothing names a driver: the bucket says so.
	info.Details = nil
	if r := NewBugcheckReport(info, nil, nil); r.CausedBy != "" || r.BucketID != "0xD1_unknown_module!unknown_function" {
		t.Errorf("report %+v", r)
	}
}

func TestBugcheckArgs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		code   uint32
		params []uint64
		arch   model.Arch
		want   []string
	}{
		{"0x50 access type", 0x50, []uint64{0xffffd00012345678, 2, 0xfffff80312345678, 2}, model.AMD64, []string{
			"Arg1: ffffd00012345678, Memory address referenced",
			"Arg2: 0000000000000002, The type of access: Write operation",
			"Arg3: fffff80312345678, Address that referenced memory (if known)",
			"Arg4: 0000000000000002, Type of page fault: NONPAGED_BUGCHECK_NOT_PRESENT_PAGE_TABLE: the address referenced does not have a valid active page table entry",
		}},
		{"0xA bit field and IRQL", 0xA, []uint64{0x10, 2, 1, 0xfffff80312345678}, model.AMD64, []string{
			"Arg1: 0000000000000010, The virtual memory address that couldn't be accessed",
			"Arg2: 0000000000000002, IRQL at time of the fault (DISPATCH_LEVEL)",
			"Arg3: 0000000000000001, Bit field that describes the operation that caused the fault (bit 0 write, bit 3 execute): Fault trying to WRITE to the address in parameter 1",
			"Arg4: fffff80312345678, The instruction pointer at the time of the fault",
		}},
		{"x86 IRQL names", 0xA, []uint64{0, 28, 8, 0}, model.X86, []string{
			"Arg1: 00000000, The virtual memory address that couldn't be accessed",
			"Arg2: 0000001c, IRQL at time of the fault (CLOCK_LEVEL)",
			"Arg3: 00000008, Bit field that describes the operation that caused the fault (bit 0 write, bit 3 execute): Fault trying to EXECUTE code from the address in parameter 1",
			"Arg4: 00000000, The instruction pointer at the time of the fault",
		}},
		{"device IRQL has no name", 0xD1, []uint64{0, 7}, model.AMD64, []string{
			"Arg1: 0000000000000000, Memory referenced",
			"Arg2: 0000000000000007, IRQL at time of reference",
		}},
		{"selector", 0x9F, []uint64{3, 0xffffa0001000, 0xfffff80300002000, 0xffffa0003000}, model.AMD64, []string{
			"Arg1: 0000000000000003, A device object has been blocking an IRP for too long a time",
			"Arg2: 0000ffffa0001000, The physical device object (PDO) of the stack",
			"Arg3: fffff80300002000, nt!_TRIAGE_9F_POWER",
			"Arg4: 0000ffffa0003000, The blocked IRP",
		}},
		{"status", 0x7A, []uint64{4, 0xffffffffc000009c, 0xffffa0001000, 0xfffff80300002000}, model.AMD64, []string{
			"Arg1: 0000000000000004, The address of the page table entry (PTE), or the lock type that was held (1-4): Lock type 4 was held",
			"Arg2: ffffffffc000009c, The error status (usually an I/O status code) (STATUS_DEVICE_DATA_ERROR)",
			"Arg3: 0000ffffa0001000, The address of the InPageSupport structure",
			"Arg4: fffff80300002000, The faulting address",
		}},
		{"not a status", 0x7E, []uint64{0x12345678c0000005}, model.AMD64, []string{
			"Arg1: 12345678c0000005, The exception code that wasn't handled",
		}},
		{"power button", 0x1C8, []uint64{10000, 0xffffa0001000, 0, 0}, model.ARM64, []string{
			"Arg1: 0000000000002710, Time in milliseconds the power button was held down",
			"Arg2: 0000ffffa0001000, Pointer to nt!_POP_POWER_BUTTON_TRIAGE_BLOCK",
			"Arg3: 0000000000000000, Reserved",
			"Arg4: 0000000000000000, Reserved",
		}},
		{"unknown code", 0x5454414D, []uint64{1, 2}, model.AMD64, []string{
			"Arg1: 0000000000000001",
			"Arg2: 0000000000000002",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, a := range BugcheckArgs(tc.code, tc.params, tc.arch) {
				got = append(got, a.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestBugcheckBuckets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		crash *model.Crash
		frame *Frame
		want  string
	}{
		{&model.Crash{Kind: model.BugCheck, Code: 0x1A, Parameters: []uint64{0x41790, 1, 2, 3}}, &Frame{Module: "ntoskrnl.exe", Function: "MiDeleteVirtualAddresses"},
			"0x1A_41790_nt!MiDeleteVirtualAddresses"},
		{&model.Crash{Kind: model.BugCheck, Code: 0x1000007F, Parameters: []uint64{8, 0, 0, 0}}, nil, "0x7F_8_unknown_module!unknown_function"},
		{&model.Crash{Kind: model.BugCheck, Code: 0x139, Parameters: []uint64{3, 0, 0, 0}}, &Frame{Module: "mydrv.sys"}, "0x139_3_mydrv!unknown_function"},
		{&model.Crash{Kind: model.BugCheck, Code: 0xD1, Parameters: []uint64{0, 2, 0, 0}}, &Frame{Module: "mydrv.sys", Function: "Dispatch"}, "0xD1_mydrv!Dispatch"},
		{&model.Crash{Kind: model.BugCheck, Code: 0x1A}, nil, "0x1A_unknown_module!unknown_function"}, // no parameters recorded
		{&model.Crash{Kind: model.BugCheck, Code: 0xE2}, &Frame{Module: "ntkrnlmp.exe", Function: "KeBugCheckEx"}, "0xE2_nt!KeBugCheckEx"},
		{&model.Crash{Kind: model.BugCheck, Code: 0xE2}, &Frame{Module: "hal.dll", Function: "HalpX"}, "0xE2_hal!HalpX"},
	} {
		if got := BucketID(tc.crash, tc.frame); got != tc.want {
			t.Errorf("BucketID(%#x %x) = %q, want %q", tc.crash.Code, tc.crash.Parameters, got, tc.want)
		}
	}
}

func TestMicrosoftDrivers(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"ntoskrnl.exe": true, "NTOSKRNL.EXE": true, "nt": true, "hal.dll": true, "Wdf01000.sys": true, "wdf01000": true,
		"amdppm.sys": true, "amdppm": true, "intelppm.sys": true, "ntfs.sys": true, "tcpip.sys": true,
		"VBoxDrv.sys": false, "nvlddmkm.sys": false, "rt640x64.sys": false, "mydrv.sys": false, "": false,
	} {
		if got := IsMicrosoftDriver(name); got != want {
			t.Errorf("IsMicrosoftDriver(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{"ntoskrnl.exe": true, "ntkrnlmp": true, "nt": true, "hal.dll": true, "amdppm.sys": false, "ci.dll": false} {
		if got := isKernelImage(name); got != want {
			t.Errorf("isKernelImage(%q) = %v, want %v", name, got, want)
		}
	}
	// The list is data: one lower-case file name a line, listed once.
	seen := map[string]bool{}
	for line := range strings.Lines(bugcheck.MicrosoftDrivers) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) > 2 || (len(f) == 2 && f[1] != "kernel") || f[0] != strings.ToLower(f[0]) {
			t.Errorf("bad line %q", strings.TrimSpace(line))
		}
		if seen[f[0]] {
			t.Errorf("%s listed twice", f[0])
		}
		seen[f[0]] = true
	}
	if len(seen) < 200 {
		t.Errorf("only %d drivers listed", len(seen))
	}
}
