package app

import (
	"context"
)

// inBackground runs work off the UI thread and then, on the UI thread
// through fyne.Do, the function it returns, unless ctx was cancelled
// meanwhile (the tab closed). done is closed once that is settled, so
// tests can wait for the view to show its result.
func inBackground(ctx context.Context, done chan struct{}, work func() (show func())) {
	go func() {
		show := work()
		onUI(func() {
			defer close(done)
			if ctx.Err() == nil && show != nil {
				show()
			}
		})
	}()
}
