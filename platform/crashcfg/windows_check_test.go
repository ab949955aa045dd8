package crashcfg

import (
	"strings"
	"testing"
)

func winFindCheck(checks []Check, id string) (Check, bool) {
	for _, c := range checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Each check, one config that passes it and one that does not.
func TestWindowsChecks(t *testing.T) {
	boot := func(size, free uint64) []Disk { return []Disk{{Mount: "C:", Size: size, Free: free, Boot: true}} }
	m16 := Machine{OS: Windows, RAM: 16 * tGiB, Client: true, Disks: boot(512*tGiB, 100*tGiB)}
	custom := func(initial, maximum uint64) PageFiles {
		return PageFiles{Read: true, Files: []PageFile{{Path: `C:\pagefile.sys`, InitialMB: initial, MaximumMB: maximum}}}
	}
	sysManaged := PageFiles{Read: true, Files: ParsePagingFiles([]string{`?:\pagefile.sys`})}
	complete := func(pf PageFiles) WindowsConfig {
		return WindowsConfig{CrashDumpEnabled: RegDW(1), PageFiles: pf, AlwaysKeepMemoryDump: RegDW(1)}
	}

	tests := []struct {
		name   string
		id     string
		m      Machine
		c      WindowsConfig
		want   Status
		reason string // part of the reason, with the values seen
	}{
		{"dump type automatic by default", "dump-type", m16, WindowsConfig{}, Pass, "unset (default 7)"},
		{"dump type none", "dump-type", m16, WindowsConfig{CrashDumpEnabled: RegDW(0)}, Fail, "CrashDumpEnabled is 0"},
		{"dump type undocumented 6", "dump-type", m16, WindowsConfig{CrashDumpEnabled: RegDW(6)}, Warn, "is 6, which Microsoft does not document"},
		{"dump type small", "dump-type", m16, WindowsConfig{CrashDumpEnabled: RegDW(3)}, Warn, "is 3"},

		// Complete on 16 GiB needs 16,384 + 257 = 16,641 MB, a documented minimum.
		{"page file big enough", "pagefile-size", m16, complete(custom(16641, 16641)), Pass, "starts at 16641 MB"},
		{"page file 1 MB short", "pagefile-size", m16, complete(custom(16640, 32768)), Fail, "starts at 16640 MB (maximum 32768 MB)"},
		{"page file short, IgnorePagefileSize", "pagefile-size", m16,
			func() WindowsConfig { c := complete(custom(8192, 32768)); c.IgnorePagefileSize = RegDW(1); return c }(), Warn, "IgnorePagefileSize=1"},
		{"kernel estimate missed warns", "pagefile-size", m16, WindowsConfig{CrashDumpEnabled: RegDW(2), PageFiles: custom(1024, 1024)}, Warn, "(estimate)"},
		{"no page file on boot volume", "pagefile-size", m16,
			complete(PageFiles{Read: true, Files: ParsePagingFiles([]string{`D:\pagefile.sys 0 0`})}), Fail, `no page file on the boot volume C: (page files: D:\pagefile.sys 0 0)`},
		{"no page file at all", "pagefile-size", m16, complete(PageFiles{Read: true}), Fail, "page files: none"},
		{"system-managed with room", "pagefile-size", m16, complete(sysManaged), Pass, "system-managed and C: has 100.0 GB free"},
		{"system-managed without room", "pagefile-size", Machine{RAM: 16 * tGiB, Disks: boot(64*tGiB, 10*tGiB)}, complete(sysManaged), Warn, "only 10.0 GB free"},
		{"page files not read", "pagefile-size", m16, WindowsConfig{}, Unknown, "not read"},
		{"dedicated dump file large enough", "pagefile-size", m16,
			WindowsConfig{CrashDumpEnabled: RegDW(1), DedicatedDumpFile: RegStr(`C:\dd.sys`), DumpFileSize: RegDW(16641)}, Pass, `DedicatedDumpFile C:\dd.sys is 16641 MB`},
		{"dedicated dump file too small", "pagefile-size", m16,
			WindowsConfig{CrashDumpEnabled: RegDW(1), DedicatedDumpFile: RegStr(`C:\dd.sys`), DumpFileSize: RegDW(8192), PageFiles: PageFiles{Read: true}}, Fail, "is 8192 MB"},
		{"dedicated dump file on a missing volume", "pagefile-size", m16,
			WindowsConfig{CrashDumpEnabled: RegDW(1), DedicatedDumpFile: RegStr(`Q:\dd.sys`), DumpFileSize: RegDW(20000)}, Fail, "Q:, which is not a volume"},

		{"dump volume has room", "dump-volume-space", m16, WindowsConfig{CrashDumpEnabled: RegDW(1)}, Pass, "C: has 100.0 GB free"},
		{"dump volume too small for complete", "dump-volume-space", Machine{RAM: 16 * tGiB, Disks: boot(64*tGiB, 8*tGiB)},
			WindowsConfig{CrashDumpEnabled: RegDW(1)}, Fail, "needs 16.3 GB"},
		{"dump volume too small for a kernel estimate", "dump-volume-space", Machine{RAM: 64 * tGiB, Disks: boot(64*tGiB, 8*tGiB)},
			WindowsConfig{CrashDumpEnabled: RegDW(2)}, Warn, "(estimate)"},
		{"dump to a missing volume", "dump-volume-space", m16, WindowsConfig{DumpFile: RegStr(`E:\MEMORY.DMP`)}, Fail, "E: is not a volume"},
		{"dump volume unknown", "dump-volume-space", Machine{RAM: 16 * tGiB}, WindowsConfig{}, Unknown, "not known"},

		{"server keeps the dump", "dump-kept", Machine{RAM: 16 * tGiB, Disks: boot(64*tGiB, 1*tGiB)}, WindowsConfig{}, Pass, "server"},
		{"client with AlwaysKeepMemoryDump", "dump-kept", m16, WindowsConfig{AlwaysKeepMemoryDump: RegDW(1)}, Pass, "AlwaysKeepMemoryDump is 1"},
		{"domain-joined client", "dump-kept", Machine{RAM: 16 * tGiB, Client: true, Disks: boot(64*tGiB, 1*tGiB)}, WindowsConfig{DomainJoined: true}, Pass, "domain-joined"},
		{"client under 25 GB free", "dump-kept", Machine{RAM: 16 * tGiB, Client: true, Disks: boot(256*tGiB, 20*tGiB)}, WindowsConfig{}, Fail, "has 20.0 GB free, under 25 GB"},
		{"client near 25 GB free", "dump-kept", Machine{RAM: 16 * tGiB, Client: true, Disks: boot(256*tGiB, 30*tGiB)}, WindowsConfig{}, Warn, "would bring under 25 GB"},
		{"client with plenty free", "dump-kept", m16, WindowsConfig{}, Pass, "over 25 GB"},

		{"overwrite default", "overwrite", m16, WindowsConfig{}, Pass, "unset (default 1)"},
		{"overwrite 0 with an old dump", "overwrite", m16,
			WindowsConfig{Overwrite: RegDW(0), Exists: map[string]bool{`%SystemRoot%\MEMORY.DMP`: true}}, Fail, `Overwrite is 0 and %SystemRoot%\MEMORY.DMP exists`},
		{"overwrite 0", "overwrite", m16, WindowsConfig{Overwrite: RegDW(0)}, Warn, "Overwrite is 0"},

		{"minidump dir exists", "minidump-dir", m16, WindowsConfig{Exists: map[string]bool{`%SystemRoot%\Minidump`: true}}, Pass, "exists"},
		{"minidump dir missing", "minidump-dir", m16, WindowsConfig{MinidumpDir: RegStr(`C:\dumps\mini`), Exists: map[string]bool{`C:\dumps\mini`: false}}, Warn, `C:\dumps\mini does not exist`},
		{"minidump dir on a missing volume", "minidump-dir", m16, WindowsConfig{MinidumpDir: RegStr(`F:\mini`)}, Fail, "F: is not a volume"},
		{"minidump dir unchecked", "minidump-dir", m16, WindowsConfig{}, Unknown, "not checked"},

		{"autoreboot default", "autoreboot", m16, WindowsConfig{}, Pass, "unset (default 1)"},
		{"autoreboot off", "autoreboot", m16, WindowsConfig{AutoReboot: RegDW(0)}, Warn, "AutoReboot is 0"},
		{"logevent on", "logevent", m16, WindowsConfig{LogEvent: RegDW(1)}, Pass, "LogEvent is 1"},
		{"logevent off", "logevent", m16, WindowsConfig{LogEvent: RegDW(0)}, Warn, "no event 1001"},

		{"keyboard crash on both", "keyboard-crash", m16,
			WindowsConfig{I8042: KeyboardCrash{CrashOnCtrlScroll: RegDW(1)}, KbdHID: KeyboardCrash{CrashOnCtrlScroll: RegDW(1)}}, Pass, "both"},
		{"keyboard crash on PS/2 only", "keyboard-crash", m16, WindowsConfig{I8042: KeyboardCrash{CrashOnCtrlScroll: RegDW(1)}}, Warn, "off for kbdhid (USB)"},
		{"keyboard shortcut clash", "keyboard-crash", m16,
			WindowsConfig{KbdHID: KeyboardCrash{CrashOnCtrlScroll: RegDW(1), Dump1Keys: RegDW(0x20)}}, Warn, "kbdhid: an alternate shortcut"},

		{"local dumps on", "localdumps", m16, WindowsConfig{LocalDumps: WERLocalDumps{Present: true, DumpType: RegDW(2)}}, Pass, "global DumpType 2"},
		{"local dumps for one app", "localdumps", m16, WindowsConfig{AppDumps: []WERAppDumps{{App: "a.exe", WERLocalDumps: WERLocalDumps{Present: true}}}}, Pass, "a.exe"},
		{"local dumps off", "localdumps", m16, WindowsConfig{}, Warn, "LocalDumps key does not exist"},
		{"local dumps folder exists", "localdumps-folder", m16,
			WindowsConfig{LocalDumps: WERLocalDumps{Present: true, DumpFolder: RegStr(`C:\CrashDumps`)}, Exists: map[string]bool{`C:\CrashDumps`: true}}, Pass, "exists"},
		{"local dumps folder missing", "localdumps-folder", m16,
			WindowsConfig{LocalDumps: WERLocalDumps{Present: true, DumpFolder: RegStr(`C:\CrashDumps`)}, Exists: map[string]bool{`C:\CrashDumps`: false}}, Warn, "does not exist"},
		{"app dumps folder on a missing volume", "localdumps-folder", m16,
			WindowsConfig{AppDumps: []WERAppDumps{{App: "a.exe", WERLocalDumps: WERLocalDumps{Present: true, DumpFolder: RegStr(`X:\d`)}}}}, Fail, "WER dumps of a.exe go to X:"},
	}
	for _, tt := range tests {
		ck, ok := winFindCheck(CheckWindows(tt.m, tt.c), tt.id)
		if !ok {
			t.Errorf("%s: no %s check", tt.name, tt.id)
			continue
		}
		if ck.Status != tt.want || !strings.Contains(ck.Reason, tt.reason) {
			t.Errorf("%s: %s = %s %q; want %s containing %q", tt.name, tt.id, ck.Status, ck.Reason, tt.want, tt.reason)
		}
		if ck.Status != Pass && ck.Status != Unknown && ck.Fix == "" {
			t.Errorf("%s: %s %s without a fix", tt.name, tt.id, ck.Status)
		}
		if ck.Title == "" || !strings.Contains(ck.Source, "https://learn.microsoft.com/") {
			t.Errorf("%s: %s lacks a title or a source: %+v", tt.name, tt.id, ck)
		}
	}
}

// Checks that cannot apply are left out rather than passed.
func TestWindowsChecksOmitted(t *testing.T) {
	m := Machine{RAM: 16 * tGiB}
	none := CheckWindows(m, WindowsConfig{CrashDumpEnabled: RegDW(0)})
	for _, id := range []string{"pagefile-size", "dump-volume-space", "dump-kept", "overwrite"} {
		if _, ok := winFindCheck(none, id); ok {
			t.Errorf("CrashDumpEnabled 0: %s is checked", id)
		}
	}
	small := CheckWindows(m, WindowsConfig{CrashDumpEnabled: RegDW(3)})
	if _, ok := winFindCheck(small, "dump-kept"); ok {
		t.Error("small dumps: the Memory.dmp 25 GB rule is checked")
	}
	if _, ok := winFindCheck(CheckWindows(m, WindowsConfig{}), "keyboard-crash"); ok {
		t.Error("keyboard-crash reported with no keyboard setting")
	}
	ids := map[string]bool{}
	for _, c := range CheckWindows(m, WindowsConfig{}) {
		if ids[c.ID] {
			t.Errorf("duplicate check %s", c.ID)
		}
		ids[c.ID] = true
	}
}
