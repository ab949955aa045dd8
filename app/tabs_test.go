package app

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/widgets"
)

// TestDumpTabsNavigate follows console links on the sample dump: a symbol
// opens the disassembly at it, a stack address the hex view, a module
// the filtered module table, a thread the thread's stack; selecting a
// frame opens the disassembly at its pc.
func TestDumpTabsNavigate(t *testing.T) {
	test.NewTempApp(t)
	sess := sampleSession(t)
	var shown *container.TabItem
	var tabs *dumpTabs
	onUIWait(func() { tabs = newDumpTabs(sess, func(it *container.TabItem) { shown = it }, nil) })
	t.Cleanup(tabs.close)
	showTab(t, container.NewAppTabs(tabs.items...), fyne.NewSize(1200, 700))

	want, err := sess.Eval("app!CrashFunction")
	if err != nil {
		t.Fatal(err)
	}
	tabs.navigate(viewExpr, "app!CrashFunction")
	waitFor(t, "the disassembly", func() bool {
		sel, ok := tabs.disasm.View().Selected()
		return shown == tabs.disasmItem && ok && sel == want
	}, 10*time.Second)

	tabs.navigate(viewAddr, "00000000`00140000")
	waitFor(t, "the hex view", func() bool {
		return shown == tabs.hexItem && tabs.hex.View().Top() <= 0x140000 && 0x140000 < tabs.hex.View().Top()+0x1000
	}, 10*time.Second)

	onUIWait(func() { tabs.navigate(viewModule, "kernel32") })
	if shown != tabs.modulesItem {
		t.Errorf("module link showed %v", shown)
	}
	waitClosed(t, "the module list", tabs.modules.loaded, 10*time.Second)
	onUIWait(func() {
		if rows := tabs.modules.view.Shown(); len(rows) != 1 || rows[0].Name != "kernel32.dll" {
			t.Errorf("filtered modules %+v", rows)
		}
	})

	waitClosed(t, "the threads", tabs.threads.done, 30*time.Second)
	onUIWait(func() { tabs.navigate(viewThread, "1") })
	if shown != tabs.threadsItem {
		t.Errorf("thread link showed %v", shown)
	}
	tabs.console.Wait()
	flushUI()
	onUIWait(func() {
		if tabs.threads.view.Selected() < 0 || tabs.threads.view.Threads()[tabs.threads.view.Selected()].ID != "0x1238" {
			t.Errorf("thread link selected %d", tabs.threads.view.Selected())
		}
	})

	// A frame of the crashing thread opens the disassembly at its pc.
	var frame widgets.FrameRow
	onUIWait(func() {
		tabs.threads.view.Select(0)
		frame = tabs.threads.view.Frames()[1]
		tabs.threads.view.OnFrameSelected(frame)
	})
	if sel, ok := tabs.disasm.View().Selected(); shown != tabs.disasmItem || !ok || sel != frame.PC || frame.PC == 0 {
		t.Errorf("frame %+v: disassembly at %#x (%v), tab %v", frame, sel, ok, shown)
	}
}
