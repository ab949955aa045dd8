package analyze

import (
	"testing"

	"github.com/crashbench/crashbench/core/model"
)

func TestSignatureSkipsAndJoins(t *testing.T) {
	t.Parallel()
	r := DefaultRules()
	for _, tc := range []struct {
		name   string
		frames []Frame
		want   string
	}{
		{"plain", []Frame{{Module: "app.exe", Function: "CrashFunction"}, {Module: "app.exe", Function: "main"}}, "CrashFunction"},
		{"abort is irrelevant", []Frame{
			{Module: "libc.so.6", Function: "__pthread_kill_implementation"}, {Module: "libc.so.6", Function: "raise"},
			{Module: "libc.so.6", Function: "abort"}, {Module: "app", Function: "fail_hard"}}, "fail_hard"},
		{"allocator joins the caller", []Frame{{Module: "libc.so.6", Function: "free"}, {Module: "app", Function: "Cache::Drop"}}, "free | Cache::Drop"},
		{"unsymbolised system frames skipped", []Frame{{Module: "ntdll.dll", Offset: 0x1234}, {Module: "app.exe", Offset: 0x99}}, "app.exe@0x99"},
		{"sentinel starts the signature", []Frame{{Module: "a", Function: "helper"}, {Module: "vcruntime140.dll", Function: "_purecall"}, {Module: "app.exe", Function: "Widget::Paint"}}, "_purecall | Widget::Paint"},
		{"nothing relevant", []Frame{{Module: "libc.so.6", Function: "abort"}}, "abort"},
		{"empty", nil, "EMPTY: no frame data available"},
		{"normalised", []Frame{{Module: "m", Function: "  std::map<int,  int>::find(int, int) "}}, "std::map<int,int>::find(int,int)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Signature(tc.frames); got != tc.want {
				t.Errorf("Signature = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFaultingFrameSkipsSystemModules(t *testing.T) {
	t.Parallel()
	r := DefaultRules()
	frames := []Frame{{Module: "KERNELBASE.dll", Function: "RaiseException"}, {Module: "ntdll.dll", Function: "RtlpFreeHeap"}, {Module: "app.exe", Function: "Free"}}
	if got := r.Faulting(frames); got != 2 {
		t.Fatalf("Faulting = %d, want 2", got)
	}
	if got := r.Faulting([]Frame{{Module: "ntdll.dll", Function: "RtlUserThreadStart"}}); got != 0 {
		t.Fatalf("all-system stack: %d", got)
	}
	if r.Faulting(nil) != -1 {
		t.Fatal("no frames")
	}
}

func u(v uint64) *uint64 { return &v }

func TestBucketIDs(t *testing.T) {
	t.Parallel()
	app := &Frame{Module: "test_app.exe", Function: "`anonymous namespace'::CrashFunction"}
	for _, tc := range []struct {
		name  string
		crash *model.Crash
		frame *Frame
		want  string
	}{
		{"null class write", &model.Crash{Kind: model.Exception, Code: 0xc0000005, Address: u(0x45), Parameters: []uint64{1, 0x45}}, app,
			"NULL_CLASS_PTR_WRITE_c0000005_test_app.exe!`anonymous namespace'::CrashFunction"},
		{"null read", &model.Crash{Kind: model.Exception, Code: 0xc0000005, Address: u(0), Parameters: []uint64{0, 0}}, app, "NULL_POINTER_READ_c0000005_test_app.exe!`anonymous namespace'::CrashFunction"},
		{"wild read", &model.Crash{Kind: model.Exception, Code: 0xc0000005, Address: u(0xffffffffffffffff), Parameters: []uint64{0, 0xffffffffffffffff}}, nil, "INVALID_POINTER_READ_c0000005_unknown_module!unknown_function"},
		{"fast fail", &model.Crash{Kind: model.Exception, Code: 0xc0000409, Parameters: []uint64{7}}, &Frame{Module: "tiny.exe"}, "FAIL_FAST_FATAL_APP_EXIT_c0000409_tiny.exe!unknown_function"},
		{"bugcheck", &model.Crash{Kind: model.BugCheck, Code: 0x1000007e}, &Frame{Module: "amdppm.sys", Function: "WriteIoMemRawEx"}, "0x7E_amdppm!WriteIoMemRawEx"},
		{"mach", &model.Crash{Kind: model.Exception, Code: 1, Name: "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS", Address: u(0x45)}, &Frame{Module: "crash"}, "EXC_BAD_ACCESS_NULL_CLASS_PTR_crash!unknown_function"},
		{"signal", &model.Crash{Kind: model.Signal, Code: 11, Name: "SIGSEGV / SEGV_MAPERR", Address: u(0x10)}, &Frame{Module: "crashc", Function: "level3"}, "SIGSEGV_NULL_CLASS_PTR_crashc!level3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := BucketID(tc.crash, tc.frame); got != tc.want {
				t.Errorf("BucketID = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFrameString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f    Frame
		want string
	}{
		{Frame{Module: "test_app.exe", Function: "main", Offset: 0x1f}, "test_app!main+0x1f"},
		{Frame{Module: "libc.so.6", Offset: 0x2a}, "libc.so.6+0x2a"},
		{Frame{PC: 0x1234}, "0x1234"},
		{Frame{Module: "ntoskrnl.exe", Function: "KeBugCheckEx", Offset: 0}, "nt!KeBugCheckEx+0x0"},
		{Frame{Module: "ntkrnlmp.exe", Offset: 0x4de014}, "nt+0x4de014"},
		{Frame{Module: "amdppm.sys", Offset: 0x334c}, "amdppm+0x334c"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestBadRulesAreReported(t *testing.T) {
	t.Parallel()
	if _, err := ParseRules("(", "", "", ""); err == nil {
		t.Fatal("no error for an invalid regexp")
	}
}

// TestGlibcAbortPaths checks signatures of the stacks glibc 2.36 aborts
// through, with the names its DWARF gives (gdb shows the same): the
// assert and heap-check machinery is skipped, the allocator joined.
func TestGlibcAbortPaths(t *testing.T) {
	r := DefaultRules()
	fn := func(names ...string) []Frame {
		var fs []Frame
		for _, n := range names {
			fs = append(fs, Frame{Module: "libc.so.6", Function: n})
		}
		return fs
	}
	assertStack := append(fn("__pthread_kill_implementation", "__GI_raise", "__GI_abort", "__assert_fail_base", "__GI___assert_fail"),
		Frame{Module: "app", Function: "check"}, Frame{Module: "app", Function: "main"})
	if got := r.Signature(assertStack); got != "check" {
		t.Errorf("assert: %q", got)
	}
	freeStack := append(fn("__pthread_kill_implementation", "__GI_raise", "__GI_abort", "__libc_message", "malloc_printerr", "_int_free", "__GI___libc_free"),
		Frame{Module: "app", Function: "release"})
	if got := r.Signature(freeStack); got != "_int_free | __libc_free | release" {
		t.Errorf("double free: %q", got)
	}
}
