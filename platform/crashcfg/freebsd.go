package crashcfg

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// The documentation the FreeBSD helpers cite.
const (
	fbSrcRCConf   = "https://man.freebsd.org/cgi/man.cgi?query=rc.conf&sektion=5"
	fbSrcDefaults = "https://cgit.freebsd.org/src/tree/libexec/rc/rc.conf (/etc/defaults/rc.conf)"
	fbSrcDumpon   = "https://man.freebsd.org/cgi/man.cgi?query=dumpon&sektion=8"
	fbSrcSavecore = "https://man.freebsd.org/cgi/man.cgi?query=savecore&sektion=8"
	fbSrcRCD      = "https://cgit.freebsd.org/src/tree/libexec/rc/rc.d/dumpon and rc.d/savecore"
	fbSrcHandbook = "https://docs.freebsd.org/en/books/developers-handbook/kerneldebug/ (Obtaining a Kernel Crash Dump)"
)

// FreeBSDConfig is what decides whether a FreeBSD panic leaves a dump: the
// rc.conf variables that configure dumpon(8) and savecore(8), and the
// kernel's state.
type FreeBSDConfig struct {
	Read bool
	Root string
	// RC holds the rc.conf variables in force: /etc/defaults/rc.conf,
	// then /etc/rc.conf, /etc/rc.conf.local and /etc/rc.conf.d/{dumpon,
	// savecore}, later files overriding earlier ones; File says which set
	// each.
	RC map[string]ConfValue
	// Defaults are /etc/defaults/rc.conf's values, when it was read.
	Defaults map[string]string
	// DumpDevNow is the dump device the running kernel has
	// (kern.shutdown.dumpdevname; "" when none).
	DumpDevNow      string
	DumpDevNowKnown bool
	Minidump        bool // debug.minidump: 1 (the default) dumps kernel pages only
	MinidumpKnown   bool
	PhysMem         uint64 // hw.physmem, bytes
	OSRelease       string // kern.osrelease: "14.1-RELEASE"
	Arch            string // hw.machine_arch: "amd64"
	SwapDevices     []string
	FstabKnown      bool
	DumpDirExists   bool
}

// Get is an rc.conf variable in force ("" when unset).
func (c FreeBSDConfig) Get(name string) string { return c.RC[name].Value }

// fbRCFiles are read in this order (rc.conf(5): rc_conf_files is
// "/etc/rc.conf /etc/rc.conf.local"; load_rc_config then reads
// /etc/rc.conf.d/<name> for each rc.d script).
var fbRCFiles = []string{"/etc/defaults/rc.conf", "/etc/rc.conf", "/etc/rc.conf.local", "/etc/rc.conf.d/dumpon", "/etc/rc.conf.d/savecore"}

// ReadFreeBSD reads the FreeBSD machine whose filesystem is at root ("/"
// on the machine itself, a fixture tree in tests); sysctl reads a sysctl
// value (FreeBSDSysctl on the machine; nil when there is none). Missing
// files and failed sysctls leave values unknown.
func ReadFreeBSD(root string, sysctl func(name string) (string, error)) (FreeBSDConfig, Machine, error) {
	if root == "" {
		root = "/"
	}
	c := FreeBSDConfig{Read: true, Root: root, RC: map[string]ConfValue{}, Defaults: map[string]string{}}
	r := lxReader{root: root}
	for _, f := range fbRCFiles {
		vars, ok := r.shellVars(f)
		if !ok {
			continue
		}
		for k, v := range vars {
			c.RC[k] = ConfValue{Value: v, File: f}
			if f == "/etc/defaults/rc.conf" {
				c.Defaults[k] = v
			}
		}
	}
	get := func(names ...string) (string, bool) {
		if sysctl == nil {
			return "", false
		}
		for _, n := range names {
			if v, err := sysctl(n); err == nil {
				return strings.TrimSpace(v), true
			}
		}
		return "", false
	}
	// kern.shutdown.dumpdevname is what dumpon -l reads; kern.dumpdev is
	// its old name.
	if v, ok := get("kern.shutdown.dumpdevname", "kern.dumpdev"); ok {
		c.DumpDevNow, c.DumpDevNowKnown = v, true
	}
	if v, ok := get("debug.minidump"); ok {
		c.Minidump, c.MinidumpKnown = v != "0", true
	}
	if v, ok := get("hw.physmem"); ok {
		c.PhysMem, _ = strconv.ParseUint(v, 10, 64)
	}
	c.OSRelease, _ = get("kern.osrelease")
	c.Arch, _ = get("hw.machine_arch")
	if lines, ok := r.lines("/etc/fstab"); ok {
		c.FstabKnown = true
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) >= 3 && !strings.HasPrefix(f[0], "#") && f[2] == "swap" {
				c.SwapDevices = append(c.SwapDevices, f[0])
			}
		}
	}
	c.DumpDirExists = lxIsDir(root, c.dumpDir())
	m := Machine{OS: FreeBSD, RAM: c.PhysMem, Arch: c.Arch, Release: c.OSRelease}
	return c, m, nil
}

// FreeBSDSysctl reads a sysctl on the machine this runs on (sysctl -n).
func FreeBSDSysctl(name string) (string, error) {
	out, err := exec.Command("sysctl", "-n", name).Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// dumpDir is dumpdir in force; rc.d/savecore uses /var/crash when empty.
func (c FreeBSDConfig) dumpDir() string {
	return lxOr(c.Get("dumpdir"), "/var/crash")
}

// FreeBSDSettings lists the crash-dump settings of a FreeBSD machine.
func FreeBSDSettings(c FreeBSDConfig) []Setting {
	var out []Setting
	rc := func(name, def, valid, meaning string) {
		v, ok := c.RC[name]
		s := Setting{Group: "rc.conf", Key: name, Value: v.Value, Set: ok && v.File != "/etc/defaults/rc.conf", Default: def, Valid: valid, Meaning: meaning,
			Source: fbSrcRCConf + ", " + fbSrcDefaults}
		if ok && v.File != "/etc/defaults/rc.conf" {
			s.Meaning += " (set in " + v.File + ")"
		}
		out = append(out, s)
	}
	dumpdev := c.Get("dumpdev")
	var dm string
	switch strings.ToUpper(dumpdev) {
	case "", "NO":
		dm = "no dump device: a panic leaves no dump"
	case "AUTO":
		dm = "the first swap device in /etc/fstab (or the dumpdev loader variable)"
		if len(c.SwapDevices) > 0 {
			dm += ": " + c.SwapDevices[0]
		} else if c.FstabKnown {
			dm += ": /etc/fstab has none, so no dump device"
		}
	default:
		dm = "dumps go to " + dumpdev
	}
	rc("dumpdev", fbDefault(c, "dumpdev", "AUTO in the main branch's /etc/defaults/rc.conf; NO on release branches (Developers' Handbook); the installer asks"),
		"a device (usually swap), AUTO, or NO", dm)
	rc("dumpon_flags", fbDefault(c, "dumpon_flags", "empty"), "dumpon(8) options: -Z (zstd) or -z (gzip) compression, -k pubkey (encryption)",
		"options passed to dumpon before the device")
	rc("dumpdir", fbDefault(c, "dumpdir", "/var/crash"), "a directory", "savecore writes vmcore.N and info.N here at boot"+lxIf(c.Read && !c.DumpDirExists, "; it does not exist", ""))
	rc("savecore_enable", fbDefault(c, "savecore_enable", "YES"), "YES or NO", lxIf(strings.EqualFold(lxOr(c.Get("savecore_enable"), "YES"), "YES"),
		"savecore copies a dump from the dump device at boot", "the dump stays on the dump device, where swapping overwrites it"))
	rc("savecore_flags", fbDefault(c, "savecore_flags", "-m 10"), "savecore(8) options", "-m N keeps the N most recent dumps; -z compresses")
	rc("crashinfo_enable", fbDefault(c, "crashinfo_enable", "YES"), "YES or NO", "crashinfo writes a text summary (core.txt.N) beside each dump")
	out = append(out, Setting{Group: "kernel", Key: "kern.shutdown.dumpdevname", Value: lxIf(c.DumpDevNowKnown, c.DumpDevNow, "unknown"), Set: c.DumpDevNowKnown,
		Default: "empty until dumpon runs", Valid: "a device name, or empty",
		Meaning: lxIf(!c.DumpDevNowKnown, "unknown", lxIf(c.DumpDevNow == "", "the running kernel has no dump device (dumpon -l prints /dev/null)", "the running kernel dumps to "+c.DumpDevNow)),
		Source:  fbSrcDumpon})
	out = append(out, Setting{Group: "kernel", Key: "debug.minidump", Value: lxIf(c.MinidumpKnown, lxIf(c.Minidump, "1", "0"), "unknown"), Set: c.MinidumpKnown,
		Default: "1", Valid: "0 (full dump) or 1 (minidump)",
		Meaning: lxIf(c.Minidump || !c.MinidumpKnown, "minidumps: only the memory pages the kernel uses", "full dumps: all of memory; the dump device must be at least hw.physmem"),
		Source:  fbSrcDumpon})
	out = append(out, Setting{Group: "kernel", Key: "hw.physmem", Value: lxIf(c.PhysMem > 0, strconv.FormatUint(c.PhysMem, 10), "unknown"), Set: c.PhysMem > 0,
		Valid: "bytes", Meaning: lxIf(c.PhysMem > 0, lxHuman(c.PhysMem)+" of RAM: the size of a full dump", "unknown"), Source: fbSrcDumpon})
	return out
}

// fbDefault is the value /etc/defaults/rc.conf gives when it was read,
// else what the documentation says.
func fbDefault(c FreeBSDConfig, name, doc string) string {
	if v, ok := c.Defaults[name]; ok {
		return lxOr(v, "empty") + " (/etc/defaults/rc.conf)"
	}
	return doc
}

// CheckFreeBSD is the preflight for a FreeBSD machine: will the next
// panic be dumped and saved?
func CheckFreeBSD(m Machine, c FreeBSDConfig) []Check {
	var out []Check
	fix := `sysrc dumpdev=AUTO && service dumpon start`
	dd := Check{ID: "dumpdev", Title: "rc.conf names a dump device (dumpdev)", Source: fbSrcRCConf + "; " + fbSrcRCD}
	dumpdev := c.Get("dumpdev")
	where := ""
	if v, ok := c.RC["dumpdev"]; ok {
		where = " (" + v.File + ")"
	}
	switch {
	case !c.Read:
		dd.Status, dd.Reason = Unknown, "the machine was not read"
	case dumpdev == "":
		dd.Status, dd.Reason, dd.Fix = Fail, "dumpdev is not set: no dump device is configured at boot, so a panic leaves no dump", fix
	case strings.EqualFold(dumpdev, "NO"):
		dd.Status, dd.Reason, dd.Fix = Fail, "dumpdev=NO"+where+": no dump device, so a panic leaves no dump", fix
	case strings.EqualFold(dumpdev, "AUTO") && c.FstabKnown && len(c.SwapDevices) == 0:
		dd.Status = Fail
		dd.Reason = "dumpdev=AUTO" + where + " uses the first swap device in /etc/fstab, and it lists none: \"No suitable dump device was found.\""
		dd.Fix = "add a swap partition to /etc/fstab, or sysrc dumpdev=/dev/<partition> && service dumpon start"
	case strings.EqualFold(dumpdev, "AUTO"):
		dd.Status, dd.Reason = Pass, "dumpdev=AUTO"+where
		if len(c.SwapDevices) > 0 {
			dd.Reason += ": the first swap device, " + c.SwapDevices[0]
		}
	default:
		dd.Status, dd.Reason = Pass, "dumpdev="+dumpdev+where
	}
	out = append(out, dd)

	now := Check{ID: "dumpdev-active", Title: "The running kernel has a dump device", Source: fbSrcDumpon}
	switch {
	case !c.DumpDevNowKnown:
		now.Status, now.Reason = Unknown, "kern.shutdown.dumpdevname could not be read"
	case c.DumpDevNow == "" || c.DumpDevNow == "/dev/null":
		now.Status, now.Reason, now.Fix = Fail, "kern.shutdown.dumpdevname is empty (dumpon -l prints /dev/null): a panic now is not dumped", "service dumpon start (after setting dumpdev)"
	default:
		now.Status, now.Reason = Pass, "the kernel dumps to "+c.DumpDevNow
	}
	out = append(out, now)

	sc := Check{ID: "savecore", Title: "savecore copies the dump off the device at boot", Source: fbSrcSavecore + "; " + fbSrcRCD}
	switch v := c.Get("savecore_enable"); {
	case !c.Read:
		sc.Status, sc.Reason = Unknown, "the machine was not read"
	case strings.EqualFold(v, "YES"):
		sc.Status, sc.Reason = Pass, "savecore_enable=YES"
	case v == "":
		sc.Status, sc.Reason, sc.Fix = Warn, "savecore_enable is not set anywhere (/etc/defaults/rc.conf was not read); FreeBSD's default is YES", "sysrc savecore_enable=YES"
	default:
		sc.Status = Fail
		sc.Reason = "savecore_enable=" + v + " (" + c.RC["savecore_enable"].File + "): the dump stays in swap, and swapping overwrites it"
		sc.Fix = "sysrc savecore_enable=YES"
	}
	out = append(out, sc)

	dir := c.dumpDir()
	dc := Check{ID: "dumpdir", Title: "The dump directory exists", Source: fbSrcRCD + "; " + fbSrcSavecore}
	switch {
	case !c.Read:
		dc.Status, dc.Reason = Unknown, "the machine was not read"
	case !c.DumpDirExists:
		dc.Status = Fail
		dc.Reason = dir + " does not exist: rc.d/savecore stops with \"Dump directory does not exist. Savecore not run.\""
		dc.Fix = "mkdir -p " + dir + " && chmod 700 " + dir
	default:
		dc.Status, dc.Reason = Pass, dir+" exists"
	}
	out = append(out, dc)

	md := Check{ID: "minidump", Title: "The dump fits the dump device", Source: fbSrcDumpon}
	switch {
	case !c.MinidumpKnown:
		md.Status, md.Reason = Unknown, "debug.minidump could not be read"
	case c.Minidump:
		md.Status, md.Reason = Pass, "debug.minidump=1: minidumps hold only the kernel's pages (their size is not a fixed function of RAM)"
	default:
		md.Status = Warn
		md.Reason = "debug.minidump=0: full dumps need a dump device of at least hw.physmem (" + lxHuman(c.PhysMem) + ")"
		md.Fix = "sysctl debug.minidump=1 (and in /etc/sysctl.conf), or a swap partition at least as big as RAM"
	}
	out = append(out, md)
	return out
}

// PlanFreeBSD is the recommendation for a FreeBSD kernel panic (or hang):
// a dump device (dumpdev=AUTO, the first swap device), savecore at boot,
// and the dump directory. Scripts are the rc.conf lines, apply.sh (sysrc,
// saving /etc/rc.conf first) and revert.sh.
func PlanFreeBSD(m Machine, c FreeBSDConfig, g Goal) (Plan, error) {
	if g != GoalPanic && g != GoalHang {
		return Plan{}, fmt.Errorf("goal %q: the FreeBSD helpers plan kernel dumps (panic or hang)", g)
	}
	p := Plan{OS: FreeBSD, Goal: g}
	var changes []Change
	var lines []string
	files := map[string][]string{} // file -> assignments to write there
	set := func(name, to, why string) {
		from := c.Get(name)
		if c.Read && strings.EqualFold(from, to) {
			return
		}
		changes = append(changes, Change{Key: "rc.conf " + name, From: from, To: to, Why: why})
		lines = append(lines, name+`="`+to+`"`)
		// Change it where it is set (rc.conf.local and rc.conf.d are read
		// after rc.conf, so a value there would win), else in rc.conf.
		f := c.RC[name].File
		if f == "" || f == "/etc/defaults/rc.conf" {
			f = "/etc/rc.conf"
		}
		files[f] = append(files[f], name+"="+to) // sysrc writes the quotes
	}
	dumpdev := c.Get("dumpdev")
	if dumpdev == "" || strings.EqualFold(dumpdev, "NO") {
		set("dumpdev", "AUTO", "dump to the first swap device in /etc/fstab (rc.conf(5), rc.d/dumpon)")
	}
	if !c.Read || !strings.EqualFold(c.Get("savecore_enable"), "YES") {
		set("savecore_enable", "YES", "copy the dump from swap to "+c.dumpDir()+" at boot, before swapping overwrites it (savecore(8))")
	}
	dir := c.dumpDir()
	mkdir := !c.Read || !c.DumpDirExists
	if mkdir {
		changes = append(changes, Change{Key: "directory " + dir, From: lxIf(c.Read, "missing", ""), To: "created (mode 700)",
			Why: "rc.d/savecore does nothing without it"})
	}

	var s lxScript
	if len(lines) > 0 {
		s.do("# rc.conf variables (rc.conf(5)), with sysrc(8), in the file that sets each", "# (saved first).")
		var undo []string
		for _, f := range fbRCFiles[1:] {
			for i, l := range files[f] {
				if i == 0 {
					s.do("save " + f)
					undo = append(undo, "restore "+f)
				}
				s.do("sysrc -f " + f + " " + l)
			}
		}
		s.do("# Configure the dump device now, as rc.d/dumpon does at boot.", "service dumpon start", "")
		s.undoWith(append(undo,
			`case "$(sysrc -n dumpdev 2>/dev/null || true)" in`,
			"[Nn][Oo] | '') dumpon off ;;",
			"*) service dumpon start ;;",
			"esac")...)
	}
	if mkdir {
		s.do("# The dump directory: dumps hold all kernel memory, so root only.",
			"if [ ! -d "+dir+" ]; then",
			"\t: >\"$B/dumpdir.created\"",
			"\tmkdir -p "+dir,
			"\tchmod 700 "+dir,
			"fi", "")
		s.undoWith(`if [ -e "$B/dumpdir.created" ]; then rmdir ` + dir + ` 2>/dev/null || true; fi`)
	}
	scripts := s.render("dump FreeBSD kernel panics with dumpon and savecore", "freebsd-dump", m, c.Read, changes,
		"Done. The next panic is dumped to swap and saved by savecore at boot into "+dir+".")
	// FreeBSD keeps local state in /var/db.
	for i := range scripts {
		scripts[i].Text = strings.ReplaceAll(scripts[i].Text, lxBackupDir, "/var/db/crashbench/backup/")
	}
	rcText := "# crashbench: add to /etc/rc.conf (rc.conf(5))\n"
	for _, l := range lines {
		rcText += l + "\n"
	}
	if len(lines) == 0 {
		rcText += "# nothing to add: dumpdev and savecore_enable are set already\n"
	}
	p.Scripts = append([]Script{{Name: "rc.conf", Text: rcText}}, scripts...)
	p.Changes = changes
	p.DumpType = "minidump (dumpon to swap, savecore at boot)"
	p.Why = "At a panic the kernel writes its memory to the dump device (a swap partition); at the next boot savecore copies it to " + dir + " before swap is used again (dumpon(8), savecore(8))."
	p.Answers = "The panic message, backtraces of every thread, and kernel data structures, with kgdb /boot/kernel/kernel " + dir + "/vmcore.N; crashinfo writes a text summary."
	p.Privacy = "Kernel memory: keys, network buffers, file data the kernel holds. Keep " + dir + " root-only; dumpon -k encrypts dumps."
	p.Size = Estimate{Bytes: m.RAM, Estimate: true, Source: fbSrcDumpon,
		Basis: fmt.Sprintf("a minidump holds only the kernel's pages, usually far less than RAM; dumpon(8): the size of a minidump or a compressed dump is not a fixed function of RAM, so RAM (%s), a full dump's size, is the safe bound", lxHuman(m.RAM))}
	var mbps float64
	if len(m.Disks) > 0 {
		mbps = m.Disks[0].WriteMBps
	}
	var basis string
	p.Size.Time, basis = lxWriteTime(p.Size.Bytes, mbps)
	p.Size.Basis += "; " + basis
	p.Space = Estimate{Bytes: m.RAM, Estimate: true, Source: fbSrcDumpon + "; " + fbSrcSavecore,
		Basis: "swap at least RAM (required for full dumps, enough for any minidump), and as much free in " + dir + "; savecore checks the space before it copies"}
	p.Test = "As root, on a machine you can afford to crash: sysctl debug.kdb.panic=1. WARNING: this panics the kernel at once. " +
		"If it stops at the ddb> prompt, type call doadump(0), then reset. After the reboot: ls " + dir + " (" + fbSrcHandbook + ")."
	p.Notes = append(p.Notes, "dumpdev=AUTO writes dumps to the first swap device unencrypted; dumpon_flags=\"-k /path/to/public.pem\" encrypts them (dumpon(8)).")
	return p, nil
}
