//go:build windows

package crashcfg

import "testing"

// On a real Windows machine: the reader finds RAM, the boot volume and a
// documented or at least reported dump type, and the preflight runs.
func TestWindowsReadThisMachine(t *testing.T) {
	c, m, err := ReadWindows()
	if err != nil {
		t.Logf("partial read: %v", err)
	}
	if m.RAM == 0 {
		t.Error("RAM not read")
	}
	if _, ok := winBootDisk(m); !ok {
		t.Errorf("no boot volume among %+v", m.Disks)
	}
	if !c.PageFiles.Read {
		t.Error("PagingFiles not read")
	}
	for _, ck := range CheckWindows(m, c) {
		t.Logf("%-18s %-7s %s", ck.ID, ck.Status, ck.Reason)
	}
}
