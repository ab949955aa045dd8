// Package core is Crashbench's headless engine. It has no code of its own;
// imports_test.go holds the dependency rules of the whole module:
//
//   - core/... imports only the standard library, golang.org/x/arch,
//     golang.org/x/sync, well-kept decompression libraries, and other core
//     packages: never Fyne, SQLite, platform, workspace, widgets or app;
//   - format packages (minidump, kdmp, elfcore, vmcore, lime, fbsd) never
//     import each other or core/dump;
//   - widgets imports Fyne but never core, workspace, platform or fyne/app;
//   - platform imports no core and no Fyne;
//   - only the root main package imports fyne.io/fyne/v2/app.
package core
