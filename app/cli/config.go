package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crashbench/crashbench/platform/crashcfg"
)

// runConfig is `crashbench config show|plan|check|why|audit`.
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, `usage: crashbench config show [--json] [--root DIR]
       crashbench config plan [--os windows|linux|freebsd --ram SIZE] --goal bsod|app|hang|panic|service
                              [--free SIZE] [--client] [--release R] [--out DIR] [--json]
       crashbench config check [--json] [--root DIR]
       crashbench config why [--json] [--root DIR]
       crashbench config audit [--json] [DIR...]`)
	}
	if len(args) == 0 {
		usage()
		return ExitUsage
	}
	switch args[0] {
	case "show":
		return configShow(args[1:], stdout, stderr)
	case "plan":
		return configPlan(args[1:], stdout, stderr)
	case "check":
		return configCheck(args[1:], stdout, stderr, false)
	case "why":
		return configCheck(args[1:], stdout, stderr, true)
	case "audit":
		return configAudit(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "crashbench config: unknown subcommand %q\n", args[0])
	usage()
	return ExitUsage
}

// printJSON prints v as indented JSON and returns the exit status.
func printJSON(w io.Writer, v any) int {
	if err := writeJSON(w, v); err != nil {
		return ExitBadInput
	}
	return ExitOK
}

// readHere reads this machine, saying on stderr what could not be read.
func readHere(root string, stderr io.Writer) (crashcfg.Config, crashcfg.Machine, bool) {
	c, m, err := crashcfg.ReadThis(root)
	if err != nil {
		fmt.Fprintf(stderr, "crashbench config: %v\n", err)
		if c.OS == "" {
			return c, m, false
		}
	}
	return c, m, true
}

func configShow(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	root := fs.String("root", "/", "the filesystem root to read (Linux, FreeBSD)")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return ExitUsage
	}
	c, m, ok := readHere(*root, stderr)
	if !ok {
		return ExitBadInput
	}
	settings := c.Settings()
	if *asJSON {
		return printJSON(stdout, struct {
			Machine  crashcfg.Machine   `json:"machine"`
			Settings []crashcfg.Setting `json:"settings"`
		}{m, settings})
	}
	fmt.Fprintf(stdout, "%s %s %s, %s of memory\n", m.OS, m.Release, m.Arch, crashcfg.FormatSize(m.RAM))
	for _, d := range m.Disks {
		fmt.Fprintf(stdout, "disk %s: %s free of %s\n", d.Mount, crashcfg.FormatSize(d.Free), crashcfg.FormatSize(d.Size))
	}
	group := ""
	for _, s := range settings {
		if s.Group != group {
			group = s.Group
			fmt.Fprintf(stdout, "\n%s\n", group)
		}
		v := s.Value
		if !s.Set {
			v = "(unset; default " + orDash(s.Default) + ")"
		}
		fmt.Fprintf(stdout, "  %s = %s\n      %s\n", s.Key, v, s.Meaning)
	}
	return ExitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func configPlan(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	osName := fs.String("os", "", "plan for another machine: windows, linux or freebsd (default: this machine)")
	ram := fs.String("ram", "", "the planned machine's memory, e.g. 64GiB")
	free := fs.String("free", "", "the planned machine's free space for dumps, e.g. 200GiB")
	client := fs.Bool("client", false, "the planned Windows machine is a client edition (10/11)")
	release := fs.String("release", "", "the planned machine's release, e.g. \"debian 12\", \"rhel 9\"")
	goal := fs.String("goal", "", "bsod, app, hang, panic or service")
	out := fs.String("out", "", "write the scripts into this folder")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return ExitUsage
	}
	g := crashcfg.Goal(*goal)
	if !validGoal(g) {
		fmt.Fprintln(stderr, "crashbench config plan: --goal must be bsod, app, hang, panic or service")
		return ExitUsage
	}
	var c crashcfg.Config
	var m crashcfg.Machine
	if *osName == "" {
		var ok bool
		if c, m, ok = readHere("/", stderr); !ok {
			return ExitBadInput
		}
	} else {
		var err error
		if c, err = crashcfg.Planned(crashcfg.OS(*osName)); err != nil {
			fmt.Fprintf(stderr, "crashbench config plan: %v\n", err)
			return ExitUsage
		}
		size, err := crashcfg.ParseSize(*ram)
		if err != nil || size == 0 {
			fmt.Fprintln(stderr, "crashbench config plan: --os needs --ram, e.g. --ram 64GiB")
			return ExitUsage
		}
		m = crashcfg.Machine{OS: c.OS, RAM: size, Arch: "amd64", Release: *release, Client: *client}
		d := crashcfg.Disk{Mount: "C:", Boot: true}
		if c.OS != crashcfg.Windows {
			d.Mount = "/"
		}
		if *free != "" {
			if d.Free, err = crashcfg.ParseSize(*free); err != nil {
				fmt.Fprintf(stderr, "crashbench config plan: --free: %v\n", err)
				return ExitUsage
			}
			d.Size = d.Free
			m.Disks = []crashcfg.Disk{d}
		}
	}
	p, err := c.Plan(m, g)
	if err != nil {
		fmt.Fprintf(stderr, "crashbench config plan: %v\n", err)
		return ExitUsage
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintf(stderr, "crashbench config plan: %v\n", err)
			return ExitBadInput
		}
		for _, s := range p.Scripts {
			mode := os.FileMode(0o644)
			if strings.HasSuffix(s.Name, ".sh") {
				mode = 0o755
			}
			path := filepath.Join(*out, filepath.Base(s.Name))
			if err := os.WriteFile(path, []byte(s.Text), mode); err != nil {
				fmt.Fprintf(stderr, "crashbench config plan: %v\n", err)
				return ExitBadInput
			}
			fmt.Fprintf(stderr, "wrote %s\n", path)
		}
	}
	if *asJSON {
		return printJSON(stdout, p)
	}
	writePlan(stdout, p, *out == "")
	return ExitOK
}

func validGoal(g crashcfg.Goal) bool {
	for _, x := range crashcfg.Goals {
		if x == g {
			return true
		}
	}
	return false
}

func writeEstimate(w io.Writer, label string, e crashcfg.Estimate) {
	about := ""
	if e.Estimate {
		about = "about "
	}
	fmt.Fprintf(w, "%s: %s%s", label, about, crashcfg.FormatSize(e.Bytes))
	if e.Time > 0 {
		fmt.Fprintf(w, ", about %s to write", e.Time.Round(time.Second))
	}
	fmt.Fprintln(w)
	if e.Basis != "" {
		fmt.Fprintf(w, "  %s\n", e.Basis)
	}
	if e.Source != "" {
		fmt.Fprintf(w, "  source: %s\n", e.Source)
	}
}

func writePlan(w io.Writer, p crashcfg.Plan, withScripts bool) {
	fmt.Fprintf(w, "Goal: %s on %s\nDump: %s\nWhy: %s\nAnswers: %s\nHolds: %s\n", p.Goal, p.OS, p.DumpType, p.Why, p.Answers, p.Privacy)
	writeEstimate(w, "Size", p.Size)
	writeEstimate(w, "Space needed", p.Space)
	fmt.Fprintln(w, "\nChanges:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range p.Changes {
		from := c.From
		if from == "" {
			from = "(unset)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t->\t%s\t%s\n", c.Key, from, c.To, c.Why)
	}
	tw.Flush()
	if len(p.Changes) == 0 {
		fmt.Fprintln(w, "  none: already set up")
	}
	fmt.Fprintf(w, "\nTest: %s\n", p.Test)
	for _, n := range p.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	for _, s := range p.Scripts {
		if withScripts {
			fmt.Fprintf(w, "\n----- %s -----\n%s", s.Name, s.Text)
			if !strings.HasSuffix(s.Text, "\n") {
				fmt.Fprintln(w)
			}
		} else {
			fmt.Fprintf(w, "Script: %s\n", s.Name)
		}
	}
}

// configCheck is the preflight (check) and its ranking of causes (why).
func configCheck(args []string, stdout, stderr io.Writer, why bool) int {
	name := "config check"
	if why {
		name = "config why"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	root := fs.String("root", "/", "the filesystem root to read (Linux, FreeBSD)")
	if fs.Parse(args) != nil || fs.NArg() > 0 {
		return ExitUsage
	}
	c, m, ok := readHere(*root, stderr)
	if !ok {
		return ExitBadInput
	}
	checks := c.Check(m)
	if why {
		causes := crashcfg.Explain(checks)
		if *asJSON {
			return printJSON(stdout, causes)
		}
		if len(causes) == 0 {
			fmt.Fprintln(stdout, "Every check passes: a crash now should leave a dump.")
			return ExitOK
		}
		fmt.Fprintln(stdout, "Likely reasons a crash leaves no dump, most likely first:")
		for _, c := range causes {
			fmt.Fprintf(stdout, "%d. [%s] %s: %s\n", c.Rank, c.Status, c.Title, c.Reason)
			if c.Fix != "" {
				fmt.Fprintf(stdout, "   fix: %s\n", c.Fix)
			}
		}
		return ExitOK
	}
	if *asJSON {
		return printJSON(stdout, checks)
	}
	failed := 0
	for _, c := range checks {
		fmt.Fprintf(stdout, "%-7s %s: %s\n", strings.ToUpper(string(c.Status)), c.Title, c.Reason)
		if c.Fix != "" && c.Status != crashcfg.Pass {
			fmt.Fprintf(stdout, "        fix: %s\n", c.Fix)
		}
		if c.Status == crashcfg.Fail {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d check(s) fail: the next crash may leave no dump (crashbench config why ranks them).\n", failed)
	} else {
		fmt.Fprintln(stdout, "\nNo check fails.")
	}
	return ExitOK
}

func configAudit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	dirs, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	paths := append(crashcfg.AuditLocations(crashcfg.ThisOS(), "", os.Getenv), dirs...)
	found, errs := crashcfg.Audit(paths)
	for _, e := range errs {
		fmt.Fprintf(stderr, "crashbench config audit: %v\n", e)
	}
	if *asJSON {
		return printJSON(stdout, found)
	}
	fmt.Fprintf(stdout, "Looked in: %s\n", strings.Join(paths, ", "))
	exposed := 0
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, f := range found {
		who := "owner only"
		if f.Exposed != "" {
			who = f.Exposed + "-readable"
			exposed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Path, f.Kind, crashcfg.FormatSize(uint64(f.Size)),
			age(f.Modified), orDash(f.Owner), f.Mode, who)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%d dump(s), %d readable by others\n", len(found), exposed)
	if exposed > 0 {
		fmt.Fprintln(stdout, "\nDumps hold whatever was in memory: passwords, session tokens, keys. To make them private:")
		for _, f := range found {
			if f.Fix != "" {
				fmt.Fprintf(stdout, "  %s\n", f.Fix)
			}
		}
	}
	return ExitOK
}

// age says how old a file is, in days when over one.
func age(t time.Time) string {
	d := time.Since(t)
	if d < 48*time.Hour {
		return fmt.Sprintf("%dh old", int(d.Hours()))
	}
	return fmt.Sprintf("%dd old", int(d.Hours()/24))
}
