//go:build cgo && !ci

package platform

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/sqweek/dialog"
)

// NativePicker returns the operating system's file dialog (GTK 3 on Linux,
// the common dialog on Windows, NSOpenPanel on macOS, through
// github.com/sqweek/dialog).
func NativePicker() (FilePicker, error) { return sqweekPicker{}, nil }

type sqweekPicker struct{}

// sqweekMu serialises dialogs: GTK is not thread-safe, and sqweek drives it
// from whichever goroutine calls Load, so two dialogs at once could corrupt
// its state.
var sqweekMu sync.Mutex

func (sqweekPicker) OpenFiles(title string) ([]string, error) {
	p, err := runDialog(func() (string, error) {
		return dialog.File().Title(title).
			Filter("Crash dumps", dumpExtensions...).
			Filter("All files").
			Load()
	})
	if p == "" || err != nil {
		return nil, err
	}
	return []string{p}, nil
}

func (sqweekPicker) OpenFolder(title string) (string, error) {
	return runDialog(func() (string, error) { return dialog.Directory().Title(title).Browse() })
}

// runDialog shows one sqweek dialog: one at a time, on one OS thread, a
// cancel being "", nil.
func runDialog(show func() (string, error)) (path string, err error) {
	sqweekMu.Lock()
	defer sqweekMu.Unlock()
	// GTK wants one thread for one dialog's whole life.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// sqweek panics when GTK failed to initialise (no usable display at
	// program start); report that as "no native dialog" so the caller
	// falls back to the toolkit's dialog instead of crashing.
	defer func() {
		if r := recover(); r != nil {
			path, err = "", fmt.Errorf("%w: %v", ErrNoNativeDialog, r)
		}
	}()
	path, err = show()
	if errors.Is(err, dialog.ErrCancelled) {
		return "", nil
	}
	return path, err
}
