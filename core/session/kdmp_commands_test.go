package session

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// execKernel runs console lines on a corpus kernel dump and returns the
// output of each.
func execKernel(t *testing.T, rel string, lines ...string) []string {
	t.Helper()
	s, err := Open(context.Background(), fixture.Corpus(t, rel), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var outs []string
	for _, l := range lines {
		var b bytes.Buffer
		if err := s.Exec(context.Background(), l, console.NewTextOutput(&b)); err != nil {
			b.WriteString("error: " + err.Error())
		}
		outs = append(outs, b.String())
	}
	return outs
}

func wantAll(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: missing %q in\n%s", what, w, got)
		}
	}
}

// TestKernelCommandsTriageX64 checks .trap, !thread, !irql, !vm and
// vertarget on rizin's x64 triage dump. The KTRAP_FRAME at
// 0xffff850429891f90 (on the stack, 0xa8 bytes above the exception record
// BugCheckParameter3 points at) is the one rizin's dbt shows as frame 8:
// pc 0xfffff8048b58334c (amdppm), sp 0xffff850429892120.
func TestKernelCommandsTriageX64(t *testing.T) {
	out := execKernel(t, "rizin/dmp/triage_x64.dmp",
		".trap ffff8504`29891f90", "k 1", ".trap", "!thread", "!irql", "!vm", "vertarget", ".trap ffff8504`29891f00", ".trap 1000")
	wantAll(t, ".trap", out[0], "rip=fffff8048b58334c", "rsp=ffff850429892120", "rbp=fffff8048b58f598", "cs=0010", "ss=0018",
		"amdppm+0x334c", "mov     dword ptr [r9+r8],edx")
	if strings.Contains(out[0], "rbx=") {
		t.Errorf(".trap shows rbx, which a trap frame does not save:\n%s", out[0])
	}
	wantAll(t, "k after .trap", out[1], "00 ffff8504`29892120", "amdppm+0x334c")
	wantAll(t, "!thread", out[3], "THREAD ffffc08b`de9e1640", "Image:         System", "Running",
		"Base ffff8504`29893000", "Current ffff8504`29891fe0", "InitialStack ffff8504`29892c90", "rip=fffff8047bdf5a80", "# Child-SP")
	wantAll(t, "!irql", out[4], "-- 0 (PASSIVE_LEVEL)", "KPRCB fffff804`782d4180")
	wantAll(t, "!vm", out[5], "Physical memory descriptor: not in this dump", "PfnDataBase: fffff804`7c6fc500", "need symbols for nt")
	wantAll(t, "vertarget", out[6], "10.0.19041", "16 processors", "2021", "System Uptime")
	wantAll(t, "bad .trap", out[7], "error: no trap frame can be read", "Rip or Rsp is zero")
	wantAll(t, "unreadable .trap", out[8], "error: no trap frame can be read")
}

// TestKernelCommandsTriageARM64 checks that the ARM64 triage dump serves
// !thread and says plainly what it cannot do.
func TestKernelCommandsTriageARM64(t *testing.T) {
	out := execKernel(t, "rizin/dmp/triage_arm64.dmp", "!thread", "!irql", ".trap ffffe00e`0e4bc4a0", "vertarget")
	wantAll(t, "!thread", out[0], "THREAD ffffbb8e`b1719180", "Image:         System", "Running", "pc=fffff803f32de014")
	wantAll(t, "!irql", out[1], "error:", "only the x64 KSPECIAL_REGISTERS holds CR8")
	wantAll(t, ".trap", out[2], "error:", "no KTRAP_FRAME layout")
	wantAll(t, "vertarget", out[3], "10.0.22000", "arm64, 8 processors")
}

// TestVertargetTriageX64 checks vertarget's kernel lines against rizin's
// header oracle: build 19041, 16 processors, ProductType 1.
func TestVertargetTriageX64(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b bytes.Buffer
	if err := s.Exec(context.Background(), "vertarget", console.NewTextOutput(&b)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10.0.19041", "Product: 1 (VER_NT_WORKSTATION)", "16 processors", "Process: System\n", "System Uptime: 0 days"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("vertarget lacks %q:\n%s", want, b.String())
		}
	}
}

// TestTriageProcess: a triage dump records only the crashing thread's
// process (System on both corpus dumps, whose stacks end in
// KiStartSystemThread); its id is not invented.
func TestTriageProcess(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, _, err := s.AnalysisReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Processes) != 1 || r.Processes[0].Name != "System" || r.Processes[0].PID != nil || r.Processes[0].Address == "" {
		t.Errorf("processes %+v", r.Processes)
	}
}

// TestEnumtag lists the secondary dump data of rizin's x64 triage dump:
// 20 blobs, the first AmdPPM's (its data names the driver), and says
// plainly that a minidump has none.
func TestEnumtag(t *testing.T) {
	out := execKernel(t, "rizin/dmp/triage_x64.dmp", ".enumtag")
	wantAll(t, ".enumtag", out[0], "{54C84888-01D1-4C1E-BED6-282C98241303} - 0x1000 bytes", "AmdPPM", "(0xf00 more bytes)",
		"{67FC721A-2852-4F62-A3B1-2AFC53953777} - 0x44 bytes")
	if n := strings.Count(out[0], "} - 0x"); n != 20 {
		t.Errorf(".enumtag lists %d tags, want 20", n)
	}
	out = execKernel(t, "lldb/windows-sigsegv/sigsegv.dmp", ".enumtag")
	wantAll(t, ".enumtag on a minidump", out[0], "error: ", "no secondary dump data")
}
