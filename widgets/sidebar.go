package widgets

import (
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// SidebarBucket is a bucket as the sidebar lists it.
type SidebarBucket struct {
	Key   string
	Count int
}

// SidebarFolder is a watched folder and what the watcher makes of it.
type SidebarFolder struct {
	Path    string
	Status  string // "watching", "missing", ...
	Indexed int    // dumps indexed from it since start
}

// WorkspacePanel is the lower part of the sidebar: the workspace's
// buckets with their counts, and the watched folders with their status.
type WorkspacePanel struct {
	widget.BaseWidget
	// OnBucket is called with a bucket's key when the user taps it.
	OnBucket func(key string)
	// OnAddFolder is called when the user asks to watch another folder.
	OnAddFolder func()
	// OnRemoveFolder is called with the selected folder's path.
	OnRemoveFolder func(path string)

	buckets    []SidebarBucket
	folders    []SidebarFolder
	folderSel  int
	bucketList *widget.List
	folderList *widget.List
	status     *widget.Label
	remove     *widget.Button
	accordion  *widget.Accordion
}

// NewWorkspacePanel returns an empty panel.
func NewWorkspacePanel() *WorkspacePanel {
	p := &WorkspacePanel{folderSel: -1, status: widget.NewLabel("")}
	p.status.Importance = widget.LowImportance
	p.status.Wrapping = fyne.TextWrapWord
	p.bucketList = widget.NewList(
		func() int { return len(p.buckets) },
		func() fyne.CanvasObject {
			n := widget.NewLabel("0000")
			n.TextStyle.Monospace = true
			k := widget.NewLabel("")
			k.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, n, nil, k)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := o.(*fyne.Container)
			k, n := c.Objects[0].(*widget.Label), c.Objects[1].(*widget.Label)
			if i < len(p.buckets) {
				n.SetText(fmt.Sprintf("%4d", p.buckets[i].Count))
				k.SetText(p.buckets[i].Key)
			}
		})
	p.bucketList.OnSelected = func(i widget.ListItemID) {
		if i < len(p.buckets) && p.OnBucket != nil {
			p.OnBucket(p.buckets[i].Key)
		}
		p.bucketList.UnselectAll() // a tap is an action, not a state
	}
	p.folderList = widget.NewList(
		func() int { return len(p.folders) },
		func() fyne.CanvasObject {
			name := widget.NewLabel("")
			name.Truncation = fyne.TextTruncateEllipsis
			st := widget.NewLabel("")
			st.Importance = widget.LowImportance
			return container.NewBorder(nil, nil, nil, st, name)
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			c := o.(*fyne.Container)
			name, st := c.Objects[0].(*widget.Label), c.Objects[1].(*widget.Label)
			if i >= len(p.folders) {
				return
			}
			f := p.folders[i]
			name.SetText(filepath.Base(f.Path))
			s := f.Status
			if f.Indexed > 0 {
				s += fmt.Sprintf(" · %d new", f.Indexed)
			}
			st.SetText(s)
			st.Importance = widget.LowImportance
			if f.Status != "watching" {
				st.Importance = widget.WarningImportance
			}
			st.Refresh()
		})
	p.folderList.OnSelected = func(i widget.ListItemID) { p.folderSel = i; p.remove.Enable() }
	p.folderList.OnUnselected = func(widget.ListItemID) { p.folderSel = -1; p.remove.Disable() }
	add := widget.NewButtonWithIcon("", theme.ContentAddIcon(), func() {
		if p.OnAddFolder != nil {
			p.OnAddFolder()
		}
	})
	p.remove = widget.NewButtonWithIcon("", theme.ContentRemoveIcon(), func() {
		if p.folderSel >= 0 && p.folderSel < len(p.folders) && p.OnRemoveFolder != nil {
			p.OnRemoveFolder(p.folders[p.folderSel].Path)
		}
	})
	p.remove.Disable()
	folders := container.NewBorder(nil, container.NewHBox(add, p.remove), nil, nil,
		container.New(&fixedHeight{h: 110}, p.folderList))
	p.accordion = widget.NewAccordion(
		widget.NewAccordionItem("Buckets", container.New(&fixedHeight{h: 190}, p.bucketList)),
		widget.NewAccordionItem("Watched folders", folders))
	p.accordion.MultiOpen = true
	p.accordion.OpenAll()
	p.ExtendBaseWidget(p)
	return p
}

// CreateRenderer implements fyne.Widget.
func (p *WorkspacePanel) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewVScroll(container.NewVBox(p.accordion, p.status)))
}

// SetBuckets lists the buckets, largest first.
func (p *WorkspacePanel) SetBuckets(bs []SidebarBucket) {
	p.buckets = bs
	total := 0
	for _, b := range bs {
		total += b.Count
	}
	p.accordion.Items[0].Title = fmt.Sprintf("Buckets (%d, %s)", len(bs), Count(total, "crash", "crashes"))
	p.accordion.Refresh()
	p.bucketList.Refresh()
}

// SetFolders lists the watched folders.
func (p *WorkspacePanel) SetFolders(fs []SidebarFolder) {
	p.folders = fs
	p.folderSel = -1
	p.folderList.UnselectAll()
	p.remove.Disable()
	p.accordion.Items[1].Title = fmt.Sprintf("Watched folders (%d)", len(fs))
	p.accordion.Refresh()
	p.folderList.Refresh()
}

// SetStatus shows a line about the index (where it is, or why it is
// unavailable).
func (p *WorkspacePanel) SetStatus(s string) { p.status.SetText(s) }

// Buckets returns the buckets listed.
func (p *WorkspacePanel) Buckets() []SidebarBucket { return p.buckets }

// Folders returns the folders listed.
func (p *WorkspacePanel) Folders() []SidebarFolder { return p.folders }
