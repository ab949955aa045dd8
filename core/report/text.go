package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Row is one labelled line of the human summary.
type Row struct {
	Key, Value string
}

// Summary returns the report as labelled rows, in the order a support
// engineer reads them: what the file is, the system, then the crash. The
// CLI prints them; the workbench shows them in its summary pane.
func (r *Report) Summary() []Row {
	var rows []Row
	add := func(k, v string) {
		if v != "" {
			rows = append(rows, Row{k, v})
		}
	}
	if r.File != nil {
		add("File", fmt.Sprintf("%s (%s)", r.File.Path, bytesize(r.File.Size)))
	}
	if len(r.Containers) > 0 {
		add("Container", strings.Join(r.Containers, " → "))
	} else {
		add("Container", r.Container)
	}
	format := r.Format
	if r.Variant != "" {
		format += " (" + r.Variant
		if r.Compression != "" {
			format += ", " + r.Compression
		}
		format += ")"
	}
	add("Format", format)
	// What crashed comes first: it is what the engineer opened the dump for.
	if c := r.Crash; c != nil {
		add("Crash", crashLine(c))
		add("Message", c.Message)
	}
	if r.OS != nil {
		os := strings.TrimSpace(strings.Join([]string{r.OS.Family, r.OS.Version}, " "))
		if r.OS.Release != "" && !strings.Contains(r.OS.Version, r.OS.Release) {
			os += " release " + r.OS.Release
		}
		if r.OS.Build != "" && !strings.Contains(r.OS.Version, r.OS.Build) {
			os += " (" + r.OS.Build + ")"
		}
		add("OS", os)
	}
	arch := r.Arch
	if r.ABI != "" {
		arch += " (" + r.ABI + " ABI)"
	}
	add("Arch", arch)
	if r.CPUs > 0 {
		add("CPUs", fmt.Sprint(r.CPUs))
	}
	if r.Time != nil {
		add("Time", r.Time.Crash)
		if r.Time.UptimeSeconds > 0 {
			add("Uptime", fmt.Sprintf("%d s", r.Time.UptimeSeconds))
		}
	}
	if p := r.Process; p != nil {
		s := p.Name
		if p.PID != 0 {
			s = strings.TrimSpace(fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
		}
		add("Process", s)
		add("Command line", p.CommandLine)
	}
	if r.ThreadCount != nil {
		add("Threads", fmt.Sprint(*r.ThreadCount))
	}
	if r.ModuleCount != nil {
		add("Modules", fmt.Sprint(*r.ModuleCount))
	}
	for _, d := range r.Details {
		add(d.Key, d.Value)
	}
	return rows
}

func crashLine(c *Crash) string {
	if (c.Kind == "panic" || c.Kind == "oops") && c.CodeHex == "" {
		// A kernel's own words say it all ("Kernel panic - not
		// syncing: …"); its task is a process id.
		s := c.Name
		if c.ThreadID != nil {
			s += fmt.Sprintf(" (PID %d)", *c.ThreadID)
		}
		return s
	}
	var parts []string
	if c.Kind != "" {
		parts = append(parts, c.Kind)
	}
	if c.CodeHex != "" {
		parts = append(parts, c.CodeHex)
	}
	if c.Name != "" {
		parts = append(parts, c.Name)
	}
	s := strings.Join(parts, " ")
	if c.Address != "" {
		s += " at " + c.Address
	}
	if c.PC != "" {
		s += ", pc " + c.PC
	}
	if len(c.Parameters) > 0 {
		s += ", parameters " + strings.Join(c.Parameters, " ")
	}
	if c.ThreadID != nil {
		if *c.ThreadID >= 1<<32 {
			// A kernel dump names its thread by the ETHREAD address.
			s += fmt.Sprintf(", thread %#x", *c.ThreadID)
		} else {
			s += fmt.Sprintf(", thread %d (%#x)", *c.ThreadID, *c.ThreadID)
		}
	}
	return s
}

func bytesize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB, %d bytes", float64(n)/float64(div), "KMGTPE"[exp], n)
}

// WriteText prints the summary, then memory ranges, log lines and
// diagnostics when present.
func (r *Report) WriteText(w io.Writer) error {
	var buf bytes.Buffer
	r.writeText(&buf)
	// tabwriter pads empty last columns; drop trailing blanks.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

func (r *Report) writeText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range r.Summary() {
		fmt.Fprintf(tw, "%s:\t%s\n", row.Key, row.Value)
	}
	tw.Flush()
	if len(r.Memory) > 0 {
		fmt.Fprintf(w, "\nMemory: %d %s\n", len(r.Memory), plural(len(r.Memory), "range", "ranges"))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  base\tsize\tprotect\tstate\tfile offset\tlabel")
		for _, m := range r.Memory {
			off := "-"
			if m.FileOff != nil {
				off = fmt.Sprintf("%#x", *m.FileOff)
			}
			base := m.Base
			if m.Space != "" {
				base += " (" + m.Space + ")"
			}
			fmt.Fprintf(tw, "  %s\t%#x\t%s\t%s\t%s\t%s\n", base, m.Size, m.Protect, m.State, off, m.Label)
		}
		tw.Flush()
	}
	if len(r.Log) > 0 {
		fmt.Fprintln(w, "\nLog:")
		for _, l := range r.Log {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if len(r.Diagnostics) > 0 {
		fmt.Fprintf(w, "\nDiagnostics: %d\n", len(r.Diagnostics))
		for _, d := range r.Diagnostics {
			if d.Offset != nil {
				fmt.Fprintf(w, "  %s at offset %#x: %s\n", d.Severity, *d.Offset, d.Message)
			} else {
				fmt.Fprintf(w, "  %s: %s\n", d.Severity, d.Message)
			}
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
