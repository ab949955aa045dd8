package app

import (
	"fyne.io/fyne/v2/container"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
)

// dumpTabs are the tabs of one loaded dump beside its summary: the
// console, the kernel log (kernel dumps), the modules and the threads.
// They are built the first time the dump is shown and kept while it is
// open, so the console keeps its history and scroll position.
type dumpTabs struct {
	console *ConsoleTab
	items   []*container.TabItem
}

// newDumpTabs builds the tabs of sess.
func newDumpTabs(sess *session.Session) *dumpTabs {
	t := &dumpTabs{console: NewConsoleTab(sess)}
	t.items = append(t.items, container.NewTabItem("Console", t.console.Object))
	switch sess.Target().Info().Format {
	case model.LinuxVMCore, model.LiME, model.FreeBSDVMCore:
		t.items = append(t.items, container.NewTabItem("Kernel log", NewLogTab(sess)))
	}
	t.items = append(t.items,
		container.NewTabItem("Modules", NewModulesTab(sess)),
		container.NewTabItem("Threads", NewThreadsTab(sess)))
	return t
}

// close stops what the tabs run; the session stays open (Dumps owns it).
func (t *dumpTabs) close() { t.console.Close() }
