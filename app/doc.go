// Package app is the workbench: the only place where the headless engine
// (core/session) meets Fyne. It builds the windows and menus, runs every
// slow engine call in a goroutine with a context, and hands the results to
// the pure views in package widgets on the UI thread through fyne.Do.
//
// It never creates the Fyne application itself: main.go calls app.NewWithID
// and passes it to Run, so tests pass test.NewTempApp and run headless
// (CGO_ENABLED=0, LANG=en_US.UTF-8).
//
// State that the views read lives in view-models (Dumps) that know nothing
// about widgets beyond the plain value types widgets declares, so they can
// be tested on real synthetic dumps without a window.
package app
