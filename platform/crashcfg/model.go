// Package crashcfg models how Windows, Linux and FreeBSD decide whether a
// crash leaves a dump, and helps set them up so the next one does: every
// crash-dump setting with its meaning, default, valid values and the
// documentation it comes from; readers for the machine it runs on (the
// Linux and FreeBSD ones over an injectable filesystem root, so tests run
// on fixture trees); calculators that size page files, dump files and
// crash kernels and cite their sources; generators for the change and its
// revert (.reg, PowerShell, shell, rc.conf); a preflight that says whether
// the next crash will be captured; an explainer for a missing dump; and a
// hygiene audit of the dumps lying around.
//
// It is written by hand: no library models crash-dump configuration. It
// is core-free and Fyne-free, so the CLI (crashbench config) and the GUI
// wizard (app/wizard) share it.
package crashcfg

import "time"

// OS is an operating system the helpers know.
type OS string

const (
	Windows OS = "windows"
	Linux   OS = "linux"
	FreeBSD OS = "freebsd"
)

// Goal is what the user is chasing; the plan follows from it, not from a
// setting.
type Goal string

const (
	GoalBSOD    Goal = "bsod"    // a Windows blue screen (bugcheck)
	GoalApp     Goal = "app"     // an application crash
	GoalHang    Goal = "hang"    // a hang (system or application)
	GoalPanic   Goal = "panic"   // a Linux or FreeBSD kernel panic
	GoalService Goal = "service" // a Linux service crash (core dump)
)

// Goals lists the goals in the order the wizard offers them.
var Goals = []Goal{GoalBSOD, GoalApp, GoalHang, GoalPanic, GoalService}

// Setting is one crash-dump setting: where it lives, what it holds on the
// machine read (or the planned one) and what that means.
type Setting struct {
	Group   string // "CrashControl", "WER LocalDumps", "kdump", "core dumps", ...
	Key     string // the full name: a registry value path, a sysctl, a config key
	Value   string // as read; "" when unset
	Set     bool   // present on the machine (false: the default applies)
	Default string // the value that applies when it is unset
	Valid   string // the values it takes, in words
	Meaning string // what the value in force means, in one line
	Source  string // the documentation it comes from (a URL or a man page)
}

// Status is a preflight check's verdict.
type Status string

const (
	Pass    Status = "pass"
	Warn    Status = "warn" // works, but a risk worth fixing
	Fail    Status = "fail" // the next crash will not be captured (fully)
	Unknown Status = "unknown"
)

// Check is one item of the preflight checklist.
type Check struct {
	ID     string // stable, e.g. "pagefile-size", "core-pattern-pipe"
	Title  string // what is checked
	Status Status
	Reason string // why this status, with the values seen
	Fix    string // what to do, as commands or steps; "" when nothing
	Source string // the documentation behind the rule
}

// Disk is a volume: where dumps are written, the page file lives, or the
// boot volume.
type Disk struct {
	Mount string // "C:", "/var"
	Size  uint64 // bytes
	Free  uint64 // bytes
	Boot  bool   // the Windows boot (system) volume, or the Linux root
	// WriteMBps is the disk's sequential write speed, for the write-time
	// estimate; 0 means unknown (the calculators then assume a default
	// and say so).
	WriteMBps float64
}

// Machine is what the calculators and plans need to know about a
// machine: read from the one we run on, or entered for another.
type Machine struct {
	OS      OS
	RAM     uint64 // bytes of physical memory
	Arch    string // "amd64", "arm64", ...
	Release string // "10.0.22631", "debian 12", "rhel 9.4", "14.1-RELEASE"
	Client  bool   // a Windows client SKU (Windows 10/11), not Server
	Disks   []Disk
}

// Estimate is a calculated size or time with how it was found.
type Estimate struct {
	Bytes    uint64
	Time     time.Duration // to write Bytes at the disk's speed; 0 when not computed
	Estimate bool          // true: an estimate, not a documented minimum
	Basis    string        // how it was computed, in one line
	Source   string        // the documentation cited
}

// Change is one line of a plan's reviewable diff.
type Change struct {
	Key      string
	From, To string // From "" when unset
	Why      string
}

// Script is a generated file.
type Script struct {
	Name string // "crashdump.reg", "apply.ps1", "revert.sh"
	Text string
}

// Plan is the wizard's recommendation for a goal on a machine.
type Plan struct {
	OS       OS
	Goal     Goal
	DumpType string   // "Automatic memory dump", "kdump (makedumpfile -d 31, zstd)", "WER full dump", ...
	Why      string   // why this type for this goal
	Answers  string   // what the dump can answer
	Privacy  string   // what it holds (memory of every process, one process, ...)
	Size     Estimate // the dump's size
	Space    Estimate // what the destination and page file need
	Changes  []Change
	Scripts  []Script // apply scripts first, then revert scripts
	Test     string   // how to test the change (NotMyFault, sysrq, kill -SEGV)
	Notes    []string
}
