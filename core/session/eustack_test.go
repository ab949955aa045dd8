package session

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestAgreesWithEUStack checks elfutils' eu-stack oracles for the core of
// testfiledwarfinlines (`eu-stack -n 2 -s -d`): the process and thread
// ids, each frame's pc, its name (-d names a frame by the innermost
// inlined call at its pc: fubar, inlined through foobar, bar and foo into
// fu) and its source line (-s).
func TestAgreesWithEUStack(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(fixture.Corpus(t, "elfutils/testfiledwarfinlines.core.eu-stack_n2_s_d.expected"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	head := regexp.MustCompile(`PID (\d+) - core\nTID (\d+):`).FindStringSubmatch(text)
	frames := regexp.MustCompile(`(?m)^#(\d+)\s+0x([0-9a-f]+) (\S+)\n\s+(\S+):(\d+)$`).FindAllStringSubmatch(text, -1)
	if head == nil || len(frames) != 2 {
		t.Fatalf("cannot read the oracle:\n%s", text)
	}
	dir := t.TempDir()
	core := unpacked(t, "elfutils/testfiledwarfinlines.core.bz2", dir, "core")
	exe := unpacked(t, "elfutils/testfiledwarfinlines.bz2", dir, "exe")
	s, a := analyzed(t, core, Options{ImagePath: exe})
	if p := s.Target().Info().Process; p == nil || strconv.FormatUint(p.PID, 10) != head[1] {
		t.Errorf("process %+v, eu-stack PID %s", p, head[1])
	}
	ts := a.Threads[0]
	if strconv.FormatUint(ts.Thread.ID, 10) != head[2] {
		t.Errorf("thread %d, eu-stack TID %s", ts.Thread.ID, head[2])
	}
	for i, w := range frames {
		if i >= len(ts.Frames) {
			t.Fatalf("%d frames, eu-stack shows %d", len(ts.Frames), len(frames))
		}
		f := ts.Frames[i]
		name, file, line := f.Analysis.Function, f.Analysis.File, f.Analysis.Line
		if in := f.Analysis.Inlined; len(in) > 0 {
			name, file, line = in[0].Function, in[0].File, in[0].Line
		}
		pc, _ := strconv.ParseUint(w[2], 16, 64)
		wantLine, _ := strconv.Atoi(w[5])
		if f.PC != pc || name != w[3] || file != w[4] || line != wantLine {
			t.Errorf("frame %d: %#x %s %s:%d, eu-stack %#x %s %s:%d", i, f.PC, name, file, line, pc, w[3], w[4], wantLine)
		}
	}
	if filepath.Base(a.Threads[0].Frames[0].Analysis.Module) != "testfiledwarfinlines" {
		t.Errorf("frame 0 module %q", a.Threads[0].Frames[0].Analysis.Module)
	}
}
