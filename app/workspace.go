package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/crashbench/crashbench/workspace"
	"github.com/crashbench/crashbench/workspace/watch"
)

// Workspace is the workbench's view of the SQLite index: every dump the
// user opens is indexed in the background, so the summary can say whether
// this crash was seen before; the sidebar lists the buckets and the
// watched folders, which are watched while the workbench runs.
//
// The index opens in the background; until then, and for good when it
// cannot (no cgo, a locked or damaged file), Err says why and the rest of
// the workbench works without it. Methods may be called from any
// goroutine.
type Workspace struct {
	onChange func()

	ctx    context.Context
	cancel context.CancelFunc
	tasks  *Tasks
	path   string
	wg     sync.WaitGroup // the background work, which Close waits for

	mu      sync.Mutex
	db      *workspace.DB
	err     error
	ready   chan struct{} // closed once the open finished, well or not
	buckets []workspace.Bucket
	folders []FolderStatus
	watch   context.CancelFunc // stops the folder watcher
	closed  bool               // Close was called: spawn no more
}

// FolderStatus is one watched folder and what the watcher makes of it.
type FolderStatus struct {
	Path    string
	Status  string // "watching", "missing", or an error
	Indexed int    // dumps indexed from it since the workbench started
}

// OpenWorkspace starts opening the index at path ("" for the default,
// workspace.DefaultPath) and watching its folders; ctx ends both.
// onChange, when set, is called on the UI thread after the index opened
// or failed to, and after the buckets or the folders changed.
func OpenWorkspace(ctx context.Context, path string, tasks *Tasks, onChange func()) *Workspace {
	w := newWorkspace(ctx, path, tasks, onChange)
	w.start()
	return w
}

// newWorkspace returns a workspace that start opens, for callers that
// must finish setting up what onChange touches first.
func newWorkspace(ctx context.Context, path string, tasks *Tasks, onChange func()) *Workspace {
	w := &Workspace{tasks: tasks, path: path, ready: make(chan struct{}), onChange: onChange}
	w.ctx, w.cancel = context.WithCancel(ctx)
	return w
}

func (w *Workspace) start() { w.spawn(w.open) }

// spawn runs f in the background, counted for Close.
func (w *Workspace) spawn(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		f()
	}()
}

// Close stops indexing and watching, waits for them, and closes the
// index. Call it once, not on a goroutine that onChange could block.
func (w *Workspace) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
	if db := w.database(); db != nil {
		db.Close()
	}
}

func (w *Workspace) open() {
	path := w.path
	var err error
	if path == "" {
		path, err = workspace.DefaultPath()
	}
	var db *workspace.DB
	if err == nil {
		db, err = workspace.Open(path)
	}
	w.mu.Lock()
	w.db, w.err, w.path = db, err, path
	w.mu.Unlock()
	close(w.ready)
	if err != nil {
		w.changed()
		return
	}
	w.reload()
	w.restartWatch()
}

// Wait blocks until the index has opened or failed to; tests use it.
func (w *Workspace) Wait() { <-w.ready }

// Err returns why the index is unavailable, or nil.
func (w *Workspace) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Path returns the index file.
func (w *Workspace) Path() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.path
}

// database returns the open index, or nil.
func (w *Workspace) database() *workspace.DB {
	<-w.ready
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.db
}

// Index adds the dump at path to the index in the background, as a task
// in the status bar, then reloads the buckets; done, when set, is called
// (off the UI thread) once it has finished.
func (w *Workspace) Index(path string, done func()) {
	w.spawn(func() {
		if done != nil {
			defer done()
		}
		db := w.database()
		if db == nil {
			return
		}
		ctx, t := w.tasks.Start(w.ctx, "Indexing "+filepath.Base(path))
		defer t.Finish()
		if _, err := db.Index(ctx, []string{path}, workspace.IndexOptions{Workers: 1}); err != nil {
			return
		}
		w.reload()
	})
}

// reload reads the buckets and the watched folders again.
func (w *Workspace) reload() {
	db := w.database()
	if db == nil {
		return
	}
	bs, err := db.Buckets(w.ctx)
	folders, ferr := db.WatchedFolders(w.ctx)
	w.mu.Lock()
	if err == nil {
		w.buckets = bs
	}
	if ferr == nil {
		w.folders = mergeFolders(w.folders, folders)
	}
	w.mu.Unlock()
	w.changed()
}

// mergeFolders keeps the watcher's status of folders still listed.
func mergeFolders(old []FolderStatus, paths []string) []FolderStatus {
	out := make([]FolderStatus, len(paths))
	for i, p := range paths {
		out[i] = FolderStatus{Path: p, Status: folderState(p)}
		if j := slices.IndexFunc(old, func(f FolderStatus) bool { return f.Path == p }); j >= 0 {
			out[i].Indexed = old[j].Indexed
		}
	}
	return out
}

// folderState says whether a watched folder is there to watch.
func folderState(p string) string {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "missing"
	case err != nil:
		return err.Error()
	case !fi.IsDir():
		return "not a folder"
	}
	return "watching"
}

func (w *Workspace) changed() {
	if f := w.onChange; f != nil {
		onUI(f)
	}
}

// Buckets returns the buckets, largest first as the index orders them.
func (w *Workspace) Buckets() []workspace.Bucket {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.buckets)
}

// Folders returns the watched folders and their status.
func (w *Workspace) Folders() []FolderStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.folders)
}

// SeenIn returns the bucket holding the dump at path, once indexed.
func (w *Workspace) SeenIn(ctx context.Context, path string) (workspace.Bucket, bool) {
	db := w.database()
	if db == nil {
		return workspace.Bucket{}, false
	}
	id, ok, err := db.DumpOfFile(ctx, path)
	if err != nil || !ok {
		return workspace.Bucket{}, false
	}
	return w.bucketOf(id)
}

// bucketOf returns the bucket holding dump id, as last loaded.
func (w *Workspace) bucketOf(id int64) (workspace.Bucket, bool) {
	for _, b := range w.Buckets() {
		if slices.Contains(b.DumpIDs, id) {
			return b, true
		}
	}
	return workspace.Bucket{}, false
}

// SeenText is the summary's recurrence line for a bucket: how often the
// crash was seen and since when.
func SeenText(b workspace.Bucket) string {
	text := "First time this crash is seen in the workspace"
	if b.Count > 1 {
		text = fmt.Sprintf("Seen %d times since %s (last %s)", b.Count, b.FirstSeen.Local().Format("2006-01-02"),
			b.LastSeen.Local().Format("2006-01-02 15:04"))
	}
	if n := len(b.Notes); n > 0 {
		// The latest note on the bucket: what the team knows of this crash.
		text += " — " + b.Notes[n-1].Text
	}
	return text
}

// Timeline returns crashes per day and bucket.
func (w *Workspace) Timeline(ctx context.Context) ([]workspace.TimelinePoint, error) {
	db := w.database()
	if db == nil {
		return nil, w.Err()
	}
	return db.Timeline(ctx, time.Time{}, time.Time{})
}

// Correlations returns the modules over-represented in a bucket.
func (w *Workspace) Correlations(ctx context.Context, key string) ([]workspace.Correlation, error) {
	db := w.database()
	if db == nil {
		return nil, w.Err()
	}
	return db.Correlations(ctx, key)
}

// DumpAnnotations is what the index says of one dump beyond its analysis.
type DumpAnnotations struct {
	Bucket   workspace.Bucket // its bucket, when InBucket
	InBucket bool             // false for a dump that records no crash
	Moved    bool             // the user moved it there
	Buckets  []string         // every bucket, largest first
	Tags     []string
	Notes    []workspace.Note
}

// Annotations returns what the index says of the dump at path beyond
// its analysis: its bucket (moved there by the user or not), the buckets
// it could move to, its tags and notes; ok is false while it is not in
// the index.
func (w *Workspace) Annotations(ctx context.Context, path string) (a DumpAnnotations, ok bool) {
	db := w.database()
	if db == nil {
		return a, false
	}
	id, ok, err := db.DumpOfFile(ctx, path)
	if err != nil || !ok {
		return a, false
	}
	if a.Tags, err = db.Tags(ctx, id); err != nil {
		return a, false
	}
	if a.Notes, err = db.Notes(ctx, id); err != nil {
		return a, false
	}
	for _, b := range w.Buckets() {
		a.Buckets = append(a.Buckets, b.Key)
	}
	a.Bucket, a.InBucket = w.bucketOf(id)
	if _, moved, err := db.MovedTo(ctx, id); err == nil {
		a.Moved = moved
	}
	return a, true
}

// Annotate changes, in the background, what the index says of the dump at
// path (change is given its id: a note, a tag, a move), reloads the
// buckets when regroup says the change moved the dump, then calls done on
// the UI thread with the refusal or nil.
func (w *Workspace) Annotate(path string, change func(ctx context.Context, db *workspace.DB, id int64) error, regroup bool, done func(error)) {
	w.spawn(func() {
		db := w.database()
		if db == nil {
			return
		}
		id, ok, err := db.DumpOfFile(w.ctx, path)
		if err == nil && !ok {
			err = fmt.Errorf("%s is not in the workspace index", filepath.Base(path))
		}
		if err == nil {
			err = change(w.ctx, db, id)
		}
		if err == nil && regroup {
			w.reload()
		}
		onUI(func() { done(err) })
	})
}

// Prune forgets, in the background, the indexed dumps whose files were
// deleted (workspace.DB.Prune), reloads the buckets, and calls done on
// the UI thread.
func (w *Workspace) Prune(done func(workspace.PruneResult, error)) {
	w.spawn(func() {
		db := w.database()
		if db == nil {
			err := w.Err()
			if err == nil {
				err = errors.New("the workspace index is not open")
			}
			onUI(func() { done(workspace.PruneResult{}, err) })
			return
		}
		res, err := db.Prune(w.ctx)
		if err == nil && res.Files > 0 {
			w.reload()
		}
		onUI(func() { done(res, err) })
	})
}

// Regroup changes the user's grouping in the background (change is a
// workspace.DB method, such as a merge), then reloads the buckets; a
// refusal goes to fail, on the UI thread.
func (w *Workspace) Regroup(change func(context.Context, *workspace.DB) error, fail func(error)) {
	w.spawn(func() {
		db := w.database()
		if db == nil {
			return
		}
		if err := change(w.ctx, db); err != nil {
			if fail != nil {
				onUI(func() { fail(err) })
			}
			return
		}
		w.reload()
	})
}

// AddFolder records dir as watched, indexes what it holds already, and
// restarts the watcher with it.
func (w *Workspace) AddFolder(dir string) {
	w.spawn(func() {
		db := w.database()
		if db == nil {
			return
		}
		if err := db.AddWatchedFolder(w.ctx, dir); err != nil {
			return
		}
		w.reload()
		w.restartWatch()
		ctx, t := w.tasks.Start(w.ctx, "Indexing "+filepath.Base(dir))
		defer t.Finish()
		_, err := db.Index(ctx, []string{dir}, workspace.IndexOptions{Progress: func(done, total int, _ string) {
			t.Progress("", int64(done), int64(total))
		}})
		if err == nil {
			w.reload()
		}
	})
}

// RemoveFolder stops watching dir; its dumps stay indexed.
func (w *Workspace) RemoveFolder(dir string) {
	w.spawn(func() {
		db := w.database()
		if db == nil || db.RemoveWatchedFolder(w.ctx, dir) != nil {
			return
		}
		w.reload()
		w.restartWatch()
	})
}

// restartWatch (re)starts the watcher over the watched folders.
func (w *Workspace) restartWatch() {
	db := w.database()
	if db == nil {
		return
	}
	dirs, err := db.WatchedFolders(w.ctx)
	w.mu.Lock()
	if w.watch != nil {
		w.watch()
		w.watch = nil
	}
	if err != nil || len(dirs) == 0 {
		w.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.watch = cancel
	w.mu.Unlock()
	wt, err := watch.New(watch.Options{Dirs: dirs, Index: func(ctx context.Context, path string) error {
		res, err := db.Index(ctx, []string{path}, workspace.IndexOptions{Workers: 1})
		if res.Added > 0 {
			w.countIndexed(path)
			w.reload()
		}
		return err
	}, Removed: func(ctx context.Context, path string) error {
		files, _, err := db.Forget(ctx, path)
		if files > 0 {
			w.reload()
		}
		return err
	}})
	if err != nil {
		cancel()
		return
	}
	w.spawn(func() { wt.Run(ctx) })
}

// countIndexed credits a newly indexed file to its watched folder.
func (w *Workspace) countIndexed(path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, f := range w.folders {
		if rel, err := filepath.Rel(f.Path, path); err == nil && filepath.IsLocal(rel) {
			w.folders[i].Indexed++
		}
	}
}
