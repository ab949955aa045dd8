package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// procTab is the view-model of the processes tab: it reads the session's
// process tree off the UI thread and, for each process the user selects,
// runs the console command that prints its threads and stacks, showing
// the text in the view's detail pane.
type procTab struct {
	view   *widgets.ProcessTree
	done   chan struct{} // closed once the view shows the tree or the error
	ctx    context.Context
	sess   *session.Session
	format model.Format

	mu     sync.Mutex
	cancel context.CancelFunc // of the detail being read, for the next selection to stop it
	detail chan struct{}      // closed once the latest selection's detail is settled
}

// NewProcessTab returns the processes tab of sess: the dump's processes as
// a tree (every task of a kernel dump, the one process of a process dump),
// the crashed one marked and selected, with the selected process's
// threads and stacks beside it as the console prints them. It shows a
// progress bar while the list is read. Call it on the UI thread; sess may
// be nil (the dump did not open).
func NewProcessTab(sess *session.Session) fyne.CanvasObject {
	return newProcTab(context.Background(), sess).view
}

func newProcTab(ctx context.Context, sess *session.Session) *procTab {
	t := &procTab{view: widgets.NewProcessTree(), done: make(chan struct{}), ctx: ctx, sess: sess}
	if sess == nil {
		t.view.ShowError("The dump is not open.")
		close(t.done)
		return t
	}
	t.format = sess.Target().Info().Format
	t.view.OnSelected = t.showDetail
	inBackground(ctx, t.done, func() func() {
		nodes, note, err := sess.ProcessTree(ctx)
		return func() {
			switch {
			case err != nil && len(nodes) == 0:
				t.view.ShowError(shortError(err))
			case len(nodes) == 0:
				t.view.ShowError("This dump lists no processes.")
			default:
				if err != nil {
					// The list was cut short; what was read is still worth showing.
					note = strings.TrimPrefix(note+"; the list may be incomplete: "+shortError(err), "; ")
				}
				t.view.SetProcesses(procNodes(nodes), note)
			}
		}
	})
	return t
}

func procNodes(ns []session.ProcessNode) []widgets.ProcNode {
	out := make([]widgets.ProcNode, len(ns))
	for i, n := range ns {
		out[i] = widgets.ProcNode{PID: n.PID, ParentPID: n.ParentPID, Name: n.Name, Threads: n.Threads, Address: n.Address, Crashed: n.Crashed}
	}
	return out
}

// showDetail runs, in the background, the command that prints n's threads
// and stacks, stopping the one a previous selection started. It is the
// view's OnSelected, called on the UI thread.
func (t *procTab) showDetail(n widgets.ProcNode) {
	cmd, preface := detailCommand(t.format, n)
	title := widgets.ProcTitle(n) + " — " + cmd

	t.mu.Lock()
	if t.cancel != nil {
		t.cancel()
	}
	ctx, cancel := context.WithCancel(t.ctx)
	done := make(chan struct{})
	t.cancel, t.detail = cancel, done
	t.mu.Unlock()

	t.view.ShowDetailLoading(title)
	// inBackground drops the result once ctx is cancelled: a slower,
	// earlier selection cannot overwrite this one.
	inBackground(ctx, done, func() func() {
		var b strings.Builder
		err := t.sess.Exec(ctx, cmd, console.NewTextOutput(&b))
		out := strings.TrimLeft(b.String(), "\n") // ~*k opens with a blank line
		return func() {
			switch {
			case err != nil && strings.TrimSpace(out) == "":
				t.view.ShowDetailError(title, shortError(err))
			case err != nil:
				t.view.ShowDetail(title, preface+out+"\n"+err.Error()+"\n")
			case strings.TrimSpace(out) == "":
				t.view.ShowDetailError(title, cmd+" printed nothing for this process.")
			default:
				t.view.ShowDetail(title, preface+out)
			}
		}
	})
}

// detailDone returns a channel closed once the latest selection's detail
// is shown (or dropped for a newer one); nil before any selection.
func (t *procTab) detailDone() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.detail
}

// detailCommand is the console command that prints process n's threads
// and stacks on a dump of format f, and a line to show before its output
// when the command shows less than that.
func detailCommand(f model.Format, n widgets.ProcNode) (cmd, preface string) {
	switch f {
	case model.LinuxVMCore, model.LiME:
		// crash's bt -t of the task: its kernel stack.
		return fmt.Sprintf("bt %d", n.PID), ""
	case model.WindowsKernel, model.FreeBSDVMCore:
		// !process takes an id or an EPROCESS, in hex; 0 lists them all,
		// which is what a triage dump's one process without an id needs.
		id := n.Address
		if id == 0 {
			id = n.PID
		}
		cmd = fmt.Sprintf("!process %x", id)
		if n.Crashed {
			// The current thread, at start, is the one that crashed.
			cmd += "; k"
		}
		return cmd, "(!process shows a kernel process's summary only: its threads and their stacks are not listed.)\n"
	}
	// A process dump: every thread's stack.
	return "~*k", ""
}
