// Package wizard is the guided set-up of crash dumps: it starts from what
// the user is chasing (a blue screen, an application crash, a hang, a
// kernel panic, a service crash), recommends the dump that answers it,
// checks that it fits on the machine (this one, or one the user
// describes), shows the exact changes, writes the scripts (or applies
// them here, with the rights to), says how to test, and runs the
// preflight. The knowledge is in platform/crashcfg; this package is the
// steps and their views.
package wizard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/crashbench/crashbench/platform/crashcfg"
)

// Step is one page of the wizard.
type Step int

const (
	StepGoal Step = iota
	StepDumpType
	StepFit
	StepChanges
	StepScripts
	StepTest
	StepPreflight
	stepCount
)

// Titles are the steps' headings, in order.
var Titles = [stepCount]string{
	"1. What are you chasing?",
	"2. The dump that answers it",
	"3. Does it fit?",
	"4. The changes",
	"5. Write the scripts, or apply them",
	"6. How to test it",
	"7. Will the next crash be captured?",
}

// GoalLabels describe the goals as the first step offers them.
var GoalLabels = map[crashcfg.Goal]string{
	crashcfg.GoalBSOD:    "A blue screen (a Windows bugcheck)",
	crashcfg.GoalApp:     "An application crash",
	crashcfg.GoalHang:    "A hang (the machine or an application stops responding)",
	crashcfg.GoalPanic:   "A Linux or FreeBSD kernel panic",
	crashcfg.GoalService: "A Linux service crash (a core dump)",
}

// Model is the wizard's state, without any view: the steps' logic,
// testable on its own.
type Model struct {
	Goal crashcfg.Goal
	// Here is true when planning for the machine the wizard runs on
	// (its settings were read), false for a machine the user describes.
	Here    bool
	Machine crashcfg.Machine
	Config  crashcfg.Config
	Plan    crashcfg.Plan
	PlanErr error
	Checks  []crashcfg.Check

	step Step
	// here is what was read from this machine, kept to switch back.
	hereConfig  crashcfg.Config
	hereMachine crashcfg.Machine
	hereErr     error
}

// NewModel starts the wizard on this machine's configuration (read by
// read, usually crashcfg.ReadThis), or on a planned machine when it
// cannot be read.
func NewModel(read func() (crashcfg.Config, crashcfg.Machine, error)) *Model {
	m := &Model{Goal: crashcfg.GoalApp}
	m.hereConfig, m.hereMachine, m.hereErr = read()
	if m.hereErr == nil || m.hereConfig.OS != "" {
		m.Here, m.Config, m.Machine = true, m.hereConfig, m.hereMachine
		m.Goal = defaultGoal(m.Config.OS)
	} else {
		m.UsePlanned(crashcfg.Windows, 16<<30)
	}
	return m
}

// ReadError is why this machine's settings could not be (fully) read.
func (m *Model) ReadError() error { return m.hereErr }

func defaultGoal(o crashcfg.OS) crashcfg.Goal {
	if o == crashcfg.Windows {
		return crashcfg.GoalBSOD
	}
	return crashcfg.GoalPanic
}

// UseHere plans for this machine again.
func (m *Model) UseHere() {
	m.Here, m.Config, m.Machine = true, m.hereConfig, m.hereMachine
}

// UsePlanned plans for another machine: os with ram bytes of memory, its
// settings at their defaults. Disks and the SKU are set on Machine.
func (m *Model) UsePlanned(o crashcfg.OS, ram uint64) error {
	c, err := crashcfg.Planned(o)
	if err != nil {
		return err
	}
	disks := m.Machine.Disks
	if m.Here || len(disks) == 0 {
		disks = []crashcfg.Disk{{Mount: defaultMount(o), Size: 512 << 30, Free: 200 << 30, Boot: true}}
	}
	m.Here, m.Config = false, c
	m.Machine = crashcfg.Machine{OS: o, RAM: ram, Arch: "amd64", Disks: disks, Client: o == crashcfg.Windows && m.Machine.Client}
	return nil
}

func defaultMount(o crashcfg.OS) string {
	if o == crashcfg.Windows {
		return "C:"
	}
	return "/"
}

// Step returns the current step.
func (m *Model) Step() Step { return m.step }

// CanNext reports whether the wizard can go on, and why not.
func (m *Model) CanNext() (bool, string) {
	switch {
	case m.step == stepCount-1:
		return false, ""
	case m.step >= StepDumpType && m.PlanErr != nil:
		return false, m.PlanErr.Error()
	case m.step == StepGoal && m.Machine.RAM == 0:
		return false, "enter the machine's memory"
	}
	return true, ""
}

// Next goes to the next step; leaving the first one makes the plan.
func (m *Model) Next() {
	if ok, _ := m.CanNext(); !ok {
		return
	}
	if m.step == StepGoal {
		m.Plan, m.PlanErr = m.Config.Plan(m.Machine, m.Goal)
	}
	m.step++
	if m.step == StepPreflight {
		m.Preflight()
	}
}

// Back goes to the previous step.
func (m *Model) Back() {
	if m.step > 0 {
		m.step--
	}
}

// Preflight runs the checks on the configuration: this machine's as read
// (re-read, so a change just applied shows), or the planned one's.
func (m *Model) Preflight() {
	if m.Here {
		if c, mach, err := m.rereadHere(); err == nil || c.OS != "" {
			m.Config, m.Machine = c, mach
		}
	}
	m.Checks = m.Config.Check(m.Machine)
}

// rereadHere is replaced by tests.
var rereadHere = func() (crashcfg.Config, crashcfg.Machine, error) { return crashcfg.ReadThis("/") }

func (m *Model) rereadHere() (crashcfg.Config, crashcfg.Machine, error) { return rereadHere() }

// Fit is one line of the "does it fit?" step.
type Fit struct {
	What   string // "C: (boot volume)"
	Needed uint64
	Free   uint64
	OK     bool
}

// Fits compares what the plan needs with the machine's disks: the
// destination (or boot) volume must hold Space.
func (m *Model) Fits() []Fit {
	var out []Fit
	need := m.Plan.Space.Bytes
	for _, d := range m.Machine.Disks {
		if !d.Boot && len(m.Machine.Disks) > 1 {
			continue
		}
		what := d.Mount
		if d.Boot {
			what += " (boot volume)"
		}
		out = append(out, Fit{What: what, Needed: need, Free: d.Free, OK: d.Free >= need})
	}
	return out
}

// WriteScripts writes the plan's scripts into dir, executable where they
// are shell scripts, and returns their paths.
func (m *Model) WriteScripts(dir string) ([]string, error) {
	if len(m.Plan.Scripts) == 0 {
		return nil, errors.New("the plan has no scripts")
	}
	var paths []string
	for _, s := range m.Plan.Scripts {
		p := filepath.Join(dir, filepath.Base(s.Name))
		mode := os.FileMode(0o644)
		if strings.HasSuffix(s.Name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(s.Text), mode); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// CanApply says whether the change can be applied here and now: only on
// the machine planned for, with the rights to change it; otherwise the
// scripts are exported.
func (m *Model) CanApply() (bool, string) {
	switch {
	case !m.Here:
		return false, "the plan is for another machine: save the scripts and run them there"
	case m.Config.OS == crashcfg.Windows:
		return false, "run apply.ps1 from an elevated PowerShell (Run as administrator)"
	case os.Geteuid() != 0:
		return false, "applying needs root: save the scripts and run apply.sh with sudo"
	}
	return true, ""
}

// ApplyScript returns the script Apply runs: the first shell script.
func (m *Model) ApplyScript() (crashcfg.Script, bool) {
	for _, s := range m.Plan.Scripts {
		if strings.HasSuffix(s.Name, ".sh") && !strings.Contains(s.Name, "revert") {
			return s, true
		}
	}
	return crashcfg.Script{}, false
}

// Summary describes the recommended dump in a few lines.
func (m *Model) Summary() []string {
	p := m.Plan
	size := crashcfg.FormatSize(p.Size.Bytes)
	if p.Size.Estimate {
		size = "about " + size + " (an estimate)"
	}
	lines := []string{
		"Dump: " + p.DumpType,
		"Why: " + p.Why,
		"Size: " + size,
	}
	if p.Size.Time > 0 {
		lines = append(lines, fmt.Sprintf("Time to write: about %s", p.Size.Time.Round(1e9)))
	}
	lines = append(lines, "Holds: "+p.Privacy, "Answers: "+p.Answers)
	return lines
}
