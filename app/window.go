package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/storage"

	"github.com/crashbench/crashbench/app/wizard"
	"github.com/crashbench/crashbench/assets"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/platform"
	"github.com/crashbench/crashbench/platform/crashcfg"
	"github.com/crashbench/crashbench/widgets"
	"github.com/crashbench/crashbench/workspace"
)

// Title is the main window's title.
const Title = "Crashbench"

// Run builds the main window, starts opening files (the dumps named on the
// command line, which is what a double-click passes) and returns the window
// for the caller to show: main.go calls w.ShowAndRun(). Files that later
// launches hand over (a double-click while the workbench runs) arrive on
// incoming, which may be nil.
func Run(a fyne.App, files []string, incoming <-chan []string) fyne.Window {
	picker, err := platform.NativePicker()
	if err != nil {
		picker = nil // Fyne's own dialog instead
	}
	m := newMainWindow(a, files, picker)
	if incoming != nil {
		go m.receive(incoming)
	}
	return m.win
}

// receive opens the files other launches hand over and brings the window
// forward, so a double-click lands in the workbench the user already has.
func (m *mainWindow) receive(incoming <-chan []string) {
	for files := range incoming {
		onUIWait(func() {
			m.open(files...)
			m.win.RequestFocus()
		})
	}
}

// mainWindow ties the Dumps view-model to the list and summary views and
// to the menus, the dialogs and drag and drop.
type mainWindow struct {
	app     fyne.App
	win     fyne.Window
	dumps   *Dumps
	list    *widgets.DumpList
	summary *widgets.Summary
	// tabs hold the summary and the selected dump's other tabs; perDump
	// keeps each open dump's tabs (built on first show) by session.
	tabs    *container.AppTabs
	perDump map[*session.Session]*dumpTabs
	// wantTab is the tab the user last chose: showing another dump
	// selects it again when that dump has it.
	wantTab     string
	settingTabs bool
	picker      platform.FilePicker // nil: use Fyne's file dialog
	closeMI     *fyne.MenuItem
	recentMI    *fyne.MenuItem  // File › Open Recent
	exportMI    *fyne.MenuItem  // File › Export Minimal Copy…
	state       *workbenchState // open dumps and recent files, kept between runs
	secretsMI   *fyne.MenuItem  // Tools › Scan for Secrets…

	// The workspace: the index, the sidebar's buckets and folders, the
	// buckets and compare tabs, and the status bar's background tasks.
	ctx      context.Context
	cancel   context.CancelFunc
	tasks    *Tasks
	taskBar  *widgets.TaskBar
	ws       *Workspace
	wsPanel  *widgets.WorkspacePanel
	buckets  *bucketsTab
	compare  *compareTab
	wsItems  []*container.TabItem // Buckets and Compare, always last
	seenPath string               // the dump whose recurrence line is shown

	// uiMu serialises everything that touches the views. On a real driver
	// all of it runs on the main thread and the lock is never contended;
	// Fyne's test driver runs fyne.Do callbacks on the goroutine that calls
	// fyne.Do, concurrently with the test.
	uiMu sync.Mutex
	// picking is set while an open dialog is up, so that a second Ctrl+O
	// does not stack a second dialog.
	picking bool
}

func newMainWindow(a fyne.App, files []string, picker platform.FilePicker) *mainWindow {
	a.SetIcon(assets.Icon)
	m := &mainWindow{app: a, win: a.NewWindow(Title), picker: picker, state: loadState(a.Preferences())}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.tasks = &Tasks{}
	m.taskBar = widgets.NewTaskBar()
	m.taskBar.OnCancel = m.tasks.Cancel
	m.tasks.OnChange = m.taskBar.SetTasks
	m.dumps = NewDumps(m.ctx)
	m.dumps.Tasks = m.tasks
	m.dumps.OnLoaded = m.loaded
	m.loadSettings()
	m.list = widgets.NewDumpList(m.dumps)
	m.list.OnSelected = m.selected
	m.summary = widgets.NewSummary()
	m.summary.OnAddNote = func(text string) {
		m.annotate(func(ctx context.Context, db *workspace.DB, id int64) error {
			_, err := db.AddNote(ctx, id, text)
			return err
		}, false)
	}
	m.summary.OnTag = func(tag string, add bool) {
		m.annotate(func(ctx context.Context, db *workspace.DB, id int64) error {
			if add {
				return db.Tag(ctx, id, tag)
			}
			return db.Untag(ctx, id, tag)
		}, false)
	}
	m.summary.OnMove = func(into string) {
		m.annotate(func(ctx context.Context, db *workspace.DB, id int64) error {
			if into == "" {
				_, err := db.Unsplit(ctx, id)
				return err
			}
			return db.SplitDump(ctx, id, into)
		}, true)
	}
	m.summary.ShowPlaceholder(placeholderHint())

	m.perDump = map[*session.Session]*dumpTabs{}
	m.wsPanel = widgets.NewWorkspacePanel()
	m.wsPanel.SetStatus("Opening the workspace index…")
	m.wsPanel.OnBucket = m.showBucket
	m.wsPanel.OnAddFolder = m.addFolder
	m.wsPanel.OnRemoveFolder = m.ws.RemoveFolder
	// The index opens in the background once the window is built (below),
	// since workspaceChanged updates the window.
	m.ws = newWorkspace(m.ctx, "", m.tasks, m.workspaceChanged)
	m.buckets = newBucketsTab(m.ctx, m.ws, func(paths []string) { m.open(paths...) })
	m.buckets.reload()
	m.compare = newCompareTab()
	m.wsItems = []*container.TabItem{
		container.NewTabItem("Buckets", m.buckets.view),
		container.NewTabItem("Compare", m.compare.view),
	}
	m.tabs = container.NewAppTabs(append([]*container.TabItem{container.NewTabItem("Summary", m.summary)}, m.wsItems...)...)
	m.tabs.OnSelected = func(it *container.TabItem) {
		if !m.settingTabs {
			m.wantTab = it.Text
		}
		if it == m.wsItems[1] {
			m.compare.shown()
		}
	}
	side := container.NewVSplit(m.list, m.wsPanel)
	side.Offset = 0.45
	split := container.NewHSplit(side, m.tabs)
	split.Offset = 0.2
	m.win.SetContent(container.NewBorder(nil, m.taskBar, nil, nil, split))
	m.updateStatus()
	m.win.SetIcon(assets.Icon)
	m.win.SetMainMenu(m.menu())
	m.win.SetMaster()
	m.win.Resize(fyne.NewSize(1440, 900))
	m.win.SetOnDropped(m.dropped)
	m.win.SetOnClosed(func() {
		m.state.saveOpen(m.dumps)
		for _, t := range m.perDump {
			t.close()
		}
		m.dumps.CloseAll()
		m.cancel()
		m.ws.Close() // stops indexing and the folder watcher, closes the index
	})
	m.ws.start()
	if len(files) == 0 {
		// `crashbench` alone reopens the last workspace: the dumps that
		// were open when the workbench last closed, where they still are.
		files = m.state.lastOpen()
	}
	m.open(files...)
	return m
}

// Shortcuts. WinDbg opens a crash dump with Ctrl+D; Ctrl+O is what every
// other program uses. KeyModifierShortcutDefault is Ctrl, or Cmd on macOS.
var (
	openShortcut     = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	openDumpShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierShortcutDefault}
	closeShortcut    = &desktop.CustomShortcut{KeyName: fyne.KeyW, Modifier: fyne.KeyModifierShortcutDefault}
	quitShortcut     = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	settingsShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}
)

func (m *mainWindow) menu() *fyne.MainMenu {
	open := fyne.NewMenuItem("Open…", m.showOpen)
	open.Shortcut = openShortcut
	openDump := fyne.NewMenuItem("Open Crash Dump…", m.showOpen)
	openDump.Shortcut = openDumpShortcut
	m.recentMI = fyne.NewMenuItem("Open Recent", nil)
	m.recentMI.ChildMenu = m.recentMenu()
	settings := fyne.NewMenuItem("Settings…", m.showSettings)
	settings.Shortcut = settingsShortcut
	m.exportMI = fyne.NewMenuItem("Export Minimal Copy…", m.exportSelected)
	m.exportMI.Disabled = true
	m.closeMI = fyne.NewMenuItem("Close Dump", m.closeSelected)
	m.closeMI.Shortcut = closeShortcut
	m.closeMI.Disabled = true
	// A nil Action on an IsQuit item lets Fyne close every window the way
	// the window manager would, so SetOnClosed still runs.
	quit := fyne.NewMenuItem("Quit", nil)
	quit.IsQuit = true
	quit.Shortcut = quitShortcut

	// Fyne shows menu shortcuts but registers them only with macOS's
	// native menu; elsewhere the canvas must be told.
	c := m.win.Canvas()
	c.AddShortcut(openShortcut, func(fyne.Shortcut) { m.showOpen() })
	c.AddShortcut(openDumpShortcut, func(fyne.Shortcut) { m.showOpen() })
	c.AddShortcut(closeShortcut, func(fyne.Shortcut) { m.closeSelected() })
	c.AddShortcut(settingsShortcut, func(fyne.Shortcut) { m.showSettings() })
	c.AddShortcut(quitShortcut, func(fyne.Shortcut) { m.win.Close() })

	setup := fyne.NewMenuItem("Set Up Crash Dumps…", func() {
		wizard.Show(m.app, func() (crashcfg.Config, crashcfg.Machine, error) { return crashcfg.ReadThis("/") })
	})
	m.secretsMI = fyne.NewMenuItem("Scan for Secrets…", m.scanSelected)
	m.secretsMI.Disabled = true
	prune := fyne.NewMenuItem("Forget Deleted Dumps", m.pruneIndex)
	return fyne.NewMainMenu(
		fyne.NewMenu("File", open, openDump, m.recentMI, fyne.NewMenuItemSeparator(), m.exportMI, m.closeMI,
			fyne.NewMenuItemSeparator(), settings, fyne.NewMenuItemSeparator(), quit),
		fyne.NewMenu("Tools", setup, m.secretsMI, fyne.NewMenuItemSeparator(), prune))
}

// placeholderHint tells a first-time user how to start.
func placeholderHint() string {
	mod := "Ctrl"
	if runtime.GOOS == "darwin" {
		mod = "⌘"
	}
	return fmt.Sprintf("Open a crash dump with File › Open… (%s+O),\nor drop dump files on this window.", mod)
}

// open opens paths and selects the first of them, so that what the user
// just asked for is what the summary shows.
func (m *mainWindow) open(paths ...string) {
	if len(paths) == 0 {
		return
	}
	m.uiMu.Lock()
	defer m.uiMu.Unlock()
	first := m.dumps.Open(paths...)
	var abs []string
	for _, p := range paths {
		if a, err := filepath.Abs(p); err == nil {
			abs = append(abs, a)
		}
	}
	m.state.addRecent(abs...)
	if m.recentMI != nil {
		m.recentMI.ChildMenu = m.recentMenu()
		m.refreshMenu()
	}
	m.list.Refresh()
	m.list.Select(first)
}

// loaded is Dumps.OnLoaded: entry i finished loading.
func (m *mainWindow) loaded(i int) {
	m.uiMu.Lock()
	defer m.uiMu.Unlock()
	m.list.RefreshItem(i)
	if m.list.Selected() == i {
		m.showSummary(i)
	}
	m.updateStatus()
	m.updateCompare()
	if m.dumps.Status(i) == widgets.StatusOK {
		// Index it so that the summary can say whether it was seen before.
		m.ws.Index(m.dumps.Path(i), nil)
	}
}

// selected is the list's OnSelected. It must not take uiMu: when the
// selection comes from open or closeSelected they already hold it, and when
// the user taps a row it runs on the UI thread, where nothing else runs.
func (m *mainWindow) selected(i int) {
	m.showSummary(i)
	m.closeMI.Disabled = false
	m.exportMI.Disabled = false
	m.secretsMI.Disabled = false
	m.refreshMenu()
}

func (m *mainWindow) showSummary(i int) {
	title := m.dumps.Title(i)
	switch m.dumps.Status(i) {
	case widgets.StatusLoading:
		m.summary.ShowLoading(title)
		m.showTabs(nil)
	case widgets.StatusError:
		m.summary.ShowError(title, m.dumps.ErrorLine(i))
		m.showTabs(nil)
	default:
		m.summary.ShowRows(title, m.dumps.Rows(i))
		m.showTabs(m.dumps.Session(i))
		m.showSeen(m.dumps.Path(i))
		reportStartup()
	}
}

// startupReported makes reportStartup write once.
var startupReported bool

// reportStartup writes the wall clock (Unix nanoseconds) into the file
// $CRASHBENCH_STARTUP_REPORT names, the first time a summary is shown:
// scripts/bench-compare.sh measures the time from `crashbench FILE` to the
// summary with it. The summary is on screen at the next frame.
func reportStartup() {
	path := os.Getenv("CRASHBENCH_STARTUP_REPORT")
	if path == "" || startupReported {
		return
	}
	startupReported = true
	os.WriteFile(path, []byte(strconv.FormatInt(time.Now().UnixNano(), 10)), 0o644)
}

// showTabs puts the summary and sess's tabs (nil: the summary alone) in
// the tab bar, and selects the tab the user last chose when it is there.
func (m *mainWindow) showTabs(sess *session.Session) {
	items := []*container.TabItem{m.tabs.Items[0]}
	if sess != nil {
		t, ok := m.perDump[sess]
		if !ok {
			t = newDumpTabs(sess, m.tabs.Select, func(file string, line int) { showSource(m.win, file, line) })
			m.perDump[sess] = t
		}
		items = append(items, t.items...)
	}
	items = append(items, m.wsItems...)
	m.settingTabs = true
	defer func() { m.settingTabs = false }()
	m.tabs.SetItems(items)
	for _, it := range items {
		if it.Text == m.wantTab {
			m.tabs.Select(it)
		}
	}
}

// forgetTabs stops and drops the tabs of a dump about to be closed.
func (m *mainWindow) forgetTabs(sess *session.Session) {
	if t, ok := m.perDump[sess]; ok && sess != nil {
		t.close()
		delete(m.perDump, sess)
	}
}

// closeSelected closes the selected dump and selects its neighbour, as
// closing a tab does.
func (m *mainWindow) closeSelected() {
	m.uiMu.Lock()
	defer m.uiMu.Unlock()
	i := m.list.Selected()
	if i < 0 {
		return
	}
	m.forgetTabs(m.dumps.Session(i))
	m.dumps.Close(i)
	m.list.UnselectAll()
	m.list.Refresh()
	m.updateStatus()
	m.updateCompare()
	if n := m.dumps.Len(); n > 0 {
		m.list.Select(min(i, n-1))
		return
	}
	m.summary.ShowPlaceholder(placeholderHint())
	m.showTabs(nil)
	m.closeMI.Disabled = true
	m.exportMI.Disabled = true
	m.secretsMI.Disabled = true
	m.refreshMenu()
}

func (m *mainWindow) refreshMenu() {
	if mm := m.win.MainMenu(); mm != nil {
		mm.Refresh()
	}
}

// dropped opens the files dropped on the window; folders and non-file URIs
// (a link dragged from a browser) are ignored.
func (m *mainWindow) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() != "file" {
			continue
		}
		if ok, err := storage.CanList(u); err == nil && ok {
			continue
		}
		paths = append(paths, u.Path())
	}
	m.open(paths...)
}

// showOpen asks for dumps with the native dialog, or Fyne's when there is
// none. The native dialog blocks its caller, so it runs in a goroutine.
func (m *mainWindow) showOpen() {
	m.uiMu.Lock()
	defer m.uiMu.Unlock()
	if m.picking {
		return
	}
	m.picking = true
	if m.picker == nil {
		m.showFyneOpen()
		return
	}
	picker := m.picker
	go func() {
		paths, err := picker.OpenFiles("Open Crash Dump")
		onUI(func() { m.picked(paths, err) })
	}()
}

// picked takes the native dialog's answer on the UI thread.
func (m *mainWindow) picked(paths []string, err error) {
	m.uiMu.Lock()
	if errors.Is(err, platform.ErrNoNativeDialog) {
		// GTK could not start, say: use Fyne's dialog from now on.
		m.picker = nil
		m.showFyneOpen() // still picking
		m.uiMu.Unlock()
		return
	}
	m.picking = false
	m.uiMu.Unlock()
	if err != nil {
		dialog.ShowError(err, m.win)
		return
	}
	m.open(paths...)
}

// showFyneOpen is the fallback open dialog; the caller holds uiMu. The
// dialog opens the chosen file for reading, as Fyne's always does, only for
// us to learn its path and close it.
func (m *mainWindow) showFyneOpen() {
	d := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		m.uiMu.Lock()
		m.picking = false
		m.uiMu.Unlock()
		if err != nil {
			dialog.ShowError(err, m.win)
			return
		}
		if rc == nil { // cancelled
			return
		}
		path := rc.URI().Path()
		rc.Close()
		m.open(path)
	}, m.win)
	d.SetTitleText("Open Crash Dump")
	d.SetConfirmText("Open")
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}
