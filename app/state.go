package app

import (
	"errors"
	"io/fs"
	"log"
	"os"
	"slices"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/workspace"
)

// workbenchState is the workspace state between runs (workspace.State):
// the dumps open at the last close and the recent files. Every change is
// saved at once, atomically, so that a crash of the workbench or of the
// machine never leaves a half-written file.
type workbenchState struct {
	mu   sync.Mutex
	path string // "" when no place for it is known: kept in memory only
	s    workspace.State
}

// loadState reads the state file. A first start takes over what earlier
// versions kept in Fyne's preferences; a damaged file is reported and
// replaced at the next save.
func loadState(p fyne.Preferences) *workbenchState {
	w := &workbenchState{}
	path, err := workspace.StatePath()
	if err != nil {
		log.Printf("crashbench: no place for the workbench state: %v", err)
		return w
	}
	w.path = path
	w.s, err = workspace.LoadState(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		w.s = workspace.State{Open: p.StringList(prefOpen), Recent: p.StringList(prefRecent)}
	case err != nil:
		log.Printf("crashbench: %v; starting without the last workspace", err)
	}
	return w
}

// save writes the state; the caller holds mu.
func (w *workbenchState) save() {
	if w.path == "" {
		return
	}
	if err := workspace.SaveState(w.path, w.s); err != nil {
		log.Printf("crashbench: saving the workbench state: %v", err)
	}
}

// addRecent puts paths at the head of the recent files, newest first,
// without duplicates.
func (w *workbenchState) addRecent(paths ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	list := slices.Clone(w.s.Recent)
	for _, path := range paths {
		list = slices.DeleteFunc(list, func(s string) bool { return s == path })
		list = append([]string{path}, list...)
	}
	w.s.Recent = list[:min(len(list), recentLimit)]
	w.save()
}

// recentFiles returns the recent files that still exist.
func (w *workbenchState) recentFiles() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return existing(w.s.Recent)
}

// saveOpen remembers the open dumps, for the next start without files.
func (w *workbenchState) saveOpen(d *Dumps) {
	var paths []string
	for i := range d.Len() {
		paths = append(paths, d.Path(i))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.s.Open = paths
	w.save()
}

// lastOpen returns the dumps open at the last close that still exist.
func (w *workbenchState) lastOpen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return existing(w.s.Open)
}

func existing(paths []string) []string {
	var out []string
	for _, path := range paths {
		if _, err := os.Stat(path); err == nil {
			out = append(out, path)
		}
	}
	return out
}
