package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/testutil/golden"
)

func TestDiffGoldens(t *testing.T) {
	dir := fixture.Testdata(t, "linux-core")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"diff-linux-core.txt", []string{"diff", "core.assertc.zst", "core.dfree.zst"}},
		{"diff-linux-core.json", []string{"diff", "core.assertc.zst", "--json", "core.dfree.zst"}},
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

func TestDiffSelfIsSame(t *testing.T) {
	dir := fixture.Testdata(t, "sample")
	out, errs, code := runCLI(t, dir, "diff", "--json", "sample.dmp", "sample.dmp")
	if code != ExitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var d struct {
		Same bool `json:"same"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || !d.Same {
		t.Fatalf("diff of a dump with itself: same=%v err=%v\n%s", d.Same, err, out)
	}
}

func TestDiffFailures(t *testing.T) {
	dir := fixture.Testdata(t, "sample")
	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"diff", "sample.dmp"}, ExitUsage, "usage: crashbench diff"},
		{[]string{"diff", "a", "b", "c"}, ExitUsage, "usage: crashbench diff"},
		{[]string{"diff", "--bogus", "a", "b"}, ExitUsage, "bogus"},
		{[]string{"diff", "sample.dmp", "missing.dmp"}, ExitBadInput, "missing.dmp"},
	} {
		_, errs, code := runCLI(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.contains) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errs, tc.code, tc.contains)
		}
	}
}
