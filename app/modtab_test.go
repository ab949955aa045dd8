package app

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/widgets"
)

func TestModulesTabSample(t *testing.T) {
	test.NewTempApp(t)
	sess := sampleSession(t)
	mt := newModTab(context.Background(), sess)
	waitClosed(t, "the module list", mt.loaded, 10*time.Second)
	waitClosed(t, "the crash-stack marks", mt.analyzed, 30*time.Second)
	showTab(t, mt.view, fyne.NewSize(1400, 500))

	v := mt.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v, error %q", v.State(), v.ErrorLine())
	}
	mods := sess.Modules()
	if v.Len() != len(mods) || len(v.Shown()) != len(mods) || len(mods) != 3 {
		t.Fatalf("table has %d rows (%d shown), session %d modules", v.Len(), len(v.Shown()), len(mods))
	}
	for _, m := range mods {
		i := slices.IndexFunc(v.Shown(), func(r widgets.ModuleRow) bool { return r.Name == m.Name() })
		if i < 0 {
			t.Fatalf("no row for %s", m.Name())
		}
		r := v.Shown()[i]
		if r.Base != m.Base || r.Size != m.Size || r.Path != m.Path || r.Version != m.Version || !r.Time.Equal(m.Time) {
			t.Errorf("row %+v does not match module %+v", r, m)
		}
	}

	// The crash stack (frames in app.exe, kernel32.dll, ntdll.dll, as
	// the analysis reports) is highlighted; app.exe is to blame.
	a, err := sess.Analyze(context.Background())
	if err != nil || a.Crashed < 0 {
		t.Fatalf("Analyze: %v, crashed %d", err, a.Crashed)
	}
	onStack := map[string]bool{}
	for _, f := range a.Threads[a.Crashed].Frames {
		if f.Module != nil {
			onStack[f.Module.Name()] = true
		}
	}
	for _, r := range v.Shown() {
		if r.OnStack != onStack[r.Name] {
			t.Errorf("%s: on stack %v, analysis says %v", r.Name, r.OnStack, onStack[r.Name])
		}
		if r.Faulting != (r.Name == a.Result.FaultingModule) {
			t.Errorf("%s: faulting %v (analysis blames %s)", r.Name, r.Faulting, a.Result.FaultingModule)
		}
	}
	if !onStack["app.exe"] || a.Result.FaultingModule != "app.exe" {
		t.Errorf("analysis: stack modules %v, faulting %q", onStack, a.Result.FaultingModule)
	}
	// The analysis named app.exe's frames from its Breakpad file, so its
	// status is known now; lm agrees.
	byName := map[string]string{}
	for _, r := range v.Shown() {
		byName[r.Name] = r.Symbols
	}
	if byName["app.exe"] != "breakpad symbols" {
		t.Errorf("symbol status %v, want app.exe's breakpad symbols", byName)
	}

	// Sorting by name, then by base.
	v.SortBy(widgets.ModName)
	if got := rowNames(v.Shown()); !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
		t.Errorf("sorted by name: %q", got)
	}
	v.SortBy(widgets.ModName)
	if got := rowNames(v.Shown()); !slices.Equal(got, []string{"ntdll.dll", "kernel32.dll", "app.exe"}) {
		t.Errorf("sorted by name, reversed: %q", got)
	}
	v.SortBy(widgets.ModBase)
	if !slices.IsSortedFunc(v.Shown(), func(a, b widgets.ModuleRow) int { return cmp.Compare(a.Base, b.Base) }) ||
		!slices.Equal(rowNames(v.Shown()), []string{"app.exe", "kernel32.dll", "ntdll.dll"}) {
		t.Errorf("sorted by base: %q", rowNames(v.Shown()))
	}

	// The filter.
	v.SetFilter("KERNEL32")
	if got := rowNames(v.Shown()); !slices.Equal(got, []string{"kernel32.dll"}) || !strings.HasPrefix(v.CountText(), "1 of 3 modules") {
		t.Errorf("filter kernel32: %q, count %q", got, v.CountText())
	}
}

func rowNames(rows []widgets.ModuleRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out
}

// TestModulesTabDeferred: before anything needs symbols, every module is
// deferred: listing modules loads none.
func TestModulesTabDeferred(t *testing.T) {
	sess := sampleSession(t)
	for _, r := range moduleRows(sess.Modules(), sess.Symbols(), nil, "") {
		if r.Symbols != "deferred" || r.OnStack || r.Faulting {
			t.Errorf("fresh session: %s symbols %q, marks %v %v", r.Name, r.Symbols, r.OnStack, r.Faulting)
		}
	}
	for _, m := range sess.Modules() {
		if sess.Symbols().Loaded(m.Name()) {
			t.Errorf("listing modules loaded %s's symbols", m.Name())
		}
	}
}

func TestModulesTabNoSession(t *testing.T) {
	test.NewTempApp(t)
	if v := newModTab(context.Background(), nil).view; v.State() != widgets.PaneError {
		t.Errorf("nil session: state %v", v.State())
	}
}

// TestModulesTabVmcore: a kernel dump has no crashing thread; the modules
// its log's call trace runs through are marked instead (here only the
// kernel itself: the sysrq panic's trace names no module).
func TestModulesTabVmcore(t *testing.T) {
	test.NewTempApp(t)
	sess := openSession(t, fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	mt := newModTab(context.Background(), sess)
	waitClosed(t, "the crash-stack marks", mt.analyzed, 60*time.Second)
	v := mt.view
	if v.State() != widgets.PaneReady || v.Len() != len(sess.Modules()) || v.Len() < 2 {
		t.Fatalf("state %v (%q), %d rows for %d modules", v.State(), v.ErrorLine(), v.Len(), len(sess.Modules()))
	}
	for _, r := range v.Shown() {
		kernel := r.Name == "vmlinux"
		if r.OnStack != kernel || r.Faulting != kernel {
			t.Errorf("%s: on stack %v, faulting %v", r.Name, r.OnStack, r.Faulting)
		}
	}
}

func TestKernelModName(t *testing.T) {
	for in, want := range map[string]string{"pvpanic-pci.ko": "pvpanic_pci", "mydrv": "mydrv", "App.EXE": "app.exe", "vmlinux": "vmlinux"} {
		if got := kernelModName(in); got != want {
			t.Errorf("kernelModName(%q) = %q, want %q", in, got, want)
		}
	}
}
