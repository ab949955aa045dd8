package session

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/unwind"
)

var (
	requestingRE = regexp.MustCompile(`(?m)^    requesting_thread: (-?\d+),`)
	crashAddrRE  = regexp.MustCompile(`(?m)^    crash_address: (\d+),`)
	reasonRE     = regexp.MustCompile(`(?m)^    crash_reason: "(.*)",`)
	threadIDRE   = regexp.MustCompile(`(?m)^            thread_id: (\d+),`)
	frameRE      = regexp.MustCompile(`(?s)StackFrame \{\s+return_address: (\d+),\s+instruction: \d+,\s+trust: (\w+),`)
)

var breakpadTrust = map[string]string{"Context": "context", "CFI": "cfi", "FP": "frame-pointer", "Scan": "scan", "CFIScan": "scan", "Prewalked": "prewalked"}

// TestAgreesWithSymbolicSnapshots compares analyses with symbolic's debug
// prints of Breakpad's ProcessState: crash address and reason, requesting
// thread, thread ids, and each thread's frames up to the first found by
// scanning (return address and trust).
func TestAgreesWithSymbolicSnapshots(t *testing.T) {
	dir := fixture.CorpusDir(t)
	for _, tc := range []struct{ snap, dump, symbols string }{
		{"test_processor__process_state_windows.snap", "symbolic/windows/mini.dmp", ""},
		{"test_processor__process_state_linux.snap", "symbolic/linux/mini.dmp", ""},
		{"test_processor__process_state_macos.snap", "symbolic/macos/mini.dmp", ""},
	} {
		t.Run(tc.snap, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "symbolic/snapshots", tc.snap))
			if err != nil {
				t.Fatal(err)
			}
			text := string(raw)
			_, a := analyzed(t, filepath.Join(dir, tc.dump), Options{})
			req, _ := strconv.Atoi(requestingRE.FindStringSubmatch(text)[1])
			if a.Crashed != req {
				t.Errorf("crashing thread %d, want %d", a.Crashed, req)
			}
			addr, _ := strconv.ParseUint(crashAddrRE.FindStringSubmatch(text)[1], 10, 64)
			if c := a.Info.Crash; c == nil || c.Address == nil || *c.Address != addr {
				t.Errorf("crash address %v, want %#x", a.Info.Crash, addr)
			}
			// Old Breakpad appended the raw flags ("SIGSEGV /0x00000000").
			reason := strings.TrimSuffix(reasonRE.FindStringSubmatch(text)[1], " /0x00000000")
			if a.Info.Crash.Name != reason {
				t.Errorf("crash reason %q, want %q", a.Info.Crash.Name, reason)
			}
			// Split the print into threads and compare each one.
			compared := 0
			defer func() {
				if compared == 0 {
					t.Errorf("no frames compared: has the snapshot format changed?")
				}
			}()
			chunks := strings.Split(text, "CallStack {")[1:]
			if len(chunks) != len(a.Threads) {
				t.Fatalf("%d threads, want %d", len(a.Threads), len(chunks))
			}
			for i, chunk := range chunks {
				id, _ := strconv.ParseUint(threadIDRE.FindStringSubmatch("            " + strings.TrimLeft(chunk, "\n "))[1], 10, 64)
				if a.Threads[i].Thread.ID != id {
					t.Errorf("thread %d id %d, want %d", i, a.Threads[i].Thread.ID, id)
				}
				got := a.Threads[i].Frames
				for j, m := range frameRE.FindAllStringSubmatch(chunk, -1) {
					if breakpadTrust[m[2]] == "scan" {
						break
					}
					if j >= len(got) || got[j].Trust == unwind.Scan {
						t.Errorf("thread %d: frame %d missing or scanned", i, j)
						break
					}
					ret, _ := strconv.ParseUint(m[1], 10, 64)
					compared++
					if got[j].PC != ret || got[j].Trust.String() != breakpadTrust[m[2]] {
						t.Errorf("thread %d frame %d: %#x %s, want %#x %s", i, j, got[j].PC, got[j].Trust, ret, breakpadTrust[m[2]])
					}
				}
			}
		})
	}
}
