package widgets

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

type fakeEntry struct {
	title, subtitle string
	status          Status
}

// fakeSource is the DumpSource a test controls directly.
type fakeSource []fakeEntry

func (f *fakeSource) Len() int              { return len(*f) }
func (f *fakeSource) Title(i int) string    { return (*f)[i].title }
func (f *fakeSource) Subtitle(i int) string { return (*f)[i].subtitle }
func (f *fakeSource) Status(i int) Status   { return (*f)[i].status }

func newTestList(t *testing.T, src DumpSource) (*DumpList, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	l := NewDumpList(src)
	w := test.NewTempWindow(t, l)
	w.Resize(fyne.NewSize(400, 300))
	return l, w
}

func TestDumpListShowsEntries(t *testing.T) {
	src := &fakeSource{
		{"a.dmp", "minidump · amd64 · EXCEPTION_ACCESS_VIOLATION_WRITE", StatusOK},
		{"notes.txt", "looks like a text file at offset 0x0: not a crash dump", StatusError},
	}
	l, _ := newTestList(t, src)
	got := visibleLabels(l)
	for _, want := range []string{"a.dmp", "minidump · amd64 · EXCEPTION_ACCESS_VIOLATION_WRITE", "notes.txt", "looks like a text file at offset 0x0: not a crash dump"} {
		if !slices.Contains(got, want) {
			t.Errorf("label %q not shown; labels: %q", want, got)
		}
	}
}

func TestDumpListLoadingRowHidesSubtitle(t *testing.T) {
	src := &fakeSource{{"big.dmp", "should not show while loading", StatusLoading}}
	l, _ := newTestList(t, src)
	got := visibleLabels(l)
	if !slices.Contains(got, "big.dmp") || slices.Contains(got, "should not show while loading") {
		t.Fatalf("loading row labels = %q, want the title only", got)
	}
	if r := findRow(t, l); !r.barHolder.Visible() || !r.bar.running {
		t.Errorf("loading row: bar visible %v, running %v", r.barHolder.Visible(), r.bar.running)
	}

	// Loading finishes: the subtitle replaces the bar.
	(*src)[0] = fakeEntry{"big.dmp", "kdmp (bitmap) · amd64", StatusOK}
	l.RefreshItem(0)
	if got := visibleLabels(l); !slices.Contains(got, "kdmp (bitmap) · amd64") {
		t.Errorf("after loading, labels = %q", got)
	}
	if r := findRow(t, l); r.barHolder.Visible() || r.bar.running {
		t.Errorf("loaded row: bar visible %v, running %v", r.barHolder.Visible(), r.bar.running)
	}
}

func findRow(t *testing.T, l *DumpList) *dumpRow {
	t.Helper()
	var row *dumpRow
	walkVisible(l, func(o fyne.CanvasObject) {
		if r, ok := o.(*dumpRow); ok && row == nil {
			row = r
		}
	})
	if row == nil {
		t.Fatal("no row shown")
	}
	return row
}

func TestDumpListTapSelects(t *testing.T) {
	src := &fakeSource{{"a.dmp", "", StatusOK}, {"b.dmp", "", StatusOK}}
	l, _ := newTestList(t, src)
	var got []int
	l.OnSelected = func(i int) { got = append(got, i) }

	test.Tap(tappableWith(t, l, "b.dmp"))
	if !slices.Equal(got, []int{1}) || l.Selected() != 1 {
		t.Fatalf("after tapping b.dmp: OnSelected calls %v, Selected %d; want [1], 1", got, l.Selected())
	}
	l.Select(0)
	if !slices.Equal(got, []int{1, 0}) || l.Selected() != 0 {
		t.Fatalf("after Select(0): OnSelected calls %v, Selected %d", got, l.Selected())
	}
	l.Select(7) // out of range: ignored
	if l.Selected() != 0 || len(got) != 2 {
		t.Fatalf("Select(7) changed the selection: %d, calls %v", l.Selected(), got)
	}
}

func TestDumpListRefreshDropsStaleSelection(t *testing.T) {
	src := &fakeSource{{"a.dmp", "", StatusOK}, {"b.dmp", "", StatusOK}}
	l, _ := newTestList(t, src)
	l.Select(1)
	*src = (*src)[:1]
	l.Refresh()
	if l.Selected() != -1 {
		t.Errorf("Selected() = %d after its entry went away, want -1", l.Selected())
	}
	if got := visibleLabels(l); slices.Contains(got, "b.dmp") {
		t.Errorf("removed entry still shown: %q", got)
	}
}

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{StatusLoading: "loading", StatusOK: "ok", StatusError: "error", Status(9): "unknown"} {
		if s.String() != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(s), s.String(), want)
		}
	}
}
