// Package watch watches folders for crash dumps and hands each one to a
// callback once it is completely written. It knows nothing of the index:
// `crashbench watch` and the workbench give it a function that indexes a
// path.
//
// A file is handed to [Options.Index] once, after its size and
// modification time stayed the same for [Options.Stable] and no event
// arrived for it during [Options.Debounce]; it is handed again only if it
// changes later (a new size or modification time) or is deleted and
// created again. A handed file deleted or moved away is given to
// [Options.Removed], once no file is pending, so that a move within the
// folders is indexed under the new name first. fsnotify v1.10 keeps its
// close-write event (inotify's IN_CLOSE_WRITE) unexported, so
// completeness rests on stability alone, on every platform.
//
// Folders are watched with their subfolders, including those created
// later. A watched folder that is missing, deleted or replaced is looked
// for again every [Options.Retry] and watched again when it reappears;
// the files it then holds are handed like new ones (except those already
// handed unchanged). A Dirs entry that names a file rather than a folder
// (an existing file, or a missing name ending in .dmp, such as
// %SystemRoot%\MEMORY.DMP) watches only that file: its folder is watched
// without subfolders and no other file of it is handed.
package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Defaults of the Options durations.
const (
	DefaultStable   = 2 * time.Second
	DefaultDebounce = 250 * time.Millisecond
	DefaultRetry    = time.Second
)

// Options says what to watch and what to do with a completed file.
type Options struct {
	// Dirs are the folders to watch, with their subfolders. An entry
	// naming a file watches that file alone (see the package doc).
	Dirs []string
	// Index is called with each completed file, one call at a time, on a
	// goroutine of its own; ctx is Run's. An error is logged and the file
	// is not handed again until it changes.
	Index func(ctx context.Context, path string) error
	// Removed, when set, is called with each handed file that was then
	// deleted or moved away, in turn with the Index calls (so the index
	// can forget it). A folder that vanishes whole does not count: it may
	// be an unmounted disk.
	Removed func(ctx context.Context, path string) error
	// Stable is how long a file's size and modification time must stay
	// unchanged before it is handed (default 2 s).
	Stable time.Duration
	// Debounce is how long after the last event for a file it must stay
	// quiet before it is handed, so bursts of events coalesce (default
	// 250 ms). It also sets how often pending files are looked at.
	Debounce time.Duration
	// Retry is how often missing or replaced watched folders are looked
	// for again (default 1 s).
	Retry time.Duration
	// IsDump says whether a file is worth handing (default: every
	// regular file).
	IsDump func(path string) bool
	// Logf, when set, receives what the watcher does and what goes wrong.
	Logf func(format string, args ...any)
}

// Watcher watches folders; create it with New and run it with Run.
type Watcher struct {
	o     Options
	roots []*root
	now   func() time.Time
}

// root is one Dirs entry.
type root struct {
	dir    string      // the folder watched
	only   string      // when set, the one file name of dir to hand
	info   os.FileInfo // dir as last added, to notice it being replaced
	active bool        // dir is being watched
}

// state is what a file looked like.
type state struct {
	size  int64
	mtime time.Time
}

// pending is a file waiting to be complete.
type pending struct {
	last      state
	since     time.Time // when last was first seen (or a write reported)
	lastEvent time.Time
}

// New checks o and fills in its defaults.
func New(o Options) (*Watcher, error) {
	if o.Index == nil {
		return nil, errors.New("watch: Options.Index is nil")
	}
	if len(o.Dirs) == 0 {
		return nil, errors.New("watch: no folder to watch")
	}
	if o.Stable <= 0 {
		o.Stable = DefaultStable
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	if o.IsDump == nil {
		o.IsDump = func(string) bool { return true }
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	w := &Watcher{o: o, now: time.Now}
	seen := map[string]bool{}
	for _, d := range o.Dirs {
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("watch: %s: %w", d, err)
		}
		r := &root{dir: abs}
		if isFileEntry(abs) {
			r.dir, r.only = filepath.Dir(abs), filepath.Base(abs)
		}
		key := r.dir + "\x00" + r.only
		if seen[key] {
			continue
		}
		seen[key] = true
		w.roots = append(w.roots, r)
	}
	if len(w.roots) == 0 {
		return nil, errors.New("watch: no folder to watch")
	}
	return w, nil
}

// isFileEntry reports whether a Dirs entry names a file to watch alone.
func isFileEntry(p string) bool {
	fi, err := os.Stat(p)
	if err == nil {
		return fi.Mode().IsRegular()
	}
	return strings.EqualFold(filepath.Ext(p), ".dmp")
}

// run is one Run's state, owned by Run's goroutine.
type run struct {
	*Watcher
	fw      *fsnotify.Watcher
	watched map[string]*root // watched folders, to their Dirs entry
	pending map[string]*pending
	handed  map[string]state
	removed map[string]time.Time // handed files deleted since, and when
	queue   []job
}

// job is a file for the Index goroutine: to index, or removed.
type job struct {
	path    string
	removed bool
}

// Run watches until ctx is canceled, then waits for the Index call under
// way and returns nil. It fails only when watching cannot start at all;
// missing folders are waited for.
func (w *Watcher) Run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer fw.Close()
	r := &run{Watcher: w, fw: fw, watched: map[string]*root{}, pending: map[string]*pending{}, handed: map[string]state{}, removed: map[string]time.Time{}}
	for _, rt := range w.roots {
		rt.active, rt.info = false, nil
	}

	ready := make(chan job)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for j := range ready {
			if ctx.Err() != nil {
				continue
			}
			var err error
			if j.removed {
				w.o.Logf("watch: %s was removed", j.path)
				err = w.o.Removed(ctx, j.path)
			} else {
				w.o.Logf("watch: indexing %s", j.path)
				err = w.o.Index(ctx, j.path)
			}
			if err != nil && ctx.Err() == nil {
				w.o.Logf("watch: %s: %v", j.path, err)
			}
		}
	}()
	defer func() {
		close(ready)
		<-done
	}()

	r.checkRoots()
	tick := time.NewTicker(tickEvery(w.o))
	defer tick.Stop()
	retry := time.NewTicker(w.o.Retry)
	defer retry.Stop()
	for {
		var send chan job
		var next job
		if len(r.queue) > 0 {
			send, next = ready, r.queue[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case send <- next:
			r.queue = r.queue[1:]
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			r.event(ev)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.o.Logf("watch: %v", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: look at every file again.
				for _, rt := range w.roots {
					rt.active = false
				}
				r.checkRoots()
			}
		case <-tick.C:
			r.checkPending()
		case <-retry.C:
			r.checkRoots()
		}
	}
}

// tickEvery is how often pending files are looked at.
func tickEvery(o Options) time.Duration {
	d := min(o.Debounce, o.Stable) / 2
	return max(d, 5*time.Millisecond)
}

// rootOf returns the Dirs entry a path belongs to, and whether the path
// itself may be handed by it.
func (r *run) rootOf(path string) (*root, bool) {
	rt := r.watched[filepath.Dir(path)]
	if rt == nil {
		return nil, false
	}
	return rt, rt.only == "" || filepath.Base(path) == rt.only
}

func (r *run) event(ev fsnotify.Event) {
	path := filepath.Clean(ev.Name)
	switch {
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		r.gone(path)
		return
	case ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write) || ev.Has(fsnotify.Chmod):
	default:
		return
	}
	rt, ok := r.rootOf(path)
	if rt == nil {
		return
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return
	}
	if fi.IsDir() {
		if rt.only == "" && ev.Has(fsnotify.Create) {
			r.addTree(rt, path)
		}
		return
	}
	if ok {
		r.touch(path, fi, ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write))
	}
}

// touch records activity on a file.
func (r *run) touch(path string, fi os.FileInfo, wrote bool) {
	if !fi.Mode().IsRegular() || !r.o.IsDump(path) {
		return
	}
	delete(r.removed, path) // back again (Removed would find it there anyway)
	now := r.now()
	st := state{fi.Size(), fi.ModTime()}
	p := r.pending[path]
	if p == nil {
		if h, ok := r.handed[path]; ok && h == st && !wrote {
			return // a chmod, or a rescan, of a file already handed
		}
		r.pending[path] = &pending{last: st, since: now, lastEvent: now}
		return
	}
	p.lastEvent = now
	if wrote || p.last != st {
		p.last, p.since = st, now
	}
}

// gone handles a path removed or renamed away.
func (r *run) gone(path string) {
	delete(r.pending, path)
	if _, ok := r.handed[path]; ok && r.o.Removed != nil {
		r.removed[path] = r.now()
	}
	delete(r.handed, path)
	if _, ok := r.watched[path]; !ok {
		return
	}
	prefix := path + string(filepath.Separator)
	for d := range r.watched {
		if d == path || strings.HasPrefix(d, prefix) {
			delete(r.watched, d)
			_ = r.fw.Remove(d) // usually gone with the folder already
		}
	}
	for _, rt := range r.roots {
		if rt.dir == path || strings.HasPrefix(rt.dir, prefix) {
			if rt.active {
				r.o.Logf("watch: %s is gone; waiting for it to come back", rt.dir)
			}
			rt.active = false
		}
	}
}

// checkPending hands the files that are complete.
func (r *run) checkPending() {
	now := r.now()
	for path, p := range r.pending {
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			delete(r.pending, path)
			continue
		}
		st := state{fi.Size(), fi.ModTime()}
		if st != p.last {
			p.last, p.since = st, now
			continue
		}
		if now.Sub(p.since) < r.o.Stable || now.Sub(p.lastEvent) < r.o.Debounce {
			continue
		}
		delete(r.pending, path)
		if h, ok := r.handed[path]; ok && h == st {
			continue
		}
		r.handed[path] = st
		r.queue = append(r.queue, job{path: path})
	}
	// Removals wait until no file is pending, so that a file moved within
	// the folders is indexed under its new name before its old name is
	// forgotten (the index keeps the dump, and the user's notes on it).
	if len(r.pending) > 0 {
		return
	}
	for path, at := range r.removed {
		if now.Sub(at) >= r.o.Stable+r.o.Debounce {
			delete(r.removed, path)
			r.queue = append(r.queue, job{path: path, removed: true})
		}
	}
}

// checkRoots (re)watches the Dirs entries that are missing, unwatched or
// replaced by another folder of the same name.
func (r *run) checkRoots() {
	var list map[string]bool
	for _, rt := range r.roots {
		fi, err := os.Stat(rt.dir)
		if err != nil || !fi.IsDir() {
			if rt.active {
				r.gone(rt.dir)
			}
			continue
		}
		if rt.active {
			if list == nil {
				list = map[string]bool{}
				for _, d := range r.fw.WatchList() {
					list[filepath.Clean(d)] = true
				}
			}
			if list[rt.dir] && os.SameFile(fi, rt.info) {
				continue
			}
			r.gone(rt.dir)
		}
		rt.info = fi
		rt.active = true
		r.addTree(rt, rt.dir)
	}
}

// addTree watches dir (with its subfolders unless rt watches one file)
// and takes note of the files it holds.
func (r *run) addTree(rt *root, dir string) {
	add := func(d string) bool {
		if err := r.fw.Add(d); err != nil {
			r.o.Logf("watch: %s: %v", d, err)
			return false
		}
		r.watched[d] = rt
		return true
	}
	if rt.only != "" {
		if !add(dir) {
			rt.active = false
			return
		}
		p := filepath.Join(dir, rt.only)
		if fi, err := os.Lstat(p); err == nil {
			r.touch(p, fi, false)
		}
		return
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if d.IsDir() {
			if !add(p) {
				if p == dir {
					return errors.New("not watched")
				}
				return filepath.SkipDir
			}
			return nil
		}
		if fi, err := d.Info(); err == nil {
			r.touch(p, fi, false)
		}
		return nil
	})
	if err != nil && dir == rt.dir {
		rt.active = false
	}
}

// DefaultDirs returns the folders where this system writes crash dumps,
// those that exist: %SystemRoot%\Minidump, %SystemRoot%\MEMORY.DMP (the
// file alone) and %LOCALAPPDATA%\CrashDumps on Windows; /var/crash and
// /var/lib/systemd/coredump on Linux.
func DefaultDirs() []string {
	return defaultDirs(runtime.GOOS, os.Getenv)
}

func defaultDirs(goos string, getenv func(string) string) []string {
	var out []string
	isDir := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.IsDir()
	}
	switch goos {
	case "windows":
		if sr := getenv("SystemRoot"); sr != "" {
			if d := filepath.Join(sr, "Minidump"); isDir(d) {
				out = append(out, d)
			}
			if isDir(sr) {
				out = append(out, filepath.Join(sr, "MEMORY.DMP"))
			}
		}
		if la := getenv("LOCALAPPDATA"); la != "" {
			if d := filepath.Join(la, "CrashDumps"); isDir(d) {
				out = append(out, d)
			}
		}
	case "linux":
		for _, d := range []string{"/var/crash", "/var/lib/systemd/coredump"} {
			if isDir(d) {
				out = append(out, d)
			}
		}
	}
	return out
}
