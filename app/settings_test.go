package app

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/crashbench/crashbench/workspace"
)

// TestRecentFiles: File › Open Recent lists what was opened, newest first,
// without files since deleted, and opens its entries.
func TestRecentFiles(t *testing.T) {
	a, b := writeScenario(t, "amd64-av-write"), writeScenario(t, "linux-sigsegv")
	m := newTestWindow(t, []string{a}, nil)
	settle(t, m)
	onUIWait(func() { m.open(b) })
	settle(t, m)
	var labels []string
	for _, it := range m.recentMI.ChildMenu.Items {
		labels = append(labels, it.Label)
	}
	if !slices.Equal(labels, []string{b, a}) {
		t.Fatalf("recent %q, want %q", labels, []string{b, a})
	}
	onUIWait(func() { m.list.Select(0); m.closeSelected() })
	onUIWait(func() { m.recentMI.ChildMenu.Items[1].Action() })
	settle(t, m)
	if m.dumps.Len() != 2 || m.dumps.Path(m.list.Selected()) != a {
		t.Errorf("reopening from the recent menu: %d dumps, selected %q", m.dumps.Len(), m.dumps.Path(m.list.Selected()))
	}
	gone := filepath.Join(t.TempDir(), "gone.dmp")
	m.state.addRecent(gone)
	if got := m.state.recentFiles(); slices.Contains(got, gone) || len(got) != 2 {
		t.Errorf("recent files %q list a missing file or lost one", got)
	}
}

// TestSettingsApply: saved settings reach the dumps opened next and the
// theme.
func TestSettingsApply(t *testing.T) {
	m := newTestWindow(t, nil, nil)
	p := m.app.Preferences()
	p.SetString(prefSymPath, "srv*/tmp/syms*https://example.invalid/symbols")
	p.SetBool(prefOffline, true)
	p.SetString(prefTheme, "light")
	onUIWait(m.loadSettings)
	if o := m.dumps.Options; o.SymPath != "srv*/tmp/syms*https://example.invalid/symbols" || !o.Offline {
		t.Errorf("dump options %+v", o)
	}
	bg := m.app.Settings().Theme().Color(theme.ColorNameBackground, theme.VariantDark)
	if want := theme.DefaultTheme().Color(theme.ColorNameBackground, theme.VariantLight); bg != want {
		t.Errorf("light theme: background %v, want %v", bg, want)
	}
	onUIWait(m.showSettings)
	if len(m.win.Canvas().Overlays().List()) == 0 {
		t.Error("no settings dialog")
	}
}

// TestReopenLastWorkspace: the dumps open at close come back when the
// workbench starts without files; one deleted meanwhile does not.
func TestReopenLastWorkspace(t *testing.T) {
	a, b := writeScenario(t, "amd64-av-write"), writeScenario(t, "linux-sigsegv")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	var m *mainWindow
	onUIWait(func() { m = newMainWindow(test.NewTempApp(t), []string{a, b}, nil) })
	settle(t, m)
	onUIWait(m.win.Close) // closed once, by hand: the test driver panics on a second Close
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	var m2 *mainWindow
	onUIWait(func() { m2 = newMainWindow(m.app, nil, nil) })
	t.Cleanup(func() { onUIWait(m2.win.Close) })
	settle(t, m2)
	if m2.dumps.Len() != 1 || m2.dumps.Path(0) != a {
		t.Errorf("reopened %d dumps: %q", m2.dumps.Len(), m2.dumps.Path(0))
	}
	// Kept in the state file, not in Fyne's preferences (which Fyne does
	// not write atomically).
	path, _ := workspace.StatePath()
	if st, err := workspace.LoadState(path); err != nil || !slices.Contains(st.Open, a) || len(m.app.Preferences().StringList(prefOpen)) != 0 {
		t.Errorf("state file %s: %+v, %v", path, st, err)
	}
}

// TestStateTakenOverFromPreferences: on the first start with a state file,
// the open dumps and recent files earlier versions kept in the preferences
// come back.
func TestStateTakenOverFromPreferences(t *testing.T) {
	a := writeScenario(t, "amd64-av-write")
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	p := test.NewTempApp(t).Preferences()
	p.SetStringList(prefOpen, []string{a})
	p.SetStringList(prefRecent, []string{a})
	st := loadState(p)
	if got := st.lastOpen(); !slices.Equal(got, []string{a}) {
		t.Errorf("lastOpen = %q", got)
	}
	if got := st.recentFiles(); !slices.Equal(got, []string{a}) {
		t.Errorf("recentFiles = %q", got)
	}
}

// TestExportFromWindow writes a minimal copy of the selected dump, as
// File › Export Minimal Copy… does after its save dialog.
func TestExportFromWindow(t *testing.T) {
	m := newTestWindow(t, []string{writeScenario(t, "sample")}, nil)
	settle(t, m)
	onUIWait(func() { m.list.Select(0) })
	if m.exportMI.Disabled {
		t.Fatal("export disabled with a dump selected")
	}
	out := filepath.Join(t.TempDir(), "min.dmp")
	onUIWait(func() { m.export(m.dumps.Session(0), out) })
	waitFor(t, "the copy", func() bool {
		fi, err := os.Stat(out)
		return err == nil && fi.Size() > 0 && len(m.win.Canvas().Overlays().List()) > 0
	}, 10*time.Second)
}
