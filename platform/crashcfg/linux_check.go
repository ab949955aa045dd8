package crashcfg

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// CheckLinux is the preflight for a Linux machine: will the next kernel
// panic, and the next process crash, leave a dump? The checks follow the
// chain from the crash to the file on disk: first the crash kernel
// (reserved, loaded, its service, its configuration, room for a vmcore),
// then process cores (core_pattern and the program it pipes to, core size
// limits, suid_dumpable, systemd-coredump's storage, size limits and
// space, coredump_filter). c comes from ReadLinux; facts it could not
// read give Unknown.
func CheckLinux(m Machine, c LinuxConfig) []Check {
	var out []Check
	add := func(ch Check) { out = append(out, ch) }
	family := DistroFamily(m.Release, c.OSLike)
	if family == "" {
		family = DistroFamily(c.OSID, c.OSLike)
	}

	// ---- kernel panics: kdump ----
	rec := CrashkernelFor(m)
	res := Check{ID: "crashkernel-reserved", Title: "Memory is reserved for the crash kernel (kernel panics)",
		Source: lxSrcKdump + "; " + lxSrcKernelParam + "; " + lxSrcSysfsKexec + "; " + rec.Source}
	fixCK := lxFixCrashkernel(family, CrashkernelValue(m))
	switch {
	case c.CrashSizeKnown && c.CrashSize == 0 && !c.CrashkernelSet:
		res.Status, res.Reason, res.Fix = Fail, "no crashkernel= on the kernel command line: nothing is reserved, so a panic cannot boot a capture kernel", fixCK
	case c.CrashSizeKnown && c.CrashSize == 0:
		why := "the reservation failed at boot (see dmesg | grep -i crash)"
		if c.CrashkernelErr != "" {
			why = "it does not parse: " + c.CrashkernelErr
		} else if len(c.Crashkernel.Ranges) > 0 && c.Crashkernel.For(m.RAM) == 0 {
			why = "no range holds this machine's " + lxHuman(m.RAM)
		}
		res.Status, res.Reason, res.Fix = Fail, fmt.Sprintf("%s is set but nothing is reserved: %s", c.Crashkernel.String(), why), fixCK
	case c.CrashSizeKnown && rec.Bytes > 0 && c.CrashSize < rec.Bytes:
		res.Status = Warn
		res.Reason = fmt.Sprintf("%s reserved; %s: the capture kernel may run out of memory", lxHuman(c.CrashSize), rec.Basis)
		res.Fix = fixCK
	case c.CrashSizeKnown:
		res.Status, res.Reason = Pass, fmt.Sprintf("%s reserved (%s)", lxHuman(c.CrashSize), lxIf(c.CrashkernelSet, c.Crashkernel.String(), "no crashkernel= on the command line read"))
	case c.CmdlineKnown && !c.CrashkernelSet:
		res.Status, res.Reason, res.Fix = Fail, "no crashkernel= on the kernel command line (the reserved size could not be read)", fixCK
	default:
		res.Status, res.Reason = Unknown, "/sys/kernel/kexec_crash_size could not be read"
		if c.CrashkernelSet {
			res.Reason += "; the command line has " + c.Crashkernel.String()
		}
	}
	add(res)

	svc := c.KdumpService
	if svc == "" {
		svc = lxIf(family == "rhel", "kdump.service", "kdump-tools.service")
	}
	loaded := Check{ID: "crashkernel-loaded", Title: "A crash kernel is loaded, ready to boot on a panic", Source: lxSrcSysfsKexec + "; " + lxSrcKdump}
	switch {
	case !c.CrashLoadedKnown:
		loaded.Status, loaded.Reason = Unknown, "/sys/kernel/kexec_crash_loaded could not be read"
	case c.CrashLoaded:
		loaded.Status, loaded.Reason = Pass, "kexec_crash_loaded is 1"
	default:
		loaded.Status = Fail
		loaded.Reason = "kexec_crash_loaded is 0: a panic will not be captured"
		switch {
		case c.KdumpService == "":
			loaded.Reason += "; no kdump service is installed"
		case !c.KdumpEnabled:
			loaded.Reason += "; " + c.KdumpService + " is not enabled"
		default:
			loaded.Reason += "; " + c.KdumpService + " is enabled but did not load it (journalctl -u " + c.KdumpService + ")"
		}
		loaded.Fix = lxFixService(family, svc)
	}
	add(loaded)

	sv := Check{ID: "kdump-service", Title: "The kdump service loads the crash kernel at boot", Source: lxIf(family == "rhel", lxSrcKdumpConf, lxSrcKdumpTools)}
	switch {
	case !c.Read:
		sv.Status, sv.Reason = Unknown, "the machine was not read"
	case c.KdumpService == "":
		sv.Status, sv.Reason, sv.Fix = Fail, "neither kdump-tools.service nor kdump.service is installed", lxFixService(family, svc)
	case !c.KdumpEnabled:
		sv.Status, sv.Reason, sv.Fix = Fail, c.KdumpService+" is installed but not enabled", "systemctl enable --now "+c.KdumpService
	default:
		sv.Status, sv.Reason = Pass, c.KdumpService+" is enabled"
	}
	add(sv)

	if c.KdumpTools || c.KdumpConf {
		args, md := c.KdumpArgs()
		kc := Check{ID: "kdump-config", Title: "kdump is switched on and filters the vmcore", Source: lxSrcMakedump}
		switch {
		case c.KdumpTools && c.KdumpToolsVars["USE_KDUMP"] != "1":
			kc.Status = Fail
			kc.Reason = fmt.Sprintf("USE_KDUMP=%q in /etc/default/kdump-tools: kdump-tools does nothing", c.KdumpToolsVars["USE_KDUMP"])
			kc.Fix = "set USE_KDUMP=1 in /etc/default/kdump-tools, then: kdump-config load"
			kc.Source = lxSrcKdumpTools
		case md.DumpLevel <= 0:
			kc.Status = Warn
			kc.Reason = fmt.Sprintf("%s keeps every page: the vmcore is as big as RAM (%s) and slow to write", lxCollector(args), lxHuman(m.RAM))
			kc.Fix = lxIf(c.KdumpTools, `MAKEDUMP_ARGS="-l -d 31" in /etc/default/kdump-tools`, "core_collector makedumpfile -l --message-level 7 -d 31 in /etc/kdump.conf, then: kdumpctl restart")
		default:
			kc.Status, kc.Reason = Pass, fmt.Sprintf("%s: dump level %s", lxCollector(args), DumpLevelText(md.DumpLevel))
		}
		add(kc)
	}

	_, md := c.KdumpArgs()
	est := VmcoreSize(m.RAM, md.DumpLevel)
	sp := Check{ID: "kdump-space", Title: "The kdump directory has room for a vmcore", Source: lxSrcVmcore + "; " + lxSrcMakedump}
	dir := c.KdumpDir()
	switch {
	case c.KdumpConfTarget != "":
		sp.Status, sp.Reason = Unknown, "vmcores go to "+c.KdumpConfTarget+" (kdump.conf): its free space is not checked here"
	case c.KdumpDisk.Size == 0 || m.RAM == 0:
		sp.Status, sp.Reason = Unknown, "free space of "+dir+" or the RAM size is not known"
	case c.KdumpDisk.Free < est.Bytes:
		sp.Status = Fail
		sp.Reason = fmt.Sprintf("the file system holding %s has %s free; %s", dir, lxHuman(c.KdumpDisk.Free), est.Basis)
		sp.Fix = "free space on " + dir + ", or point KDUMP_COREDIR / kdump.conf path at a bigger file system"
	case c.KdumpDisk.Free < m.RAM:
		sp.Status = Warn
		sp.Reason = fmt.Sprintf("the file system holding %s has %s free: enough for a vmcore of about %s, but only free space of RAM (%s) is sure to hold one", dir, lxHuman(c.KdumpDisk.Free), lxHuman(est.Bytes), lxHuman(m.RAM))
	default:
		sp.Status, sp.Reason = Pass, fmt.Sprintf("the file system holding %s has %s free, at least RAM (%s)", dir, lxHuman(c.KdumpDisk.Free), lxHuman(m.RAM))
	}
	add(sp)

	// ---- process crashes: core dumps ----
	p := c.CorePattern
	pc := Check{ID: "core-pattern", Title: "core_pattern leads to a file or a program that exists", Source: lxSrcCore + "; " + lxSrcSysctlCore}
	fixPattern := "point kernel.core_pattern at an existing program or directory: a file in /etc/sysctl.d, then sysctl --system (e.g. kernel.core_pattern=|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h)"
	switch {
	case !c.CorePatternKnown:
		pc.Status, pc.Reason = Unknown, "/proc/sys/kernel/core_pattern could not be read"
	case p.Raw == "":
		pc.Status, pc.Reason, pc.Fix = Fail, "core_pattern is empty: no core is written", fixPattern
	case p.Pipe && p.Program == "":
		pc.Status, pc.Reason, pc.Fix = Fail, "core_pattern is a pipe with no program right after '|'", fixPattern
	case p.Pipe && !strings.HasPrefix(p.Program, "/"):
		pc.Status, pc.Reason, pc.Fix = Fail, "core_pattern pipes to "+p.Program+", not an absolute path: the kernel cannot run it", fixPattern
	case p.Pipe:
		switch ok, why := lxExecutable(c.Root, p.Program); {
		case !ok:
			pc.Status = Fail
			pc.Reason = "core_pattern pipes to " + p.Program + ", which " + why + ": every core dump is lost"
			pc.Fix = "install the program (for systemd-coredump: the systemd-coredump package on Debian and Ubuntu), or " + fixPattern
		default:
			pc.Status, pc.Reason = Pass, "core_pattern pipes to "+p.Program+", which is installed"
		}
		if p.ToSystemdCoredump() {
			pc.Source += "; " + lxSrcCoredump
		}
	default:
		pc.Status, pc.Reason = Pass, "cores are "+p.explain(c.CoreUsesPID != 0)
		d := p.Dir()
		switch {
		case c.SuidDumpableKnown && c.SuidDumpable == 2 && !strings.HasPrefix(p.Raw, "/"):
			pc.Status = Fail
			pc.Reason = "fs.suid_dumpable is 2 and core_pattern " + p.Raw + " is not an absolute path: the kernel writes no core at all"
			pc.Fix = fixPattern
		case d != "" && strings.HasPrefix(d, "/") && !lxIsDir(c.Root, d):
			pc.Status = Fail
			pc.Reason = "core_pattern writes to " + d + ", which does not exist: the kernel does not create it, so no core is written"
			pc.Fix = "mkdir -p " + d + " (writable by the crashing processes, e.g. mode 1777), or " + fixPattern
		case d == "":
			pc.Status = Warn
			pc.Reason = "cores go to each crashing process's working directory (core_pattern " + p.Raw + "): for a service that is often / and not writable"
			pc.Fix = fixPattern
		case !p.HasPID && c.CoreUsesPIDKnown && c.CoreUsesPID == 0:
			pc.Status = Warn
			pc.Reason = "core_pattern " + p.Raw + " has no %p and core_uses_pid is 0: each core overwrites the last"
			pc.Fix = "add %p to kernel.core_pattern, or set kernel.core_uses_pid=1"
		}
	}
	add(pc)

	ul := Check{ID: "ulimit-core", Title: "ulimit -c (RLIMIT_CORE) lets a core be written", Source: lxSrcRlimit + "; " + lxSrcCoredumpC}
	switch {
	case !c.RlimitCoreKnown:
		ul.Status, ul.Reason = Unknown, "RLIMIT_CORE could not be read"
	case c.RlimitCore == 0 && p.Pipe && !(p.ToSystemdCoredump() && p.PassesLimit()):
		ul.Status, ul.Reason = Pass, "ulimit -c is 0 here, but the kernel does not enforce RLIMIT_CORE on a core_pattern pipe"
	case c.RlimitCore < 4096:
		ul.Status = Fail
		ul.Reason = fmt.Sprintf("ulimit -c is %d for this process and what it starts", c.RlimitCore)
		if p.Pipe {
			ul.Reason += ": systemd-coredump drops cores of processes whose RLIMIT_CORE is under a page"
		} else {
			ul.Reason += ": no core file is written"
		}
		ul.Reason += " (services get systemd's DefaultLimitCORE= or their LimitCORE= instead)"
		ul.Fix = "ulimit -c unlimited in the shell that starts the program (hard limit " + lxLimit(c.RlimitCoreHard) + "); for a service: LimitCORE=infinity in its unit"
	case c.RlimitCore != math.MaxUint64 && !p.Pipe:
		ul.Status = Warn
		ul.Reason = "ulimit -c is " + lxHuman(c.RlimitCore) + ": core files are cut at that size"
		ul.Fix = "ulimit -c unlimited"
	default:
		ul.Status, ul.Reason = Pass, "ulimit -c is "+lxLimit(c.RlimitCore)
	}
	add(ul)

	if c.Systemd || c.DefaultLimitCORE.Value != "" {
		dl := Check{ID: "default-limit-core", Title: "systemd services may dump core (DefaultLimitCORE=)", Source: lxSrcSystemConf}
		soft, _, _ := strings.Cut(c.DefaultLimitCORE.Value, ":")
		n, err := ParseSystemdSize(soft)
		switch {
		case c.DefaultLimitCORE.Value == "":
			dl.Status, dl.Reason = Pass, "not set: services inherit RLIMIT_CORE infinity from PID 1 (a unit's LimitCORE= may still lower it)"
		case err == nil && n < 4096:
			dl.Fix = "DefaultLimitCORE=infinity in a file in /etc/systemd/system.conf.d/, then: systemctl daemon-reexec"
			dl.Reason = "DefaultLimitCORE=" + c.DefaultLimitCORE.Value + " in " + c.DefaultLimitCORE.File
			// The kernel does not apply RLIMIT_CORE to a pipe; only a
			// handler that is passed %c (systemd-coredump) can.
			switch {
			case !p.Pipe:
				dl.Status, dl.Reason = Fail, dl.Reason+": services write no core file"
			case p.ToSystemdCoredump() && p.PassesLimit():
				dl.Status, dl.Reason = Fail, dl.Reason+": core_pattern passes the limit (%c) to systemd-coredump, which drops cores under a page"
			default:
				dl.Status, dl.Reason = Warn, dl.Reason+": no effect while core_pattern pipes without %c (the kernel does not limit pipes), but services lose their cores if core_pattern changes"
			}
		default:
			dl.Status, dl.Reason = Pass, "DefaultLimitCORE="+c.DefaultLimitCORE.Value+" ("+c.DefaultLimitCORE.File+")"
		}
		add(dl)
	}

	sd := Check{ID: "suid-dumpable", Title: "Processes that changed credentials can dump (fs.suid_dumpable)", Source: lxSrcSuid}
	switch {
	case !c.SuidDumpableKnown:
		sd.Status, sd.Reason = Unknown, "/proc/sys/fs/suid_dumpable could not be read"
	case c.SuidDumpable == 2:
		sd.Status, sd.Reason = Pass, "2 (suidsafe): they dump, readable by root only"
	case c.SuidDumpable == 1:
		sd.Status, sd.Reason, sd.Fix = Warn, "1 (debug): everything dumps, owned by the dumping user: other users may read privileged memory", "sysctl -w fs.suid_dumpable=2 (and a file in /etc/sysctl.d to keep it)"
	default:
		sd.Status = Warn
		sd.Reason = "0: set-user-ID programs and services that drop privileges (change UID or GID) write no core"
		sd.Fix = "sysctl -w fs.suid_dumpable=2 (core_pattern must then be absolute or a pipe), and a file in /etc/sysctl.d to keep it"
	}
	add(sd)

	if p.ToSystemdCoredump() {
		add(lxCheckStorage(c))
		add(lxCheckCoredumpSize(m, c))
		add(lxCheckCoredumpSpace(c))
	}

	cf := Check{ID: "coredump-filter", Title: "coredump_filter keeps the process's own memory", Source: lxSrcCore}
	switch {
	case !c.CoredumpFilterKnown:
		cf.Status, cf.Reason = Unknown, "/proc/self/coredump_filter could not be read"
	case c.CoredumpFilter&1 == 0:
		cf.Status = Warn
		cf.Reason = fmt.Sprintf("%08x: anonymous private memory (heap, stacks) is left out of cores of processes started from here", c.CoredumpFilter)
		cf.Fix = "echo 0x33 > /proc/self/coredump_filter in the parent shell (or the coredump_filter= boot option)"
	default:
		cf.Status, cf.Reason = Pass, fmt.Sprintf("%08x: %s", c.CoredumpFilter, lxFilterMeaning(c.CoredumpFilter, true))
	}
	add(cf)
	return out
}

func lxCheckStorage(c LinuxConfig) Check {
	ch := Check{ID: "coredump-storage", Title: "systemd-coredump keeps the core (Storage=)", Source: lxSrcCoredumpCfg}
	v := c.Coredump["Storage"]
	switch v.Value {
	case "", "external":
		ch.Status, ch.Reason = Pass, "Storage="+lxIf(v.Value == "", "external (default)", "external")+": cores are kept in /var/lib/systemd/coredump"
	case "none":
		ch.Status = Fail
		ch.Reason = "Storage=none in " + v.File + ": crashes are logged, cores are not kept"
		ch.Fix = "Storage=external in a file in /etc/systemd/coredump.conf.d/ (sorted after " + filepath.Base(v.File) + ")"
	case "journal":
		ch.Status = Warn
		ch.Reason = "Storage=journal in " + v.File + ": cores over JournalSizeMax (" + lxHuman(c.CoredumpSize("JournalSizeMax")) + ") are not kept, and journal rotation deletes them"
		ch.Fix = "Storage=external in a file in /etc/systemd/coredump.conf.d/"
	default:
		ch.Status, ch.Reason = Warn, "Storage="+v.Value+" in "+v.File+": not a documented value"
	}
	return ch
}

// lxCheckCoredumpSize compares systemd-coredump's size limits with the
// biggest processes seen and with RAM, the bound on any process's core.
func lxCheckCoredumpSize(m Machine, c LinuxConfig) Check {
	ch := Check{ID: "coredump-size", Title: "systemd-coredump's size limits are above the biggest processes", Source: lxSrcCoredumpCfg}
	ext, proc := c.CoredumpSize("ExternalSizeMax"), c.CoredumpSize("ProcessSizeMax")
	limitText := func(key string, n uint64) string {
		v, set := c.Coredump[key]
		if set {
			return fmt.Sprintf("%s=%s (%s)", key, v.Value, v.File)
		}
		return fmt.Sprintf("%s=%s (default per coredump.conf(5); Debian 12's template says 2G)", key, lxMemSuffix(n))
	}
	var known string
	if len(c.Biggest) > 0 {
		var b []string
		for _, p := range c.Biggest {
			b = append(b, fmt.Sprintf("%s (pid %d) %s", p.Name, p.PID, lxHuman(p.RSS)))
		}
		known = "biggest processes now, by resident memory: " + strings.Join(b, ", ")
	} else {
		known = "process sizes not known"
	}
	fix := fmt.Sprintf("ProcessSizeMax= and ExternalSizeMax= at least %s (RAM) in a file in /etc/systemd/coredump.conf.d/", lxMemSuffix(lxRoundUpGiB(m.RAM)))
	switch {
	case len(c.Biggest) > 0 && c.Biggest[0].RSS > ext:
		b := c.Biggest[0]
		ch.Status = Fail
		ch.Reason = fmt.Sprintf("%s uses %s, more than %s: its core would not be kept; %s", b.Name, lxHuman(b.RSS), limitText("ExternalSizeMax", ext), known)
		ch.Fix = fix
	case len(c.Biggest) > 0 && c.Biggest[0].RSS > proc:
		b := c.Biggest[0]
		ch.Status = Warn
		ch.Reason = fmt.Sprintf("%s uses %s, more than %s: its core gets no backtrace; %s", b.Name, lxHuman(b.RSS), limitText("ProcessSizeMax", proc), known)
		ch.Fix = fix
	case m.RAM > ext || m.RAM > proc:
		ch.Status = Warn
		ch.Reason = fmt.Sprintf("%s and %s are below RAM (%s): a process bigger than that loses its core or its backtrace; %s",
			limitText("ExternalSizeMax", ext), limitText("ProcessSizeMax", proc), lxHuman(m.RAM), known)
		ch.Fix = fix
	case m.RAM == 0 && len(c.Biggest) == 0:
		ch.Status, ch.Reason = Unknown, "neither RAM nor process sizes are known to compare with "+limitText("ExternalSizeMax", ext)
	default:
		ch.Status = Pass
		ch.Reason = fmt.Sprintf("%s and %s hold a process as big as RAM (%s); %s", limitText("ExternalSizeMax", ext), limitText("ProcessSizeMax", proc), lxHuman(m.RAM), known)
	}
	return ch
}

// lxCheckCoredumpSpace compares the free space where systemd-coredump
// stores cores with KeepFree= (cores are removed to keep it free).
func lxCheckCoredumpSpace(c LinuxConfig) Check {
	ch := Check{ID: "coredump-space", Title: "/var/lib/systemd/coredump has room for a core", Source: lxSrcCoredumpCfg}
	d := c.CoreDisk
	if d.Size == 0 {
		ch.Status, ch.Reason = Unknown, "free space of /var/lib/systemd/coredump is not known"
		return ch
	}
	keep := d.Size / 100 * 15
	keepText := "KeepFree default, 15% of the file system"
	if v, ok := c.Coredump["KeepFree"]; ok {
		if n, err := ParseSystemdSize(v.Value); err == nil {
			keep, keepText = n, "KeepFree="+v.Value+" ("+v.File+")"
		}
	}
	var biggest uint64
	if len(c.Biggest) > 0 {
		biggest = c.Biggest[0].RSS
	}
	switch {
	case d.Free <= keep:
		ch.Status = Fail
		ch.Reason = fmt.Sprintf("%s free, not more than %s (%s): systemd-coredump removes cores to keep that free, so a new one is not kept", lxHuman(d.Free), lxHuman(keep), keepText)
		ch.Fix = "free space on the file system holding /var/lib/systemd/coredump, or lower KeepFree= in /etc/systemd/coredump.conf.d/"
	case d.Free-keep < biggest:
		ch.Status = Warn
		ch.Reason = fmt.Sprintf("%s free, of which %s must stay free (%s): less than the biggest process, %s", lxHuman(d.Free), lxHuman(keep), keepText, lxHuman(biggest))
		ch.Fix = "free space on the file system holding /var/lib/systemd/coredump"
	default:
		ch.Status, ch.Reason = Pass, fmt.Sprintf("%s free; %s stays free (%s)", lxHuman(d.Free), lxHuman(keep), keepText)
	}
	return ch
}

// lxExecutable says whether program (an absolute path on the machine)
// exists under root and can be run.
func lxExecutable(root, program string) (bool, string) {
	if root == "" {
		root = "/"
	}
	fi, err := os.Stat(filepath.Join(root, program))
	switch {
	case err != nil:
		return false, "does not exist"
	case fi.IsDir():
		return false, "is a directory"
	case fi.Mode()&0o111 == 0:
		return false, "is not executable"
	}
	return true, ""
}

func lxIsDir(root, dir string) bool {
	if root == "" {
		root = "/"
	}
	fi, err := os.Stat(filepath.Join(root, dir))
	return err == nil && fi.IsDir()
}

// lxRoundUpGiB rounds n up to whole GiB.
func lxRoundUpGiB(n uint64) uint64 {
	const g = 1 << 30
	return (n + g - 1) / g * g
}

// lxFixCrashkernel is how to set crashkernel= on the family's boot loader.
func lxFixCrashkernel(family, value string) string {
	switch family {
	case "rhel":
		return fmt.Sprintf("grubby --update-kernel=ALL --args=\"crashkernel=%s\" (or kdumpctl reset-crashkernel --kernel=ALL), then reboot; crashbench config plan --goal panic writes a script", value)
	case "debian":
		return fmt.Sprintf("apt install kdump-tools (it adds crashkernel= in /etc/default/grub.d/kdump-tools.cfg), or put GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT crashkernel=%s\" in a file in /etc/default/grub.d/, then update-grub and reboot; crashbench config plan --goal panic writes a script", value)
	}
	return fmt.Sprintf("add crashkernel=%s to the kernel command line in the boot loader and reboot", value)
}

func lxFixService(family, svc string) string {
	switch family {
	case "rhel":
		return "dnf install kexec-tools; systemctl enable --now kdump.service; kdumpctl status"
	case "debian":
		return "apt install kdump-tools; set USE_KDUMP=1 in /etc/default/kdump-tools; systemctl enable --now kdump-tools.service; kdump-config show"
	}
	return "install and enable your distribution's kdump service (" + svc + ")"
}
