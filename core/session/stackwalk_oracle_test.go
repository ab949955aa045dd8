package session

import (
	"cmp"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

var (
	frameLineRE = regexp.MustCompile(`^ ?(\d+)  (\S+?)!(.+?)(?: \[(.+) : (\d+) \+ 0x[0-9a-f]+\])?(?: \+ 0x[0-9a-f]+)?$`)
	regLineRE   = regexp.MustCompile(`(eip|esp|ebp) = 0x([0-9a-f]+)`)
	foundByRE   = regexp.MustCompile(`Found by: (.+)$`)
)

type oracleFrame struct {
	module, function, file string
	line                   int
	regs                   map[string]uint64
	trust                  string
}

// parseStackwalk reads the crashed thread of minidump_stackwalk's human
// output.
func parseStackwalk(t *testing.T, text string) []oracleFrame {
	t.Helper()
	var frames []oracleFrame
	in := false
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasSuffix(line, "(crashed)"):
			in = true
			continue
		case in && line == "":
			return frames
		case !in:
			continue
		}
		if m := frameLineRE.FindStringSubmatch(line); m != nil {
			f := oracleFrame{module: m[2], function: m[3], file: m[4], regs: map[string]uint64{}}
			f.line, _ = strconv.Atoi(m[5])
			frames = append(frames, f)
			continue
		}
		if len(frames) == 0 {
			continue
		}
		f := &frames[len(frames)-1]
		for _, m := range regLineRE.FindAllStringSubmatch(line, -1) {
			v, _ := strconv.ParseUint(m[2], 16, 64)
			f.regs[m[1]] = v
		}
		if m := foundByRE.FindStringSubmatch(line); m != nil {
			f.trust = map[string]string{
				"given as instruction pointer in context": "context",
				"call frame info":                         "cfi",
				"stack scanning":                          "scan",
				"previous frame's frame pointer":          "frame-pointer",
			}[m[1]]
		}
	}
	return frames
}

// TestMinidump2AgreesWithMinidumpStackwalk walks minidump2.dmp with its
// Breakpad symbols and compares the crashed thread frame by frame with
// Breakpad's minidump_stackwalk output: module, function, source file and
// line, eip/esp/ebp and how each frame was found.
func TestMinidump2AgreesWithMinidumpStackwalk(t *testing.T) {
	dmp := fixture.Corpus(t, "breakpad/minidump2.dmp")
	want, err := os.ReadFile(fixture.Corpus(t, "breakpad/minidump2.stackwalk.out"))
	if err != nil {
		t.Fatal(err)
	}
	oracle := parseStackwalk(t, string(want))
	if len(oracle) != 4 {
		t.Fatalf("parsed %d oracle frames, want 4", len(oracle))
	}
	s, a := analyzed(t, dmp, Options{SymPath: fixture.Corpus(t, "breakpad/symbols")})
	if a.Crashed < 0 {
		t.Fatal("no crashed thread")
	}
	got := a.Threads[a.Crashed].Frames
	if len(got) != len(oracle) {
		t.Errorf("%d frames, minidump_stackwalk has %d", len(got), len(oracle))
	}
	for i := range min(len(got), len(oracle)) {
		g, w := got[i], oracle[i]
		if g.Analysis.Module != w.module || g.Analysis.Function != w.function {
			t.Errorf("frame %d: %s!%s, want %s!%s", i, g.Analysis.Module, g.Analysis.Function, w.module, w.function)
		}
		if w.file != "" && (path.Base(strings.ReplaceAll(g.Analysis.File, `\`, "/")) != path.Base(strings.ReplaceAll(w.file, `\`, "/")) || g.Analysis.Line != w.line) {
			t.Errorf("frame %d: %s:%d, want %s:%d", i, g.Analysis.File, g.Analysis.Line, w.file, w.line)
		}
		if g.Trust.String() != w.trust {
			t.Errorf("frame %d: trust %s, want %s", i, g.Trust, w.trust)
		}
		for reg, v := range w.regs {
			if g.Regs[reg] != v {
				t.Errorf("frame %d: %s = %#x, want %#x", i, reg, g.Regs[reg], v)
			}
		}
	}
	// Module by module: "0x00400000 - 0x0042cfff  test_app.exe  ???  (main)".
	modRE := regexp.MustCompile(`(?m)^0x([0-9a-f]+) - 0x([0-9a-f]+)  (\S+)  (\S+)`)
	wantMods := modRE.FindAllStringSubmatch(string(want), -1)
	// minidump_stackwalk lists modules by base address.
	mods := slices.SortedFunc(slices.Values(s.Modules()), func(a, b model.Module) int { return cmp.Compare(a.Base, b.Base) })
	if len(wantMods) != 13 || len(mods) != len(wantMods) {
		t.Fatalf("%d modules, minidump_stackwalk lists %d", len(mods), len(wantMods))
	}
	for i, w := range wantMods {
		base, _ := strconv.ParseUint(w[1], 16, 64)
		last, _ := strconv.ParseUint(w[2], 16, 64)
		version := w[4]
		if version == "???" {
			version = ""
		}
		m := mods[i]
		if m.Base != base || m.Base+m.Size-1 != last || m.Name() != w[3] || m.Version != version {
			t.Errorf("module %d = %#x-%#x %s %q, want %s", i, m.Base, m.Base+m.Size-1, m.Name(), m.Version, w[0])
		}
	}
	if a.Info.Crash.Name != "EXCEPTION_ACCESS_VIOLATION_WRITE" || *a.Info.Crash.Address != 0x45 {
		t.Errorf("crash %s at %#x, want EXCEPTION_ACCESS_VIOLATION_WRITE at 0x45", a.Info.Crash.Name, *a.Info.Crash.Address)
	}
	if a.Result.BucketID != "NULL_CLASS_PTR_WRITE_c0000005_test_app.exe!`anonymous namespace'::CrashFunction" {
		t.Errorf("bucket %q", a.Result.BucketID)
	}
}
