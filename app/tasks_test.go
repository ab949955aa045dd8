package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/widgets"
)

// TestTasks reports jobs with their progress, coalesces refreshes, and
// cancels a job's context from the bar.
func TestTasks(t *testing.T) {
	test.NewTempApp(t)
	var mu sync.Mutex
	var calls int
	var last []widgets.TaskRow
	ts := &Tasks{OnChange: func(rows []widgets.TaskRow) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		last = rows
	}}
	ctx, index := ts.Start(context.Background(), "Indexing a.dmp")
	opened := false
	open := ts.StartFunc("Opening b.dmp", func() { opened = true })
	for i := range 1000 {
		index.Progress("", int64(i), 1000)
	}
	rows := ts.Rows()
	if len(rows) != 2 || rows[0].Label != "Indexing a.dmp" || rows[0].Fraction != 0.999 || rows[1].Fraction >= 0 {
		t.Fatalf("rows %+v", rows)
	}
	waitFor(t, "a refresh", func() bool { mu.Lock(); defer mu.Unlock(); return len(last) == 2 }, 5*time.Second)
	mu.Lock()
	n := calls
	mu.Unlock()
	if n > 3 {
		t.Errorf("%d refreshes for 1002 changes", n)
	}
	ts.Cancel(rows[0].ID)
	if ctx.Err() == nil {
		t.Error("cancel did not end the job's context")
	}
	ts.Cancel(rows[1].ID)
	if !opened {
		t.Error("cancel did not call StartFunc's cancel")
	}
	index.Finish()
	open.Finish()
	waitFor(t, "the bar to empty", func() bool { mu.Lock(); defer mu.Unlock(); return len(last) == 0 }, 5*time.Second)
}
