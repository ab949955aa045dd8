package widgets

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// MemorySource is the memory a HexView shows: the app adapts a dump's
// address space to it. Its methods may be slow (a page-table walk, a
// symbol file to load), so they are called off the UI thread, through
// ReadHexPage.
type MemorySource interface {
	// Read fills p with the bytes at addr; ok[i] reports whether p[i]
	// could be read (len(ok) == len(p)).
	Read(p []byte, ok []bool, addr uint64)
	// Symbol names addr ("app!main+0x46", "kernel32+0x1744d"), or returns
	// "" when no module holds it.
	Symbol(addr uint64) string
}

// HexMode is how a HexView lays out memory.
type HexMode int

const (
	// HexBytes shows 16 bytes a row with their ASCII, as db does.
	HexBytes HexMode = iota
	// HexPointers shows one pointer a row with its symbol, as dps does.
	HexPointers
)

// HexRequest asks for the rows a HexView is about to show. Seq grows with
// every request: SetPage applies only the page of the newest one.
type HexRequest struct {
	Seq     uint64
	Addr    uint64 // the first row's address
	Rows    int
	Mode    HexMode
	PtrSize int // 4 or 8
}

// rowSize is how many bytes one row shows.
func (r HexRequest) rowSize() uint64 {
	if r.Mode == HexPointers {
		return uint64(r.PtrSize)
	}
	return 16
}

// HexPage holds the memory of a request: Data[i] is the byte at Addr+i,
// readable where OK[i]. In pointer mode Syms[k] names the value of row k.
type HexPage struct {
	HexRequest
	Data []byte
	OK   []bool
	Syms []string
}

// ReadHexPage reads the memory req asks for from src. It never reads past
// the top of the address space. Call it off the UI thread.
func ReadHexPage(src MemorySource, req HexRequest) HexPage {
	p := HexPage{HexRequest: req}
	if req.Rows <= 0 || req.PtrSize <= 0 {
		return p
	}
	n := uint64(req.Rows) * req.rowSize()
	if room := math.MaxUint64 - req.Addr; n-1 > room {
		n = room + 1
	}
	p.Data, p.OK = make([]byte, n), make([]bool, n)
	src.Read(p.Data, p.OK, req.Addr)
	if req.Mode == HexPointers {
		p.Syms = make([]string, req.Rows)
		for k := range p.Syms {
			if v, ok := p.word(req.Addr+uint64(k*req.PtrSize), req.PtrSize); ok {
				p.Syms[k] = src.Symbol(v)
			}
		}
	}
	return p
}

// bytesAt returns the size bytes at a and whether the page holds them
// all, readable.
func (p HexPage) bytesAt(a uint64, size int) ([]byte, []bool, bool) {
	if a < p.Addr || a-p.Addr >= uint64(len(p.Data)) || uint64(len(p.Data))-(a-p.Addr) < uint64(size) {
		return nil, nil, false
	}
	off := a - p.Addr
	return p.Data[off : off+uint64(size)], p.OK[off : off+uint64(size)], true
}

// word returns the little-endian pointer of size bytes at a, if the page
// holds it and it is readable.
func (p HexPage) word(a uint64, size int) (uint64, bool) {
	b, ok, in := p.bytesAt(a, size)
	if !in {
		return 0, false
	}
	for _, o := range ok {
		if !o {
			return 0, false
		}
	}
	if size == 4 {
		return uint64(binary.LittleEndian.Uint32(b)), true
	}
	return binary.LittleEndian.Uint64(b), true
}

// fmtAddr writes an address as WinDbg does: "00000000`00140000" for 64-bit
// targets, "00140000" for 32-bit ones.
func fmtAddr(v uint64, ptrSize int) string {
	if ptrSize == 4 {
		return fmt.Sprintf("%08x", uint32(v))
	}
	return fmt.Sprintf("%08x`%08x", v>>32, uint32(v))
}

// unreadableWord is how a pointer that cannot be read is shown.
func unreadableWord(ptrSize int) string {
	if ptrSize == 4 {
		return "????????"
	}
	return "????????`????????"
}

// hexBytesText is db's middle column: 16 bytes, "??" for those that cannot
// be read, a "-" between the two halves; absent bytes (past the end of
// the space or not read yet) are blank.
func hexBytesText(data []byte, ok []bool) string {
	var b strings.Builder
	for k := range 16 {
		if k > 0 {
			if k == 8 && len(data) > 8 {
				b.WriteByte('-')
			} else {
				b.WriteByte(' ')
			}
		}
		switch {
		case k >= len(data):
			b.WriteString("  ")
		case ok[k]:
			fmt.Fprintf(&b, "%02x", data[k])
		default:
			b.WriteString("??")
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// asciiText is db's right column: printable ASCII, "." for other bytes and
// "?" for unreadable ones.
func asciiText(data []byte, ok []bool) string {
	out := make([]byte, len(data))
	for k, c := range data {
		switch {
		case !ok[k]:
			out[k] = '?'
		case c >= 0x20 && c < 0x7f:
			out[k] = c
		default:
			out[k] = '.'
		}
	}
	return string(out)
}

// hexPlace is a position in a HexView's history.
type hexPlace struct {
	top, sel uint64
	hasSel   bool
}

// HexView shows memory as db (bytes and ASCII) or dps (pointers and their
// symbols) does, over a whole 64-bit address space: it draws only the rows
// that fit and a scrollbar maps to the first row's address. Unreadable
// bytes show as ??. The user scrolls with the wheel, the arrows,
// PageUp/PageDown, Home/End and the scrollbar; types an address or an
// expression into "Go to"; selects a byte or a pointer; follows a pointer
// (double tap in pointer mode, or Follow); and goes Back.
//
// The view reads nothing itself: each time its rows change it calls
// OnRequest, and the app answers, off the UI thread, with SetPage (the
// page of ReadHexPage). Its methods must be called on the UI thread.
type HexView struct {
	widget.BaseWidget

	// OnRequest asks for the memory of the rows about to be shown. Older
	// requests' pages are ignored, so the app may drop them.
	OnRequest func(HexRequest)
	// OnGoTo is called with the text of the Go to entry: the app
	// evaluates it and calls GoTo, or ShowGoToError.
	OnGoTo func(expr string)

	pane *statePane
	body *lineBody
	bar  *addrBar
	nav  *navBar
	mode *widget.RadioGroup

	ptrSize int
	lo, hi  uint64
	top     uint64
	rows    int
	hexMode HexMode
	sel     uint64
	hasSel  bool
	placed  bool // GoTo was called: later ones keep a history
	history []hexPlace
	seq     uint64
	page    HexPage
	hasPage bool
}

// NewHexView returns a view of a 64-bit address space, in byte mode, at
// address 0 until GoTo.
func NewHexView() *HexView {
	v := &HexView{ptrSize: 8, hi: math.MaxUint64}
	v.body = newLineBody()
	v.body.onRows = func(n int) { v.rows = n; v.update() }
	v.body.onScroll = func(n int) { v.Scroll(n) }
	v.body.onKey = v.key
	v.body.onTap = v.tap
	v.body.onDoubleTap = v.doubleTap
	v.bar = newAddrBar()
	v.bar.OnDrag = func(f float64) {
		v.top = alignDown(scrollAddr(f, v.lo, v.maxTop()), v.rowSize())
		v.update()
	}
	v.nav = newNavBar(func(s string) {
		if v.OnGoTo != nil {
			v.OnGoTo(s)
		}
	}, v.Back, v.Follow)
	v.mode = widget.NewRadioGroup([]string{"Bytes", "Pointers"}, func(s string) {
		if s == "Pointers" {
			v.SetMode(HexPointers)
		} else {
			v.SetMode(HexBytes)
		}
	})
	v.mode.Horizontal = true
	v.mode.Required = true
	v.mode.SetSelected("Bytes")
	top := container.NewBorder(nil, nil, container.NewHBox(v.nav.back, v.mode), v.nav.follow, v.nav.object)
	v.pane = newStatePane(container.NewBorder(top, nil, nil, v.bar, v.body))
	v.pane.showReady()
	v.ExtendBaseWidget(v)
	v.update()
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *HexView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.pane.content)
}

// State returns which face the view shows.
func (v *HexView) State() PaneState { return v.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (v *HexView) ErrorLine() string { return v.pane.errLine }

// ShowError replaces the view with line, the reason there is no memory
// to show (a dump without memory).
func (v *HexView) ShowError(line string) { v.pane.showError(line) }

// SetPointerSize sets the target's pointer size, 4 or 8, and with it
// how addresses and pointers are written; a 32-bit target's range ends
// at 0xffffffff.
func (v *HexView) SetPointerSize(n int) {
	if n != 4 {
		n = 8
	}
	v.ptrSize = n
	v.hi = math.MaxUint64
	if n == 4 {
		v.hi = math.MaxUint32
	}
	v.top = min(v.top, v.hi)
	v.update()
}

// SetRange limits the addresses shown to [lo, hi], hi inclusive, widened
// to whole 16-byte rows.
func (v *HexView) SetRange(lo, hi uint64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	v.lo, v.hi = alignDown(lo, 16), alignDown(hi, 16)+15
	v.update()
}

// SetMode switches between bytes and pointers, keeping the first row's
// address (aligned to the new row size) and the selection.
func (v *HexView) SetMode(m HexMode) {
	if m == v.hexMode {
		return
	}
	v.hexMode = m
	v.mode.SetSelected(map[HexMode]string{HexBytes: "Bytes", HexPointers: "Pointers"}[m])
	v.top = alignDown(v.top, v.rowSize())
	v.update()
}

// Mode returns the layout shown.
func (v *HexView) Mode() HexMode { return v.hexMode }

// Top returns the address of the first row.
func (v *HexView) Top() uint64 { return v.top }

// Rows returns how many rows fit.
func (v *HexView) Rows() int { return v.rows }

// Selected returns the selected address.
func (v *HexView) Selected() (uint64, bool) { return v.sel, v.hasSel }

// GoTo shows addr's row first (or the last screen, near the top of the
// range) and selects addr. The position left is kept for Back.
func (v *HexView) GoTo(addr uint64) {
	if v.placed {
		v.history = append(v.history, hexPlace{v.top, v.sel, v.hasSel})
	}
	v.placed = true
	v.nav.clearError()
	v.show(addr)
}

func (v *HexView) show(addr uint64) {
	addr = min(max(addr, v.lo), v.hi)
	v.sel, v.hasSel = addr, true
	v.top = min(alignDown(addr, v.rowSize()), v.maxTop())
	v.update()
}

// ShowGoToError shows why the Go to text could not be evaluated.
func (v *HexView) ShowGoToError(msg string) { v.nav.showError(msg) }

// GoToError returns the error shown beside the Go to entry.
func (v *HexView) GoToError() string { return v.nav.errorText() }

// Back returns to where the last GoTo or Follow came from.
func (v *HexView) Back() {
	if len(v.history) == 0 {
		return
	}
	p := v.history[len(v.history)-1]
	v.history = v.history[:len(v.history)-1]
	v.nav.clearError()
	v.top = min(alignDown(p.top, v.rowSize()), v.maxTop())
	v.sel, v.hasSel = p.sel, p.hasSel
	v.update()
}

// CanGoBack reports whether Back has somewhere to go.
func (v *HexView) CanGoBack() bool { return len(v.history) > 0 }

// pointerAddr is where the pointer Follow reads lies: the selected row in
// pointer mode, the selected byte onwards in byte mode.
func (v *HexView) pointerAddr() uint64 {
	if v.hexMode == HexPointers {
		return alignDown(v.sel, uint64(v.ptrSize))
	}
	return v.sel
}

// Pointer returns the pointer Follow would go to, if it is shown and
// readable.
func (v *HexView) Pointer() (uint64, bool) {
	if !v.hasSel || !v.hasPage || !v.pageFits() {
		return 0, false
	}
	return v.page.word(v.pointerAddr(), v.ptrSize)
}

// Follow goes to the selected pointer's value.
func (v *HexView) Follow() {
	if p, ok := v.Pointer(); ok {
		v.GoTo(p)
	}
}

// Scroll moves the view by n rows, down when n > 0.
func (v *HexView) Scroll(n int) {
	v.top = moveTop(v.top, int64(n), v.rowSize(), v.lo, v.maxTop())
	v.update()
}

// SetPage shows the memory of the newest request; pages of older
// requests are ignored.
func (v *HexView) SetPage(p HexPage) {
	if p.Seq != v.seq {
		return
	}
	v.page, v.hasPage = p, true
	v.redraw()
}

// RowTexts returns the rows as drawn, one string each, for tests and for
// copying.
func (v *HexView) RowTexts() []string {
	out := make([]string, 0, len(v.body.lines))
	for _, l := range v.body.lines {
		out = append(out, l.String())
	}
	return out
}

func (v *HexView) rowSize() uint64 {
	return HexRequest{Mode: v.hexMode, PtrSize: v.ptrSize}.rowSize()
}

func (v *HexView) maxTop() uint64 { return lastTop(v.lo, v.hi, v.rowSize(), v.rows) }

// update clamps the position, asks for its memory and redraws with what
// the current page already holds.
func (v *HexView) update() {
	v.top = min(max(v.top, v.lo), v.maxTop())
	v.bar.setFraction(scrollFraction(v.top, v.lo, v.maxTop()))
	if v.rows > 0 && v.OnRequest != nil {
		v.seq++
		v.OnRequest(HexRequest{Seq: v.seq, Addr: v.top, Rows: v.rows, Mode: v.hexMode, PtrSize: v.ptrSize})
	}
	v.redraw()
}

// pageFits reports whether the page was read for the current layout.
func (v *HexView) pageFits() bool {
	return v.page.Mode == v.hexMode && v.page.PtrSize == v.ptrSize
}

// Column layout, in characters.
func (v *HexView) addrWidth() int { return len(fmtAddr(0, v.ptrSize)) }
func (v *HexView) dataCol() int   { return v.addrWidth() + 2 }
func (v *HexView) asciiCol() int  { return v.dataCol() + 16*3 + 1 }
func (v *HexView) symCol() int    { return v.dataCol() + len(fmtAddr(0, v.ptrSize)) + 2 }

// redraw lays out the rows from the page; rows it does not hold yet show
// just their address until the page arrives.
func (v *HexView) redraw() {
	rs := v.rowSize()
	lines := make([]textLine, 0, v.rows)
	for i := range v.rows {
		a := v.top + uint64(i)*rs
		if a < v.top || a > v.hi { // past the top of the range
			break
		}
		l := textLine{segs: []lineSeg{{col: 0, text: fmtAddr(a, v.ptrSize), color: theme.ColorNamePlaceHolder}}}
		var data []byte
		var ok []bool
		in := false
		if v.hasPage && v.pageFits() {
			data, ok, in = v.page.bytesAt(a, int(rs))
		}
		if v.hexMode == HexPointers {
			if v.hasSel && alignDown(v.sel, rs) == a {
				l.marks = append(l.marks, lineMark{n: -1})
			}
			if in {
				val, readable := v.page.word(a, v.ptrSize)
				seg := lineSeg{col: v.dataCol(), text: unreadableWord(v.ptrSize), color: theme.ColorNamePlaceHolder}
				if readable {
					seg = lineSeg{col: v.dataCol(), text: fmtAddr(val, v.ptrSize)}
				}
				l.segs = append(l.segs, seg)
				if k := int((a - v.page.Addr) / rs); readable && k < len(v.page.Syms) && v.page.Syms[k] != "" {
					l.segs = append(l.segs, lineSeg{col: v.symCol(), text: v.page.Syms[k], color: theme.ColorNamePrimary})
				}
			}
		} else {
			if v.hasSel && v.sel >= a && v.sel-a < rs {
				k := int(v.sel - a)
				l.marks = append(l.marks, lineMark{col: v.dataCol() + 3*k, n: 2}, lineMark{col: v.asciiCol() + k, n: 1})
			}
			if in {
				var c fyne.ThemeColorName // rows with nothing readable are dimmed
				if !slices.Contains(ok, true) {
					c = theme.ColorNamePlaceHolder
				}
				l.segs = append(l.segs,
					lineSeg{col: v.dataCol(), text: hexBytesText(data, ok), color: c},
					lineSeg{col: v.asciiCol(), text: asciiText(data, ok), color: c})
			}
		}
		lines = append(lines, l)
	}
	v.body.setLines(lines)
	_, canFollow := v.Pointer()
	v.nav.setEnabled(len(v.history) > 0, canFollow)
}

// rowAt returns the address of drawn row i.
func (v *HexView) rowAt(i int) (uint64, bool) {
	if i < 0 || i >= len(v.body.lines) {
		return 0, false
	}
	return v.top + uint64(i)*v.rowSize(), true
}

// tap selects the tapped byte (byte mode) or pointer (pointer mode).
func (v *HexView) tap(row, col int) {
	a, ok := v.rowAt(row)
	if !ok {
		return
	}
	if v.hexMode == HexPointers {
		v.sel, v.hasSel = a, true
		v.redraw()
		return
	}
	k := -1
	switch d, asc := col-v.dataCol(), col-v.asciiCol(); {
	case d >= 0 && d < 16*3-1 && d%3 != 2:
		k = d / 3
	case asc >= 0 && asc < 16:
		k = asc
	}
	if k >= 0 && a+uint64(k) >= a && a+uint64(k) <= v.hi {
		v.sel, v.hasSel = a+uint64(k), true
		v.redraw()
	}
}

// doubleTap follows the tapped pointer in pointer mode.
func (v *HexView) doubleTap(row, col int) {
	if v.hexMode != HexPointers {
		return
	}
	v.tap(row, col)
	v.Follow()
}

func (v *HexView) key(ev *fyne.KeyEvent) {
	page := max(v.rows-1, 1)
	switch ev.Name {
	case fyne.KeyDown:
		v.Scroll(1)
	case fyne.KeyUp:
		v.Scroll(-1)
	case fyne.KeyPageDown:
		v.Scroll(page)
	case fyne.KeyPageUp:
		v.Scroll(-page)
	case fyne.KeyHome:
		v.top = v.lo
		v.update()
	case fyne.KeyEnd:
		v.top = v.maxTop()
		v.update()
	case fyne.KeyReturn, fyne.KeyEnter:
		v.Follow()
	case fyne.KeyBackspace:
		v.Back()
	}
}

// navBar is the navigation row the hex and disassembly views share: Back,
// the Go to entry with its error, and Follow.
type navBar struct {
	back, follow, goBtn *widget.Button
	entry               *widget.Entry
	err                 *widget.Label
	object              fyne.CanvasObject
}

func newNavBar(onGo func(string), onBack, onFollow func()) *navBar {
	n := &navBar{}
	n.back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), onBack)
	n.follow = widget.NewButtonWithIcon("Follow", theme.NavigateNextIcon(), onFollow)
	n.entry = widget.NewEntry()
	n.entry.SetPlaceHolder("Go to address or expression (rsp, app!main+0x10)")
	submit := func() {
		if s := strings.TrimSpace(n.entry.Text); s != "" {
			onGo(s)
		}
	}
	n.entry.OnSubmitted = func(string) { submit() }
	n.goBtn = widget.NewButton("Go", submit)
	n.err = widget.NewLabel("")
	n.err.Importance = widget.DangerImportance
	n.err.Truncation = fyne.TextTruncateEllipsis
	n.err.Hide()
	right := container.NewHBox(n.goBtn)
	n.object = container.NewBorder(nil, n.err, nil, right, n.entry)
	return n
}

func (n *navBar) showError(msg string) {
	n.err.SetText(msg)
	n.err.Show()
}

func (n *navBar) clearError() {
	n.err.SetText("")
	n.err.Hide()
}

func (n *navBar) errorText() string { return n.err.Text }

func (n *navBar) setEnabled(back, follow bool) {
	setEnabled(n.back, back)
	setEnabled(n.follow, follow)
}

func setEnabled(b *widget.Button, on bool) {
	if on && b.Disabled() {
		b.Enable()
	} else if !on && !b.Disabled() {
		b.Disable()
	}
}
