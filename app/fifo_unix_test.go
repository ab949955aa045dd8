//go:build unix

package app

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/crashbench/crashbench/widgets"
)

// blockingDump returns the path of a named pipe: opening it blocks until
// release is called, which holds a load in the loading state for as long
// as a test needs, without sleeping. release then puts a text file in the
// pipe's place, so the load (which may open the path more than once) fails
// the way it does for any file that is no dump.
func blockingDump(t *testing.T) (path string, release func()) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "pending.dmp")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	text := filepath.Join(dir, "text")
	if err := os.WriteFile(text, []byte("not a dump\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var done bool
	release = func() {
		if done {
			return
		}
		done = true
		// Opening for writing pairs with the load's blocked open...
		w, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Errorf("open pipe for writing: %v", err)
			return
		}
		// ...and any later open of the path finds the text file.
		if err := os.Rename(text, path); err != nil {
			t.Error(err)
		}
		w.Close()
	}
	t.Cleanup(release) // never leave a load goroutine blocked
	return path, release
}

// TestDumpsCloseWhileLoading closes an entry before its load finishes: the
// late result must be dropped, not resurrected or reported.
func TestDumpsCloseWhileLoading(t *testing.T) {
	d := newTestDumps(t)
	pending, release := blockingDump(t)
	other := writeScenario(t, "linux-sigsegv")
	var loaded []string
	d.OnLoaded = func(i int) { loaded = append(loaded, d.Title(i)) }

	d.Open(pending, other)
	waitFor(t, "the other dump", func() bool { return d.Pending() == 1 }, 5*time.Second)
	if d.Status(0) != widgets.StatusLoading || d.Subtitle(0) != "Opening…" {
		t.Fatalf("blocked entry: status %v, subtitle %q", d.Status(0), d.Subtitle(0))
	}
	d.Close(0)
	release()
	waitFor(t, "the closed load", func() bool { return d.Pending() == 0 }, 5*time.Second)

	if d.Len() != 1 || d.Title(0) != "linux-sigsegv.dmp" || d.Status(0) != widgets.StatusOK {
		t.Fatalf("after Close(0): Len %d, Title(0) %q, Status(0) %v", d.Len(), d.Title(0), d.Status(0))
	}
	if !slices.Equal(loaded, []string{"linux-sigsegv.dmp"}) {
		t.Errorf("OnLoaded reported %q, want only linux-sigsegv.dmp", loaded)
	}
	d.Close(5) // out of range: ignored
	if d.Len() != 1 {
		t.Errorf("Close(5) changed Len to %d", d.Len())
	}
}

// TestWindowShowsLoading: while a dump loads, its row and the summary say
// so; when it finishes, the summary follows without a click.
func TestWindowShowsLoading(t *testing.T) {
	pending, release := blockingDump(t)
	m := newTestWindow(t, []string{pending}, nil)
	// Under uiMu, like every view update: the load is released through the
	// kernel, which the race detector cannot see as synchronisation.
	m.uiMu.Lock()
	entry, summary := m.dumps.Status(0), m.summary.State()
	m.uiMu.Unlock()
	if entry != widgets.StatusLoading || summary != widgets.SummaryLoading {
		t.Fatalf("while loading: entry %v, summary %v", entry, summary)
	}
	release()
	settle(t, m)
	if m.summary.State() != widgets.SummaryError || m.summary.ErrorLine() == "" {
		t.Errorf("after loading: summary %v, line %q", m.summary.State(), m.summary.ErrorLine())
	}
}
