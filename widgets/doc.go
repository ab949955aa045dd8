// Package widgets holds Crashbench's pure Fyne views: the dump list, the
// summary pane, and later the hex, disassembly, tree and console views.
//
// Widgets know nothing about dumps. Each declares the small interface or
// plain value types it renders (DumpSource, Row) and reports user intent
// through callbacks (OnSelected), so it can be tested with fakes under
// Fyne's headless test driver and reused by any panel. They never start
// goroutines that touch data and never import core, workspace, platform or
// fyne.io/fyne/v2/app; the app package adapts the engine to them and calls
// their methods on the UI thread.
package widgets
