package session

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/unwind"
)

// rustSnapshot is the part of minidump-stackwalk --json output the tests
// compare.
type rustSnapshot struct {
	CrashInfo struct {
		Address        *string `json:"address"`
		CrashingThread *int    `json:"crashing_thread"`
	} `json:"crash_info"`
	ThreadCount int `json:"thread_count"`
	Modules     []struct {
		BaseAddr string `json:"base_addr"`
		Filename string `json:"filename"`
		DebugID  string `json:"debug_id"`
		CodeID   string `json:"code_id"`
	} `json:"modules"`
	CrashingThread struct {
		Frames []struct {
			Module       *string `json:"module"`
			ModuleOffset *string `json:"module_offset"`
			Function     *string `json:"function"`
			Trust        string  `json:"trust"`
		} `json:"frames"`
	} `json:"crashing_thread"`
}

func hexval(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64)
	if err != nil {
		t.Fatalf("bad hex %q", s)
	}
	return v
}

var rustTrust = map[string]string{"context": "context", "cfi": "cfi", "frame_pointer": "frame-pointer", "scan": "scan", "cfi_scan": "scan"}

// TestAgreesWithRustMinidumpSnapshots compares analyses with rust-minidump's
// minidump-stackwalk JSON snapshots: crash address, crashing thread, thread
// count, every module (base, file name, debug and code ids) and the top
// frames — every frame up to the first that either tool found by scanning
// (scanning heuristics legitimately differ) — by module, module offset,
// function and trust.
func TestAgreesWithRustMinidumpSnapshots(t *testing.T) {
	dir := fixture.CorpusDir(t)
	for _, tc := range []struct{ snap, dump, symbols string }{
		{"test_minidump_stackwalk__json-pretty.snap", "rust-minidump/test.dmp", ""},
		{"test_minidump_stackwalk__json-pretty-symbols.snap", "rust-minidump/test.dmp", "breakpad/symbols"},
		{"test_minidump_stackwalk__linux_json_pretty.snap", "rust-minidump/linux-mini.dmp", ""},
		{"test_minidump_stackwalk__macos_inlines_json_pretty.snap", "rust-minidump/pipeline-inlines-macos-segv.dmp", "rust-minidump/symbols"},
	} {
		t.Run(tc.snap, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "rust-minidump/snapshots", tc.snap))
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.SplitN(string(raw), "---\n", 3)
			var want rustSnapshot
			if err := json.Unmarshal([]byte(parts[2]), &want); err != nil {
				t.Fatal(err)
			}
			sym := ""
			if tc.symbols != "" {
				sym = filepath.Join(dir, tc.symbols)
			}
			s, a := analyzed(t, filepath.Join(dir, tc.dump), Options{SymPath: sym})
			if len(a.Threads) != want.ThreadCount {
				t.Errorf("threads %d, want %d", len(a.Threads), want.ThreadCount)
			}
			if want.CrashInfo.CrashingThread != nil && a.Crashed != *want.CrashInfo.CrashingThread {
				t.Errorf("crashing thread %d, want %d", a.Crashed, *want.CrashInfo.CrashingThread)
			}
			if want.CrashInfo.Address != nil {
				c := a.Info.Crash
				if c == nil || c.Address == nil || *c.Address != hexval(t, *want.CrashInfo.Address) {
					t.Errorf("crash address %v, want %s", c, *want.CrashInfo.Address)
				}
			}
			var loaded []int
			for i, m := range s.Modules() {
				if !m.Unloaded {
					loaded = append(loaded, i)
				}
			}
			if len(loaded) != len(want.Modules) {
				t.Fatalf("%d modules, want %d", len(loaded), len(want.Modules))
			}
			for i, wm := range want.Modules {
				m := s.Modules()[loaded[i]]
				if m.Base != hexval(t, wm.BaseAddr) || m.Name() != wm.Filename || !strings.EqualFold(m.DebugID, wm.DebugID) || !strings.EqualFold(m.CodeID, wm.CodeID) {
					t.Errorf("module %d = %#x %s %s %s, want %s %s %s %s", i, m.Base, m.Name(), m.DebugID, m.CodeID, wm.BaseAddr, wm.Filename, wm.DebugID, wm.CodeID)
				}
			}
			got := a.Threads[a.Crashed].Frames
			for i, wf := range want.CrashingThread.Frames {
				if rustTrust[wf.Trust] == "scan" {
					break
				}
				if i >= len(got) {
					t.Errorf("only %d frames, rust-minidump has %d before scanning", len(got), i+1)
					break
				}
				g := got[i]
				if g.Trust == unwind.Scan {
					break
				}
				if wf.Module != nil && g.Analysis.Module != *wf.Module {
					t.Errorf("frame %d module %q, want %q", i, g.Analysis.Module, *wf.Module)
				}
				if wf.ModuleOffset != nil && g.Module != nil && g.LookupPC()-g.Module.Base != hexval(t, *wf.ModuleOffset) {
					t.Errorf("frame %d module offset %#x, want %s", i, g.LookupPC()-g.Module.Base, *wf.ModuleOffset)
				}
				if wf.Function != nil && g.Analysis.Function != *wf.Function {
					t.Errorf("frame %d function %q, want %q", i, g.Analysis.Function, *wf.Function)
				}
				if g.Trust.String() != rustTrust[wf.Trust] {
					t.Errorf("frame %d trust %s, want %s", i, g.Trust, wf.Trust)
				}
			}
		})
	}
}
