package crashcfg

import (
	"fmt"
	"strings"
)

// CheckWindows is the Windows preflight: will the next crash be captured
// with the settings in c on machine m? Checks that cannot apply (a page
// file for no dump at all) are left out; a check whose facts are missing
// says unknown.
func CheckWindows(m Machine, c WindowsConfig) []Check {
	dt := c.DumpType()
	checks := []Check{winCheckDumpType(c)}
	if dt != WinDumpNone {
		checks = append(checks, winCheckPageFile(m, c), winCheckDumpVolume(m, c))
		if dt != WinDumpSmall {
			checks = append(checks, winCheckKept(m, c), winCheckOverwrite(c))
		}
	}
	checks = append(checks, winCheckMinidumpDir(m, c), winCheckAutoReboot(c), winCheckLogEvent(c))
	if kb, ok := winCheckKeyboard(c); ok {
		checks = append(checks, kb)
	}
	checks = append(checks, winCheckLocalDumps(c))
	checks = append(checks, winCheckLocalDumpsFolders(m, c)...)
	return checks
}

// winRegAdd is the reg.exe command that sets a DWORD.
func winRegAdd(key, name string, v uint32) string {
	return fmt.Sprintf(`reg add "%s" /v %s /t REG_DWORD /d %d /f`, key, name, v)
}

func winCheckDumpType(c WindowsConfig) Check {
	ck := Check{ID: "dump-type", Title: "A kernel dump is configured (CrashDumpEnabled)",
		Source: srcWinDumpOptions + "; " + srcWinFailureConfig}
	v := "unset (default 7)"
	if c.CrashDumpEnabled.Set {
		v = c.CrashDumpEnabled.String()
		if c.FilterPages.Set {
			v += ", FilterPages " + c.FilterPages.String()
		}
	}
	fix := winRegAdd(winCrashControl, "CrashDumpEnabled", 7) + " (Automatic; or crashbench config plan --goal bsod), then restart Windows"
	switch dt := c.DumpType(); dt {
	case WinDumpNone:
		ck.Status, ck.Reason, ck.Fix = Fail, "CrashDumpEnabled is 0 (none): a bugcheck writes no dump at all", fix
	case WinDumpUndocumented:
		ck.Status = Warn
		ck.Reason = fmt.Sprintf("CrashDumpEnabled is %d, which Microsoft does not document (documented: 0, 1, 2, 3, 7): what the next crash writes is unknown", c.CrashDumpEnabled.Value)
		ck.Fix = fix
	case WinDumpUnknown:
		ck.Status = Warn
		ck.Reason = fmt.Sprintf("CrashDumpEnabled is %d, not a documented value", c.CrashDumpEnabled.Value)
		ck.Fix = fix
	case WinDumpSmall:
		ck.Status = Warn
		ck.Reason = "CrashDumpEnabled is 3: a small memory dump holds only the crashing thread's stack and context, so errors not caused by that thread may not be found"
		ck.Fix = winRegAdd(winCrashControl, "CrashDumpEnabled", 7) + " for a kernel-sized (Automatic) dump, then restart Windows"
	default:
		ck.Status, ck.Reason = Pass, fmt.Sprintf("CrashDumpEnabled %s: %s", v, WinDumpTypeName(dt))
	}
	return ck
}

// winCheckPageFile: the page file on the boot volume (or the dedicated
// dump file) must hold the dump type.
func winCheckPageFile(m Machine, c WindowsConfig) Check {
	dt := c.DumpType()
	boot := winBootVolume(m)
	ck := Check{ID: "pagefile-size", Title: "The page file on the boot volume, or a dedicated dump file, can hold the dump",
		Source: srcWinPageFileSize + "; " + srcWinDumpOptions + "; " + srcWinIgnorePFSize}
	if dt == WinDumpUndocumented || dt == WinDumpUnknown {
		ck.Status, ck.Reason = Unknown, "the dump type is not documented, so its page file need is unknown"
		ck.Fix = "set a documented CrashDumpEnabled first"
		return ck
	}
	need := WindowsDumpSpace(m, dt)
	if m.RAM == 0 && dt != WinDumpSmall {
		ck.Status, ck.Reason = Unknown, "the RAM size is not known, so the size needed is not either"
		return ck
	}
	bad := Fail // a documented minimum is missed
	if need.Estimate {
		bad = Warn // an estimate is missed: the dump may still fit
	}
	needMB := winMBCeil(need.Bytes)
	what := fmt.Sprintf("the %s needs %d MB (%s)", WinDumpTypeName(dt), needMB, map[bool]string{true: "estimate", false: "documented minimum"}[need.Estimate])

	if c.DedicatedDumpFile.Set && c.DedicatedDumpFile.Value != "" {
		ck.Source = srcWinDedicatedDump + "; " + ck.Source
		file := c.DedicatedDumpFile.Value
		if vol := winPathVolume(file, boot); vol != "" && len(m.Disks) > 0 {
			if _, ok := winDisk(m, vol); !ok {
				ck.Status, ck.Reason = Fail, fmt.Sprintf("DedicatedDumpFile %s is on %s, which is not a volume of this machine", file, vol)
				ck.Fix = "point DedicatedDumpFile at a local fixed volume that can hold a page file"
				return ck
			}
		}
		fix := winRegAdd(winCrashControl, "DumpFileSize", uint32(needMB)) + ", then restart Windows"
		switch {
		case !c.DumpFileSize.Set:
			ck.Status, ck.Reason = Unknown, fmt.Sprintf("DedicatedDumpFile %s has no DumpFileSize, so Windows picks its size; %s", file, what)
			ck.Fix = fix
		case uint64(c.DumpFileSize.Value)*winMiB >= need.Bytes:
			ck.Status, ck.Reason = Pass, fmt.Sprintf("DedicatedDumpFile %s is %d MB; %s", file, c.DumpFileSize.Value, what)
		default:
			ck.Status, ck.Reason = bad, fmt.Sprintf("DedicatedDumpFile %s is %d MB; %s", file, c.DumpFileSize.Value, what)
			ck.Fix = fix
		}
		return ck
	}

	if !c.PageFiles.Read {
		ck.Status, ck.Reason = Unknown, "the page files were not read; "+what+" on "+boot
		return ck
	}
	pf, ok := c.PageFiles.On(boot)
	if !ok {
		list := strings.Join(c.PageFiles.Strings(), "; ")
		if list == "" {
			list = "none"
		}
		ck.Status = Fail
		ck.Reason = fmt.Sprintf("no page file on the boot volume %s (page files: %s): the dump is written to the boot volume's page file first; %s", boot, list, what)
		ck.Fix = `add a system-managed page file on ` + boot + ` (System Properties > Advanced > Performance > Virtual memory, or crashbench config plan --goal bsod), or set a DedicatedDumpFile`
		return ck
	}
	if pf.SystemManaged() {
		// Windows sizes a system-managed page file at startup for the
		// dump setting, if the volume has the space (to within 1 GB).
		d, known := winBootDisk(m)
		if !known || (d.Size == 0 && d.Free == 0) {
			ck.Status, ck.Reason = Unknown, fmt.Sprintf("the page file on %s is system-managed: Windows sizes it for the dump at startup if the volume has room; its free space is not known; %s", boot, what)
			return ck
		}
		if d.Free >= need.Bytes+winGiB {
			ck.Status, ck.Reason = Pass, fmt.Sprintf("the page file on %s is system-managed and %s has %s free; %s", boot, boot, winSize(d.Free), what)
			return ck
		}
		ck.Status = Warn
		ck.Reason = fmt.Sprintf("the page file on %s is system-managed but %s has only %s free; a system-managed page file grows for the dump only to within 1 GB of the free space (the page file's current size not counted); %s", boot, boot, winSize(d.Free), what)
		ck.Fix = "free space on " + boot + ", or set a DedicatedDumpFile on a volume with room"
		return ck
	}
	initial, maximum := pf.InitialMB*winMiB, pf.MaximumMB*winMiB
	switch {
	case initial >= need.Bytes:
		ck.Status, ck.Reason = Pass, fmt.Sprintf("the page file on %s starts at %d MB; %s", boot, pf.InitialMB, what)
	case c.IgnorePagefileSize.is(1) && maximum >= need.Bytes:
		ck.Status = Warn
		ck.Reason = fmt.Sprintf("the page file on %s starts at %d MB (maximum %d MB); %s. IgnorePagefileSize=1 makes Windows attempt the dump anyway", boot, pf.InitialMB, pf.MaximumMB, what)
		ck.Fix = fmt.Sprintf("set the initial size of the page file on %s to at least %d MB", boot, needMB)
	default:
		ck.Status = bad
		ck.Reason = fmt.Sprintf("the page file on %s starts at %d MB (maximum %d MB); %s; with less than RAM as initial size no kernel or complete dump is written (event 49, volmgr)", boot, pf.InitialMB, pf.MaximumMB, what)
		ck.Fix = fmt.Sprintf("set the initial size of the page file on %s to at least %d MB (crashbench config plan --goal bsod writes it), or make it system-managed", boot, needMB)
	}
	return ck
}

// winDumpDest is where the dump type's file is saved and how big it is.
func winDumpDest(m Machine, c WindowsConfig) (path string, size Estimate) {
	if c.DumpType() == WinDumpSmall {
		path = `%SystemRoot%\Minidump`
		if c.MinidumpDir.Set && c.MinidumpDir.Value != "" {
			path = c.MinidumpDir.Value
		}
		return path, WindowsDumpSize(m, WinDumpSmall)
	}
	return winDumpPath(c), WindowsDumpSize(m, c.DumpType())
}

func winCheckDumpVolume(m Machine, c WindowsConfig) Check {
	ck := Check{ID: "dump-volume-space", Title: "The dump's destination volume has room for it",
		Source: srcWinBestPractice + "; " + srcWinKernelDump + "; " + srcWinCompleteDump}
	path, size := winDumpDest(m, c)
	vol := winPathVolume(path, winBootVolume(m))
	if vol == "" {
		ck.Status, ck.Reason = Unknown, "cannot tell which volume "+path+" is on"
		return ck
	}
	d, ok := winDisk(m, vol)
	switch {
	case !ok && len(m.Disks) > 0:
		ck.Status, ck.Reason = Fail, fmt.Sprintf("the dump goes to %s, but %s is not a volume of this machine", path, vol)
		ck.Fix = "point DumpFile (or MinidumpDir) at an existing local volume"
		return ck
	case !ok || (d.Size == 0 && d.Free == 0):
		ck.Status, ck.Reason = Unknown, fmt.Sprintf("the free space of %s is not known; the dump (%s) needs %s", vol, path, winSize(size.Bytes))
		return ck
	}
	if c.DumpType() == WinDumpUndocumented || c.DumpType() == WinDumpUnknown {
		ck.Status, ck.Reason = Unknown, "the dump type is not documented, so its size is unknown"
		return ck
	}
	what := fmt.Sprintf("%s needs %s for %s (%s); %s has %s free", WinDumpTypeName(c.DumpType()), winSize(size.Bytes), path,
		map[bool]string{true: "estimate", false: "documented size"}[size.Estimate], vol, winSize(d.Free))
	if d.Free >= size.Bytes {
		ck.Status, ck.Reason = Pass, what
		return ck
	}
	ck.Status = Fail
	if size.Estimate {
		ck.Status = Warn
	}
	ck.Reason = what
	ck.Fix = "free space on " + vol + `, or point DumpFile at a volume with room (for example D:\MEMORY.DMP); a complete dump still needs the page file on the boot volume`
	return ck
}

// winCheckKept: a client that is not domain-joined deletes Memory.dmp
// when its volume has less than 25 GB free, unless AlwaysKeepMemoryDump=1.
func winCheckKept(m Machine, c WindowsConfig) Check {
	ck := Check{ID: "dump-kept", Title: "Memory.dmp is kept after the restart (client 25 GB rule)", Source: srcWinKeepDump}
	fix := winRegAdd(winCrashControl, "AlwaysKeepMemoryDump", 1)
	switch {
	case !m.Client:
		ck.Status, ck.Reason = Pass, "a server always keeps the dump"
		return ck
	case c.AlwaysKeepMemoryDump.is(1):
		ck.Status, ck.Reason = Pass, "AlwaysKeepMemoryDump is 1: the dump is kept whatever the free space"
		return ck
	case c.DomainJoined:
		ck.Status, ck.Reason = Pass, "a domain-joined client keeps the dump"
		return ck
	}
	path, size := winDumpDest(m, c)
	vol := winPathVolume(path, winBootVolume(m))
	d, ok := winDisk(m, vol)
	if vol == "" || !ok || (d.Size == 0 && d.Free == 0) {
		ck.Status, ck.Reason, ck.Fix = Unknown, "a client that is not domain-joined, without AlwaysKeepMemoryDump; the free space where "+path+" goes is not known", fix
		return ck
	}
	switch {
	case d.Free < winKeepFree:
		ck.Status = Fail
		ck.Reason = fmt.Sprintf("a client that is not domain-joined, AlwaysKeepMemoryDump %s, and %s has %s free, under 25 GB: Windows deletes the dump after the restart",
			winOr(c.AlwaysKeepMemoryDump.String(), "unset"), vol, winSize(d.Free))
	case d.Free < winKeepFree+size.Bytes:
		ck.Status = Warn
		ck.Reason = fmt.Sprintf("a client that is not domain-joined, AlwaysKeepMemoryDump %s: %s has %s free, which the dump (%s) would bring under 25 GB",
			winOr(c.AlwaysKeepMemoryDump.String(), "unset"), vol, winSize(d.Free), winSize(size.Bytes))
	default:
		ck.Status = Pass
		ck.Reason = fmt.Sprintf("%s has %s free, over 25 GB even after the dump; AlwaysKeepMemoryDump=1 would make this independent of free space", vol, winSize(d.Free))
		return ck
	}
	ck.Fix = fix
	return ck
}

func winCheckOverwrite(c WindowsConfig) Check {
	ck := Check{ID: "overwrite", Title: "An old dump does not block the next one (Overwrite)", Source: srcWinFailureConfig}
	if !c.Overwrite.is(0) {
		ck.Status, ck.Reason = Pass, "Overwrite is "+winOr(c.Overwrite.String(), "unset (default 1)")+": the next dump replaces the previous one"
		return ck
	}
	path := winDumpPath(c)
	ck.Fix = "move " + path + " away after each crash, or " + winRegAdd(winCrashControl, "Overwrite", 1)
	if exists, known := c.Exists[path]; known && exists {
		ck.Status, ck.Reason = Fail, "Overwrite is 0 and "+path+" exists: the next dump is not saved"
		return ck
	}
	ck.Status, ck.Reason = Warn, "Overwrite is 0: once "+path+" exists, later dumps are not saved until it is renamed"
	return ck
}

func winCheckMinidumpDir(m Machine, c WindowsConfig) Check {
	ck := Check{ID: "minidump-dir", Title: "The small dump folder (MinidumpDir) exists", Source: srcWinDumpOptions + "; " + srcWinFailureConfig}
	path := `%SystemRoot%\Minidump`
	if c.MinidumpDir.Set && c.MinidumpDir.Value != "" {
		path = c.MinidumpDir.Value
	}
	return winFolderCheck(ck, m, c, path, "small dumps")
}

// winFolderCheck: a dump folder on a missing volume fails; a missing
// folder warns (creating it is cheap and sure).
func winFolderCheck(ck Check, m Machine, c WindowsConfig, path, what string) Check {
	if vol := winPathVolume(path, winBootVolume(m)); vol != "" && len(m.Disks) > 0 {
		if _, ok := winDisk(m, vol); !ok {
			ck.Status, ck.Reason = Fail, fmt.Sprintf("%s go to %s, but %s is not a volume of this machine", what, path, vol)
			ck.Fix = "point it at a folder on a local volume"
			return ck
		}
	}
	exists, known := c.Exists[path]
	switch {
	case !known:
		ck.Status, ck.Reason = Unknown, path+" was not checked"
	case exists:
		ck.Status, ck.Reason = Pass, path+" exists"
	default:
		ck.Status, ck.Reason = Warn, fmt.Sprintf("%s does not exist; %s are written there", path, what)
		ck.Fix = fmt.Sprintf(`mkdir "%s" (an ACL that lets the writer in and keeps other users out: dumps hold memory contents)`, path)
	}
	return ck
}

func winCheckAutoReboot(c WindowsConfig) Check {
	ck := Check{ID: "autoreboot", Title: "Windows restarts after a crash (AutoReboot)", Source: srcWinFailureConfig + "; " + srcWinBestPractice}
	if c.AutoReboot.is(0) {
		ck.Status = Warn
		ck.Reason = "AutoReboot is 0: the machine stays on the stop screen until someone resets it, and the dump is only extracted from the page file into " + winDumpPath(c) + " at the next boot"
		ck.Fix = winRegAdd(winCrashControl, "AutoReboot", 1)
		return ck
	}
	ck.Status, ck.Reason = Pass, "AutoReboot is "+winOr(c.AutoReboot.String(), "unset (default 1)")
	return ck
}

func winCheckLogEvent(c WindowsConfig) Check {
	ck := Check{ID: "logevent", Title: "The bugcheck is logged (LogEvent)", Source: srcWinFailureConfig + "; " + srcWinBestPractice}
	if c.LogEvent.is(0) {
		ck.Status = Warn
		ck.Reason = "LogEvent is 0: no event 1001 (BugCheck) records the stop code and the dump's location"
		ck.Fix = winRegAdd(winCrashControl, "LogEvent", 1)
		return ck
	}
	ck.Status, ck.Reason = Pass, "LogEvent is "+winOr(c.LogEvent.String(), "unset (default 1)")
	return ck
}

// winCheckKeyboard reports on the keyboard crash once any of its values
// is set: both drivers on, and no alternate shortcut clashing with
// CrashOnCtrlScroll.
func winCheckKeyboard(c WindowsConfig) (Check, bool) {
	ck := Check{ID: "keyboard-crash", Title: "A hang can be turned into a dump from the keyboard", Source: srcWinKeyboard}
	set := func(k KeyboardCrash) bool { return k.CrashOnCtrlScroll.Set || k.Dump1Keys.Set || k.Dump2Key.Set }
	if !set(c.I8042) && !set(c.KbdHID) {
		return ck, false
	}
	var clash, off []string
	for _, kb := range []struct {
		driver, kind string
		k            KeyboardCrash
	}{{"i8042prt", "PS/2", c.I8042}, {"kbdhid", "USB", c.KbdHID}} {
		alt := kb.k.Dump1Keys.Set || kb.k.Dump2Key.Set
		if alt && kb.k.CrashOnCtrlScroll.is(1) {
			clash = append(clash, kb.driver)
		}
		if !alt && !kb.k.CrashOnCtrlScroll.is(1) {
			off = append(off, kb.driver+" ("+kb.kind+")")
		}
	}
	switch {
	case len(clash) > 0:
		ck.Status = Warn
		ck.Reason = strings.Join(clash, ", ") + ": an alternate shortcut (Dump1Keys/Dump2Key) is defined while CrashOnCtrlScroll is 1; the documentation requires CrashOnCtrlScroll 0 or absent then"
		ck.Fix = "delete CrashOnCtrlScroll under Services\\<driver>\\Parameters, or delete the crashdump key to keep right Ctrl + Scroll Lock"
	case len(off) > 0:
		ck.Status = Warn
		ck.Reason = "the keyboard crash is off for " + strings.Join(off, ", ") + ": a keyboard on that driver cannot force the dump"
		ck.Fix = "set CrashOnCtrlScroll=1 under HKLM\\SYSTEM\\CurrentControlSet\\Services\\<driver>\\Parameters for both i8042prt and kbdhid, then restart"
	default:
		ck.Status, ck.Reason = Pass, "both PS/2 (i8042prt) and USB (kbdhid) keyboards can force a crash"
	}
	return ck, true
}

func winCheckLocalDumps(c WindowsConfig) Check {
	ck := Check{ID: "localdumps", Title: "Application crashes leave a local dump (WER LocalDumps)", Source: srcWinLocalDumps}
	var apps []string
	for _, a := range c.AppDumps {
		if a.Present {
			apps = append(apps, a.App)
		}
	}
	if !c.LocalDumps.Present && len(apps) == 0 {
		ck.Status = Warn
		ck.Reason = "the LocalDumps key does not exist: an application crash leaves no dump on this machine"
		ck.Fix = "crashbench config plan --os windows --goal app"
		return ck
	}
	var parts []string
	if c.LocalDumps.Present {
		parts = append(parts, "global DumpType "+winOr(c.LocalDumps.DumpType.String(), "unset (1, mini)"))
	}
	if len(apps) > 0 {
		parts = append(parts, "per application: "+strings.Join(apps, ", "))
	}
	ck.Status, ck.Reason = Pass, "LocalDumps is on: "+strings.Join(parts, "; ")
	return ck
}

// winCheckLocalDumpsFolders checks each DumpFolder that is set.
func winCheckLocalDumpsFolders(m Machine, c WindowsConfig) []Check {
	var out []Check
	add := func(l WERLocalDumps, who string) {
		if !l.Present || !l.DumpFolder.Set || l.DumpFolder.Value == "" {
			return
		}
		ck := Check{ID: "localdumps-folder", Title: "The WER DumpFolder exists (" + who + ")", Source: srcWinLocalDumps}
		out = append(out, winFolderCheck(ck, m, c, l.DumpFolder.Value, "WER dumps of "+who))
	}
	add(c.LocalDumps, "all applications")
	for _, a := range c.AppDumps {
		add(a.WERLocalDumps, a.App)
	}
	return out
}

// winPathVolume is the drive a path is on: "D:" for D:\x, the boot
// volume for %SystemRoot%, %windir% and %SystemDrive%; "" when unknown.
func winPathVolume(path, boot string) string {
	p := strings.TrimSpace(path)
	low := strings.ToLower(p)
	for _, v := range []string{"%systemroot%", "%windir%", "%systemdrive%"} {
		if strings.HasPrefix(low, v) {
			return boot
		}
	}
	p = strings.TrimPrefix(p, `\??\`)
	if len(p) >= 2 && p[1] == ':' && (p[0]|0x20) >= 'a' && (p[0]|0x20) <= 'z' {
		return strings.ToUpper(p[:2])
	}
	return ""
}

func winOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
