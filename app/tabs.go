package app

import (
	"context"
	"fmt"
	"strconv"

	"fyne.io/fyne/v2/container"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// dumpTabs are the tabs of one loaded dump beside its summary: the
// console, the kernel log (kernel dumps), processes, threads, modules,
// the memory map, hex and disassembly. They are built the first time the
// dump is shown and kept while it is open, so the console keeps its
// history and scroll position. Links in the console, the memory map and
// the frame table move between them (navigate).
type dumpTabs struct {
	sess    *session.Session
	ctx     context.Context
	cancel  context.CancelFunc
	console *ConsoleTab
	threads *threadTab
	modules *modTab
	hex     *HexTab
	disasm  *DisasmTab
	items   []*container.TabItem

	threadsItem, modulesItem, hexItem, disasmItem *container.TabItem
	// show brings one of the tabs forward (the window's tab bar).
	show func(*container.TabItem)
	// source shows a frame's source file at a line, when it is here.
	source func(file string, line int)
}

// newDumpTabs builds the tabs of sess; show brings a tab forward, source
// (may be nil) shows a source file at a line.
func newDumpTabs(sess *session.Session, show func(*container.TabItem), source func(file string, line int)) *dumpTabs {
	t := &dumpTabs{sess: sess, show: show, source: source, console: NewConsoleTab(sess)}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.console.Navigate = t.navigate
	t.threads = newThreadTab(t.ctx, sess)
	t.threads.view.OnFrameSelected = func(f widgets.FrameRow) {
		if f.PC != 0 {
			t.showCode(f.PC)
		}
		if file, line, ok := splitSource(f.Source); ok && t.source != nil {
			t.source(file, line)
		}
	}
	t.modules = newModTab(t.ctx, sess)
	t.hex = newHexTab(t.ctx, sess)
	t.disasm = newDisasmTab(t.ctx, sess)
	mem := newMemTab(t.ctx, sess, t.showData)

	t.threadsItem = container.NewTabItem("Threads", t.threads.view)
	t.modulesItem = container.NewTabItem("Modules", t.modules.view)
	t.hexItem = container.NewTabItem("Hex", t.hex.Object)
	t.disasmItem = container.NewTabItem("Disassembly", t.disasm.Object)

	t.items = append(t.items, container.NewTabItem("Console", t.console.Object))
	switch sess.Target().Info().Format {
	case model.LinuxVMCore, model.LiME, model.FreeBSDVMCore:
		t.items = append(t.items, container.NewTabItem("Kernel log", newLogTab(t.ctx, sess).view))
	}
	t.items = append(t.items,
		container.NewTabItem("Processes", newProcTab(t.ctx, sess).view),
		t.threadsItem, t.modulesItem,
		container.NewTabItem("Memory map", mem.view),
		t.hexItem, t.disasmItem)
	return t
}

// close stops what the tabs run; the session stays open (Dumps owns it).
func (t *dumpTabs) close() {
	t.cancel()
	t.console.Close()
}

// showCode opens the disassembly at addr.
func (t *dumpTabs) showCode(addr uint64) {
	t.disasm.GoTo(addr)
	t.show(t.disasmItem)
}

// showData opens the hex view at addr.
func (t *dumpTabs) showData(addr uint64) {
	t.hex.GoTo(addr)
	t.show(t.hexItem)
}

// navigate carries out a console link (see links.go) on the UI thread.
func (t *dumpTabs) navigate(kind, arg string) {
	switch kind {
	case viewModule:
		t.modules.view.SetFilter(arg)
		t.show(t.modulesItem)
	case viewThread:
		n, err := strconv.Atoi(arg)
		if err != nil {
			return
		}
		t.console.Submit(fmt.Sprintf("~%ds", n))
		if id, ok := t.threadID(n); ok {
			t.threads.view.SelectID(id)
			t.show(t.threadsItem)
		}
	case viewAddr, viewExpr:
		// Evaluating a symbol may load symbols: off the UI thread.
		go func() {
			addr, err := t.sess.Eval(arg)
			if err != nil {
				return
			}
			code := kind == viewExpr || t.inModule(addr)
			onUI(func() {
				if code {
					t.showCode(addr)
				} else {
					t.showData(addr)
				}
			})
		}()
	}
}

// threadID is the thread list's id of the debugger's thread n.
func (t *dumpTabs) threadID(n int) (string, bool) {
	ts, err := t.sess.Threads()
	if err != nil || n < 0 || n >= len(ts) {
		return "", false
	}
	return threadID(ts[n].ID, t.sess.Target().Info().Format), true
}

// inModule reports whether addr lies in a module's image: such addresses
// are shown as code, others (stacks, heap) as data.
func (t *dumpTabs) inModule(addr uint64) bool {
	for _, m := range t.sess.Modules() {
		if m.Contains(addr) {
			return true
		}
	}
	return false
}
