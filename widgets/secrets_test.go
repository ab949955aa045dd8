package widgets

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func TestSecretsView(t *testing.T) {
	test.NewTempApp(t)
	v := NewSecretsView()
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1200, 500))

	rows := []SecretRow{
		{Kind: "aws-access-key", Address: "00000000`20000010", Addr: 0x20000010, Where: "heap", Preview: "AKIA…(20 chars)", Value: "AKIAIOSFODNN7EXAMPLE"},
		{Kind: "jwt", Address: "00000000`20000100", Addr: 0x20000100, Where: "app.exe, stack (utf-16le)", Context: "Bearer", Preview: "eyJh…(120 chars)", Value: "eyJhbGciOi.secret.sig"},
	}
	v.SetReport("Scanned 2.0 MiB of process memory in 3 region(s): 2 secret(s) found", "1 aws-access-key, 1 jwt", rows)
	labels := visibleLabels(v)
	for _, want := range []string{"2 secret(s) found", "1 aws-access-key, 1 jwt", "AKIA…(20 chars)", "app.exe, stack (utf-16le)", "Bearer"} {
		if !slices.ContainsFunc(labels, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("%q is not shown: %q", want, labels)
		}
	}
	// Redacted until asked.
	if slices.Contains(labels, "AKIAIOSFODNN7EXAMPLE") || v.Cell(0, secretValue) != "AKIA…(20 chars)" {
		t.Errorf("a value is shown before Show values: %q", labels)
	}
	test.Tap(v.show)
	if got := v.Cell(1, secretValue); got != "eyJhbGciOi.secret.sig" {
		t.Errorf("with Show values, value cell = %q", got)
	}
	if labels := visibleLabels(v); !slices.Contains(labels, "AKIAIOSFODNN7EXAMPLE") {
		t.Errorf("Show values shows no value: %q", labels)
	}
	v.SetShowValues(false)
	if v.show.Checked || v.Cell(1, secretValue) != "eyJh…(120 chars)" {
		t.Errorf("SetShowValues(false): checked %v, cell %q", v.show.Checked, v.Cell(1, secretValue))
	}

	var picked []uint64
	v.OnSelected = func(r SecretRow) { picked = append(picked, r.Addr) }
	v.Select(1)
	if !slices.Equal(picked, []uint64{0x20000100}) {
		t.Errorf("selecting row 1 gave %#x", picked)
	}

	// A clean scan: the summary alone, no counts, no Show values.
	v.SetReport("Scanned 2.0 MiB of process memory in 3 region(s): no secrets found", "", nil)
	if v.Len() != 0 || v.show.Visible() || v.counts.Visible() {
		t.Errorf("clean scan: %d rows, show visible %v, counts visible %v", v.Len(), v.show.Visible(), v.counts.Visible())
	}
}
