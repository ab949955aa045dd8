package widgets

import (
	"fmt"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// DisasmLine is one instruction of a DisasmView, or one stretch of memory
// that cannot be read.
type DisasmLine struct {
	Addr uint64
	// Last is the instruction's (or the unreadable stretch's) last byte.
	Last uint64
	// Symbol names Addr, "app!main+0x18", "" when no module holds it.
	// It is drawn on its own line, "app!main:", above an instruction at
	// a symbol's start (Start) and above the first one, as u does.
	Symbol string
	Start  bool
	Bytes  []byte
	// Text is the instruction as u prints it, "call    app!f (00007ff6`00001000)".
	Text string
	// Target is a direct call's or jump's destination, 0 for others:
	// tapping the instruction's text follows it.
	Target     uint64
	Unreadable bool // Addr..Last cannot be read: shown as ?? and ???
}

// DisasmRequest asks for the instructions a DisasmView is about to show:
// Rows lines starting Skip instructions after (or, when negative, before)
// the instruction at Addr. Sync says Addr came from the scrollbar and
// may fall inside an instruction: the app realigns it (from the start of
// its symbol, say). Seq grows with every request.
type DisasmRequest struct {
	Seq  uint64
	Addr uint64
	Skip int
	Sync bool
	Rows int
}

// DisasmPage answers a DisasmRequest: Lines starts at the instruction the
// request resolved to.
type DisasmPage struct {
	DisasmRequest
	Lines []DisasmLine
}

// disasmPlace is a position in a DisasmView's history.
type disasmPlace struct {
	top, sel uint64
	hasSel   bool
}

// gotoContext is how many instructions GoTo shows above its target.
const gotoContext = 3

// DisasmView shows disassembly over a whole address space: the address,
// bytes and text of each instruction, with a "module!function:" line at
// symbol starts and the current instruction (the crash's) highlighted.
// Instructions vary in length, so the view keeps the address of its first
// instruction and asks for the lines that fit, by instruction counts from
// it when the user scrolls with the wheel or the keys, and by address
// (realigned by the app) when the scrollbar is dragged. Tapping a call's
// or jump's text follows it; Back returns.
//
// Its methods must be called on the UI thread.
type DisasmView struct {
	widget.BaseWidget

	// OnRequest asks for the instructions of the lines about to be shown;
	// pages of older requests are ignored.
	OnRequest func(DisasmRequest)
	// OnGoTo is called with the text of the Go to entry: the app
	// evaluates it and calls GoTo, or ShowGoToError.
	OnGoTo func(expr string)

	pane *statePane
	body *lineBody
	bar  *addrBar
	nav  *navBar

	ptrSize int
	lo, hi  uint64
	// The position asked for: skip instructions from base, realigned when
	// sync. A page resets it to the page's first instruction.
	base    uint64
	skip    int
	sync    bool
	rows    int
	seq     uint64
	page    DisasmPage
	hasPage bool
	shown   []int // per drawn row, the index in page.Lines; -1 for none
	cur     uint64
	hasCur  bool
	sel     uint64
	hasSel  bool
	placed  bool
	history []disasmPlace
}

// NewDisasmView returns an empty view of a 64-bit address space.
func NewDisasmView() *DisasmView {
	v := &DisasmView{ptrSize: 8, hi: math.MaxUint64}
	v.body = newLineBody()
	v.body.onRows = func(n int) { v.rows = n; v.request() }
	v.body.onScroll = v.Scroll
	v.body.onKey = v.key
	v.body.onTap = v.tap
	v.body.onDoubleTap = v.doubleTap
	v.bar = newAddrBar()
	v.bar.OnDrag = func(f float64) {
		v.base, v.skip, v.sync = scrollAddr(f, v.lo, v.hi), 0, true
		v.request()
	}
	v.nav = newNavBar(func(s string) {
		if v.OnGoTo != nil {
			v.OnGoTo(s)
		}
	}, v.Back, v.Follow)
	top := container.NewBorder(nil, nil, v.nav.back, v.nav.follow, v.nav.object)
	v.pane = newStatePane(container.NewBorder(top, nil, nil, v.bar, v.body))
	v.pane.showReady()
	v.ExtendBaseWidget(v)
	v.redraw()
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *DisasmView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.pane.content)
}

// State returns which face the view shows.
func (v *DisasmView) State() PaneState { return v.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (v *DisasmView) ErrorLine() string { return v.pane.errLine }

// ShowError replaces the view with line, the reason there is nothing to
// disassemble (an architecture without a decoder, a dump without memory).
func (v *DisasmView) ShowError(line string) { v.pane.showError(line) }

// SetPointerSize sets the target's pointer size, 4 or 8: how addresses
// are written, and a 32-bit target's range ends at 0xffffffff.
func (v *DisasmView) SetPointerSize(n int) {
	if n != 4 {
		n = 8
	}
	v.ptrSize = n
	v.hi = math.MaxUint64
	if n == 4 {
		v.hi = math.MaxUint32
	}
	v.base = min(v.base, v.hi)
	v.redraw()
}

// SetRange limits the scrollbar to [lo, hi], hi inclusive.
func (v *DisasmView) SetRange(lo, hi uint64) {
	v.lo, v.hi = min(lo, hi), max(lo, hi)
	v.base = min(max(v.base, v.lo), v.hi)
	v.redraw()
}

// SetCurrent highlights the instruction at addr, the crash's.
func (v *DisasmView) SetCurrent(addr uint64) {
	v.cur, v.hasCur = addr, true
	v.redraw()
}

// Current returns the highlighted address.
func (v *DisasmView) Current() (uint64, bool) { return v.cur, v.hasCur }

// GoTo shows the instruction at addr, a few lines down so that what leads
// to it shows too, and selects it. The position left is kept for Back.
func (v *DisasmView) GoTo(addr uint64) {
	if v.placed {
		v.history = append(v.history, disasmPlace{v.Top(), v.sel, v.hasSel})
	}
	v.placed = true
	v.nav.clearError()
	addr = min(max(addr, v.lo), v.hi)
	v.sel, v.hasSel = addr, true
	v.base, v.skip, v.sync = addr, -gotoContext, false
	v.request()
}

// ShowGoToError shows why the Go to text could not be evaluated.
func (v *DisasmView) ShowGoToError(msg string) { v.nav.showError(msg) }

// GoToError returns the error shown beside the Go to entry.
func (v *DisasmView) GoToError() string { return v.nav.errorText() }

// Back returns to where the last GoTo or Follow came from.
func (v *DisasmView) Back() {
	if len(v.history) == 0 {
		return
	}
	p := v.history[len(v.history)-1]
	v.history = v.history[:len(v.history)-1]
	v.nav.clearError()
	v.sel, v.hasSel = p.sel, p.hasSel
	v.base, v.skip, v.sync = p.top, 0, false
	v.request()
}

// CanGoBack reports whether Back has somewhere to go.
func (v *DisasmView) CanGoBack() bool { return len(v.history) > 0 }

// Top returns the address of the first instruction shown (or asked for,
// while its page is on its way).
func (v *DisasmView) Top() uint64 { return v.base }

// Selected returns the selected instruction's address.
func (v *DisasmView) Selected() (uint64, bool) { return v.sel, v.hasSel }

// Target returns the branch target Follow would go to: the selected
// instruction's.
func (v *DisasmView) Target() (uint64, bool) {
	if !v.hasSel || !v.hasPage {
		return 0, false
	}
	for _, l := range v.page.Lines {
		if l.Addr == v.sel && !l.Unreadable && l.Target != 0 {
			return l.Target, true
		}
	}
	return 0, false
}

// Follow goes to the selected instruction's target.
func (v *DisasmView) Follow() {
	if t, ok := v.Target(); ok {
		v.GoTo(t)
	}
}

// Scroll moves the view by n instructions, down when n > 0.
func (v *DisasmView) Scroll(n int) {
	if n == 0 {
		return
	}
	v.skip += n
	v.request()
}

// SetPage shows the instructions of the newest request; pages of older
// requests are ignored.
func (v *DisasmView) SetPage(p DisasmPage) {
	if p.Seq != v.seq {
		return
	}
	v.page, v.hasPage = p, true
	if len(p.Lines) > 0 {
		v.base, v.skip, v.sync = p.Lines[0].Addr, 0, false
	}
	v.bar.setFraction(scrollFraction(v.base, v.lo, v.hi))
	v.redraw()
}

// Lines returns the instructions of the page shown.
func (v *DisasmView) Lines() []DisasmLine {
	if !v.hasPage {
		return nil
	}
	return v.page.Lines
}

// RowTexts returns the rows as drawn, one string each.
func (v *DisasmView) RowTexts() []string {
	out := make([]string, 0, len(v.body.lines))
	for _, l := range v.body.lines {
		out = append(out, l.String())
	}
	return out
}

func (v *DisasmView) request() {
	v.bar.setFraction(scrollFraction(v.base, v.lo, v.hi))
	if v.rows > 0 && v.OnRequest != nil {
		v.seq++
		v.OnRequest(DisasmRequest{Seq: v.seq, Addr: v.base, Skip: v.skip, Sync: v.sync, Rows: v.rows})
	}
	v.redraw()
}

// Column layout, in characters: address, up to bytesShown bytes, text.
const bytesShown = 10

func (v *DisasmView) bytesCol() int { return len(fmtAddr(0, v.ptrSize)) + 1 }
func (v *DisasmView) textCol() int  { return v.bytesCol() + 2*bytesShown + 1 }

// bytesText is an instruction's bytes in hex, cut to the column.
func bytesText(b []byte) string {
	if len(b) > bytesShown {
		return fmt.Sprintf("%x…", b[:bytesShown-1])
	}
	return fmt.Sprintf("%x", b)
}

// redraw lays out the rows: the page shifted by the instructions scrolled
// since it was asked for, when it holds them, so that scrolling answers at
// once; otherwise the page as it is until the next one arrives.
func (v *DisasmView) redraw() {
	v.shown = v.shown[:0]
	var lines []textLine
	from := 0
	if v.hasPage && !v.sync && v.skip > 0 && v.skip < len(v.page.Lines) && v.base == v.page.Lines[0].Addr {
		from = v.skip
	}
	for i := from; v.hasPage && i < len(v.page.Lines) && len(lines) < v.rows; i++ {
		l := v.page.Lines[i]
		if l.Symbol != "" && (l.Start || i == from) {
			lines = append(lines, textLine{segs: []lineSeg{{text: l.Symbol + ":", bold: true}}})
			v.shown = append(v.shown, i)
			if len(lines) == v.rows {
				break
			}
		}
		lines = append(lines, v.instLine(l))
		v.shown = append(v.shown, i)
	}
	v.body.setLines(lines)
	_, canFollow := v.Target()
	v.nav.setEnabled(len(v.history) > 0, canFollow)
}

func (v *DisasmView) instLine(l DisasmLine) textLine {
	t := textLine{segs: []lineSeg{{text: fmtAddr(l.Addr, v.ptrSize), color: theme.ColorNamePlaceHolder}}}
	if v.hasCur && v.cur >= l.Addr && v.cur <= l.Last {
		t.marks = append(t.marks, lineMark{n: -1, kind: markCurrent})
	}
	if v.hasSel && v.sel >= l.Addr && v.sel <= l.Last {
		t.marks = append(t.marks, lineMark{n: -1, kind: markSelected})
	}
	if l.Unreadable {
		note := "(cannot be read through " + fmtAddr(l.Last, v.ptrSize) + ")"
		return withSegs(t, lineSeg{col: v.bytesCol(), text: "??"}, lineSeg{col: v.textCol(), text: "???  " + note, color: theme.ColorNameError})
	}
	text := lineSeg{col: v.textCol(), text: l.Text}
	if l.Target != 0 {
		text.color = theme.ColorNamePrimary // tapping it follows the target
	}
	return withSegs(t, lineSeg{col: v.bytesCol(), text: bytesText(l.Bytes), color: theme.ColorNamePlaceHolder}, text)
}

func withSegs(t textLine, segs ...lineSeg) textLine {
	t.segs = append(t.segs, segs...)
	return t
}

// lineAt returns the instruction drawn on row, if any.
func (v *DisasmView) lineAt(row int) (DisasmLine, bool) {
	if row < 0 || row >= len(v.shown) || !v.hasPage {
		return DisasmLine{}, false
	}
	return v.page.Lines[v.shown[row]], true
}

// tap selects the tapped instruction; tapping the text of a call or jump
// follows it.
func (v *DisasmView) tap(row, col int) {
	l, ok := v.lineAt(row)
	if !ok {
		return
	}
	label := row+1 < len(v.shown) && v.shown[row+1] == v.shown[row]
	if !label && !l.Unreadable && l.Target != 0 && col >= v.textCol() && col < v.textCol()+len([]rune(l.Text)) {
		v.sel, v.hasSel = l.Addr, true
		v.Follow()
		return
	}
	v.sel, v.hasSel = l.Addr, true
	v.redraw()
}

// doubleTap follows a call or jump wherever it is tapped.
func (v *DisasmView) doubleTap(row, col int) {
	if l, ok := v.lineAt(row); ok && l.Target != 0 && !l.Unreadable {
		v.sel, v.hasSel = l.Addr, true
		v.Follow()
	}
}

func (v *DisasmView) key(ev *fyne.KeyEvent) {
	page := max(v.rows-2, 1)
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
		v.base, v.skip, v.sync = v.lo, 0, true
		v.request()
	case fyne.KeyEnd:
		v.base, v.skip, v.sync = v.hi, -page, true
		v.request()
	case fyne.KeyReturn, fyne.KeyEnter:
		v.Follow()
	case fyne.KeyBackspace:
		v.Back()
	}
}
