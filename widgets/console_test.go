package widgets

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func newTestConsole(t *testing.T) (*Console, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	c := NewConsole("0:000>")
	w := test.NewTempWindow(t, c)
	w.Resize(fyne.NewSize(600, 400))
	return c, w
}

func key(c *Console, name fyne.KeyName) { c.entry.TypedKey(&fyne.KeyEvent{Name: name}) }

func TestConsoleSubmit(t *testing.T) {
	c, w := newTestConsole(t)
	var got []string
	c.OnSubmit = func(line string) { got = append(got, line) }
	w.Canvas().Focus(c.entry)
	test.Type(c.entry, "k 5")
	key(c, fyne.KeyReturn)
	if !slices.Equal(got, []string{"k 5"}) {
		t.Fatalf("submitted %q, want [k 5]", got)
	}
	if c.Entry() != "" {
		t.Errorf("entry after submit = %q, want empty", c.Entry())
	}
}

func TestConsoleHistoryKeys(t *testing.T) {
	c, _ := newTestConsole(t)
	hist := []string{"lm", "k"}
	pos := len(hist)
	c.OnHistory = func(d int) (string, bool) {
		p := pos + d
		if p < 0 || p > len(hist) {
			return "", false
		}
		pos = p
		if p == len(hist) {
			return "", true
		}
		return hist[p], true
	}
	want := []struct {
		k    fyne.KeyName
		text string
	}{{fyne.KeyUp, "k"}, {fyne.KeyUp, "lm"}, {fyne.KeyUp, "lm"}, {fyne.KeyDown, "k"}, {fyne.KeyDown, ""}}
	for i, s := range want {
		key(c, s.k)
		if c.Entry() != s.text {
			t.Fatalf("step %d (%s): entry = %q, want %q", i, s.k, c.Entry(), s.text)
		}
	}
	if !c.entry.AcceptsTab() {
		t.Error("entry gives Tab away")
	}
}

func TestConsoleCompletion(t *testing.T) {
	c, _ := newTestConsole(t)
	var asked []string
	cands := map[string][]string{
		"!ana":       {"!analyze"},
		"x app!":     {"app!CrashFunction", "app!crashHelper"},
		"x app!Cr":   {"app!CrashFunction", "app!crashHelper"},
		"k; .ec":     {".ecxr"},
		"x *!ma":     {"app!main", "lib!malloc"},
		"nothing-ma": nil,
	}
	c.OnComplete = func(p string) []string { asked = append(asked, p); return cands[p] }

	c.SetEntry("!ana")
	key(c, fyne.KeyTab)
	if c.Entry() != "!analyze " {
		t.Errorf("!ana → %q, want %q", c.Entry(), "!analyze ")
	}

	c.SetEntry("x app!Cr")
	key(c, fyne.KeyTab)
	if c.Entry() != "x app!Crash" {
		t.Errorf("x app!Cr → %q, want the common prefix %q", c.Entry(), "x app!Crash")
	}
	if out := c.Text(); !strings.Contains(out, "app!CrashFunction\napp!crashHelper") {
		t.Errorf("candidates not listed; output %q", out)
	}

	c.SetEntry("k; .ec")
	key(c, fyne.KeyTab)
	if c.Entry() != "k; .ecxr " {
		t.Errorf("k; .ec → %q", c.Entry())
	}

	// A wildcard's candidates share less than was typed: keep the word.
	c.SetEntry("x *!ma")
	key(c, fyne.KeyTab)
	if c.Entry() != "x *!ma" {
		t.Errorf("x *!ma → %q, want it unchanged", c.Entry())
	}
	if !slices.Equal(asked, []string{"!ana", "x app!Cr", "k; .ec", "x *!ma"}) {
		t.Errorf("OnComplete got %q", asked)
	}
}

func TestCompletionWord(t *testing.T) {
	for _, tc := range []struct{ in, head, word string }{
		{"", "", ""}, {"!ana", "", "!ana"}, {"x app!m", "x ", "app!m"}, {"k;lm", "k;", "lm"}, {"k ", "k ", ""},
	} {
		if h, w := CompletionWord(tc.in); h != tc.head || w != tc.word {
			t.Errorf("CompletionWord(%q) = %q, %q; want %q, %q", tc.in, h, w, tc.head, tc.word)
		}
	}
}

func TestConsoleAppendAndClear(t *testing.T) {
	c, _ := newTestConsole(t)
	c.AppendText("0:000> k\n # Child")
	c.AppendText("-SP\tRet\r\n00 x\n")
	want := "0:000> k\n # Child-SP     Ret\n00 x"
	if got := c.Text(); got != want {
		t.Fatalf("output %q, want %q", got, want)
	}
	if c.Lines() != 3 {
		t.Errorf("lines = %d, want 3", c.Lines())
	}
	c.Clear()
	if c.Text() != "" || c.Lines() != 0 {
		t.Errorf("after Clear: %q, %d lines", c.Text(), c.Lines())
	}
	c.AppendText("again\n")
	if c.Text() != "again" {
		t.Errorf("after Clear and append: %q", c.Text())
	}
}

func TestConsoleCopyAll(t *testing.T) {
	c, _ := newTestConsole(t)
	c.AppendText("line one\nline two\n")
	test.Tap(c.copyB)
	if got := fyne.CurrentApp().Clipboard().Content(); got != "line one\nline two" {
		t.Errorf("clipboard %q", got)
	}
}

func TestConsoleLinkTap(t *testing.T) {
	c, _ := newTestConsole(t)
	var followed []string
	c.OnLink = func(cmd string) { followed = append(followed, cmd) }
	c.Append(Segment{Text: "threads: "}, Segment{Text: "~1s", Command: "~1s"}, Segment{Text: " and "},
		Segment{Text: "app", Command: "lmvm app"}, Segment{Text: "\n"})
	if got := c.LinkAt(0, 9); got != "~1s" {
		t.Errorf("LinkAt(0, 9) = %q", got)
	}
	if got := c.LinkAt(0, 8); got != "" {
		t.Errorf("LinkAt(0, 8) = %q, want no link", got)
	}
	pos, ok := c.LinkPosition("app")
	if !ok {
		t.Fatal("no link labelled app")
	}
	test.TapAt(c.Output(), pos)
	// Plain text is not a link.
	p0, _ := c.LinkPosition("~1s")
	test.TapAt(c.Output(), fyne.NewPos(p0.X-c.grid.PositionForCursorLocation(0, 2).X, p0.Y))
	if !slices.Equal(followed, []string{"lmvm app"}) {
		t.Errorf("followed %q, want [lmvm app]", followed)
	}
}

func TestConsoleEscapeAndStop(t *testing.T) {
	c, _ := newTestConsole(t)
	n := 0
	c.OnCancel = func() { n++ }
	key(c, fyne.KeyEscape)
	if !c.stop.Disabled() {
		t.Error("Stop enabled while idle")
	}
	c.SetBusy(true)
	test.Tap(c.stop)
	if n != 2 {
		t.Errorf("OnCancel called %d times, want 2", n)
	}
}

// TestConsoleLongOutput appends 2,000 lines one call each, then 20,000 in
// chunks as ConsoleModel sends them, and checks they all arrive and the
// view follows the end. (Each call refreshes the visible rows, which
// TextGrid sizes by scanning every row: line-by-line appends are
// quadratic, chunks are not.)
func TestConsoleLongOutput(t *testing.T) {
	c, _ := newTestConsole(t)
	for i := range 2000 {
		c.AppendText(fmt.Sprintf("%05d 00000000`00140000 00007ff6`00002046 app!CrashFunction+0x18\n", i))
	}
	if c.Lines() != 2000 {
		t.Fatalf("lines = %d, want 2000", c.Lines())
	}
	if !c.atBottom() {
		t.Error("view did not follow the output to the bottom")
	}
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "chunked %d\n", i)
		if b.Len() > 32<<10 {
			c.AppendText(b.String())
			b.Reset()
		}
	}
	c.AppendText(b.String())
	if c.Lines() != 22000 || !strings.HasSuffix(c.Text(), "chunked 19999") {
		t.Fatalf("lines = %d, tail %q", c.Lines(), c.Text()[len(c.Text())-20:])
	}
	if !c.atBottom() {
		t.Error("view not at the bottom after chunked output")
	}
}
