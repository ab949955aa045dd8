package widgets

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ModuleRow is one module of a ModTable.
type ModuleRow struct {
	Name    string
	Base    uint64
	Size    uint64
	Version string
	Time    time.Time // zero when the dump records none
	Path    string
	Symbols string // "deferred", "pdb symbols", "no symbols", "unloaded"…
	// OnStack marks a module with a frame on the crashing thread's stack,
	// which the table highlights, as BlueScreenView does.
	OnStack bool
	// Faulting marks the module the analysis blames; it is shown in bold.
	Faulting bool
}

// ModColumn is a column of a ModTable.
type ModColumn int

// The columns, left to right.
const (
	ModName ModColumn = iota
	ModBase
	ModSize
	ModVersion
	ModTimestamp
	ModSymbols
	ModPath
	modColumns
)

var modColumnNames = [modColumns]string{"Name", "Base", "Size", "Version", "Timestamp", "Symbols", "Path"}

var modColumnWidths = [modColumns]float32{150, 160, 90, 130, 150, 150, 380}

// String returns the column's heading.
func (c ModColumn) String() string {
	if c < 0 || c >= modColumns {
		return "?"
	}
	return modColumnNames[c]
}

// Cell returns the text the table shows for r in column c. Addresses are
// 16 hex digits when wide, else 8.
func (r ModuleRow) Cell(c ModColumn, wide bool) string {
	switch c {
	case ModName:
		return r.Name
	case ModBase:
		if wide {
			return fmt.Sprintf("%08x`%08x", r.Base>>32, r.Base&0xffffffff)
		}
		return fmt.Sprintf("%08x", r.Base)
	case ModSize:
		return fmt.Sprintf("%#x", r.Size)
	case ModVersion:
		return r.Version
	case ModTimestamp:
		if r.Time.IsZero() {
			return ""
		}
		return r.Time.UTC().Format("2006-01-02 15:04:05")
	case ModPath:
		return r.Path
	case ModSymbols:
		return r.Symbols
	}
	return ""
}

// compareModules orders a and b by column c: numbers and times by value,
// text ignoring case, ties by base.
func compareModules(a, b ModuleRow, c ModColumn) int {
	var n int
	switch c {
	case ModBase:
		n = cmp.Compare(a.Base, b.Base)
	case ModSize:
		n = cmp.Compare(a.Size, b.Size)
	case ModTimestamp:
		n = a.Time.Compare(b.Time)
	default:
		n = strings.Compare(strings.ToLower(a.Cell(c, true)), strings.ToLower(b.Cell(c, true)))
	}
	if n == 0 && c != ModBase {
		n = cmp.Compare(a.Base, b.Base)
	}
	return n
}

// SortModules sorts rows by column c, descending when desc, keeping the
// order of rows that compare equal.
func SortModules(rows []ModuleRow, c ModColumn, desc bool) {
	slices.SortStableFunc(rows, func(a, b ModuleRow) int {
		if desc {
			return compareModules(b, a, c)
		}
		return compareModules(a, b, c)
	})
}

// FilterModules returns the indices of the rows whose name, path,
// version, symbol status or base (as shown) contains query, ignoring
// case; every index when query is blank.
func FilterModules(rows []ModuleRow, query string, wide bool) []int {
	q := strings.ToLower(strings.TrimSpace(query))
	out := make([]int, 0, len(rows))
	for i, r := range rows {
		if q == "" {
			out = append(out, i)
			continue
		}
		for _, c := range []ModColumn{ModName, ModPath, ModVersion, ModSymbols, ModBase} {
			if strings.Contains(strings.ToLower(r.Cell(c, wide)), q) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// ModTable is a module list as a sortable table: tapping a column heading
// sorts by that column, tapping it again reverses the order. The filter
// entry above keeps the modules whose name, path, version, symbol status
// or base contains its text. Modules on the crashing stack are
// highlighted, the faulting one in bold.
//
// ShowLoading, ShowError, SetModules, SortBy and SetFilter must be called
// on the UI thread.
type ModTable struct {
	widget.BaseWidget

	pane     *statePane
	rows     []ModuleRow // every module, in the current sort order
	view     []int       // indices into rows that pass the filter
	sortCol  ModColumn
	sortDesc bool
	sorted   bool // false: the order the caller gave
	query    string
	wide     bool

	table  *widget.Table
	filter *widget.Entry
	count  *widget.Label
}

// NewModTable returns an empty table in the loading state.
func NewModTable() *ModTable {
	t := &ModTable{}
	t.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(t.view), int(modColumns) },
		newModCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(t.view) {
				r := t.rows[t.view[id.Row]]
				o.(*modCell).update(r.Cell(ModColumn(id.Col), t.wide), r.OnStack, r.Faulting)
			}
		})
	t.table.ShowHeaderColumn = false
	t.table.CreateHeader = func() fyne.CanvasObject { return newModHeader() }
	t.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		h := o.(*modHeader)
		col := ModColumn(id.Col)
		h.onTap = func() { t.SortBy(col) }
		h.label.SetText(t.heading(col))
	}
	for c, w := range modColumnWidths {
		t.table.SetColumnWidth(c, w)
	}
	t.filter = widget.NewEntry()
	t.filter.SetPlaceHolder("Filter modules")
	t.filter.OnChanged = t.applyFilter
	t.count = widget.NewLabel("")
	top := container.NewBorder(nil, nil, nil, t.count, t.filter)
	t.pane = newStatePane(container.NewBorder(top, nil, nil, nil, t.table))
	t.ExtendBaseWidget(t)
	t.ShowLoading()
	return t
}

// CreateRenderer implements fyne.Widget.
func (t *ModTable) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(t.pane.content)
}

// State returns which face the table shows.
func (t *ModTable) State() PaneState { return t.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (t *ModTable) ErrorLine() string { return t.pane.errLine }

// ShowLoading shows that the module list is being read.
func (t *ModTable) ShowLoading() { t.pane.showLoading("Reading the module list…") }

// ShowError shows line, the one-line reason there are no modules to show.
func (t *ModTable) ShowError(line string) {
	t.rows, t.view = nil, nil
	t.pane.showError(line)
}

// SetModules shows rows, keeping the current sort order and filter; it
// may be called again with the same modules, e.g. once the crash stack is
// known. The table keeps its own copy.
func (t *ModTable) SetModules(rows []ModuleRow) {
	t.rows = slices.Clone(rows)
	t.wide = false
	for _, r := range rows {
		if r.Base+r.Size > 1<<32 {
			t.wide = true
		}
	}
	if t.sorted {
		SortModules(t.rows, t.sortCol, t.sortDesc)
	}
	t.pane.showReady()
	t.applyFilter(t.query)
}

// SortBy sorts by column c, ascending, or reverses the order when the
// table is already sorted by c.
func (t *ModTable) SortBy(c ModColumn) {
	if c < 0 || c >= modColumns {
		return
	}
	if t.sorted && t.sortCol == c {
		t.sortDesc = !t.sortDesc
	} else {
		t.sorted, t.sortCol, t.sortDesc = true, c, false
	}
	SortModules(t.rows, t.sortCol, t.sortDesc)
	t.applyFilter(t.query)
}

// Sort returns the column the table is sorted by and whether the order is
// descending; ok is false while the table keeps the caller's order.
func (t *ModTable) Sort() (c ModColumn, desc, ok bool) { return t.sortCol, t.sortDesc, t.sorted }

// SetFilter sets the filter text, as typing it would.
func (t *ModTable) SetFilter(query string) {
	t.filter.SetText(query)
	if t.query != query {
		t.applyFilter(query)
	}
}

// Len returns the number of modules, filtered or not.
func (t *ModTable) Len() int { return len(t.rows) }

// Shown returns the rows the table shows, in order.
func (t *ModTable) Shown() []ModuleRow {
	out := make([]ModuleRow, len(t.view))
	for i, j := range t.view {
		out[i] = t.rows[j]
	}
	return out
}

// CountText returns the count shown beside the filter entry.
func (t *ModTable) CountText() string { return t.count.Text }

func (t *ModTable) heading(c ModColumn) string {
	h := c.String()
	if t.sorted && t.sortCol == c {
		if t.sortDesc {
			return h + " ▼"
		}
		return h + " ▲"
	}
	return h
}

func (t *ModTable) applyFilter(query string) {
	t.query = query
	t.view = FilterModules(t.rows, query, t.wide)
	onStack := 0
	for _, r := range t.rows {
		if r.OnStack {
			onStack++
		}
	}
	text := fmt.Sprintf("%d modules", len(t.rows))
	if strings.TrimSpace(query) != "" {
		text = fmt.Sprintf("%d of %d modules", len(t.view), len(t.rows))
	}
	if onStack > 0 {
		text += fmt.Sprintf(" · %d on the crash stack", onStack)
	}
	t.count.SetText(text)
	t.table.Refresh()
}

// modHeader is a column heading that sorts when tapped.
type modHeader struct {
	widget.BaseWidget
	label *widget.Label
	onTap func()
}

func newModHeader() *modHeader {
	h := &modHeader{label: widget.NewLabel("Timestamp ▲")}
	h.label.TextStyle.Bold = true
	h.label.Truncation = fyne.TextTruncateEllipsis
	h.ExtendBaseWidget(h)
	return h
}

func (h *modHeader) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(h.label) }

// Tapped implements fyne.Tappable.
func (h *modHeader) Tapped(*fyne.PointEvent) {
	if h.onTap != nil {
		h.onTap()
	}
}

// modCell is one recycled cell: a label on a background showing the
// crash-stack highlight.
type modCell struct {
	widget.BaseWidget
	bg    *canvas.Rectangle
	label *widget.Label
	mark  bool
}

func newModCell() fyne.CanvasObject {
	c := &modCell{bg: canvas.NewRectangle(color.Transparent), label: widget.NewLabel("")}
	c.label.Truncation = fyne.TextTruncateEllipsis
	c.ExtendBaseWidget(c)
	return c
}

func (c *modCell) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(c.bg, c.label))
}

func (c *modCell) update(text string, onStack, faulting bool) {
	c.mark = onStack
	c.label.TextStyle.Bold = faulting
	c.label.Text = text
	c.label.Refresh()
	c.Refresh()
}

// Refresh implements fyne.Widget: the background follows the theme.
func (c *modCell) Refresh() {
	c.bg.FillColor = color.Transparent
	if c.mark {
		c.bg.FillColor = highlightColor(c.Theme(), fyne.CurrentApp().Settings().ThemeVariant(), theme.ColorNameWarning)
	}
	c.bg.Refresh()
	c.BaseWidget.Refresh()
}
