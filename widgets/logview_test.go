package widgets

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func newTestLogView(t *testing.T) *LogView {
	t.Helper()
	test.NewTempApp(t)
	v := NewLogView()
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(800, 500))
	return v
}

var sampleLog = []LogLine{
	{Text: "[    0.000000] Linux version 6.1.0"},
	{Text: "[    6.639676] sysrq: Trigger a crash"},
	{Text: "[    6.640342] Kernel panic - not syncing: sysrq triggered crash", Highlight: true},
	{Text: "[    6.642971] Call Trace:", Highlight: true},
	{Text: "[    6.642971]  sysrq_handle_crash+0x16/0x20", Highlight: true},
	{Text: "[    7.000000] Kernel Offset: disabled"},
}

func TestFilterLines(t *testing.T) {
	for _, c := range []struct {
		q    string
		want []int
	}{
		{"", []int{0, 1, 2, 3, 4, 5}},
		{"  ", []int{0, 1, 2, 3, 4, 5}},
		{"SYSRQ", []int{1, 2, 4}},
		{"call trace", []int{3}},
		{"nothing like this", []int{}},
	} {
		if got := FilterLines(sampleLog, c.q); !slices.Equal(got, c.want) {
			t.Errorf("FilterLines(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

// visibleLogRows returns the text of the log rows drawn, and which are
// highlighted (have a non-transparent background).
func visibleLogRows(o fyne.CanvasObject) (texts []string, highlighted []string) {
	walkVisible(o, func(obj fyne.CanvasObject) {
		if r, ok := obj.(*logRow); ok && r.line.Text != "" {
			texts = append(texts, r.text.Text)
			if _, _, _, a := r.bg.FillColor.RGBA(); a != 0 {
				highlighted = append(highlighted, r.text.Text)
			}
		}
	})
	return texts, highlighted
}

func TestLogViewStatesFilterAndHighlight(t *testing.T) {
	v := newTestLogView(t)
	if v.State() != PaneLoading || !v.pane.bar.Running() {
		t.Fatalf("new view: state %v, bar running %v", v.State(), v.pane.bar.Running())
	}

	v.SetLines(sampleLog)
	if v.State() != PaneReady || v.pane.bar.Running() {
		t.Fatalf("after SetLines: state %v, bar running %v", v.State(), v.pane.bar.Running())
	}
	if v.Len() != 6 || v.CountText() != "6 lines" || v.toJump.Disabled() {
		t.Errorf("Len %d, count %q, jump disabled %v", v.Len(), v.CountText(), v.toJump.Disabled())
	}
	texts, hl := visibleLogRows(v)
	if len(texts) != 6 {
		t.Fatalf("drawn rows %q, want all 6", texts)
	}
	if want := []string{sampleLog[2].Text, sampleLog[3].Text, sampleLog[4].Text}; !slices.Equal(hl, want) {
		t.Errorf("highlighted rows %q, want %q", hl, want)
	}
	// Drawn monospace, plain: the default theme has no bold monospace face.
	walkVisible(v, func(o fyne.CanvasObject) {
		if r, ok := o.(*logRow); ok && r.line.Text != "" {
			if r.text.TextStyle != (fyne.TextStyle{Monospace: true}) {
				t.Errorf("row %q: style %+v", r.line.Text, r.text.TextStyle)
			}
		}
	})

	// Typing in the search entry filters.
	test.Type(v.search, "sysrq")
	if v.Filter() != "sysrq" || v.CountText() != "3 of 6 lines" {
		t.Fatalf("filter %q, count %q", v.Filter(), v.CountText())
	}
	texts, hl = visibleLogRows(v)
	if want := []string{sampleLog[1].Text, sampleLog[2].Text, sampleLog[4].Text}; !slices.Equal(texts, want) {
		t.Errorf("filtered rows %q, want %q", texts, want)
	}
	if len(hl) != 2 {
		t.Errorf("filtered highlighted rows %q, want the two panic lines", hl)
	}

	// New lines keep the filter; clearing it shows everything.
	v.SetLines(append(slices.Clone(sampleLog), LogLine{Text: "sysrq again"}))
	if v.CountText() != "4 of 7 lines" || len(v.Shown()) != 4 {
		t.Errorf("after new lines: count %q, shown %d", v.CountText(), len(v.Shown()))
	}
	v.SetFilter("")
	if v.CountText() != "7 lines" || len(v.Shown()) != 7 {
		t.Errorf("cleared filter: count %q, shown %d", v.CountText(), len(v.Shown()))
	}

	// Tapping a line shows it in full underneath.
	v.list.Select(2)
	if !v.detail.Visible() || v.detail.Text != sampleLog[2].Text {
		t.Errorf("detail %v %q after selecting line 2", v.detail.Visible(), v.detail.Text)
	}

	v.ShowError("no kernel log: a minidump is a process dump and records no kernel log")
	if v.State() != PaneError || !slices.Contains(visibleLabels(v), v.ErrorLine()) {
		t.Errorf("error: state %v, labels %q", v.State(), visibleLabels(v))
	}
}

func TestLogViewNoHighlightDisablesJump(t *testing.T) {
	v := newTestLogView(t)
	v.SetLines([]LogLine{{Text: "a"}, {Text: "b"}})
	if !v.toJump.Disabled() {
		t.Error("jump-to-panic enabled for a log without a highlighted line")
	}
	v.ScrollToHighlight() // no-op, no panic
}
