package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// SecretRow is one finding of a SecretsView.
type SecretRow struct {
	Kind    string
	Address string // as shown
	Addr    uint64 // for OnSelected
	Where   string // module, region, encoding
	Context string // what surrounds it, not secret
	Preview string // redacted
	Value   string // the secret itself, shown only when values are
}

// The columns of a SecretsView, left to right.
const (
	secretKind = iota
	secretAddress
	secretWhere
	secretContext
	secretValue
	secretColumns
)

var secretColumnNames = [secretColumns]string{"Kind", "Address", "Where", "Context", "Value"}

var secretColumnWidths = [secretColumns]float32{150, 170, 220, 200, 420}

// SecretsView shows the result of a secrets scan: a summary line, the
// counts per kind, and a table of findings whose values stay redacted
// until "Show values" is ticked. Selecting a row calls OnSelected (the
// workbench opens the hex view there).
//
// Methods must be called on the UI thread.
type SecretsView struct {
	widget.BaseWidget

	// OnSelected is called with the row the user selects.
	OnSelected func(SecretRow)

	rows       []SecretRow
	showValues bool

	summary *widget.Label
	counts  *widget.Label
	show    *widget.Check
	table   *widget.Table
}

// NewSecretsView returns an empty view.
func NewSecretsView() *SecretsView {
	v := &SecretsView{summary: widget.NewLabel(""), counts: widget.NewLabel("")}
	v.summary.Wrapping = fyne.TextWrapWord
	v.counts.Wrapping = fyne.TextWrapWord
	v.show = widget.NewCheck("Show values", v.SetShowValues)
	v.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(v.rows), secretColumns },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(v.rows) {
				o.(*widget.Label).SetText(v.Cell(id.Row, id.Col))
			}
		})
	v.table.ShowHeaderColumn = false
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < secretColumns {
			o.(*widget.Label).SetText(secretColumnNames[id.Col])
		}
	}
	for c, w := range secretColumnWidths {
		v.table.SetColumnWidth(c, w)
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(v.rows) && v.OnSelected != nil {
			v.OnSelected(v.rows[id.Row])
		}
	}
	v.ExtendBaseWidget(v)
	return v
}

// SetReport shows a scan's summary, its counts per kind and its findings.
func (v *SecretsView) SetReport(summary, counts string, rows []SecretRow) {
	v.summary.SetText(summary)
	v.counts.SetText(counts)
	if counts == "" {
		v.counts.Hide()
	} else {
		v.counts.Show()
	}
	v.rows = rows
	if len(rows) == 0 {
		v.show.Hide()
	} else {
		v.show.Show()
	}
	v.table.Refresh()
}

// SetShowValues shows the secrets themselves (true) or their redacted
// previews.
func (v *SecretsView) SetShowValues(show bool) {
	v.showValues = show
	if v.show.Checked != show {
		v.show.SetChecked(show) // calls back here, which is harmless
	}
	v.table.Refresh()
}

// Cell returns the text shown at a row and column.
func (v *SecretsView) Cell(row, col int) string {
	r := v.rows[row]
	switch col {
	case secretKind:
		return r.Kind
	case secretAddress:
		return r.Address
	case secretWhere:
		return r.Where
	case secretContext:
		return r.Context
	case secretValue:
		if v.showValues && r.Value != "" {
			return r.Value
		}
		return r.Preview
	}
	return ""
}

// Len is the number of findings shown.
func (v *SecretsView) Len() int { return len(v.rows) }

// Select selects a row as a tap would.
func (v *SecretsView) Select(row int) {
	v.table.Select(widget.TableCellID{Row: row, Col: 0})
}

// CreateRenderer implements fyne.Widget.
func (v *SecretsView) CreateRenderer() fyne.WidgetRenderer {
	top := container.NewVBox(v.summary, v.counts, v.show)
	return widget.NewSimpleRenderer(container.NewBorder(top, nil, nil, nil, v.table))
}
