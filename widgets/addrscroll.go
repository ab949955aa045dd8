package widgets

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The hex and disassembly views scroll over a whole 64-bit address space.
// A widget.List would need one row per line and float32 offsets, which
// cannot tell 2^64/16 lines apart. Instead each view keeps the address of
// its first row, draws only the rows that fit, and maps a thin scrollbar's
// position, a fraction in [0, 1], to that address and back.

// two64 is 2^64 as a float64: converting a float at or above it to
// uint64 is implementation-defined.
const two64 float64 = 1 << 64

// scrollFraction returns where top lies between lo and maxTop, the first
// and last addresses the top row can have, as a fraction in [0, 1].
func scrollFraction(top, lo, maxTop uint64) float64 {
	switch {
	case maxTop <= lo, top <= lo:
		return 0
	case top >= maxTop:
		return 1
	}
	return float64(top-lo) / float64(maxTop-lo)
}

// scrollAddr is the inverse of scrollFraction: the top address at
// fraction f, never outside [lo, maxTop]. A float64 holds 53 bits, so in
// a full 64-bit space neighbouring fractions are 2 KiB apart; the keys and
// the wheel move by single lines.
func scrollAddr(f float64, lo, maxTop uint64) uint64 {
	if f <= 0 || math.IsNaN(f) || maxTop <= lo {
		return lo
	}
	if f >= 1 {
		return maxTop
	}
	span := maxTop - lo
	d := f * float64(span)
	if d >= two64 {
		return maxTop
	}
	return lo + min(uint64(d), span)
}

// lastTop is the top address of the last screen of rows rows of rowSize
// bytes in [lo, hi] (hi inclusive), so that the last row ends at hi. lo
// and hi+1 are multiples of rowSize (hi+1 wraps to 0 for the full space).
// A range smaller than a screen has lo as its only top.
func lastTop(lo, hi, rowSize uint64, rows int) uint64 {
	if rows < 1 {
		rows = 1
	}
	need := uint64(rows) * rowSize // bytes on one screen
	if need/rowSize != uint64(rows) || hi-lo < need-1 {
		return lo
	}
	return hi - (need - 1)
}

// moveTop moves top by n rows of rowSize bytes (n < 0 moves up),
// stopping at lo and maxTop rather than wrapping.
func moveTop(top uint64, n int64, rowSize, lo, maxTop uint64) uint64 {
	top = min(max(top, lo), maxTop)
	if n >= 0 {
		d := uint64(n) * rowSize
		if d/rowSize != uint64(n) || d > maxTop-top {
			return maxTop
		}
		return top + d
	}
	m := uint64(-(n + 1)) + 1 // |n| without overflowing on MinInt64
	d := m * rowSize
	if d/rowSize != m || d > top-lo {
		return lo
	}
	return top - d
}

// alignDown rounds a down to a multiple of size.
func alignDown(a, size uint64) uint64 { return a - a%size }

// addrBar is a thin vertical scrollbar whose thumb stands for a position
// in an address range rather than a pixel offset. Dragging the thumb or
// tapping the track reports the new fraction; tapping above or below the
// thumb pages. Its methods run on the UI thread.
type addrBar struct {
	widget.BaseWidget

	// OnDrag is called with the fraction the user dragged or tapped to.
	OnDrag func(f float64)

	frac   float64
	grab   float32 // where on the thumb a drag took hold, -1 when not dragging
	hover  bool
	track  *canvas.Rectangle
	thumb  *canvas.Rectangle
	height float32
}

func newAddrBar() *addrBar {
	b := &addrBar{grab: -1, track: canvas.NewRectangle(color.Transparent), thumb: canvas.NewRectangle(color.Transparent)}
	b.ExtendBaseWidget(b)
	return b
}

// setFraction moves the thumb without reporting it.
func (b *addrBar) setFraction(f float64) {
	b.frac = min(max(f, 0), 1)
	b.Refresh()
}

func (b *addrBar) thumbHeight() float32 { return min(4*theme.ScrollBarSize(), b.height) }

// fractionAt is the fraction that puts the thumb's grab point at y.
func (b *addrBar) fractionAt(y, grab float32) float64 {
	room := b.height - b.thumbHeight()
	if room <= 0 {
		return 0
	}
	return min(max(float64((y-grab)/room), 0), 1)
}

func (b *addrBar) thumbTop() float32 {
	return float32(b.frac) * (b.height - b.thumbHeight())
}

// Tapped jumps to the tapped point, as GTK scrollbars do: in a space of
// 2^64 bytes paging towards a far address would never arrive.
func (b *addrBar) Tapped(ev *fyne.PointEvent) {
	top := b.thumbTop()
	if ev.Position.Y >= top && ev.Position.Y <= top+b.thumbHeight() {
		return
	}
	b.report(b.fractionAt(ev.Position.Y, b.thumbHeight()/2))
}

// Dragged moves the thumb with the pointer.
func (b *addrBar) Dragged(ev *fyne.DragEvent) {
	if b.grab < 0 {
		start := ev.Position.Y - ev.Dragged.DY
		b.grab = start - b.thumbTop()
		if b.grab < 0 || b.grab > b.thumbHeight() {
			b.grab = b.thumbHeight() / 2 // took hold outside the thumb: centre it
		}
	}
	b.report(b.fractionAt(ev.Position.Y, b.grab))
}

// DragEnd ends the drag.
func (b *addrBar) DragEnd() { b.grab = -1; b.Refresh() }

// MouseIn, MouseMoved and MouseOut widen the thumb's colour under the pointer.
func (b *addrBar) MouseIn(*desktop.MouseEvent)    { b.hover = true; b.Refresh() }
func (b *addrBar) MouseMoved(*desktop.MouseEvent) {}
func (b *addrBar) MouseOut()                      { b.hover = false; b.Refresh() }

func (b *addrBar) report(f float64) {
	b.setFraction(f)
	if b.OnDrag != nil {
		b.OnDrag(b.frac)
	}
}

func (b *addrBar) CreateRenderer() fyne.WidgetRenderer { return &addrBarRenderer{b} }

type addrBarRenderer struct{ b *addrBar }

func (r *addrBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.track, r.b.thumb}
}

func (r *addrBarRenderer) Layout(size fyne.Size) {
	b := r.b
	b.height = size.Height
	b.track.Resize(size)
	inset := float32(2)
	if b.hover || b.grab >= 0 {
		inset = 0
	}
	b.thumb.Move(fyne.NewPos(inset, b.thumbTop()))
	b.thumb.Resize(fyne.NewSize(size.Width-2*inset, b.thumbHeight()))
}

func (r *addrBarRenderer) MinSize() fyne.Size {
	return fyne.NewSize(theme.ScrollBarSize(), 4*theme.ScrollBarSize())
}

func (r *addrBarRenderer) Refresh() {
	b := r.b
	th := b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	b.track.FillColor = th.Color(theme.ColorNameScrollBarBackground, v)
	b.thumb.FillColor = th.Color(theme.ColorNameScrollBar, v)
	b.thumb.CornerRadius = theme.ScrollBarSize() / 4
	r.Layout(b.Size())
	b.track.Refresh()
	b.thumb.Refresh()
}

func (r *addrBarRenderer) Destroy() {}

// markKind is how a span of a drawn line is highlighted.
type markKind int

const (
	markSelected markKind = iota // the user's selection
	markCurrent                  // the crash's instruction
)

// lineMark highlights n characters from column col of a line; n < 0
// highlights the whole line.
type lineMark struct {
	col, n int
	kind   markKind
}

// lineSeg is a run of text drawn from column col of a line.
type lineSeg struct {
	col   int
	text  string
	color fyne.ThemeColorName
	bold  bool // drawn in the bold proportional face, for label lines
}

// textLine is one drawn row of a lineBody.
type textLine struct {
	segs  []lineSeg
	marks []lineMark
}

// lineBody draws rows of monospace text at fixed character columns, as
// many as fit, and turns taps, the wheel and the keys into row, column and
// line counts for the view that owns it. It draws only what it is given:
// the view fills lines for the rows it reports.
type lineBody struct {
	widget.BaseWidget

	lines []textLine

	onRows      func(rows int)       // the number of whole rows that fit changed
	onScroll    func(lines int)      // the wheel moved, > 0 down
	onKey       func(*fyne.KeyEvent) // a key while focused
	onTap       func(row, col int)   // a tap at a row and character column
	onDoubleTap func(row, col int)   // a double tap
	rows        int                  // whole rows that fit, from the last layout
	wheel       float32              // unused wheel movement, in pixels
	focused     bool
}

func newLineBody() *lineBody {
	b := &lineBody{}
	b.ExtendBaseWidget(b)
	return b
}

// monoStyle is the face of every column.
var monoStyle = fyne.TextStyle{Monospace: true}

// cell returns the width of one monospace character and the height of a
// row at the theme's text size.
func (b *lineBody) cell() (w, h float32) {
	s := fyne.MeasureText("0", theme.TextSize(), monoStyle)
	return s.Width, s.Height + 2*theme.LineSpacing()
}

// pad is the space left of the first column.
func (b *lineBody) pad() float32 { return theme.InnerPadding() }

// setLines replaces the drawn rows.
func (b *lineBody) setLines(lines []textLine) {
	b.lines = lines
	b.Refresh()
}

// at converts a point to a row and a character column.
func (b *lineBody) at(p fyne.Position) (row, col int) {
	cw, rh := b.cell()
	return int(p.Y / rh), int(math.Floor(float64((p.X - b.pad()) / cw)))
}

// Tapped focuses the body, so the keys scroll it, and reports the cell.
func (b *lineBody) Tapped(ev *fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(b); c != nil {
		c.Focus(b)
	}
	if b.onTap != nil {
		row, col := b.at(ev.Position)
		b.onTap(row, col)
	}
}

// DoubleTapped reports the cell.
func (b *lineBody) DoubleTapped(ev *fyne.PointEvent) {
	if b.onDoubleTap != nil {
		row, col := b.at(ev.Position)
		b.onDoubleTap(row, col)
	}
}

// Scrolled turns wheel movement into whole lines, about three a notch.
func (b *lineBody) Scrolled(ev *fyne.ScrollEvent) {
	_, rh := b.cell()
	unit := rh / 3
	b.wheel -= ev.Scrolled.DY
	n := int(b.wheel / unit)
	if n == 0 {
		return
	}
	b.wheel -= float32(n) * unit
	if b.onScroll != nil {
		b.onScroll(n)
	}
}

// FocusGained, FocusLost, TypedRune and TypedKey make the body focusable,
// so that arrows and PageUp/PageDown scroll it.
func (b *lineBody) FocusGained()   { b.focused = true; b.Refresh() }
func (b *lineBody) FocusLost()     { b.focused = false; b.Refresh() }
func (b *lineBody) TypedRune(rune) {}
func (b *lineBody) TypedKey(ev *fyne.KeyEvent) {
	if b.onKey != nil {
		b.onKey(ev)
	}
}

func (b *lineBody) CreateRenderer() fyne.WidgetRenderer {
	return &lineBodyRenderer{b: b, border: canvas.NewRectangle(color.Transparent)}
}

type lineBodyRenderer struct {
	b       *lineBody
	border  *canvas.Rectangle
	marks   []*canvas.Rectangle // pools, reused between refreshes
	texts   []*canvas.Text
	objects []fyne.CanvasObject
}

func (r *lineBodyRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *lineBodyRenderer) Layout(size fyne.Size) {
	_, rh := r.b.cell()
	rows := max(int(size.Height/rh), 0) // 0 until laid out: nothing to ask for
	r.border.Resize(size)
	if rows != r.b.rows {
		r.b.rows = rows
		if r.b.onRows != nil {
			r.b.onRows(rows)
		}
	}
	r.draw(size)
}

func (r *lineBodyRenderer) MinSize() fyne.Size {
	_, rh := r.b.cell()
	return fyne.NewSize(0, rh)
}

func (r *lineBodyRenderer) Refresh() { r.draw(r.b.Size()) }

// draw positions the texts and highlights of the lines that fit.
func (r *lineBodyRenderer) draw(size fyne.Size) {
	b := r.b
	th := b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	cw, rh := b.cell()
	pad := b.pad()
	ts := theme.TextSize()
	nm, nt := 0, 0
	mark := func() *canvas.Rectangle {
		if nm == len(r.marks) {
			r.marks = append(r.marks, canvas.NewRectangle(color.Transparent))
		}
		nm++
		return r.marks[nm-1]
	}
	text := func() *canvas.Text {
		if nt == len(r.texts) {
			r.texts = append(r.texts, canvas.NewText("", color.Black))
		}
		nt++
		return r.texts[nt-1]
	}
	for i, l := range b.lines {
		y := float32(i) * rh
		if y+rh > size.Height+0.5 && i > 0 {
			break
		}
		for _, m := range l.marks {
			rect := mark()
			x, w := pad+float32(m.col)*cw-1, float32(m.n)*cw+2
			if m.n < 0 {
				x, w = 0, size.Width
			}
			rect.Move(fyne.NewPos(x, y))
			rect.Resize(fyne.NewSize(w, rh))
			switch m.kind {
			case markCurrent:
				rect.FillColor = highlightColor(th, v, theme.ColorNameError)
			default:
				rect.FillColor = th.Color(theme.ColorNameSelection, v)
			}
			rect.Refresh()
		}
		for _, s := range l.segs {
			t := text()
			x := pad + float32(s.col)*cw
			t.Text = clipText(s.text, int((size.Width-x)/cw))
			t.TextSize = ts
			t.TextStyle = monoStyle
			if s.bold {
				t.TextStyle = fyne.TextStyle{Bold: true}
			}
			name := s.color
			if name == "" {
				name = theme.ColorNameForeground
			}
			t.Color = th.Color(name, v)
			t.Move(fyne.NewPos(x, y+theme.LineSpacing()))
			t.Resize(fyne.NewSize(t.MinSize().Width, rh-2*theme.LineSpacing()))
			t.Refresh()
		}
	}
	r.border.FillColor = color.Transparent
	r.border.StrokeWidth = 0
	if b.focused {
		r.border.StrokeColor = th.Color(theme.ColorNameFocus, v)
		r.border.StrokeWidth = 1
	}
	r.border.Refresh()
	objs := r.objects[:0]
	for _, m := range r.marks[:nm] {
		objs = append(objs, m)
	}
	for _, t := range r.texts[:nt] {
		objs = append(objs, t)
	}
	r.objects = append(objs, r.border)
}

func (r *lineBodyRenderer) Destroy() {}

// clipText cuts s to n characters, ending in "…" when it was longer, so
// that a long symbol does not run under the scrollbar.
func clipText(s string, n int) string {
	if n <= 0 {
		return ""
	}
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// String returns the line as plain text, its segments placed at their
// columns, for tests and for copying.
func (l textLine) String() string {
	var out []rune
	for _, s := range l.segs {
		for len(out) < s.col {
			out = append(out, ' ')
		}
		rs := []rune(s.text)
		if s.col < len(out) {
			out = out[:s.col]
		}
		out = append(out, rs...)
	}
	return string(out)
}
