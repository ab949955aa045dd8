package app

import (
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/crashbench/crashbench/core/session"
)

// loadSettings applies the saved settings: the theme, and the symbol
// options of the dumps the window opens.
func (m *mainWindow) loadSettings() {
	p := m.app.Preferences()
	applyTheme(m.app, p.StringWithFallback(prefTheme, "system"))
	m.dumps.Options = session.Options{SymPath: p.String(prefSymPath), Offline: p.Bool(prefOffline)}
}

// showSettings shows the settings dialog: the symbol path, offline
// symbols, the theme, and where caches, the index and watched folders
// are.
func (m *mainWindow) showSettings() {
	p := m.app.Preferences()
	sympath := widget.NewEntry()
	sympath.SetText(p.String(prefSymPath))
	sympath.SetPlaceHolder("srv*C:\\symbols*https://msdl.microsoft.com/download/symbols (default: _NT_SYMBOL_PATH)")
	offline := widget.NewCheck("Never ask symbol servers or debuginfod (their caches are still read)", nil)
	offline.SetChecked(p.Bool(prefOffline))
	themeSel := widget.NewSelect(Themes, nil)
	themeSel.SetSelected(p.StringWithFallback(prefTheme, "system"))

	var where []*widget.FormItem
	for _, c := range cacheDirs() {
		where = append(where, widget.NewFormItem(c[0], pathLabel(c[1])))
	}
	if path := m.ws.Path(); path != "" {
		where = append(where, widget.NewFormItem("Workspace index", pathLabel(path)))
	}
	folders := widget.NewLabel("none: add them with + in the sidebar")
	if fs := m.ws.Folders(); len(fs) > 0 {
		folders.SetText("")
		for i, f := range fs {
			if i > 0 {
				folders.Text += "\n"
			}
			folders.Text += f.Path + " (" + f.Status + ")"
		}
	}
	where = append(where, widget.NewFormItem("Watched folders", folders))

	items := []*widget.FormItem{
		widget.NewFormItem("Symbol path", sympath),
		widget.NewFormItem("", offline),
		widget.NewFormItem("Theme", themeSel),
		widget.NewFormItem("", widget.NewLabel("The symbol settings apply to dumps opened from now on.")),
	}
	items = append(items, where...)
	d := dialog.NewForm("Settings", "Save", "Cancel", items, func(save bool) {
		if !save {
			return
		}
		p.SetString(prefSymPath, sympath.Text)
		p.SetBool(prefOffline, offline.Checked)
		p.SetString(prefTheme, themeSel.Selected)
		m.loadSettings()
	}, m.win)
	d.Resize(fyne.NewSize(820, 520))
	d.Show()
}

// pathLabel shows a path that can be selected and copied.
func pathLabel(path string) fyne.CanvasObject {
	l := widget.NewLabel(filepath.Clean(path))
	l.Selectable = true
	l.Truncation = fyne.TextTruncateEllipsis
	return container.NewStack(l)
}

// recentMenu is File › Open Recent: the files opened last that still
// exist, or a disabled placeholder.
func (m *mainWindow) recentMenu() *fyne.Menu {
	var items []*fyne.MenuItem
	for _, path := range m.state.recentFiles() {
		items = append(items, fyne.NewMenuItem(path, func() { m.open(path) }))
	}
	if len(items) == 0 {
		none := fyne.NewMenuItem("No recent dumps", nil)
		none.Disabled = true
		items = append(items, none)
	}
	return fyne.NewMenu("Open Recent", items...)
}
