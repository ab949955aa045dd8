package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/testutil/golden"
)

// runCLI runs Main from dir so that paths in the output are relative and
// the goldens do not depend on where the checkout lives.
func runCLI(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	t.Chdir(dir)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestInfoGoldens(t *testing.T) {
	dir := fixture.Testdata(t, "sample")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"info-sample.txt", []string{"info", "sample.dmp"}},
		{"info-sample.json", []string{"info", "--json", "sample.dmp"}},
		{"info-sample-memory.txt", []string{"info", "sample.dmp", "--memory"}},
		{"analyze-sample.txt", []string{"analyze", "sample.dmp"}},
		{"analyze-sample.json", []string{"analyze", "--json", "sample.dmp"}},
		{"analyze-sample-symbols.txt", []string{"analyze", "--sympath", "symbols", "sample.dmp"}},
		{"run-sample.txt", []string{"run", "sample.dmp", "--sympath", "symbols", "-c", ".ecxr; k; ~; lm; r rip; ln @rip; dq @rsp L4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, dir, tc.args...)
			if code != ExitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden.Check(t, tc.name, []byte(out))
		})
	}
}

func TestInfoFailures(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a dump\n"), 0o644)
	short, _ := minidumptest.New(minidumptest.LE).Truncate(20).Bytes()
	os.WriteFile(filepath.Join(dir, "short.dmp"), short, 0o644)
	for _, tc := range []struct {
		args     []string
		code     int
		contains []string
	}{
		{[]string{"info", "notes.txt"}, ExitBadInput, []string{"notes.txt", "looks like a text file", "offset 0x0"}},
		{[]string{"info", "short.dmp"}, ExitBadInput, []string{"short.dmp", "looks like a Windows user-mode minidump", "offset 0x14", "header truncated"}},
		{[]string{"info"}, ExitUsage, []string{"usage: crashbench info"}},
		{[]string{"info", "--bogus", "short.dmp"}, ExitUsage, []string{"flag provided but not defined"}},
		{[]string{"frobnicate"}, ExitUsage, []string{"unknown command"}},
		{[]string{"analyze", "short.dmp"}, ExitBadInput, []string{"short.dmp", "header truncated"}},
		{[]string{"config"}, ExitUsage, []string{"usage: crashbench config show"}},
		{[]string{"index"}, ExitUsage, []string{"usage: crashbench index"}},
		{[]string{"search", "--db", "x.db"}, ExitUsage, []string{"usage: crashbench search"}},
		{[]string{"run", "short.dmp"}, ExitUsage, []string{"usage: crashbench run"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, errs, code := runCLI(t, dir, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errs)
			}
			for _, s := range tc.contains {
				if !strings.Contains(errs, s) {
					t.Errorf("stderr %q lacks %q", errs, s)
				}
			}
			if tc.code == ExitBadInput && strings.Count(strings.TrimRight(errs, "\n"), "\n") != 0 {
				t.Errorf("stderr has more than one line: %q", errs)
			}
		})
	}
}

func TestInterspersedFlags(t *testing.T) {
	dir := fixture.Testdata(t, "sample")
	a, _, _ := runCLI(t, dir, "info", "--json", "sample.dmp")
	b, _, _ := runCLI(t, dir, "info", "sample.dmp", "--json")
	if a != b || !strings.HasPrefix(a, "{") {
		t.Fatalf("flag order changed the output:\n%s\n---\n%s", a, b)
	}
}

// TestAnalyzeMinidump2Golden is the !analyze -v text and JSON of the
// Breakpad test dump with its symbols (frames checked against
// minidump_stackwalk in core/session).
func TestAnalyzeMinidump2Golden(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	dir := filepath.Join(corpus, "breakpad")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"analyze-minidump2.txt", []string{"analyze", "--sympath", "symbols", "minidump2.dmp"}},
		{"analyze-minidump2.json", []string{"analyze", "--json", "--sympath", "symbols", "minidump2.dmp"}},
		{"run-minidump2.txt", []string{"run", "--sympath", "symbols", "minidump2.dmp", "-c", "|; ~; .ecxr; k; lm; ln @eip; dd @esp L8; ~1 k; .lastevent; !handle"}},
		{"run-cet-handles.txt", []string{"run", "tiny-exe-with-cet-xsave.dmp", "-c", "!handle 8; vertarget; r; !teb; !peb"}},
		{"run-wine.txt", []string{"run", "../generated/windows-minidump/wine-MiniDumpNormal-exception.dmp", "-c", ".ecxr; k; u @rip L4; uf wcrash!level2; .frame 2; r; !analyze -v"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, dir, tc.args...)
			if code != ExitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden.Check(t, tc.name, []byte(out))
		})
	}
}

// TestTimeoutFlag: run --timeout stops a command that outlives it with a
// message naming the limit and goes on to the next; analyze --timeout 0
// means no limit.
func TestTimeoutFlag(t *testing.T) {
	dir := fixture.Testdata(t, "sample")
	out, errs, code := runCLI(t, dir, "run", "--timeout", "1ns", "sample.dmp", "-c", "s -a 0 L?ffffffffffffffff nothing-like-this; lm")
	if code != ExitOK || errs != "" || strings.Count(out, "stopped after 1ns, the time limit for one command (--timeout changes it)") != 2 {
		t.Errorf("run --timeout 1ns: exit %d, stderr %q, out\n%s", code, errs, out)
	}
	if out, _, _ := runCLI(t, dir, "run", "--timeout", "0", "sample.dmp", "-c", "lm"); !strings.Contains(out, "app") {
		t.Errorf("run --timeout 0: %s", out)
	}
	if out, errs, code := runCLI(t, dir, "analyze", "--timeout", "0", "sample.dmp"); code != ExitOK || errs != "" || !strings.Contains(out, "FAILURE_BUCKET_ID") {
		t.Errorf("analyze --timeout 0: exit %d, stderr %q, out\n%s", code, errs, out)
	}
	if _, errs, code := runCLI(t, dir, "analyze", "--timeout", "1ns", "sample.dmp"); code != ExitBadInput || !strings.Contains(errs, "analyze: stopped after 1ns") {
		t.Errorf("analyze --timeout 1ns: exit %d, stderr %q", code, errs)
	}
}
