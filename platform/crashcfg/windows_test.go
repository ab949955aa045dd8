package crashcfg

import (
	"slices"
	"strings"
	"testing"
)

func TestWindowsDumpType(t *testing.T) {
	tests := []struct {
		name string
		c    WindowsConfig
		want string
	}{
		{"unset is the default, automatic", WindowsConfig{}, WinDumpAutomatic},
		{"0 none", WindowsConfig{CrashDumpEnabled: RegDW(0)}, WinDumpNone},
		{"1 complete", WindowsConfig{CrashDumpEnabled: RegDW(1)}, WinDumpComplete},
		{"1 + FilterPages 0 is complete", WindowsConfig{CrashDumpEnabled: RegDW(1), FilterPages: RegDW(0)}, WinDumpComplete},
		{"1 + FilterPages 1 active", WindowsConfig{CrashDumpEnabled: RegDW(1), FilterPages: RegDW(1)}, WinDumpActive},
		{"2 kernel", WindowsConfig{CrashDumpEnabled: RegDW(2)}, WinDumpKernel},
		{"2 + FilterPages stays kernel", WindowsConfig{CrashDumpEnabled: RegDW(2), FilterPages: RegDW(1)}, WinDumpKernel},
		{"3 small", WindowsConfig{CrashDumpEnabled: RegDW(3)}, WinDumpSmall},
		{"4 undocumented", WindowsConfig{CrashDumpEnabled: RegDW(4)}, WinDumpUndocumented},
		{"5 undocumented", WindowsConfig{CrashDumpEnabled: RegDW(5)}, WinDumpUndocumented},
		{"6 undocumented", WindowsConfig{CrashDumpEnabled: RegDW(6)}, WinDumpUndocumented},
		{"7 automatic", WindowsConfig{CrashDumpEnabled: RegDW(7)}, WinDumpAutomatic},
		{"8 unknown", WindowsConfig{CrashDumpEnabled: RegDW(8)}, WinDumpUnknown},
	}
	for _, tt := range tests {
		if got := tt.c.DumpType(); got != tt.want {
			t.Errorf("%s: DumpType() = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The value written for each documented type reads back as that type
// and is never 4-6.
func TestWindowsCrashDumpEnabledValues(t *testing.T) {
	want := map[string]uint32{WinDumpNone: 0, WinDumpComplete: 1, WinDumpActive: 1, WinDumpKernel: 2, WinDumpSmall: 3, WinDumpAutomatic: 7}
	for _, dt := range WinDumpTypes {
		v, filter, ok := winCrashDumpEnabled(dt)
		if !ok || v != want[dt] {
			t.Errorf("%s: CrashDumpEnabled %d (ok %v), want %d", dt, v, ok, want[dt])
		}
		if v >= 4 && v <= 6 {
			t.Errorf("%s maps to undocumented %d", dt, v)
		}
		if got := winDumpType(v, filter); got != dt {
			t.Errorf("%s: %d/%v reads back as %s", dt, v, filter, got)
		}
	}
	for _, dt := range []string{WinDumpUndocumented, WinDumpUnknown, "bogus"} {
		if _, _, ok := winCrashDumpEnabled(dt); ok {
			t.Errorf("%s has a value to write", dt)
		}
	}
}

func TestWindowsParsePagingFiles(t *testing.T) {
	files := ParsePagingFiles([]string{`C:\pagefile.sys 1024 4096`, `d:\pagefile.sys 0 0`, ``, `?:\pagefile.sys`})
	want := []PageFile{{`C:\pagefile.sys`, 1024, 4096}, {`d:\pagefile.sys`, 0, 0}, {`?:\pagefile.sys`, 0, 0}}
	if !slices.Equal(files, want) {
		t.Fatalf("ParsePagingFiles = %+v, want %+v", files, want)
	}
	for i, sm := range []bool{false, true, true} {
		if files[i].SystemManaged() != sm {
			t.Errorf("%s: SystemManaged = %v, want %v", files[i].Path, !sm, sm)
		}
	}
	if v := files[1].Volume(); v != "D:" {
		t.Errorf("Volume = %q, want D:", v)
	}
	pf := PageFiles{Read: true, Files: files}
	if got := pf.Strings(); !slices.Equal(got, []string{`C:\pagefile.sys 1024 4096`, `d:\pagefile.sys 0 0`, `?:\pagefile.sys`}) {
		t.Errorf("Strings = %q", got)
	}
	if p, ok := pf.On("c:"); !ok || p.InitialMB != 1024 {
		t.Errorf("On(c:) = %+v, %v", p, ok)
	}
	// E: has no entry of its own: the "?:" entry (all drives) covers it.
	if p, ok := pf.On("E:"); !ok || p.Volume() != "?:" {
		t.Errorf("On(E:) = %+v, %v; want the ?: entry", p, ok)
	}
	if _, ok := (PageFiles{Read: true, Files: files[:1]}).On("D:"); ok {
		t.Error("On(D:) found a page file that is not there")
	}
}

// Every setting of the list appears, documented and sourced.
func TestWindowsSettingsComplete(t *testing.T) {
	c := WindowsConfig{
		CrashDumpEnabled: RegDW(5),
		AppDumps:         []WERAppDumps{{App: "MyApp.exe", WERLocalDumps: WERLocalDumps{Present: true, DumpType: RegDW(2)}}},
	}
	settings := WindowsSettings(c)
	keys := map[string]Setting{}
	for _, s := range settings {
		if s.Key == "" || s.Default == "" || s.Valid == "" || s.Meaning == "" || !strings.Contains(s.Source, "https://learn.microsoft.com/") {
			t.Errorf("incomplete setting %+v", s)
		}
		keys[s.Key] = s
	}
	cc := winCrashControl + `\`
	want := []string{
		cc + "CrashDumpEnabled", cc + "FilterPages", cc + "DumpFile", cc + "MinidumpDir", cc + "Overwrite", cc + "AutoReboot",
		cc + "LogEvent", cc + "AlwaysKeepMemoryDump", cc + "DedicatedDumpFile", cc + "DumpFileSize", cc + "IgnorePagefileSize", cc + "NMICrashDump",
		winServices + `\i8042prt\Parameters\CrashOnCtrlScroll`, winServices + `\kbdhid\Parameters\CrashOnCtrlScroll`,
		winServices + `\i8042prt\crashdump\Dump1Keys`, winServices + `\i8042prt\crashdump\Dump2Key`,
		winServices + `\kbdhid\crashdump\Dump1Keys`, winServices + `\kbdhid\crashdump\Dump2Key`,
		winMemoryMgmt + `\PagingFiles`,
		winLocalDumps, winLocalDumps + `\DumpFolder`, winLocalDumps + `\DumpCount`, winLocalDumps + `\DumpType`, winLocalDumps + `\CustomDumpFlags`,
		winLocalDumps + `\MyApp.exe\DumpType`,
	}
	for _, k := range want {
		if _, ok := keys[k]; !ok {
			t.Errorf("missing setting %s", k)
		}
	}
	cde := keys[cc+"CrashDumpEnabled"]
	if cde.Value != "5" || !cde.Set || !strings.Contains(cde.Meaning, "not documented") || !strings.Contains(cde.Meaning, "never writes") {
		t.Errorf("CrashDumpEnabled 5: %+v", cde)
	}
	if d := keys[winLocalDumps+`\DumpCount`]; d.Default != "10" || d.Set {
		t.Errorf("DumpCount: %+v", d)
	}
	if d := keys[winLocalDumps+`\MyApp.exe\DumpType`]; !strings.HasPrefix(d.Meaning, "full dump") {
		t.Errorf("MyApp.exe DumpType: %+v", d)
	}
}

func TestWindowsSettingsMeanings(t *testing.T) {
	c := WindowsConfig{
		CrashDumpEnabled: RegDW(1), FilterPages: RegDW(1),
		AutoReboot: RegDW(0),
		I8042:      KeyboardCrash{CrashOnCtrlScroll: RegDW(1), Dump1Keys: RegDW(0x11)},
		PageFiles:  PageFiles{Read: true, Files: ParsePagingFiles([]string{`C:\pagefile.sys 16684 16684`})},
		LocalDumps: WERLocalDumps{Present: true, CustomDumpFlags: RegDW(0x121)},
	}
	got := map[string]string{}
	for _, s := range WindowsSettings(c) {
		got[s.Key] = s.Meaning
	}
	for key, want := range map[string]string{
		winCrashControl + `\CrashDumpEnabled`:         "Active memory dump",
		winCrashControl + `\AutoReboot`:               "stays on the stop screen",
		winCrashControl + `\AlwaysKeepMemoryDump`:     "less than 25 GB free",
		winServices + `\i8042prt\crashdump\Dump1Keys`: "right Shift or left Shift; CrashOnCtrlScroll must be 0",
		winMemoryMgmt + `\PagingFiles`:                "C: custom, initial 16684 MB, maximum 16684 MB",
		winLocalDumps + `\CustomDumpFlags`:            "MiniDumpWithDataSegs, MiniDumpWithUnloadedModules, MiniDumpWithProcessThreadData",
		winLocalDumps + `\DumpFolder`:                 `%LOCALAPPDATA%\CrashDumps`,
	} {
		if !strings.Contains(got[key], want) {
			t.Errorf("%s: meaning %q does not contain %q", key, got[key], want)
		}
	}
}

func TestWindowsPathVolume(t *testing.T) {
	for path, want := range map[string]string{
		`%SystemRoot%\MEMORY.DMP`: "C:",
		`%windir%\Minidump`:       "C:",
		`d:\dumps\memory.dmp`:     "D:",
		`\??\E:\x`:                "E:",
		`%LOCALAPPDATA%\Crash`:    "",
		`\\server\share\x`:        "",
	} {
		if got := winPathVolume(path, "C:"); got != want {
			t.Errorf("winPathVolume(%q) = %q, want %q", path, got, want)
		}
	}
}
