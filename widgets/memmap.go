package widgets

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// MapRow is one region of a MemoryMap.
type MapRow struct {
	Start, Size uint64
	Kind        string // "image", "mapped", "private", "stack", "heap" or "unknown"
	Prot        string // "r-x"; "---" when the dump does not say
	Captured    bool   // the dump holds the region's bytes
	// State is why an uncaptured region has no bytes ("reserved",
	// "free"); "" or "absent" read as "not in dump".
	State string
	Name  string // drawn on the block, e.g. a module's file name; "" draws the kind
	Usage string // !address's Usage column
}

// End returns the first address after the region, saturating at 2^64-1.
func (r MapRow) End() uint64 {
	if e := r.Start + r.Size; e >= r.Start {
		return e
	}
	return math.MaxUint64
}

// StateText is the State column: "captured", "not in dump", or the
// region's own state when it has no memory behind it (reserved, free).
func (r MapRow) StateText() string {
	switch {
	case r.Captured:
		return "captured"
	case r.State == "" || r.State == "absent":
		return "not in dump"
	}
	return r.State
}

// MapColumn is a column of the memory map's table.
type MapColumn int

// The columns, left to right.
const (
	MapStart MapColumn = iota
	MapEnd
	MapSize
	MapKind
	MapProtect
	MapState
	MapUsage
	mapColumns
)

var mapColumnNames = [mapColumns]string{"Start", "End", "Size", "Kind", "Protect", "State", "Usage"}

var mapColumnWidths = [mapColumns]float32{170, 170, 110, 110, 80, 110, 420}

// String returns the column's heading.
func (c MapColumn) String() string {
	if c < 0 || c >= mapColumns {
		return "?"
	}
	return mapColumnNames[c]
}

// Cell returns the text the table shows for r in column c. Addresses are
// 16 hex digits when wide, else 8; End is exclusive, as !address prints it.
func (r MapRow) Cell(c MapColumn, wide bool) string {
	switch c {
	case MapStart:
		return mapAddr(r.Start, wide)
	case MapEnd:
		return mapAddr(r.End(), wide)
	case MapSize:
		return fmt.Sprintf("%#x", r.Size)
	case MapKind:
		return r.Kind
	case MapProtect:
		return r.Prot
	case MapState:
		return r.StateText()
	case MapUsage:
		return r.Usage
	}
	return ""
}

func mapAddr(a uint64, wide bool) string {
	if wide {
		return fmt.Sprintf("%08x`%08x", a>>32, a&0xffffffff)
	}
	return fmt.Sprintf("%08x", a)
}

// readableSize is a size for reading: "256 B", "64 KiB", "95.9 MiB".
func readableSize(n uint64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	for _, u := range units {
		v /= 1024
		if v < 1024 || u == "EiB" {
			if v == math.Trunc(v) || v >= 100 {
				return fmt.Sprintf("%.0f %s", v, u)
			}
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	return ""
}

// RegionDetails is the line the map shows for a hovered or selected
// region: its range, size, kind, protection, whether the dump holds it
// and its usage.
func RegionDetails(r MapRow) string {
	s := fmt.Sprintf("%s – %s · %s (%#x) · %s · %s · %s",
		mapAddr(r.Start, true), mapAddr(r.End(), true), readableSize(r.Size), r.Size, r.Kind, r.Prot, r.StateText())
	if r.Usage != "" {
		s += " · " + r.Usage
	}
	return s
}

// blockLabel is the text drawn on a region's block.
func (r MapRow) blockLabel() string {
	if r.Name != "" {
		return r.Name
	}
	return r.Kind
}

// The band's layout, in device-independent pixels at zoom 1. The address
// space is 64-bit and sparse, so widths do not follow addresses: a block
// grows with the logarithm of its region's size from a minimum (a page or
// less), and the space between regions that do not touch collapses to a
// fixed gap.
const (
	bandInset    = 4  // before the first block and after the last
	blockMin     = 28 // a region of a page or less
	blockPerDbl  = 9  // added per doubling of the size beyond a page
	gapWidth     = 14 // unlisted address space between two regions
	joinWidth    = 1  // between regions that touch, at any zoom
	minBlockPx   = 3  // however far the map is zoomed out
	minGapPx     = 4
	maxZoom      = 40
	minZoom      = 0.02
	zoomStep     = 1.5
	doubleTapGap = 400 * time.Millisecond
)

// bandSpan is the horizontal extent [X0, X1) of a region's block in the band.
type bandSpan struct{ X0, X1 float32 }

// blockWidth is a region's width at zoom 1.
func blockWidth(size uint64) float32 {
	if size <= 4096 {
		return blockMin
	}
	return blockMin + blockPerDbl*float32(math.Log2(float64(size)/4096))
}

// bandLayout places rows, in address order, at zoom z and returns each
// block's span and the band's width.
func bandLayout(rows []MapRow, z float32) ([]bandSpan, float32) {
	spans := make([]bandSpan, len(rows))
	x := float32(bandInset)
	for i, r := range rows {
		if i > 0 {
			if r.Start > rows[i-1].End() {
				x += max(minGapPx, gapWidth*z)
			} else {
				x += joinWidth
			}
		}
		w := max(minBlockPx, blockWidth(r.Size)*z)
		spans[i] = bandSpan{x, x + w}
		x += w
	}
	return spans, x + bandInset
}

// fitZoom returns the largest zoom at which rows fit in width, within
// [minZoom, maxZoom]: minZoom when even that is too wide.
func fitZoom(rows []MapRow, width float32) float32 {
	lo, hi := float32(minZoom), float32(maxZoom)
	if _, w := bandLayout(rows, hi); w <= width {
		return hi
	}
	if _, w := bandLayout(rows, lo); w > width {
		return lo
	}
	for range 40 { // the band's width grows with the zoom
		mid := (lo + hi) / 2
		if _, w := bandLayout(rows, mid); w <= width {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// bandLocate finds x in the band: the block i it falls in, or the gap before
// block i (gap true); i is len(spans) past the last block.
func bandLocate(spans []bandSpan, x float32) (i int, gap bool) {
	i = sort.Search(len(spans), func(i int) bool { return spans[i].X1 > x })
	return i, i == len(spans) || x < spans[i].X0
}

// regionAt returns the block under x, -1 for a gap or outside the band.
// A block's left edge belongs to it, its right edge to what follows.
func regionAt(spans []bandSpan, x float32) int {
	if i, gap := bandLocate(spans, x); !gap {
		return i
	}
	return -1
}

// zoomOffset returns the band's scroll offset after a zoom from spans before
// to after, so that the point under the cursor (at cursor in a viewport of
// width view, scrolled by offset) stays under it: the same block, or the
// same gap, at the same fraction of its width. The offset is clamped to
// the new band, whose width is width.
func zoomOffset(before, after []bandSpan, offset, cursor, view, width float32) float32 {
	x := offset + cursor
	i, gap := bandLocate(before, x)
	var nx float32
	switch {
	case len(before) == 0 || len(before) != len(after):
		nx = x
	case i == 0 && gap:
		nx = x // the band's inset, which does not scale
	case i == len(before):
		nx = after[i-1].X1 + x - before[i-1].X1 // past the last block
	case gap:
		g0, g1, n0, n1 := before[i-1].X1, before[i].X0, after[i-1].X1, after[i].X0
		nx = n0 + (x-g0)/(g1-g0)*(n1-n0)
	default:
		f := (x - before[i].X0) / (before[i].X1 - before[i].X0)
		nx = after[i].X0 + f*(after[i].X1-after[i].X0)
	}
	return min(max(nx-cursor, 0), max(width-view, 0))
}

// scrollToShow returns the scroll offset that brings s into a viewport
// of width view: offset itself when s is in view, else s centred.
func scrollToShow(s bandSpan, offset, view, width float32) float32 {
	if s.X0 >= offset && s.X1 <= offset+view {
		return offset
	}
	return min(max((s.X0+s.X1)/2-view/2, 0), max(width-view, 0))
}

// Region colours: the Okabe–Ito palette, told apart with the common forms
// of colour blindness and bright enough for dark text on the dark theme.
var (
	kindColors = map[string]color.NRGBA{
		"image":   {0x56, 0xb4, 0xe9, 0xff}, // sky blue
		"mapped":  {0xcc, 0x79, 0xa7, 0xff}, // reddish purple
		"private": {0x00, 0x9e, 0x73, 0xff}, // bluish green
		"stack":   {0xe6, 0x9f, 0x00, 0xff}, // orange
		"heap":    {0xf0, 0xe4, 0x42, 0xff}, // yellow
		"unknown": {0x99, 0x99, 0x99, 0xff}, // grey
	}
	mapKinds   = []string{"image", "mapped", "private", "stack", "heap", "unknown"}
	execColor  = color.NRGBA{0xd5, 0x5e, 0x00, 0xff} // vermillion
	blockInk   = color.NRGBA{0x10, 0x10, 0x10, 0xff} // text on a captured block
	absentFill = uint8(0x38)                         // alpha of an uncaptured block
)

// KindColor returns the colour regions of kind are drawn in.
func KindColor(kind string) color.NRGBA {
	if c, ok := kindColors[kind]; ok {
		return c
	}
	return kindColors["unknown"]
}

// MemoryMap shows a dump's address space: a band of blocks, one per
// region coloured by kind, above a table of the regions. Executable
// regions have a vermillion mark above their block, writable ones a mark
// below it; regions the dump did not capture are drawn dim and outlined.
// Gaps between regions are collapsed and block widths grow with the
// logarithm of the size, so that small regions stay visible.
//
// The mouse wheel zooms the band around the pointer (a horizontal wheel
// or a drag pans it), as do the −, + and Fit buttons. Hovering a block
// shows its details. Clicking a block or a table row selects the region
// in both; double-clicking a block, or the "Open in hex" button, calls
// OnOpenHex with the region's start.
//
// ShowLoading, ShowError, SetRegions, Select and the zoom methods must
// be called on the UI thread.
type MemoryMap struct {
	widget.BaseWidget

	// OnOpenHex is called with the start of the region the user wants to
	// see in the hex view, on the UI thread.
	OnOpenHex func(addr uint64)

	pane     *statePane
	rows     []MapRow
	wide     bool
	selected int

	band    *mapBand
	scroll  *container.Scroll
	table   *widget.Table
	title   *widget.Label
	summary *widget.Label
	details *widget.Label
	zoomOut *widget.Button
	zoomIn  *widget.Button
	fit     *widget.Button
	openHex *widget.Button
}

// NewMemoryMap returns an empty map in the loading state.
func NewMemoryMap() *MemoryMap {
	m := &MemoryMap{selected: -1}
	m.band = newMapBand(m)
	m.scroll = container.NewHScroll(m.band)
	m.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(m.rows), int(mapColumns) },
		newMapCell,
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row < len(m.rows) {
				c := o.(*mapCell)
				c.row = id.Row
				c.update(m.rows[id.Row], MapColumn(id.Col), m.wide, id.Row == m.selected)
			}
		})
	m.table.ShowHeaderColumn = false
	m.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(MapColumn(id.Col).String())
	}
	for c, w := range mapColumnWidths {
		m.table.SetColumnWidth(c, w)
	}
	// The table highlights whole rows itself: its own cell selection is
	// dropped at once, so that clicking the same row again still selects.
	m.table.OnSelected = func(id widget.TableCellID) {
		m.table.Unselect(id)
		m.selectRegion(id.Row, true)
	}

	m.title = widget.NewLabel("")
	m.title.TextStyle.Bold = true
	m.summary = widget.NewLabel("")
	m.summary.Truncation = fyne.TextTruncateEllipsis
	m.details = widget.NewLabel("")
	m.details.Truncation = fyne.TextTruncateEllipsis
	m.details.TextStyle.Monospace = true
	m.zoomOut = widget.NewButtonWithIcon("", theme.ZoomOutIcon(), m.ZoomOut)
	m.zoomIn = widget.NewButtonWithIcon("", theme.ZoomInIcon(), m.ZoomIn)
	m.fit = widget.NewButtonWithIcon("Fit", theme.ZoomFitIcon(), m.Fit)
	m.openHex = widget.NewButtonWithIcon("Open in hex", theme.NavigateNextIcon(), m.OpenSelected)

	tools := container.NewHBox(m.zoomOut, m.zoomIn, m.fit, m.openHex)
	header := container.NewBorder(nil, nil, m.title, tools, m.summary)
	top := container.NewVBox(header, m.scroll, m.details, newMapLegend())
	m.pane = newStatePane(container.NewBorder(top, nil, nil, nil, m.table))
	m.ExtendBaseWidget(m)
	m.ShowLoading()
	return m
}

// CreateRenderer implements fyne.Widget.
func (m *MemoryMap) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(m.pane.content)
}

// State returns which face the map shows.
func (m *MemoryMap) State() PaneState { return m.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (m *MemoryMap) ErrorLine() string { return m.pane.errLine }

// ShowLoading shows that the memory map is being read.
func (m *MemoryMap) ShowLoading() { m.pane.showLoading("Reading the memory map…") }

// ShowError shows line, the one-line reason there is no map to show.
func (m *MemoryMap) ShowError(line string) {
	m.setRows(nil)
	m.pane.showError(line)
}

// SetRegions shows rows, which must be in address order, as the address
// space named space ("process", "kernel"), fitted to the view and with
// nothing selected. The map keeps its own copy.
func (m *MemoryMap) SetRegions(space string, rows []MapRow) {
	m.setRows(append([]MapRow(nil), rows...))
	m.title.SetText(strings.TrimSpace(space + " address space"))
	var captured uint64
	absent := 0
	for _, r := range m.rows {
		if r.Captured {
			captured += r.Size
		} else {
			absent++
		}
	}
	missing := "all in the dump"
	if absent > 0 {
		missing = fmt.Sprintf("%d not in the dump", absent)
	}
	m.summary.SetText(fmt.Sprintf("%d regions · %s captured · %s", len(m.rows), readableSize(captured), missing))
	m.pane.showReady()
	m.Fit()
}

func (m *MemoryMap) setRows(rows []MapRow) {
	m.rows, m.selected, m.wide = rows, -1, false
	for _, r := range rows {
		if r.End() > 1<<32 {
			m.wide = true
		}
	}
	m.band.setRows(rows)
	m.showDetails(-1)
	m.table.Refresh()
}

// Len returns the number of regions.
func (m *MemoryMap) Len() int { return len(m.rows) }

// Rows returns the regions shown, in address order.
func (m *MemoryMap) Rows() []MapRow { return m.rows }

// Selected returns the selected region, or -1.
func (m *MemoryMap) Selected() int { return m.selected }

// Select selects region i in the band and the table and scrolls both to
// it, as clicking its row does.
func (m *MemoryMap) Select(i int) { m.selectRegion(i, true) }

// OpenSelected calls OnOpenHex with the selected region's start, as the
// "Open in hex" button does; nothing happens when no region is selected.
func (m *MemoryMap) OpenSelected() {
	if m.selected >= 0 && m.OnOpenHex != nil {
		m.OnOpenHex(m.rows[m.selected].Start)
	}
}

// Details returns the details line under the band: the hovered region,
// else the selected one, else a hint.
func (m *MemoryMap) Details() string { return m.details.Text }

// Zoom returns the band's zoom; 1 lays a page-sized region out 28 wide.
func (m *MemoryMap) Zoom() float32 { return m.band.zoom }

// ZoomIn enlarges the band around the middle of the view.
func (m *MemoryMap) ZoomIn() { m.zoomAt(zoomStep, m.scroll.Size().Width/2) }

// ZoomOut shrinks the band around the middle of the view, down to fitting
// it whole.
func (m *MemoryMap) ZoomOut() { m.zoomAt(1/zoomStep, m.scroll.Size().Width/2) }

// Fit zooms the band so that it fits the view, as far as it can.
func (m *MemoryMap) Fit() {
	m.band.fit = true
	m.scroll.Offset.X = 0
	m.band.setZoom(fitZoom(m.rows, m.scroll.Size().Width))
	m.relayout()
}

// zoomAt multiplies the zoom by factor keeping what is at cursor (from
// the viewport's left) under it. Zooming out stops where the band fits.
func (m *MemoryMap) zoomAt(factor, cursor float32) {
	view := m.scroll.Size().Width
	floor := fitZoom(m.rows, view)
	z := min(max(m.band.zoom*factor, floor), maxZoom)
	if z == m.band.zoom {
		return
	}
	old := m.band.spans
	m.band.fit = z <= floor
	m.band.setZoom(z)
	m.scroll.Offset.X = zoomOffset(old, m.band.spans, m.scroll.Offset.X, cursor, view, m.band.width)
	m.relayout()
}

// pan scrolls the band by dx, moving it without redrawing it.
func (m *MemoryMap) pan(dx float32) {
	view := m.scroll.Size().Width
	m.scroll.ScrollToOffset(fyne.NewPos(min(max(m.scroll.Offset.X-dx, 0), max(m.band.width-view, 0)), 0))
}

// relayout applies the band's new width and the scroll offset.
func (m *MemoryMap) relayout() {
	m.band.Resize(fyne.NewSize(max(m.band.width, m.scroll.Size().Width), m.band.MinSize().Height))
	m.band.Refresh()
	m.scroll.Refresh()
	m.zoomOut.Enable()
	if m.band.fit {
		m.zoomOut.Disable()
	}
	m.zoomIn.Enable()
	if m.band.zoom >= maxZoom {
		m.zoomIn.Disable()
	}
}

// selectRegion selects region i, scrolling the band to it when asked
// (the block clicked is in view already).
func (m *MemoryMap) selectRegion(i int, scrollBand bool) {
	if i < 0 || i >= len(m.rows) {
		return
	}
	m.selected = i
	m.band.selected = i
	if scrollBand && !m.band.fit {
		x := scrollToShow(m.band.spans[i], m.scroll.Offset.X, m.scroll.Size().Width, m.band.width)
		m.scroll.ScrollToOffset(fyne.NewPos(x, 0))
	}
	m.band.refreshOutlines()
	m.table.ScrollTo(widget.TableCellID{Row: i, Col: 0})
	m.table.Refresh()
	m.showDetails(m.band.hovered)
}

// openRegion opens region i in the hex view.
func (m *MemoryMap) openRegion(i int) {
	m.selectRegion(i, false)
	if m.OnOpenHex != nil {
		m.OnOpenHex(m.rows[i].Start)
	}
}

// showDetails shows region hover (else the selected one) under the band;
// hover is -1 when the pointer is on no block, or -2-i on the gap before
// block i.
func (m *MemoryMap) showDetails(hover int) {
	switch {
	case hover >= 0 && hover < len(m.rows):
		m.details.SetText(RegionDetails(m.rows[hover]))
	case hover < -1 && -2-hover < len(m.rows):
		i := -2 - hover
		m.details.SetText(fmt.Sprintf("%s – %s · %s · no region listed", mapAddr(m.rows[i-1].End(), true),
			mapAddr(m.rows[i].Start, true), readableSize(m.rows[i].Start-m.rows[i-1].End())))
	case m.selected >= 0:
		m.details.SetText(RegionDetails(m.rows[m.selected]))
	case len(m.rows) > 0:
		m.details.SetText("Point at a block for its details; click to select it, double-click to open it in the hex view.")
	default:
		m.details.SetText("")
	}
	if m.selected >= 0 && m.OnOpenHex != nil {
		m.openHex.Enable()
	} else {
		m.openHex.Disable()
	}
}

// mapBand is the band of blocks. It lives in the map's horizontal
// scroll; its width is the laid-out band's, or the view's when that is
// wider.
type mapBand struct {
	widget.BaseWidget
	m        *MemoryMap
	rows     []MapRow
	zoom     float32
	fit      bool // follow the view's width
	spans    []bandSpan
	width    float32
	hovered  int // a block, -1, or -2-i for the gap before block i
	selected int
	gen      int // counts setRows, for the renderer to rebuild its objects

	lastTap   int
	lastTapAt time.Time

	r *bandRenderer // once created, for the hover and selection outlines alone
}

// The band's vertical layout: the executable marks, the blocks, the
// writable marks, and room for the scroll bar. The marks keep clear of
// the selection's outline.
const (
	bandMarkH  = 4
	markGap    = 4 // between a block and its marks
	bandBlockY = bandMarkH + markGap + 2
	bandBlockH = 46
	bandH      = bandBlockY + bandBlockH + markGap + bandMarkH + 10
)

func newMapBand(m *MemoryMap) *mapBand {
	b := &mapBand{m: m, zoom: 1, fit: true, hovered: -1, selected: -1, lastTap: -1}
	b.ExtendBaseWidget(b)
	return b
}

func (b *mapBand) setRows(rows []MapRow) {
	b.rows, b.hovered, b.selected, b.lastTap = rows, -1, -1, -1
	b.gen++
	b.setZoom(b.zoom)
	b.Refresh()
}

func (b *mapBand) setZoom(z float32) {
	b.zoom = z
	b.spans, b.width = bandLayout(b.rows, z)
}

// MinSize implements fyne.Widget: the band is as wide as its blocks,
// or as the blocks at the least zoom when it follows the view.
func (b *mapBand) MinSize() fyne.Size {
	if b.fit {
		_, w := bandLayout(b.rows, minZoom)
		return fyne.NewSize(w, bandH)
	}
	return fyne.NewSize(b.width, bandH)
}

// Tapped implements fyne.Tappable: a click selects the block, a second
// click on it soon after opens it. (Being fyne.DoubleTappable would
// delay every single click.)
func (b *mapBand) Tapped(ev *fyne.PointEvent) {
	i := regionAt(b.spans, ev.Position.X)
	if i < 0 {
		return
	}
	now := time.Now()
	if i == b.lastTap && now.Sub(b.lastTapAt) < doubleTapGap {
		b.lastTap = -1
		b.m.openRegion(i)
		return
	}
	b.lastTap, b.lastTapAt = i, now
	b.m.selectRegion(i, false)
}

// Scrolled implements fyne.Scrollable: the wheel zooms around the
// pointer, one step a notch (10 or 25 in Fyne's units; a touchpad sends
// less at a time), and a horizontal wheel pans.
func (b *mapBand) Scrolled(ev *fyne.ScrollEvent) {
	d := ev.Scrolled
	if math.Abs(float64(d.DX)) > math.Abs(float64(d.DY)) {
		b.m.pan(d.DX)
		return
	}
	notches := min(max(float64(d.DY)/10, -1), 1)
	b.m.zoomAt(float32(math.Pow(zoomStep, notches)), ev.Position.X-b.m.scroll.Offset.X)
}

// Dragged implements fyne.Draggable: dragging pans the band.
func (b *mapBand) Dragged(ev *fyne.DragEvent) { b.m.pan(ev.Dragged.DX) }

// DragEnd implements fyne.Draggable.
func (b *mapBand) DragEnd() {}

// MouseIn implements desktop.Hoverable.
func (b *mapBand) MouseIn(ev *desktop.MouseEvent) { b.MouseMoved(ev) }

// MouseMoved implements desktop.Hoverable: the details line follows the
// pointer.
func (b *mapBand) MouseMoved(ev *desktop.MouseEvent) {
	h := -1
	if i, gap := bandLocate(b.spans, ev.Position.X); !gap {
		h = i
	} else if i > 0 && i < len(b.spans) {
		h = -2 - i
	}
	b.setHover(h)
}

// MouseOut implements desktop.Hoverable.
func (b *mapBand) MouseOut() { b.setHover(-1) }

func (b *mapBand) setHover(h int) {
	if h == b.hovered {
		return
	}
	b.hovered = h
	b.m.showDetails(h)
	b.refreshOutlines()
}

// refreshOutlines moves the hover and selection outlines: pointing and
// selecting redraw no block.
func (b *mapBand) refreshOutlines() {
	if b.r == nil {
		return
	}
	outlineBlock(b.r.hover, b.spans, b.hovered, 1)
	outlineBlock(b.r.sel, b.spans, b.selected, 3)
	b.r.hover.Refresh()
	b.r.sel.Refresh()
}

// Cursor implements desktop.Cursorable: a pointer over blocks.
func (b *mapBand) Cursor() desktop.Cursor {
	if b.hovered >= 0 {
		return desktop.PointerCursor
	}
	return desktop.DefaultCursor
}

func (b *mapBand) CreateRenderer() fyne.WidgetRenderer {
	r := &bandRenderer{b: b, track: canvas.NewRectangle(color.Transparent),
		hover: canvas.NewRectangle(color.Transparent), sel: canvas.NewRectangle(color.Transparent)}
	r.hover.StrokeWidth = 1
	r.sel.StrokeWidth = 2
	b.r = r
	r.Refresh()
	return r
}

// bandRenderer draws one block, two marks and two lines of text per
// region, over a thin track that shows through the gaps.
type bandRenderer struct {
	b            *mapBand
	gen          int // the band's rows the objects were built for
	track        *canvas.Rectangle
	blocks       []*canvas.Rectangle
	xMarks       []*canvas.Rectangle
	wMarks       []*canvas.Rectangle
	names, sizes []*canvas.Text
	hover, sel   *canvas.Rectangle
	objects      []fyne.CanvasObject
}

func (r *bandRenderer) Destroy() {}

func (r *bandRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *bandRenderer) MinSize() fyne.Size { return r.b.MinSize() }

func (r *bandRenderer) rebuild() {
	n := len(r.b.rows)
	r.gen = r.b.gen
	r.blocks = make([]*canvas.Rectangle, n)
	r.xMarks = make([]*canvas.Rectangle, n)
	r.wMarks = make([]*canvas.Rectangle, n)
	r.names = make([]*canvas.Text, n)
	r.sizes = make([]*canvas.Text, n)
	r.objects = append(make([]fyne.CanvasObject, 0, 5*n+3), r.track)
	for i, row := range r.b.rows {
		r.blocks[i] = canvas.NewRectangle(color.Transparent)
		r.xMarks[i] = canvas.NewRectangle(execColor)
		r.wMarks[i] = canvas.NewRectangle(color.Transparent)
		r.names[i] = canvas.NewText(row.blockLabel(), color.Black)
		r.sizes[i] = canvas.NewText(readableSize(row.Size), color.Black)
		r.objects = append(r.objects, r.blocks[i], r.xMarks[i], r.wMarks[i], r.names[i], r.sizes[i])
	}
	r.objects = append(r.objects, r.hover, r.sel)
}

func (r *bandRenderer) Refresh() {
	if r.gen != r.b.gen || r.objects == nil {
		r.rebuild()
	}
	th := r.b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	fg := th.Color(theme.ColorNameForeground, v)
	r.track.FillColor = th.Color(theme.ColorNameDisabled, v)
	text := th.Size(theme.SizeNameCaptionText)
	for i, row := range r.b.rows {
		c := KindColor(row.Kind)
		bl := r.blocks[i]
		ink := color.Color(blockInk)
		if row.Captured {
			bl.FillColor, bl.StrokeWidth = c, 0
		} else {
			faded := c
			faded.A = absentFill
			bl.FillColor, bl.StrokeColor, bl.StrokeWidth = faded, c, 1.5
			ink = fg
		}
		r.wMarks[i].FillColor = fg
		for _, t := range []*canvas.Text{r.names[i], r.sizes[i]} {
			t.Color, t.TextSize = ink, text
		}
		r.names[i].TextStyle.Bold = true
	}
	r.hover.StrokeColor = fg
	r.sel.StrokeColor = fg
	r.Layout(r.b.Size())
	for _, o := range r.objects {
		o.Refresh()
	}
}

func (r *bandRenderer) Layout(size fyne.Size) {
	b := r.b
	if b.fit {
		if z := fitZoom(b.rows, size.Width); z != b.zoom {
			b.setZoom(z)
		}
	}
	r.track.Move(fyne.NewPos(0, bandBlockY+bandBlockH/2-1))
	r.track.Resize(fyne.NewSize(b.width, 2))
	pad := float32(4)
	for i, s := range b.spans {
		if i >= len(r.blocks) {
			break
		}
		row := b.rows[i]
		w := s.X1 - s.X0
		r.blocks[i].Move(fyne.NewPos(s.X0, bandBlockY))
		r.blocks[i].Resize(fyne.NewSize(w, bandBlockH))
		placeMark(r.xMarks[i], strings.Contains(row.Prot, "x"), s.X0, bandBlockY-markGap-bandMarkH, w)
		placeMark(r.wMarks[i], strings.Contains(row.Prot, "w"), s.X0, bandBlockY+bandBlockH+markGap, w)
		// Labels only where they fit whole: a cut name misleads.
		name, sz := r.names[i], r.sizes[i]
		nameSize := fyne.MeasureText(name.Text, name.TextSize, name.TextStyle)
		sizeSize := fyne.MeasureText(sz.Text, sz.TextSize, sz.TextStyle)
		name.Hidden = nameSize.Width+2*pad > w
		sz.Hidden = name.Hidden || sizeSize.Width+2*pad > w
		top := bandBlockY + (bandBlockH-nameSize.Height)/2
		if !sz.Hidden {
			top = bandBlockY + (bandBlockH-nameSize.Height-sizeSize.Height)/2
		}
		name.Move(fyne.NewPos(s.X0+pad, top))
		name.Resize(nameSize)
		sz.Move(fyne.NewPos(s.X0+pad, top+nameSize.Height))
		sz.Resize(sizeSize)
	}
	outlineBlock(r.hover, b.spans, b.hovered, 1)
	outlineBlock(r.sel, b.spans, b.selected, 3)
}

// placeMark shows mark above or below a block of width w at x when on.
func placeMark(mark *canvas.Rectangle, on bool, x, y, w float32) {
	mark.Hidden = !on
	mark.Move(fyne.NewPos(x, y))
	mark.Resize(fyne.NewSize(w, bandMarkH))
}

// outlineBlock draws o around block i, out pixels outside it; hidden when i
// is no block.
func outlineBlock(o *canvas.Rectangle, spans []bandSpan, i int, out float32) {
	o.Hidden = i < 0 || i >= len(spans)
	if o.Hidden {
		return
	}
	s := spans[i]
	o.Move(fyne.NewPos(s.X0-out, bandBlockY-out))
	o.Resize(fyne.NewSize(s.X1-s.X0+2*out, bandBlockH+2*out))
}

// newMapLegend explains the band's colours and marks.
func newMapLegend() fyne.CanvasObject {
	item := func(swatch fyne.CanvasObject, text string) fyne.CanvasObject {
		l := widget.NewLabel(text)
		l.SizeName = theme.SizeNameCaptionText
		return container.NewHBox(container.NewCenter(swatch), l)
	}
	box := func(c color.Color, stroke color.Color, w, h float32) fyne.CanvasObject {
		r := canvas.NewRectangle(c)
		if stroke != nil {
			r.StrokeColor, r.StrokeWidth = stroke, 1.5
		}
		r.SetMinSize(fyne.NewSize(w, h))
		return r
	}
	var items []fyne.CanvasObject
	for _, k := range mapKinds {
		items = append(items, item(box(KindColor(k), nil, 14, 14), k))
	}
	grey := KindColor("unknown")
	faded := grey
	faded.A = absentFill
	items = append(items,
		item(box(faded, grey, 14, 14), "not in dump"),
		item(box(execColor, nil, 14, bandMarkH), "executable (mark above)"),
		item(newThemedBar(theme.ColorNameForeground), "writable (mark below)"))
	// One row that scrolls when the view is narrow: a wrapping layout
	// would size itself for one item a row before its first layout.
	return container.NewHScroll(container.NewHBox(items...))
}

// themedBar is a legend mark in a theme colour, following the variant.
type themedBar struct {
	widget.BaseWidget
	name fyne.ThemeColorName
	rect *canvas.Rectangle
}

func newThemedBar(name fyne.ThemeColorName) *themedBar {
	b := &themedBar{name: name, rect: canvas.NewRectangle(color.Transparent)}
	b.ExtendBaseWidget(b)
	return b
}

func (b *themedBar) MinSize() fyne.Size { return fyne.NewSize(14, bandMarkH) }

func (b *themedBar) CreateRenderer() fyne.WidgetRenderer {
	b.Refresh()
	return widget.NewSimpleRenderer(b.rect)
}

func (b *themedBar) Refresh() {
	b.rect.FillColor = b.Theme().Color(b.name, fyne.CurrentApp().Settings().ThemeVariant())
	b.rect.Refresh()
}

// mapCell is one recycled table cell: a label, a colour swatch in the
// Kind column, on a background showing the selected row.
type mapCell struct {
	widget.BaseWidget
	bg     *canvas.Rectangle
	swatch *canvas.Rectangle
	swBox  *fyne.Container // the swatch with its padding, shown in the Kind column
	label  *widget.Label
	row    int // the row and column shown
	col    MapColumn
	sel    bool
}

func newMapCell() fyne.CanvasObject {
	c := &mapCell{bg: canvas.NewRectangle(color.Transparent), swatch: canvas.NewRectangle(color.Transparent),
		label: widget.NewLabel("")}
	c.label.Truncation = fyne.TextTruncateEllipsis
	c.swatch.SetMinSize(fyne.NewSize(10, 10))
	c.swBox = container.New(layout.NewCustomPaddedLayout(0, 0, theme.InnerPadding(), 0), container.NewCenter(c.swatch))
	c.ExtendBaseWidget(c)
	return c
}

func (c *mapCell) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewStack(c.bg, container.NewBorder(nil, nil, c.swBox, nil, c.label)))
}

func (c *mapCell) update(r MapRow, col MapColumn, wide, selected bool) {
	c.sel = selected
	c.col = col
	c.label.Text = r.Cell(col, wide)
	c.label.TextStyle.Monospace = col <= MapSize
	c.label.TextStyle.Italic = col == MapState && !r.Captured
	c.swBox.Hidden = col != MapKind
	kc := KindColor(r.Kind)
	c.swatch.FillColor, c.swatch.StrokeWidth = kc, 0
	if !r.Captured {
		faded := kc
		faded.A = absentFill
		c.swatch.FillColor, c.swatch.StrokeColor, c.swatch.StrokeWidth = faded, kc, 1
	}
	c.label.Refresh()
	c.swatch.Refresh()
	c.Refresh()
}

// Refresh implements fyne.Widget: the selection follows the theme.
func (c *mapCell) Refresh() {
	c.bg.FillColor = color.Transparent
	if c.sel {
		c.bg.FillColor = c.Theme().Color(theme.ColorNameSelection, fyne.CurrentApp().Settings().ThemeVariant())
	}
	c.bg.Refresh()
	c.BaseWidget.Refresh()
}
