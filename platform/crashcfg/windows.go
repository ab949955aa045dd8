package crashcfg

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// This file models every Windows crash-dump setting: the CrashControl
// key, the keyboard crash, the page files and WER LocalDumps. The reader
// (windows_read_windows.go) fills a WindowsConfig from the registry; a
// planned machine starts from the zero WindowsConfig, where nothing is
// set and Windows' defaults apply.

// Microsoft Learn pages the Windows helpers cite.
const (
	srcWinDumpOptions   = "https://learn.microsoft.com/en-us/troubleshoot/windows-server/performance/memory-dump-file-options"                                                                                                // Overview of memory dump file options for Windows
	srcWinFailureConfig = "https://learn.microsoft.com/en-us/troubleshoot/windows-client/performance/configure-system-failure-and-recovery-options"                                                                           // Configure system failure and recovery options in Windows
	srcWinKernelDumps   = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/kernel-mode-dump-files"                                                                                                        // Kernel-mode dump files
	srcWinVarieties     = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/varieties-of-kernel-mode-dump-files"                                                                                           // Varieties of Kernel-Mode Dump Files
	srcWinKernelDump    = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/kernel-memory-dump"                                                                                                            // Kernel Memory Dump
	srcWinCompleteDump  = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/complete-memory-dump"                                                                                                          // Complete Memory Dump
	srcWinSmallDump     = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/small-memory-dump"                                                                                                             // Small Memory Dump
	srcWinAutoDump      = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/automatic-memory-dump"                                                                                                         // Automatic Memory Dump
	srcWinActiveDump    = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/active-memory-dump"                                                                                                            // Active Memory Dump
	srcWinPageFileSize  = "https://learn.microsoft.com/en-us/troubleshoot/windows-client/performance/how-to-determine-the-appropriate-page-file-size-for-64-bit-versions-of-windows"                                          // How to determine the appropriate page file size for 64-bit versions of Windows
	srcWinBestPractice  = "https://learn.microsoft.com/en-us/troubleshoot/windows-server/performance/troubleshoot-stop-errors-best-practices-dump-configuration-recommendations"                                              // Troubleshoot stop errors: best practices and dump configuration recommendations
	srcWinGenerateDump  = "https://learn.microsoft.com/en-us/troubleshoot/windows-client/performance/generate-a-kernel-or-complete-crash-dump"                                                                                // Generate a kernel or complete crash dump (NotMyFault, NMI)
	srcWinIgnorePFSize  = "https://learn.microsoft.com/en-us/troubleshoot/windows-server/performance/kernel-memory-dump-files-generated"                                                                                      // KB 949052, IgnorePagefileSize
	srcWinDedicatedDump = "https://learn.microsoft.com/en-us/archive/blogs/ntdebugging/how-to-use-the-dedicateddumpfile-registry-value-to-overcome-space-limitations-on-the-system-drive-when-capturing-a-system-memory-dump" // NTDebugging: DedicatedDumpFile
	srcWinKeepDump      = "https://learn.microsoft.com/en-us/archive/blogs/wer/kernel-dump-storage-and-clean-up-behavior-in-windows-7; Windows Internals 6th ed., part 2, ch. 14 (Crash dump files)"                          // the 25 GB rule and AlwaysKeepMemoryDump
	srcWinKeyboard      = "https://learn.microsoft.com/en-us/windows-hardware/drivers/debugger/forcing-a-system-crash-from-the-keyboard"                                                                                      // Forcing a System Crash from the Keyboard
	srcWinLocalDumps    = "https://learn.microsoft.com/en-us/windows/win32/wer/collecting-user-mode-dumps"                                                                                                                    // Collecting User-Mode Dumps
	srcWinPagingFiles   = "https://learn.microsoft.com/en-us/azure/virtual-machines/windows/prepare-for-upload-vhd-image"                                                                                                     // PagingFiles "D:\pagefile.sys 0 0" = system-managed size
	srcWinProcDump      = "https://learn.microsoft.com/en-us/sysinternals/downloads/procdump"
)

// ErrNoRegistry is ReadWindows' error on systems other than Windows.
var ErrNoRegistry = errors.New("crashcfg: the Windows registry can only be read on Windows; plan for another machine with --os windows")

// Registry keys, written the way reg.exe and .reg files name them.
const (
	winCrashControl = `HKLM\SYSTEM\CurrentControlSet\Control\CrashControl`
	winMemoryMgmt   = `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management`
	winServices     = `HKLM\SYSTEM\CurrentControlSet\Services`
	winLocalDumps   = `HKLM\SOFTWARE\Microsoft\Windows\Windows Error Reporting\LocalDumps`
)

// Kernel dump types, the names the calculators take. CrashDumpEnabled
// holds 0, 1, 2, 3 or 7; Active is 1 with FilterPages 1.
const (
	WinDumpNone      = "none"
	WinDumpComplete  = "complete"
	WinDumpActive    = "active"
	WinDumpKernel    = "kernel"
	WinDumpSmall     = "small"
	WinDumpAutomatic = "automatic"
	// WinDumpUndocumented is CrashDumpEnabled 4, 5 or 6: Microsoft
	// documents no meaning for them, so they are shown and never written.
	WinDumpUndocumented = "undocumented"
	WinDumpUnknown      = "unknown" // any other value
)

// WinDumpTypes lists the documented kernel dump types, smallest first.
var WinDumpTypes = []string{WinDumpNone, WinDumpSmall, WinDumpKernel, WinDumpAutomatic, WinDumpActive, WinDumpComplete}

// winDumpTypeNames are the names the Startup and Recovery dialog uses.
var winDumpTypeNames = map[string]string{
	WinDumpNone:         "(none)",
	WinDumpComplete:     "Complete memory dump",
	WinDumpActive:       "Active memory dump",
	WinDumpKernel:       "Kernel memory dump",
	WinDumpSmall:        "Small memory dump",
	WinDumpAutomatic:    "Automatic memory dump",
	WinDumpUndocumented: "undocumented dump type",
	WinDumpUnknown:      "unknown dump type",
}

// WinDumpTypeName is the Startup and Recovery name of a dump type.
func WinDumpTypeName(dumpType string) string {
	if n, ok := winDumpTypeNames[dumpType]; ok {
		return n
	}
	return dumpType
}

// RegDWORD is a REG_DWORD that may be absent: Set false means the value
// does not exist and Windows' default applies.
type RegDWORD struct {
	Value uint32
	Set   bool
}

// RegString is a REG_SZ or REG_EXPAND_SZ that may be absent. Value is
// kept unexpanded, as stored ("%SystemRoot%\MEMORY.DMP").
type RegString struct {
	Value string
	Set   bool
}

// RegDW and RegStr build set values, for configs written by hand and tests.
func RegDW(v uint32) RegDWORD       { return RegDWORD{Value: v, Set: true} }
func RegStr(v string) RegString     { return RegString{Value: v, Set: true} }
func (d RegDWORD) is(v uint32) bool { return d.Set && d.Value == v }

func (d RegDWORD) String() string {
	if !d.Set {
		return ""
	}
	return strconv.FormatUint(uint64(d.Value), 10)
}

// KeyboardCrash is one keyboard driver's crash settings: i8042prt for
// PS/2 keyboards, kbdhid for USB keyboards.
type KeyboardCrash struct {
	CrashOnCtrlScroll RegDWORD // Services\<driver>\Parameters
	Dump1Keys         RegDWORD // Services\<driver>\crashdump: bit map of the first key
	Dump2Key          RegDWORD // Services\<driver>\crashdump: scan-code table index of the second key
}

// PageFile is one entry of the PagingFiles value: "C:\pagefile.sys 1024 4096"
// (initial and maximum in MB), "C:\pagefile.sys 0 0" (system-managed size)
// or "?:\pagefile.sys" (Windows manages the page files of all drives).
type PageFile struct {
	Path      string
	InitialMB uint64
	MaximumMB uint64
}

// Volume is the drive ("C:"), or "?:" for automatic management of all drives.
func (p PageFile) Volume() string {
	if len(p.Path) >= 2 && p.Path[1] == ':' {
		return strings.ToUpper(p.Path[:2])
	}
	return ""
}

// SystemManaged: Windows sizes this page file (sizes 0 0, or "?:").
func (p PageFile) SystemManaged() bool {
	return (p.InitialMB == 0 && p.MaximumMB == 0) || p.Volume() == "?:"
}

func (p PageFile) String() string {
	if p.Volume() == "?:" && p.InitialMB == 0 && p.MaximumMB == 0 {
		return p.Path
	}
	return fmt.Sprintf("%s %d %d", p.Path, p.InitialMB, p.MaximumMB)
}

// PageFiles is the PagingFiles value. Read false: not known (a planned
// machine); Read true with no Files: the machine has no page file.
type PageFiles struct {
	Read  bool
	Files []PageFile
}

// ParsePagingFiles parses the PagingFiles REG_MULTI_SZ entries.
func ParsePagingFiles(entries []string) []PageFile {
	var out []PageFile
	for _, e := range entries {
		f := strings.Fields(e)
		if len(f) == 0 {
			continue
		}
		p := PageFile{Path: f[0]}
		if len(f) >= 3 {
			p.InitialMB, _ = strconv.ParseUint(f[1], 10, 64)
			p.MaximumMB, _ = strconv.ParseUint(f[2], 10, 64)
		}
		out = append(out, p)
	}
	return out
}

// Strings renders the entries back as PagingFiles strings.
func (pf PageFiles) Strings() []string {
	out := make([]string, 0, len(pf.Files))
	for _, p := range pf.Files {
		out = append(out, p.String())
	}
	return out
}

// On returns the page file on volume ("C:"); a "?:" entry counts for
// every volume. ok is false when there is none.
func (pf PageFiles) On(volume string) (PageFile, bool) {
	for _, p := range pf.Files {
		if strings.EqualFold(p.Volume(), volume) {
			return p, true
		}
	}
	for _, p := range pf.Files {
		if p.Volume() == "?:" {
			return p, true
		}
	}
	return PageFile{}, false
}

// WERLocalDumps is the LocalDumps key (global) or one application's subkey.
type WERLocalDumps struct {
	Present         bool // the key exists: local dumps are on
	DumpFolder      RegString
	DumpCount       RegDWORD
	DumpType        RegDWORD // 0 custom, 1 mini, 2 full
	CustomDumpFlags RegDWORD // MINIDUMP_TYPE bits, used when DumpType is 0
}

// WERAppDumps is LocalDumps\<App>, which overrides the global values.
type WERAppDumps struct {
	App string // "MyApplication.exe"
	WERLocalDumps
}

// WindowsConfig is every crash-dump setting of a Windows machine.
type WindowsConfig struct {
	// HKLM\SYSTEM\CurrentControlSet\Control\CrashControl
	CrashDumpEnabled     RegDWORD
	FilterPages          RegDWORD
	DumpFile             RegString
	MinidumpDir          RegString
	Overwrite            RegDWORD
	AutoReboot           RegDWORD
	LogEvent             RegDWORD
	AlwaysKeepMemoryDump RegDWORD
	DedicatedDumpFile    RegString
	DumpFileSize         RegDWORD // MB
	IgnorePagefileSize   RegDWORD
	NMICrashDump         RegDWORD

	I8042  KeyboardCrash // PS/2 keyboards
	KbdHID KeyboardCrash // USB keyboards

	PageFiles PageFiles

	LocalDumps WERLocalDumps
	AppDumps   []WERAppDumps // sorted by App

	// DomainJoined: a domain-joined client keeps its Memory.dmp whatever
	// the free space.
	DomainJoined bool
	// Exists records, for folders and files named by the settings
	// (keyed by the value as stored), whether the reader found them. A
	// missing key means unknown.
	Exists map[string]bool
}

// DumpType is the kernel dump type in force: CrashDumpEnabled with
// FilterPages, or the default (Automatic) when unset.
func (c WindowsConfig) DumpType() string {
	if !c.CrashDumpEnabled.Set {
		return WinDumpAutomatic
	}
	return winDumpType(c.CrashDumpEnabled.Value, c.FilterPages.is(1))
}

func winDumpType(v uint32, filterPages bool) string {
	switch v {
	case 0:
		return WinDumpNone
	case 1:
		if filterPages {
			return WinDumpActive
		}
		return WinDumpComplete
	case 2:
		return WinDumpKernel
	case 3:
		return WinDumpSmall
	case 7:
		return WinDumpAutomatic
	case 4, 5, 6:
		return WinDumpUndocumented
	}
	return WinDumpUnknown
}

// winCrashDumpEnabled is the value to write for a documented dump type.
// It never returns 4, 5 or 6.
func winCrashDumpEnabled(dumpType string) (value uint32, filterPages bool, ok bool) {
	switch dumpType {
	case WinDumpNone:
		return 0, false, true
	case WinDumpComplete:
		return 1, false, true
	case WinDumpActive:
		return 1, true, true
	case WinDumpKernel:
		return 2, false, true
	case WinDumpSmall:
		return 3, false, true
	case WinDumpAutomatic:
		return 7, false, true
	}
	return 0, false, false
}

// App returns the LocalDumps subkey of app, if any.
func (c WindowsConfig) App(app string) (WERAppDumps, bool) {
	for _, a := range c.AppDumps {
		if strings.EqualFold(a.App, app) {
			return a, true
		}
	}
	return WERAppDumps{}, false
}

// WindowsSettings lists every setting with its value, default, valid
// values, meaning and source.
func WindowsSettings(c WindowsConfig) []Setting {
	cc := func(name string) string { return winCrashControl + `\` + name }
	onOff := func(d RegDWORD, def uint32, on, off string) string {
		v := def
		if d.Set {
			v = d.Value
		}
		if v == 1 {
			return on
		}
		if v == 0 {
			return off
		}
		return fmt.Sprintf("%d is not a documented value (0 or 1)", v)
	}
	str := func(s RegString, def string) string {
		if s.Set {
			return s.Value
		}
		return def
	}

	dt := c.DumpType()
	dumpMeaning := WinDumpTypeName(dt)
	switch dt {
	case WinDumpUndocumented:
		dumpMeaning = fmt.Sprintf("%d is not documented by Microsoft (documented: 0, 1, 2, 3, 7); crashbench shows it but never writes it", c.CrashDumpEnabled.Value)
	case WinDumpUnknown:
		dumpMeaning = fmt.Sprintf("%d is not a documented value", c.CrashDumpEnabled.Value)
	case WinDumpNone:
		dumpMeaning = "(none): no kernel dump is written on a bugcheck"
	}

	s := []Setting{
		{Group: "CrashControl", Key: cc("CrashDumpEnabled"), Value: c.CrashDumpEnabled.String(), Set: c.CrashDumpEnabled.Set,
			Default: "7 (Automatic memory dump)",
			Valid:   "0 none, 1 complete (active with FilterPages=1), 2 kernel, 3 small, 7 automatic; 4-6 are undocumented",
			Meaning: dumpMeaning, Source: srcWinDumpOptions + "; " + srcWinFailureConfig},
		{Group: "CrashControl", Key: cc("FilterPages"), Value: c.FilterPages.String(), Set: c.FilterPages.Set,
			Default: "absent",
			Valid:   "1 with CrashDumpEnabled=1 selects an Active memory dump",
			Meaning: onOff(c.FilterPages, 0, "filters the complete dump down to an Active memory dump (when CrashDumpEnabled=1)", "no filtering"),
			Source:  srcWinFailureConfig + "; " + srcWinActiveDump},
		{Group: "CrashControl", Key: cc("DumpFile"), Value: c.DumpFile.Value, Set: c.DumpFile.Set,
			Default: `%SystemRoot%\MEMORY.DMP`,
			Valid:   "a file path (REG_EXPAND_SZ); the page file on the boot volume is still needed for a complete dump",
			Meaning: "kernel, complete, automatic and active dumps are saved to " + str(c.DumpFile, `%SystemRoot%\MEMORY.DMP`),
			Source:  srcWinDumpOptions + "; " + srcWinBestPractice},
		{Group: "CrashControl", Key: cc("MinidumpDir"), Value: c.MinidumpDir.Value, Set: c.MinidumpDir.Set,
			Default: `%SystemRoot%\Minidump`,
			Valid:   "a folder path (REG_EXPAND_SZ)",
			Meaning: "small memory dumps are kept, one file per crash, in " + str(c.MinidumpDir, `%SystemRoot%\Minidump`),
			Source:  srcWinDumpOptions + "; " + srcWinFailureConfig},
		{Group: "CrashControl", Key: cc("Overwrite"), Value: c.Overwrite.String(), Set: c.Overwrite.Set,
			Default: "1", Valid: "0 or 1",
			Meaning: onOff(c.Overwrite, 1, "a new kernel or complete dump overwrites the previous one", "an existing dump file is not overwritten: rename it after each crash or the next dump is lost"),
			Source:  srcWinFailureConfig},
		{Group: "CrashControl", Key: cc("AutoReboot"), Value: c.AutoReboot.String(), Set: c.AutoReboot.Set,
			Default: "1", Valid: "0 or 1",
			Meaning: onOff(c.AutoReboot, 1, "Windows restarts after writing the dump", "Windows stays on the stop screen until reset; the dump is extracted from the page file only at the next boot"),
			Source:  srcWinFailureConfig + "; " + srcWinBestPractice},
		{Group: "CrashControl", Key: cc("LogEvent"), Value: c.LogEvent.String(), Set: c.LogEvent.Set,
			Default: "1", Valid: "0 or 1",
			Meaning: onOff(c.LogEvent, 1, "the bugcheck is written to the System log (event 1001, source BugCheck)", "no System log event for the bugcheck"),
			Source:  srcWinFailureConfig + "; " + srcWinBestPractice},
		{Group: "CrashControl", Key: cc("AlwaysKeepMemoryDump"), Value: c.AlwaysKeepMemoryDump.String(), Set: c.AlwaysKeepMemoryDump.Set,
			Default: "0 (absent)", Valid: "0 or 1",
			Meaning: onOff(c.AlwaysKeepMemoryDump, 0, "Memory.dmp is kept whatever the free disk space",
				"a client that is not domain-joined deletes Memory.dmp when its volume has less than 25 GB free"),
			Source: srcWinKeepDump},
		{Group: "CrashControl", Key: cc("DedicatedDumpFile"), Value: c.DedicatedDumpFile.Value, Set: c.DedicatedDumpFile.Set,
			Default: "absent (the page file on the boot volume backs the dump)",
			Valid:   "full path of a file on a local fixed volume that can hold a page file (REG_SZ)",
			Meaning: dedicatedMeaning(c),
			Source:  srcWinDedicatedDump + "; " + srcWinPageFileSize},
		{Group: "CrashControl", Key: cc("DumpFileSize"), Value: c.DumpFileSize.String(), Set: c.DumpFileSize.Set,
			Default: "absent", Valid: "size of the dedicated dump file in MB (REG_DWORD)",
			Meaning: dumpFileSizeMeaning(c),
			Source:  srcWinDedicatedDump},
		{Group: "CrashControl", Key: cc("IgnorePagefileSize"), Value: c.IgnorePagefileSize.String(), Set: c.IgnorePagefileSize.Set,
			Default: "0 (absent)", Valid: "0 or 1",
			Meaning: onOff(c.IgnorePagefileSize, 0, "Windows attempts the dump even when RAM exceeds the page file's initial size",
				"no kernel or complete dump when RAM exceeds the page file's initial size (event 49, volmgr)"),
			Source: srcWinIgnorePFSize},
		{Group: "CrashControl", Key: cc("NMICrashDump"), Value: c.NMICrashDump.String(), Set: c.NMICrashDump.Set,
			Default: "0 (absent)", Valid: "0 or 1",
			Meaning: onOff(c.NMICrashDump, 0, "an NMI (server NMI button, iLO) bugchecks and writes a dump; only needed before Windows 8 / Server 2012, no effect later",
				"not set: Windows 8 / Server 2012 and later still bugcheck on an NMI; earlier versions do not"),
			Source: srcWinGenerateDump},
	}

	for _, kb := range []struct {
		driver, kind string
		k            KeyboardCrash
	}{{"i8042prt", "PS/2", c.I8042}, {"kbdhid", "USB", c.KbdHID}} {
		s = append(s,
			Setting{Group: "Keyboard crash", Key: winServices + `\` + kb.driver + `\Parameters\CrashOnCtrlScroll`,
				Value: kb.k.CrashOnCtrlScroll.String(), Set: kb.k.CrashOnCtrlScroll.Set,
				Default: "0 (absent)", Valid: "0 or 1; takes effect after a restart",
				Meaning: onOff(kb.k.CrashOnCtrlScroll, 0, "right Ctrl + Scroll Lock twice on a "+kb.kind+" keyboard bugchecks (0xE2 MANUALLY_INITIATED_CRASH)",
					"no keyboard crash on "+kb.kind+" keyboards"),
				Source: srcWinKeyboard},
			Setting{Group: "Keyboard crash", Key: winServices + `\` + kb.driver + `\crashdump\Dump1Keys`,
				Value: hexDWORD(kb.k.Dump1Keys), Set: kb.k.Dump1Keys.Set,
				Default: "absent (right Ctrl)", Valid: "bit map: 0x01 right Shift, 0x02 right Ctrl, 0x04 right Alt, 0x10 left Shift, 0x20 left Ctrl, 0x40 left Alt",
				Meaning: dump1Meaning(kb.k), Source: srcWinKeyboard},
			Setting{Group: "Keyboard crash", Key: winServices + `\` + kb.driver + `\crashdump\Dump2Key`,
				Value: hexDWORD(kb.k.Dump2Key), Set: kb.k.Dump2Key.Set,
				Default: "absent (Scroll Lock)", Valid: "index into the driver's scan-code table (0-133)",
				Meaning: dump2Meaning(kb.k), Source: srcWinKeyboard},
		)
	}

	s = append(s, Setting{Group: "Page files", Key: winMemoryMgmt + `\PagingFiles`,
		Value:   strings.Join(c.PageFiles.Strings(), "; "),
		Set:     c.PageFiles.Read,
		Default: `system-managed ("?:\pagefile.sys": Windows manages every drive's page file)`,
		Valid:   `per volume: "C:\pagefile.sys <initial MB> <maximum MB>", "C:\pagefile.sys 0 0" (system-managed size), or "?:\pagefile.sys" (all drives automatic: the form Windows writes, not described on Learn)`,
		Meaning: pageFilesMeaning(c.PageFiles),
		Source:  srcWinPageFileSize + "; " + srcWinPagingFiles})

	s = append(s, localDumpsSettings(winLocalDumps, "WER LocalDumps", c.LocalDumps, true)...)
	for _, a := range c.AppDumps {
		s = append(s, localDumpsSettings(winLocalDumps+`\`+a.App, "WER LocalDumps ("+a.App+")", a.WERLocalDumps, false)...)
	}
	return s
}

func hexDWORD(d RegDWORD) string {
	if !d.Set {
		return ""
	}
	return fmt.Sprintf("0x%02x", d.Value)
}

func dedicatedMeaning(c WindowsConfig) string {
	if !c.DedicatedDumpFile.Set || c.DedicatedDumpFile.Value == "" {
		return "no dedicated dump file: the dump is written to the page file on the boot volume first"
	}
	return "the dump is written to " + c.DedicatedDumpFile.Value + " instead of the page file; the boot volume needs no page file for it"
}

func dumpFileSizeMeaning(c WindowsConfig) string {
	if !c.DumpFileSize.Set {
		return "not set"
	}
	if !c.DedicatedDumpFile.Set {
		return fmt.Sprintf("%d MB, but unused: no DedicatedDumpFile is set", c.DumpFileSize.Value)
	}
	return fmt.Sprintf("the dedicated dump file is %d MB", c.DumpFileSize.Value)
}

var winDump1Keys = []struct {
	bit  uint32
	name string
}{{0x01, "right Shift"}, {0x02, "right Ctrl"}, {0x04, "right Alt"}, {0x10, "left Shift"}, {0x20, "left Ctrl"}, {0x40, "left Alt"}}

func dump1Meaning(k KeyboardCrash) string {
	if !k.Dump1Keys.Set {
		return "the first key is right Ctrl"
	}
	var names []string
	for _, b := range winDump1Keys {
		if k.Dump1Keys.Value&b.bit != 0 {
			names = append(names, b.name)
		}
	}
	if len(names) == 0 {
		return "no documented key bit is set"
	}
	m := "the first key is " + strings.Join(names, " or ")
	if k.CrashOnCtrlScroll.is(1) {
		m += "; CrashOnCtrlScroll must be 0 or absent for an alternate shortcut"
	}
	return m
}

func dump2Meaning(k KeyboardCrash) string {
	if !k.Dump2Key.Set {
		return "the second key is Scroll Lock"
	}
	return fmt.Sprintf("the second key is entry %d of the driver's scan-code table, pressed twice", k.Dump2Key.Value)
}

func pageFilesMeaning(pf PageFiles) string {
	if !pf.Read {
		return "not read"
	}
	if len(pf.Files) == 0 {
		return "no page file: kernel and complete dumps need a page file on the boot volume or a dedicated dump file"
	}
	var parts []string
	for _, p := range pf.Files {
		switch {
		case p.Volume() == "?:":
			parts = append(parts, "Windows manages the page files of all drives")
		case p.SystemManaged():
			parts = append(parts, p.Volume()+" system-managed size")
		default:
			parts = append(parts, fmt.Sprintf("%s custom, initial %d MB, maximum %d MB", p.Volume(), p.InitialMB, p.MaximumMB))
		}
	}
	return strings.Join(parts, "; ")
}

// winMiniDumpFlags names the MINIDUMP_TYPE bits the WER default uses.
var winMiniDumpFlags = []struct {
	bit  uint32
	name string
}{{0x1, "MiniDumpWithDataSegs"}, {0x20, "MiniDumpWithUnloadedModules"}, {0x100, "MiniDumpWithProcessThreadData"}}

func localDumpsSettings(key, group string, l WERLocalDumps, global bool) []Setting {
	def := func(d string) string {
		if global {
			return d
		}
		return "the global LocalDumps value (" + d + ")"
	}
	folder := `%LOCALAPPDATA%\CrashDumps`
	if l.DumpFolder.Set {
		folder = l.DumpFolder.Value
	}
	count := uint32(10)
	if l.DumpCount.Set {
		count = l.DumpCount.Value
	}
	dumpType := "mini dump"
	if l.DumpType.Set {
		switch l.DumpType.Value {
		case 0:
			dumpType = "custom dump (CustomDumpFlags)"
		case 1:
			dumpType = "mini dump"
		case 2:
			dumpType = "full dump: all of the process's memory"
		default:
			dumpType = fmt.Sprintf("%d is not a documented DumpType (0, 1, 2)", l.DumpType.Value)
		}
	}
	present := "absent: WER writes no local dumps"
	if !global {
		present = "absent: the global LocalDumps values apply to " + strings.TrimPrefix(key, winLocalDumps+`\`)
	}
	if l.Present {
		present = "present: WER keeps a local dump of each crash"
		if !global {
			present = "present: overrides the global values for this application"
		}
	}
	flags := "MiniDumpWithDataSegs | MiniDumpWithUnloadedModules | MiniDumpWithProcessThreadData"
	flagsMeaning := "used only when DumpType is 0"
	if l.CustomDumpFlags.Set {
		var names []string
		for _, f := range winMiniDumpFlags {
			if l.CustomDumpFlags.Value&f.bit != 0 {
				names = append(names, f.name)
			}
		}
		flagsMeaning = fmt.Sprintf("0x%x", l.CustomDumpFlags.Value)
		if len(names) > 0 {
			flagsMeaning += " includes " + strings.Join(names, ", ")
		}
		flagsMeaning += "; used only when DumpType is 0"
	}
	return []Setting{
		{Group: group, Key: key, Value: map[bool]string{true: "present", false: ""}[l.Present], Set: l.Present,
			Default: "absent", Valid: "the key exists or not; per-application subkeys override the global values",
			Meaning: present, Source: srcWinLocalDumps},
		{Group: group, Key: key + `\DumpFolder`, Value: l.DumpFolder.Value, Set: l.DumpFolder.Set,
			Default: def(`%LOCALAPPDATA%\CrashDumps`),
			Valid:   "a folder (REG_EXPAND_SZ) whose ACL lets the crashing process write; service dumps go to the service account's profile",
			Meaning: "dumps are written to " + folder, Source: srcWinLocalDumps},
		{Group: group, Key: key + `\DumpCount`, Value: l.DumpCount.String(), Set: l.DumpCount.Set,
			Default: def("10"), Valid: "maximum number of dump files in the folder (REG_DWORD)",
			Meaning: fmt.Sprintf("at most %d dumps; the oldest is replaced", count), Source: srcWinLocalDumps},
		{Group: group, Key: key + `\DumpType`, Value: l.DumpType.String(), Set: l.DumpType.Set,
			Default: def("1 (mini dump)"), Valid: "0 custom, 1 mini, 2 full",
			Meaning: dumpType, Source: srcWinLocalDumps},
		{Group: group, Key: key + `\CustomDumpFlags`, Value: hexDWORD(l.CustomDumpFlags), Set: l.CustomDumpFlags.Set,
			Default: def(flags), Valid: "MINIDUMP_TYPE bits (REG_DWORD)",
			Meaning: flagsMeaning, Source: srcWinLocalDumps},
	}
}

// sortAppDumps keeps AppDumps in a stable order.
func sortAppDumps(a []WERAppDumps) {
	sort.Slice(a, func(i, j int) bool { return strings.ToLower(a[i].App) < strings.ToLower(a[j].App) })
}
