package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/widgets"
)

func newTestDumps(t *testing.T) *Dumps {
	t.Helper()
	test.NewTempApp(t) // fyne.Do needs a current app
	d := NewDumps(context.Background())
	t.Cleanup(d.CloseAll)
	return d
}

func TestDumpsOpenMinidumpAndTextFile(t *testing.T) {
	d := newTestDumps(t)
	dmp, txt := writeScenario(t, "amd64-av-write"), textFile(t)
	var loaded []int
	d.OnLoaded = func(i int) { loaded = append(loaded, i) }

	if first := d.Open(dmp, txt); first != 0 {
		t.Fatalf("Open returned %d, want 0", first)
	}
	if d.Len() != 2 {
		t.Fatalf("Len = %d, want 2", d.Len())
	}
	waitFor(t, "both loads", func() bool { return d.Pending() == 0 }, 5*time.Second)

	slices.Sort(loaded)
	if !slices.Equal(loaded, []int{0, 1}) {
		t.Errorf("OnLoaded calls %v, want 0 and 1", loaded)
	}

	// The minidump: loaded, with the crash in its rows and its subtitle.
	if st := d.Status(0); st != widgets.StatusOK {
		t.Fatalf("minidump status %v (error %v), want ok", st, d.Err(0))
	}
	if d.Title(0) != "amd64-av-write.dmp" {
		t.Errorf("Title(0) = %q", d.Title(0))
	}
	rows := d.Rows(0)
	if !slices.ContainsFunc(rows, func(r widgets.Row) bool {
		return strings.Contains(r.Value, "EXCEPTION_ACCESS_VIOLATION_WRITE")
	}) {
		t.Errorf("no row mentions EXCEPTION_ACCESS_VIOLATION_WRITE: %v", rows)
	}
	if !slices.ContainsFunc(rows, func(r widgets.Row) bool { return r.Key == "File" && strings.Contains(r.Value, dmp) }) {
		t.Errorf("no File row naming %s: %v", dmp, rows)
	}
	if s := d.Subtitle(0); !strings.HasPrefix(s, "EXCEPTION_ACCESS_VIOLATION_WRITE") {
		t.Errorf("Subtitle(0) = %q, want the crash first", s)
	}
	if d.Session(0) == nil || d.Err(0) != nil || d.ErrorLine(0) != "" {
		t.Errorf("loaded entry: session %v, err %v, line %q", d.Session(0), d.Err(0), d.ErrorLine(0))
	}

	// The text file: an error entry with dump.Error's facts, no rows.
	if st := d.Status(1); st != widgets.StatusError {
		t.Fatalf("text file status %v, want error", st)
	}
	var de *dump.Error
	if !errors.As(d.Err(1), &de) {
		t.Fatalf("text file error %v (%T), want a *dump.Error", d.Err(1), d.Err(1))
	}
	if d.Rows(1) != nil || d.Session(1) != nil {
		t.Errorf("failed entry has rows %v / session %v", d.Rows(1), d.Session(1))
	}
	sub, line := d.Subtitle(1), d.ErrorLine(1)
	if !strings.Contains(sub, "looks like "+de.LooksLike) || strings.Contains(sub, txt) || strings.Contains(sub, "\n") {
		t.Errorf("Subtitle(1) = %q: want the one-liner without the path", sub)
	}
	if !strings.HasPrefix(line, txt+": ") || !strings.HasSuffix(line, sub) {
		t.Errorf("ErrorLine(1) = %q: want the path, then %q", line, sub)
	}
}

func TestDumpsOpenSameFileOnce(t *testing.T) {
	d := newTestDumps(t)
	dmp := writeScenario(t, "minimal")
	d.Open(dmp)
	if i := d.Open(dmp); i != 0 || d.Len() != 1 {
		t.Fatalf("second Open: index %d, Len %d; want 0, 1", i, d.Len())
	}
	waitFor(t, "load", func() bool { return d.Pending() == 0 }, 5*time.Second)
	if d.Open() != -1 {
		t.Error("Open() with no paths did not return -1")
	}
}

func TestDumpsMissingFile(t *testing.T) {
	d := newTestDumps(t)
	d.Open(t.TempDir() + "/no-such.dmp")
	waitFor(t, "load", func() bool { return d.Pending() == 0 }, 5*time.Second)
	if d.Status(0) != widgets.StatusError || d.Subtitle(0) == "" {
		t.Errorf("missing file: status %v, subtitle %q", d.Status(0), d.Subtitle(0))
	}
}

func TestDumpsOutOfRange(t *testing.T) {
	d := newTestDumps(t)
	// A list row may be drawn for an index a Close just removed.
	if d.Title(3) != "" || d.Subtitle(3) != "" || d.Rows(3) != nil || d.Err(3) != nil || d.Session(3) != nil {
		t.Error("out-of-range accessors returned data")
	}
}
