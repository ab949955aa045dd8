package crashcfg

import (
	"fmt"
	"slices"
	"strings"
)

// Where the generated scripts keep what they replace. revert.sh reads it
// back; apply.sh never overwrites a backup, so running it twice keeps the
// state from before the first run.
const lxBackupDir = "/var/lib/crashbench/backup/"

// Files the Linux scripts write. Drop-ins are applied in file-name order,
// so they are named to come late.
const (
	lxGrubDropin     = "/etc/default/grub.d/99-crashbench-crashkernel.cfg"
	lxSysctlDropin   = "/etc/sysctl.d/99-crashbench-coredump.conf"
	lxCoredumpDropin = "/etc/systemd/coredump.conf.d/99-crashbench.conf"
	lxSystemDropin   = "/etc/systemd/system.conf.d/99-crashbench-core.conf"
	lxCoresDir       = "/var/crash"
)

// lxSystemdPattern is the core_pattern systemd installs
// (/usr/lib/sysctl.d/50-coredump.conf, systemd-coredump(8)).
const lxSystemdPattern = "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h"

// PlanLinux is the recommendation for goal g on the Linux machine m, whose
// current configuration is c (from ReadLinux, or a zero LinuxConfig for a
// machine that is only planned). A kernel panic (or hang) gets kdump: a
// crashkernel= reservation through GRUB (Debian, Ubuntu) or grubby (RHEL
// family), kdump-tools or kdump.conf with makedumpfile -d 31 and
// compression, and the kdump service enabled. A service or application
// crash gets systemd-coredump with size limits above RAM (or, without
// systemd, a core_pattern file in /var/crash). Changes lists only what
// differs from c; Scripts are apply.sh, then revert.sh.
func PlanLinux(m Machine, c LinuxConfig, g Goal) (Plan, error) {
	if m.OS != "" && m.OS != Linux {
		return Plan{}, fmt.Errorf("PlanLinux: machine is %s", m.OS)
	}
	switch g {
	case GoalPanic, GoalHang:
		return lxPlanKdump(m, c, g)
	case GoalService, GoalApp:
		return lxPlanCores(m, c, g)
	}
	return Plan{}, fmt.Errorf("goal %q does not apply to Linux (use panic, hang, service or app)", g)
}

// lxScript builds apply.sh and revert.sh side by side: each step adds its
// apply commands, and its undo commands, which revert.sh runs in reverse
// order.
type lxScript struct {
	apply []string
	undo  [][]string
}

func (s *lxScript) do(lines ...string) { s.apply = append(s.apply, lines...) }

func (s *lxScript) undoWith(lines ...string) { s.undo = append(s.undo, lines) }

// lxShellHelpers are the functions both scripts define.
const lxSaveFunc = `# save FILE: keep FILE (or a note that it did not exist) in the backup,
# once: a second run keeps the first backup.
save() {
	n=$(printf %s "$1" | tr / _)
	if [ -e "$B/$n" ] || [ -e "$B/$n.absent" ]; then return 0; fi
	if [ -e "$1" ]; then cp -p "$1" "$B/$n"; else : >"$B/$n.absent"; fi
}
# keep NAME COMMAND...: keep the output of COMMAND in the backup as NAME, once.
keep() {
	n=$1
	shift
	[ -e "$B/$n" ] || "$@" >"$B/$n"
}`

const lxRestoreFunc = `# restore FILE: put back the saved FILE, or remove it if it did not exist.
restore() {
	n=$(printf %s "$1" | tr / _)
	if [ -e "$B/$n.absent" ]; then
		rm -f "$1"
	elif [ -e "$B/$n" ]; then
		cp -p "$B/$n" "$1"
	fi
}`

const lxSetvarFunc = `# setvar FILE VAR VALUE: set VAR=VALUE in a shell-style file, replacing
# the line that sets it (or the commented-out one), else appending it.
setvar() {
	if grep -Eq "^[#[:space:]]*$2=" "$1"; then
		sed -i -E "s|^[#[:space:]]*$2=.*|$2=$3|" "$1"
	else
		printf '%s=%s\n' "$2" "$3" >>"$1"
	fi
}`

const lxSetoptFunc = `# setopt FILE KEY VALUE: set "KEY VALUE" in kdump.conf, replacing the
# line that sets KEY (commented-out examples are left alone), else appending.
setopt() {
	if grep -Eq "^$2[[:space:]]" "$1"; then
		sed -i -E "s|^$2[[:space:]].*|$2 $3|" "$1"
	else
		printf '%s %s\n' "$2" "$3" >>"$1"
	fi
}`

// render writes the two scripts.
// read says whether the machine was read: if not, an empty From is
// unknown rather than unset.
func (s *lxScript) render(title, id string, m Machine, read bool, changes []Change, after string) []Script {
	var head strings.Builder
	fmt.Fprintf(&head, "# crashbench: %s\n", title)
	fmt.Fprintf(&head, "# For %s.\n", lxMachineText(m))
	head.WriteString("# Changes:\n")
	for _, ch := range changes {
		fmt.Fprintf(&head, "#   %s: %s -> %s\n", lxComment(ch.Key), lxComment(lxOr(ch.From, lxIf(read, "(unset)", "(not read)"))), lxComment(ch.To))
	}
	b := lxBackupDir + id

	var a strings.Builder
	a.WriteString("#!/bin/sh\n")
	a.WriteString(head.String())
	a.WriteString("# Review it, then run it as root. It saves what it replaces in\n# " + b + "; revert.sh puts it back.\n")
	a.WriteString("set -eu\n")
	a.WriteString(`[ "$(id -u)" -eq 0 ] || { echo "apply.sh: run as root" >&2; exit 1; }` + "\n")
	a.WriteString("B=" + b + "\n")
	a.WriteString("mkdir -p \"$B\"\nchmod 700 \"$B\"\n\n")
	a.WriteString(lxSaveFunc + "\n")
	body := strings.TrimRight(strings.Join(s.apply, "\n"), "\n")
	if strings.Contains(body, "setvar ") {
		a.WriteString(lxSetvarFunc + "\n")
	}
	if strings.Contains(body, "setopt ") {
		a.WriteString(lxSetoptFunc + "\n")
	}
	a.WriteString("\n" + body + "\n")
	if after != "" {
		a.WriteString("\necho " + lxShQuote(after) + "\n")
	}

	var r strings.Builder
	r.WriteString("#!/bin/sh\n")
	fmt.Fprintf(&r, "# crashbench: undo apply.sh (%s)\n", title)
	fmt.Fprintf(&r, "# For %s.\n", lxMachineText(m))
	r.WriteString("# Puts back what apply.sh saved in " + b + ".\n")
	r.WriteString("set -eu\n")
	r.WriteString(`[ "$(id -u)" -eq 0 ] || { echo "revert.sh: run as root" >&2; exit 1; }` + "\n")
	r.WriteString("B=" + b + "\n")
	r.WriteString(`[ -d "$B" ] || { echo "revert.sh: no backup in $B: apply.sh has not run" >&2; exit 1; }` + "\n\n")
	r.WriteString(lxRestoreFunc + "\n")
	for i := len(s.undo) - 1; i >= 0; i-- {
		r.WriteString("\n" + strings.Join(s.undo[i], "\n") + "\n")
	}
	r.WriteString("\nrm -rf \"$B\"\necho \"Reverted.\"\n")
	return []Script{{Name: "apply.sh", Text: a.String()}, {Name: "revert.sh", Text: r.String()}}
}

func lxMachineText(m Machine) string {
	var parts []string
	parts = append(parts, lxOr(m.Release, "Linux"))
	if m.Arch != "" {
		parts = append(parts, m.Arch)
	}
	if m.RAM > 0 {
		parts = append(parts, lxHuman(m.RAM)+" RAM")
	}
	return strings.Join(parts, ", ")
}

func lxOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// lxComment makes s safe on one comment line.
func lxComment(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}

// lxShQuote quotes s for sh.
func lxShQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lxServiceStep enables a unit, remembering whether it was enabled.
func lxServiceStep(s *lxScript, unit string) {
	s.do("# Start "+unit+" at every boot.",
		"keep "+unit+".enabled sh -c 'systemctl is-enabled "+unit+" 2>/dev/null || true'",
		"systemctl enable "+unit)
	s.undoWith(`if [ -e "$B/`+unit+`.enabled" ] && [ "$(cat "$B/`+unit+`.enabled")" != enabled ]; then`,
		"\tsystemctl disable "+unit+" || true",
		"fi")
}

// ---- kernel panics ----

func lxPlanKdump(m Machine, c LinuxConfig, g Goal) (Plan, error) {
	family := DistroFamily(m.Release, c.OSLike)
	if family == "" {
		return Plan{}, fmt.Errorf("no kdump recipe for %q: supported are Debian, Ubuntu and the RHEL family (RHEL, CentOS, Rocky, Alma, Fedora)", lxOr(m.Release, "an unknown distribution"))
	}
	_, major := lxRelease(m.Release)
	rec := CrashkernelFor(m)
	ckValue := CrashkernelValue(m)
	p := Plan{OS: Linux, Goal: g}

	var changes []Change
	// crashkernel=: change it unless what is set already reserves at
	// least the documented default for this RAM.
	if !c.CrashkernelSet || c.CrashkernelErr != "" || c.Crashkernel.For(m.RAM) < rec.Bytes && !c.Crashkernel.Auto {
		from := ""
		if c.CrashkernelSet {
			from = c.Crashkernel.Raw
		}
		changes = append(changes, Change{Key: "crashkernel= (kernel command line)", From: from, To: ckValue, Why: rec.Basis})
	}
	args, md := c.KdumpArgs()
	if family == "rhel" && !c.KdumpConf {
		args = "makedumpfile -l --message-level 7 -d 31" // kdump.conf(5)'s default
		md = ParseMakedumpfile(args)
	}
	var s lxScript
	var after string
	switch family {
	case "debian":
		installed := c.KdumpService == "kdump-tools.service"
		if !installed {
			changes = append(changes, Change{Key: "package kdump-tools", From: lxIf(c.Read, "not installed", ""), To: "installed",
				Why: "kdump-config and kdump-tools.service load the crash kernel and save the vmcore (kdump-tools(5))"})
		}
		if c.KdumpToolsVars["USE_KDUMP"] != "1" {
			changes = append(changes, Change{Key: "/etc/default/kdump-tools USE_KDUMP", From: c.KdumpToolsVars["USE_KDUMP"], To: "1",
				Why: "unset or 0, kdump-tools does nothing (kdump-tools(5))"})
		}
		// A machine that was not read gets every value written out: its
		// state is unknown.
		newArgs := ""
		if !c.Read || md.DumpLevel != 31 || md.Compression == "" {
			newArgs = "-l -d 31"
			changes = append(changes, Change{Key: "/etc/default/kdump-tools MAKEDUMP_ARGS", From: c.KdumpToolsVars["MAKEDUMP_ARGS"], To: newArgs,
				Why: "dump level 31 keeps kernel memory only; -l compresses with lzo (Debian 12's makedumpfile is built with lzo and zlib, not zstd) (makedumpfile(8))"})
			args = newArgs
		}
		if !c.KdumpEnabled {
			changes = append(changes, Change{Key: "kdump-tools.service", From: lxIf(c.Read, lxIf(installed, "disabled", "not installed"), ""), To: "enabled",
				Why: "loads the crash kernel at boot"})
		}
		lxDebianKdumpScript(&s, changes, ckValue, newArgs)
		after = "Done. Reboot so that crashkernel= reserves the memory, then check: kdump-config show (or crashbench config check)."
	case "rhel":
		pkg := lxIf(major >= 10 || strings.HasPrefix(strings.ToLower(m.Release), "fedora"), "kdump-utils", "kexec-tools")
		installed := c.KdumpService == "kdump.service"
		if !installed {
			changes = append(changes, Change{Key: "package " + pkg, From: lxIf(c.Read, "not installed", ""), To: "installed",
				Why: "kdumpctl and kdump.service load the crash kernel and save the vmcore"})
		}
		newCollector := ""
		if !c.Read || md.DumpLevel != 31 || md.Compression == "" {
			newCollector = "makedumpfile -l --message-level 7 -d 31"
			changes = append(changes, Change{Key: "/etc/kdump.conf core_collector", From: c.CoreCollector, To: newCollector,
				Why: "Red Hat's default: dump level 31 keeps kernel memory only, -l compresses with lzo (kdump.conf(5), makedumpfile(8))"})
			args = newCollector
		}
		if !c.KdumpEnabled {
			changes = append(changes, Change{Key: "kdump.service", From: lxIf(c.Read, lxIf(installed, "disabled", "not installed"), ""), To: "enabled",
				Why: "loads the crash kernel at boot"})
		}
		lxRHELKdumpScript(&s, changes, pkg, ckValue, newCollector)
		after = "Done. Reboot so that crashkernel= reserves the memory, then check: kdumpctl status (or crashbench config check)."
	}
	md = ParseMakedumpfile(args)

	p.Changes = changes
	p.DumpType = fmt.Sprintf("kdump (makedumpfile -d %d, %s)", md.DumpLevel, lxOr(md.Compression, "uncompressed"))
	p.Why = "A panicked kernel cannot save itself: kdump boots a second kernel from memory reserved at boot (crashkernel=), which saves the first kernel's memory as a vmcore (kdump.rst)."
	p.Answers = "The panic message and backtrace, every task's kernel stack, locks, kernel data structures and the kernel log, with crash(8) or drgn. Dump level 31 leaves out user-space memory."
	p.Privacy = "Kernel memory: disk-encryption and keyring keys, network buffers, file data the kernel holds. Keep vmcores readable by root only."
	p.Size = VmcoreSize(m.RAM, md.DumpLevel)
	p.Space = VmcoreSpace(m.RAM)
	var mbps float64
	if len(m.Disks) > 0 {
		mbps = m.Disks[0].WriteMBps
	}
	var basis string
	p.Size.Time, basis = lxWriteTime(p.Size.Bytes, mbps)
	p.Size.Basis += "; " + basis
	p.Test = "As root, on a machine you can afford to crash, with nothing unsaved: sync; echo c > /proc/sysrq-trigger. " +
		"WARNING: this crashes the kernel at once (writes to /proc/sysrq-trigger are allowed whatever kernel.sysrq says). " +
		"The capture kernel then saves the vmcore in " + c.KdumpDir() + " and reboots (" + lxSrcSysrq + ")."
	p.Notes = append(p.Notes, "crashkernel= takes effect at the next boot: the memory is reserved then and the kdump service can load the capture kernel.")
	if family == "rhel" {
		p.Notes = append(p.Notes, "kdumpctl estimate, run as root on the machine, gives a size measured from its kernel, initramfs and modules; Red Hat prefers it to the table value.")
	}
	if g == GoalHang {
		p.Notes = append(p.Notes, "A hang does not panic by itself: trigger the dump with echo c > /proc/sysrq-trigger (or Alt+SysRq+C) while it hangs, or let the kernel panic on a hang with kernel.hung_task_panic=1, kernel.softlockup_panic=1 or kernel.panic_on_rcu_stall=1 ("+lxSrcSysctlKernel+").")
	}
	if len(changes) == 0 {
		p.Notes = append(p.Notes, "Nothing to change: kdump is configured as recommended.")
	}
	p.Scripts = s.render("capture kernel panics with kdump", "linux-kdump", m, c.Read, changes, after)
	return p, nil
}

func lxHas(changes []Change, prefix string) bool {
	return slices.ContainsFunc(changes, func(c Change) bool { return strings.HasPrefix(c.Key, prefix) })
}

func lxDebianKdumpScript(s *lxScript, changes []Change, ckValue, makedumpArgs string) {
	if lxHas(changes, "package kdump-tools") {
		s.do("# Install kdump-tools (kdump-config, kdump-tools.service, makedumpfile).",
			"command -v kdump-config >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y kdump-tools",
			"")
		s.undoWith("# kdump-tools stays installed: apt-get remove kdump-tools to remove it.")
	}
	if lxHas(changes, "/etc/default/kdump-tools") {
		s.do("# /etc/default/kdump-tools (kdump-tools(5)).", "save /etc/default/kdump-tools")
		if lxHas(changes, "/etc/default/kdump-tools USE_KDUMP") {
			s.do("setvar /etc/default/kdump-tools USE_KDUMP 1")
		}
		if makedumpArgs != "" {
			s.do("setvar /etc/default/kdump-tools MAKEDUMP_ARGS " + lxShQuote(`"`+makedumpArgs+`"`))
		}
		s.do("")
		s.undoWith("restore /etc/default/kdump-tools")
	}
	if lxHas(changes, "crashkernel=") {
		s.do("# Reserve memory for the crash kernel. grub.d files are read in name order",
			"# after /etc/default/grub, and the kernel uses the last crashkernel=, so this one wins.",
			"save "+lxGrubDropin,
			"mkdir -p /etc/default/grub.d",
			"cat >"+lxGrubDropin+" <<'EOF'",
			"# crashbench: memory for the kdump capture kernel (kernel-parameters.txt, kdump.rst)",
			`GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=`+ckValue+`"`,
			"EOF",
			"update-grub",
			"")
		s.undoWith("restore "+lxGrubDropin, "update-grub")
	}
	if lxHas(changes, "kdump-tools.service") {
		lxServiceStep(s, "kdump-tools.service")
	}
}

func lxRHELKdumpScript(s *lxScript, changes []Change, pkg, ckValue, collector string) {
	if lxHas(changes, "package ") {
		s.do("# Install "+pkg+" (kdumpctl, kdump.service, makedumpfile).",
			"command -v kdumpctl >/dev/null 2>&1 || dnf install -y "+pkg,
			"")
		s.undoWith("# " + pkg + " stays installed: dnf remove " + pkg + " to remove it.")
	}
	if collector != "" {
		s.do("# /etc/kdump.conf (kdump.conf(5)).",
			"save /etc/kdump.conf",
			"setopt /etc/kdump.conf core_collector "+lxShQuote(collector),
			"")
		s.undoWith("restore /etc/kdump.conf")
	}
	if lxHas(changes, "crashkernel=") {
		s.do("# Reserve memory for the crash kernel on every installed kernel (grubby(8)).",
			"# The value in use now is kept for revert.sh.",
			`keep crashkernel sh -c 'grubby --info=DEFAULT | sed -n "s/^args=.*crashkernel=\([^ \"]*\).*/\1/p"'`,
			`grubby --update-kernel=ALL --args="crashkernel=`+ckValue+`"`,
			"")
		s.undoWith(`old=$(cat "$B/crashkernel")`,
			`if [ -n "$old" ]; then`,
			`	grubby --update-kernel=ALL --args="crashkernel=$old"`,
			"else",
			"	grubby --update-kernel=ALL --remove-args=crashkernel",
			"fi")
	}
	if lxHas(changes, "kdump.service") {
		lxServiceStep(s, "kdump.service")
	}
}

// ---- process crashes ----

func lxPlanCores(m Machine, c LinuxConfig, g Goal) (Plan, error) {
	p := Plan{OS: Linux, Goal: g}
	family := DistroFamily(m.Release, c.OSLike)
	systemd := c.Systemd || !c.Read
	var s lxScript
	var changes []Change

	// The biggest process a core must hold: RAM bounds a process's
	// anonymous memory (coredump_filter's default dumps that), and the
	// biggest process seen may already be near it.
	need := lxRoundUpGiB(m.RAM)
	var biggest string
	if len(c.Biggest) > 0 {
		b := c.Biggest[0]
		biggest = fmt.Sprintf("; the biggest process now is %s (pid %d), %s resident", b.Name, b.PID, lxHuman(b.RSS))
		need = max(need, lxRoundUpGiB(b.RSS))
	}
	if !systemd {
		return lxPlanCoreFiles(m, c, g, need, biggest)
	}

	// systemd-coredump and the core_pattern that feeds it.
	if !c.SystemdCoredump && family == "debian" {
		changes = append(changes, Change{Key: "package systemd-coredump", From: lxIf(c.Read, "not installed", ""), To: "installed",
			Why: "Debian and Ubuntu ship systemd-coredump in its own package (systemd-coredump(8))"})
	}
	var sysctl []string
	if !c.CorePattern.ToSystemdCoredump() {
		changes = append(changes, Change{Key: "kernel.core_pattern", From: c.CorePattern.Raw, To: lxSystemdPattern,
			Why: "pipe cores to systemd-coredump, which stores them compressed in /var/lib/systemd/coredump, with coredumpctl to list them (core(5), systemd-coredump(8))"})
		sysctl = append(sysctl, "kernel.core_pattern="+lxSystemdPattern)
	}
	if !c.SuidDumpableKnown && !c.Read || c.SuidDumpableKnown && c.SuidDumpable != 2 {
		changes = append(changes, Change{Key: "fs.suid_dumpable", From: lxIf(c.SuidDumpableKnown, fmt.Sprint(c.SuidDumpable), ""), To: "2",
			Why: "services that drop privileges (change UID or GID) dump too, readable by root only (proc(5))"})
		sysctl = append(sysctl, "fs.suid_dumpable=2")
	}
	var conf []string
	if st := c.CoredumpValue("Storage"); st != "" && st != "external" {
		changes = append(changes, Change{Key: "coredump.conf Storage", From: st, To: "external",
			Why: "keep cores as files in /var/lib/systemd/coredump (coredump.conf(5))"})
		conf = append(conf, "Storage=external")
	}
	for _, key := range []string{"ProcessSizeMax", "ExternalSizeMax"} {
		if c.CoredumpSize(key) < need {
			changes = append(changes, Change{Key: "coredump.conf " + key, From: c.CoredumpValue(key), To: lxMemSuffix(need),
				Why: fmt.Sprintf("a core up to %s (RAM%s) must be %s (coredump.conf(5))", lxHuman(need), biggest,
					lxIf(key == "ProcessSizeMax", "processed for a backtrace", "stored"))})
			conf = append(conf, key+"="+lxMemSuffix(need))
		}
	}
	dl := c.DefaultLimitCORE.Value
	soft, _, _ := strings.Cut(dl, ":")
	if n, err := ParseSystemdSize(soft); dl != "" && err == nil && n < 4096 {
		changes = append(changes, Change{Key: "DefaultLimitCORE (systemd system.conf)", From: dl, To: "infinity",
			Why: "services inherit this RLIMIT_CORE: a file core_pattern then writes no core, and systemd-coredump drops cores when core_pattern passes it the limit (%c) (systemd-system.conf(5), core(5))"})
	}

	if lxHas(changes, "package systemd-coredump") {
		s.do("# Install systemd-coredump (it also installs /usr/lib/sysctl.d/50-coredump.conf).",
			"command -v coredumpctl >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y systemd-coredump",
			"")
		s.undoWith("# systemd-coredump stays installed: apt-get remove systemd-coredump to remove it.")
	}
	if len(sysctl) > 0 {
		s.do("# Kernel settings (core(5), proc(5)). sysctl.d files apply in name order;",
			"# the values in force now are kept for revert.sh.",
			"save "+lxSysctlDropin)
		var undo []string
		for _, kv := range sysctl {
			k, _, _ := strings.Cut(kv, "=")
			s.do("keep sysctl." + k + " sysctl -n " + k)
			undo = append(undo, `sysctl -w "`+k+`=$(cat "$B/sysctl.`+k+`")"`)
		}
		s.do("cat >"+lxSysctlDropin+" <<'EOF'", "# crashbench: process crashes go to systemd-coredump")
		s.do(sysctl...)
		s.do("EOF", "sysctl -p "+lxSysctlDropin, "")
		s.undoWith(append([]string{"restore " + lxSysctlDropin}, undo...)...)
	}
	if len(conf) > 0 {
		s.do("# systemd-coredump limits (coredump.conf(5)): drop-ins apply in name order,",
			"# this one late, so it overrides the others. systemd-coredump runs anew for each crash:",
			"# nothing to restart.",
			"save "+lxCoredumpDropin,
			"mkdir -p /etc/systemd/coredump.conf.d",
			"cat >"+lxCoredumpDropin+" <<'EOF'",
			"# crashbench: keep cores of processes as big as RAM",
			"[Coredump]")
		s.do(conf...)
		s.do("EOF", "")
		s.undoWith("restore " + lxCoredumpDropin)
	}
	if lxHas(changes, "DefaultLimitCORE") {
		s.do("# Let services dump core (systemd-system.conf(5)).",
			"save "+lxSystemDropin,
			"mkdir -p /etc/systemd/system.conf.d",
			"cat >"+lxSystemDropin+" <<'EOF'",
			"[Manager]",
			"DefaultLimitCORE=infinity",
			"EOF",
			"systemctl daemon-reexec",
			"")
		s.undoWith("restore "+lxSystemDropin, "systemctl daemon-reexec")
	}

	p.Changes = changes
	p.DumpType = "systemd-coredump (process core, compressed)"
	p.Why = "A crashing process's memory is lost when it exits; the kernel writes it as a core dump, which systemd-coredump stores and coredumpctl lists, with the unit, command line and a backtrace."
	p.Answers = "The crashing thread's stack and every thread's, registers, heap and globals: what the process was doing, with gdb or coredumpctl debug."
	p.Privacy = "The whole process memory: passwords, session tokens and keys it held. systemd-coredump keeps cores readable by root (and the process's user)."
	p.Size = Estimate{Bytes: need, Estimate: true, Source: lxSrcCore + "; " + lxSrcCoredump,
		Basis: fmt.Sprintf("a core holds the process's anonymous memory (coredump_filter 0x33): at most about RAM, %s%s", lxHuman(need), biggest)}
	var mbps float64
	if len(m.Disks) > 0 {
		mbps = m.Disks[0].WriteMBps
	}
	var basis string
	p.Size.Time, basis = lxWriteTime(p.Size.Bytes, mbps)
	p.Size.Basis += "; " + basis
	p.Space = Estimate{Bytes: need, Estimate: true, Source: lxSrcCoredumpCfg,
		Basis: "the core uncompressed, an upper bound: systemd-coredump compresses external cores (Compress=yes), and keeps KeepFree= (15% of the file system by default) free"}
	p.Test = "Crash a throw-away process: sleep 100 & kill -SEGV $! ; then coredumpctl list sleep and coredumpctl info sleep. " +
		"To test a real service, kill -SEGV <its PID> (this kills it; systemd restarts it only if its unit says Restart=)."
	if strings.Contains(c.CorePattern.Raw, "apport") {
		p.Notes = append(p.Notes, "Ubuntu's apport sets core_pattern when it starts: systemctl disable --now apport, or it takes cores back at the next boot.")
	}
	if lxHas(changes, "kernel.core_pattern") {
		p.Notes = append(p.Notes, "/etc/sysctl.d/99-sysctl.conf (a link to /etc/sysctl.conf) is applied after "+lxSysctlDropin+": a core_pattern set there wins at boot ("+lxSrcSysctlD+").")
	}
	for _, f := range c.CoredumpFiles {
		if strings.Contains(f, ".conf.d/") && f[strings.LastIndexByte(f, '/')+1:] > "99-crashbench.conf" {
			p.Notes = append(p.Notes, f+" is applied after "+lxCoredumpDropin+" and overrides it where both set a key.")
		}
	}
	if !c.SystemdCoredump && family == "" {
		p.Notes = append(p.Notes, "Install systemd-coredump if your distribution packages it apart from systemd: "+lxSystemdPattern[1:strings.IndexByte(lxSystemdPattern, ' ')]+" must exist.")
	}
	p.Notes = append(p.Notes, "Processes started from a login shell also need ulimit -c above 0 (ulimit -c unlimited); services get systemd's limit.")
	if len(changes) == 0 {
		p.Notes = append(p.Notes, "Nothing to change: systemd-coredump is set up as recommended.")
	}
	p.Scripts = s.render("keep core dumps of crashing processes with systemd-coredump", "linux-cores", m, c.Read, changes,
		"Done. Test it: sleep 100 & kill -SEGV $! ; coredumpctl list sleep")
	return p, nil
}

// lxPlanCoreFiles is the plan without systemd: the kernel writes core
// files into /var/crash.
func lxPlanCoreFiles(m Machine, c LinuxConfig, g Goal, need uint64, biggest string) (Plan, error) {
	p := Plan{OS: Linux, Goal: g}
	pattern := lxCoresDir + "/core.%e.%p.%t"
	var changes []Change
	var sysctl []string
	if c.CorePattern.Raw != pattern {
		changes = append(changes, Change{Key: "kernel.core_pattern", From: c.CorePattern.Raw, To: pattern,
			Why: "an absolute path (required with fs.suid_dumpable=2), with the program name, PID and time so cores do not overwrite each other (core(5))"})
		sysctl = append(sysctl, "kernel.core_pattern="+pattern)
	}
	if !c.SuidDumpableKnown || c.SuidDumpable != 2 {
		changes = append(changes, Change{Key: "fs.suid_dumpable", From: lxIf(c.SuidDumpableKnown, fmt.Sprint(c.SuidDumpable), ""), To: "2",
			Why: "services that drop privileges dump too, readable by root only (proc(5))"})
		sysctl = append(sysctl, "fs.suid_dumpable=2")
	}
	if c.RlimitCoreKnown && c.RlimitCore == 0 {
		changes = append(changes, Change{Key: "RLIMIT_CORE (login sessions)", From: "0", To: "unlimited",
			Why: "with a limit of 0 the kernel writes no core file (core(5))"})
	}
	var s lxScript
	s.do("# A directory every process can write its core to; cores are created mode 0600.",
		"mkdir -p "+lxCoresDir, "chmod 1777 "+lxCoresDir, "")
	if len(sysctl) > 0 {
		s.do("save " + lxSysctlDropin)
		var undo []string
		for _, kv := range sysctl {
			k, _, _ := strings.Cut(kv, "=")
			s.do("keep sysctl." + k + " sysctl -n " + k)
			undo = append(undo, `sysctl -w "`+k+`=$(cat "$B/sysctl.`+k+`")"`)
		}
		s.do("cat >"+lxSysctlDropin+" <<'EOF'", "# crashbench: core files in "+lxCoresDir)
		s.do(sysctl...)
		s.do("EOF", "sysctl -p "+lxSysctlDropin, "")
		s.undoWith(append([]string{"restore " + lxSysctlDropin}, undo...)...)
	}
	if lxHas(changes, "RLIMIT_CORE") {
		s.do("# Lift the core size limit for login sessions (limits.conf(5), pam_limits).",
			"save /etc/security/limits.d/99-crashbench-core.conf",
			"mkdir -p /etc/security/limits.d",
			"echo '* soft core unlimited' >/etc/security/limits.d/99-crashbench-core.conf", "")
		s.undoWith("restore /etc/security/limits.d/99-crashbench-core.conf")
	}
	p.Changes = changes
	p.DumpType = "core file (kernel, " + lxCoresDir + ")"
	p.Why = "Without systemd-coredump the kernel writes the core file itself, where core_pattern says."
	p.Answers = "The crashing thread's stack and every thread's, registers, heap and globals, with gdb."
	p.Privacy = "The whole process memory: passwords, session tokens and keys it held. Core files are created mode 0600."
	p.Size = Estimate{Bytes: need, Estimate: true, Source: lxSrcCore,
		Basis: fmt.Sprintf("a core holds the process's anonymous memory (coredump_filter 0x33): at most about RAM, %s%s", lxHuman(need), biggest)}
	p.Space = p.Size
	p.Test = "sleep 100 & kill -SEGV $! ; ls -l " + lxCoresDir + " (the shell needs ulimit -c unlimited first)."
	p.Notes = append(p.Notes, "Old cores are never removed: clean "+lxCoresDir+" yourself.")
	p.Scripts = s.render("keep core dumps of crashing processes in "+lxCoresDir, "linux-cores", m, c.Read, changes,
		"Done. Test it: ulimit -c unlimited; sleep 100 & kill -SEGV $! ; ls -l "+lxCoresDir)
	return p, nil
}
