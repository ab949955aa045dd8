package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Status is how far opening one dump has got.
type Status int

const (
	// StatusLoading means the dump is still being opened or read.
	StatusLoading Status = iota
	// StatusOK means the dump opened and its summary is available.
	StatusOK
	// StatusError means the dump could not be opened or understood.
	StatusError
)

// String returns the status in lower case, for test failures and logs.
func (s Status) String() string {
	switch s {
	case StatusLoading:
		return "loading"
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	}
	return "unknown"
}

// DumpSource is what a DumpList shows: an indexed list of entries. It is
// read on the UI thread whenever a row is drawn, so implementations return
// quickly from memory and never do I/O here.
type DumpSource interface {
	Len() int
	Title(i int) string    // the first line, e.g. the file name
	Subtitle(i int) string // the second line: what the dump is, or why it failed
	Status(i int) Status
}

// DumpList is the list of open dumps: one row per entry with a status icon,
// a title and a subtitle, or an indeterminate progress bar while the entry
// loads. It is virtualised (a widget.List), so only visible rows exist.
type DumpList struct {
	widget.BaseWidget

	// OnSelected is called with the entry the user selected (or Select
	// chose). It runs on the UI thread.
	OnSelected func(i int)

	src      DumpSource
	list     *widget.List
	selected int
}

// NewDumpList returns a list over src. Call Refresh after src changes
// length, or RefreshItem after one entry changes.
func NewDumpList(src DumpSource) *DumpList {
	l := &DumpList{src: src, selected: -1}
	l.list = widget.NewList(src.Len, newDumpRow, func(id widget.ListItemID, o fyne.CanvasObject) {
		if id < src.Len() {
			o.(*dumpRow).update(src.Title(id), src.Subtitle(id), src.Status(id))
		}
	})
	l.list.OnSelected = func(id widget.ListItemID) {
		l.selected = id
		if l.OnSelected != nil {
			l.OnSelected(id)
		}
	}
	l.list.OnUnselected = func(id widget.ListItemID) {
		if l.selected == id {
			l.selected = -1
		}
	}
	l.ExtendBaseWidget(l)
	return l
}

// CreateRenderer implements fyne.Widget.
func (l *DumpList) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(l.list)
}

// Refresh redraws every visible row, after entries were added or removed.
// A selection past the new end is dropped.
func (l *DumpList) Refresh() {
	if l.selected >= l.src.Len() {
		l.list.UnselectAll()
		l.selected = -1
	}
	l.list.Refresh()
	l.BaseWidget.Refresh()
}

// RefreshItem redraws entry i only, after its status or text changed.
func (l *DumpList) RefreshItem(i int) { l.list.RefreshItem(i) }

// Select selects entry i, scrolls it into view and calls OnSelected.
func (l *DumpList) Select(i int) {
	if i < 0 || i >= l.src.Len() {
		return
	}
	l.list.Select(i)
}

// UnselectAll clears the selection without calling OnSelected.
func (l *DumpList) UnselectAll() {
	l.list.UnselectAll()
	l.selected = -1
}

// Selected returns the selected entry, or -1 if none is.
func (l *DumpList) Selected() int { return l.selected }

// dumpRow is one recycled row of the list. The title and subtitle labels
// truncate with an ellipsis so that a long path or error line never widens
// the list pane; the summary pane shows them in full.
type dumpRow struct {
	widget.BaseWidget

	icon      *widget.Icon
	title     *widget.Label
	subtitle  *widget.Label
	bar       *loadingBar
	barHolder *fyne.Container
}

func newDumpRow() fyne.CanvasObject {
	r := &dumpRow{
		icon:     widget.NewIcon(theme.FileIcon()),
		title:    widget.NewLabel(""),
		subtitle: widget.NewLabel(""),
		bar:      newLoadingBar(),
	}
	r.title.TextStyle.Bold = true
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.subtitle.Truncation = fyne.TextTruncateEllipsis
	r.subtitle.SizeName = theme.SizeNameCaptionText
	r.barHolder = container.New(&thinBarLayout{}, r.bar)
	r.barHolder.Hide()
	r.ExtendBaseWidget(r)
	return r
}

func (r *dumpRow) CreateRenderer() fyne.WidgetRenderer {
	// The negative-padding VBox keeps title and subtitle visually one item.
	lines := container.New(&tightVBox{}, r.title, container.NewStack(r.subtitle, r.barHolder))
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, container.NewCenter(r.icon), nil, lines))
}

func (r *dumpRow) update(title, subtitle string, st Status) {
	r.title.SetText(title)
	switch st {
	case StatusLoading:
		// The subtitle stays, empty, underneath the bar: it keeps the row's
		// height the same as a loaded row's.
		r.icon.SetResource(theme.FileIcon())
		r.subtitle.SetText("")
		r.barHolder.Show()
		r.bar.Start()
		return
	case StatusError:
		r.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		r.subtitle.Importance = widget.DangerImportance
	default:
		// Medium, not low, importance: low-importance grey is unreadable
		// on the selection colour of the dark theme.
		r.icon.SetResource(theme.DocumentIcon())
		r.subtitle.Importance = widget.MediumImportance
	}
	// Stop before hiding: a hidden bar would keep animating.
	r.bar.Stop()
	r.barHolder.Hide()
	r.subtitle.SetText(subtitle)
}

// thinBarLayout draws its only child as a thin bar centred in the height a
// caption label would take, so a loading row is as tall as a loaded one.
type thinBarLayout struct{}

func (*thinBarLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	h := theme.Padding()
	for _, o := range objs {
		o.Resize(fyne.NewSize(size.Width-2*theme.InnerPadding(), h))
		o.Move(fyne.NewPos(theme.InnerPadding(), (size.Height-h)/2))
	}
}

func (*thinBarLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(0, theme.Padding())
}

// tightVBox stacks its children with their inner padding overlapping, which
// is how two labels read as a title and its subtitle rather than two rows.
type tightVBox struct{}

func (*tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	overlap := theme.InnerPadding()
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Resize(fyne.NewSize(size.Width, h))
		o.Move(fyne.NewPos(0, y))
		y += h - overlap
	}
}

func (*tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for i, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
		if i > 0 {
			s.Height -= theme.InnerPadding()
		}
	}
	return s
}
