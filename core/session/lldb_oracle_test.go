package session

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"testing"

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
	s, err := Open(context.Background(), dmp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Analyze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
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
