package app

import (
	"context"
	"encoding/binary"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/widgets"
)

// hexRow is db's row for 16 bytes read with ReadMemory, built here
// independently of the view: the bytes in hex ("??" where the read
// stopped), a "-" in the middle, then the ASCII.
func hexRow(addr uint64, b []byte, n int) string {
	var hex, asc strings.Builder
	for k := range 16 {
		if k > 0 {
			hex.WriteString(map[bool]string{true: "-", false: " "}[k == 8])
		}
		if k < n {
			fmt.Fprintf(&hex, "%02x", b[k])
			if b[k] >= 0x20 && b[k] < 0x7f {
				asc.WriteByte(b[k])
			} else {
				asc.WriteByte('.')
			}
		} else {
			hex.WriteString("??")
			asc.WriteByte('?')
		}
	}
	return disasm.FormatAddr(addr, 8) + "  " + hex.String() + "  " + asc.String()
}

// uiQueue stands in for fyne.Do in the tab tests: the tabs' goroutines
// queue their UI work and the test's goroutine runs it, as the UI thread
// would. (Fyne's test driver runs fyne.Do on the calling goroutine,
// which would race the test's own use of the window.)
type uiQueue chan func()

var uiQueues = map[*uiPost]uiQueue{}

// queueUI makes ui's goroutines queue their UI work for settleUI.
func queueUI(ui *uiPost) {
	q := make(uiQueue, 1024)
	ui.do = func(f func()) { q <- f }
	uiQueues[ui] = q
}

// settleUI runs the queued UI work until ui's goroutines are all done and
// nothing they queued is left: every page asked for is shown.
func settleUI(t *testing.T, ui *uiPost) {
	t.Helper()
	q := uiQueues[ui]
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case f := <-q:
			f()
			continue
		default:
		}
		if ui.idle() {
			// Work queued just before the last goroutine ended.
			select {
			case f := <-q:
				f()
				continue
			default:
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the tab's background work")
		}
		time.Sleep(time.Millisecond)
	}
}

// showHexTab builds the memory tab of the sample and shows it at
// 1000x600 once its initial position is settled.
func showHexTab(t *testing.T) (*HexTab, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	sess := sampleSession(t)
	tab := newHexTab(context.Background(), sess)
	queueUI(tab.ui)
	waitClosed(t, "the initial position", tab.started, 30*time.Second)
	w := test.NewTempWindow(t, tab.Object)
	w.Resize(fyne.NewSize(1000, 600))
	waitHexIdle(t, tab)
	return tab, w
}

// waitHexIdle waits until the page of the view's newest request is shown.
func waitHexIdle(t *testing.T, tab *HexTab) {
	t.Helper()
	settleUI(t, tab.ui)
}

func TestHexTabSampleBytes(t *testing.T) {
	tab, w := showHexTab(t)
	v := tab.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v: %q", v.State(), v.ErrorLine())
	}
	// It opens at the crash's stack pointer.
	sp, ok := crashSP(tab.sess)
	if !ok || v.Top() != sp&^15 {
		t.Errorf("opened at %#x; the crash's stack pointer is %#x (%v)", v.Top(), sp, ok)
	}

	tab.GoTo(0x140000)
	waitHexIdle(t, tab)
	rows := v.RowTexts()
	m := tab.sess.Memory()
	for i := range 4 {
		a := 0x140000 + uint64(i)*16
		b := make([]byte, 16)
		n, err := m.ReadMemory(b, a)
		if err != nil {
			t.Fatalf("ReadMemory(%#x): %v", a, err)
		}
		if want := hexRow(a, b, n); rows[i] != want {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want)
		}
	}
	if strings.Contains(rows[2], "00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00") {
		t.Errorf("row 2 is all zeros; the sample's stack has a frame pointer there: %q", rows[2])
	}

	// The region ends at 0x140100: the row before it reads, the row
	// after it does not, exactly where ReadMemory stops.
	last, after := make([]byte, 16), make([]byte, 16)
	nLast, _ := m.ReadMemory(last, 0x1400f0)
	if n, err := m.ReadMemory(after, 0x140100); nLast != 16 || n != 0 || err == nil {
		t.Fatalf("ReadMemory around the end of the stack region: %d, then %d, %v", nLast, n, err)
	}
	tab.GoTo(0x1400f8)
	waitHexIdle(t, tab)
	rows = v.RowTexts()
	if want := hexRow(0x1400f0, last, nLast); rows[0] != want {
		t.Errorf("last readable row:\n got %q\nwant %q", rows[0], want)
	}
	if want := hexRow(0x140100, nil, 0); rows[1] != want {
		t.Errorf("first unreadable row:\n got %q\nwant %q", rows[1], want)
	}
	if a, _ := v.Selected(); a != 0x1400f8 {
		t.Errorf("selected %#x", a)
	}
	saveViewPNG(t, w, "/tmp/hexview.png", func() { tab.GoTo(0x140000) }, func() { waitHexIdle(t, tab) })
}

func TestHexTabPointersAndGoTo(t *testing.T) {
	tab, w := showHexTab(t)
	v := tab.view
	tab.GoTo(0x140000)
	v.SetMode(widgets.HexPointers)
	waitHexIdle(t, tab)

	// Each row is dps' line for the same address: value and symbol.
	var out strings.Builder
	if err := tab.sess.Exec(context.Background(), "dps 0x140000 L8", console.NewTextOutput(&out)); err != nil {
		t.Fatal(err)
	}
	dps := strings.Split(strings.TrimSpace(out.String()), "\n")
	rows := v.RowTexts()
	named := 0
	for i, line := range dps {
		if got, want := strings.Fields(rows[i]), strings.Fields(line); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q; dps says %q", i, rows[i], line)
		}
		if len(strings.Fields(line)) == 3 {
			named++
		}
	}
	if named == 0 {
		t.Errorf("no pointer on the sample's stack is named: %q", dps)
	}

	saveViewPNG(t, w, "/tmp/hexview-pointers.png", func() { v.GoTo(0x140000) }, func() { waitHexIdle(t, tab) })

	// Following the return address at 0x140028 lands in app!main.
	var ret uint64
	b := make([]byte, 8)
	if _, err := tab.sess.Memory().ReadMemory(b, 0x140028); err != nil {
		t.Fatal(err)
	}
	ret = binary.LittleEndian.Uint64(b)
	tab.GoTo(0x140028)
	waitHexIdle(t, tab)
	if p, ok := v.Pointer(); !ok || p != ret {
		t.Fatalf("selected pointer %#x, %v; memory holds %#x", p, ok, ret)
	}
	v.Follow()
	waitHexIdle(t, tab)
	if a, _ := v.Selected(); a != ret || v.Top() != ret&^7 {
		t.Errorf("after Follow: top %#x, selected %#x; want %#x", v.Top(), a, ret)
	}
	v.Back()
	waitHexIdle(t, tab)
	if v.Top() != 0x140028 {
		t.Errorf("Back to %#x", v.Top())
	}

	// Go to evaluates expressions in the background.
	want, err := tab.sess.Eval("app!CrashFunction")
	if err != nil {
		t.Fatal(err)
	}
	v.SetMode(widgets.HexBytes)
	v.OnGoTo("app!CrashFunction")
	waitHexIdle(t, tab)
	if a, _ := v.Selected(); a != want || v.Top() != want&^15 || v.GoToError() != "" {
		t.Errorf("Go to app!CrashFunction: top %#x (want %#x), error %q", v.Top(), want&^15, v.GoToError())
	}
	// The sample holds no code: the function's bytes are unreadable.
	if row := v.RowTexts()[0]; !strings.Contains(row, "?? ?? ??") {
		t.Errorf("app!CrashFunction's row %q", row)
	}
	v.OnGoTo("app!NoSuchFunction")
	waitHexIdle(t, tab)
	if !strings.Contains(v.GoToError(), "NoSuchFunction") || v.Top() != want&^15 {
		t.Errorf("a bad expression: error %q, top %#x", v.GoToError(), v.Top())
	}
}

func TestHexTabWithoutSession(t *testing.T) {
	test.NewTempApp(t)
	tab := NewHexTab(nil)
	if tab.view.State() != widgets.PaneError || tab.Object != tab.view {
		t.Errorf("state %v", tab.view.State())
	}
}

// TestLatestOnlySkipsSupersededRequests checks the coalescing: while one
// request is read, newer ones replace each other and only the newest is
// read and applied next.
func TestLatestOnlySkipsSupersededRequests(t *testing.T) {
	test.NewTempApp(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var worked, applied []int
	ui := newUIPost()
	queueUI(ui)
	l := newLatestOnly(context.Background(), ui, func(r int) func() {
		if r == 0 {
			<-release // the first read is slow
		}
		mu.Lock()
		worked = append(worked, r)
		mu.Unlock()
		return func() { applied = append(applied, r) }
	})
	l.submit(0)
	waitFor(t, "the first request to start", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.running && !l.pending
	}, 5*time.Second)
	for r := 1; r <= 50; r++ {
		l.submit(r)
	}
	close(release)
	settleUI(t, ui)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(worked) != "[0 50]" || fmt.Sprint(applied) != "[0 50]" {
		t.Errorf("worked on %v, applied %v; want [0 50]", worked, applied)
	}
}

// saveViewPNG renders w in the dark theme at its size, after prepare
// and settle, and writes it to path for a person to look at.
func saveViewPNG(t *testing.T, w fyne.Window, path string, prepare, settle func()) {
	t.Helper()
	fyne.CurrentApp().Settings().SetTheme(darkTheme{theme.DefaultTheme()})
	prepare()
	settle()
	w.Content().Refresh()
	f, err := os.Create(path)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Error(err)
	}
}

// darkTheme is the default theme's dark variant whatever the settings.
type darkTheme struct{ fyne.Theme }

func (d darkTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return d.Theme.Color(n, theme.VariantDark)
}
