// Package assets holds Crashbench's bundled resources. They are embedded
// with go:embed rather than `fyne bundle`, so the PNG in this folder is the
// only copy and nothing needs regenerating when it changes.
package assets

import (
	_ "embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the application icon (256×256 PNG): a stack of call frames struck
// by a lightning bolt. FyneApp.toml points `fyne package` at the same file.
var Icon fyne.Resource = fyne.NewStaticResource("icon.png", iconPNG)
