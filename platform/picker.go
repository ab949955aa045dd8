package platform

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

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

// ErrNoNativeDialog says there is no native file dialog (no dialog helper
// beside the binary, or no desktop session); callers fall back to the
// toolkit's own dialog.
var ErrNoNativeDialog = errors.New("platform: no native file dialog")

// ExitNoNativeDialog is the dialog helper's exit status for
// ErrNoNativeDialog.
const ExitNoNativeDialog = 3

// DumpExtensions are the file name extensions the dump filter offers: the
// dump formats Crashbench reads and the containers it unpacks. Cores named
// "core.1234" or "core" have no such extension, hence the "All files"
// filter next to it.
var DumpExtensions = []string{"dmp", "mdmp", "core", "vmcore", "kdump", "lime", "gz", "xz", "zst", "bz2", "zip", "cab"}

// DialogHelper is the file name of the dialog helper (platform/dialogcmd)
// that `make build` writes beside crashbench.
func DialogHelper() string {
	if runtime.GOOS == "windows" {
		return "crashbench-dialog.exe"
	}
	return "crashbench-dialog"
}

// NativePicker returns the operating system's file dialog, shown by the
// dialog helper beside this executable (see platform/dialogcmd for why it
// is a program of its own), or ErrNoNativeDialog when there is none.
func NativePicker() (FilePicker, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoNativeDialog, err)
	}
	helper := filepath.Join(filepath.Dir(exe), DialogHelper())
	if fi, err := os.Stat(helper); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("%w: %s is missing", ErrNoNativeDialog, helper)
	}
	return helperPicker{path: helper}, nil
}

// helperPicker runs the dialog helper.
type helperPicker struct{ path string }

// helperMu serialises dialogs: one modal dialog at a time.
var helperMu sync.Mutex

func (p helperPicker) OpenFiles(title string) ([]string, error) {
	path, err := p.run("files", title)
	if path == "" || err != nil {
		return nil, err
	}
	return []string{path}, nil
}

func (p helperPicker) OpenFolder(title string) (string, error) { return p.run("folder", title) }

// run shows one dialog and returns the chosen path ("" when cancelled).
func (p helperPicker) run(kind, title string) (string, error) {
	helperMu.Lock()
	defer helperMu.Unlock()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(p.path, kind, title)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() == ExitNoNativeDialog:
		return "", fmt.Errorf("%w: %s", ErrNoNativeDialog, strings.TrimSpace(stderr.String()))
	case err != nil:
		return "", fmt.Errorf("file dialog: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimRight(stdout.String(), "\r\n"), nil
}
