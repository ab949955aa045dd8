package widgets

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// CompareRow is one line of a side-by-side comparison: a section heading
// (Heading set, the rest empty) or a fact with each dump's value.
type CompareRow struct {
	Heading string
	Name    string
	A, B    string
	Same    bool
}

// CompareView shows two dumps side by side: two pickers over the open
// dumps, a verdict line, and a three-column table (fact, dump A, dump B)
// whose differing rows are highlighted.
type CompareView struct {
	widget.BaseWidget
	// OnCompare is called with the two chosen dumps' indexes into the
	// choices whenever both are chosen and one changes.
	OnCompare func(a, b int)

	choices []string
	a, b    *widget.Select
	verdict *widget.Label
	rows    []CompareRow
	table   *widget.Table
	pane    *statePane
	body    *fyne.Container
}

var compareWidths = []float32{170, 420, 420}

// differs is the highlight behind a differing row: the theme's warning
// colour, faint enough to read the text on.
func differs() color.Color {
	r, g, b, _ := theme.Color(theme.ColorNameWarning).RGBA()
	return color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 0x40}
}

// NewCompareView returns a view asking for two dumps.
func NewCompareView() *CompareView {
	v := &CompareView{verdict: widget.NewLabel("")}
	v.verdict.Wrapping = fyne.TextWrapWord
	v.verdict.TextStyle.Bold = true
	v.a = widget.NewSelect(nil, func(string) { v.changed() })
	v.b = widget.NewSelect(nil, func(string) { v.changed() })
	v.a.PlaceHolder, v.b.PlaceHolder = "Dump A", "Dump B"
	v.table = widget.NewTable(
		func() (int, int) { return len(v.rows), 3 },
		func() fyne.CanvasObject {
			bg := canvas.NewRectangle(nil)
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewStack(bg, l)
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			st := o.(*fyne.Container)
			bg, l := st.Objects[0].(*canvas.Rectangle), st.Objects[1].(*widget.Label)
			bg.FillColor = nil
			l.TextStyle = fyne.TextStyle{}
			text := ""
			if id.Row < len(v.rows) {
				r := v.rows[id.Row]
				switch {
				case r.Heading != "":
					if id.Col == 0 {
						text = r.Heading
					}
					l.TextStyle.Bold = true
				case id.Col == 0:
					text = r.Name
				case id.Col == 1:
					text = r.A
				default:
					text = r.B
				}
				if r.Heading == "" && !r.Same {
					bg.FillColor = differs()
				}
			}
			l.SetText(text)
			bg.Refresh()
		})
	for c, w := range compareWidths {
		v.table.SetColumnWidth(c, w)
	}
	v.body = container.NewBorder(v.verdict, nil, nil, nil, v.table)
	v.pane = newStatePane(v.body)
	v.ExtendBaseWidget(v)
	v.pane.showError("Choose two open dumps to compare.")
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *CompareView) CreateRenderer() fyne.WidgetRenderer {
	pick := container.NewGridWithColumns(2, v.a, v.b)
	return widget.NewSimpleRenderer(container.NewBorder(pick, nil, nil, nil, v.pane.content))
}

// SetChoices sets the dumps that can be compared (their titles), keeping
// the current choices when they are still there.
func (v *CompareView) SetChoices(titles []string) {
	v.choices = titles
	keepA, keepB := v.a.Selected, v.b.Selected
	v.a.Options, v.b.Options = titles, titles
	if indexOf(titles, keepA) < 0 {
		v.a.ClearSelected()
	}
	if indexOf(titles, keepB) < 0 {
		v.b.ClearSelected()
	}
	v.a.Refresh()
	v.b.Refresh()
}

// Choose picks dumps a and b (indexes into the choices).
func (v *CompareView) Choose(a, b int) {
	if a >= 0 && a < len(v.choices) && b >= 0 && b < len(v.choices) {
		v.a.SetSelectedIndex(a)
		v.b.SetSelectedIndex(b)
	}
}

// Chosen reports whether the user (or Choose) picked both dumps.
func (v *CompareView) Chosen() bool { return v.a.SelectedIndex() >= 0 && v.b.SelectedIndex() >= 0 }

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func (v *CompareView) changed() {
	a, b := v.a.SelectedIndex(), v.b.SelectedIndex()
	if a < 0 || b < 0 || v.OnCompare == nil {
		return
	}
	if a == b {
		v.pane.showError("Choose two different dumps.")
		return
	}
	v.pane.showLoading("Comparing…")
	v.OnCompare(a, b)
}

// ShowError shows why the comparison failed.
func (v *CompareView) ShowError(msg string) { v.pane.showError(msg) }

// SetResult shows the comparison: verdict is one line ("Same crash, 3
// modules changed"), rows the table.
func (v *CompareView) SetResult(verdict string, rows []CompareRow) {
	v.rows = rows
	v.verdict.SetText(verdict)
	v.table.Refresh()
	v.table.ScrollToTop()
	v.pane.showReady()
}

// Rows returns the rows shown.
func (v *CompareView) Rows() []CompareRow { return v.rows }

// Verdict returns the verdict line.
func (v *CompareView) Verdict() string { return v.verdict.Text }

// State returns which face the view shows.
func (v *CompareView) State() PaneState { return v.pane.state }
