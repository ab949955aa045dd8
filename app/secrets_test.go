package app

import (
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/secrets/secretstest"
	"github.com/crashbench/crashbench/widgets"
)

// TestScanForSecrets runs Tools › Scan for Secrets… on a dump with a key
// planted in its heap: a window lists it, redacted, and selecting it
// opens the dump's hex view at its address.
func TestScanForSecrets(t *testing.T) {
	const heapBase = 0x140000
	heap := secretstest.Random(256<<10, 7)
	c := secretstest.Secrets()[0]
	p := secretstest.Plant(heap, heapBase, 5000, c, secrets.ASCII)
	b, err := minidumptest.Scenarios()["amd64-av-write"]().Memory(minidumptest.Memory{Start: heapBase, Bytes: heap}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	m := newTestWindow(t, []string{writeFile(t, "planted.dmp", b)}, nil)
	settle(t, m)
	onUIWait(func() { m.list.Select(0) })
	if m.secretsMI.Disabled {
		t.Fatal("Scan for Secrets… disabled with a dump selected")
	}
	onUIWait(m.scanSelected)
	var v *widgets.SecretsView
	waitFor(t, "the secrets window", func() bool {
		for _, w := range m.app.Driver().AllWindows() {
			if sv, ok := w.Content().(*widgets.SecretsView); ok {
				v = sv
				return true
			}
		}
		return false
	}, 10*time.Second)
	row := -1
	onUIWait(func() {
		for i := range v.Len() {
			if v.Cell(i, 0) == string(c.Kind) {
				row = i
			}
		}
	})
	if row < 0 {
		t.Fatalf("the planted %s at %#x is not listed", c.Kind, p.Addr)
	}
	onUIWait(func() {
		if got := v.Cell(row, 4); got == p.Value {
			t.Errorf("the value is shown unasked: %q", got)
		}
		v.Select(row)
	})
	waitFor(t, "the hex view", func() bool {
		return m.tabs.Selected() != nil && m.tabs.Selected().Text == "Hex"
	}, 5*time.Second)
}
