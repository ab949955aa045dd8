package widgets

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sampleMap is a process's space: an image with its sections touching,
// a stack, a heap far away and images the dump did not capture.
var sampleMap = []MapRow{
	{Start: 0x10000, Size: 0x100, Kind: "stack", Prot: "rw-", Captured: true, Name: "stack"},
	{Start: 0x400000, Size: 0x1000, Kind: "image", Prot: "r--", Captured: true, Name: "app.exe", Usage: `Image C:\app\app.exe`},
	{Start: 0x401000, Size: 0x8000, Kind: "image", Prot: "r-x", Captured: true, Name: "app.exe", Usage: `Image C:\app\app.exe`},
	{Start: 0x409000, Size: 0x2000, Kind: "image", Prot: "rw-", Captured: true, Name: "app.exe", Usage: `Image C:\app\app.exe`},
	{Start: 0x2000000, Size: 0x100000, Kind: "heap", Prot: "rw-", Captured: true, Name: "[heap]"},
	{Start: 0x7ff600000000, Size: 0x10000, Kind: "mapped", Prot: "r--", Captured: true, Name: "locale.nls"},
	{Start: 0x7ffd00000000, Size: 0xb0000, Kind: "image", Prot: "---", State: "absent", Name: "kernel32.dll", Usage: `Image C:\Windows\System32\kernel32.dll`},
	{Start: 0x7ffd10000000, Size: 0x200000, Kind: "image", Prot: "---", State: "absent", Name: "ntdll.dll", Usage: `Image C:\Windows\System32\ntdll.dll`},
	{Start: 0x7fffffff0000, Size: 0x10000, Kind: "unknown", Prot: "---", State: "reserved"},
}

func TestBandLayoutWidths(t *testing.T) {
	spans, width := bandLayout(sampleMap, 1)
	w := func(i int) float32 { return spans[i].X1 - spans[i].X0 }

	// A page or less gets the minimum; each doubling adds the same.
	if w(0) != blockMin || w(1) != blockMin {
		t.Errorf("sub-page and page blocks %v %v, want %v", w(0), w(1), blockMin)
	}
	if got := w(2) - w(1); math.Abs(float64(got-3*blockPerDbl)) > 1e-3 { // 8 pages: 3 doublings
		t.Errorf("8 pages are %v wider than one, want %v", got, 3*blockPerDbl)
	}
	for i := 1; i < len(sampleMap); i++ {
		if max(sampleMap[i].Size, sampleMap[i-1].Size) > 4096 && (sampleMap[i].Size > sampleMap[i-1].Size) != (w(i) > w(i-1)) {
			t.Errorf("region %d (%#x) %v wide, region %d (%#x) %v", i, sampleMap[i].Size, w(i), i-1, sampleMap[i-1].Size, w(i-1))
		}
	}

	// Regions that touch are a join apart; every gap, whatever the space
	// it hides (a few MB, terabytes), is the same.
	for i := 1; i < len(spans); i++ {
		sep := spans[i].X0 - spans[i-1].X1
		want := float32(gapWidth)
		if sampleMap[i].Start == sampleMap[i-1].End() {
			want = joinWidth
		}
		if sep != want {
			t.Errorf("between %d and %d: %v, want %v", i-1, i, sep, want)
		}
	}
	if width != spans[len(spans)-1].X1+bandInset || spans[0].X0 != bandInset {
		t.Errorf("band from %v to %v, width %v", spans[0].X0, spans[len(spans)-1].X1, width)
	}

	// Zoomed far out, blocks and gaps keep a visible minimum.
	spans, _ = bandLayout(sampleMap, minZoom)
	for i, s := range spans {
		if s.X1-s.X0 < minBlockPx {
			t.Errorf("block %d %v wide at the least zoom", i, s.X1-s.X0)
		}
		if i > 0 && sampleMap[i].Start != sampleMap[i-1].End() && s.X0-spans[i-1].X1 < minGapPx {
			t.Errorf("gap before %d %v wide at the least zoom", i, s.X0-spans[i-1].X1)
		}
	}
	// The largest region still fits an address space's worth of doublings.
	if w := blockWidth(math.MaxUint64); w > 600 || w < blockWidth(1<<40) {
		t.Errorf("a 16 EiB region is %v wide", w)
	}
}

func TestRegionAt(t *testing.T) {
	spans, width := bandLayout(sampleMap, 2)
	for i, s := range spans {
		if got := regionAt(spans, s.X0); got != i {
			t.Errorf("left edge of %d: %d", i, got)
		}
		if got := regionAt(spans, s.X1-0.01); got != i {
			t.Errorf("just inside the right edge of %d: %d", i, got)
		}
		if got := regionAt(spans, (s.X0+s.X1)/2); got != i {
			t.Errorf("middle of %d: %d", i, got)
		}
		// The right edge belongs to what follows: the join between
		// touching blocks, or the gap, which are no block.
		if got := regionAt(spans, s.X1); got != -1 {
			t.Errorf("right edge of %d: %d", i, got)
		}
	}
	for _, x := range []float32{-1, width, width + 100} {
		if got := regionAt(spans, x); got != -1 {
			t.Errorf("x %v outside the band: %d", x, got)
		}
	}
	if got := regionAt(nil, 0); got != -1 {
		t.Errorf("empty band: %d", got)
	}
	// The gap between the image and the heap is before block 4.
	if i, gap := bandLocate(spans, spans[3].X1+1); i != 4 || !gap {
		t.Errorf("bandLocate in the gap: %d %v", i, gap)
	}
}

func TestFitZoom(t *testing.T) {
	for _, view := range []float32{300, 800, 1200, 5000} {
		z := fitZoom(sampleMap, view)
		_, w := bandLayout(sampleMap, z)
		if w > view {
			t.Errorf("view %v: zoom %v lays the band out %v wide", view, z, w)
		}
		if _, w2 := bandLayout(sampleMap, z*1.01); z < maxZoom && w2 <= view {
			t.Errorf("view %v: zoom %v is not the largest that fits (%v at 1%% more)", view, z, w2)
		}
	}
	if z := fitZoom(sampleMap, 10); z != minZoom {
		t.Errorf("a view too narrow for anything: zoom %v, want the least", z)
	}
	if z := fitZoom(sampleMap[:1], 1e6); z != maxZoom {
		t.Errorf("one block in a huge view: zoom %v, want the most", z)
	}
}

func TestZoomOffsetKeepsThePointedRegion(t *testing.T) {
	const view = 500
	for _, c := range []struct{ from, to float32 }{{1, 1.5}, {1.5, 6}, {6, 1.5}, {2, 40}} {
		old, _ := bandLayout(sampleMap, c.from)
		nu, width := bandLayout(sampleMap, c.to)
		for _, off := range []float32{0, 100} {
			for cursor := float32(5); cursor < view; cursor += 7 {
				x := off + cursor
				i, gap := bandLocate(old, x)
				no := zoomOffset(old, nu, off, cursor, view, width)
				if no < 0 || no > max(width-view, 0) {
					t.Fatalf("zoom %v→%v: offset %v out of [0, %v]", c.from, c.to, no, width-view)
				}
				if no == 0 || no == width-view {
					continue // clamped at an end of the band
				}
				if j, gap2 := bandLocate(nu, no+cursor); j != i || gap2 != gap {
					t.Errorf("zoom %v→%v, cursor %v: block %d (gap %v) became %d (gap %v)", c.from, c.to, cursor, i, gap, j, gap2)
				}
			}
		}
	}
}

func TestScrollToShow(t *testing.T) {
	s := bandSpan{1000, 1100}
	if got := scrollToShow(s, 950, 300, 3000); got != 950 {
		t.Errorf("in view already: offset %v", got)
	}
	if got := scrollToShow(s, 0, 300, 3000); got != 900 {
		t.Errorf("out of view: offset %v, want the block centred at 900", got)
	}
	if got := scrollToShow(bandSpan{2950, 3000}, 0, 300, 3000); got != 2700 {
		t.Errorf("at the end: offset %v, want 2700", got)
	}
}

func TestMapRowCells(t *testing.T) {
	r := sampleMap[6]
	for c, want := range map[MapColumn]string{
		MapStart: "00007ffd`00000000", MapEnd: "00007ffd`000b0000", MapSize: "0xb0000",
		MapKind: "image", MapProtect: "---", MapState: "not in dump", MapUsage: r.Usage,
	} {
		if got := r.Cell(c, true); got != want {
			t.Errorf("Cell(%v) = %q, want %q", c, got, want)
		}
	}
	if got := sampleMap[0].Cell(MapStart, false); got != "00010000" {
		t.Errorf("narrow start %q", got)
	}
	if got := sampleMap[8].StateText(); got != "reserved" {
		t.Errorf("reserved region's state %q", got)
	}
	top := MapRow{Start: math.MaxUint64 - 0xfff, Size: 0x1000}
	if top.End() != math.MaxUint64 {
		t.Errorf("a region at the top of the space ends at %#x", top.End())
	}
	for n, want := range map[uint64]string{0x100: "256 B", 0x10000: "64 KiB", 0xb0000: "704 KiB", 0x5fe0000: "95.9 MiB", 1 << 40: "1 TiB"} {
		if got := readableSize(n); got != want {
			t.Errorf("readableSize(%#x) = %q, want %q", n, got, want)
		}
	}
	d := RegionDetails(sampleMap[2])
	for _, part := range []string{"00000000`00401000", "00000000`00409000", "32 KiB", "0x8000", "image", "r-x", "captured", `C:\app\app.exe`} {
		if !strings.Contains(d, part) {
			t.Errorf("details %q lack %q", d, part)
		}
	}
}

// newTestMemoryMap shows a map of rows in a 1200x700 window.
func newTestMemoryMap(t *testing.T, rows []MapRow) (*MemoryMap, fyne.Window, *[]uint64) {
	t.Helper()
	test.NewTempApp(t)
	m := NewMemoryMap()
	var opened []uint64
	m.OnOpenHex = func(a uint64) { opened = append(opened, a) }
	w := test.NewTempWindow(t, m)
	w.Resize(fyne.NewSize(1200, 700))
	if m.State() != PaneLoading {
		t.Fatalf("new map: state %v", m.State())
	}
	m.SetRegions("process", rows)
	if m.State() != PaneReady || m.Len() != len(rows) {
		t.Fatalf("state %v, %d rows", m.State(), m.Len())
	}
	return m, w, &opened
}

// mapCells returns the table's drawn cells in the Start column, by row.
func mapCells(o fyne.CanvasObject) map[int]*mapCell {
	out := map[int]*mapCell{}
	walkVisible(o, func(obj fyne.CanvasObject) {
		if c, ok := obj.(*mapCell); ok && c.col == MapStart {
			out[c.row] = c
		}
	})
	return out
}

func bandRendererOf(m *MemoryMap) *bandRenderer { return test.WidgetRenderer(m.band).(*bandRenderer) }

// blockCentre returns the middle of block i, in the band's coordinates.
func blockCentre(m *MemoryMap, i int) fyne.Position {
	s := m.band.spans[i]
	return fyne.NewPos((s.X0+s.X1)/2, bandBlockY+bandBlockH/2)
}

func TestMemoryMapSelectionSync(t *testing.T) {
	m, _, opened := newTestMemoryMap(t, sampleMap)
	view := m.scroll.Size().Width
	if !m.band.fit || m.band.width > view || m.band.width < view*0.9 {
		t.Fatalf("fitted band %v wide in a %v view (zoom %v)", m.band.width, view, m.Zoom())
	}
	if !m.zoomOut.Disabled() || !m.openHex.Disabled() {
		t.Errorf("fitted, nothing selected: zoom out enabled %v, open enabled %v", !m.zoomOut.Disabled(), !m.openHex.Disabled())
	}

	// Clicking block 4 selects it in the band and the table.
	test.TapAt(m.band, blockCentre(m, 4))
	if m.Selected() != 4 || m.band.selected != 4 || !m.band.fit {
		t.Fatalf("after a click: selected %d, band %d", m.Selected(), m.band.selected)
	}
	cells := mapCells(m)
	if len(cells) != len(sampleMap) {
		t.Fatalf("%d rows drawn", len(cells))
	}
	for row, c := range cells {
		if c.sel != (row == 4) || c.label.Text != sampleMap[row].Cell(MapStart, true) {
			t.Errorf("row %d (%s) highlighted %v", row, c.label.Text, c.sel)
		}
	}
	if c := cells[4]; c.bg.FillColor == color.Transparent {
		t.Error("selected row not drawn highlighted")
	}
	if m.Details() != RegionDetails(sampleMap[4]) || m.openHex.Disabled() {
		t.Errorf("details %q, open disabled %v", m.Details(), m.openHex.Disabled())
	}
	if len(*opened) != 0 {
		t.Errorf("a single click opened %x", *opened)
	}
	// A second click opens it in the hex view, as does the button.
	test.TapAt(m.band, blockCentre(m, 4))
	test.Tap(m.openHex)
	if len(*opened) != 2 || (*opened)[0] != sampleMap[4].Start || (*opened)[1] != sampleMap[4].Start {
		t.Errorf("double click and button opened %x", *opened)
	}
	// A click in a gap changes nothing.
	test.TapAt(m.band, fyne.NewPos(m.band.spans[4].X0-2, bandBlockY+5))
	if m.Selected() != 4 {
		t.Errorf("a click in a gap selected %d", m.Selected())
	}

	// Zoomed in, selecting a row off screen scrolls the band to it.
	for range 4 {
		m.ZoomIn()
	}
	if m.band.fit || m.band.width < 3*view || m.zoomOut.Disabled() {
		t.Fatalf("zoomed in: band %v wide in %v (fit %v)", m.band.width, view, m.band.fit)
	}
	last := len(sampleMap) - 1
	m.table.Select(widget.TableCellID{Row: last, Col: 3})
	off := m.scroll.Offset.X
	s := m.band.spans[last]
	if m.Selected() != last || m.band.selected != last || s.X0 < off || s.X1 > off+view {
		t.Errorf("row %d selected: band selection %d, block %v not in view [%v, %v]", last, m.band.selected, s, off, off+view)
	}
	if off == 0 {
		t.Error("the band did not scroll")
	}
	// Clicking the same row again keeps it; another one moves.
	m.table.Select(widget.TableCellID{Row: 0, Col: 0})
	if m.Selected() != 0 || m.scroll.Offset.X > m.band.spans[0].X0 {
		t.Errorf("row 0: selected %d, offset %v", m.Selected(), m.scroll.Offset.X)
	}

	// Fit undoes the zoom.
	m.Fit()
	if !m.band.fit || m.band.width > view || m.scroll.Offset.X != 0 || !m.zoomOut.Disabled() {
		t.Errorf("after Fit: fit %v, width %v, offset %v", m.band.fit, m.band.width, m.scroll.Offset.X)
	}
}

func TestMemoryMapHover(t *testing.T) {
	m, _, _ := newTestMemoryMap(t, sampleMap)
	hint := m.Details()
	if !strings.Contains(hint, "double-click") {
		t.Errorf("nothing hovered or selected: %q", hint)
	}
	m.band.MouseIn(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: blockCentre(m, 6)}})
	if m.Details() != RegionDetails(sampleMap[6]) || !strings.Contains(m.Details(), "not in dump") {
		t.Errorf("hovering kernel32: %q", m.Details())
	}
	if m.band.Cursor() != desktop.PointerCursor {
		t.Error("no pointer cursor over a block")
	}
	m.band.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(m.band.spans[4].X0-1, 20)}})
	if d := m.Details(); !strings.Contains(d, "no region listed") || !strings.Contains(d, "0040b000") || !strings.Contains(d, "02000000") {
		t.Errorf("hovering the gap before the heap: %q", d)
	}
	m.Select(2)
	m.band.MouseOut()
	if m.Details() != RegionDetails(sampleMap[2]) {
		t.Errorf("pointer gone, region 2 selected: %q", m.Details())
	}
}

// TestMemoryMapWheel: the wheel zooms around the pointer, keeping the
// block under it; a horizontal wheel or a drag pans.
func TestMemoryMapWheel(t *testing.T) {
	m, w, _ := newTestMemoryMap(t, sampleMap)
	// The band, not the scroll around it, takes the wheel. (The test
	// driver's events carry no position: the band's own are sent below.)
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(m.band)
	z := m.Zoom()
	test.Scroll(w.Canvas(), abs.Add(blockCentre(m, 0)), 0, 10)
	if m.Zoom() <= z || m.scroll.Offset.X != 0 {
		t.Fatalf("wheel over the band: zoom %v from %v, offset %v", m.Zoom(), z, m.scroll.Offset.X)
	}
	m.Fit()
	wheel := func(pos fyne.Position, dx, dy float32) {
		m.band.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: pos}, Scrolled: fyne.Delta{DX: dx, DY: dy}})
	}
	target := 7
	for range 3 {
		c := blockCentre(m, target)
		cursor := c.X - m.scroll.Offset.X
		wheel(c, 0, 10)
		if got := regionAt(m.band.spans, m.scroll.Offset.X+cursor); got != target {
			t.Fatalf("after zooming in at block %d the pointer is over %d (zoom %v, offset %v)", target, got, m.Zoom(), m.scroll.Offset.X)
		}
	}
	if m.Zoom() <= z*3 || m.scroll.Offset.X == 0 {
		t.Errorf("three wheel steps: zoom %v from %v, offset %v", m.Zoom(), z, m.scroll.Offset.X)
	}
	before := m.scroll.Offset.X
	wheel(fyne.NewPos(before+100, 20), 50, 0)
	if m.scroll.Offset.X != before-50 {
		t.Errorf("horizontal wheel: offset %v from %v", m.scroll.Offset.X, before)
	}
	m.band.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DX: -30}})
	if m.scroll.Offset.X != before-20 {
		t.Errorf("drag: offset %v from %v", m.scroll.Offset.X, before-50)
	}
	for range 20 {
		wheel(fyne.NewPos(m.scroll.Offset.X+100, 20), 0, -10)
	}
	if !m.band.fit || m.band.width > m.scroll.Size().Width || m.scroll.Offset.X != 0 {
		t.Errorf("zoomed out all the way: fit %v, band %v wide, offset %v", m.band.fit, m.band.width, m.scroll.Offset.X)
	}
}

// TestMemoryMapDrawing renders the map and checks the pixels: captured
// blocks are filled with their kind's colour, absent ones are not, marks
// show executable and writable regions, and labels sit on wide blocks.
func TestMemoryMapDrawing(t *testing.T) {
	m, w, _ := newTestMemoryMap(t, sampleMap)
	fyne.CurrentApp().Settings().SetTheme(theme.DarkTheme())
	m.Refresh()
	img := w.Canvas().Capture()
	if path := os.Getenv("MEMMAP_PNG"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			png.Encode(f, img)
			f.Close()
		}
	}
	// The driver's absolute positions are inside the canvas's interactive
	// area; the capture is the whole canvas.
	inset, _ := w.Canvas().InteractiveArea()
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(m.band).Add(inset)
	scale := float32(img.Bounds().Dx()) / w.Canvas().Size().Width
	px := func(x, y float32) color.NRGBA {
		p := abs.Add(fyne.NewPos(x, y))
		return color.NRGBAModel.Convert(img.At(int(p.X*scale), int(p.Y*scale))).(color.NRGBA)
	}
	near := func(a, b color.NRGBA) bool {
		d := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
		return d(a.R, b.R) < 12 && d(a.G, b.G) < 12 && d(a.B, b.B) < 12
	}
	for i, r := range sampleMap {
		s := m.band.spans[i]
		// Near the block's bottom-left, below any label.
		got := px(s.X0+2.5, bandBlockY+bandBlockH-4)
		if near(got, KindColor(r.Kind)) != r.Captured {
			t.Errorf("block %d (%s, captured %v) drawn %v", i, r.Kind, r.Captured, got)
		}
		mid := (s.X0 + s.X1) / 2
		if exec := near(px(mid, bandBlockY-markGap-bandMarkH/2), execColor); exec != strings.Contains(r.Prot, "x") {
			t.Errorf("block %d (%s): executable mark %v", i, r.Prot, exec)
		}
		below := px(mid, bandBlockY+bandBlockH+markGap+bandMarkH/2)
		if bright := below.R > 0xc0 && below.G > 0xc0; bright != strings.Contains(r.Prot, "w") {
			t.Errorf("block %d (%s): writable mark %v", i, r.Prot, below)
		}
	}
	// Labels: on every block wide enough, never outside their block.
	shown := 0
	for i, name := range bandRendererOf(m).names {
		if !name.Visible() {
			continue
		}
		shown++
		s := m.band.spans[i]
		if name.Position().X < s.X0 || name.Position().X+name.Size().Width > s.X1 {
			t.Errorf("label %q at %v+%v overflows block %v", name.Text, name.Position().X, name.Size().Width, s)
		}
	}
	if shown < len(sampleMap)/2 {
		t.Errorf("%d labels shown at 1200 wide", shown)
	}
	if img.Bounds().Size() != (image.Point{int(1200 * scale), int(700 * scale)}) {
		t.Errorf("captured %v", img.Bounds())
	}
}

func TestMemoryMapStates(t *testing.T) {
	m, _, _ := newTestMemoryMap(t, sampleMap)
	m.Select(3)
	m.ShowError("The dump lists no memory regions.")
	if m.State() != PaneError || m.ErrorLine() == "" || m.Len() != 0 || m.Selected() != -1 {
		t.Errorf("error: %v %q %d rows, selected %d", m.State(), m.ErrorLine(), m.Len(), m.Selected())
	}
	m.OpenSelected() // nothing selected: no panic, no call
	m.SetRegions("kernel", sampleMap[:2])
	if m.State() != PaneReady || m.Len() != 2 || len(bandRendererOf(m).blocks) != 2 {
		t.Errorf("again: %v, %d rows, %d blocks", m.State(), m.Len(), len(bandRendererOf(m).blocks))
	}
	if !strings.HasPrefix(m.summary.Text, "2 regions") || m.title.Text != "kernel address space" {
		t.Errorf("header %q %q", m.title.Text, m.summary.Text)
	}
}
