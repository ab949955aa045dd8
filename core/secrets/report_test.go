package secrets

import (
	"strings"
	"testing"
)

func TestReportSummary(t *testing.T) {
	for _, c := range []struct {
		r    Report
		want string
	}{
		{Report{Complete: true}, "This dump holds no memory: nothing was scanned"},
		{Report{Regions: 3, Unreadable: 4096, Complete: true}, "None of the memory could be read: nothing was scanned"},
		{Report{Regions: 2, Scanned: 3 << 20, Space: "process memory", Complete: true}, "Scanned 3.0 MiB of process memory in 2 region(s): no secrets found"},
		{Report{Regions: 2, Scanned: 2048, Unreadable: 8192, Space: "physical memory", Total: 3},
			"Scanned 2.0 KiB of physical memory in 2 region(s) (8.0 KiB could not be read): 3 secret(s) found; the scan did not finish, this is partial"},
	} {
		if got := c.r.Summary(); got != c.want {
			t.Errorf("Summary() = %q, want %q", got, c.want)
		}
	}
	r := Report{Counts: map[Kind]int{JWT: 2, PrivateKey: 1}}
	if got := r.CountsLine(); !strings.Contains(got, "2 "+string(JWT)) || !strings.Contains(got, "1 "+string(PrivateKey)) || strings.Count(got, ",") != 1 {
		t.Errorf("CountsLine() = %q", got)
	}
}

func TestFindingWhereAndPrintable(t *testing.T) {
	f := Finding{Module: "app.exe", Region: "stack", Encoding: UTF16LE}
	if got, want := f.Where(), "app.exe, stack (utf-16le)"; got != want {
		t.Errorf("Where() = %q, want %q", got, want)
	}
	if got := (Finding{Encoding: ASCII}).Where(); got != "" {
		t.Errorf("Where() of nothing known = %q", got)
	}
	if got, want := Printable("-----BEGIN\nabc\x00"), `-----BEGIN\nabc\x00`; got != want {
		t.Errorf("Printable = %q, want %q", got, want)
	}
	if got := Printable("plain"); got != "plain" {
		t.Errorf("Printable(plain) = %q", got)
	}
}
