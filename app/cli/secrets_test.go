package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/secrets/secretstest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// secretsDumps writes, in a temporary folder, planted.dmp (every kind of
// secret among random bytes, in ASCII, and one in UTF-16LE), clean.dmp
// (random bytes only) and nomem.dmp (no memory at all); it returns the
// folder and the plants.
func secretsDumps(t *testing.T) (string, []secretstest.Planted) {
	t.Helper()
	dir := t.TempDir()
	const base = 0x140000
	heap := secretstest.Random(1<<20, 7)
	var plants []secretstest.Planted
	off := 64
	for _, c := range secretstest.Secrets() {
		plants = append(plants, secretstest.Plant(heap, base, off, c, secrets.ASCII))
		off += 30011
	}
	cases := secretstest.Secrets()
	plants = append(plants, secretstest.Plant(heap, base, off, cases[len(cases)-4], secrets.UTF16LE)) // Authorization
	write := func(name string, b []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := minidumptest.Scenarios()["amd64-av-write"]().Memory(minidumptest.Memory{Start: base, Bytes: heap}).Bytes()
	write("planted.dmp", b, err)
	b, err = minidumptest.Scenarios()["amd64-av-write"]().Memory(minidumptest.Memory{Start: base, Bytes: secretstest.Random(2<<20, 8)}).Bytes()
	write("clean.dmp", b, err)
	b, err = minidumptest.Scenarios()["linux-sigsegv"]().Bytes()
	write("nomem.dmp", b, err)
	return dir, plants
}

// lineAt returns the line of out that lists address addr.
func lineAt(out string, addr uint64) string {
	a := console.FormatAddr(addr, 8)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " "+a+" ") {
			return l
		}
	}
	return ""
}

func TestSecretsText(t *testing.T) {
	dir, plants := secretsDumps(t)
	out, errs, code := runCLI(t, dir, "secrets", "planted.dmp")
	if code != ExitOK || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	for _, p := range plants {
		l := lineAt(out, p.Addr)
		if !strings.HasPrefix(l, string(p.Kind)+" ") || !strings.Contains(l, secrets.Redact(p.Value)) {
			t.Errorf("%s at %#x: line %q, want kind %s and preview %q", p.Name, p.Addr, l, p.Kind, secrets.Redact(p.Value))
		}
		if strings.Contains(out, p.Value) {
			t.Errorf("%s: the value is printed without --show", p.Name)
		}
		if p.Encoding == secrets.UTF16LE && !strings.Contains(l, "utf-16le") {
			t.Errorf("%s: line %q does not say UTF-16", p.Name, l)
		}
	}
	counts := map[secrets.Kind]int{}
	for _, p := range plants {
		counts[p.Kind]++
	}
	for k, n := range counts {
		if !containsFields(out, n, string(k)) {
			t.Errorf("no count line \"%d %s\" in\n%s", n, k, out)
		}
	}
	if !strings.Contains(out, "--show") {
		t.Errorf("output does not say how to see the values:\n%s", out)
	}

	out, _, code = runCLI(t, dir, "secrets", "planted.dmp", "--show")
	if code != ExitOK {
		t.Fatalf("--show: exit %d", code)
	}
	for _, p := range plants {
		if l := lineAt(out, p.Addr); !strings.Contains(l, secrets.Printable(p.Value)) {
			t.Errorf("--show: %s line %q lacks the value", p.Name, l)
		}
	}
}

// containsFields reports whether some line of out is exactly the count
// and the kind, whatever the spacing.
func containsFields(out string, n int, kind string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] == kind && f[0] == strconv.Itoa(n) {
			return true
		}
	}
	return false
}

func TestSecretsJSON(t *testing.T) {
	dir, plants := secretsDumps(t)
	for _, show := range []bool{false, true} {
		args := []string{"secrets", "--json", "planted.dmp"}
		if show {
			args = append(args, "--show")
		}
		out, errs, code := runCLI(t, dir, args...)
		if code != ExitOK || errs != "" {
			t.Fatalf("exit %d, stderr %q", code, errs)
		}
		var rep struct {
			Total    int            `json:"total"`
			Counts   map[string]int `json:"counts"`
			Shown    bool           `json:"values_shown"`
			Findings []struct {
				Kind, Address, Preview, Value, Encoding string
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		byAddr := map[string]int{}
		for i, f := range rep.Findings {
			byAddr[f.Address] = i
		}
		for _, p := range plants {
			i, ok := byAddr[fmt.Sprintf("%#x", p.Addr)]
			if !ok {
				t.Errorf("%s at %#x not in the JSON", p.Name, p.Addr)
				continue
			}
			f := rep.Findings[i]
			if f.Kind != string(p.Kind) || f.Encoding != string(p.Encoding) || show && f.Value != p.Value || !show && f.Value != "" {
				t.Errorf("%s: %+v", p.Name, f)
			}
		}
		if rep.Total != len(plants) || rep.Shown != show {
			t.Errorf("total %d (planted %d), shown %v", rep.Total, len(plants), rep.Shown)
		}
	}
}

func TestSecretsNoneFound(t *testing.T) {
	sample := fixture.Testdata(t, "sample") // before runCLI changes the working folder
	dir, _ := secretsDumps(t)
	out, errs, code := runCLI(t, dir, "secrets", "clean.dmp")
	if code != ExitOK || errs != "" || !strings.Contains(out, "no secrets found") || !strings.Contains(out, "2.0 MiB") {
		t.Errorf("clean dump: exit %d, stderr %q, output\n%s", code, errs, out)
	}
	out, errs, code = runCLI(t, dir, "secrets", "nomem.dmp")
	if code != ExitOK || errs != "" || !strings.Contains(out, "nothing was scanned") || strings.Contains(out, "no secrets found") {
		t.Errorf("dump without memory: exit %d, stderr %q, output\n%s", code, errs, out)
	}
	if _, errs, code := runCLI(t, sample, "secrets", "sample.dmp"); code != ExitOK || errs != "" {
		t.Errorf("sample.dmp: exit %d, stderr %q", code, errs)
	}
}

func TestSecretsFailures(t *testing.T) {
	dir, _ := secretsDumps(t)
	if err := os.WriteFile(filepath.Join(dir, "junk.dmp"), []byte("not a dump at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"secrets"}, ExitUsage, "usage: crashbench secrets"},
		{[]string{"secrets", "a.dmp", "b.dmp"}, ExitUsage, "usage: crashbench secrets"},
		{[]string{"secrets", "--bogus", "planted.dmp"}, ExitUsage, "bogus"},
		{[]string{"secrets", "missing.dmp"}, ExitBadInput, "missing.dmp"},
		{[]string{"secrets", "junk.dmp"}, ExitBadInput, "junk.dmp"},
	} {
		_, errs, code := runCLI(t, dir, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.contains) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errs, tc.code, tc.contains)
		}
	}
}
