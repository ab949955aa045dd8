package app

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/unwind"
	"github.com/crashbench/crashbench/widgets"
)

// threadTab is the view-model of the threads tab: it runs the session's
// analysis once, off the UI thread, and shows its threads and stacks in a
// widgets.StackView with the crashing thread first and selected.
type threadTab struct {
	view *widgets.StackView
	done chan struct{} // closed once the view shows the threads or the error
}

// NewThreadsTab returns the threads tab of sess: the thread list (id,
// name, a mark on the crashing thread, which comes first and is
// selected) and the selected thread's frames, coloured by how each was
// found. It shows a progress bar while the analysis walks the stacks.
// Call it on the UI thread; sess may be nil (the dump did not open).
func NewThreadsTab(sess *session.Session) fyne.CanvasObject {
	return newThreadTab(context.Background(), sess).view
}

func newThreadTab(ctx context.Context, sess *session.Session) *threadTab {
	t := &threadTab{view: widgets.NewStackView(), done: make(chan struct{})}
	if sess == nil {
		t.view.ShowError("The dump is not open.")
		close(t.done)
		return t
	}
	inBackground(ctx, t.done, func() func() {
		a, err := sess.Analyze(ctx)
		var rows []widgets.ThreadRow
		if err == nil {
			rows = threadRows(a, sess.Target().Info().Format)
		}
		return func() {
			switch {
			case err != nil:
				t.view.ShowError(shortError(err))
			case len(rows) == 0 && a.Panic != nil:
				t.view.ShowError("This dump records no thread list: the panic's call trace is in the kernel log.")
			case len(rows) == 0:
				t.view.ShowError("This dump records no threads.")
			default:
				t.view.SetThreads(rows, 0)
			}
		}
	})
	return t
}

// threadRows turns the analysis' threads into rows, the crashing thread
// first and the others in the dump's order.
func threadRows(a *session.Analysis, f model.Format) []widgets.ThreadRow {
	rows := make([]widgets.ThreadRow, 0, len(a.Threads))
	order := make([]int, 0, len(a.Threads))
	if a.Crashed >= 0 {
		order = append(order, a.Crashed)
	}
	for i := range a.Threads {
		if i != a.Crashed {
			order = append(order, i)
		}
	}
	for _, i := range order {
		ts := a.Threads[i]
		r := widgets.ThreadRow{ID: threadID(ts.Thread.ID, f), Name: ts.Thread.Name, Crashed: ts.Crashed, Frames: frameRows(ts.Frames)}
		if ts.Err != nil {
			r.Err = oneLine(ts.Err.Error())
		}
		rows = append(rows, r)
	}
	return rows
}

// threadID writes a thread id as the platform's debugger does: hex on
// Windows, decimal (a Linux LWP or PID, a FreeBSD TID) elsewhere.
func threadID(id uint64, f model.Format) string {
	switch f {
	case model.Minidump, model.WindowsKernel:
		return fmt.Sprintf("0x%x", id)
	}
	return fmt.Sprint(id)
}

// frameRows turns a stack into the frame table's rows, each frame preceded
// by the calls inlined at its address, innermost first.
func frameRows(frames []session.Frame) []widgets.FrameRow {
	var rows []widgets.FrameRow
	for _, f := range frames {
		a := f.Analysis
		trust := frameTrust(f.Trust)
		for _, in := range a.Inlined {
			rows = append(rows, widgets.FrameRow{Module: a.Module, Function: in.Function, Source: sourceLine(in.File, in.Line), Trust: trust, Inline: true, PC: a.PC})
		}
		fn := a.String() // module+0xoff, or the bare address, without a symbol
		if a.Function != "" {
			fn = fmt.Sprintf("%s+%#x", a.Function, a.Offset)
		}
		rows = append(rows, widgets.FrameRow{
			Index:    fmt.Sprintf("%02x", f.Index),
			Module:   a.Module,
			Function: fn,
			Source:   sourceLine(a.File, a.Line),
			Trust:    trust,
			PC:       a.PC,
		})
	}
	return rows
}

func sourceLine(file string, line int) string {
	switch {
	case file == "":
		return ""
	case line <= 0:
		return file
	}
	return fmt.Sprintf("%s:%d", file, line)
}

func frameTrust(t unwind.Trust) widgets.Trust {
	switch t {
	case unwind.Context:
		return widgets.TrustContext
	case unwind.CFI:
		return widgets.TrustCFI
	case unwind.FramePointer:
		return widgets.TrustFramePointer
	}
	return widgets.TrustScan
}
