package app

import (
	"context"
	"image/png"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/widgets"
)

// loadMemTab opens the memory tab of sess, waits for the map and shows it
// in a 1200x700 window; it returns the addresses opened in the hex view.
func loadMemTab(t *testing.T, sess *session.Session) (*memTab, fyne.Window, *[]uint64) {
	t.Helper()
	var opened []uint64
	mt := newMemTab(context.Background(), sess, func(a uint64) { opened = append(opened, a) })
	waitClosed(t, "the memory map", mt.done, 30*time.Second)
	w := test.NewTempWindow(t, mt.view)
	w.Resize(fyne.NewSize(1200, 700))
	if mt.view.State() != widgets.PaneReady {
		t.Fatalf("state %v, error %q", mt.view.State(), mt.view.ErrorLine())
	}
	return mt, w, &opened
}

// TestMemoryTabSample: the minidump holds one stack and lists three
// modules whose images it did not capture.
func TestMemoryTabSample(t *testing.T) {
	test.NewTempApp(t)
	sess := sampleSession(t)
	mt, w, opened := loadMemTab(t, sess)
	regions, _, err := sess.MemoryMap()
	if err != nil {
		t.Fatal(err)
	}
	rows := mt.view.Rows()
	if len(rows) != len(regions) || mt.view.Len() != len(regions) {
		t.Fatalf("%d rows for %d regions", len(rows), len(regions))
	}
	stack := slices.IndexFunc(rows, func(r widgets.MapRow) bool { return r.Start == 0x140000 })
	if stack < 0 {
		t.Fatalf("no region at 0x140000: %+v", rows)
	}
	if r := rows[stack]; r.Kind != "stack" || !r.Captured || r.Size == 0 || r.Cell(widgets.MapState, true) != "captured" {
		t.Errorf("stack row %+v", r)
	}
	var images []string
	for _, r := range rows {
		if r.Kind != "image" {
			continue
		}
		images = append(images, r.Name)
		if r.Captured || r.Cell(widgets.MapState, true) != "not in dump" || !strings.HasPrefix(r.Usage, "Image ") || !strings.HasSuffix(r.Usage, r.Name) {
			t.Errorf("image row %+v", r)
		}
	}
	var mods []string
	for _, m := range sess.Modules() {
		mods = append(mods, m.Name())
	}
	slices.Sort(images)
	slices.Sort(mods)
	if !slices.Equal(images, mods) || len(mods) != 3 {
		t.Errorf("image blocks %q, modules %q", images, mods)
	}

	// Selecting a region and opening it hands its start to the hex view.
	mt.view.Select(stack)
	mt.view.OpenSelected()
	if !slices.Equal(*opened, []uint64{0x140000}) {
		t.Errorf("opened %x", *opened)
	}
	if d := mt.view.Details(); !strings.Contains(d, "00140000") || !strings.Contains(d, "stack") {
		t.Errorf("details %q", d)
	}
	capturePNG(t, w, "/tmp/memmap.png")
}

// TestMemoryTabVmcore: a kernel's map, whatever MemoryMap makes of it,
// is shown row for row.
func TestMemoryTabVmcore(t *testing.T) {
	test.NewTempApp(t)
	sess := openSession(t, fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	mt, w, _ := loadMemTab(t, sess)
	regions, _, err := sess.MemoryMap()
	if err != nil {
		t.Fatal(err)
	}
	rows := mt.view.Rows()
	if len(rows) != len(regions) || len(rows) == 0 {
		t.Fatalf("%d rows for %d regions", len(rows), len(regions))
	}
	for i, r := range regions {
		if rows[i].Start != r.Start || rows[i].Size != r.Size || rows[i].Kind != r.Kind.String() || rows[i].Captured != r.Captured() {
			t.Errorf("row %d %+v for region %+v", i, rows[i], r)
		}
	}
	i := slices.IndexFunc(rows, func(r widgets.MapRow) bool { return r.Name == "vmlinux" })
	if i < 0 || rows[i].Kind != "image" || !rows[i].Captured {
		t.Fatalf("no captured vmlinux image block")
	}
	capturePNG(t, w, "/tmp/memmap-vmcore.png")
	for range 4 {
		mt.view.ZoomIn()
	}
	mt.view.Select(i)
	if mt.view.Selected() != i || !strings.Contains(mt.view.Details(), "Image vmlinux") {
		t.Errorf("selected %d, details %q", mt.view.Selected(), mt.view.Details())
	}
	capturePNG(t, w, "/tmp/memmap-vmcore-zoomed.png")
}

func TestMemoryTabNoSession(t *testing.T) {
	test.NewTempApp(t)
	if v := newMemTab(context.Background(), nil, nil).view; v.State() != widgets.PaneError || v.ErrorLine() == "" {
		t.Errorf("nil session: state %v, %q", v.State(), v.ErrorLine())
	}
}

func TestRegionName(t *testing.T) {
	for _, c := range []struct {
		r    session.MapRegion
		want string
	}{
		{session.MapRegion{Usage: `Image C:\Windows\System32\ntdll.dll`}, "ntdll.dll"},
		{session.MapRegion{Usage: "Image vmlinux"}, "vmlinux"},
		{session.MapRegion{Usage: "/usr/lib/libc.so.6 (offset 0x1000)"}, ""}, // the label says, not the usage
		{mapRegion("/usr/lib/libc.so.6 (offset 0x1000)"), "libc.so.6"},
		{mapRegion("[stack]"), "[stack]"},
		{mapRegion(""), ""},
	} {
		if got := regionName(c.r); got != c.want {
			t.Errorf("regionName(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
}

func mapRegion(label string) session.MapRegion {
	var r session.MapRegion
	r.Label = label
	return r
}

// capturePNG saves what w shows, in the dark theme, when MEMMAP_PNG is
// set, to look at.
func capturePNG(t *testing.T, w fyne.Window, path string) {
	if os.Getenv("MEMMAP_PNG") == "" {
		return
	}
	fyne.CurrentApp().Settings().SetTheme(theme.DarkTheme())
	w.Content().Refresh()
	f, err := os.Create(path)
	if err != nil {
		t.Log(err)
		return
	}
	defer f.Close()
	if err := png.Encode(f, w.Canvas().Capture()); err != nil {
		t.Log(err)
	}
}
