package widgets

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Trust is how a frame was found, from most to least reliable; the frame
// table colours rows by it.
type Trust int

const (
	TrustContext      Trust = iota // the registers the dump captured
	TrustCFI                       // call-frame information
	TrustFramePointer              // the saved frame-pointer chain
	TrustScan                      // a stack word that looks like a return address
)

// String returns the trust as the analysis prints it.
func (t Trust) String() string {
	switch t {
	case TrustContext:
		return "context"
	case TrustCFI:
		return "cfi"
	case TrustFramePointer:
		return "frame-pointer"
	case TrustScan:
		return "scan"
	}
	return "?"
}

// Importance is the label importance rows of this trust are drawn with:
// theme colours, readable on both variants; scanned frames, guesses, are
// dimmed.
func (t Trust) Importance() widget.Importance {
	switch t {
	case TrustContext:
		return widget.HighImportance
	case TrustCFI:
		return widget.SuccessImportance
	case TrustScan:
		return widget.LowImportance
	}
	return widget.MediumImportance
}

// FrameRow is one row of a frame table. Inline frames (calls inlined at
// the frame's address) come before their frame, without a number.
type FrameRow struct {
	Index    string // "00", "" for an inline frame
	Module   string
	Function string // "CrashFunction+0x18", "kernel32+0x1744d" without a symbol
	Source   string // "c:\app\crash.cpp:11", "" when unknown
	Trust    Trust
	Inline   bool
	PC       uint64 // where the frame is, for the disassembly
}

// ThreadRow is one thread of a StackView with its stack.
type ThreadRow struct {
	ID      string // as the dump's platform writes thread ids ("0x1234", "4242")
	Name    string
	Crashed bool
	Frames  []FrameRow
	Err     string // why the walk stopped early or failed, "" if it did not
}

// frameColumns are the frame table's headings.
var frameColumns = []string{"#", "Module", "Function", "Source", "Trust"}

var frameColumnWidths = []float32{40, 130, 250, 230, 90}

// FrameCell returns the text of column c of f.
func (f FrameRow) FrameCell(c int) string {
	switch c {
	case 0:
		return f.Index
	case 1:
		return f.Module
	case 2:
		if f.Inline {
			return "[inline] " + f.Function
		}
		return f.Function
	case 3:
		return f.Source
	case 4:
		if f.Inline {
			return ""
		}
		return f.Trust.String()
	}
	return ""
}

// StackView shows a process's threads on the left (id, name and a mark on
// the crashing one) and the selected thread's frames on the right, as a
// table coloured by how each frame was found.
//
// ShowLoading, ShowError, SetThreads and Select must be called on the UI
// thread.
type StackView struct {
	widget.BaseWidget

	// OnSelected is called with the thread the user selected (or Select
	// chose), on the UI thread.
	OnSelected func(i int)
	// OnFrameSelected is called with a frame the user selected in the
	// selected thread's table, on the UI thread.
	OnFrameSelected func(f FrameRow)

	pane     *statePane
	threads  []ThreadRow
	selected int

	list   *widget.List
	frames *widget.Table
	title  *widget.Label
	walk   *widget.Label // why the walk stopped
}

// NewStackView returns an empty view in the loading state.
func NewStackView() *StackView {
	v := &StackView{selected: -1}
	v.list = widget.NewList(func() int { return len(v.threads) }, newThreadRow,
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(v.threads) {
				o.(*threadRow).update(v.threads[id])
			}
		})
	v.list.OnSelected = func(id widget.ListItemID) {
		v.selected = id
		v.showFrames()
		if v.OnSelected != nil {
			v.OnSelected(id)
		}
	}
	v.frames = widget.NewTableWithHeaders(
		func() (int, int) { return len(v.Frames()), len(frameColumns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			fr := v.Frames()
			if id.Row >= len(fr) {
				return
			}
			l := o.(*widget.Label)
			f := fr[id.Row]
			l.Importance = f.Trust.Importance()
			l.TextStyle.Italic = f.Inline
			l.TextStyle.Monospace = id.Col == 0 && !f.Inline // no theme has a monospace italic face
			l.Text = f.FrameCell(id.Col)
			l.Refresh()
		})
	v.frames.OnSelected = func(id widget.TableCellID) {
		if fr := v.Frames(); id.Row >= 0 && id.Row < len(fr) && v.OnFrameSelected != nil {
			v.OnFrameSelected(fr[id.Row])
		}
	}
	v.frames.ShowHeaderColumn = false
	v.frames.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(frameColumns) {
			o.(*widget.Label).SetText(frameColumns[id.Col])
		}
	}
	for c, w := range frameColumnWidths {
		v.frames.SetColumnWidth(c, w)
	}
	v.title = widget.NewLabel("")
	v.title.TextStyle.Bold = true
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.walk = widget.NewLabel("")
	v.walk.Importance = widget.WarningImportance
	v.walk.Wrapping = fyne.TextWrapWord
	v.walk.Hide()
	right := container.NewBorder(v.title, v.walk, nil, nil, v.frames)
	split := container.NewHSplit(v.list, right)
	split.Offset = 0.2
	v.pane = newStatePane(split)
	v.ExtendBaseWidget(v)
	v.ShowLoading()
	return v
}

// SelectID selects the thread whose ID is id; it reports whether one is.
func (v *StackView) SelectID(id string) bool {
	for i, t := range v.threads {
		if t.ID == id {
			v.Select(i)
			return true
		}
	}
	return false
}

// CreateRenderer implements fyne.Widget.
func (v *StackView) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.pane.content)
}

// State returns which face the view shows.
func (v *StackView) State() PaneState { return v.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (v *StackView) ErrorLine() string { return v.pane.errLine }

// ShowLoading shows that the stacks are being walked.
func (v *StackView) ShowLoading() { v.pane.showLoading("Walking the stacks…") }

// ShowError shows line, the one-line reason there are no stacks.
func (v *StackView) ShowError(line string) {
	v.threads, v.selected = nil, -1
	v.pane.showError(line)
}

// SetThreads shows threads and selects thread sel (the crashing one,
// say); sel < 0 selects none. The view keeps the slice.
func (v *StackView) SetThreads(threads []ThreadRow, sel int) {
	v.threads, v.selected = threads, -1
	v.list.UnselectAll()
	v.pane.showReady()
	v.list.Refresh()
	v.showFrames()
	v.Select(sel)
}

// Threads returns the threads shown.
func (v *StackView) Threads() []ThreadRow { return v.threads }

// Select selects thread i, scrolls it into view and shows its frames.
func (v *StackView) Select(i int) {
	if i < 0 || i >= len(v.threads) {
		return
	}
	v.list.Select(i)
}

// Selected returns the selected thread, or -1.
func (v *StackView) Selected() int { return v.selected }

// Frames returns the selected thread's frames, nil when none is selected.
func (v *StackView) Frames() []FrameRow {
	if v.selected < 0 || v.selected >= len(v.threads) {
		return nil
	}
	return v.threads[v.selected].Frames
}

func (v *StackView) showFrames() {
	v.walk.Hide()
	if v.selected < 0 || v.selected >= len(v.threads) {
		v.title.SetText("Select a thread")
	} else {
		th := v.threads[v.selected]
		v.title.SetText(threadTitle(th))
		if th.Err != "" {
			v.walk.SetText("Stack walk stopped: " + th.Err)
			v.walk.Show()
		}
	}
	v.frames.ScrollToTop()
	v.frames.Refresh()
}

func threadTitle(th ThreadRow) string {
	t := "Thread " + th.ID
	if th.Name != "" {
		t += " “" + th.Name + "”"
	}
	if th.Crashed {
		t += " — crashed"
	}
	return t
}

// threadRow is one recycled row of the thread list.
type threadRow struct {
	widget.BaseWidget
	icon  *widget.Icon
	label *widget.Label
}

func newThreadRow() fyne.CanvasObject {
	r := &threadRow{icon: widget.NewIcon(nil), label: widget.NewLabel("")}
	r.label.Truncation = fyne.TextTruncateEllipsis
	r.ExtendBaseWidget(r)
	return r
}

func (r *threadRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewBorder(nil, nil, r.icon, nil, r.label))
}

func (r *threadRow) update(th ThreadRow) {
	text := th.ID
	if th.Name != "" {
		text += "  " + th.Name
	}
	r.label.TextStyle.Bold = th.Crashed
	r.label.SetText(text)
	if th.Crashed {
		r.icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
	} else {
		r.icon.SetResource(nil)
	}
}
