package widgets

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// LogLine is one line of a kernel log. Highlight marks the lines of the
// crash report (the panic message through the end of its call trace); the
// caller decides which lines those are.
type LogLine struct {
	Text      string
	Highlight bool
}

// FilterLines returns the indices of the lines containing query, ignoring
// case; every index when query is blank.
func FilterLines(lines []LogLine, query string) []int {
	q := strings.ToLower(strings.TrimSpace(query))
	out := make([]int, 0, len(lines))
	for i, l := range lines {
		if q == "" || strings.Contains(strings.ToLower(l.Text), q) {
			out = append(out, i)
		}
	}
	return out
}

// LogView shows a kernel log as a virtualised list of monospace lines with
// the crash report's lines highlighted. The search entry above it filters:
// only the lines containing the text (ignoring case) stay, and a count
// says "N of M lines". Tapping a line shows it in full, selectable, under
// the list (long lines are clipped in the list).
//
// ShowLoading, ShowError, SetLines and SetFilter must be called on the UI
// thread.
type LogView struct {
	widget.BaseWidget

	pane    *statePane
	lines   []LogLine
	visible []int // indices into lines that pass the filter
	query   string

	list   *widget.List
	search *widget.Entry
	count  *widget.Label
	toJump *widget.Button
	detail *widget.Label
}

// NewLogView returns an empty log view in the loading state.
func NewLogView() *LogView {
	v := &LogView{}
	v.list = widget.NewList(func() int { return len(v.visible) }, newLogRow,
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.visible) {
				o.(*logRow).update(v.lines[v.visible[id]])
			}
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		if id < len(v.visible) {
			v.detail.SetText(v.lines[v.visible[id]].Text)
			v.detail.Show()
		}
	}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Filter lines")
	v.search.OnChanged = v.applyFilter
	v.count = widget.NewLabel("")
	v.toJump = widget.NewButtonWithIcon("Panic", theme.MoveDownIcon(), v.ScrollToHighlight)
	v.toJump.Disable()
	v.detail = selectableValue("")
	v.detail.TextStyle.Monospace = true
	v.detail.Hide()
	top := container.NewBorder(nil, nil, nil, container.NewHBox(v.count, v.toJump), v.search)
	v.pane = newStatePane(container.NewBorder(top, v.detail, nil, nil, v.list))
	v.ExtendBaseWidget(v)
	v.ShowLoading()
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *LogView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.pane.content)
}

// State returns which face the view shows.
func (v *LogView) State() PaneState { return v.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (v *LogView) ErrorLine() string { return v.pane.errLine }

// ShowLoading shows that the log is being read.
func (v *LogView) ShowLoading() { v.pane.showLoading("Reading the kernel log…") }

// ShowError shows line, the one-line reason there is no log to show.
func (v *LogView) ShowError(line string) {
	v.lines, v.visible = nil, nil
	v.pane.showError(line)
}

// SetLines shows lines, keeping the current filter. The view keeps the
// slice; the caller must not change it afterwards.
func (v *LogView) SetLines(lines []LogLine) {
	v.lines = lines
	v.toJump.Disable()
	for _, l := range lines {
		if l.Highlight {
			v.toJump.Enable()
			break
		}
	}
	v.pane.showReady()
	v.applyFilter(v.query)
}

// SetFilter sets the search text, as typing it would.
func (v *LogView) SetFilter(query string) {
	v.search.SetText(query) // calls applyFilter through OnChanged
	if v.query != query {
		v.applyFilter(query)
	}
}

// Filter returns the search text.
func (v *LogView) Filter() string { return v.query }

// Len returns the number of lines.
func (v *LogView) Len() int { return len(v.lines) }

// Shown returns the lines that pass the filter, in order.
func (v *LogView) Shown() []LogLine {
	out := make([]LogLine, len(v.visible))
	for i, j := range v.visible {
		out[i] = v.lines[j]
	}
	return out
}

// CountText returns the count shown beside the search entry.
func (v *LogView) CountText() string { return v.count.Text }

// ScrollToHighlight scrolls to the first highlighted line that passes
// the filter, the start of the crash report.
func (v *LogView) ScrollToHighlight() {
	for i, j := range v.visible {
		if v.lines[j].Highlight {
			v.list.ScrollTo(i)
			return
		}
	}
}

func (v *LogView) applyFilter(query string) {
	v.query = query
	v.visible = FilterLines(v.lines, query)
	if strings.TrimSpace(query) == "" {
		v.count.SetText(fmt.Sprintf("%d lines", len(v.lines)))
	} else {
		v.count.SetText(fmt.Sprintf("%d of %d lines", len(v.visible), len(v.lines)))
	}
	v.list.UnselectAll()
	v.detail.Hide()
	v.list.Refresh()
	v.list.ScrollToTop()
}

// logRow is one recycled line: monospace text on a background that shows
// the highlight. It is a canvas.Text with a thin padding rather than a
// Label, so that a log reads as a log, not as a spaced-out list.
type logRow struct {
	widget.BaseWidget
	bg   *canvas.Rectangle
	text *canvas.Text
	line LogLine
}

func newLogRow() fyne.CanvasObject {
	r := &logRow{bg: canvas.NewRectangle(color.Transparent), text: canvas.NewText("", color.Black)}
	r.text.TextStyle.Monospace = true
	r.ExtendBaseWidget(r)
	return r
}

func (r *logRow) update(l LogLine) {
	r.line = l
	r.Refresh()
}

func (r *logRow) CreateRenderer() fyne.WidgetRenderer {
	return &logRowRenderer{row: r}
}

type logRowRenderer struct{ row *logRow }

func (lr *logRowRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{lr.row.bg, lr.row.text}
}

func (lr *logRowRenderer) Layout(size fyne.Size) {
	r := lr.row
	r.bg.Resize(size)
	pad := theme.Padding()
	r.text.Move(fyne.NewPos(theme.InnerPadding(), pad))
	r.text.Resize(fyne.NewSize(size.Width-theme.InnerPadding(), size.Height-2*pad))
}

func (lr *logRowRenderer) MinSize() fyne.Size {
	h := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height
	return fyne.NewSize(0, h+2*theme.Padding())
}

func (lr *logRowRenderer) Refresh() {
	r := lr.row
	th := r.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.text.Text = r.line.Text
	r.text.TextSize = th.Size(theme.SizeNameText)
	r.text.Color = th.Color(theme.ColorNameForeground, v)
	r.bg.FillColor = color.Transparent
	if r.line.Highlight {
		r.bg.FillColor = highlightColor(th, v, theme.ColorNameError)
	}
	r.bg.Refresh()
	r.text.Refresh()
}

func (lr *logRowRenderer) Destroy() {}

// highlightColor is a theme colour faded enough that foreground text stays
// readable on it in both the light and the dark variant.
func highlightColor(th fyne.Theme, v fyne.ThemeVariant, name fyne.ThemeColorName) color.Color {
	c := color.NRGBAModel.Convert(th.Color(name, v)).(color.NRGBA)
	c.A = 0x40
	return c
}
