package wizard

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/crashbench/crashbench/platform/crashcfg"
)

// Wizard is the wizard's window content: a heading, the current step's
// page, and Back/Next buttons. Its methods run on the UI thread.
type Wizard struct {
	Model *Model
	win   fyne.Window
	// pickFolder asks for the folder to save scripts in; replaced by tests.
	pickFolder func(func(dir string))

	title      *widget.Label
	page       *fyne.Container
	back, next *widget.Button
	why        *widget.Label
	content    fyne.CanvasObject
}

// New builds the wizard for win over m.
func New(win fyne.Window, m *Model) *Wizard {
	w := &Wizard{Model: m, win: win, title: widget.NewLabel(""), page: container.NewStack(), why: widget.NewLabel("")}
	w.title.TextStyle.Bold = true
	w.title.SizeName = theme.SizeNameSubHeadingText
	w.why.Importance = widget.WarningImportance
	w.why.Truncation = fyne.TextTruncateEllipsis
	w.back = widget.NewButtonWithIcon("Back", theme.NavigateBackIcon(), func() { m.Back(); w.Refresh() })
	w.next = widget.NewButtonWithIcon("Next", theme.NavigateNextIcon(), func() { m.Next(); w.Refresh() })
	w.next.IconPlacement = widget.ButtonIconTrailingText
	w.next.Importance = widget.HighImportance
	w.pickFolder = func(done func(string)) {
		dialog.ShowFolderOpen(func(u fyne.ListableURI, err error) {
			if err == nil && u != nil {
				done(u.Path())
			}
		}, win)
	}
	buttons := container.NewBorder(nil, nil, w.back, w.next, w.why)
	w.content = container.NewBorder(container.NewVBox(w.title, widget.NewSeparator()), container.NewVBox(widget.NewSeparator(), buttons), nil, nil, w.page)
	w.Refresh()
	return w
}

// Content is the wizard's view.
func (w *Wizard) Content() fyne.CanvasObject { return w.content }

// Show opens the wizard in a window of its own. The machine's settings
// are read off the UI thread (files under /proc and /etc, or the
// registry); the window shows a progress bar meanwhile.
func Show(a fyne.App, read func() (crashcfg.Config, crashcfg.Machine, error)) fyne.Window {
	win := a.NewWindow("Set Up Crash Dumps")
	bar := widget.NewProgressBarInfinite()
	win.SetContent(container.NewCenter(container.NewVBox(widget.NewLabel("Reading this machine's crash-dump settings…"), bar)))
	win.Resize(fyne.NewSize(980, 700))
	win.Show()
	go func() {
		c, m, err := read()
		fyne.Do(func() {
			bar.Stop()
			w := New(win, NewModel(func() (crashcfg.Config, crashcfg.Machine, error) { return c, m, err }))
			win.SetContent(w.Content())
		})
	}()
	return win
}

// Refresh shows the model's current step.
func (w *Wizard) Refresh() {
	m := w.Model
	w.title.SetText(Titles[m.Step()])
	var page fyne.CanvasObject
	switch m.Step() {
	case StepGoal:
		page = w.goalPage()
	case StepDumpType:
		page = w.linesPage(m.Summary(), m.Plan.Size.Basis, m.Plan.Size.Source)
	case StepFit:
		page = w.fitPage()
	case StepChanges:
		page = w.changesPage()
	case StepScripts:
		page = w.scriptsPage()
	case StepTest:
		lines := []string{m.Plan.Test}
		for _, n := range m.Plan.Notes {
			lines = append(lines, "Note: "+n)
		}
		page = w.linesPage(lines, "", "")
	case StepPreflight:
		page = w.checksPage()
	}
	if m.Step() != StepGoal && m.PlanErr != nil {
		page = wrapped("No plan: " + m.PlanErr.Error())
	}
	w.page.Objects = []fyne.CanvasObject{container.NewVScroll(page)}
	w.page.Refresh()
	w.back.Enable()
	if m.Step() == StepGoal {
		w.back.Disable()
	}
	ok, why := m.CanNext()
	w.why.SetText(why)
	if ok {
		w.next.Enable()
	} else {
		w.next.Disable()
	}
}

// Page returns the current page's object, for tests.
func (w *Wizard) Page() fyne.CanvasObject { return w.page.Objects[0] }

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	l.Selectable = true
	return l
}

func (w *Wizard) goalPage() fyne.CanvasObject {
	m := w.Model
	var labels []string
	byLabel := map[string]crashcfg.Goal{}
	for _, g := range crashcfg.Goals {
		labels = append(labels, GoalLabels[g])
		byLabel[GoalLabels[g]] = g
	}
	goal := widget.NewRadioGroup(labels, func(s string) {
		if g, ok := byLabel[s]; ok {
			m.Goal = g
		}
	})
	goal.Required = true
	goal.SetSelected(GoalLabels[m.Goal])

	osSel := widget.NewSelect([]string{"windows", "linux", "freebsd"}, nil)
	osSel.SetSelected(string(m.Machine.OS))
	ram := widget.NewEntry()
	ram.SetText(crashcfg.FormatSize(m.Machine.RAM))
	free := widget.NewEntry()
	if len(m.Machine.Disks) > 0 {
		free.SetText(crashcfg.FormatSize(m.Machine.Disks[0].Free))
	}
	client := widget.NewCheck("Windows client edition (10/11), not Server", func(b bool) { m.Machine.Client = b })
	client.SetChecked(m.Machine.Client)
	planned := container.NewVBox(widget.NewForm(
		widget.NewFormItem("Operating system", osSel),
		widget.NewFormItem("Memory (RAM)", ram),
		widget.NewFormItem("Free space for dumps", free)), client)
	apply := func() {
		size, err := crashcfg.ParseSize(ram.Text)
		if err != nil {
			w.why.SetText(err.Error())
			return
		}
		if err := m.UsePlanned(crashcfg.OS(osSel.Selected), size); err != nil {
			w.why.SetText(err.Error())
			return
		}
		if f, err := crashcfg.ParseSize(free.Text); err == nil && len(m.Machine.Disks) > 0 {
			m.Machine.Disks[0].Free = f
		}
		m.Machine.Client = client.Checked
		ok, why := m.CanNext()
		w.why.SetText(why)
		if ok {
			w.next.Enable()
		}
	}
	osSel.OnChanged = func(string) { apply() }
	ram.OnChanged = func(string) { apply() }
	free.OnChanged = func(string) { apply() }

	hereText := "This machine"
	if m.hereErr == nil && m.hereMachine.RAM > 0 {
		hereText = fmt.Sprintf("This machine (%s, %s of memory)", m.hereMachine.OS, crashcfg.FormatSize(m.hereMachine.RAM))
	}
	which := widget.NewRadioGroup([]string{hereText, "Another machine"}, func(s string) {
		if s == hereText {
			m.UseHere()
			planned.Hide()
		} else {
			apply()
			planned.Show()
		}
	})
	which.Required = true
	if m.Here {
		which.SetSelected(hereText)
		planned.Hide()
	} else {
		which.SetSelected("Another machine")
	}
	if m.hereErr != nil && m.hereConfig.OS == "" {
		which.Disable()
	}
	return container.NewVBox(goal, widget.NewSeparator(), widget.NewLabel("For which machine?"), which, planned)
}

func (w *Wizard) linesPage(lines []string, basis, source string) fyne.CanvasObject {
	box := container.NewVBox()
	for _, l := range lines {
		box.Add(wrapped(l))
	}
	if basis != "" {
		b := wrapped("How: " + basis)
		b.TextStyle.Italic = true
		box.Add(b)
	}
	if source != "" {
		box.Add(sourceLink(source))
	}
	return box
}

// sourceLink shows where a figure comes from; a URL becomes a hyperlink.
func sourceLink(src string) fyne.CanvasObject {
	// Sources often name several documents: the first URL is the link,
	// the whole text wraps below it so the window keeps its width.
	for _, f := range strings.Fields(src) {
		if u, err := parseURL(strings.TrimRight(f, ";,")); err == nil {
			l := widget.NewHyperlink("Open the source", u)
			return container.NewVBox(wrapped("Source: "+src), container.NewHBox(l))
		}
	}
	return wrapped("Source: " + src)
}

func (w *Wizard) fitPage() fyne.CanvasObject {
	m := w.Model
	box := container.NewVBox(wrapped(fmt.Sprintf("Needs %s: %s", crashcfg.FormatSize(m.Plan.Space.Bytes), m.Plan.Space.Basis)))
	for _, f := range m.Fits() {
		verdict := "fits"
		if !f.OK {
			verdict = "does NOT fit"
		}
		l := wrapped(fmt.Sprintf("%s: %s free, %s needed — %s", f.What, crashcfg.FormatSize(f.Free), crashcfg.FormatSize(f.Needed), verdict))
		if !f.OK {
			l.Importance = widget.DangerImportance
		} else {
			l.Importance = widget.SuccessImportance
		}
		box.Add(l)
	}
	if m.Plan.Space.Estimate {
		box.Add(wrapped("This is an estimate: the real size depends on how much memory is in use when the crash happens."))
	}
	if m.Plan.Space.Source != "" {
		box.Add(sourceLink(m.Plan.Space.Source))
	}
	return box
}

func (w *Wizard) changesPage() fyne.CanvasObject {
	cs := w.Model.Plan.Changes
	if len(cs) == 0 {
		return wrapped("Nothing to change: the machine is already set up for this.")
	}
	// One grid per row: a single grid would give every row the height
	// of the tallest.
	rows := container.NewVBox(container.NewGridWithColumns(4, bold("Setting"), bold("Now"), bold("After"), bold("Why")))
	for _, c := range cs {
		from := c.From
		if from == "" {
			from = "(unset)"
		}
		to := wrapped(c.To)
		to.Importance = widget.HighImportance
		rows.Add(widget.NewSeparator())
		rows.Add(container.NewGridWithColumns(4, wrapped(c.Key), wrapped(from), to, wrapped(c.Why)))
	}
	return rows
}

func bold(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	return l
}

func (w *Wizard) scriptsPage() fyne.CanvasObject {
	m := w.Model
	status := wrapped("")
	save := widget.NewButtonWithIcon("Save the scripts…", theme.DocumentSaveIcon(), func() {
		w.pickFolder(func(dir string) {
			paths, err := m.WriteScripts(dir)
			if err != nil {
				status.SetText("Could not save: " + err.Error())
				return
			}
			status.SetText("Saved " + strings.Join(paths, ", "))
		})
	})
	apply := widget.NewButtonWithIcon("Apply now", theme.ConfirmIcon(), func() { w.confirmApply(status) })
	if ok, why := m.CanApply(); !ok {
		apply.Disable()
		status.SetText(why)
	}
	tabs := container.NewAppTabs()
	for _, s := range m.Plan.Scripts {
		text := widget.NewMultiLineEntry()
		text.SetText(s.Text)
		text.TextStyle.Monospace = true
		text.Wrapping = fyne.TextWrapOff
		text.SetMinRowsVisible(14)
		tabs.Append(container.NewTabItem(s.Name, text))
	}
	return container.NewBorder(container.NewVBox(container.NewHBox(save, apply), status), nil, nil, nil, tabs)
}

// confirmApply runs the apply script after the user confirms.
func (w *Wizard) confirmApply(status *widget.Label) {
	s, ok := w.Model.ApplyScript()
	if !ok {
		status.SetText("The plan has no shell script to apply.")
		return
	}
	dialog.ShowConfirm("Apply the change?", "This runs "+s.Name+" as root on this machine. Its revert script undoes it.", func(yes bool) {
		if !yes {
			return
		}
		go func() {
			out, err := exec.Command("/bin/sh", "-c", s.Text).CombinedOutput()
			fyne.Do(func() {
				if err != nil {
					status.SetText(fmt.Sprintf("%s failed: %v: %s", s.Name, err, lastLine(out)))
					return
				}
				status.SetText(s.Name + " done; the preflight (step 7) re-reads the machine.")
			})
		}()
	}, w.win)
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func (w *Wizard) checksPage() fyne.CanvasObject {
	m := w.Model
	box := container.NewVBox()
	if !m.Here {
		box.Add(wrapped("These checks use what you entered; run `crashbench config check` on the machine itself for the real state."))
	}
	rerun := widget.NewButtonWithIcon("Run again", theme.ViewRefreshIcon(), func() { m.Preflight(); w.Refresh() })
	box.Add(container.NewHBox(rerun))
	for _, c := range m.Checks {
		box.Add(checkRow(c))
	}
	return box
}

// statusIcon marks a check's verdict.
func statusIcon(s crashcfg.Status) fyne.Resource {
	switch s {
	case crashcfg.Pass:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case crashcfg.Fail:
		return theme.NewErrorThemedResource(theme.CancelIcon())
	case crashcfg.Warn:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	return theme.NewDisabledResource(theme.QuestionIcon())
}

func checkRow(c crashcfg.Check) fyne.CanvasObject {
	title := bold(c.Title)
	text := container.NewVBox(title, wrapped(c.Reason))
	if c.Fix != "" && c.Status != crashcfg.Pass {
		fix := wrapped("Fix: " + c.Fix)
		fix.TextStyle.Monospace = true
		text.Add(fix)
	}
	return container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(statusIcon(c.Status))), nil, text)
}

// ScriptNames lists the plan's script files, for tests and the CLI.
func ScriptNames(p crashcfg.Plan) []string {
	var out []string
	for _, s := range p.Scripts {
		out = append(out, filepath.Base(s.Name))
	}
	return out
}
