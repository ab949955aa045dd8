package app

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// openSession opens path as the workbench does and closes it after the test.
func openSession(t *testing.T, path string) *session.Session {
	t.Helper()
	s, err := session.Open(context.Background(), path, session.Options{Offline: true})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// sampleSession is testdata/sample/sample.dmp, with its Breakpad symbols
// beside it.
func sampleSession(t *testing.T) *session.Session {
	return openSession(t, fixture.Testdata(t, "sample/sample.dmp"))
}

// showTab puts a tab in a headless window, as the workbench's tab pane
// would, so that its rows are laid out and drawn. Tests call it once the
// load has been applied: Fyne's test driver runs fyne.Do on the loading
// goroutine, which must not race the window's first layout.
func showTab(t *testing.T, o fyne.CanvasObject, size fyne.Size) {
	t.Helper()
	onUIWait(func() {
		w := test.NewTempWindow(t, o)
		w.Resize(size)
	})
}

// waitClosed waits for a view-model's done channel: loads finish on their
// own goroutines and apply through fyne.Do.
func waitClosed(t *testing.T, what string, done <-chan struct{}, timeout time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
	flushUI()
}

// flushUI returns once the UI work queued so far (onUI) has run: what a
// background job queued before it signalled its end is then on screen.
func flushUI() { onUIWait(func() {}) }
