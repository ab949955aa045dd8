package crashcfg

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// winRenderPlan renders a plan for review in a golden file.
func winRenderPlan(p Plan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "OS: %s\nGoal: %s\nDump type: %s\nWhy: %s\nAnswers: %s\nPrivacy: %s\n", p.OS, p.Goal, p.DumpType, p.Why, p.Answers, p.Privacy)
	est := func(name string, e Estimate) {
		fmt.Fprintf(&b, "%s: %d bytes (%s), estimate %v, write time %v\n  basis: %s\n  source: %s\n", name, e.Bytes, winSize(e.Bytes), e.Estimate, e.Time.Round(1e9), e.Basis, e.Source)
	}
	est("Size", p.Size)
	est("Space", p.Space)
	b.WriteString("Changes:\n")
	for _, c := range p.Changes {
		from := c.From
		if from == "" {
			from = "(unset)"
		}
		fmt.Fprintf(&b, "  %s\n    %s -> %s\n    why: %s\n", c.Key, from, c.To, c.Why)
	}
	b.WriteString("Notes:\n")
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "  - %s\n", n)
	}
	fmt.Fprintf(&b, "Test: %s\nScripts:", p.Test)
	for _, s := range p.Scripts {
		b.WriteString(" " + s.Name)
	}
	b.WriteString("\n")
	return b.String()
}

// winDefaultClient is CrashControl as a fresh Windows 11 install has it.
func winDefaultClient() WindowsConfig {
	return WindowsConfig{
		CrashDumpEnabled: RegDW(7), AutoReboot: RegDW(1), LogEvent: RegDW(1), Overwrite: RegDW(1),
		DumpFile: RegStr(`%SystemRoot%\MEMORY.DMP`), MinidumpDir: RegStr(`%SystemRoot%\Minidump`),
		PageFiles: PageFiles{Read: true, Files: ParsePagingFiles([]string{`?:\pagefile.sys`})},
	}
}

func winClient16() Machine {
	return Machine{OS: Windows, RAM: 16 * tGiB, Arch: "amd64", Release: "10.0.22631", Client: true,
		Disks: []Disk{{Mount: "C:", Size: 512 * tGiB, Free: 100 * tGiB, Boot: true}}}
}

func winServer64() Machine {
	return Machine{OS: Windows, RAM: 64 * tGiB, Arch: "amd64", Release: "10.0.20348",
		Disks: []Disk{{Mount: "C:", Size: 128 * tGiB, Free: 60 * tGiB, Boot: true, WriteMBps: 500}, {Mount: "D:", Size: 1024 * tGiB, Free: 900 * tGiB}}}
}

func TestWindowsPlanGoldens(t *testing.T) {
	server := WindowsConfig{
		CrashDumpEnabled: RegDW(2), AutoReboot: RegDW(1), LogEvent: RegDW(1), Overwrite: RegDW(1),
		PageFiles: PageFiles{Read: true, Files: ParsePagingFiles([]string{`C:\pagefile.sys 4096 4096`, `D:\pagefile.sys 0 0`})},
	}
	undocumented := winDefaultClient()
	undocumented.CrashDumpEnabled = RegDW(5)
	dedicated := server
	dedicated.DedicatedDumpFile = RegStr(`D:\dedicateddumpfile.sys`)
	dedicated.DumpFileSize = RegDW(8192)
	win7 := winServer64()
	win7.Release = "6.1.7601"

	tests := []struct {
		name string
		m    Machine
		c    WindowsConfig
		goal Goal
		app  string
	}{
		{"bsod-16g-client", winClient16(), winDefaultClient(), GoalBSOD, ""},
		{"bsod-64g-server", winServer64(), server, GoalBSOD, ""},
		{"app-all", winClient16(), winDefaultClient(), GoalApp, ""},
		{"app-one", winClient16(), winDefaultClient(), GoalApp, "MyApp.exe"},
		{"hang-16g-client", winClient16(), undocumented, GoalHang, ""},
		{"hang-64g-win7-dedicated", win7, dedicated, GoalHang, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Plan
			var err error
			if tt.app != "" {
				p, err = PlanWindowsApp(tt.m, tt.c, tt.app)
			} else {
				p, err = PlanWindows(tt.m, tt.c, tt.goal)
			}
			if err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, s := range p.Scripts {
				names = append(names, s.Name)
			}
			if !slices.Equal(names, []string{WinRegScript, WinApplyScript, WinRevertScript}) {
				t.Fatalf("scripts %v", names)
			}
			dir := filepath.Join("testdata", "windows", tt.name)
			golden(t, filepath.Join(dir, "plan.txt"), winRenderPlan(p))
			for _, s := range p.Scripts {
				golden(t, filepath.Join(dir, s.Name), s.Text)
			}
		})
	}
}

// winWrites456 finds a write of CrashDumpEnabled 4, 5 or 6 in a script.
var winWrites456 = regexp.MustCompile(`(?i)"CrashDumpEnabled"=dword:0000000[456]\b|Name = 'CrashDumpEnabled'; Kind = 'DWord'; Value = [456]\b|CrashDumpEnabled /t REG_DWORD /d [456]\b`)

// No generated script writes CrashDumpEnabled 4-6, whatever the goal, the
// RAM and the current value (including 4-6 themselves).
func TestWindowsPlanNeverWritesUndocumented(t *testing.T) {
	if !winWrites456.MatchString(`"CrashDumpEnabled"=dword:00000005`) || !winWrites456.MatchString(`@{ Key = 'x'; Name = 'CrashDumpEnabled'; Kind = 'DWord'; Value = 4 }`) {
		t.Fatal("the detector misses a write of 4-6")
	}
	var configs []WindowsConfig
	for _, v := range []uint32{0, 1, 2, 3, 4, 5, 6, 7, 8} {
		c := winDefaultClient()
		c.CrashDumpEnabled = RegDW(v)
		configs = append(configs, c)
		c.FilterPages = RegDW(1)
		c.DedicatedDumpFile = RegStr(`D:\dd.sys`)
		configs = append(configs, c)
	}
	configs = append(configs, WindowsConfig{})
	for _, gib := range winTestRAM {
		for _, client := range []bool{true, false} {
			m := Machine{OS: Windows, RAM: gib * tGiB, Client: client}
			for _, c := range configs {
				for _, g := range []Goal{GoalBSOD, GoalApp, GoalHang} {
					p, err := PlanWindows(m, c, g)
					if err != nil {
						t.Fatalf("%d GiB %s CrashDumpEnabled %s: %v", gib, g, c.CrashDumpEnabled, err)
					}
					for _, ch := range p.Changes {
						if strings.HasSuffix(ch.Key, `\CrashDumpEnabled`) && (ch.To == "4" || ch.To == "5" || ch.To == "6") {
							t.Errorf("%d GiB %s: change writes CrashDumpEnabled %s", gib, g, ch.To)
						}
					}
					for _, s := range p.Scripts {
						if loc := winWrites456.FindString(s.Text); loc != "" {
							t.Errorf("%d GiB %s %s writes %q", gib, g, s.Name, loc)
						}
						if s.Name == WinRevertScript && !strings.Contains(s.Text, "@(4, 5, 6) -contains [int64]$value") {
							t.Errorf("%s lacks the guard against restoring 4-6", s.Name)
						}
					}
					if g != GoalApp && (c.DumpType() == WinDumpUndocumented) {
						found := false
						for _, ch := range p.Changes {
							found = found || strings.HasSuffix(ch.Key, `\CrashDumpEnabled`)
						}
						if !found {
							t.Errorf("%d GiB %s: undocumented CrashDumpEnabled %s is left in place", gib, g, c.CrashDumpEnabled)
						}
					}
				}
			}
		}
	}
}

func TestWindowsRefusesUndocumentedWrite(t *testing.T) {
	err := winNoUndocumentedWrites([]winRegChange{{Key: winCrashControl, Name: "CrashDumpEnabled", Kind: winDWORD, DWORD: 5}})
	if err == nil {
		t.Fatal("a write of CrashDumpEnabled 5 was not refused")
	}
	if err := winNoUndocumentedWrites([]winRegChange{{Key: winCrashControl, Name: "CrashDumpEnabled", Kind: winDWORD, DWORD: 7}}); err != nil {
		t.Fatal(err)
	}
}

func winChangeMap(p Plan) map[string]Change {
	out := map[string]Change{}
	for _, c := range p.Changes {
		out[c.Key] = c
	}
	return out
}

func TestWindowsPlanPageFiles(t *testing.T) {
	pf := `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management\PagingFiles`
	c := WindowsConfig{PageFiles: PageFiles{Read: true, Files: ParsePagingFiles([]string{`C:\pagefile.sys 4096 8192`, `D:\pagefile.sys 0 0`})}}

	// Up to 32 GB: RAM + 300 MB as initial size on C:, D: kept.
	p, err := PlanWindows(Machine{RAM: 16 * tGiB}, c, GoalBSOD)
	if err != nil {
		t.Fatal(err)
	}
	if got := winChangeMap(p)[pf].To; got != `C:\pagefile.sys 16684 16684; D:\pagefile.sys 0 0` {
		t.Errorf("16 GiB: PagingFiles -> %q", got)
	}
	if got := winChangeMap(p)[winCrashControl+`\CrashDumpEnabled`]; got.From != "" || got.To != "1" {
		t.Errorf("16 GiB: CrashDumpEnabled %+v", got)
	}
	// Above 32 GB: system-managed on C:.
	p, _ = PlanWindows(Machine{RAM: 64 * tGiB}, c, GoalBSOD)
	if got := winChangeMap(p)[pf].To; got != `C:\pagefile.sys 0 0; D:\pagefile.sys 0 0` {
		t.Errorf("64 GiB: PagingFiles -> %q", got)
	}
	// An adequate custom page file is left alone.
	c.PageFiles.Files[0] = PageFile{Path: `C:\pagefile.sys`, InitialMB: 17000, MaximumMB: 17000}
	p, _ = PlanWindows(Machine{RAM: 16 * tGiB}, c, GoalBSOD)
	if _, ok := winChangeMap(p)[pf]; ok {
		t.Error("16 GiB: a 17000 MB page file was changed")
	}
	// Too little room on C: for the page file is noted.
	m := Machine{RAM: 16 * tGiB, Disks: []Disk{{Mount: "C:", Boot: true, Size: 64 * tGiB, Free: 10 * tGiB}}}
	p, _ = PlanWindows(m, WindowsConfig{}, GoalBSOD)
	if !strings.Contains(strings.Join(p.Notes, "\n"), "page files are not known") {
		t.Errorf("notes do not say the page files were not read: %q", p.Notes)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "has 10.0 GB free") {
		t.Errorf("notes lack the free-space warning: %q", p.Notes)
	}
}

func TestWindowsPlanDedicatedDumpFile(t *testing.T) {
	c := WindowsConfig{DedicatedDumpFile: RegStr(`D:\dd.sys`), DumpFileSize: RegDW(1024),
		PageFiles: PageFiles{Read: true}}
	p, err := PlanWindows(Machine{RAM: 16 * tGiB}, c, GoalBSOD)
	if err != nil {
		t.Fatal(err)
	}
	ch := winChangeMap(p)
	if got := ch[winCrashControl+`\DumpFileSize`]; got.From != "1024" || got.To != "16684" {
		t.Errorf("DumpFileSize %+v", got)
	}
	if _, ok := ch[winMemoryMgmt+`\PagingFiles`]; ok {
		t.Error("page files changed although a dedicated dump file backs the dump")
	}
	// Large enough already: no change.
	c.DumpFileSize = RegDW(20000)
	p, _ = PlanWindows(Machine{RAM: 16 * tGiB}, c, GoalBSOD)
	if _, ok := winChangeMap(p)[winCrashControl+`\DumpFileSize`]; ok {
		t.Error("a 20000 MB dedicated dump file was resized")
	}
}

func TestWindowsPlanHang(t *testing.T) {
	c := WindowsConfig{KbdHID: KeyboardCrash{Dump1Keys: RegDW(0x20)}}
	p, err := PlanWindows(Machine{RAM: 64 * tGiB, Release: "10.0.20348"}, c, GoalHang)
	if err != nil {
		t.Fatal(err)
	}
	ch := winChangeMap(p)
	if got := ch[winCrashControl+`\CrashDumpEnabled`].To; got != "2" {
		t.Errorf("64 GiB hang: CrashDumpEnabled -> %q, want 2 (kernel)", got)
	}
	if got := ch[winServices+`\i8042prt\Parameters\CrashOnCtrlScroll`].To; got != "1" {
		t.Errorf("i8042prt CrashOnCtrlScroll -> %q", got)
	}
	if _, ok := ch[winServices+`\kbdhid\Parameters\CrashOnCtrlScroll`]; ok {
		t.Error("kbdhid CrashOnCtrlScroll set although an alternate shortcut is defined")
	}
	if _, ok := ch[winCrashControl+`\NMICrashDump`]; ok {
		t.Error("NMICrashDump written on Windows Server 2022, where it has no effect")
	}
	p, _ = PlanWindows(Machine{RAM: 16 * tGiB, Release: "6.1.7601"}, WindowsConfig{}, GoalHang)
	ch = winChangeMap(p)
	if ch[winCrashControl+`\NMICrashDump`].To != "1" || ch[winCrashControl+`\CrashDumpEnabled`].To != "1" {
		t.Errorf("Windows 7 hang: %+v", p.Changes)
	}
}

func TestWindowsPlanApp(t *testing.T) {
	p, err := PlanWindowsApp(Machine{}, WindowsConfig{LocalDumps: WERLocalDumps{Present: true, DumpType: RegDW(2)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 || p.Scripts != nil || !strings.Contains(strings.Join(p.Notes, " "), "Nothing to change") {
		t.Errorf("already configured: %+v", p)
	}
	p, _ = PlanWindowsApp(Machine{}, WindowsConfig{}, "MyApp.exe")
	if got := winChangeMap(p)[winLocalDumps+`\MyApp.exe\DumpType`]; got.To != "2" || !strings.Contains(got.Why, "creates the key") {
		t.Errorf("MyApp.exe: %+v", p.Changes)
	}
	if _, err := PlanWindowsApp(Machine{}, WindowsConfig{}, `C:\x\MyApp.exe`); err == nil {
		t.Error("a path was accepted as application name")
	}
	if _, err := PlanWindows(Machine{}, WindowsConfig{}, GoalPanic); err == nil {
		t.Error("goal panic was accepted for Windows")
	}
}

// .reg encoding: REG_MULTI_SZ as hex(7) UTF-16LE with double NUL, lines
// continued before 80 columns.
func TestWindowsRegEncoding(t *testing.T) {
	if got := fmt.Sprintf("% x", utf16z("C:")); got != "43 00 3a 00 00 00" {
		t.Errorf("utf16z = %s", got)
	}
	text := winRegFile("t", []winRegChange{{Key: winCrashControl, Name: "DumpFile", Kind: winExpandSZ, Str: `%SystemRoot%\MEMORY.DMP`},
		{Key: winMemoryMgmt, Name: "PagingFiles", Kind: winMultiSZ, Strs: []string{`C:\pagefile.sys 16684 16684`}},
		{Key: winCrashControl, Name: "DedicatedDumpFile", Kind: winSZ, Str: `D:\dd.sys`}})
	for _, line := range strings.Split(text, crlf) {
		hex := strings.Contains(line, "=hex(") || strings.HasPrefix(line, "  ")
		if hex && len(line) > 80 {
			t.Errorf("line of %d columns: %q", len(line), line)
		}
	}
	if !strings.Contains(text, `"PagingFiles"=hex(7):43,00,3a,00,5c,00,70,00`) || !strings.Contains(text, `,00,00,00,00`+crlf) {
		t.Errorf("PagingFiles encoding:\n%s", text)
	}
	if !strings.Contains(text, `"DumpFile"=hex(2):25,00,53,00`) || !strings.Contains(text, `"DedicatedDumpFile"="D:\\dd.sys"`) {
		t.Errorf("string encodings:\n%s", text)
	}
	if strings.Count(text, "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\CrashControl]") != 1 {
		t.Errorf("CrashControl section repeated:\n%s", text)
	}
}
