package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// Dumps is the view-model of the open dumps: one entry per file, each
// loading, loaded (with its session and summary) or failed (with its
// error). It implements widgets.DumpSource.
//
// Open and Close are called on the UI thread. Loading runs in a goroutine
// per file; its result is applied on the UI thread through fyne.Do, after
// which OnLoaded is called. The accessors lock, so a test goroutine may poll
// them while loads finish.
type Dumps struct {
	// OnLoaded is called on the UI thread when entry i has finished
	// loading, successfully or not. Entries closed while loading are
	// dropped silently.
	OnLoaded func(i int)
	// Tasks, when set, shows each open and each symbol download in the
	// status bar, where the user can cancel it.
	Tasks *Tasks

	ctx     context.Context
	cancel  context.CancelFunc
	pending atomic.Int64
	// Options are the session options of dumps opened from now on (the
	// symbol path and offline settings); set on the UI thread.
	Options session.Options
	// openSession is session.Open; tests wrap it to hold a parse.
	openSession func(context.Context, string, session.Options) (*session.Session, error)

	mu      sync.Mutex
	entries []*entry

	// applyMu serialises applying results. On a real driver fyne.Do runs
	// them one at a time on the main thread anyway; Fyne's test driver runs
	// them on the calling goroutine, where two could otherwise overlap.
	applyMu sync.Mutex
}

// entry is one open file. Fields other than path, ctx and cancel are
// written under Dumps.mu once loading finishes.
type entry struct {
	path   string
	ctx    context.Context // ends when the entry or the window closes
	cancel context.CancelFunc

	status widgets.Status
	sess   *session.Session
	rep    *report.Report
	rows   []widgets.Row
	err    error
}

// NewDumps returns an empty view-model whose loads stop when ctx ends.
func NewDumps(ctx context.Context) *Dumps {
	ctx, cancel := context.WithCancel(ctx)
	return &Dumps{ctx: ctx, cancel: cancel, openSession: session.Open}
}

// Open starts opening each path that is not open yet and returns the index
// of the first path given, whether new or already open, or -1 if paths is
// empty. Results arrive later through OnLoaded.
func (d *Dumps) Open(paths ...string) (first int) {
	first = -1
	var started []*entry
	d.mu.Lock()
	for _, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			// The same dump reached twice (argv, dialog, drop) is one entry.
			p = abs
		}
		i := slices.IndexFunc(d.entries, func(e *entry) bool { return e.path == p })
		if i < 0 {
			e := &entry{path: p, status: widgets.StatusLoading}
			e.ctx, e.cancel = context.WithCancel(d.ctx)
			d.entries = append(d.entries, e)
			started = append(started, e)
			i = len(d.entries) - 1
		}
		if first < 0 {
			first = i
		}
	}
	d.mu.Unlock()
	// Start after unlocking, so that no load ever waits for d.mu.
	for _, e := range started {
		d.pending.Add(1)
		d.start(e)
	}
	return first
}

// start loads e in its own goroutine: opening a large or compressed dump
// can take seconds and must never hold up the UI thread.
func (d *Dumps) start(e *entry) {
	opts := d.Options
	opts.SymbolProgress = d.symbolProgress()
	var task *Task
	if d.Tasks != nil {
		task = d.Tasks.StartFunc("Opening "+filepath.Base(e.path), e.cancel)
	}
	go func() {
		if task != nil {
			defer task.Finish()
		}
		s, err := d.openSession(e.ctx, e.path, opts)
		var rep *report.Report
		var extra []report.Row
		if err == nil {
			if rep, err = s.Report(session.ReportOptions{}); err != nil {
				s.Close()
				s = nil
			} else if a, aerr := s.Analyze(e.ctx); aerr == nil {
				// What crashed, where: the stack and bucket belong on the
				// first screen, next to the crash line.
				extra = a.SummaryRows()
			}
		}
		onUI(func() { d.apply(e, s, rep, extra, err) })
	}()
}

// symbolProgress shows symbol and image downloads in the status bar, one
// task per file fetched; they are cancelled with the command that needs
// them (the console's Stop), so their cancel button does nothing more.
func (d *Dumps) symbolProgress() func(what string, done, total int64) {
	if d.Tasks == nil {
		return nil
	}
	var mu sync.Mutex
	running := map[string]*Task{}
	return func(what string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		t, ok := running[what]
		if !ok {
			t = d.Tasks.StartFunc("Downloading "+filepath.Base(what), func() {})
			running[what] = t
		}
		t.Progress("", done, total)
		if total >= 0 && done >= total {
			t.Finish()
			delete(running, what)
		}
	}
}

// apply stores a finished load; it runs on the UI thread.
func (d *Dumps) apply(e *entry, s *session.Session, rep *report.Report, analysis []report.Row, err error) {
	d.applyMu.Lock()
	defer d.applyMu.Unlock()
	defer d.pending.Add(-1) // last: a test that saw 0 sees the views updated

	d.mu.Lock()
	i := slices.Index(d.entries, e)
	if i >= 0 {
		e.sess, e.rep, e.err = s, rep, err
		if err != nil {
			e.status = widgets.StatusError
		} else {
			e.status = widgets.StatusOK
			for _, r := range withAnalysis(rep.Summary(), analysis) {
				e.rows = append(e.rows, widgets.Row{Key: r.Key, Value: r.Value})
			}
		}
	}
	d.mu.Unlock()

	if i < 0 { // closed while loading
		if s != nil {
			s.Close()
		}
		return
	}
	if d.OnLoaded != nil {
		d.OnLoaded(i)
	}
}

// Close closes entry i: it stops its load or closes its session, and
// removes it. Later entries move up by one.
func (d *Dumps) Close(i int) {
	d.mu.Lock()
	if i < 0 || i >= len(d.entries) {
		d.mu.Unlock()
		return
	}
	e := d.entries[i]
	d.entries = slices.Delete(d.entries, i, i+1)
	d.mu.Unlock()
	e.close()
}

// CloseAll stops every load and closes every session, for when the window
// closes. The view-model must not be used afterwards.
func (d *Dumps) CloseAll() {
	d.cancel()
	d.mu.Lock()
	es := d.entries
	d.entries = nil
	d.mu.Unlock()
	for _, e := range es {
		e.close()
	}
}

func (e *entry) close() {
	e.cancel()
	if e.sess != nil {
		e.sess.Close()
	}
}

// Pending returns how many loads have not been applied yet.
func (d *Dumps) Pending() int { return int(d.pending.Load()) }

// Len returns the number of open entries.
func (d *Dumps) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.entries)
}

// view returns a consistent copy of entry i's fields under the lock.
func (d *Dumps) view(i int) (e entry, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i < 0 || i >= len(d.entries) {
		return entry{}, false
	}
	return *d.entries[i], true
}

// Path returns entry i's absolute path.
func (d *Dumps) Path(i int) string {
	e, _ := d.view(i)
	return e.path
}

// Title returns entry i's file name; the full path is in its summary.
func (d *Dumps) Title(i int) string {
	e, ok := d.view(i)
	if !ok {
		return ""
	}
	return filepath.Base(e.path)
}

// Subtitle returns one line saying what entry i is (crash, process,
// format) or why it failed.
func (d *Dumps) Subtitle(i int) string {
	e, ok := d.view(i)
	switch {
	case !ok:
		return ""
	case e.status == widgets.StatusLoading:
		return "Opening…"
	case e.err != nil:
		return shortError(e.err)
	}
	return describe(e.rep)
}

// Status returns entry i's status.
func (d *Dumps) Status(i int) widgets.Status {
	e, _ := d.view(i)
	return e.status
}

// Rows returns entry i's summary rows once loaded, nil otherwise.
func (d *Dumps) Rows(i int) []widgets.Row {
	e, _ := d.view(i)
	return slices.Clone(e.rows)
}

// Err returns why entry i failed, or nil.
func (d *Dumps) Err(i int) error {
	e, _ := d.view(i)
	return e.err
}

// ErrorLine returns entry i's error as the one line the CLI prints (path,
// what the file looks like, offset, what is wrong), or "".
func (d *Dumps) ErrorLine(i int) string {
	e, _ := d.view(i)
	if e.err == nil {
		return ""
	}
	return e.path + ": " + shortError(e.err)
}

// Session returns entry i's session once loaded, or nil. Panels use it to
// run further engine calls; Dumps keeps ownership and closes it.
func (d *Dumps) Session(i int) *session.Session {
	e, _ := d.view(i)
	return e.sess
}

// describe is the list subtitle of a loaded dump: the crash first, since
// that is what tells dumps apart, then the process and the format.
func describe(r *report.Report) string {
	var parts []string
	if c := r.Crash; c != nil {
		switch {
		case c.Name != "":
			parts = append(parts, c.Name)
		case c.CodeHex != "":
			parts = append(parts, strings.TrimSpace(c.Kind+" "+c.CodeHex))
		case c.Kind != "":
			parts = append(parts, c.Kind)
		}
	} else {
		parts = append(parts, "no crash recorded")
	}
	if p := r.Process; p != nil && p.Name != "" {
		parts = append(parts, p.Name)
	}
	format := r.Format
	if r.Variant != "" {
		format += " (" + r.Variant + ")"
	}
	if r.Arch != "" {
		format += " " + r.Arch
	}
	parts = append(parts, strings.TrimSpace(format))
	return strings.Join(parts, " · ")
}

// shortError renders err in one line without the path, which the list row
// already shows: "looks like a text file at offset 0x0: no dump signature".
// It is built from dump.Error's fields, not from parsing its message.
func shortError(err error) string {
	var de *dump.Error
	var pe *os.PathError
	switch {
	case errors.As(err, &de):
		what := de.What
		if what == "" && de.Err != nil {
			what = de.Err.Error()
		}
		return oneLine(fmt.Sprintf("looks like %s at offset %#x: %s", de.LooksLike, de.Off, what))
	case errors.As(err, &pe):
		return oneLine(pe.Err.Error())
	}
	return oneLine(err.Error())
}

// oneLine folds newlines and runs of spaces, so a multi-line message from a
// nested error cannot break the list's row layout.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// withAnalysis places the analysis rows right after the crash rows.
func withAnalysis(summary, analysis []report.Row) []report.Row {
	at := len(summary)
	for i, r := range summary {
		if r.Key == "Crash" || r.Key == "Message" {
			at = i + 1
		}
	}
	out := append(slices.Clone(summary[:at]), analysis...)
	return append(out, summary[at:]...)
}
