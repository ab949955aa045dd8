package widgets

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// fakeCode is a made-up instruction set for the view's tests: two-byte
// instructions at even addresses, a function every 0x20 bytes ("mod!f82"
// at 0x1040), a call to the function after next at offset 6 of each, and
// an unreadable hole [0x3000, 0x4000).
type fakeCode struct{}

const holeLo, holeHi = 0x3000, 0x3fff

func (fakeCode) line(a uint64) DisasmLine {
	if a >= holeLo && a <= holeHi {
		return DisasmLine{Addr: holeLo, Last: holeHi, Unreadable: true, Symbol: fakeSym(holeLo)}
	}
	l := DisasmLine{Addr: a, Last: a + 1, Bytes: []byte{0x90, 0x90}, Text: "nop", Symbol: fakeSym(a), Start: a%0x20 == 0}
	if a%0x20 == 6 {
		l.Bytes = []byte{0xe8, 0x10}
		l.Target = alignDown(a, 0x20) + 0x40
		l.Text = fmt.Sprintf("call    %s (%s)", fakeSym(l.Target), fmtAddr(l.Target, 8))
	}
	return l
}

func fakeSym(a uint64) string {
	s := fmt.Sprintf("mod!f%x", a/0x20)
	if a%0x20 != 0 {
		s += fmt.Sprintf("+%#x", a%0x20)
	}
	return s
}

func (c fakeCode) next(a uint64) (uint64, bool) {
	l := c.line(a)
	return l.Last + 1, l.Last != math.MaxUint64
}

func (c fakeCode) prev(a uint64) (uint64, bool) {
	switch {
	case a == 0:
		return 0, false
	case a-1 >= holeLo && a-1 <= holeHi:
		return holeLo, true
	}
	return alignDown(a-1, 2), true
}

// page answers a request as the app does.
func (c fakeCode) page(r DisasmRequest) DisasmPage {
	top := r.Addr
	if r.Sync {
		top = c.line(alignDown(top, 2)).Addr
	}
	for n := r.Skip; n > 0; n-- {
		if a, ok := c.next(top); ok {
			top = a
		}
	}
	for n := r.Skip; n < 0; n++ {
		top, _ = c.prev(top)
	}
	p := DisasmPage{DisasmRequest: r}
	for a := top; len(p.Lines) < r.Rows; {
		p.Lines = append(p.Lines, c.line(a))
		var ok bool
		if a, ok = c.next(a); !ok {
			break
		}
	}
	return p
}

// newTestDisasmView shows a DisasmView in a 1000x600 window. Requests
// are answered at once unless hold is set; reqs records them.
func newTestDisasmView(t *testing.T) (v *DisasmView, reqs *[]DisasmRequest, hold *bool) {
	t.Helper()
	test.NewTempApp(t)
	v = NewDisasmView()
	reqs, hold = new([]DisasmRequest), new(bool)
	v.OnRequest = func(r DisasmRequest) {
		*reqs = append(*reqs, r)
		if !*hold {
			v.SetPage(fakeCode{}.page(r))
		}
	}
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1000, 600))
	if v.rows < 10 {
		t.Fatalf("only %d rows fit", v.rows)
	}
	return v, reqs, hold
}

// instRow returns the drawn row of the instruction at a, or -1.
func instRow(v *DisasmView, a uint64) int {
	prefix := fmtAddr(a, 8) + " "
	for i, r := range v.RowTexts() {
		if strings.HasPrefix(r, prefix) {
			return i
		}
	}
	return -1
}

func TestDisasmViewRowsLabelsAndCurrent(t *testing.T) {
	v, _, _ := newTestDisasmView(t)
	v.SetCurrent(0x1044)
	v.GoTo(0x1046)
	rows := v.RowTexts()
	if len(rows) != v.rows {
		t.Fatalf("%d rows drawn, %d fit", len(rows), v.rows)
	}
	// Three instructions of context, the first one labelled with its
	// symbol, as u does.
	if rows[0] != "mod!f82:" || v.Top() != 0x1040 {
		t.Fatalf("top %#x, rows start %q", v.Top(), rows[:3])
	}
	call := rows[instRow(v, 0x1046)]
	if want := "00000000`00001046 e810"; !strings.HasPrefix(call, want) {
		t.Errorf("call row %q, want prefix %q", call, want)
	}
	if got := call[v.textCol():]; got != "call    mod!f84 (00000000`00001080)" {
		t.Errorf("call text at column %d = %q", v.textCol(), got)
	}
	// A label line above every symbol start, none elsewhere.
	for i, r := range rows {
		if strings.HasSuffix(r, ":") {
			if i+1 >= len(rows) {
				continue
			}
			next := rows[i+1]
			var a uint64
			fmt.Sscanf(strings.ReplaceAll(next[:17], "`", ""), "%x", &a)
			if a%0x20 != 0 && i != 0 {
				t.Errorf("label %q above %q, not a symbol start", r, next)
			}
			if r != fakeSym(a)+":" {
				t.Errorf("label %q above the instruction at %#x", r, a)
			}
		}
	}
	if i := instRow(v, 0x1060); i < 1 || rows[i-1] != "mod!f83:" {
		t.Errorf("no label above the function at 0x1060: %q", rows)
	}
	// The current instruction is highlighted, the selected one marked.
	cur, sel := v.body.lines[instRow(v, 0x1044)].marks, v.body.lines[instRow(v, 0x1046)].marks
	if len(cur) != 1 || cur[0].kind != markCurrent || len(sel) != 1 || sel[0].kind != markSelected {
		t.Errorf("marks: current row %+v, selected row %+v", cur, sel)
	}
	if marks := v.body.lines[instRow(v, 0x1042)].marks; len(marks) != 0 {
		t.Errorf("an ordinary row is marked: %+v", marks)
	}
}

func TestDisasmViewFollowAndBack(t *testing.T) {
	v, _, _ := newTestDisasmView(t)
	v.GoTo(0x1046)
	cw, rh := v.body.cell()
	at := func(row, col int) *fyne.PointEvent {
		return &fyne.PointEvent{Position: fyne.NewPos(v.body.pad()+(float32(col)+0.5)*cw, (float32(row)+0.5)*rh)}
	}
	// Tapping the address column selects; tapping the call's text follows.
	r := instRow(v, 0x1046)
	v.body.Tapped(at(instRow(v, 0x1042), 2))
	if a, _ := v.Selected(); a != 0x1042 || v.Top() != 0x1040 {
		t.Fatalf("tapping the address: selected %#x, top %#x", a, v.Top())
	}
	if !v.nav.follow.Disabled() {
		t.Error("Follow is enabled on a nop")
	}
	v.body.Tapped(at(r, v.textCol()+2))
	if a, _ := v.Selected(); a != 0x1080 || instRow(v, 0x1080) < 0 {
		t.Fatalf("following the call: selected %#x, rows %q", a, v.RowTexts())
	}
	if v.Top() != 0x107a {
		t.Errorf("the target is not three instructions down: top %#x", v.Top())
	}
	// Follow on the selected call, by button, then Back twice.
	v.body.Tapped(at(instRow(v, 0x1086), 0))
	test.Tap(v.nav.follow)
	if a, _ := v.Selected(); a != 0x10c0 {
		t.Fatalf("Follow selected %#x, want 0x10c0", a)
	}
	test.Tap(v.nav.back)
	if a, _ := v.Selected(); a != 0x1086 || v.Top() != 0x107a {
		t.Errorf("Back: selected %#x, top %#x; want 0x1086, 0x107a", a, v.Top())
	}
	test.Tap(v.nav.back)
	if a, _ := v.Selected(); a != 0x1046 || v.Top() != 0x1040 {
		t.Errorf("Back again: selected %#x, top %#x", a, v.Top())
	}
	if v.CanGoBack() || !v.nav.back.Disabled() {
		t.Error("history left after going all the way back")
	}
	// Double tapping a call anywhere follows it.
	v.body.DoubleTapped(at(instRow(v, 0x1066), 0))
	if a, _ := v.Selected(); a != 0x10a0 {
		t.Errorf("double tap followed to %#x", a)
	}
}

func TestDisasmViewScrolling(t *testing.T) {
	v, reqs, hold := newTestDisasmView(t)
	v.GoTo(0x1046)
	top := v.Top()
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	if v.Top() != top+2 {
		t.Fatalf("Down: top %#x, want %#x", v.Top(), top+2)
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	if v.Top() != top-2 {
		t.Fatalf("Up twice: top %#x, want %#x", v.Top(), top-2)
	}
	// While a page is on its way the rows already move, from the page
	// shown; rapid moves add up into one request from the same base.
	*hold = true
	base := v.Top()
	v.Scroll(2)
	v.Scroll(3)
	last := (*reqs)[len(*reqs)-1]
	if last.Addr != base || last.Skip != 5 || last.Sync {
		t.Fatalf("request after two scrolls: %+v", last)
	}
	if rows := v.RowTexts(); rows[0] != fakeSym(base+10)+":" || !strings.HasPrefix(rows[1], fmtAddr(base+10, 8)) {
		t.Errorf("rows before the page came: %q", rows[:2])
	}
	*hold = false
	v.SetPage(fakeCode{}.page(last))
	if v.Top() != base+10 {
		t.Errorf("top %#x after the page, want %#x", v.Top(), base+10)
	}
	// A page down moves by the rows shown, less two for context.
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown})
	if want := base + 10 + uint64(2*(v.rows-2)); v.Top() != want {
		t.Errorf("PageDown: top %#x, want %#x", v.Top(), want)
	}
	// The wheel: one notch down is three instructions.
	before := v.Top()
	_, rh := v.body.cell()
	v.body.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.NewDelta(0, -rh)})
	if v.Top() != before+6 {
		t.Errorf("wheel: top %#x, want %#x", v.Top(), before+6)
	}

	// The scrollbar asks for an address to realign, over the whole space.
	v.bar.report(1)
	last = (*reqs)[len(*reqs)-1]
	if !last.Sync || last.Addr != math.MaxUint64 || last.Skip != 0 {
		t.Errorf("scrollbar at the bottom asked for %+v", last)
	}
	rows := v.RowTexts()
	if !strings.HasPrefix(rows[len(rows)-1], "ffffffff`fffffffe") {
		t.Errorf("the last instruction of the space is not shown last: %q", rows[len(rows)-3:])
	}
	v.bar.report(0.5)
	if last = (*reqs)[len(*reqs)-1]; last.Addr < 1<<63-1<<12 || last.Addr > 1<<63+1<<12 {
		t.Errorf("scrollbar at the middle asked for %#x", last.Addr)
	}
	if math.Abs(v.bar.frac-0.5) > 1e-6 {
		t.Errorf("thumb at %v", v.bar.frac)
	}
	// Down at the end of the space stays there.
	v.GoTo(math.MaxUint64 - 1)
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown})
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown})
	if v.Top() != math.MaxUint64-1 {
		t.Errorf("paging past the end: top %#x", v.Top())
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyHome})
	if v.Top() != 0 {
		t.Errorf("Home: top %#x", v.Top())
	}
}

func TestDisasmViewUnreadable(t *testing.T) {
	v, _, _ := newTestDisasmView(t)
	v.GoTo(holeLo)
	i := instRow(v, holeLo)
	if i < 0 {
		t.Fatalf("no row for the hole: %q", v.RowTexts())
	}
	row := v.RowTexts()[i]
	if got := row[v.bytesCol():]; !strings.HasPrefix(got, "??") || !strings.Contains(got, "???  (cannot be read through 00000000`00003fff)") {
		t.Errorf("hole row %q", row)
	}
	// The hole is one line: the next is the first readable instruction,
	// a function's start under its label.
	if j := instRow(v, holeHi+1); j != i+2 || v.RowTexts()[i+1] != fakeSym(holeHi+1)+":" {
		t.Errorf("the instruction after the hole is on row %d, the hole on %d: %q", j, i, v.RowTexts()[i:j+1])
	}
}

func TestDisasmViewIgnoresStalePages(t *testing.T) {
	v, reqs, hold := newTestDisasmView(t)
	*hold = true
	v.GoTo(0x1000)
	first := (*reqs)[len(*reqs)-1]
	v.GoTo(0x2000)
	second := (*reqs)[len(*reqs)-1]
	v.SetPage(fakeCode{}.page(first))
	if instRow(v, 0x1000) >= 0 {
		t.Errorf("a stale page was applied: %q", v.RowTexts())
	}
	v.SetPage(fakeCode{}.page(second))
	if instRow(v, 0x2000) < 0 {
		t.Errorf("the newest page is not shown: %q", v.RowTexts())
	}
}
