package widgets

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TaskRow is one background job in the status bar.
type TaskRow struct {
	ID       int
	Label    string
	Fraction float64 // 0..1, or < 0 when the amount of work is unknown
}

// TaskBar is the window's status bar: a status line on the left and, on
// the right, each running job with a progress bar and a cancel button.
// Its methods run on the UI thread.
type TaskBar struct {
	widget.BaseWidget
	// OnCancel is called with a task's ID when its cancel button is tapped.
	OnCancel func(id int)

	status *widget.Label
	tasks  *fyne.Container
	rows   []TaskRow
	shown  map[int]*taskView // kept across updates, so bars keep animating
}

// taskView is one job's widgets.
type taskView struct {
	obj   fyne.CanvasObject
	label *widget.Label
	bar   *widget.ProgressBar // nil for an indeterminate job
	known bool                // whether Fraction was known when built
}

// maxShownTasks bounds the jobs drawn side by side; the rest are counted.
const maxShownTasks = 3

// NewTaskBar returns an idle status bar.
func NewTaskBar() *TaskBar {
	b := &TaskBar{status: widget.NewLabel(""), tasks: container.NewHBox(), shown: map[int]*taskView{}}
	b.status.Truncation = fyne.TextTruncateEllipsis
	b.ExtendBaseWidget(b)
	return b
}

// SetStatus sets the status line (what the workbench holds: dumps, index).
func (b *TaskBar) SetStatus(s string) { b.status.SetText(s) }

// Status returns the status line.
func (b *TaskBar) Status() string { return b.status.Text }

// SetTasks shows the running jobs.
func (b *TaskBar) SetTasks(rows []TaskRow) {
	b.rows = rows
	keep := map[int]*taskView{}
	var objs []fyne.CanvasObject
	for i, r := range rows {
		if i == maxShownTasks {
			objs = append(objs, widget.NewLabel(fmt.Sprintf("+%d more", len(rows)-i)))
			break
		}
		v, ok := b.shown[r.ID]
		if !ok || v.known != (r.Fraction >= 0) {
			v = b.taskView(r)
		}
		v.label.SetText(r.Label)
		if v.bar != nil {
			v.bar.SetValue(r.Fraction)
		}
		keep[r.ID] = v
		objs = append(objs, v.obj)
	}
	b.shown = keep
	b.tasks.Objects = objs
	b.tasks.Refresh()
}

// Tasks returns the jobs shown, for tests.
func (b *TaskBar) Tasks() []TaskRow { return b.rows }

func (b *TaskBar) taskView(r TaskRow) *taskView {
	v := &taskView{label: widget.NewLabel(r.Label), known: r.Fraction >= 0}
	v.label.Truncation = fyne.TextTruncateEllipsis
	var bar fyne.CanvasObject = widget.NewProgressBarInfinite()
	if v.known {
		v.bar = widget.NewProgressBar()
		bar = v.bar
	}
	id := r.ID
	cancel := widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		if b.OnCancel != nil {
			b.OnCancel(id)
		}
	})
	cancel.Importance = widget.LowImportance
	v.obj = container.NewHBox(
		container.NewGridWrap(fyne.NewSize(220, v.label.MinSize().Height), v.label),
		container.NewGridWrap(fyne.NewSize(140, bar.MinSize().Height), bar),
		cancel)
	return v
}

// CreateRenderer lays the status line out left and the jobs right.
func (b *TaskBar) CreateRenderer() fyne.WidgetRenderer {
	row := container.NewBorder(nil, nil, nil, b.tasks, b.status)
	return widget.NewSimpleRenderer(container.NewVBox(widget.NewSeparator(), container.New(layout.NewCustomPaddedLayout(0, 0, 4, 4), row)))
}
