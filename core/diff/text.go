package diff

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/crashbench/crashbench/core/report"
)

// WriteJSON prints d as indented JSON.
func (d *Diff) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteText prints d for a reader: each section lists its facts with "="
// when both dumps agree and "≠" (A → B) when they differ; the stack rows
// carry their alignment mark.
func (d *Diff) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	sideLine := func(label string, s Side) {
		line := label + ": " + s.Path
		if s.Path == "" {
			line = label + ": (no file)"
		}
		fmt.Fprintln(ew, line)
	}
	sideLine("A", d.A)
	sideLine("B", d.B)
	switch {
	case d.Same:
		fmt.Fprintln(ew, "Result: the same crash; nothing differs")
	case d.SameCrash:
		fmt.Fprintf(ew, "Result: the same crash (crash and stack agree); %d difference%s elsewhere\n", d.Changes, plural(d.Changes))
	default:
		fmt.Fprintf(ew, "Result: different crashes; %d difference%s\n", d.Changes, plural(d.Changes))
	}

	writeFields(ew, "System", d.System)
	writeFields(ew, "Crash", d.Crash)

	fmt.Fprintf(ew, "\nStack of the crashing thread (A: %s, B: %s)\n", threadName(d.Stack.ThreadA), threadName(d.Stack.ThreadB))
	if len(d.Stack.Frames) == 0 {
		fmt.Fprintln(ew, "  (no frames)")
	} else {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  \t#A\t#B\tframe")
		for _, p := range d.Stack.Frames {
			ia, ib := "", ""
			if p.A != nil {
				ia = strconv.Itoa(p.A.Index)
			}
			if p.B != nil {
				ib = strconv.Itoa(p.B.Index)
			}
			var text string
			switch p.Op {
			case OpRemoved:
				text = FrameText(p.A)
			case OpInserted:
				text = FrameText(p.B)
			case OpMoved:
				text = FrameText(p.A) + "  →  " + spot(p.B)
			default:
				text = FrameText(p.A)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Op, ia, ib, text)
		}
		tw.Flush()
		fmt.Fprintln(ew, "  (= same frame, ~ same function at another offset or line, - only in A, + only in B)")
	}

	m := d.Modules
	counts := map[string]int{}
	for _, c := range m.Changes {
		counts[c.Change]++
	}
	fmt.Fprintf(ew, "\nModules: %d same, %d changed, %d added, %d removed", m.Same, counts[ModChanged], counts[ModAdded], counts[ModRemoved])
	if n := counts[ModRebased]; n > 0 {
		fmt.Fprintf(ew, "; %d of the same at another base (ASLR, not a change)", n)
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, kind := range []string{ModChanged, ModAdded, ModRemoved, ModRebased} {
		for _, c := range m.Changes {
			if c.Change != kind {
				continue
			}
			switch kind {
			case ModAdded:
				fmt.Fprintf(tw, "  +\t%s\t%s\n", c.Name, ModuleLine(c.B))
			case ModRemoved:
				fmt.Fprintf(tw, "  -\t%s\t%s\n", c.Name, ModuleLine(c.A))
			case ModChanged:
				var parts []string
				for _, f := range c.Fields {
					va, vb := ModuleField(c.A, f), ModuleField(c.B, f)
					parts = append(parts, fmt.Sprintf("%s %s → %s", f, orNone(va), orNone(vb)))
				}
				fmt.Fprintf(tw, "  ≠\t%s\t%s\n", c.Name, strings.Join(parts, ", "))
			case ModRebased:
				fmt.Fprintf(tw, "  =\t%s\tbase %s → %s (ASLR)\n", c.Name, c.A.Base, c.B.Base)
			}
		}
	}
	tw.Flush()
	return ew.err
}

func writeFields(w io.Writer, title string, fs []Field) {
	fmt.Fprintf(w, "\n%s\n", title)
	if len(fs) == 0 {
		fmt.Fprintln(w, "  (neither dump says)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fs {
		if f.Same {
			fmt.Fprintf(tw, "  =\t%s\t%s\n", f.Name, f.A)
		} else {
			fmt.Fprintf(tw, "  ≠\t%s\t%s → %s\n", f.Name, orNone(f.A), orNone(f.B))
		}
	}
	tw.Flush()
}

// spot is where a frame is within its function, for the "~" rows.
func spot(f *report.Frame) string {
	s := "+" + orNone(f.Offset)
	if f.File != "" {
		s += " [" + f.File
		if f.Line > 0 {
			s += " @ " + strconv.Itoa(f.Line)
		}
		s += "]"
	} else if f.Line > 0 {
		s += fmt.Sprintf(" [line %d]", f.Line)
	}
	return s
}

// ModuleLine describes a module in one line: version, build or debug id,
// base.
func ModuleLine(m *report.Module) string {
	var parts []string
	if m.Version != "" {
		parts = append(parts, "version "+m.Version)
	}
	if m.BuildID != "" {
		parts = append(parts, "build_id "+m.BuildID)
	} else if m.DebugID != "" {
		parts = append(parts, "debug_id "+m.DebugID)
	}
	parts = append(parts, "base "+m.Base)
	return strings.Join(parts, ", ")
}

// ModuleField returns the value of one of ModuleChange.Fields in m.
func ModuleField(m *report.Module, f string) string {
	switch f {
	case "version":
		return m.Version
	case "build_id":
		return m.BuildID
	case "debug_id":
		return m.DebugID
	case "code_id":
		return m.CodeID
	case "timestamp":
		if m.Timestamp == 0 {
			return ""
		}
		return strconv.FormatInt(m.Timestamp, 10)
	case "size":
		return strconv.FormatUint(m.Size, 10)
	case "path":
		return m.Path
	case "base":
		return m.Base
	}
	return ""
}

func threadName(id *uint64) string {
	if id == nil {
		return "none"
	}
	return "thread " + strconv.FormatUint(*id, 10)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
