// Command crashbench-dialog shows the operating system's file dialog for
// the workbench (through github.com/sqweek/dialog: GTK 3 on Linux, the
// common dialog on Windows, NSOpenPanel on macOS) and prints the choice.
//
// It is a program of its own, which `make build` puts beside crashbench,
// because the dialog library links GTK on Linux: its ~70 shared libraries
// cost about 10 ms at every start of the process that links them, which
// every headless command (crashbench run, analyze, ...) would pay for a
// dialog it never shows. platform.NativePicker runs it.
//
// usage: crashbench-dialog files|folder TITLE
// The chosen path is printed on its own line; nothing when cancelled.
// Exit status: 0 chosen or cancelled, 1 an error, 3 no native dialog here
// (no desktop session), so the caller falls back to the toolkit's dialog.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/sqweek/dialog"

	"github.com/crashbench/crashbench/platform"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: crashbench-dialog files|folder TITLE")
		os.Exit(1)
	}
	kind, title := os.Args[1], os.Args[2]
	path, err := show(kind, title)
	switch {
	case errors.Is(err, platform.ErrNoNativeDialog):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(platform.ExitNoNativeDialog)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	case path != "":
		fmt.Println(path)
	}
}

// show runs one dialog; a cancel is "", nil.
func show(kind, title string) (path string, err error) {
	// GTK wants one thread for one dialog's whole life.
	runtime.LockOSThread()
	// sqweek panics when GTK failed to initialise (no usable display):
	// that is "no native dialog", so the workbench uses its own.
	defer func() {
		if r := recover(); r != nil {
			path, err = "", fmt.Errorf("%w: %v", platform.ErrNoNativeDialog, r)
		}
	}()
	switch kind {
	case "files":
		path, err = dialog.File().Title(title).Filter("Crash dumps", platform.DumpExtensions...).Filter("All files").Load()
	case "folder":
		path, err = dialog.Directory().Title(title).Browse()
	default:
		return "", fmt.Errorf("unknown dialog %q (files or folder)", kind)
	}
	if errors.Is(err, dialog.ErrCancelled) {
		return "", nil
	}
	return path, err
}
