package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/platform"
	"github.com/crashbench/crashbench/widgets"
)

// fakePicker is a FilePicker that answers without a dialog.
type fakePicker struct {
	paths []string
	err   error
	asked chan string
}

func (p *fakePicker) OpenFiles(title string) ([]string, error) {
	if p.asked != nil {
		p.asked <- title
	}
	return p.paths, p.err
}

func (p *fakePicker) OpenFolder(title string) (string, error) {
	if p.asked != nil {
		p.asked <- title
	}
	if len(p.paths) == 0 {
		return "", p.err
	}
	return p.paths[0], p.err
}

func newTestWindow(t *testing.T, files []string, picker platform.FilePicker) *mainWindow {
	t.Helper()
	// The window indexes what it opens: into a private index, never the
	// user's.
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	a := test.NewTempApp(t)
	var m *mainWindow
	onUIWait(func() { m = newMainWindow(a, files, picker) })
	t.Cleanup(func() { onUIWait(m.win.Close) })
	return m
}

func settle(t *testing.T, m *mainWindow) {
	t.Helper()
	waitFor(t, "loads", func() bool { return m.dumps.Pending() == 0 }, 5*time.Second)
}

func hasValue(rows []widgets.Row, s string) bool {
	return slices.ContainsFunc(rows, func(r widgets.Row) bool { return strings.Contains(r.Value, s) })
}

func TestWindowOpensArgumentsAndSelectsFirst(t *testing.T) {
	dmp, txt := writeScenario(t, "amd64-av-write"), textFile(t)
	m := newTestWindow(t, []string{dmp, txt}, nil)
	if m.win.Title() != "Crashbench" {
		t.Errorf("title %q", m.win.Title())
	}
	if got := m.win.Canvas().Size(); got.Width < 1000 || got.Height < 700 {
		t.Errorf("window size %v, want about 1440x900", got)
	}
	settle(t, m)

	if m.list.Selected() != 0 {
		t.Fatalf("selected %d, want the first dump", m.list.Selected())
	}
	if m.summary.State() != widgets.SummaryRows || !hasValue(m.summary.Rows(), "EXCEPTION_ACCESS_VIOLATION_WRITE") {
		t.Fatalf("summary %v with rows %v", m.summary.State(), m.summary.Rows())
	}
	if m.summary.Title() != "amd64-av-write.dmp" {
		t.Errorf("summary title %q", m.summary.Title())
	}
	if m.closeMI.Disabled {
		t.Error("Close Dump disabled with a dump selected")
	}

	// Selecting the text file shows its one-line error.
	onUIWait(func() { m.list.Select(1) })
	if m.summary.State() != widgets.SummaryError || !strings.Contains(m.summary.ErrorLine(), "looks like") {
		t.Fatalf("text file summary: %v %q", m.summary.State(), m.summary.ErrorLine())
	}

	// Close Dump (Ctrl+W) closes it and selects the neighbour; closing the
	// last one brings the placeholder back.
	typeShortcut(m, closeShortcut)
	if m.dumps.Len() != 1 || m.list.Selected() != 0 || m.summary.Title() != "amd64-av-write.dmp" {
		t.Fatalf("after closing the text file: Len %d, selected %d, summary %q", m.dumps.Len(), m.list.Selected(), m.summary.Title())
	}
	m.closeSelected()
	if m.dumps.Len() != 0 || m.summary.State() != widgets.SummaryEmpty || !m.closeMI.Disabled {
		t.Fatalf("after closing all: Len %d, summary %v, close disabled %v", m.dumps.Len(), m.summary.State(), m.closeMI.Disabled)
	}
}

func TestWindowNoFilesShowsPlaceholder(t *testing.T) {
	m := newTestWindow(t, nil, nil)
	if m.summary.State() != widgets.SummaryEmpty || !strings.Contains(m.summary.Hint(), "Open") {
		t.Errorf("summary %v hint %q", m.summary.State(), m.summary.Hint())
	}
	if m.list.Selected() != -1 || !m.closeMI.Disabled {
		t.Errorf("selected %d, close disabled %v", m.list.Selected(), m.closeMI.Disabled)
	}
	m.closeSelected() // nothing to close: no panic, no change
}

func TestWindowMenu(t *testing.T) {
	m := newTestWindow(t, nil, nil)
	mm := m.win.MainMenu()
	if mm == nil || len(mm.Items) == 0 || mm.Items[0].Label != "File" {
		t.Fatalf("main menu %v", mm)
	}
	want := map[string]fyne.Shortcut{
		"Open…": openShortcut, "Open Crash Dump…": openDumpShortcut,
		"Close Dump": closeShortcut, "Quit": quitShortcut, "Settings…": settingsShortcut,
		"Open Recent": nil, "Export Minimal Copy…": nil,
	}
	for _, it := range mm.Items[0].Items {
		if it.IsSeparator {
			continue
		}
		if s, ok := want[it.Label]; !ok || it.Shortcut != s {
			t.Errorf("menu item %q has shortcut %v", it.Label, it.Shortcut)
		}
		delete(want, it.Label)
	}
	for l := range want {
		t.Errorf("File menu lacks %q", l)
	}
	if len(mm.Items) < 2 || mm.Items[1].Label != "Tools" || mm.Items[1].Items[0].Label != "Set Up Crash Dumps…" {
		t.Errorf("no Tools › Set Up Crash Dumps…: %v", mm.Items)
	}
}

// TestWindowOpenWithPicker drives Ctrl+D (WinDbg's Open Crash Dump) through
// a fake native picker.
func TestWindowOpenWithPicker(t *testing.T) {
	dmp := writeScenario(t, "linux-sigsegv")
	p := &fakePicker{paths: []string{dmp}, asked: make(chan string, 1)}
	m := newTestWindow(t, nil, p)
	typeShortcut(m, openDumpShortcut)
	if title := <-p.asked; title == "" {
		t.Error("picker asked with an empty title")
	}
	waitFor(t, "the picked dump", func() bool { return m.dumps.Len() == 1 }, 5*time.Second)
	settle(t, m)
	if m.list.Selected() != 0 || !hasValue(m.summary.Rows(), "SIGSEGV") {
		t.Errorf("selected %d, summary rows %v", m.list.Selected(), m.summary.Rows())
	}
}

func TestWindowPickerCancelled(t *testing.T) {
	p := &fakePicker{asked: make(chan string, 1)}
	m := newTestWindow(t, nil, p)
	m.showOpen()
	<-p.asked
	waitFor(t, "the dialog to close", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		return !m.picking
	}, 5*time.Second)
	if m.dumps.Len() != 0 {
		t.Errorf("cancelled dialog opened %d dumps", m.dumps.Len())
	}
}

// TestWindowFallsBackToFyneDialog: with no native dialog the Fyne file
// dialog appears over the window.
func TestWindowFallsBackToFyneDialog(t *testing.T) {
	p := &fakePicker{err: platform.ErrNoNativeDialog, asked: make(chan string, 1)}
	m := newTestWindow(t, nil, p)
	m.showOpen()
	<-p.asked
	waitFor(t, "the Fyne dialog", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		return m.picker == nil && len(m.win.Canvas().Overlays().List()) > 0
	}, 5*time.Second)
}

func TestWindowDrop(t *testing.T) {
	dmp := writeScenario(t, "amd64-av-write")
	m := newTestWindow(t, nil, nil)
	dir, err := storage.ParseURI("file://" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	web, _ := storage.ParseURI("https://example.com/a.dmp")
	m.dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(dmp), dir, web})
	settle(t, m)
	if m.dumps.Len() != 1 || m.dumps.Path(0) != dmp {
		t.Fatalf("after drop: Len %d, Path(0) %q; want only %s", m.dumps.Len(), m.dumps.Path(0), dmp)
	}
	if m.summary.State() != widgets.SummaryRows {
		t.Errorf("dropped dump not shown: %v", m.summary.State())
	}
}

func TestWindowCloseStopsEverything(t *testing.T) {
	dmp := writeScenario(t, "amd64-av-write")
	// Not newTestWindow: the test driver panics when a window closes twice.
	var m *mainWindow
	onUIWait(func() { m = newMainWindow(test.NewTempApp(t), []string{dmp}, nil) })
	settle(t, m)
	m.win.Close()
	if m.dumps.Len() != 0 || !errors.Is(m.dumps.ctx.Err(), context.Canceled) {
		t.Errorf("after closing the window: Len %d, ctx err %v", m.dumps.Len(), m.dumps.ctx.Err())
	}
}

// typeShortcut types a shortcut on the UI thread, as the keyboard would.
func typeShortcut(m *mainWindow, s fyne.Shortcut) {
	onUIWait(func() { m.win.Canvas().(fyne.Shortcutable).TypedShortcut(s) })
}

// TestWindowReceivesHandedOffFiles: files another launch hands over (a
// double-click while the workbench runs) open in this window and are
// selected.
func TestWindowReceivesHandedOffFiles(t *testing.T) {
	first, second := writeScenario(t, "amd64-av-write"), writeScenario(t, "linux-sigsegv")
	m := newTestWindow(t, []string{first}, nil)
	incoming := make(chan []string, 1)
	done := make(chan struct{})
	go func() { m.receive(incoming); close(done) }()
	incoming <- []string{second}
	close(incoming)
	<-done
	settle(t, m)
	m.uiMu.Lock()
	n, sel := m.dumps.Len(), m.list.Selected()
	m.uiMu.Unlock()
	if n != 2 || sel != 1 {
		t.Fatalf("entries %d, selected %d; want 2 and the handed-off dump (1)", n, sel)
	}
	if rows := m.dumps.Rows(1); !hasValue(rows, "SIGSEGV") {
		t.Fatalf("handed-off dump rows %v", rows)
	}
}

// tabNames lists the tab bar's tabs.
func tabNames(m *mainWindow) []string {
	var out []string
	for _, it := range m.tabs.Items {
		out = append(out, it.Text)
	}
	return out
}

// TestWindowTabs: a loaded process dump gets Summary, Console, Modules and
// Threads; a failed one only its Summary (with the workspace's Buckets
// and Compare after them in both cases); selecting another dump keeps the
// selected tab when it has it; closing drops the dump's tabs.
func TestWindowTabs(t *testing.T) {
	dmp, txt := writeScenario(t, "amd64-av-write"), textFile(t)
	m := newTestWindow(t, []string{dmp, txt}, nil)
	settle(t, m)
	onUIWait(func() { m.list.Select(0) })
	if got := tabNames(m); !slices.Equal(got, []string{"Summary", "Console", "Processes", "Threads", "Modules", "Memory map", "Hex", "Disassembly", "Buckets", "Compare"}) {
		t.Fatalf("tabs %q", got)
	}
	onUIWait(func() { m.tabs.SelectIndex(4) }) // Modules
	onUIWait(func() { m.list.Select(1) })      // the text file: an error entry
	if got := tabNames(m); !slices.Equal(got, []string{"Summary", "Buckets", "Compare"}) {
		t.Errorf("tabs of a failed file %q", got)
	}
	onUIWait(func() { m.list.Select(0) })
	if s := m.tabs.Selected(); s == nil || s.Text != "Modules" {
		t.Errorf("selected tab %v after coming back", s)
	}
	if len(m.perDump) != 1 {
		t.Errorf("%d dumps with tabs", len(m.perDump))
	}
	onUIWait(func() { m.list.Select(0); m.closeSelected() })
	if len(m.perDump) != 0 {
		t.Errorf("tabs kept after close: %d", len(m.perDump))
	}
}
