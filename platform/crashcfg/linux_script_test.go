package crashcfg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lxPlanText renders a plan for a golden file, so that a change in what
// the plan says shows up in review.
func lxPlanText(p Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "OS: %s\nGoal: %s\nDumpType: %s\nWhy: %s\nAnswers: %s\nPrivacy: %s\n", p.OS, p.Goal, p.DumpType, p.Why, p.Answers, p.Privacy)
	est := func(name string, e Estimate) {
		fmt.Fprintf(&b, "%s: %d bytes (%s), estimate %v, time %v\n  basis: %s\n  source: %s\n", name, e.Bytes, lxHuman(e.Bytes), e.Estimate, e.Time, e.Basis, e.Source)
	}
	est("Size", p.Size)
	est("Space", p.Space)
	b.WriteString("Changes:\n")
	for _, c := range p.Changes {
		fmt.Fprintf(&b, "  %s: %q -> %q\n    why: %s\n", c.Key, c.From, c.To, c.Why)
	}
	fmt.Fprintf(&b, "Test: %s\nNotes:\n", p.Test)
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	b.WriteString("Scripts:")
	for _, s := range p.Scripts {
		b.WriteString(" " + s.Name)
	}
	b.WriteString("\n")
	return b.String()
}

// lxCheckScripts compares a plan's scripts and summary with the goldens
// in dir, and has sh check their syntax.
func lxCheckScripts(t *testing.T, dir string, p Plan) {
	t.Helper()
	golden(t, filepath.Join(dir, "plan.txt"), lxPlanText(p))
	sh, shErr := exec.LookPath("sh")
	for _, s := range p.Scripts {
		golden(t, filepath.Join(dir, s.Name), s.Text)
		if !strings.HasSuffix(s.Name, ".sh") {
			continue
		}
		if !strings.HasPrefix(s.Text, "#!/bin/sh\n") || !strings.Contains(s.Text, "set -eu\n") {
			t.Errorf("%s: no #!/bin/sh and set -eu", s.Name)
		}
		if shErr != nil {
			continue
		}
		f := filepath.Join(t.TempDir(), s.Name)
		os.WriteFile(f, []byte(s.Text), 0o644)
		if out, err := exec.Command(sh, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s", s.Name, err, out)
		}
	}
}

func lxGoldenDir(name string) string { return filepath.Join("testdata", "linux", "golden", name) }

// Debian 12 without kdump: everything from the package to the GRUB
// drop-in.
func TestLinuxPlanDebian12Panic(t *testing.T) {
	c, m := lxReadFixture(t, "no-kdump")
	p, err := PlanLinux(m, c, GoalPanic)
	if err != nil {
		t.Fatal(err)
	}
	keys := lxChangeKeys(p)
	want := "crashkernel= (kernel command line), package kdump-tools, /etc/default/kdump-tools USE_KDUMP, kdump-tools.service"
	if keys != want {
		t.Errorf("changes %s\nwant    %s", keys, want)
	}
	if p.Changes[0].From != "" || p.Changes[0].To != "384M-:128M" {
		t.Errorf("crashkernel change %+v", p.Changes[0])
	}
	apply := p.Scripts[0].Text
	for _, s := range []string{"apt-get install -y kdump-tools", "setvar /etc/default/kdump-tools USE_KDUMP 1", "crashkernel=384M-:128M\"", "update-grub", "systemctl enable kdump-tools.service"} {
		if !strings.Contains(apply, s) {
			t.Errorf("apply.sh lacks %q", s)
		}
	}
	// What apply saves, revert restores.
	revert := p.Scripts[1].Text
	for _, f := range []string{"/etc/default/kdump-tools", lxGrubDropin} {
		if !strings.Contains(apply, "save "+f) || !strings.Contains(revert, "restore "+f) {
			t.Errorf("%s is not saved and restored", f)
		}
	}
	if p.Size.Bytes != m.RAM/10 || p.DumpType != "kdump (makedumpfile -d 31, zlib)" {
		t.Errorf("size %d type %q", p.Size.Bytes, p.DumpType)
	}
	lxCheckScripts(t, lxGoldenDir("debian12-panic"), p)
}

// RHEL 9 planned from nothing (the machine was not read): every value is
// written out.
func TestLinuxPlanRHEL9Panic(t *testing.T) {
	m := Machine{OS: Linux, Release: "rhel 9.4", Arch: "amd64", RAM: 64 * lxGiB, Disks: []Disk{{Mount: "/var", WriteMBps: 400}}}
	p, err := PlanLinux(m, LinuxConfig{}, GoalPanic)
	if err != nil {
		t.Fatal(err)
	}
	want := "crashkernel= (kernel command line), package kexec-tools, /etc/kdump.conf core_collector, kdump.service"
	if keys := lxChangeKeys(p); keys != want {
		t.Errorf("changes %s\nwant    %s", keys, want)
	}
	apply := p.Scripts[0].Text
	for _, s := range []string{`grubby --update-kernel=ALL --args="crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M"`, "dnf install -y kexec-tools",
		"setopt /etc/kdump.conf core_collector 'makedumpfile -l --message-level 7 -d 31'", "systemctl enable kdump.service"} {
		if !strings.Contains(apply, s) {
			t.Errorf("apply.sh lacks %q", s)
		}
	}
	if !strings.Contains(p.Scripts[1].Text, "--remove-args=crashkernel") {
		t.Error("revert.sh must remove a crashkernel= that was not there")
	}
	if p.Size.Time == 0 || !strings.Contains(p.Size.Basis, "400 MB/s") {
		t.Errorf("write time %v %q", p.Size.Time, p.Size.Basis)
	}
	lxCheckScripts(t, lxGoldenDir("rhel9-panic"), p)

	// RHEL 10 installs kdump-utils.
	p10, _ := PlanLinux(Machine{Release: "rhel 10.0", Arch: "amd64", RAM: 16 * lxGiB}, LinuxConfig{}, GoalPanic)
	if !strings.Contains(p10.Scripts[0].Text, "dnf install -y kdump-utils") {
		t.Error("RHEL 10: kdump-utils")
	}
}

// A service crash on a systemd machine: the drop-ins that cut cores at
// 8G and DefaultLimitCORE=0 are overridden.
func TestLinuxPlanServiceSystemd(t *testing.T) {
	c, m := lxReadFixture(t, "systemd-coredump")
	p, err := PlanLinux(m, c, GoalService)
	if err != nil {
		t.Fatal(err)
	}
	want := "coredump.conf ProcessSizeMax, coredump.conf ExternalSizeMax, DefaultLimitCORE (systemd system.conf)"
	if keys := lxChangeKeys(p); keys != want {
		t.Errorf("changes %s\nwant    %s", keys, want)
	}
	if p.Changes[1].From != "8G" || p.Changes[1].To != "64G" {
		t.Errorf("ExternalSizeMax %+v", p.Changes[1])
	}
	apply := p.Scripts[0].Text
	for _, s := range []string{"ProcessSizeMax=64G", "ExternalSizeMax=64G", "DefaultLimitCORE=infinity", "systemctl daemon-reexec"} {
		if !strings.Contains(apply, s) {
			t.Errorf("apply.sh lacks %q", s)
		}
	}
	if strings.Contains(apply, "sysctl -p") || strings.Contains(apply, "apt-get") {
		t.Error("core_pattern and the package are right already")
	}
	lxCheckScripts(t, lxGoldenDir("service-systemd"), p)

	// An app crash is planned the same way.
	pa, _ := PlanLinux(m, c, GoalApp)
	if lxChangeKeys(pa) != want || pa.Goal != GoalApp {
		t.Errorf("app plan %s", lxChangeKeys(pa))
	}
}

// The service plan from a Debian machine without systemd-coredump.
func TestLinuxPlanServiceFromScratch(t *testing.T) {
	c, m := lxReadFixture(t, "no-kdump")
	p, err := PlanLinux(m, c, GoalService)
	if err != nil {
		t.Fatal(err)
	}
	want := "package systemd-coredump, kernel.core_pattern, fs.suid_dumpable"
	if keys := lxChangeKeys(p); keys != want {
		t.Errorf("changes %s\nwant    %s", keys, want)
	}
	apply, revert := p.Scripts[0].Text, p.Scripts[1].Text
	for _, s := range []string{"kernel.core_pattern=" + lxSystemdPattern, "fs.suid_dumpable=2", "keep sysctl.kernel.core_pattern sysctl -n kernel.core_pattern", "sysctl -p " + lxSysctlDropin} {
		if !strings.Contains(apply, s) {
			t.Errorf("apply.sh lacks %q", s)
		}
	}
	if !strings.Contains(revert, `sysctl -w "kernel.core_pattern=$(cat "$B/sysctl.kernel.core_pattern")"`) {
		t.Error("revert.sh puts the old core_pattern back")
	}
	// 16 GiB of RAM: the 32G defaults hold it.
	if lxHas(p.Changes, "coredump.conf") {
		t.Error("no size change needed below 32G")
	}
}

func TestLinuxPlanNothingToDo(t *testing.T) {
	c, m := lxReadFixture(t, "rhel9")
	p, err := PlanLinux(m, c, GoalPanic)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 || !strings.Contains(strings.Join(p.Notes, "\n"), "Nothing to change") {
		t.Errorf("changes %+v notes %q", p.Changes, p.Notes)
	}
	if strings.Contains(p.Scripts[0].Text, "grubby") || strings.Contains(p.Scripts[0].Text, "systemctl") {
		t.Error("apply.sh has nothing to do")
	}

	c, m = lxReadFixture(t, "debian12-kdump")
	if p, _ := PlanLinux(m, c, GoalPanic); len(p.Changes) != 0 {
		t.Errorf("debian12-kdump: %+v", p.Changes)
	}
}

// Without systemd, cores go to files; the pattern must be absolute.
func TestLinuxPlanNoSystemd(t *testing.T) {
	c, m := lxReadFixture(t, "odd-specifiers")
	p, err := PlanLinux(m, c, GoalService)
	if err != nil {
		t.Fatal(err)
	}
	if keys := lxChangeKeys(p); keys != "kernel.core_pattern" {
		t.Errorf("changes %s", keys)
	}
	if !strings.Contains(p.Scripts[0].Text, "kernel.core_pattern=/var/crash/core.%e.%p.%t") {
		t.Error(p.Scripts[0].Text)
	}
	if _, err := PlanLinux(m, c, GoalPanic); err == nil || !strings.Contains(err.Error(), "alpine") {
		t.Errorf("no kdump recipe for Alpine: %v", err)
	}
}

func TestLinuxPlanHangAndErrors(t *testing.T) {
	m := Machine{OS: Linux, Release: "debian 12", Arch: "amd64", RAM: 8 * lxGiB}
	p, err := PlanLinux(m, LinuxConfig{}, GoalHang)
	if err != nil || p.Goal != GoalHang || !strings.Contains(strings.Join(p.Notes, " "), "hung_task_panic") {
		t.Errorf("hang: %v %q", err, p.Notes)
	}
	if !strings.Contains(p.Scripts[0].Text, `MAKEDUMP_ARGS '"-l -d 31"'`) {
		t.Error("a planned Debian machine gets MAKEDUMP_ARGS written out")
	}
	if _, err := PlanLinux(m, LinuxConfig{}, GoalBSOD); err == nil {
		t.Error("a blue screen is not a Linux goal")
	}
	if _, err := PlanLinux(Machine{OS: Windows}, LinuxConfig{}, GoalPanic); err == nil {
		t.Error("a Windows machine")
	}
}

func lxChangeKeys(p Plan) string {
	var k []string
	for _, c := range p.Changes {
		k = append(k, c.Key)
	}
	return strings.Join(k, ", ")
}

// The shell functions of the scripts, run on files in a temporary
// directory: save keeps the first state, setvar and setopt edit in place,
// restore puts back the file or removes one that did not exist.
func TestLinuxScriptHelpers(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	vars := filepath.Join(dir, "kdump-tools")
	conf := filepath.Join(dir, "kdump.conf")
	absent := filepath.Join(dir, "new.conf")
	origVars := "# MAKEDUMP_ARGS - extra arguments\n#MAKEDUMP_ARGS=\"-c -d 31\"\nUSE_KDUMP=0\n"
	origConf := "#core_collector makedumpfile -F -l --message-level 7 -d 31\npath /var/crash\ncore_collector makedumpfile -c -d 1\n"
	os.WriteFile(vars, []byte(origVars), 0o644)
	os.WriteFile(conf, []byte(origConf), 0o644)
	script := strings.Join([]string{"set -eu", "B=" + filepath.Join(dir, "backup"), `mkdir -p "$B"`,
		lxSaveFunc, lxSetvarFunc, lxSetoptFunc, lxRestoreFunc,
		"save " + vars, "save " + conf, "save " + absent,
		"setvar " + vars + " USE_KDUMP 1",
		"setvar " + vars + " MAKEDUMP_ARGS " + lxShQuote(`"-l -d 31"`),
		"setvar " + vars + " KDUMP_COREDIR /var/crash",
		"setopt " + conf + " core_collector " + lxShQuote("makedumpfile -l --message-level 7 -d 31"),
		"setopt " + conf + " failure_action shell",
		"echo made >" + absent,
		"save " + vars, // a second save keeps the first backup
		"keep state echo first", "keep state echo second",
		`cp "$B/state" ` + filepath.Join(dir, "state"),
	}, "\n")
	if out, err := exec.Command(sh, "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	if got, want := read(vars), "# MAKEDUMP_ARGS - extra arguments\nMAKEDUMP_ARGS=\"-l -d 31\"\nUSE_KDUMP=1\nKDUMP_COREDIR=/var/crash\n"; got != want {
		t.Errorf("setvar:\n%s\nwant\n%s", got, want)
	}
	if got, want := read(conf), "#core_collector makedumpfile -F -l --message-level 7 -d 31\npath /var/crash\ncore_collector makedumpfile -l --message-level 7 -d 31\nfailure_action shell\n"; got != want {
		t.Errorf("setopt:\n%s\nwant\n%s", got, want)
	}
	if got := read(filepath.Join(dir, "state")); got != "first\n" {
		t.Errorf("keep: %q", got)
	}
	restore := strings.Join([]string{"set -eu", "B=" + filepath.Join(dir, "backup"), lxRestoreFunc,
		"restore " + vars, "restore " + conf, "restore " + absent}, "\n")
	if out, err := exec.Command(sh, "-c", restore).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if read(vars) != origVars || read(conf) != origConf {
		t.Errorf("restore:\n%s\n%s", read(vars), read(conf))
	}
	if _, err := os.Stat(absent); !os.IsNotExist(err) {
		t.Error("a file that did not exist is removed again")
	}
}
