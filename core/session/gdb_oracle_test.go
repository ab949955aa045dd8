package session

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

var gdbFrameRE = regexp.MustCompile(`(?m)^#(\d+)  0x([0-9a-f]+) in (\w+) `)

// TestCrashcCoreAgreesWithGDB walks the crashing thread of the
// kernel-written core of crashc (its executable beside it names the
// frames) and compares with gdb's backtrace of Thread 1: level3 <- level2
// <- level1 <- main, pc by pc; and the signal and fault address gdb's
// siginfo shows.
func TestCrashcCoreAgreesWithGDB(t *testing.T) {
	core := fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv")
	raw, err := os.ReadFile(fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv.gdb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	thread1 := strings.SplitN(string(raw), "Thread 1 (", 2)
	if len(thread1) != 2 {
		t.Fatal("no Thread 1 backtrace in the gdb oracle")
	}
	var want [][]string
	for _, m := range gdbFrameRE.FindAllStringSubmatch(thread1[1], -1) {
		if m[1] == "0" && len(want) > 0 {
			break
		}
		want = append(want, m)
	}
	if len(want) < 4 {
		t.Fatalf("parsed %d gdb frames", len(want))
	}
	_, a := analyzed(t, core, Options{})
	if a.Crashed < 0 || a.Threads[a.Crashed].Thread.ID != 15831 {
		t.Fatalf("crashed thread %d", a.Crashed)
	}
	got := a.Threads[a.Crashed].Frames
	for i, w := range want[:4] {
		pc, _ := strconv.ParseUint(w[2], 16, 64)
		if i >= len(got) || got[i].PC != pc || got[i].Analysis.Function != w[3] {
			t.Errorf("frame %d: %+v, want %#x %s", i, got[min(i, len(got)-1)].Analysis, pc, w[3])
		}
	}
	c := a.Info.Crash
	if c == nil || c.Name != "SIGSEGV / SEGV_MAPERR" || c.Address == nil || *c.Address != 0x10 {
		t.Errorf("crash %+v", c)
	}
	if a.Result.Signature != "level3" {
		t.Errorf("signature %q", a.Result.Signature)
	}
}
