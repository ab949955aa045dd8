package platform

import "errors"

// FilePicker asks the user to choose dump files with the operating system's
// own dialog, which knows the user's bookmarks, recent files and network
// places better than any toolkit dialog.
type FilePicker interface {
	// OpenFiles shows an open dialog with the given title and returns the
	// chosen paths. Cancelling is not an error: it returns nil, nil.
	// OpenFiles blocks until the dialog closes, so GUI callers run it off the
	// UI thread.
	OpenFiles(title string) ([]string, error)
	// OpenFolder asks for one folder in the same way; cancelling returns
	// "", nil.
	OpenFolder(title string) (string, error)
}

// ErrNoNativeDialog says this build or this machine has no native file
// dialog (a cgo-less or `-tags ci` build, or no desktop session); callers
// fall back to the toolkit's own dialog.
var ErrNoNativeDialog = errors.New("platform: no native file dialog in this build")

// dumpExtensions are the file name extensions the dump filter offers: the
// dump formats Crashbench reads and the containers it unpacks. Cores named
// "core.1234" or "core" have no such extension, hence the "All files"
// filter next to it.
var dumpExtensions = []string{"dmp", "mdmp", "core", "vmcore", "kdump", "lime", "gz", "xz", "zst", "bz2", "zip", "cab"}
