package widgets

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestLayoutBars checks the timeline's maths: one slot per calendar day
// from the first to the last (an empty day keeps its slot), bars stacked
// per day, the busiest day as tall as the plot.
func TestLayoutBars(t *testing.T) {
	pts := []TimelinePoint{
		{Day: day("2026-11-01"), Bucket: "a", Count: 2},
		{Day: day("2026-11-01"), Bucket: "b", Count: 2},
		{Day: day("2026-11-03"), Bucket: "a", Count: 1},
	}
	plot := fyne.NewSize(300, 100)
	bars := layoutBars(pts, plot)
	if len(bars) != 3 {
		t.Fatalf("%d bars", len(bars))
	}
	slot := plot.Width / 3 // three days, the 2nd empty
	a1, b1, a3 := bars[0], bars[1], bars[2]
	if a1.Size.Height != 50 || b1.Size.Height != 50 || a3.Size.Height != 25 {
		t.Errorf("heights %v %v %v; want 50 50 25 (4 crashes fill 100)", a1.Size.Height, b1.Size.Height, a3.Size.Height)
	}
	if b1.Pos.Y+b1.Size.Height != a1.Pos.Y {
		t.Errorf("b is not stacked on a: a at %v, b at %v+%v", a1.Pos.Y, b1.Pos.Y, b1.Size.Height)
	}
	if a1.Pos.Y+a1.Size.Height != plot.Height || a3.Pos.Y+a3.Size.Height != plot.Height {
		t.Error("bars do not stand on the axis")
	}
	if a3.Pos.X < 2*slot || a3.Pos.X+a3.Size.Width > 3*slot {
		t.Errorf("the 3rd day's bar at x %v+%v, want within [%v, %v]", a3.Pos.X, a3.Size.Width, 2*slot, 3*slot)
	}
	if a1.Pos.X >= slot {
		t.Errorf("the 1st day's bar at x %v", a1.Pos.X)
	}
	if layoutBars(nil, plot) != nil {
		t.Error("bars for no points")
	}
}

// TestBucketsView selects a bucket (the timeline highlights it, the
// details list its dumps) and opens its dumps.
func TestBucketsView(t *testing.T) {
	test.NewTempApp(t)
	v := NewBucketsView()
	var selected string
	var opened []string
	v.OnSelected = func(k string) { selected = k }
	v.OnOpen = func(p []string) { opened = p }
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1000, 700))
	rows := []BucketRow{
		{Key: "NULL_READ_app!f", Count: 3, First: day("2026-11-01"), Last: day("2026-11-03"), Dumps: []string{"/d/1.dmp", "/d/2.dmp", "/d/3.dmp"}, Why: "same frames"},
		{Key: "LNX_PANIC_x", Count: 1, First: day("2026-11-02"), Last: day("2026-11-02"), Dumps: []string{"/d/v"}},
	}
	v.SetBuckets(rows, []TimelinePoint{{Day: day("2026-11-01"), Bucket: "NULL_READ_app!f", Count: 3}, {Day: day("2026-11-02"), Bucket: "LNX_PANIC_x", Count: 1}})
	if v.State() != PaneReady {
		t.Fatalf("state %v", v.State())
	}
	if !slices.Contains(visibleLabels(v), "4 crashes in 2 buckets") {
		t.Errorf("labels %q", visibleLabels(v))
	}
	if !v.Select("LNX_PANIC_x") || selected != "LNX_PANIC_x" || v.timeline.selected != "LNX_PANIC_x" {
		t.Fatalf("selected %q, timeline %q", selected, v.timeline.selected)
	}
	v.Select("NULL_READ_app!f")
	if !slices.Contains(visibleLabels(v), "/d/1.dmp\n/d/2.dmp\n/d/3.dmp") {
		t.Errorf("details %q", visibleLabels(v))
	}
	open := findVisible(v, func(b *widget.Button) bool { return strings.HasPrefix(b.Text, "Open 3") })
	if open == nil {
		t.Fatal("no Open button")
	}
	test.Tap(open)
	if len(opened) != 3 {
		t.Errorf("opened %q", opened)
	}
	v.SetCorrelations("NULL_READ_app!f", []CorrelationRow{{Module: "foo.dll", Version: "1.2", InBucket: 3, BucketTotal: 3, BucketPercent: 100, OverallPerc: 20}})
	if !slices.ContainsFunc(visibleLabels(v), func(s string) bool { return strings.HasPrefix(s, "foo.dll 1.2 — in 3 of 3 (100%) here, 20% overall") }) {
		t.Errorf("correlations not shown: %q", visibleLabels(v))
	}
	// Correlations of a bucket no longer selected are dropped.
	v.SetCorrelations("LNX_PANIC_x", []CorrelationRow{{Module: "bar.ko"}})
	if slices.ContainsFunc(visibleLabels(v), func(s string) bool { return strings.HasPrefix(s, "bar.ko") }) {
		t.Error("stale correlations shown")
	}
}

// TestBucketsRegroup merges the selected bucket into one typed or picked,
// and offers to undo the merges a bucket was made of.
func TestBucketsRegroup(t *testing.T) {
	test.NewTempApp(t)
	v := NewBucketsView()
	var merged [][2]string
	var unmerged []string
	v.OnMerge = func(from, into string) { merged = append(merged, [2]string{from, into}) }
	v.OnUnmerge = func(keys []string) { unmerged = append(unmerged, keys...) }
	test.NewTempWindow(t, v).Resize(fyne.NewSize(1000, 700))
	v.SetBuckets([]BucketRow{
		{Key: "A", Count: 2, Dumps: []string{"/d/1", "/d/2"}, Merged: []string{"C"}},
		{Key: "B", Count: 1, Dumps: []string{"/d/3"}},
	}, nil)
	v.Select("B")
	var into *widget.SelectEntry
	var buttons map[string]*widget.Button
	find := func() { into, buttons = pickerControls(v) }
	find()
	if into == nil || buttons["Merge into"] == nil {
		t.Fatalf("no merge controls; buttons %v", buttons)
	}
	if !buttons["Merge into"].Disabled() {
		t.Error("Merge into is enabled with nothing chosen")
	}
	if _, ok := buttons["Undo merge (1 bucket)"]; ok {
		t.Error("B was never merged, yet offers an undo")
	}
	test.Type(into, "TICKET-9")
	test.Tap(buttons["Merge into"])
	into.SetText("B") // itself: refused
	test.Tap(buttons["Merge into"])
	if len(merged) != 1 || merged[0] != [2]string{"B", "TICKET-9"} {
		t.Errorf("merges asked: %v", merged)
	}
	v.Select("A")
	find()
	undo := buttons["Undo merge (1 bucket)"]
	if undo == nil {
		t.Fatalf("A (made of C) offers no undo; buttons %v", buttons)
	}
	test.Tap(undo)
	if !slices.Equal(unmerged, []string{"C"}) {
		t.Errorf("undo asked for %v", unmerged)
	}
	// A note on bucket A: listed, and a new one passed on with the key.
	var noted []string
	v.OnAddNote = func(key, text string) { noted = append(noted, key+": "+text) }
	v.SetBuckets([]BucketRow{
		{Key: "A", Count: 2, Dumps: []string{"/d/1", "/d/2"}, Merged: []string{"C"},
			Notes: []NoteRow{{When: time.Date(2026, 11, 1, 10, 0, 0, 0, time.Local), Text: "known issue"}}},
		{Key: "B", Count: 1, Dumps: []string{"/d/3"}},
	}, nil)
	if !slices.Contains(visibleLabels(v), "2026-11-01 10:00  known issue") {
		t.Errorf("bucket note not shown: %q", visibleLabels(v))
	}
	noteEntry := findVisible(v, func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "a note on the whole bucket") })
	if noteEntry == nil {
		t.Fatal("no note field")
	}
	noteEntry.OnSubmitted("fixed in 2.1")
	noteEntry.OnSubmitted("  ")
	if !slices.Equal(noted, []string{"A: fixed in 2.1"}) {
		t.Errorf("notes asked: %q", noted)
	}
	v.ShowNotice("workspace: no such bucket: X")
	if !slices.Contains(visibleLabels(v), "workspace: no such bucket: X") {
		t.Error("the refusal is not shown")
	}
}

// TestCompareView highlights differing rows and asks to compare only two
// different dumps.
func TestCompareView(t *testing.T) {
	test.NewTempApp(t)
	v := NewCompareView()
	var asked [][2]int
	v.OnCompare = func(a, b int) { asked = append(asked, [2]int{a, b}) }
	test.NewTempWindow(t, v).Resize(fyne.NewSize(1000, 600))
	v.SetChoices([]string{"a.dmp", "b.dmp"})
	v.Choose(0, 0)
	if len(asked) != 0 || v.State() != PaneError {
		t.Errorf("same dump twice: asked %v, state %v", asked, v.State())
	}
	v.Choose(0, 1)
	if len(asked) != 1 || asked[0] != [2]int{0, 1} || v.State() != PaneLoading {
		t.Fatalf("asked %v, state %v", asked, v.State())
	}
	v.SetResult("Different crashes: 1 difference.", []CompareRow{{Heading: "Crash", Same: true}, {Name: "code", A: "0xc0000005", B: "0x80000003"}, {Name: "arch", A: "amd64", B: "amd64", Same: true}})
	if v.State() != PaneReady || v.Verdict() != "Different crashes: 1 difference." {
		t.Errorf("state %v, verdict %q", v.State(), v.Verdict())
	}
	// The cell renderer paints differing rows only.
	bgOf := func(row int) bool {
		c := v.table.CreateCell()
		v.table.UpdateCell(widget.TableCellID{Row: row, Col: 1}, c)
		return c.(*fyne.Container).Objects[0].(*canvas.Rectangle).FillColor != nil
	}
	if !bgOf(1) || bgOf(2) || bgOf(0) {
		t.Errorf("highlight: differing %v, same %v, heading %v", bgOf(1), bgOf(2), bgOf(0))
	}
	v.SetChoices([]string{"b.dmp"})
	if v.a.Selected != "" || v.b.Selected != "b.dmp" {
		t.Errorf("after a.dmp closed: A %q, B %q", v.a.Selected, v.b.Selected)
	}
}

// TestTaskBar shows at most three jobs, keeps a job's widgets across
// updates and cancels by id.
func TestTaskBar(t *testing.T) {
	test.NewTempApp(t)
	b := NewTaskBar()
	var cancelled []int
	b.OnCancel = func(id int) { cancelled = append(cancelled, id) }
	test.NewTempWindow(t, b).Resize(fyne.NewSize(1200, 40))
	b.SetStatus("2 dumps open")
	b.SetTasks([]TaskRow{{ID: 1, Label: "Indexing a.dmp", Fraction: -1}, {ID: 2, Label: "Downloading x.pdb", Fraction: 0.25}})
	first := b.shown[2]
	b.SetTasks([]TaskRow{{ID: 1, Label: "Indexing a.dmp", Fraction: -1}, {ID: 2, Label: "Downloading x.pdb", Fraction: 0.5}})
	if b.shown[2] != first || first.bar.Value != 0.5 {
		t.Errorf("the download's widgets were rebuilt or not updated: %v", first.bar.Value)
	}
	labels := visibleLabels(b)
	if !slices.Contains(labels, "2 dumps open") || !slices.Contains(labels, "Indexing a.dmp") {
		t.Errorf("labels %q", labels)
	}
	var buttons []*widget.Button
	walkVisible(b, func(o fyne.CanvasObject) {
		if btn, ok := o.(*widget.Button); ok {
			buttons = append(buttons, btn)
		}
	})
	if len(buttons) != 2 {
		t.Fatalf("%d cancel buttons", len(buttons))
	}
	test.Tap(buttons[1])
	if !slices.Equal(cancelled, []int{2}) {
		t.Errorf("cancelled %v, want [2]", cancelled)
	}
	b.SetTasks([]TaskRow{{ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}, {ID: 5}})
	if !slices.Contains(visibleLabels(b), "+2 more") {
		t.Errorf("five jobs: %q", visibleLabels(b))
	}
}

// TestSummarySeen shows the recurrence line with its link, and drops it
// when another dump is shown.
func TestSummarySeen(t *testing.T) {
	test.NewTempApp(t)
	s := NewSummary()
	test.NewTempWindow(t, s).Resize(fyne.NewSize(800, 600))
	s.ShowRows("a.dmp", []Row{{Key: "Format", Value: "minidump"}})
	tapped := false
	s.SetSeen("Seen 3 times since 2026-11-01", "Show the bucket", func() { tapped = true })
	if !slices.Contains(visibleLabels(s), "Seen 3 times since 2026-11-01") {
		t.Fatalf("labels %q", visibleLabels(s))
	}
	walkVisible(s, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Show the bucket" {
			test.Tap(b)
		}
	})
	if !tapped {
		t.Error("the bucket link did nothing")
	}
	s.ShowRows("b.dmp", nil)
	if s.Seen() != "" || slices.Contains(visibleLabels(s), "Seen 3 times since 2026-11-01") {
		t.Error("the recurrence line stayed for another dump")
	}
}

// TestWorkspacePanel lists buckets and folders and reports taps.
func TestWorkspacePanel(t *testing.T) {
	test.NewTempApp(t)
	p := NewWorkspacePanel()
	test.NewTempWindow(t, p).Resize(fyne.NewSize(300, 600))
	var bucket, removed string
	p.OnBucket = func(k string) { bucket = k }
	p.OnRemoveFolder = func(d string) { removed = d }
	p.SetBuckets([]SidebarBucket{{Key: "A", Count: 5}, {Key: "B", Count: 1}})
	p.SetFolders([]SidebarFolder{{Path: "/var/crash", Status: "watching", Indexed: 2}, {Path: "/gone", Status: "missing"}})
	if p.accordion.Items[0].Title != "Buckets (2, 6 crashes)" || p.accordion.Items[1].Title != "Watched folders (2)" {
		t.Errorf("titles %q %q", p.accordion.Items[0].Title, p.accordion.Items[1].Title)
	}
	p.bucketList.Select(1)
	if bucket != "B" {
		t.Errorf("tapped bucket %q", bucket)
	}
	if !p.remove.Disabled() {
		t.Error("remove enabled with no folder selected")
	}
	p.folderList.Select(0)
	test.Tap(p.remove)
	if removed != "/var/crash" {
		t.Errorf("removed %q", removed)
	}
	if !slices.Contains(visibleLabels(p), "watching · 2 new") || !slices.Contains(visibleLabels(p), "missing") {
		t.Errorf("folder labels %q", visibleLabels(p))
	}
}

// TestLayoutBarsLongRange: crashes years apart are binned by year, so
// bars stay wide enough to see, and two crashes in one year stack.
func TestLayoutBarsLongRange(t *testing.T) {
	pts := []TimelinePoint{
		{Day: day("2007-02-14"), Bucket: "a", Count: 2},
		{Day: day("2007-06-01"), Bucket: "b", Count: 1},
		{Day: day("2026-11-23"), Bucket: "a", Count: 1},
	}
	plot := fyne.NewSize(600, 90)
	s := scaleOf(pts, plot.Width)
	if s.per != 30 && s.per != 365 {
		t.Fatalf("%d days per bar for 20 years in 600 px", s.per)
	}
	bars := layoutBars(pts, plot)
	if len(bars) != 3 || bars[0].Size.Width < minSlot*0.8-1 {
		t.Fatalf("bars %+v", bars)
	}
	if s.per == 365 && (bars[1].Pos.X != bars[0].Pos.X || bars[1].Pos.Y+bars[1].Size.Height != bars[0].Pos.Y) {
		t.Errorf("same-year crashes not stacked: %+v", bars[:2])
	}
	if bars[2].Pos.X+bars[2].Size.Width > plot.Width+0.01 {
		t.Errorf("last bar ends at %v, past %v", bars[2].Pos.X+bars[2].Size.Width, plot.Width)
	}
}
