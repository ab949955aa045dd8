package session

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

var (
	conThreadRE = regexp.MustCompile(`(?m)^Thread (\d+) \((?:Thread 0x[0-9a-f]+ )?\(?LWP (\d+)\)?\):$`)
	conFrameRE  = regexp.MustCompile(`(?m)^#(\d+)  0x([0-9a-f]+) in (\S+) `)
	conRegRE    = regexp.MustCompile(`(?m)^(rip|eflags|rsp|rax) +(0x[0-9a-f]+) +(.*)$`)
)

// conGDBThreads splits "thread apply all bt" output into threads: the gdb
// number and LWP of each header, then its frames' "pc function".
func conGDBThreads(text string) []string {
	var out []string
	for _, block := range strings.Split(text, "\nThread ")[1:] {
		m := conThreadRE.FindStringSubmatch("Thread " + strings.SplitN(block, "\n", 2)[0])
		if m == nil {
			continue
		}
		s := m[1] + " " + m[2] + ":"
		for _, f := range conFrameRE.FindAllStringSubmatch(block, 4) {
			s += " " + f[2] + " " + f[3]
		}
		out = append(out, s)
	}
	return out
}

// TestConsoleGDBAliasesOnCrashc runs the console's gdb commands on the
// kernel-written core of crashc and compares them with what gdb printed
// for it: thread apply all bt (thread order, LWPs, the four innermost
// frames' pcs and functions) and info registers (rip with its symbol,
// eflags decoded, rsp and rax).
func TestConsoleGDBAliasesOnCrashc(t *testing.T) {
	core := fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv")
	raw, err := os.ReadFile(fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv.gdb.txt"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), core, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b bytes.Buffer
	if err := s.Exec(context.Background(), "thread apply all bt; info registers", console.NewTextOutput(&b)); err != nil {
		t.Fatal(err)
	}
	want, got := conGDBThreads(string(raw)), conGDBThreads(b.String())
	if len(want) != 4 || len(got) != len(want) {
		t.Fatalf("threads: got %q, gdb %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("thread apply all bt:\n got %s\n gdb %s", got[i], want[i])
		}
	}
	wantRegs := conRegRE.FindAllString(string(raw), -1)
	gotRegs := conRegRE.FindAllString(b.String(), -1)
	if len(wantRegs) != 4 || strings.Join(gotRegs, "\n") != strings.Join(wantRegs, "\n") {
		t.Errorf("info registers:\n%s\ngdb:\n%s", strings.Join(gotRegs, "\n"), strings.Join(wantRegs, "\n"))
	}
}
