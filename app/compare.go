package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/diff"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// compareTab is the view-model of the compare view: it builds both dumps'
// analysis reports off the UI thread, compares them with core/diff (as
// `crashbench diff` does) and shows the result as rows.
type compareTab struct {
	view   *widgets.CompareView
	cancel context.CancelFunc
	// sessions are the choices' sessions, in the order of the view's
	// choices; set by setDumps on the UI thread.
	sessions []*session.Session
	done     chan struct{} // replaced for each comparison; closed when shown
}

func newCompareTab() *compareTab {
	t := &compareTab{view: widgets.NewCompareView(), done: make(chan struct{})}
	t.view.OnCompare = t.compare
	return t
}

// setDumps offers the loaded dumps as choices.
func (t *compareTab) setDumps(titles []string, sessions []*session.Session) {
	t.sessions = sessions
	t.view.SetChoices(titles)
}

// shown is called when the compare tab comes forward: with nothing
// chosen yet, it compares the two dumps opened last, which is what a user
// who opens two dumps and clicks Compare means.
func (t *compareTab) shown() {
	if n := len(t.sessions); n >= 2 && !t.view.Chosen() {
		t.view.Choose(n-2, n-1)
	}
}

func (t *compareTab) compare(a, b int) {
	if t.cancel != nil {
		t.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	sa, sb := t.sessions[a], t.sessions[b]
	done := make(chan struct{})
	t.done = done
	inBackground(ctx, done, func() func() {
		ra, _, err := sa.AnalysisReport(ctx)
		if err != nil {
			return func() { t.view.ShowError(shortError(err)) }
		}
		rb, _, err := sb.AnalysisReport(ctx)
		if err != nil {
			return func() { t.view.ShowError(shortError(err)) }
		}
		d := diff.Reports(ra, rb)
		verdict, rows := compareRows(d)
		return func() { t.view.SetResult(verdict, rows) }
	})
}

// compareRows turns a diff into the verdict line and the table's rows:
// system and crash facts, the crashing stacks aligned frame by frame, and
// the modules that changed.
func compareRows(d *diff.Diff) (string, []widgets.CompareRow) {
	var verdict string
	switch {
	case d.Same:
		verdict = "The same crash: nothing differs."
	case d.SameCrash:
		verdict = fmt.Sprintf("The same crash (crash and stack agree); %d other difference%s.", d.Changes, plural(d.Changes))
	default:
		verdict = fmt.Sprintf("Different crashes: %d difference%s.", d.Changes, plural(d.Changes))
	}
	var rows []widgets.CompareRow
	fields := func(heading string, fs []diff.Field) {
		rows = append(rows, widgets.CompareRow{Heading: heading, Same: true})
		for _, f := range fs {
			rows = append(rows, widgets.CompareRow{Name: f.Name, A: f.A, B: f.B, Same: f.Same})
		}
	}
	fields("System", d.System)
	fields("Crash", d.Crash)

	rows = append(rows, widgets.CompareRow{Heading: "Crashing stack", Same: true})
	for _, p := range d.Stack.Frames {
		r := widgets.CompareRow{Name: p.Op, Same: p.Op == diff.OpSame}
		if p.A != nil {
			r.Name = strconv.Itoa(p.A.Index)
			r.A = diff.FrameText(p.A)
		}
		if p.B != nil {
			if p.A == nil {
				r.Name = strconv.Itoa(p.B.Index)
			} else if p.B.Index != p.A.Index {
				r.Name += " / " + strconv.Itoa(p.B.Index)
			}
			r.B = diff.FrameText(p.B)
		}
		rows = append(rows, r)
	}
	if len(d.Stack.Frames) == 0 {
		rows = append(rows, widgets.CompareRow{Name: "(no frames)", Same: true})
	}

	rows = append(rows, widgets.CompareRow{Heading: fmt.Sprintf("Modules (%d the same)", d.Modules.Same), Same: true})
	for _, c := range d.Modules.Changes {
		r := widgets.CompareRow{Name: c.Name, Same: c.Change == diff.ModRebased}
		switch c.Change {
		case diff.ModAdded:
			r.A, r.B = "(not loaded)", diff.ModuleLine(c.B)
		case diff.ModRemoved:
			r.A, r.B = diff.ModuleLine(c.A), "(not loaded)"
		case diff.ModRebased:
			r.A, r.B = "base "+c.A.Base, "base "+c.B.Base+" (ASLR)"
		default:
			var as, bs []string
			for _, f := range c.Fields {
				as = append(as, f+" "+orNone(diff.ModuleField(c.A, f)))
				bs = append(bs, f+" "+orNone(diff.ModuleField(c.B, f)))
			}
			r.A, r.B = strings.Join(as, ", "), strings.Join(bs, ", ")
		}
		rows = append(rows, r)
	}
	return verdict, rows
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
