package widgets

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

func newTestModTable(t *testing.T) *ModTable {
	t.Helper()
	test.NewTempApp(t)
	m := NewModTable()
	w := test.NewTempWindow(t, m)
	w.Resize(fyne.NewSize(1400, 500))
	return m
}

var sampleModules = []ModuleRow{
	{Name: "ntdll.dll", Base: 0x7ffd10000000, Size: 0x200000, Path: `C:\Windows\System32\ntdll.dll`, Version: "10.0.19041.1", Symbols: "deferred", OnStack: true},
	{Name: "app.exe", Base: 0x7ff600000000, Size: 0x10000, Path: `C:\app\app.exe`, Symbols: "breakpad symbols", OnStack: true, Faulting: true,
		Time: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)},
	{Name: "KERNEL32.dll", Base: 0x7ffd00000000, Size: 0xb0000, Path: `C:\Windows\System32\kernel32.dll`, Symbols: "no symbols",
		Time: time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)},
}

func modNames(rows []ModuleRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Name)
	}
	return out
}

func TestSortModules(t *testing.T) {
	for _, c := range []struct {
		col  ModColumn
		desc bool
		want []string
	}{
		{ModName, false, []string{"app.exe", "KERNEL32.dll", "ntdll.dll"}}, // ignoring case
		{ModName, true, []string{"ntdll.dll", "KERNEL32.dll", "app.exe"}},
		{ModBase, false, []string{"app.exe", "KERNEL32.dll", "ntdll.dll"}},
		{ModSize, false, []string{"app.exe", "KERNEL32.dll", "ntdll.dll"}}, // by value, not text
		{ModSize, true, []string{"ntdll.dll", "KERNEL32.dll", "app.exe"}},
		{ModTimestamp, false, []string{"ntdll.dll", "KERNEL32.dll", "app.exe"}}, // none first
		{ModSymbols, false, []string{"app.exe", "ntdll.dll", "KERNEL32.dll"}},
		{ModVersion, false, []string{"app.exe", "KERNEL32.dll", "ntdll.dll"}}, // ties by base
	} {
		rows := slices.Clone(sampleModules)
		SortModules(rows, c.col, c.desc)
		if got := modNames(rows); !slices.Equal(got, c.want) {
			t.Errorf("SortModules(%v, desc %v) = %q, want %q", c.col, c.desc, got, c.want)
		}
	}
}

func TestFilterModules(t *testing.T) {
	for _, c := range []struct {
		q    string
		want []int
	}{
		{"", []int{0, 1, 2}},
		{"kernel32", []int{2}},    // name and path, ignoring case
		{"system32", []int{0, 2}}, // path
		{"10.0.19041", []int{0}},  // version
		{"deferred", []int{0}},    // symbol status
		{"00007ff6`", []int{1}},   // base as shown
		{"no such module", []int{}},
	} {
		if got := FilterModules(sampleModules, c.q, true); !slices.Equal(got, c.want) {
			t.Errorf("FilterModules(%q) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestModuleCells(t *testing.T) {
	r := sampleModules[1]
	for c, want := range map[ModColumn]string{
		ModName: "app.exe", ModBase: "00007ff6`00000000", ModSize: "0x10000",
		ModTimestamp: "2020-01-02 03:04:05", ModPath: `C:\app\app.exe`, ModSymbols: "breakpad symbols",
	} {
		if got := r.Cell(c, true); got != want {
			t.Errorf("Cell(%v) = %q, want %q", c, got, want)
		}
	}
	if got := (ModuleRow{Base: 0x400000}).Cell(ModBase, false); got != "00400000" {
		t.Errorf("narrow base %q", got)
	}
}

// modCells returns the cells drawn, by text.
func modCells(o fyne.CanvasObject) map[string]*modCell {
	out := map[string]*modCell{}
	walkVisible(o, func(obj fyne.CanvasObject) {
		if c, ok := obj.(*modCell); ok && c.label.Text != "" {
			out[c.label.Text] = c
		}
	})
	return out
}

func TestModTableSortFilterHighlight(t *testing.T) {
	m := newTestModTable(t)
	if m.State() != PaneLoading {
		t.Fatalf("new table: state %v", m.State())
	}
	m.SetModules(sampleModules)
	if m.State() != PaneReady || m.Len() != 3 || !slices.Equal(modNames(m.Shown()), modNames(sampleModules)) {
		t.Fatalf("state %v, shown %q", m.State(), modNames(m.Shown()))
	}
	if m.CountText() != "3 modules · 2 on the crash stack" {
		t.Errorf("count %q", m.CountText())
	}

	// Tapping the Name heading sorts by name; again reverses.
	test.Tap(tappableWith(t, m, "Name"))
	if c, desc, ok := m.Sort(); c != ModName || desc || !ok {
		t.Fatalf("after tapping Name: sort %v desc %v ok %v", c, desc, ok)
	}
	if got := modNames(m.Shown()); !slices.Equal(got, []string{"app.exe", "KERNEL32.dll", "ntdll.dll"}) {
		t.Errorf("sorted by name: %q", got)
	}
	if !slices.Contains(visibleLabels(m), "Name ▲") {
		t.Errorf("no ascending arrow on Name: %q", visibleLabels(m))
	}
	test.Tap(tappableWith(t, m, "Name ▲"))
	if got := modNames(m.Shown()); !slices.Equal(got, []string{"ntdll.dll", "KERNEL32.dll", "app.exe"}) {
		t.Errorf("reversed: %q", got)
	}
	m.SortBy(ModBase)
	if got := modNames(m.Shown()); !slices.Equal(got, []string{"app.exe", "KERNEL32.dll", "ntdll.dll"}) {
		t.Errorf("sorted by base: %q", got)
	}

	// Highlight: the stack modules' cells have a background, the
	// faulting module is bold.
	cells := modCells(m)
	for name, want := range map[string]bool{"app.exe": true, "ntdll.dll": true, "KERNEL32.dll": false} {
		c := cells[name]
		if c == nil {
			t.Fatalf("no cell shows %q; cells %v", name, cells)
		}
		if _, _, _, a := c.bg.FillColor.RGBA(); (a != 0) != want {
			t.Errorf("%s highlighted %v, want %v", name, a != 0, want)
		}
		if c.label.TextStyle.Bold != (name == "app.exe") {
			t.Errorf("%s bold %v", name, c.label.TextStyle.Bold)
		}
	}

	// The filter keeps the sort; new rows keep both.
	test.Type(m.filter, "system32")
	if got := modNames(m.Shown()); !slices.Equal(got, []string{"KERNEL32.dll", "ntdll.dll"}) || !strings.HasPrefix(m.CountText(), "2 of 3 modules") {
		t.Errorf("filtered: %q, count %q", got, m.CountText())
	}
	if _, ok := modCells(m)["app.exe"]; ok {
		t.Error("filtered-out app.exe still drawn")
	}
	m.SetModules(slices.Clone(sampleModules))
	if got := modNames(m.Shown()); !slices.Equal(got, []string{"KERNEL32.dll", "ntdll.dll"}) {
		t.Errorf("after SetModules: %q", got)
	}
	m.SetFilter("")
	if len(m.Shown()) != 3 {
		t.Errorf("cleared filter shows %d", len(m.Shown()))
	}

	m.ShowError("This dump records no modules.")
	if m.State() != PaneError || m.ErrorLine() == "" || m.Len() != 0 {
		t.Errorf("error: %v %q %d", m.State(), m.ErrorLine(), m.Len())
	}
}
