package app

import (
	"sync"

	"fyne.io/fyne/v2"
)

// onUI runs f on the UI thread, after every function queued before it and
// never at the same time as another. fyne.Do alone gives that on a real
// driver, but Fyne's test driver runs each call at once on the calling
// goroutine, so two background loads finishing together laid out the same
// widgets concurrently ("concurrent map writes" in a label's cache). One
// goroutine hands the queue to fyne.DoAndWait in order, which serialises
// both drivers alike. f may queue more work; it must not wait for it.
func onUI(f func()) { uiSerial.push(f) }

// onUIWait is onUI that returns once f has run.
func onUIWait(f func()) {
	done := make(chan struct{})
	uiSerial.push(func() {
		defer close(done)
		f()
	})
	<-done
}

var uiSerial serialQueue

// serialQueue runs functions on the UI thread one at a time, in order.
type serialQueue struct {
	mu      sync.Mutex
	fns     []func()
	running bool // a drain goroutine is at work
}

func (q *serialQueue) push(f func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.fns = append(q.fns, f)
	if !q.running {
		q.running = true
		go q.drain()
	}
}

// drain runs the queued functions until none is left, then ends. When a
// function ends its goroutine instead of returning (runtime.Goexit, as
// t.Fatal does in a test), another drain takes over the rest.
func (q *serialQueue) drain() {
	finished := false
	defer func() {
		if finished {
			return
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		if len(q.fns) > 0 {
			go q.drain()
		} else {
			q.running = false
		}
	}()
	for {
		q.mu.Lock()
		if len(q.fns) == 0 {
			q.running = false
			q.mu.Unlock()
			finished = true
			return
		}
		f := q.fns[0]
		q.fns[0] = nil
		q.fns = q.fns[1:]
		q.mu.Unlock()
		fyne.DoAndWait(f)
	}
}
