package app

import (
	"context"
	"sync"
	"time"

	"github.com/crashbench/crashbench/widgets"
)

// Tasks is the view-model of the status bar: the background jobs running
// now (opening dumps, indexing, symbol downloads), each with its progress
// and a way to cancel it. Start, Progress and Finish may be called from
// any goroutine; the bar is refreshed on the UI thread, at most every
// refreshEvery so that a download's thousand progress calls cost one
// redraw per frame or so.
type Tasks struct {
	// OnChange is called on the UI thread with the current tasks.
	OnChange func([]widgets.TaskRow)

	mu      sync.Mutex
	next    int
	list    []*Task
	pending bool // a refresh is queued
}

// Task is one background job.
type Task struct {
	tasks   *Tasks
	id      int
	cancel  func()
	release func() // Start's context, released by Finish

	// label, done and total are guarded by tasks.mu.
	label       string
	done, total int64
}

const refreshEvery = 100 * time.Millisecond

// Start registers a job called label and returns a context, derived from
// parent, that the status bar's cancel button ends, and the task to report
// on. The caller must call Finish, which also releases the context.
func (ts *Tasks) Start(parent context.Context, label string) (context.Context, *Task) {
	ctx, cancel := context.WithCancel(parent)
	t := ts.StartFunc(label, cancel)
	t.release = cancel
	return ctx, t
}

// StartFunc registers a job whose cancel button calls cancel, for jobs
// whose context must outlive the task (a session opened under it). The
// caller must call Finish; Finish does not call cancel.
func (ts *Tasks) StartFunc(label string, cancel func()) *Task {
	ts.mu.Lock()
	ts.next++
	t := &Task{tasks: ts, id: ts.next, cancel: cancel, label: label, total: -1}
	ts.list = append(ts.list, t)
	ts.mu.Unlock()
	ts.changed()
	return t
}

// Progress reports done of total units (total < 0: unknown, the bar
// runs indeterminately) and may change the label ("" keeps it).
func (t *Task) Progress(label string, done, total int64) {
	t.tasks.mu.Lock()
	if label != "" {
		t.label = label
	}
	t.done, t.total = done, total
	t.tasks.mu.Unlock()
	t.tasks.changed()
}

// Finish removes the task from the bar.
func (t *Task) Finish() {
	ts := t.tasks
	ts.mu.Lock()
	for i, o := range ts.list {
		if o == t {
			ts.list = append(ts.list[:i], ts.list[i+1:]...)
			break
		}
	}
	ts.mu.Unlock()
	if t.release != nil {
		t.release()
	}
	ts.changed()
}

// Cancel cancels the task with the given id (the bar's cancel button).
func (ts *Tasks) Cancel(id int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.list {
		if t.id == id {
			t.cancel()
		}
	}
}

// Rows returns the running tasks as the status bar shows them.
func (ts *Tasks) Rows() []widgets.TaskRow {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	rows := make([]widgets.TaskRow, len(ts.list))
	for i, t := range ts.list {
		f := -1.0
		if t.total > 0 {
			f = min(1, float64(t.done)/float64(t.total))
		}
		rows[i] = widgets.TaskRow{ID: t.id, Label: t.label, Fraction: f}
	}
	return rows
}

// changed queues one refresh of the bar, after refreshEvery.
func (ts *Tasks) changed() {
	ts.mu.Lock()
	if ts.pending || ts.OnChange == nil {
		ts.mu.Unlock()
		return
	}
	ts.pending = true
	ts.mu.Unlock()
	time.AfterFunc(refreshEvery, func() {
		ts.mu.Lock()
		ts.pending = false
		ts.mu.Unlock()
		rows := ts.Rows()
		onUI(func() { ts.OnChange(rows) })
	})
}
