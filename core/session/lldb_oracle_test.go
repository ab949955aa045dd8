package session

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

var lldbFrameRE = regexp.MustCompile("frame #(\\d+): 0x([0-9a-f]+) wcrash\\.exe`(\\w+)")

// TestWineMinidumpAgreesWithLLDB walks the crashing thread of the
// Wine-written minidump with wcrash.exe found beside the dump (its DWARF
// names the frames, its .pdata unwinds them) and compares with lldb's
// backtrace: level3 <- level2 <- level1 <- main <- __tmainCRTStartup <-
// mainCRTStartup, pc by pc.
func TestWineMinidumpAgreesWithLLDB(t *testing.T) {
	dmp := fixture.Corpus(t, "generated/windows-minidump/wine-MiniDumpNormal-exception.dmp")
	raw, err := os.ReadFile(fixture.Corpus(t, "generated/windows-minidump/wine-MiniDumpNormal-exception.lldb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	// The first run of wcrash.exe frames is thread #1's backtrace.
	var want [][]string
	for _, m := range lldbFrameRE.FindAllStringSubmatch(string(raw), -1) {
		if m[1] == "0" && len(want) > 0 {
			break
		}
		want = append(want, m)
	}
	if len(want) < 6 {
		t.Fatalf("parsed %d lldb frames", len(want))
	}
	_, a := analyzed(t, dmp, Options{})
	got := a.Threads[a.Crashed].Frames
	for i, w := range want {
		pc, _ := strconv.ParseUint(w[2], 16, 64)
		if i >= len(got) {
			t.Fatalf("only %d frames, lldb shows %d", len(got), len(want))
		}
		if got[i].PC != pc || got[i].Analysis.Function != w[3] {
			t.Errorf("frame %d: %#x %s, want %#x %s", i, got[i].PC, got[i].Analysis.Function, pc, w[3])
		}
	}
	if a.Result.Signature != "level3" || a.Result.BucketID != "NULL_CLASS_PTR_WRITE_c0000005_wcrash.exe!level3" {
		t.Errorf("signature %q bucket %q", a.Result.Signature, a.Result.BucketID)
	}
}

// TestLinuxMinidumpAgreesWithLLDB checks lldb's TestMiniDumpNew values for
// linux-x86_64.dmp with its executable beside it: pid 29917, one thread,
// SIGSEGV, and exactly two frames, crash() then _start, frame 0 at the
// context's pc.
func TestLinuxMinidumpAgreesWithLLDB(t *testing.T) {
	dmp := fixture.Corpus(t, "lldb/minidump-new/linux-x86_64.dmp")
	_, a := analyzed(t, dmp, Options{})
	info := a.Info
	if info.Process == nil || info.Process.PID != 29917 || len(a.Threads) != 1 || info.Crash == nil || info.Crash.Code != 11 {
		t.Fatalf("process %+v threads %d crash %+v", info.Process, len(a.Threads), info.Crash)
	}
	fs := a.Threads[a.Crashed].Frames
	if len(fs) != 2 || !strings.Contains(fs[0].Analysis.Function, "crash") || fs[1].Analysis.Function != "_start" {
		for _, f := range fs {
			t.Logf("frame %d %s", f.Index, f.Analysis.String())
		}
		t.Fatalf("%d frames, want crash() then _start", len(fs))
	}
	if fs[0].PC != a.Threads[a.Crashed].Context.PC() {
		t.Errorf("frame 0 pc %#x, context pc %#x", fs[0].PC, a.Threads[a.Crashed].Context.PC())
	}
}

// TestSigsegvAgreesWithLLDB checks lldb's sigsegv.test: the access
// violation at 0x7ff7a13110d9 in sigsegv.exe, and the disassembly there:
// mov, lea, call, add, ret, int3 at 0x…d9/e4/eb/f0/f4/f5.
func TestSigsegvAgreesWithLLDB(t *testing.T) {
	dmp := fixture.Corpus(t, "lldb/windows-sigsegv/sigsegv.dmp")
	s, err := Open(context.Background(), dmp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.Target().Info().Crash
	if c == nil || c.Code != 0xc0000005 || c.PC == nil || *c.PC != 0x7ff7a13110d9 {
		t.Fatalf("crash %+v", c)
	}
	var b strings.Builder
	if err := s.Exec(context.Background(), ".ecxr; u @rip L6", console.NewTextOutput(&b)); err != nil {
		t.Fatal(err)
	}
	want := []struct{ addr, mnemonic string }{
		{"00007ff7`a13110d9", "mov"}, {"00007ff7`a13110e4", "lea"}, {"00007ff7`a13110eb", "call"},
		{"00007ff7`a13110f0", "add"}, {"00007ff7`a13110f4", "ret"}, {"00007ff7`a13110f5", "int3"},
	}
	text := b.String()
	for _, w := range want {
		re := regexp.MustCompile("(?m)^" + w.addr + ` [0-9a-f]+ +` + w.mnemonic + `\b`)
		if !re.MatchString(text) {
			t.Errorf("no %s at %s in:\n%s", w.mnemonic, w.addr, text)
		}
	}
}
