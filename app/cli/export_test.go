package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

func exportCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), append([]string{"export"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// TestExportMinidump: the reduced sample opens and says what it kept.
func TestExportMinidump(t *testing.T) {
	out := filepath.Join(t.TempDir(), "min.dmp")
	stdout, errs, code := exportCLI(t, "--minimal", fixture.Testdata(t, "sample/sample.dmp"), out)
	if code != ExitOK || !strings.Contains(stdout, "1 thread stack range(s)") {
		t.Fatalf("exit %d, %q %q", code, stdout, errs)
	}
	var info bytes.Buffer
	if Main(context.Background(), []string{"info", out}, &info, &bytes.Buffer{}) != ExitOK || !strings.Contains(info.String(), "EXCEPTION_ACCESS_VIOLATION_WRITE") {
		t.Errorf("info on the copy: %s", info.String())
	}
}

// TestExportVmcore: a kernel dump becomes the analysis and its log.
func TestExportVmcore(t *testing.T) {
	out := filepath.Join(t.TempDir(), "min.txt")
	stdout, errs, code := exportCLI(t, "--minimal", fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"), out)
	if code != ExitOK || !strings.Contains(stdout, "kernel log (388 lines)") {
		t.Fatalf("exit %d, %q %q", code, stdout, errs)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "sysrq triggered crash") || !strings.Contains(string(b), "FAILURE_BUCKET_ID") {
		t.Errorf("export text:\n%.500s", b)
	}
}

func TestExportUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"a", "b"}, {"--minimal", "a"}} {
		if _, _, code := exportCLI(t, args...); code != ExitUsage {
			t.Errorf("%q: exit %d", args, code)
		}
	}
}
