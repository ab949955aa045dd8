package app

import (
	"image/color"
	"os"
	"path/filepath"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// The workbench's own settings, kept in Fyne's preferences store (a JSON
// file under the user's config folder, per app ID).
const (
	prefRecent  = "recent"  // the files opened last, newest first
	prefSymPath = "sympath" // the symbol path for dumps opened from now on
	prefOffline = "offline" // keep symbol loads off the network
	prefTheme   = "theme"   // "system", "light" or "dark"
	prefOpen    = "open"    // the dumps open when the workbench last closed

	recentLimit = 10
)

// Themes are the theme setting's choices.
var Themes = []string{"system", "light", "dark"}

// addRecent puts paths at the head of the recent files, newest first,
// without duplicates.
func addRecent(p fyne.Preferences, paths ...string) {
	list := p.StringList(prefRecent)
	for _, path := range paths {
		list = slices.DeleteFunc(list, func(s string) bool { return s == path })
		list = append([]string{path}, list...)
	}
	p.SetStringList(prefRecent, list[:min(len(list), recentLimit)])
}

// recentFiles returns the recent files that still exist.
func recentFiles(p fyne.Preferences) []string {
	var out []string
	for _, path := range p.StringList(prefRecent) {
		if _, err := os.Stat(path); err == nil {
			out = append(out, path)
		}
	}
	return out
}

// saveOpen remembers the open dumps, for the next start without files.
func saveOpen(p fyne.Preferences, d *Dumps) {
	var paths []string
	for i := range d.Len() {
		paths = append(paths, d.Path(i))
	}
	p.SetStringList(prefOpen, paths)
}

// lastOpen returns the dumps open at the last close that still exist.
func lastOpen(p fyne.Preferences) []string {
	var out []string
	for _, path := range p.StringList(prefOpen) {
		if _, err := os.Stat(path); err == nil {
			out = append(out, path)
		}
	}
	return out
}

// variantTheme is the default theme held to one variant, for the light
// and dark settings; "system" follows the desktop.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

// applyTheme sets the app's theme from the setting.
func applyTheme(a fyne.App, name string) {
	switch name {
	case "light":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantLight})
	case "dark":
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), theme.VariantDark})
	default:
		a.Settings().SetTheme(theme.DefaultTheme())
	}
}

// cacheDirs lists where the workbench keeps what it downloads or unpacks,
// for the settings dialog.
func cacheDirs() [][2]string {
	base, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return [][2]string{
		{"Symbols", filepath.Join(base, "crashbench", "symbols")},
		{"Unpacked dumps", filepath.Join(base, "crashbench", "unpacked")},
		{"Inflated DWARF", filepath.Join(base, "crashbench", "dwarf")},
		{"debuginfod", filepath.Join(base, "crashbench", "debuginfod")},
	}
}
