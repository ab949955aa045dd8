package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/platform/crashcfg"
)

// config runs `crashbench config ARGS`.
func config(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"config"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// TestConfigAuditFindsWorldReadableDump plants a world-readable minidump
// in a temporary folder: the audit lists it as readable by others and
// prints the chmod that fixes it.
func TestConfigAuditFindsWorldReadableDump(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the audit reads POSIX permission bits")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "app.dmp")
	if err := os.WriteFile(p, append([]byte("MDMP\x93\xa7"), make([]byte, 30)...), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, 0o644)
	out, errs, code := config(t, "audit", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, p) || !strings.Contains(out, "world-readable") || !strings.Contains(out, "chmod go-rwx "+p) {
		t.Errorf("audit output:\n%s", out)
	}
	jout, _, code := config(t, "audit", "--json", dir)
	var files []crashcfg.DumpFile
	if code != ExitOK || json.Unmarshal([]byte(jout), &files) != nil {
		t.Fatalf("audit --json: %d %s", code, jout)
	}
	found := false
	for _, f := range files {
		if f.Path == p && f.Exposed == "world" && f.Kind == "minidump" {
			found = true
		}
	}
	if !found {
		t.Errorf("audit --json lacks %s: %+v", p, files)
	}
}

// TestConfigPlanWindows plans a 64 GiB server for blue screens: the
// automatic dump Microsoft recommends above 32 GiB, the three scripts,
// and never CrashDumpEnabled 4 to 6.
func TestConfigPlanWindows(t *testing.T) {
	dir := t.TempDir()
	out, errs, code := config(t, "plan", "--os", "windows", "--ram", "64GiB", "--goal", "bsod", "--json", "--out", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var p crashcfg.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.DumpType, "Automatic") || len(p.Scripts) < 3 {
		t.Errorf("plan %q with %d scripts", p.DumpType, len(p.Scripts))
	}
	for _, s := range p.Scripts {
		b, err := os.ReadFile(filepath.Join(dir, s.Name))
		if err != nil || string(b) != s.Text {
			t.Errorf("%s not written as planned: %v", s.Name, err)
		}
		for _, bad := range []string{"dword:00000004", "dword:00000005", "dword:00000006"} {
			if strings.Contains(s.Text, `"CrashDumpEnabled"=`+bad) {
				t.Errorf("%s writes CrashDumpEnabled %s", s.Name, bad)
			}
		}
	}
}

func TestConfigPlanUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"plan", "--os", "windows", "--goal", "bsod"},             // no --ram
		{"plan", "--os", "windows", "--ram", "8G", "--goal", "x"}, // bad goal
		{"plan", "--os", "beos", "--ram", "8G", "--goal", "app"},
		{"frobnicate"},
	} {
		if _, _, code := config(t, args...); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, ExitUsage)
		}
	}
	// A Linux panic plan needs the distribution, and says so.
	_, errs, code := config(t, "plan", "--os", "linux", "--ram", "32GiB", "--goal", "panic")
	if code != ExitUsage || !strings.Contains(errs, "release") && !strings.Contains(errs, "distribution") && !strings.Contains(errs, "recipe") {
		t.Errorf("linux without --release: exit %d, %q", code, errs)
	}
}

// TestConfigShowCheckHere runs show, check and why on this machine: they
// print its real state (on Linux: core_pattern is always readable).
func TestConfigShowCheckHere(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	out, errs, code := config(t, "show")
	if code != ExitOK || !strings.Contains(out, "kernel.core_pattern") {
		t.Fatalf("show: %d %s\n%s", code, errs, out)
	}
	pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	if !strings.Contains(out, "kernel.core_pattern = "+strings.TrimSpace(string(pattern))) {
		t.Errorf("show does not print this machine's core_pattern %q", pattern)
	}
	out, _, code = config(t, "check", "--json")
	var checks []crashcfg.Check
	if code != ExitOK || json.Unmarshal([]byte(out), &checks) != nil || len(checks) == 0 {
		t.Fatalf("check --json: %d %s", code, out)
	}
	out, _, code = config(t, "why")
	if code != ExitOK || out == "" {
		t.Errorf("why: %d %q", code, out)
	}
}
