package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// PaneState is which face a data pane (the log, module and thread views)
// shows: a progress bar while its data loads, one error line, or the data.
type PaneState int

const (
	// PaneLoading shows a message and an indeterminate progress bar.
	PaneLoading PaneState = iota
	// PaneError shows one line saying why there is nothing to show.
	PaneError
	// PaneReady shows the data.
	PaneReady
)

// String returns the state's name, for test failures.
func (s PaneState) String() string {
	switch s {
	case PaneLoading:
		return "loading"
	case PaneError:
		return "error"
	case PaneReady:
		return "ready"
	}
	return "unknown"
}

// statePane switches a pane between its loading, error and ready faces.
// Its methods run on the UI thread.
type statePane struct {
	state   PaneState
	errLine string
	ready   fyne.CanvasObject
	content *fyne.Container // a Stack whose single object is the current face
	bar     *widget.ProgressBarInfinite
}

func newStatePane(ready fyne.CanvasObject) *statePane {
	p := &statePane{ready: ready, content: container.NewStack(), bar: widget.NewProgressBarInfinite()}
	p.bar.Stop()
	return p
}

// showLoading shows msg ("Reading the kernel log…") over a running bar.
func (p *statePane) showLoading(msg string) {
	p.state, p.errLine = PaneLoading, ""
	pad := theme.InnerPadding()
	bar := container.New(layout.NewCustomPaddedLayout(0, 0, pad, pad), p.bar)
	p.show(container.NewVBox(widget.NewLabel(msg), bar))
	p.bar.Start()
}

// showError shows line, wrapped and selectable, beside an error icon.
func (p *statePane) showError(line string) {
	p.state, p.errLine = PaneError, line
	p.bar.Stop() // a running bar redraws at 60 Hz even when hidden
	icon := widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	msg := selectableValue(line)
	msg.Importance = widget.DangerImportance
	lineH := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{}).Height
	top := theme.InnerPadding() - (theme.IconInlineSize()-lineH)/2
	iconBox := container.New(layout.NewCustomPaddedLayout(top, 0, 0, 0), icon)
	p.show(container.NewVBox(container.NewBorder(nil, nil, container.NewVBox(iconBox), nil, msg)))
}

// showReady shows the data face.
func (p *statePane) showReady() {
	p.state, p.errLine = PaneReady, ""
	p.bar.Stop()
	if len(p.content.Objects) != 1 || p.content.Objects[0] != p.ready {
		p.show(p.ready)
	}
}

func (p *statePane) show(face fyne.CanvasObject) {
	p.content.Objects = []fyne.CanvasObject{face}
	p.content.Refresh()
}
