package app

import (
	"context"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"

	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
	"github.com/crashbench/crashbench/workspace"
)

// workspaceChanged runs on the UI thread after the index changed: the
// sidebar, the buckets tab and the selected dump's recurrence line follow.
func (m *mainWindow) workspaceChanged() {
	m.uiMu.Lock()
	defer m.uiMu.Unlock()
	if err := m.ws.Err(); err != nil {
		m.wsPanel.SetStatus("Workspace index unavailable: " + shortError(err))
		m.updateStatus()
		return
	}
	bs := m.ws.Buckets()
	side := make([]widgets.SidebarBucket, len(bs))
	for i, b := range bs {
		side[i] = widgets.SidebarBucket{Key: b.Key, Count: b.Count}
	}
	m.wsPanel.SetBuckets(side)
	fs := m.ws.Folders()
	folders := make([]widgets.SidebarFolder, len(fs))
	for i, f := range fs {
		folders[i] = widgets.SidebarFolder{Path: f.Path, Status: f.Status, Indexed: f.Indexed}
	}
	m.wsPanel.SetFolders(folders)
	m.wsPanel.SetStatus("") // the status bar names the index
	m.buckets.reload()
	m.updateStatus()
	if i := m.list.Selected(); i >= 0 && m.dumps.Status(i) == widgets.StatusOK {
		m.showSeen(m.dumps.Path(i))
	}
}

// showSeen looks up, off the UI thread, what the index says of the dump
// at path: how often its crash was seen (with a link to the bucket), its
// bucket, tags and notes.
func (m *mainWindow) showSeen(path string) {
	m.seenPath = path
	go func() {
		d, ok := m.ws.Annotations(m.ctx, path)
		if !ok {
			return
		}
		a := widgets.Annotations{Moved: d.Moved, Buckets: d.Buckets, Tags: d.Tags}
		if d.InBucket {
			a.Bucket = d.Bucket.Key
		}
		for _, n := range d.Notes {
			a.Notes = append(a.Notes, widgets.NoteRow{When: n.Created, Text: n.Text})
		}
		onUI(func() {
			m.uiMu.Lock()
			defer m.uiMu.Unlock()
			if m.seenPath != path {
				return // another dump is shown by now
			}
			if b := d.Bucket; d.InBucket {
				link := ""
				if b.Count > 1 {
					link = "Show the bucket"
				}
				m.summary.SetSeen(SeenText(b), link, func() { m.showBucket(b.Key) })
			}
			m.summary.SetAnnotations(a)
		})
	}()
}

// annotate applies a note, tag or bucket change to the dump shown, then
// shows its annotations again (or why the change was refused); a bucket
// change (regroup) reloads the buckets too.
func (m *mainWindow) annotate(change func(ctx context.Context, db *workspace.DB, id int64) error, regroup bool) {
	path := m.seenPath
	if path == "" {
		return
	}
	m.ws.Annotate(path, change, regroup, func(err error) {
		if err != nil {
			dialog.ShowError(err, m.win)
			return
		}
		if !regroup { // a reload shows them again through workspaceChanged
			m.showSeen(path)
		}
	})
}

// pruneIndex is Tools › Forget Deleted Dumps: the index forgets the dumps
// whose files were deleted (crashbench prune), then says what it did.
func (m *mainWindow) pruneIndex() {
	m.ws.Prune(func(res workspace.PruneResult, err error) {
		if err != nil {
			dialog.ShowError(err, m.win)
			return
		}
		dialog.ShowInformation("Forget Deleted Dumps", PruneText(res), m.win)
	})
}

// PruneText says what a prune did, for the workbench's message.
func PruneText(res workspace.PruneResult) string {
	text := "Forgot " + res.Forgot() + "."
	if why := res.KeptWhy(); why != "" {
		text += "\nKept " + why
	}
	return text
}

// showBucket brings the buckets tab forward with key selected.
func (m *mainWindow) showBucket(key string) {
	m.buckets.view.Select(key)
	m.tabs.Select(m.wsItems[0])
}

// addFolder asks for a folder to watch.
func (m *mainWindow) addFolder() {
	add := func(dir string) {
		if dir != "" {
			m.ws.AddFolder(dir)
		}
	}
	if m.picker != nil {
		picker := m.picker
		go func() {
			dir, err := picker.OpenFolder("Watch a Crash Folder")
			onUI(func() {
				if err != nil {
					dialog.ShowError(err, m.win)
					return
				}
				add(dir)
			})
		}()
		return
	}
	dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
		if err == nil && u != nil {
			add(u.Path())
		}
	}, m.win)
}

// updateStatus sets the status bar's line: the open dumps and the index.
func (m *mainWindow) updateStatus() {
	n := m.dumps.Len()
	s := widgets.Count(n, "dump", "dumps") + " open"
	switch {
	case m.ws.Err() != nil:
		s += " · no workspace index"
	default:
		if bs := m.ws.Buckets(); len(bs) > 0 {
			total := 0
			for _, b := range bs {
				total += b.Count
			}
			s += " · " + widgets.Count(total, "crash", "crashes") + " in " + widgets.Count(len(bs), "bucket", "buckets") + " indexed"
		}
		if p := m.ws.Path(); p != "" {
			s += " · " + filepath.Base(p)
		}
	}
	m.taskBar.SetStatus(s)
}

// updateCompare offers the loaded dumps to the compare view.
func (m *mainWindow) updateCompare() {
	var titles []string
	var sessions []*session.Session
	for i := range m.dumps.Len() {
		if s := m.dumps.Session(i); s != nil {
			titles = append(titles, m.dumps.Title(i))
			sessions = append(sessions, s)
		}
	}
	m.compare.setDumps(titles, sessions)
}
