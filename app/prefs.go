package app

import (
	"image/color"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// The workbench's own settings, kept in Fyne's preferences store (a JSON
// file under the user's config folder, per app ID). The open dumps and the
// recent files are workspace state, kept apart and saved atomically
// (state.go).
const (
	prefSymPath = "sympath" // the symbol path for dumps opened from now on
	prefOffline = "offline" // keep symbol loads off the network
	prefTheme   = "theme"   // "system", "light" or "dark"

	// Where earlier versions kept the workspace state, read once when
	// there is no state file yet.
	prefRecent = "recent"
	prefOpen   = "open"

	recentLimit = 10
)

// Themes are the theme setting's choices.
var Themes = []string{"system", "light", "dark"}

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
