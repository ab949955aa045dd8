package widgets

import (
	"slices"
	"testing"

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
