package app

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// memTab is the view-model of the memory map tab: it lists the session's
// regions off the UI thread and hands them to a widgets.MemoryMap.
type memTab struct {
	view *widgets.MemoryMap
	done chan struct{} // closed once the view shows the map or the error
}

// NewMemoryTab returns the memory map tab of sess: its address space as a
// band of regions coloured by kind above a table of them, as !address
// lists them. openHex, which may be nil, is called on the UI thread with
// the start of a region the user double-clicks or opens with the "Open
// in hex" button. Call it on the UI thread; sess may be nil (the dump did
// not open).
func NewMemoryTab(sess *session.Session, openHex func(addr uint64)) fyne.CanvasObject {
	return newMemTab(context.Background(), sess, openHex).view
}

func newMemTab(ctx context.Context, sess *session.Session, openHex func(addr uint64)) *memTab {
	t := &memTab{view: widgets.NewMemoryMap(), done: make(chan struct{})}
	t.view.OnOpenHex = openHex
	if sess == nil {
		t.view.ShowError("The dump is not open.")
		close(t.done)
		return t
	}
	inBackground(ctx, t.done, func() func() {
		regions, space, err := sess.MemoryMap()
		rows := mapRows(regions)
		return func() {
			switch {
			case err != nil:
				t.view.ShowError("No memory map: " + shortError(err))
			case len(rows) == 0:
				t.view.ShowError("The dump lists no memory regions.")
			default:
				t.view.SetRegions(space, rows)
			}
		}
	})
	return t
}

// mapRows turns the session's regions into the view's rows.
func mapRows(regions []session.MapRegion) []widgets.MapRow {
	rows := make([]widgets.MapRow, len(regions))
	for i, r := range regions {
		rows[i] = widgets.MapRow{
			Start:    r.Start,
			Size:     r.Size,
			Kind:     r.Kind.String(),
			Prot:     r.Prot.String(),
			Captured: r.Captured(),
			State:    r.State.String(),
			Name:     regionName(r),
			Usage:    r.Usage,
		}
	}
	return rows
}

// regionName is the short name drawn on a region's block: the file name
// of the module or mapped file it holds, a Linux label such as "[stack]",
// or "" (the view draws the kind).
func regionName(r session.MapRegion) string {
	if path, ok := strings.CutPrefix(r.Usage, "Image "); ok {
		return fileBaseName(path)
	}
	if path, _, ok := model.ParseFileLabel(r.Label); ok {
		return fileBaseName(path)
	}
	if strings.HasPrefix(r.Label, "[") {
		return r.Label
	}
	if r.State == mem.Free || r.State == mem.Reserved {
		return r.State.String()
	}
	return ""
}

// fileBaseName is the last element of a Windows or Unix path.
func fileBaseName(path string) string {
	return path[strings.LastIndexAny(path, `/\`)+1:]
}
