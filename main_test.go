package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildBinary builds the real crashbench binary (with the given tags) into a
// temporary directory.
func buildBinary(t *testing.T, tags string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashbench")
	cmd := exec.Command("go", "build", "-tags", tags, "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags %q: %v\n%s", tags, err, out)
	}
	return bin
}

func run(t *testing.T, bin string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	// No DISPLAY: every CLI path must finish before Fyne touches GLFW.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// TestCLIContract runs the GUI build and the headless build as a user
// would, with the C.UTF-8 locale servers default to and no display: a dump
// gives its JSON report, a non-dump exactly one line on stderr and exit 2,
// bad usage exit 1.
func TestCLIContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	sample, err := filepath.Abs("testdata/sample/sample.dmp")
	if err != nil {
		t.Fatal(err)
	}
	for _, tags := range []string{"sqlite_fts5", "headless"} {
		t.Run(tags, func(t *testing.T) {
			bin := buildBinary(t, tags)
			env := []string{"LANG=C.UTF-8", "XDG_CACHE_HOME=" + t.TempDir()}

			out, errs, code := run(t, bin, env, "info", "--json", sample)
			if code != 0 || errs != "" {
				t.Fatalf("info --json: exit %d, stderr %q", code, errs)
			}
			var r struct {
				Schema, Format, Variant, Arch string
				Crash                         struct{ Name string }
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("info --json printed no JSON: %v\n%s", err, out)
			}
			if r.Schema != "crashbench.report/1" || r.Format != "minidump" || r.Variant != "user" || r.Arch != "amd64" || r.Crash.Name != "EXCEPTION_ACCESS_VIOLATION_WRITE" {
				t.Fatalf("report = %+v", r)
			}

			_, errs, code = run(t, bin, env, "info", "README.md")
			if code != 2 {
				t.Fatalf("info on a text file: exit %d, want 2", code)
			}
			if lines := strings.Split(strings.TrimRight(errs, "\n"), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "README.md") || !strings.Contains(lines[0], "looks like a text file") || !strings.Contains(lines[0], "offset 0x0") {
				t.Fatalf("stderr = %q, want one line naming the file, what it looks like and the offset", errs)
			}

			// The window without a display: a clear line, not GLFW's panic.
			// (The headless build here has no workbench beside it.)
			if tags != "headless" {
				_, errs, code = run(t, bin, env)
				if code != 1 || !strings.Contains(errs, "no display") || strings.Contains(errs, "panic") {
					t.Fatalf("no subcommand, no display: exit %d, stderr %q", code, errs)
				}
			}

			if _, _, code = run(t, bin, env, "info"); code != 1 {
				t.Fatalf("info without a file: exit %d, want 1", code)
			}
			if _, _, code = run(t, bin, env, "info", "/nonexistent/dump"); code != 2 {
				t.Fatalf("info on a missing file: exit %d, want 2", code)
			}
		})
	}
}
