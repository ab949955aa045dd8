package crashcfg

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Windows plans: what to change for a goal, as a reviewable diff, a .reg
// file, an apply.ps1 that saves the current values first and a
// revert.ps1 that restores them. Nothing here ever writes
// CrashDumpEnabled 4, 5 or 6.

// Script names, in the order the plan lists them.
const (
	WinRegScript    = "crashdump.reg"
	WinApplyScript  = "apply.ps1"
	WinRevertScript = "revert.ps1"
	// WinSavedFile is where apply.ps1 saves the values it changes, next
	// to the scripts.
	WinSavedFile = "crashbench-saved.json"
)

type winKind int

const (
	winDWORD winKind = iota
	winSZ
	winExpandSZ
	winMultiSZ
)

// winRegChange is one registry write or deletion.
type winRegChange struct {
	Key    string // HKLM\...
	Name   string
	Kind   winKind
	DWORD  uint32
	Str    string
	Strs   []string
	Delete bool
	From   string // the current value, "" when unset
	Why    string
}

func (r winRegChange) to() string {
	switch {
	case r.Delete:
		return "(deleted)"
	case r.Kind == winDWORD:
		return strconv.FormatUint(uint64(r.DWORD), 10)
	case r.Kind == winMultiSZ:
		return strings.Join(r.Strs, "; ")
	}
	return r.Str
}

// winPlanner collects the changes of one plan against the current config.
type winPlanner struct {
	m       Machine
	c       WindowsConfig
	changes []winRegChange
	notes   []string
	restart bool // some change takes effect only after a restart
}

func (p *winPlanner) dword(key, name string, cur RegDWORD, v uint32, why string) {
	if cur.is(v) {
		return
	}
	p.changes = append(p.changes, winRegChange{Key: key, Name: name, Kind: winDWORD, DWORD: v, From: cur.String(), Why: why})
}

func (p *winPlanner) deleteValue(key, name, from, why string) {
	p.changes = append(p.changes, winRegChange{Key: key, Name: name, Delete: true, From: from, Why: why})
}

func (p *winPlanner) note(format string, a ...any) {
	p.notes = append(p.notes, fmt.Sprintf(format, a...))
}

// PlanWindows plans for a goal: GoalBSOD, GoalHang, or GoalApp (local
// full dumps of every application; PlanWindowsApp targets one).
func PlanWindows(m Machine, c WindowsConfig, g Goal) (Plan, error) {
	switch g {
	case GoalBSOD, GoalHang:
		return planWindowsKernel(m, c, g)
	case GoalApp:
		return PlanWindowsApp(m, c, "")
	}
	return Plan{}, fmt.Errorf("goal %q does not apply to Windows (use bsod, app or hang)", g)
}

// planWindowsKernel plans a kernel dump: for a blue screen, Microsoft's
// recommendation by RAM; for a hang, a complete (up to 32 GB) or kernel
// dump that can be forced from the keyboard or by NMI.
func planWindowsKernel(m Machine, c WindowsConfig, g Goal) (Plan, error) {
	p := &winPlanner{m: m, c: c, restart: true}
	dt, why := WindowsRecommendedDumpType(m)
	if g == GoalHang {
		if dt == WinDumpComplete {
			why = fmt.Sprintf("a hang is understood from what every thread, kernel and user mode, was waiting on: a complete dump holds it all, and Microsoft recommends complete dumps up to 32 GB of RAM (this machine: %s) with a page file of RAM + 300 MB", winSize(m.RAM))
		} else {
			dt = WinDumpKernel
			why = fmt.Sprintf("a hang needs the stacks of every kernel thread: above 32 GB of RAM (this machine: %s) a kernel dump, sized by a system-managed page file, rather than Automatic, which sizes the page file to fit only \"most of the time\"", winSize(m.RAM))
		}
	}
	p.kernelDump(dt)

	if g == GoalHang {
		if winBeforeWindows8(m.Release) {
			p.dword(winCrashControl, "NMICrashDump", c.NMICrashDump, 1,
				"before Windows 8 / Server 2012 an NMI (the server's NMI button or iLO) writes a dump only with NMICrashDump=1")
		} else {
			p.note("NMICrashDump is not written: Windows 8 / Server 2012 and later bugcheck on an NMI without it, and the value has no effect there. A hang that even the keyboard cannot break needs the NMI button (or iLO/iDRAC 'generate NMI').")
		}
		p.keyboard()
		p.note("For a hung application rather than the whole system, a process dump is enough: procdump -accepteula -ma -h <app.exe> writes a full dump when one of its windows stops responding for 5 seconds (%s).", srcWinProcDump)
	}

	plan := Plan{OS: Windows, Goal: g, DumpType: WinDumpTypeName(dt), Why: why,
		Size: WindowsDumpSize(m, dt), Space: WindowsDumpSpace(m, dt)}
	switch dt {
	case WinDumpComplete:
		plan.Answers = "the stop code and everything in RAM: every thread's kernel and user-mode stack and all process memory, so a crash or hang involving user-mode services can be followed end to end"
		plan.Privacy = "all physical memory: the data of every process, including passwords, keys, tokens and open documents"
	default:
		plan.Answers = "the stop code, loaded drivers, kernel memory and every thread's kernel stack: driver bugs, pool corruption, kernel deadlocks; no user-mode memory"
		plan.Privacy = "kernel memory only, but kernel buffers (network, file-system, credentials held by the kernel) can still contain sensitive data"
	}
	if g == GoalHang {
		plan.Test = "Restart Windows so that the settings take effect. To test now, or when the machine hangs, hold the right Ctrl key and press Scroll Lock twice: Windows bugchecks with 0xE2 MANUALLY_INITIATED_CRASH and writes the dump. On servers without a keyboard, press the NMI button or send an NMI from the management controller (stop 0x80). After the restart, check " + winDumpPath(c) + " and System event 1001 (BugCheck)."
	} else {
		plan.Test = "Restart Windows so that the settings take effect. Then, from an elevated prompt, run Sysinternals NotMyFault: notmyfaultc64.exe /crash 0x01 (or right Ctrl + Scroll Lock twice if CrashOnCtrlScroll is set). Windows bugchecks and writes the dump; after the restart, check " + winDumpPath(c) + " and System event 1001 (BugCheck), then open the dump with WinDbg or verify it with dumpchk."
	}
	if m.RAM > winRecommendLimit {
		p.note("Large machines: disable the firmware's Automatic System Recovery (ASR) watchdog while troubleshooting; it can reset the machine before the dump is written (%s).", srcWinBestPractice)
	}
	return p.finish(plan)
}

// kernelDump writes CrashDumpEnabled (and FilterPages) for dt and makes
// room for it: a dedicated dump file of the right size, or a page file
// on the boot volume.
func (p *winPlanner) kernelDump(dt string) {
	c, m := p.c, p.m
	v, filter, ok := winCrashDumpEnabled(dt)
	if !ok {
		panic("crashcfg: no CrashDumpEnabled value for " + dt)
	}
	why := "selects the " + WinDumpTypeName(dt)
	if c.DumpType() == WinDumpUndocumented {
		why += fmt.Sprintf(" (the current value %d is undocumented)", c.CrashDumpEnabled.Value)
	}
	p.dword(winCrashControl, "CrashDumpEnabled", c.CrashDumpEnabled, v, why)
	if filter {
		p.dword(winCrashControl, "FilterPages", c.FilterPages, 1, "with CrashDumpEnabled=1, makes it an Active memory dump")
	} else if c.FilterPages.Set && v == 1 {
		p.deleteValue(winCrashControl, "FilterPages", c.FilterPages.String(), "FilterPages=1 would turn the complete dump into an Active dump")
	}
	if c.LogEvent.is(0) {
		p.dword(winCrashControl, "LogEvent", c.LogEvent, 1, "logs event 1001 (BugCheck) with the stop code and the dump's location")
	}
	if m.Client && !c.DomainJoined {
		p.dword(winCrashControl, "AlwaysKeepMemoryDump", c.AlwaysKeepMemoryDump, 1,
			"a Windows client that is not domain-joined deletes Memory.dmp when its volume has less than 25 GB free")
	}
	if c.Overwrite.is(0) {
		p.note("Overwrite is 0: if %s already exists, rename or delete it, or the next dump is not saved.", winDumpPath(c))
	}

	space := WindowsDumpSpace(m, dt)
	if c.DedicatedDumpFile.Set && c.DedicatedDumpFile.Value != "" {
		mb := winMBCeil(space.Bytes)
		if dt == WinDumpComplete {
			mb = winMBCeil(m.RAM + winRecommendPad)
		}
		if !c.DumpFileSize.Set || c.DumpFileSize.Value < uint32(mb) {
			p.dword(winCrashControl, "DumpFileSize", c.DumpFileSize, uint32(mb),
				fmt.Sprintf("the dedicated dump file %s must hold the %s: %d MB", c.DedicatedDumpFile.Value, WinDumpTypeName(dt), mb))
		}
		p.note("A dedicated dump file (%s) backs the dump, so the page files are left as they are.", c.DedicatedDumpFile.Value)
		return
	}
	p.pageFile(dt, space)
}

// pageFile sets the boot volume's page file for dt: RAM + 300 MB for a
// complete or active dump (Microsoft's recommendation), system-managed
// otherwise.
func (p *winPlanner) pageFile(dt string, space Estimate) {
	c, m := p.c, p.m
	boot := winBootVolume(m)
	cur, has := c.PageFiles.On(boot)
	var want PageFile
	var why string
	switch dt {
	case WinDumpComplete, WinDumpActive:
		mb := winMBCeil(m.RAM + winRecommendPad)
		if has && !cur.SystemManaged() && cur.InitialMB >= winMBCeil(space.Bytes) {
			return
		}
		want = PageFile{Path: boot + `\pagefile.sys`, InitialMB: mb, MaximumMB: max(mb, cur.MaximumMB)}
		why = fmt.Sprintf("a %s is first written to the page file on the boot volume, which must hold RAM + 257 MB; Microsoft recommends RAM + 300 MB = %d MB, as the initial size", WinDumpTypeName(dt), mb)
	case WinDumpKernel, WinDumpAutomatic, WinDumpSmall:
		if has && cur.SystemManaged() {
			return
		}
		if has && dt != WinDumpAutomatic && cur.InitialMB >= winMBCeil(space.Bytes) {
			return
		}
		want = PageFile{Path: boot + `\pagefile.sys`}
		why = "a system-managed page file on the boot volume is sized at startup for the dump setting (given free space)"
		if dt == WinDumpAutomatic {
			why = "Automatic relies on a system-managed page file on the boot volume, which grows to RAM or 32 GB after a crash"
		}
	default:
		return
	}
	var files []PageFile
	for _, f := range c.PageFiles.Files {
		if !strings.EqualFold(f.Volume(), boot) && f.Volume() != "?:" {
			files = append(files, f)
		}
	}
	files = append([]PageFile{want}, files...)
	next := PageFiles{Read: true, Files: files}
	from := ""
	if c.PageFiles.Read {
		from = strings.Join(c.PageFiles.Strings(), "; ")
	}
	p.changes = append(p.changes, winRegChange{Key: winMemoryMgmt, Name: "PagingFiles", Kind: winMultiSZ,
		Strs: next.Strings(), From: from, Why: why})
	if !c.PageFiles.Read {
		p.note("The machine's page files are not known, so PagingFiles lists only the boot volume's: add any other volume's page file back before applying.")
	}
	if d, ok := winBootDisk(m); ok && d.Size > 0 && want.InitialMB > 0 {
		need := want.InitialMB * winMiB
		if d.Free < need {
			p.note("The boot volume %s has %s free, less than the %s page file (the current page file's own space aside): free space, or set a DedicatedDumpFile on another volume instead.",
				boot, winSize(d.Free), winSize(need))
		}
	}
}

// keyboard turns on the right Ctrl + Scroll Lock crash on both keyboard
// drivers, unless an alternate shortcut is defined (which requires
// CrashOnCtrlScroll to be 0 or absent).
func (p *winPlanner) keyboard() {
	for _, kb := range []struct {
		driver, kind string
		k            KeyboardCrash
	}{{"i8042prt", "PS/2", p.c.I8042}, {"kbdhid", "USB", p.c.KbdHID}} {
		if kb.k.Dump1Keys.Set || kb.k.Dump2Key.Set {
			p.note("%s (%s keyboards) defines an alternate crash shortcut (Dump1Keys/Dump2Key), so CrashOnCtrlScroll is left alone: use that shortcut.", kb.driver, kb.kind)
			continue
		}
		p.dword(winServices+`\`+kb.driver+`\Parameters`, "CrashOnCtrlScroll", kb.k.CrashOnCtrlScroll, 1,
			"right Ctrl + Scroll Lock twice on a "+kb.kind+" keyboard forces the crash (and the dump) during a hang")
	}
}

// PlanWindowsApp plans WER local full dumps for one application ("app.exe")
// or, with app "", for every application.
func PlanWindowsApp(m Machine, c WindowsConfig, app string) (Plan, error) {
	if strings.ContainsAny(app, `\/`) {
		return Plan{}, fmt.Errorf("application %q: give the executable's file name, such as MyApplication.exe", app)
	}
	p := &winPlanner{m: m, c: c}
	key, cur, target := winLocalDumps, c.LocalDumps, "every application"
	if app != "" {
		key, target = winLocalDumps+`\`+app, app
		a, _ := c.App(app)
		cur = a.WERLocalDumps
	}
	why := "2 = full dump: all of the process's memory, what a debugger needs for heap corruption and for the state of every thread"
	if !cur.Present {
		why += "; writing it creates the key, which turns local dumps on"
	}
	p.dword(key, "DumpType", cur.DumpType, 2, why)
	if app != "" && !c.LocalDumps.Present {
		p.note("Creating %s also creates the LocalDumps key itself; its global defaults (mini dumps, 10 per folder) then apply to other applications. revert.ps1 removes both keys.", key)
	}

	folder := `%LOCALAPPDATA%\CrashDumps`
	if cur.DumpFolder.Set {
		folder = cur.DumpFolder.Value
	} else if app != "" && c.LocalDumps.DumpFolder.Set {
		folder = c.LocalDumps.DumpFolder.Value
	}
	if exists, known := c.Exists[folder]; known && !exists {
		p.note("DumpFolder %s does not exist: create it, with an ACL that lets the crashing process write (and keeps other users from reading the dumps).", folder)
	}
	p.note("WER LocalDumps does not cover applications that do their own crash reporting, including .NET applications, nor applications run under automatic debugging (AeDebug); use procdump for those (%s).", srcWinLocalDumps)

	count := uint32(10)
	if cur.DumpCount.Set {
		count = cur.DumpCount.Value
	} else if app != "" && c.LocalDumps.DumpCount.Set {
		count = c.LocalDumps.DumpCount.Value
	}
	plan := Plan{OS: Windows, Goal: GoalApp, DumpType: "WER full dump (" + target + ")",
		Why:     "WER LocalDumps keeps a dump of each crash of " + target + " on this machine, even when error reporting to Microsoft is off; a full dump answers what a mini dump cannot (heap state, every thread's data)",
		Answers: "the exception, every thread's stack and all of the process's memory: heap corruption, use-after-free, bad state behind the crash",
		Privacy: "all of the process's memory: whatever it held (passwords, tokens, keys, documents); dumps land in " + folder + ", which should not be readable by other users",
		Size: Estimate{Estimate: true,
			Basis:  "a full dump holds the process's whole address space in use (about its private bytes plus mapped images); unknown until the process is measured, e.g. in Task Manager's Commit size",
			Source: srcWinLocalDumps},
		Space: Estimate{Estimate: true,
			Basis:  fmt.Sprintf("DumpCount = %d: up to %d full dumps of the process in %s; the oldest is replaced", count, count, folder),
			Source: srcWinLocalDumps},
		Test: "No restart is needed: WER reads LocalDumps when a process crashes. Start " + target + " again and make it crash (or crash a test program); WER writes <app>.exe.<pid>.dmp to " + folder +
			" (for %LOCALAPPDATA%, the profile of the user the process ran as; services: their service profile, e.g. %WINDIR%\\System32\\Config\\SystemProfile). Without changing the registry, procdump -accepteula -ma -e -w <app.exe> <folder> waits for the process and writes a full dump on an unhandled exception.",
	}
	return p.finish(plan)
}

// finish checks the changes, renders the diff and the scripts.
func (p *winPlanner) finish(plan Plan) (Plan, error) {
	if err := winNoUndocumentedWrites(p.changes); err != nil {
		return Plan{}, err
	}
	for _, r := range p.changes {
		plan.Changes = append(plan.Changes, Change{Key: r.Key + `\` + r.Name, From: r.From, To: r.to(), Why: r.Why})
	}
	plan.Notes = p.notes
	if len(p.changes) == 0 {
		plan.Notes = append(plan.Notes, "Nothing to change: this machine is already configured for the goal.")
		return plan, nil
	}
	title := fmt.Sprintf("crashbench config plan: goal %s, %s", plan.Goal, plan.DumpType)
	plan.Scripts = []Script{
		{Name: WinRegScript, Text: winRegFile(title, p.changes)},
		{Name: WinApplyScript, Text: winApplyPS1(title, p.changes, p.restart)},
		{Name: WinRevertScript, Text: winRevertPS1(p.restart)},
	}
	return plan, nil
}

// winNoUndocumentedWrites refuses any change writing CrashDumpEnabled 4-6.
func winNoUndocumentedWrites(changes []winRegChange) error {
	for _, r := range changes {
		if !r.Delete && strings.EqualFold(r.Name, "CrashDumpEnabled") && r.DWORD >= 4 && r.DWORD <= 6 {
			return fmt.Errorf("refusing to write the undocumented CrashDumpEnabled %d", r.DWORD)
		}
	}
	return nil
}

// winBeforeWindows8 reports whether release ("6.1.7601", "10.0.22631")
// is older than Windows 8 / Server 2012 (6.2). Unknown counts as older,
// where writing NMICrashDump is harmless.
func winBeforeWindows8(release string) bool {
	f := strings.SplitN(strings.TrimSpace(release), ".", 3)
	if len(f) < 2 {
		return true
	}
	major, err1 := strconv.Atoi(f[0])
	minor, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return true
	}
	return major < 6 || (major == 6 && minor < 2)
}

// winDumpPath is where the kernel dump ends up.
func winDumpPath(c WindowsConfig) string {
	if c.DumpFile.Set && c.DumpFile.Value != "" {
		return c.DumpFile.Value
	}
	return `%SystemRoot%\MEMORY.DMP`
}

const crlf = "\r\n"

// winRegFile renders the changes as a .reg file (CRLF, as regedit writes).
func winRegFile(title string, changes []winRegChange) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + crlf) }
	w("Windows Registry Editor Version 5.00")
	w("")
	w("; " + title)
	w("; Import as an administrator (reg import " + WinRegScript + "), then restart Windows if the plan says so.")
	w("; This file does not save the current values: " + WinApplyScript + " does, and " + WinRevertScript + " restores them.")
	// One section per key, in the order the keys first appear.
	var keys []string
	byKey := map[string][]winRegChange{}
	for _, r := range changes {
		if _, ok := byKey[r.Key]; !ok {
			keys = append(keys, r.Key)
		}
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	var grouped []winRegChange
	for _, k := range keys {
		grouped = append(grouped, byKey[k]...)
	}
	key := ""
	for _, r := range grouped {
		if r.Key != key {
			key = r.Key
			w("")
			w("[" + strings.Replace(key, `HKLM\`, `HKEY_LOCAL_MACHINE\`, 1) + "]")
		}
		from := r.From
		if from == "" {
			from = "unset"
		}
		w("; " + r.Name + " was " + from + ": " + r.Why)
		name := `"` + regEscape(r.Name) + `"`
		switch {
		case r.Delete:
			w(name + "=-")
		case r.Kind == winDWORD:
			w(fmt.Sprintf("%s=dword:%08x", name, r.DWORD))
		case r.Kind == winSZ:
			w(name + `="` + regEscape(r.Str) + `"`)
		case r.Kind == winExpandSZ:
			w(regHex(name+"=hex(2):", utf16z(r.Str)))
		case r.Kind == winMultiSZ:
			var data []byte
			for _, s := range r.Strs {
				data = append(data, utf16z(s)...)
			}
			data = append(data, 0, 0)
			w(regHex(name+"=hex(7):", data))
		}
	}
	return b.String()
}

func regEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// utf16z is s in UTF-16LE with a terminating NUL, as REG_*SZ stores it.
func utf16z(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return append(out, 0, 0)
}

// regHex writes bytes as regedit does: comma-separated hex, lines
// continued with a backslash before 80 columns.
func regHex(prefix string, data []byte) string {
	var b strings.Builder
	line := prefix
	for i, x := range data {
		tok := fmt.Sprintf("%02x", x)
		if i < len(data)-1 {
			tok += ","
		}
		if len(line)+len(tok) > 77 {
			b.WriteString(line + `\` + crlf)
			line = "  "
		}
		line += tok
	}
	b.WriteString(line)
	return b.String()
}

func psQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func psKey(k string) string { return strings.Replace(k, `HKLM\`, `HKLM:\`, 1) }

var winKindPS = map[winKind]string{winDWORD: "DWord", winSZ: "String", winExpandSZ: "ExpandString", winMultiSZ: "MultiString"}

func winRestartLine(restart bool) string {
	if restart {
		return "Restart Windows for the changes to take effect."
	}
	return "No restart is needed."
}

// winApplyPS1 saves the current value of everything it changes (and the
// keys it creates) to crashbench-saved.json, then applies the changes.
func winApplyPS1(title string, changes []winRegChange, restart bool) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + crlf) }
	w("#Requires -RunAsAdministrator")
	w("# " + title)
	w("# Saves the current values of everything it changes to " + WinSavedFile + " next to this")
	w("# script, then applies the changes. " + WinRevertScript + " restores the saved values.")
	w("$ErrorActionPreference = 'Stop'")
	w("$saved = Join-Path $PSScriptRoot '" + WinSavedFile + "'")
	w("if (Test-Path -LiteralPath $saved) {")
	w("    throw \"$saved exists: run " + WinRevertScript + " first, or move the file away, so that the original values are kept.\"")
	w("}")
	w("")
	w("$changes = @(")
	for _, r := range changes {
		w("    # " + r.Name + ": " + r.Why)
		if r.Delete {
			w(fmt.Sprintf("    @{ Key = %s; Name = %s; Delete = $true }", psQuote(psKey(r.Key)), psQuote(r.Name)))
			continue
		}
		var v string
		switch r.Kind {
		case winDWORD:
			v = strconv.FormatUint(uint64(r.DWORD), 10)
		case winMultiSZ:
			q := make([]string, len(r.Strs))
			for i, s := range r.Strs {
				q[i] = psQuote(s)
			}
			v = "@(" + strings.Join(q, ", ") + ")"
		default:
			v = psQuote(r.Str)
		}
		w(fmt.Sprintf("    @{ Key = %s; Name = %s; Kind = '%s'; Value = %s }", psQuote(psKey(r.Key)), psQuote(r.Name), winKindPS[r.Kind], v))
	}
	w(")")
	w("")
	w("# Save first: the keys about to be created, and every value as it is now.")
	w("$created = @()")
	w("$values = foreach ($c in $changes) {")
	w("    $p = $c.Key")
	w("    while ($p -and -not (Test-Path -LiteralPath $p)) {")
	w("        if ($created -notcontains $p) { $created += $p }")
	w("        $p = Split-Path -Path $p -Parent")
	w("    }")
	w("    $entry = [ordered]@{ Key = $c.Key; Name = $c.Name; Existed = $false; Kind = $null; Value = $null }")
	w("    $k = Get-Item -LiteralPath $c.Key -ErrorAction SilentlyContinue")
	w("    if ($k -and ($k.GetValueNames() -contains $c.Name)) {")
	w("        $entry.Existed = $true")
	w("        $entry.Kind = $k.GetValueKind($c.Name).ToString()")
	w("        $entry.Value = $k.GetValue($c.Name, $null, 'DoNotExpandEnvironmentNames')")
	w("    }")
	w("    [pscustomobject]$entry")
	w("}")
	w("[pscustomobject]@{ CreatedKeys = @($created); Values = @($values) } |")
	w("    ConvertTo-Json -Depth 4 | Set-Content -LiteralPath $saved -Encoding UTF8")
	w("Write-Host \"Saved the current values to $saved\"")
	w("")
	w("foreach ($key in ($created | Sort-Object -Property Length)) { New-Item -Path $key | Out-Null }")
	w("foreach ($c in $changes) {")
	w("    if ($c.Delete) {")
	w("        Remove-ItemProperty -LiteralPath $c.Key -Name $c.Name -ErrorAction SilentlyContinue")
	w("        Write-Host \"$($c.Key)\\$($c.Name) deleted\"")
	w("        continue")
	w("    }")
	w("    New-ItemProperty -LiteralPath $c.Key -Name $c.Name -PropertyType $c.Kind -Value $c.Value -Force | Out-Null")
	w("    Write-Host \"$($c.Key)\\$($c.Name) = $($c.Value -join '; ')\"")
	w("}")
	w("Write-Host 'Done. " + winRestartLine(restart) + " To undo: " + WinRevertScript + "'")
	return b.String()
}

// winRevertPS1 restores what apply.ps1 saved. It never writes
// CrashDumpEnabled 4, 5 or 6: a saved undocumented value becomes 7, the
// default.
func winRevertPS1(restart bool) string {
	var b strings.Builder
	w := func(s string) { b.WriteString(s + crlf) }
	w("#Requires -RunAsAdministrator")
	w("# crashbench: restores the values " + WinApplyScript + " saved in " + WinSavedFile + ",")
	w("# deletes the values that did not exist and removes the keys it created.")
	w("# A saved CrashDumpEnabled of 4, 5 or 6 is undocumented and is not written back:")
	w("# 7 (Automatic memory dump, the default) is written instead.")
	w("$ErrorActionPreference = 'Stop'")
	w("$saved = Join-Path $PSScriptRoot '" + WinSavedFile + "'")
	w("if (-not (Test-Path -LiteralPath $saved)) {")
	w("    throw \"$saved not found: " + WinApplyScript + " writes it before changing anything.\"")
	w("}")
	w("$state = Get-Content -LiteralPath $saved -Raw | ConvertFrom-Json")
	w("$createdKeys = @($state.CreatedKeys)")
	w("foreach ($e in @($state.Values)) {")
	w("    if ($createdKeys -contains $e.Key -or -not (Test-Path -LiteralPath $e.Key)) { continue }")
	w("    if (-not $e.Existed) {")
	w("        Remove-ItemProperty -LiteralPath $e.Key -Name $e.Name -ErrorAction SilentlyContinue")
	w("        Write-Host \"$($e.Key)\\$($e.Name) deleted\"")
	w("        continue")
	w("    }")
	w("    $value = $e.Value")
	w("    if ($e.Name -eq 'CrashDumpEnabled' -and @(4, 5, 6) -contains [int64]$value) {")
	w("        Write-Warning \"The saved CrashDumpEnabled $value is undocumented; writing 7 (Automatic memory dump) instead.\"")
	w("        $value = 7")
	w("    }")
	w("    if ($e.Kind -eq 'MultiString') { $value = [string[]]@($value) }")
	w("    New-ItemProperty -LiteralPath $e.Key -Name $e.Name -PropertyType $e.Kind -Value $value -Force | Out-Null")
	w("    Write-Host \"$($e.Key)\\$($e.Name) = $($value -join '; ')\"")
	w("}")
	w("foreach ($k in ($createdKeys | Sort-Object -Property Length -Descending)) {")
	w("    if (Test-Path -LiteralPath $k) {")
	w("        Remove-Item -LiteralPath $k -Recurse -Force")
	w("        Write-Host \"$k removed\"")
	w("    }")
	w("}")
	w("Remove-Item -LiteralPath $saved")
	w("Write-Host 'Restored. " + winRestartLine(restart) + "'")
	return b.String()
}
