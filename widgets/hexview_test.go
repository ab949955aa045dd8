package widgets

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// fakeMemory is a MemorySource with readable blocks and a symbol table of
// single-address-range "modules".
type fakeMemory struct {
	blocks map[uint64][]byte
	mods   []fakeMod
	reads  int
}

type fakeMod struct {
	name       string
	base, size uint64
}

func (m *fakeMemory) Read(p []byte, ok []bool, addr uint64) {
	m.reads++
	for i := range p {
		a := addr + uint64(i)
		for base, b := range m.blocks {
			if a >= base && a-base < uint64(len(b)) {
				p[i], ok[i] = b[a-base], true
			}
		}
	}
}

func (m *fakeMemory) Symbol(a uint64) string {
	for _, mod := range m.mods {
		if a >= mod.base && a-mod.base < mod.size {
			return fmt.Sprintf("%s+%#x", mod.name, a-mod.base)
		}
	}
	return ""
}

func seqBytes(from byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = from + byte(i)
	}
	return b
}

// newTestHexView shows a HexView in a 1000x600 window, answering its
// requests synchronously from src, as the app does from a goroutine.
func newTestHexView(t *testing.T, src MemorySource) (*HexView, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	v := NewHexView()
	var reqs []HexRequest
	v.OnRequest = func(r HexRequest) {
		reqs = append(reqs, r)
		v.SetPage(ReadHexPage(src, r))
	}
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1000, 600))
	if v.Rows() < 10 {
		t.Fatalf("only %d rows fit in 600 pixels", v.Rows())
	}
	return v, w
}

func TestHexViewRowsWithHoles(t *testing.T) {
	// Readable: 0x1000..0x1007, then nothing until 0x1014..0x101f.
	src := &fakeMemory{blocks: map[uint64][]byte{
		0x1000: []byte("ABCDEFG\x00"),
		0x1014: seqBytes(0x30, 12),
	}}
	v, _ := newTestHexView(t, src)
	v.GoTo(0x1000)
	rows := v.RowTexts()
	if len(rows) != v.Rows() {
		t.Fatalf("%d rows drawn, %d fit", len(rows), v.Rows())
	}
	want := []string{
		"00000000`00001000  41 42 43 44 45 46 47 00-?? ?? ?? ?? ?? ?? ?? ??  ABCDEFG.????????",
		"00000000`00001010  ?? ?? ?? ?? 30 31 32 33-34 35 36 37 38 39 3a 3b  ????0123456789:;",
		"00000000`00001020  ?? ?? ?? ?? ?? ?? ?? ??-?? ?? ?? ?? ?? ?? ?? ??  ????????????????",
	}
	for i, w := range want {
		if rows[i] != w {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], w)
		}
	}
	// Addresses go up a row at a time to the bottom of the screen.
	last := rows[len(rows)-1]
	if wantAddr := fmtAddr(0x1000+uint64(len(rows)-1)*16, 8); !strings.HasPrefix(last, wantAddr) {
		t.Errorf("last row %q does not start with %s", last, wantAddr)
	}
	if a, ok := v.Selected(); !ok || a != 0x1000 {
		t.Errorf("selected %#x, %v after GoTo; want 0x1000", a, ok)
	}
}

func TestHexViewThirtyTwoBit(t *testing.T) {
	src := &fakeMemory{blocks: map[uint64][]byte{0x401000: {0x10, 0x20, 0x40, 0x00}}}
	v, _ := newTestHexView(t, src)
	v.SetPointerSize(4)
	v.SetMode(HexPointers)
	v.GoTo(0x401000)
	rows := v.RowTexts()
	if rows[0] != "00401000  00402010" || !strings.HasPrefix(rows[1], "00401004  ????????") {
		t.Errorf("32-bit pointer rows = %q", rows[:2])
	}
	v.GoTo(math.MaxUint64) // clamped to the 32-bit range
	rows = v.RowTexts()
	if !strings.HasPrefix(rows[len(rows)-1], "fffffffc  ") {
		t.Errorf("last row of a 32-bit space = %q", rows[len(rows)-1])
	}
}

func TestHexViewPointerModeSymbolsFollowAndBack(t *testing.T) {
	stack := make([]byte, 0x40)
	binary.LittleEndian.PutUint64(stack[0x08:], 0x00007ff600002046) // a return address in app
	binary.LittleEndian.PutUint64(stack[0x10:], 0x0000000000140030) // a pointer into the stack
	binary.LittleEndian.PutUint64(stack[0x18:], 0x1234)             // a number
	src := &fakeMemory{
		blocks: map[uint64][]byte{0x140000: stack[:0x3c]}, // the last qword half unreadable
		mods:   []fakeMod{{"app!main", 0x7ff600002000, 0x100}},
	}
	v, _ := newTestHexView(t, src)
	v.SetMode(HexPointers)
	v.GoTo(0x140000)
	rows := v.RowTexts()
	want := []string{
		"00000000`00140000  00000000`00000000",
		"00000000`00140008  00007ff6`00002046  app!main+0x46",
		"00000000`00140010  00000000`00140030",
		"00000000`00140018  00000000`00001234",
	}
	for i, w := range want {
		if rows[i] != w {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], w)
		}
	}
	if rows[7] != "00000000`00140038  ????????`????????" {
		t.Errorf("half-readable pointer row = %q", rows[7])
	}
	// The symbol column is aligned after the value.
	if col := strings.Index(rows[1], "app!"); col != v.symCol() {
		t.Errorf("symbol at column %d, want %d", col, v.symCol())
	}

	// Double tapping the stack pointer's row follows it.
	if v.CanGoBack() {
		t.Fatal("the first GoTo left a history")
	}
	_, rh := v.body.cell()
	row := func(i int) *fyne.PointEvent {
		return &fyne.PointEvent{Position: fyne.NewPos(v.body.pad()+5, (float32(i)+0.5)*rh)}
	}
	v.body.DoubleTapped(row(2))
	if v.Top() != 0x140030 {
		t.Fatalf("after following the pointer at 0x140010 the top is %#x, want 0x140030", v.Top())
	}
	if a, _ := v.Selected(); a != 0x140030 {
		t.Errorf("selected %#x after following, want 0x140030", a)
	}
	// The Follow button follows the selected row; an unreadable one
	// cannot be followed.
	test.Tap(v.nav.back)
	if v.Top() != 0x140000 {
		t.Fatalf("Back returned to %#x, want 0x140000", v.Top())
	}
	if a, _ := v.Selected(); a != 0x140010 {
		t.Errorf("Back restored selection %#x, want 0x140010 (the followed pointer)", a)
	}
	v.body.Tapped(row(7))
	if _, ok := v.Pointer(); ok || !v.nav.follow.Disabled() {
		t.Errorf("the half-unreadable pointer can be followed")
	}
	v.body.Tapped(row(1))
	if p, ok := v.Pointer(); !ok || p != 0x7ff600002046 || v.nav.follow.Disabled() {
		t.Fatalf("Pointer() = %#x, %v after selecting row 1", p, ok)
	}
	test.Tap(v.nav.follow)
	// The rows stay pointer-aligned; the target is selected.
	if a, _ := v.Selected(); v.Top() != 0x7ff600002040 || a != 0x7ff600002046 || v.RowTexts()[0] != "00007ff6`00002040  ????????`????????" {
		t.Errorf("Follow went to %#x, selecting %#x: %q", v.Top(), a, v.RowTexts()[0])
	}
	test.Tap(v.nav.back)
	test.Tap(v.nav.back) // nothing left: stays
	if v.Top() != 0x140000 || v.CanGoBack() || !v.nav.back.Disabled() {
		t.Errorf("after Back twice: top %#x, can go back %v", v.Top(), v.CanGoBack())
	}
}

func TestHexViewScrollsTheWholeSpace(t *testing.T) {
	src := &fakeMemory{blocks: map[uint64][]byte{math.MaxUint64 - 3: {1, 2, 3, 4}}}
	v, _ := newTestHexView(t, src)
	rows := v.Rows()
	full := math.MaxUint64 - uint64(rows)*16 + 1

	v.GoTo(math.MaxUint64)
	if v.Top() != full {
		t.Fatalf("GoTo(max) top = %#x, want the last screen %#x", v.Top(), full)
	}
	texts := v.RowTexts()
	if want := "ffffffff`fffffff0  ?? ?? ?? ?? ?? ?? ?? ??-?? ?? ?? ?? 01 02 03 04  ????????????...."; texts[len(texts)-1] != want {
		t.Errorf("last row of the space:\n got %q\nwant %q", texts[len(texts)-1], want)
	}
	// Keys and the wheel stop at the ends rather than wrap.
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown})
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyDown})
	if v.Top() != full {
		t.Errorf("scrolling down past the end moved the top to %#x", v.Top())
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyPageUp})
	if want := full - uint64(rows-1)*16; v.Top() != want {
		t.Errorf("PageUp: top %#x, want %#x", v.Top(), want)
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	if want := full - uint64(rows)*16; v.Top() != want {
		t.Errorf("Up: top %#x, want %#x", v.Top(), want)
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyHome})
	if v.Top() != 0 {
		t.Errorf("Home: top %#x", v.Top())
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyUp})
	if v.Top() != 0 {
		t.Errorf("Up at address 0 wrapped to %#x", v.Top())
	}
	_, rh := v.body.cell()
	v.body.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.NewDelta(0, -rh)}) // one notch down: three lines
	if v.Top() != 3*16 {
		t.Errorf("the wheel moved the top to %#x, want 0x30", v.Top())
	}
	v.body.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	if v.Top() != full {
		t.Errorf("End: top %#x, want %#x", v.Top(), full)
	}

	// The scrollbar maps its ends to the ends of the space and its
	// middle to the middle, on a row boundary.
	v.bar.report(0.5)
	if mid := v.Top(); mid%16 != 0 || mid < 1<<63-1<<20 || mid > 1<<63+1<<20 {
		t.Errorf("scrollbar at 0.5: top %#x", mid)
	}
	if f := v.bar.frac; math.Abs(f-0.5) > 1e-6 {
		t.Errorf("the thumb is at %v after moving to 0.5", f)
	}
	v.bar.report(1)
	if v.Top() != full {
		t.Errorf("scrollbar at 1: top %#x, want %#x", v.Top(), full)
	}
	v.bar.report(0)
	if v.Top() != 0 {
		t.Errorf("scrollbar at 0: top %#x", v.Top())
	}
	// Dragging the thumb from its middle down the whole track.
	h := v.bar.Size().Height
	v.bar.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(4, h)}, Dragged: fyne.NewDelta(0, h-v.bar.thumbHeight()/2)})
	v.bar.DragEnd()
	if v.Top() != full {
		t.Errorf("dragging the thumb to the bottom: top %#x, want %#x", v.Top(), full)
	}
}

func TestHexViewSixtyFourGiBRange(t *testing.T) {
	v, _ := newTestHexView(t, &fakeMemory{})
	v.SetRange(0, gib64-1)
	v.GoTo(gib64 + 0x1000) // outside: clamped to the last byte
	want := uint64(gib64 - v.Rows()*16)
	if v.Top() != want {
		t.Errorf("top %#x, want the last screen %#x", v.Top(), want)
	}
	rows := v.RowTexts()
	if !strings.HasPrefix(rows[len(rows)-1], "0000000f`fffffff0") {
		t.Errorf("last row %q", rows[len(rows)-1])
	}
	v.bar.report(0.5)
	if v.Top() != alignDown(uint64(float64(want)/2), 16) {
		t.Errorf("scrollbar at 0.5: top %#x, want %#x", v.Top(), want/2)
	}
}

func TestHexViewSelectsTappedByte(t *testing.T) {
	v, _ := newTestHexView(t, &fakeMemory{blocks: map[uint64][]byte{0x2000: seqBytes(0, 0x30)}})
	v.GoTo(0x2000)
	cw, rh := v.body.cell()
	at := func(row, col int) *fyne.PointEvent {
		return &fyne.PointEvent{Position: fyne.NewPos(v.body.pad()+(float32(col)+0.5)*cw, (float32(row)+0.5)*rh)}
	}
	v.body.Tapped(at(1, v.dataCol()+3*5)) // row 1, byte 5
	if a, _ := v.Selected(); a != 0x2015 {
		t.Errorf("tapping byte 5 of row 1 selected %#x", a)
	}
	v.body.Tapped(at(2, v.asciiCol()+15)) // row 2, the last ASCII character
	if a, _ := v.Selected(); a != 0x202f {
		t.Errorf("tapping the last character of row 2 selected %#x", a)
	}
	// In byte mode Follow reads the pointer starting at the selected byte.
	if p, ok := v.Pointer(); ok {
		t.Errorf("a pointer running off the readable bytes: %#x", p)
	}
	v.body.Tapped(at(0, v.dataCol()+3*8))
	if p, ok := v.Pointer(); !ok || p != 0x0f0e0d0c0b0a0908 {
		t.Errorf("pointer at 0x2008 = %#x, %v", p, ok)
	}
	// The selected byte is marked in both columns.
	marks := v.body.lines[0].marks
	if len(marks) != 2 || marks[0].col != v.dataCol()+24 || marks[1].col != v.asciiCol()+8 {
		t.Errorf("marks of the selected byte: %+v", marks)
	}
}

func TestHexViewIgnoresStalePagesAndAsksOncePerMove(t *testing.T) {
	test.NewTempApp(t)
	v := NewHexView()
	var reqs []HexRequest
	v.OnRequest = func(r HexRequest) { reqs = append(reqs, r) }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1000, 600))
	if len(reqs) == 0 || reqs[len(reqs)-1].Rows != v.Rows() {
		t.Fatalf("no request for the %d rows laid out: %+v", v.Rows(), reqs)
	}
	src := &fakeMemory{blocks: map[uint64][]byte{0: seqBytes(0x41, 32), 0x10000: seqBytes(0x61, 16)}}
	v.GoTo(0)
	old := reqs[len(reqs)-1]
	v.GoTo(0x10000)
	cur := reqs[len(reqs)-1]
	if cur.Seq <= old.Seq || cur.Addr != 0x10000 {
		t.Fatalf("requests %+v then %+v", old, cur)
	}
	v.SetPage(ReadHexPage(src, old)) // answered late: ignored
	if strings.Contains(v.RowTexts()[0], "41 42") {
		t.Errorf("a stale page was applied: %q", v.RowTexts()[0])
	}
	v.SetPage(ReadHexPage(src, cur))
	if want := "00000000`00010000  61 62 63"; !strings.HasPrefix(v.RowTexts()[0], want) {
		t.Errorf("row 0 = %q, want %q…", v.RowTexts()[0], want)
	}
}

func TestHexViewGoToEntry(t *testing.T) {
	v, _ := newTestHexView(t, &fakeMemory{})
	var asked []string
	v.OnGoTo = func(s string) { asked = append(asked, s) }
	test.Type(v.nav.entry, " rsp+8 ")
	test.Tap(v.nav.goBtn)
	if len(asked) != 1 || asked[0] != "rsp+8" {
		t.Fatalf("Go asked for %q", asked)
	}
	v.ShowGoToError("rsp+8: no such register")
	if v.GoToError() != "rsp+8: no such register" || !v.nav.err.Visible() {
		t.Errorf("error %q, visible %v", v.GoToError(), v.nav.err.Visible())
	}
	v.GoTo(0x1000)
	if v.GoToError() != "" || v.nav.err.Visible() {
		t.Errorf("the error stayed after a GoTo: %q", v.GoToError())
	}
	v.nav.entry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if len(asked) != 2 {
		t.Errorf("Return in the entry did not ask: %q", asked)
	}
}
