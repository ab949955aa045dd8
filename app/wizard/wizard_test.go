package wizard

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/platform/crashcfg"
)

// notHere is a read function for a machine whose settings cannot be read.
func notHere() (crashcfg.Config, crashcfg.Machine, error) {
	return crashcfg.Config{}, crashcfg.Machine{}, os.ErrNotExist
}

// fixtureHere reads one of crashcfg's Linux fixture trees as "this
// machine".
func fixtureHere(t *testing.T, name string) func() (crashcfg.Config, crashcfg.Machine, error) {
	root := filepath.Join(fixture.Root(t), "platform/crashcfg/testdata/linux", name)
	return func() (crashcfg.Config, crashcfg.Machine, error) {
		c, m, err := crashcfg.ReadLinux(root)
		return crashcfg.Config{OS: crashcfg.Linux, Linux: &c}, m, err
	}
}

// labels returns the text of every label, hyperlink and button under o.
func labels(o fyne.CanvasObject) []string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Label:
			out = append(out, x.Text)
		case *widget.Button:
			out = append(out, x.Text)
		case *widget.Hyperlink:
			out = append(out, x.Text)
		case *widget.RadioGroup:
			out = append(out, x.Options...)
			return
		case *fyne.Container:
			for _, k := range x.Objects {
				walk(k)
			}
			return
		}
		if w, ok := o.(fyne.Widget); ok {
			for _, k := range test.WidgetRenderer(w).Objects() {
				walk(k)
			}
		}
	}
	walk(o)
	return out
}

func contains(ss []string, sub string) bool {
	return slices.ContainsFunc(ss, func(s string) bool { return strings.Contains(s, sub) })
}

// TestWizardWindowsPlanned walks every step for a planned Windows client
// with 16 GiB chasing a blue screen.
func TestWizardWindowsPlanned(t *testing.T) {
	test.NewTempApp(t)
	win := test.NewTempWindow(t, nil)
	m := NewModel(notHere)
	if m.Here {
		t.Fatal("an unreadable machine is planned for as this one")
	}
	if err := m.UsePlanned(crashcfg.Windows, 16<<30); err != nil {
		t.Fatal(err)
	}
	m.Machine.Client = true
	m.Goal = crashcfg.GoalBSOD
	w := New(win, m)
	win.SetContent(w.Content())
	win.Resize(fyne.NewSize(980, 700))
	if w.title.Text != Titles[StepGoal] || !w.back.Disabled() || w.next.Disabled() {
		t.Fatalf("first step: %q back %v next %v", w.title.Text, w.back.Disabled(), w.next.Disabled())
	}
	if !contains(labels(w.Page()), GoalLabels[crashcfg.GoalBSOD]) {
		t.Errorf("goal page %q", labels(w.Page()))
	}

	test.Tap(w.next)
	if m.PlanErr != nil {
		t.Fatal(m.PlanErr)
	}
	page := labels(w.Page())
	if w.title.Text != Titles[StepDumpType] || !contains(page, "Dump: "+m.Plan.DumpType) || !contains(page, "Size: ") {
		t.Errorf("dump type step %q: %q", w.title.Text, page)
	}
	// 16 GiB is at most 32 GiB: Microsoft's recommendation is a complete dump.
	if !strings.Contains(strings.ToLower(m.Plan.DumpType), "complete") {
		t.Errorf("16 GiB client: %q, want a complete dump", m.Plan.DumpType)
	}

	test.Tap(w.next)
	fits := m.Fits()
	if len(fits) != 1 || fits[0].Needed != m.Plan.Space.Bytes || !fits[0].OK {
		t.Errorf("fits %+v for 200 GiB free", fits)
	}
	if !contains(labels(w.Page()), "fits") {
		t.Errorf("fit page %q", labels(w.Page()))
	}

	test.Tap(w.next)
	if !contains(labels(w.Page()), `CrashControl\CrashDumpEnabled`) {
		t.Errorf("changes page %q", labels(w.Page()))
	}

	test.Tap(w.next)
	dir := t.TempDir()
	w.pickFolder = func(done func(string)) { done(dir) }
	var save, apply *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch x := o.(type) {
		case *widget.Button:
			switch x.Text {
			case "Save the scripts…":
				save = x
			case "Apply now":
				apply = x
			}
		case *fyne.Container:
			for _, k := range x.Objects {
				walk(k)
			}
		case fyne.Widget:
			for _, k := range test.WidgetRenderer(x).Objects() {
				walk(k)
			}
		}
	}
	walk(w.Page())
	if save == nil || apply == nil || !apply.Disabled() {
		t.Fatalf("scripts page: save %v, apply %v (must be disabled for another machine)", save, apply)
	}
	test.Tap(save)
	written, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(written) != len(m.Plan.Scripts) || len(written) < 3 {
		t.Errorf("saved %q for scripts %q", written, ScriptNames(m.Plan))
	}
	for _, p := range written {
		b, _ := os.ReadFile(p)
		for _, bad := range []string{"dword:00000004", "dword:00000005", "dword:00000006"} {
			if strings.Contains(string(b), `"CrashDumpEnabled"=`+bad) {
				t.Errorf("%s writes CrashDumpEnabled %s", p, bad)
			}
		}
	}

	test.Tap(w.next)
	if !contains(labels(w.Page()), "NotMyFault") {
		t.Errorf("test page %q", labels(w.Page()))
	}
	test.Tap(w.next)
	if w.title.Text != Titles[StepPreflight] || len(m.Checks) == 0 || !w.next.Disabled() {
		t.Errorf("preflight: %q, %d checks, next enabled %v", w.title.Text, len(m.Checks), !w.next.Disabled())
	}
	if !contains(labels(w.Page()), "crashbench config check") {
		t.Error("the preflight of a planned machine does not say it is not the real state")
	}
	test.Tap(w.back)
	if w.title.Text != Titles[StepTest] {
		t.Errorf("back went to %q", w.title.Text)
	}
}

// TestWizardLinuxNeedsRelease: a Linux panic plan for another machine
// needs the distribution; without it Next stays disabled and says why.
func TestWizardLinuxNeedsRelease(t *testing.T) {
	test.NewTempApp(t)
	m := NewModel(notHere)
	if err := m.UsePlanned(crashcfg.Linux, 32<<30); err != nil {
		t.Fatal(err)
	}
	m.Goal = crashcfg.GoalPanic
	m.Next()
	if m.PlanErr == nil {
		t.Fatalf("planned without a release: %+v", m.Plan)
	}
	if ok, why := m.CanNext(); ok || why == "" {
		t.Errorf("next allowed after a failed plan: %v %q", ok, why)
	}
	m.Back()
	m.Machine.Release = "debian 12"
	m.Next()
	if m.PlanErr != nil || !strings.Contains(m.Plan.DumpType, "kdump") {
		t.Errorf("debian 12: %v %q", m.PlanErr, m.Plan.DumpType)
	}
}

// TestWizardThisMachine starts on "this machine" (a fixture tree without
// kdump): the goal defaults to a kernel panic, the preflight re-reads the
// machine and fails the crash-kernel check, and the plan's apply script
// is offered only to root.
func TestWizardThisMachine(t *testing.T) {
	test.NewTempApp(t)
	read := fixtureHere(t, "no-kdump")
	old := rereadHere
	rereadHere = read
	t.Cleanup(func() { rereadHere = old })
	m := NewModel(read)
	if !m.Here || m.Goal != crashcfg.GoalPanic || m.Machine.RAM == 0 {
		t.Fatalf("here %v goal %v ram %d", m.Here, m.Goal, m.Machine.RAM)
	}
	for m.Step() != StepPreflight {
		before := m.Step()
		m.Next()
		if m.Step() == before {
			t.Fatalf("stuck at step %d: %v", before, m.PlanErr)
		}
	}
	failed := false
	for _, c := range m.Checks {
		if c.Status == crashcfg.Fail && strings.Contains(strings.ToLower(c.Title+c.Reason), "crash") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("no failing crash-kernel check on a machine without kdump: %+v", m.Checks)
	}
	ok, why := m.CanApply()
	if ok != (os.Geteuid() == 0) || (!ok && why == "") {
		t.Errorf("CanApply %v %q as uid %d", ok, why, os.Geteuid())
	}
	if s, ok := m.ApplyScript(); !ok || strings.Contains(s.Name, "revert") {
		t.Errorf("apply script %q %v", s.Name, ok)
	}
}
