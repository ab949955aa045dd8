package app

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/widgets"
)

// modTab is the view-model of the modules tab: it lists the session's
// modules with their symbol status off the UI thread, then runs the
// analysis to mark the modules on the crashing stack.
type modTab struct {
	view     *widgets.ModTable
	loaded   chan struct{} // closed once the view shows the modules or the error
	analyzed chan struct{} // closed once the crash-stack marks are applied (or given up)
}

// NewModulesTab returns the modules tab of sess: a sortable, filterable
// table of its modules (name, base, size, version, timestamp, path,
// symbol status) with the modules on the crashing stack highlighted once
// the analysis, run in the background, finishes. Call it on the UI
// thread; sess may be nil (the dump did not open).
func NewModulesTab(sess *session.Session) fyne.CanvasObject {
	return newModTab(context.Background(), sess).view
}

func newModTab(ctx context.Context, sess *session.Session) *modTab {
	t := &modTab{view: widgets.NewModTable(), loaded: make(chan struct{}), analyzed: make(chan struct{})}
	if sess == nil {
		t.view.ShowError("The dump is not open.")
		close(t.loaded)
		close(t.analyzed)
		return t
	}
	go func() {
		defer close(t.analyzed)
		mods := sess.Modules()
		rows := moduleRows(mods, sess.Symbols(), nil, "")
		onUI(func() {
			defer close(t.loaded)
			if ctx.Err() != nil {
				return
			}
			if len(rows) == 0 {
				t.view.ShowError("This dump records no modules.")
				return
			}
			t.view.SetModules(rows)
		})
		if len(rows) == 0 {
			return
		}
		a, err := sess.Analyze(ctx)
		if err != nil {
			return // the table stays without marks; the threads tab says why
		}
		// The analysis loaded the stack modules' symbols: their status
		// changes along with the marks.
		rows = moduleRows(mods, sess.Symbols(), crashStack(a), a.Result.FaultingModule)
		onUI(func() {
			if ctx.Err() == nil {
				t.view.SetModules(rows)
			}
		})
	}()
	return t
}

// moduleKey identifies a module of a session's list.
type moduleKey struct {
	base uint64
	path string
}

// crashStack returns the modules with a frame on the crashing thread's
// stack, or, for a kernel dump whose log reports the crash, the modules
// its call trace names ("mydrv_poll+0x2a/0x90 [mydrv]", vmlinux for the
// entries without a module), by name.
func crashStack(a *session.Analysis) map[moduleKey]bool {
	on := map[moduleKey]bool{}
	if a.Crashed >= 0 {
		for _, f := range a.Threads[a.Crashed].Frames {
			if m := f.Module; m != nil {
				on[moduleKey{m.Base, m.Path}] = true
			}
		}
	}
	if p := a.Panic; p != nil && len(on) == 0 {
		for _, fr := range p.Trace {
			mod := "vmlinux" // the kernel's own code
			if i := strings.LastIndexByte(fr, '['); i >= 0 && strings.HasSuffix(fr, "]") {
				mod = fr[i+1 : len(fr)-1]
			}
			on[moduleKey{path: kernelModName(mod)}] = true
		}
	}
	return on
}

// kernelModName is a module's name as a kernel trace prints it: lower
// case, without ".ko", "-" as "_" ("pvpanic-pci.ko" is [pvpanic_pci]).
// Other names just lose their case.
func kernelModName(name string) string {
	return strings.ReplaceAll(strings.TrimSuffix(strings.ToLower(name), ".ko"), "-", "_")
}

// moduleRows builds the table's rows. Symbol status is read without
// loading anything: modules whose symbols were not needed yet are
// "deferred", as lm shows them.
func moduleRows(mods []model.Module, syms *symbols.Set, onStack map[moduleKey]bool, faulting string) []widgets.ModuleRow {
	rows := make([]widgets.ModuleRow, 0, len(mods))
	for _, m := range mods {
		name := m.Name()
		stack := onStack[moduleKey{m.Base, m.Path}] || onStack[moduleKey{path: kernelModName(name)}]
		rows = append(rows, widgets.ModuleRow{
			Name:     name,
			Base:     m.Base,
			Size:     m.Size,
			Version:  m.Version,
			Time:     m.Time,
			Path:     m.Path,
			Symbols:  symbolStatus(syms, m),
			OnStack:  stack,
			Faulting: faulting != "" && kernelModName(name) == kernelModName(faulting),
		})
	}
	return rows
}

// symbolStatus is lm's status column without the parentheses: where a
// module's symbols came from, "deferred" until something needed them, "no
// symbols", "unloaded", with " (mismatched)" for a PDB that does not match.
func symbolStatus(syms *symbols.Set, m model.Module) string {
	switch {
	case m.Unloaded:
		return "unloaded"
	case syms == nil || !syms.Loaded(m.Name()):
		return "deferred"
	}
	src, err := syms.Status(m.Name()) // loaded already: this loads nothing
	mismatch := ""
	if _, ok := errors.AsType[*symbols.MismatchError](err); ok {
		mismatch = " (mismatched)"
	}
	switch {
	case src == "":
		return "no symbols" + mismatch
	case strings.Contains(src, "export"):
		return "export symbols" + mismatch
	case strings.HasPrefix(src, "pdb symbols"):
		return "pdb symbols" + mismatch
	case strings.Contains(src, "breakpad"), strings.Contains(src, ".sym"):
		return "breakpad symbols" + mismatch
	case strings.Contains(src, "dwarf"):
		return "dwarf symbols" + mismatch
	}
	return src + mismatch
}
