package widgets

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// BucketRow is one recurring crash: the dumps that share a bucket key.
type BucketRow struct {
	Key, Signature string
	Count          int
	First, Last    time.Time
	Why            string   // why these dumps are together
	Dumps          []string // paths, oldest first
	Merged         []string // buckets the user merged into this one
	Notes          []NoteRow
}

// CorrelationRow is a module (at a version) over-represented in a bucket.
type CorrelationRow struct {
	Module, Version            string
	InBucket, BucketTotal      int
	BucketPercent, OverallPerc float64
}

// BucketsView is the workspace's recurring crashes: a table of buckets, a
// timeline of crashes per day stacked by bucket, and the selected bucket's
// details (why its dumps are together, correlated modules, its dumps with
// a button to open them).
type BucketsView struct {
	widget.BaseWidget
	// OnSelected is called with a bucket's key when the user selects it,
	// so the app can load its correlations.
	OnSelected func(key string)
	// OnOpen is called with dump paths the user asks to open.
	OnOpen func(paths []string)
	// OnMerge is called when the user merges bucket from into another
	// (an existing key or a new name); OnUnmerge to undo the merges of
	// the given buckets. The app reloads the view with SetBuckets.
	OnMerge   func(from, into string)
	OnUnmerge func(keys []string)
	// OnAddNote is called with a note the user writes on a bucket.
	OnAddNote func(key, text string)

	rows     []BucketRow
	selected int

	table    *widget.Table
	timeline *Timeline
	count    *widget.Label
	detail   *fyne.Container
	pane     *statePane
	notice   string // the last refusal shown, until the details change
}

var bucketColumns = []struct {
	name  string
	width float32
}{{"", 18}, {"Crashes", 80}, {"Bucket", 360}, {"First seen", 140}, {"Last seen", 140}}

// NewBucketsView returns an empty view showing its loading face.
func NewBucketsView() *BucketsView {
	v := &BucketsView{selected: -1, timeline: NewTimeline(), count: widget.NewLabel(""), detail: container.NewVBox()}
	v.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(v.rows), len(bucketColumns) },
		func() fyne.CanvasObject {
			swatch := canvas.NewRectangle(nil)
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return container.NewStack(swatch, l)
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			st := o.(*fyne.Container)
			swatch, l := st.Objects[0].(*canvas.Rectangle), st.Objects[1].(*widget.Label)
			swatch.FillColor = nil
			l.SetText("")
			if id.Row >= len(v.rows) {
				return
			}
			r := v.rows[id.Row]
			switch id.Col {
			case 0:
				swatch.FillColor = bucketColor(id.Row)
			case 1:
				l.SetText(fmt.Sprint(r.Count))
			case 2:
				l.SetText(r.Key)
			case 3:
				l.SetText(dayTime(r.First))
			case 4:
				l.SetText(dayTime(r.Last))
			}
			swatch.Refresh()
		})
	v.table.ShowHeaderColumn = false
	v.table.CreateHeader = func() fyne.CanvasObject { return widget.NewLabel("") }
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle.Bold = true
		if id.Col >= 0 && id.Col < len(bucketColumns) {
			l.SetText(bucketColumns[id.Col].name)
		}
	}
	for c, col := range bucketColumns {
		v.table.SetColumnWidth(c, col.width)
	}
	v.table.OnSelected = func(id widget.TableCellID) { v.selectRow(id.Row) }

	v.count.TextStyle.Bold = true
	chart := container.New(&fixedHeight{h: 160}, v.timeline)
	split := container.NewVSplit(v.table, container.NewVScroll(v.detail))
	split.Offset = 0.55
	v.pane = newStatePane(container.NewBorder(container.NewVBox(v.count, chart, widget.NewSeparator()), nil, nil, nil, split))
	v.ExtendBaseWidget(v)
	v.ShowLoading()
	return v
}

// Count writes n with the singular or plural noun: "1 crash", "2 crashes".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fixedHeight gives its objects a fixed height and the width offered.
type fixedHeight struct{ h float32 }

func (f *fixedHeight) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(fyne.NewSize(size.Width, f.h))
	}
}

func (f *fixedHeight) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(0, f.h) }

func dayTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04")
}

// CreateRenderer implements fyne.Widget.
func (v *BucketsView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.pane.content)
}

// ShowLoading shows a progress bar while the index is read.
func (v *BucketsView) ShowLoading() { v.pane.showLoading("Reading the workspace index…") }

// ShowError shows why there are no buckets.
func (v *BucketsView) ShowError(msg string) { v.pane.showError(msg) }

// State returns which face the view shows.
func (v *BucketsView) State() PaneState { return v.pane.state }

// SetBuckets shows the buckets (largest first) and the timeline; points'
// buckets take the colour of their row.
func (v *BucketsView) SetBuckets(rows []BucketRow, points []TimelinePoint) {
	prev := ""
	if v.selected >= 0 && v.selected < len(v.rows) {
		prev = v.rows[v.selected].Key
	}
	v.rows = rows
	order := make([]string, len(rows))
	total := 0
	for i, r := range rows {
		order[i] = r.Key
		total += r.Count
	}
	v.count.SetText(Count(total, "crash", "crashes") + " in " + Count(len(rows), "bucket", "buckets"))
	v.timeline.SetPoints(points, order)
	v.pane.showReady()
	v.table.Refresh()
	v.selected = -1
	if prev != "" {
		v.Select(prev)
	} else {
		v.showDetail()
	}
}

// Rows returns the buckets shown.
func (v *BucketsView) Rows() []BucketRow { return v.rows }

// Select selects the bucket with key, when shown.
func (v *BucketsView) Select(key string) bool {
	for i, r := range v.rows {
		if r.Key == key {
			v.table.Select(widget.TableCellID{Row: i, Col: 2})
			v.selectRow(i) // Table.Select does not call OnSelected for the selected cell
			return true
		}
	}
	return false
}

// Selected returns the selected bucket's key, or "".
func (v *BucketsView) Selected() string {
	if v.selected < 0 || v.selected >= len(v.rows) {
		return ""
	}
	return v.rows[v.selected].Key
}

func (v *BucketsView) selectRow(i int) {
	if i < 0 || i >= len(v.rows) || i == v.selected {
		return
	}
	v.selected = i
	v.timeline.Select(v.rows[i].Key)
	v.showDetail()
	if v.OnSelected != nil {
		v.OnSelected(v.rows[i].Key)
	}
}

// SetCorrelations shows the correlated modules of bucket key, when it is
// still the selected one.
func (v *BucketsView) SetCorrelations(key string, cs []CorrelationRow) {
	if v.Selected() != key {
		return
	}
	v.showDetail()
	head := widget.NewLabel("Modules over-represented in this bucket")
	head.TextStyle.Bold = true
	v.detail.Add(head)
	if len(cs) == 0 {
		v.detail.Add(widget.NewLabel("None: its dumps load the same modules as the others."))
	}
	for _, c := range cs {
		name := c.Module
		if c.Version != "" {
			name += " " + c.Version
		}
		v.detail.Add(widget.NewLabel(fmt.Sprintf("%s — in %d of %d (%.0f%%) here, %.0f%% overall",
			name, c.InBucket, c.BucketTotal, c.BucketPercent, c.OverallPerc)))
	}
	v.detail.Refresh()
}

// showDetail shows the selected bucket's explanation and dumps.
func (v *BucketsView) showDetail() {
	v.detail.RemoveAll()
	v.notice = ""
	if v.selected < 0 || v.selected >= len(v.rows) {
		hint := widget.NewLabel("Select a bucket to see its dumps and the modules they have in common.")
		hint.Importance = widget.LowImportance
		v.detail.Add(hint)
		v.detail.Refresh()
		return
	}
	r := v.rows[v.selected]
	title := widget.NewLabel(r.Key)
	title.TextStyle.Bold = true
	title.Wrapping = fyne.TextWrapBreak
	v.detail.Add(title)
	if r.Signature != "" && r.Signature != r.Key {
		v.detail.Add(selectableValue("Signature: " + r.Signature))
	}
	if r.Why != "" {
		v.detail.Add(selectableValue(r.Why))
	}
	v.detail.Add(v.regroupControls(r))
	v.detail.Add(v.noteControls(r))
	paths := r.Dumps
	open := widget.NewButtonWithIcon(fmt.Sprintf("Open %d dumps", len(paths)), theme.FolderOpenIcon(), func() {
		if v.OnOpen != nil {
			v.OnOpen(paths)
		}
	})
	if len(paths) == 1 {
		open.SetText("Open the dump")
	}
	v.detail.Add(container.NewHBox(open))
	list := widget.NewLabel(strings.Join(paths, "\n"))
	list.Selectable = true
	v.detail.Add(list)
	v.detail.Refresh()
}

// regroupControls lets the user fix the grouping: merge this bucket into
// another (chosen from the list or typed, e.g. a ticket's name), or undo
// the merges that made it.
func (v *BucketsView) regroupControls(r BucketRow) fyne.CanvasObject {
	keys := make([]string, len(v.rows))
	for i, o := range v.rows {
		keys[i] = o.Key
	}
	row := bucketPicker(keys, r.Key, "another bucket, or a new name", "Merge into", func(into string) {
		if v.OnMerge != nil {
			v.OnMerge(r.Key, into)
		}
	})
	if len(r.Merged) == 0 {
		return row
	}
	undo := widget.NewButtonWithIcon("Undo merge ("+Count(len(r.Merged), "bucket", "buckets")+")", theme.ContentUndoIcon(), func() {
		if v.OnUnmerge != nil {
			v.OnUnmerge(r.Merged)
		}
	})
	return container.NewVBox(row, container.NewHBox(undo))
}

// Notice returns the refusal shown, "" when none is.
func (v *BucketsView) Notice() string { return v.notice }

// noteControls lists the bucket's notes ("known issue, fixed in 2.1",
// shown with every dump of it) with a field to add one.
func (v *BucketsView) noteControls(r BucketRow) fyne.CanvasObject {
	box := container.NewVBox()
	for _, n := range r.Notes {
		box.Add(noteLabel(n))
	}
	box.Add(submitEntry("a note on the whole bucket, shown with each of its dumps (Enter saves it)", func(t string) {
		if v.OnAddNote != nil {
			v.OnAddNote(r.Key, t)
		}
	}))
	return box
}

// ShowNotice tells the user why a change was refused, above the details.
func (v *BucketsView) ShowNotice(msg string) {
	v.notice = msg
	l := widget.NewLabel(msg)
	l.Importance = widget.DangerImportance
	l.Wrapping = fyne.TextWrapWord
	v.detail.Objects = append([]fyne.CanvasObject{l}, v.detail.Objects...)
	v.detail.Refresh()
}
