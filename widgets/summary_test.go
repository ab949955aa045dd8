package widgets

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newTestSummary(t *testing.T) *Summary {
	t.Helper()
	test.NewTempApp(t)
	s := NewSummary()
	w := test.NewTempWindow(t, s)
	w.Resize(fyne.NewSize(600, 400))
	return s
}

func TestSummaryStates(t *testing.T) {
	s := newTestSummary(t)
	if s.State() != SummaryEmpty {
		t.Fatalf("new summary: state %v, want empty", s.State())
	}

	s.ShowPlaceholder("Drop a dump here")
	if got := visibleLabels(s); !slices.Contains(got, "No dump selected") || !slices.Contains(got, "Drop a dump here") {
		t.Errorf("placeholder labels = %q", got)
	}

	s.ShowLoading("a.dmp")
	if s.State() != SummaryLoading || s.Title() != "a.dmp" || !s.bar.Running() {
		t.Errorf("loading: state %v, title %q, bar running %v", s.State(), s.Title(), s.bar.Running())
	}
	if got := visibleLabels(s); !slices.Contains(got, "a.dmp") {
		t.Errorf("loading labels = %q", got)
	}

	rows := []Row{{"Format", "minidump"}, {"Crash", "EXCEPTION_ACCESS_VIOLATION_WRITE (0xc0000005)"}}
	s.ShowRows("a.dmp", rows)
	if s.State() != SummaryRows || !slices.Equal(s.Rows(), rows) {
		t.Fatalf("rows: state %v, rows %v", s.State(), s.Rows())
	}
	if s.bar.Running() {
		t.Error("progress bar still running after the rows arrived")
	}
	// The title, then keys and values alternating in order in the grid.
	got := visibleLabels(s)
	want := []string{"Format", "minidump", "Crash", "EXCEPTION_ACCESS_VIOLATION_WRITE (0xc0000005)"}
	if !slices.Contains(got, "a.dmp") || !slices.Equal(slices.DeleteFunc(got, func(l string) bool { return l == "a.dmp" }), want) {
		t.Errorf("rows labels = %q, want the title and %q", got, want)
	}

	s.ShowError("notes.txt", "looks like a text file at offset 0x0: not a crash dump")
	if s.State() != SummaryError || s.ErrorLine() == "" || s.Rows() != nil {
		t.Fatalf("error: state %v, line %q, rows %v", s.State(), s.ErrorLine(), s.Rows())
	}
	if got := visibleLabels(s); !slices.Contains(got, "looks like a text file at offset 0x0: not a crash dump") {
		t.Errorf("error labels = %q", got)
	}
}

// TestSummaryValuesSelectable: values are for copying into tickets, keys
// are not.
func TestSummaryValuesSelectable(t *testing.T) {
	s := newTestSummary(t)
	s.ShowRows("a.dmp", []Row{{"PID", "4242"}})
	walkVisible(s, func(o fyne.CanvasObject) {
		l, ok := o.(*widget.Label)
		if !ok {
			return
		}
		switch l.Text {
		case "4242":
			if !l.Selectable {
				t.Error("value label is not selectable")
			}
		case "PID":
			if l.Selectable {
				t.Error("key label is selectable")
			}
		}
	})
}

func TestSummaryRowsAreCopied(t *testing.T) {
	s := newTestSummary(t)
	rows := []Row{{"Format", "minidump"}}
	s.ShowRows("a.dmp", rows)
	rows[0].Value = "changed by the caller"
	if s.Rows()[0].Value != "minidump" {
		t.Error("Summary kept a reference to the caller's slice")
	}
}

// TestSummaryAnnotations: an indexed dump's tags and notes show under the
// rows; typing adds, a tag's button removes; another dump clears them.
func TestSummaryAnnotations(t *testing.T) {
	s := newTestSummary(t)
	var added []string
	var tagged []string
	s.OnAddNote = func(text string) { added = append(added, text) }
	s.OnTag = func(tag string, add bool) {
		if add {
			tagged = append(tagged, "+"+tag)
		} else {
			tagged = append(tagged, "-"+tag)
		}
	}
	s.ShowRows("a.dmp", []Row{{"Format", "minidump"}})
	if s.Annotated() || slices.Contains(visibleLabels(s), "Notes") {
		t.Fatal("annotations shown before SetAnnotations")
	}
	when := time.Date(2026, 11, 20, 9, 30, 0, 0, time.Local)
	s.SetAnnotations(Annotations{Tags: []string{"JIRA-1"}, Notes: []NoteRow{{When: when, Text: "seen on the build server"}}})
	if labels := visibleLabels(s); !slices.Contains(labels, "2026-11-20 09:30  seen on the build server") || !slices.Contains(labels, "Tags") {
		t.Errorf("labels %q", labels)
	}
	var entries []*widget.Entry
	var tagButton *widget.Button
	walkVisible(s, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.Entry:
			entries = append(entries, w)
		case *widget.Button:
			if w.Text == "JIRA-1" {
				tagButton = w
			}
		}
	})
	if len(entries) != 2 || tagButton == nil {
		t.Fatalf("%d entries, tag button %v", len(entries), tagButton)
	}
	test.Type(entries[0], "regression")
	entries[0].OnSubmitted(entries[0].Text)
	test.Type(entries[1], "fixed in 2.1")
	entries[1].OnSubmitted(entries[1].Text)
	entries[1].OnSubmitted("   ")
	test.Tap(tagButton)
	if !slices.Equal(added, []string{"fixed in 2.1"}) || !slices.Equal(tagged, []string{"+regression", "-JIRA-1"}) {
		t.Errorf("notes added %q, tags %q", added, tagged)
	}
	s.ShowRows("b.dmp", []Row{{"Format", "minidump"}})
	if s.Annotated() || slices.Contains(visibleLabels(s), "Notes") {
		t.Error("another dump still shows a.dmp's annotations")
	}
}

// TestSummaryMoveBucket: the dump's bucket is named, and it can be moved
// to another or, once moved, back.
func TestSummaryMoveBucket(t *testing.T) {
	s := newTestSummary(t)
	var moves []string
	s.OnMove = func(into string) { moves = append(moves, into) }
	s.ShowRows("a.dmp", []Row{{"Format", "minidump"}})
	s.SetAnnotations(Annotations{Bucket: "NULL_READ_app!f", Buckets: []string{"NULL_READ_app!f", "LNX_PANIC_x"}})
	if !slices.Contains(visibleLabels(s), "NULL_READ_app!f") {
		t.Fatalf("bucket not named: %q", visibleLabels(s))
	}
	controls := func() (*widget.SelectEntry, map[string]*widget.Button) { return pickerControls(s) }
	into, buttons := controls()
	if into == nil || buttons["Move"] == nil || !buttons["Move"].Disabled() {
		t.Fatalf("move controls: %v %v", into, buttons)
	}
	if _, ok := buttons["Back to its own bucket"]; ok {
		t.Error("a dump never moved offers to go back")
	}
	into.SetText("LNX_PANIC_x")
	test.Tap(buttons["Move"])
	s.SetAnnotations(Annotations{Bucket: "LNX_PANIC_x", Moved: true, Buckets: []string{"NULL_READ_app!f", "LNX_PANIC_x"}})
	_, buttons = controls()
	if buttons["Back to its own bucket"] == nil {
		t.Fatal("a moved dump offers no way back")
	}
	test.Tap(buttons["Back to its own bucket"])
	if !slices.Equal(moves, []string{"LNX_PANIC_x", ""}) {
		t.Errorf("moves asked: %q", moves)
	}
}
