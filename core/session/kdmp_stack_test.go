package session

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestTriageX64StackAgreesWithRizin walks the crashing thread of the x64
// triage dump (bug check 0x1000007E in amdppm.sys) with amdppm.sys and
// Wdf01000.sys from rizin's copy of a symbol store, and checks that the
// stack passes through the amdppm.sys frames rizin's `dbt` lists (frames
// 8-13), in order: their return addresses are found and their callers
// unwound with the driver's .pdata.
func TestTriageX64StackAgreesWithRizin(t *testing.T) {
	t.Parallel()
	db, err := os.ReadFile(fixture.Corpus(t, "rizin/oracle-test-db/formats_dmp_dmp"))
	if err != nil {
		t.Fatal(err)
	}
	var want []uint64
	names := map[uint64]string{} // pc -> rizin's "function+offset", offset in decimal
	for _, m := range regexp.MustCompile(`(?m)^\d+\s+0x([0-9a-f]+) sp: 0x[0-9a-f]+\s+\d+\s+\[\?\?\]\s+pdb\.amdppm\.(\S+)`).FindAllStringSubmatch(string(db), -1) {
		pc, _ := strconv.ParseUint(m[1], 16, 64)
		want = append(want, pc)
		names[pc] = m[2]
	}
	if len(want) != 6 {
		t.Fatalf("rizin's dbt lists %d amdppm frames, expected 6", len(want))
	}
	store := fixture.Corpus(t, "rizin-symstore")
	_, a := analyzed(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: "srv*" + store})
	if a.Crashed < 0 {
		t.Fatal("no crashing thread")
	}
	var got []uint64
	for _, f := range a.Threads[a.Crashed].Frames {
		got = append(got, f.PC)
		// amdppm.pdb from the store names the frames as rizin does.
		if w, ok := names[f.PC]; ok {
			if g := fmt.Sprintf("%s+%d", f.Analysis.Function, f.Analysis.Offset); g != w {
				t.Errorf("frame %#x named %s, rizin %s", f.PC, g, w)
			}
		}
	}
	i := 0
	for _, pc := range got {
		if i < len(want) && pc == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Errorf("stack %#x\nlacks rizin's amdppm frames %#x (found the first %d in order)", got, want, i)
	}
}

// TestTriageAnalysis runs !analyze -v on both real triage dumps: the bug
// check is named as rizin's notes name it, every argument is explained,
// and the x64 crash is put on amdppm.sys, where its parameter 2 (the
// faulting address) lies.
func TestTriageAnalysis(t *testing.T) {
	t.Parallel()
	store := fixture.Corpus(t, "rizin-symstore")
	for _, tc := range []struct {
		dump, name, caused string
	}{
		{"rizin/dmp/triage_x64.dmp", "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M", "amdppm.sys"},
		{"rizin/dmp/triage_arm64.dmp", "MANUALLY_INITIATED_POWER_BUTTON_HOLD", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, a := analyzed(t, fixture.Corpus(t, tc.dump), Options{SymPath: "srv*" + store})
			b := a.Bugcheck
			if b == nil || b.Name != tc.name {
				t.Fatalf("bug check %+v, want %s", b, tc.name)
			}
			if len(b.Args) != 4 {
				t.Fatalf("arguments %v", b.Args)
			}
			for _, l := range b.Args {
				if l.Text == "" {
					t.Errorf("argument %d unexplained", l.N)
				}
			}
			if tc.caused != "" && a.Result.ProbablyCausedBy != tc.caused {
				t.Errorf("probably caused by %q (%s), want %s", a.Result.ProbablyCausedBy, a.Result.CausedByReason, tc.caused)
			}
			// The workbench's summary gives the BlueScreenView answer.
			rows := map[string]string{}
			for _, r := range a.SummaryRows() {
				rows[r.Key] = r.Value
			}
			if !strings.HasPrefix(rows["Bug check"], tc.name) || strings.Count(rows["Arguments"], "Arg") != 4 ||
				(tc.caused != "" && !strings.HasPrefix(rows["Probably caused by"], tc.caused+" (")) {
				t.Errorf("summary rows %q", rows)
			}
			var text strings.Builder
			WriteAnalysisText(&text, a, nil)
			for _, want := range []string{tc.name, "Arg1: ", "Arg4: ", "FAILURE_BUCKET_ID:"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("!analyze -v lacks %q:\n%s", want, text.String())
				}
			}
		})
	}
}

// TestTriageARM64StackAgreesWithRizin walks the ARM64 triage dump's
// crashing thread without any image: its frame records alone give the
// five frames rizin's `dbt` lists, pc and sp.
func TestTriageARM64StackAgreesWithRizin(t *testing.T) {
	t.Parallel()
	db, err := os.ReadFile(fixture.Corpus(t, "rizin/oracle-test-db/formats_dmp_dmp"))
	if err != nil {
		t.Fatal(err)
	}
	arm := string(db)[strings.Index(string(db), "NAME=: Triage Dump Debug arm64"):]
	arm = arm[:strings.Index(arm, "\nRUN")] // this case only
	rows := regexp.MustCompile(`(?m)^\d+\s+0x([0-9a-f]+) sp: 0x([0-9a-f]+)\s+\d+\s+\[\?\?\]\s+pdb\.ntkrnlmp\.`).FindAllStringSubmatch(arm, -1)
	if len(rows) != 5 {
		t.Fatalf("rizin's arm64 dbt has %d frames, expected 5", len(rows))
	}
	_, a := analyzed(t, fixture.Corpus(t, "rizin/dmp/triage_arm64.dmp"), Options{})
	frames := a.Threads[a.Crashed].Frames
	for i, r := range rows {
		pc, _ := strconv.ParseUint(r[1], 16, 64)
		sp, _ := strconv.ParseUint(r[2], 16, 64)
		if i >= len(frames) || frames[i].PC != pc || frames[i].SP != sp {
			t.Errorf("frame %d: %+v, rizin pc %#x sp %#x", i, frames[min(i, len(frames)-1)].Frame, pc, sp)
		}
	}
}

// TestTriageX64StackFromSymbolServer serves rizin's symbol store over HTTP
// (a case-sensitive static server, as mirrors are) and walks the x64
// triage stack with `srv*CACHE*URL`: amdppm.sys is downloaded into the
// cache when unwinding needs it, and its .pdata walks rizin's frames.
func TestTriageX64StackFromSymbolServer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.FileServer(http.Dir(fixture.Corpus(t, "rizin-symstore"))))
	defer srv.Close()
	cache := t.TempDir()
	sympath := "srv*" + cache + "*" + srv.URL
	_, a := analyzed(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: sympath})
	var pcs []uint64
	var names []string
	for _, f := range a.Threads[a.Crashed].Frames {
		pcs = append(pcs, f.PC)
		names = append(names, f.Analysis.Function)
	}
	// amdppm.pdb came from the server too: the frames have rizin's names.
	wantNames := []string{"WriteIoMemRawEx", "WriteGenAddrEx", "WriteGenAddrMaybeHiddenEx", "InitAcpiCpc", "ProcLibDeviceStart", "EvtDevicePrepareHardware"}
	if len(names) < 6 || !slices.Equal(names[:6], wantNames) {
		t.Errorf("names %q, want %q", names, wantNames)
	}
	// With the server gone, the cache answers alone.
	srv.Close()
	_, b := analyzed(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: sympath})
	for i, w := range wantNames {
		if f := b.Threads[b.Crashed].Frames; i >= len(f) || f[i].Analysis.Function != w {
			t.Errorf("offline frame %d: %+v, want %s", i, f[min(i, len(f)-1)].Analysis, w)
		}
	}
	// rizin's frames 8-13 (see TestTriageX64StackAgreesWithRizin), here
	// frames 0-5 from the exception context, all found by unwind data.
	want := []uint64{0xfffff8048b58334c, 0xfffff8048b58313f, 0xfffff8048b583234, 0xfffff8048b5a0e8f, 0xfffff8048b5a83f6, 0xfffff8048b59f852}
	for i, w := range want {
		if i >= len(pcs) || pcs[i] != w || (i > 0 && a.Threads[a.Crashed].Frames[i].Trust.String() != "cfi") {
			t.Fatalf("frames %#x, want %#x first, by unwind data", pcs, want)
		}
	}
	if _, err := os.Stat(filepath.Join(cache, "amdppm.sys")); err != nil {
		t.Errorf("amdppm.sys not in the cache: %v", err)
	}
}

// TestTriageX64DeadSymbolServer: a server that refuses connections leaves
// the frames as module+offset, and the session still analyses the dump.
func TestTriageX64DeadSymbolServer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // the port now refuses connections
	_, a := analyzed(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: "srv*" + t.TempDir() + "*" + url})
	f := a.Threads[a.Crashed].Frames[0]
	if f.Analysis.Function != "" || f.Analysis.String() != "amdppm+0x334c" {
		t.Errorf("frame 0 %q", f.Analysis.String())
	}
	if a.Result.ProbablyCausedBy != "amdppm.sys" {
		t.Errorf("probably caused by %q", a.Result.ProbablyCausedBy)
	}
}

// TestScanSkipsPEHeaders: without symbols, stack scanning on the x64
// triage dump takes no module's base (or any address in its headers) for
// a return address: the kernel's stack holds nt's ImageBase several times,
// which showed as frames "nt+0x0".
func TestScanSkipsPEHeaders(t *testing.T) {
	t.Parallel()
	out := execKernel(t, "rizin/dmp/triage_x64.dmp", "k")[0]
	frames := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.Contains(f[3], "+0x") {
			continue
		}
		frames++
		off, err := strconv.ParseUint(f[3][strings.Index(f[3], "+0x")+3:], 16, 64)
		if err == nil && off < peMinHeaders {
			t.Errorf("frame in a module's headers: %s", line)
		}
	}
	if frames < 10 {
		t.Errorf("only %d frames:\n%s", frames, out)
	}
}
