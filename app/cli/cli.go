// Package cli is Crashbench's headless command line (../shared/spec/cli.md):
// `crashbench info|analyze|run|...`. It runs entirely on core/session, so
// every command works without a display, and it finishes before anything
// touches the GUI toolkit.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/diff"
	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/session"
)

// Exit statuses (cli.md).
const (
	ExitOK       = 0
	ExitUsage    = 1
	ExitBadInput = 2
)

type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand, implemented or not: the ones still to
// come say so plainly instead of pretending.
func commands() []command {
	return []command{
		{"info", "info [--json] [--memory] [--log] FILE", "identify a dump and print its summary", runInfo},
		{"analyze", "analyze [--json] [--sympath P] [--image P] [--sysroot DIR] [--timeout D] FILE", "the !analyze -v report", runAnalyze},
		{"run", "run [--sympath P] [--image P] [--sysroot DIR] [--timeout D] FILE -c \"CMD; CMD\"", "run console commands, like cdb -z FILE -c", runConsole},
		{"index", "index [--db P] [--workers N] PATH...", "add dumps (files, folders) to the workspace index", runIndex},
		{"watch", "watch [--db P] [--stable D] [DIR...]", "index dumps as they appear, once completely written", runWatch},
		{"buckets", "buckets [--db P] [--json] [--correlations KEY] [--timeline [--since DATE]]", "recurring-crash groups (buckets merge|unmerge|move|unmove: regroup by hand)", runBuckets},
		{"prune", "prune [--db P]", "forget indexed files deleted since, and dumps left with none", runPrune},
		{"note", "note [--db P] FILE|--bucket KEY [TEXT...]", "a dump's or a bucket's notes; with TEXT, add one", runNote},
		{"tag", "tag [--db P] [--remove] FILE [TAG...]", "a dump's tags; add (or remove) some", runTag},
		{"search", "search [--db P] [--json] QUERY", "find dumps in the index", runSearch},
		{"diff", "diff [--json] [--sympath P] FILE_A FILE_B", "compare two crashes: system, crash, stacks, modules", runDiff},
		{"secrets", "secrets [--json] [--show] FILE", "scan a dump's memory for what it would leak", runSecrets},
		{"export", "export --minimal FILE OUT", "a reduced copy to share: stacks and streams, no heap", runExport},
		{"config", "config show|plan|check|why|audit ...", "crash-dump settings, sizing, scripts, preflight, hygiene audit", runConfig},
	}
}

// IsSubcommand reports whether args (without the program name) ask for a
// headless command rather than the workbench.
func IsSubcommand(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "help", "-h", "-help", "--help", "version", "--version":
		return true
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return true
		}
	}
	return false
}

// Main runs a subcommand and returns the process exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	defer quietGC()()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, "crashbench", Version)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "crashbench: unknown command %q (see crashbench help)\n", args[0])
	return ExitUsage
}

// quietGC sets the collector up for a command. Most commands run for a
// few milliseconds and exit: the collector is off for their first
// gcGrace, within a gcLimit heap (past which it runs anyway), so they
// finish before a collection would pay off (it cost a third of `run
// VMCORE -c log`); longer commands then collect as usual, less often than
// Go's default (GOGC 400: a few MB more heap for ~10% of a stack walk).
// A GOGC or GOMEMLIMIT in the environment is left alone. The returned
// function stops the timer; the settings stay for the process's last
// moments (switching the collector back on at exit would start a
// collection for nothing), and the next command sets them again.
func quietGC() (done func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(gcLimit)
	t := time.AfterFunc(gcGrace, func() {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(math.MaxInt64)
	})
	return func() { t.Stop() }
}

const (
	gcGrace = 200 * time.Millisecond
	gcLimit = 256 << 20
)

// Version is the program version, set at build time with -ldflags.
var Version = "dev"

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: crashbench [FILE...]        open the workbench")
	fmt.Fprintln(w, "       crashbench COMMAND [ARGS]   run headless")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-42s %s\n", c.usage, c.summary)
	}
	fmt.Fprintln(w, "\nexit status: 0 done, 1 bad usage, 2 a file could not be opened or understood")
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("info FILE --json" as well as "info --json FILE").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneFile parses a subcommand's flags, which may come before or after the
// file, and requires exactly one file; on failure it has printed why.
func oneFile(fs *flag.FlagSet, args []string) (string, bool) {
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return "", false
	}
	if len(files) != 1 {
		fs.Usage()
		return "", false
	}
	return files[0], true
}

// writeJSON prints v as the indented JSON report.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runInfo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("info", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the JSON report")
	memory := fs.Bool("memory", false, "list the captured memory ranges")
	logs := fs.Bool("log", false, "print the kernel log")
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: crashbench info [--json] [--memory] [--log] FILE") }
	path, ok := oneFile(fs, args)
	if !ok {
		return ExitUsage
	}
	s, err := session.Open(ctx, path, session.Options{})
	if err != nil {
		return fail(stderr, path, err)
	}
	defer s.Close()
	r, err := s.Report(session.ReportOptions{Memory: *memory, Log: *logs})
	if errors.Is(err, session.ErrNoLog) {
		fmt.Fprintf(stderr, "crashbench: %s: --log: %v\n", path, err)
		r, err = s.Report(session.ReportOptions{Memory: *memory})
	}
	if err != nil {
		return fail(stderr, path, err)
	}
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return fail(stderr, path, err)
		}
		return ExitOK
	}
	if err := r.WriteText(stdout); err != nil {
		return fail(stderr, path, err)
	}
	return ExitOK
}

// fail prints one line naming the file, what it looks like, the offset and
// what is wrong, and returns exit status 2.
func fail(stderr io.Writer, path string, err error) int {
	var de *dump.Error
	var pe *os.PathError
	switch {
	case errors.As(err, &de):
		fmt.Fprintln(stderr, "crashbench: "+oneLine(de.Error()))
	case errors.As(err, &pe):
		fmt.Fprintf(stderr, "crashbench: %s: %v\n", path, pe.Err)
	default:
		fmt.Fprintf(stderr, "crashbench: %s: %s\n", path, oneLine(err.Error()))
	}
	return ExitBadInput
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the JSON report")
	opts := symbolFlags(fs)
	timeoutFlag(fs, opts)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench analyze [--json] [--sympath P] [--offline] [--image P] [--sysroot DIR] [--timeout D] FILE")
	}
	path, ok := oneFile(fs, args)
	if !ok {
		return ExitUsage
	}
	ctx, cancel := withTimeout(ctx, opts)
	defer cancel()
	s, err := session.Open(ctx, path, *opts)
	if err != nil {
		return fail(stderr, path, err)
	}
	defer s.Close()
	r, a, err := s.AnalysisReport(ctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = &session.TimeoutError{Command: "analyze", Limit: opts.CommandTimeout}
	}
	if err != nil {
		return fail(stderr, path, err)
	}
	if *asJSON {
		if err := writeJSON(stdout, r); err != nil {
			return fail(stderr, path, err)
		}
		return ExitOK
	}
	session.WriteAnalysisText(stdout, a, s.SymbolNotes())
	return ExitOK
}

// symbolFlags declares the options that say where symbols and images
// are, and returns the session options they fill in when fs is parsed.
func symbolFlags(fs *flag.FlagSet) *session.Options {
	o := &session.Options{}
	fs.StringVar(&o.SymPath, "sympath", "", "symbol path, WinDbg's syntax (DIR;srv*CACHE*URL); default $_NT_ALT_SYMBOL_PATH;$_NT_SYMBOL_PATH")
	fs.BoolVar(&o.Offline, "offline", false, "do not ask symbol servers or debuginfod; read only what their caches hold")
	fs.StringVar(&o.ImagePath, "image", "", "executables and libraries, files or folders separated by ; (gdb's file, WinDbg's -i)")
	fs.StringVar(&o.Sysroot, "sysroot", "", "folder holding the crashed machine's files (gdb's set sysroot)")
	return o
}

// timeoutFlag declares --timeout, the limit of one command or analysis.
func timeoutFlag(fs *flag.FlagSet, o *session.Options) {
	fs.DurationVar(&o.CommandTimeout, "timeout", session.DefaultCommandTimeout, "stop a command or an analysis that runs longer (e.g. 30s, 10m; 0: no limit)")
}

// withTimeout bounds an analysis as Session.Exec bounds a command, with
// the same --timeout; 0 on the command line means no limit.
func withTimeout(ctx context.Context, o *session.Options) (context.Context, context.CancelFunc) {
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = -1 // the session's "no limit"
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, o.CommandTimeout)
}

// runConsole is `crashbench run FILE -c "CMD; CMD"`: each command is
// printed after the prompt, as cdb echoes it, followed by its output.
func runConsole(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	opts := symbolFlags(fs)
	timeoutFlag(fs, opts)
	cmds := fs.String("c", "", "console commands, separated by ;")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: crashbench run [--sympath P] [--offline] [--image P] [--sysroot DIR] [--timeout D] FILE -c "CMD; CMD"`)
	}
	path, ok := oneFile(fs, args)
	if !ok {
		return ExitUsage
	}
	if strings.TrimSpace(*cmds) == "" {
		fs.Usage()
		return ExitUsage
	}
	// Bad command syntax is bad usage: say so before reading the dump.
	lines, err := console.ParseLine(*cmds)
	if err != nil {
		fmt.Fprintf(stderr, "crashbench run: %v\n", err)
		return ExitUsage
	}
	if opts.CommandTimeout == 0 {
		opts.CommandTimeout = -1 // --timeout 0: no limit
	}
	s, err := session.Open(ctx, path, *opts)
	if err != nil {
		return fail(stderr, path, err)
	}
	defer s.Close()
	out := console.NewTextOutput(stdout)
	for _, inv := range lines {
		fmt.Fprintf(stdout, "%s %s\n", s.Prompt(), inv.Raw)
		if err := s.Exec(ctx, inv.Raw, out); err != nil {
			fmt.Fprintln(stdout, err)
		}
	}
	return ExitOK
}

// runDiff is `crashbench diff FILE_A FILE_B`: both dumps are analyzed with
// the same symbol options and compared (core/diff).
func runDiff(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the comparison as JSON")
	opts := symbolFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench diff [--json] [--sympath P] [--offline] [--image P] [--sysroot DIR] FILE_A FILE_B")
	}
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(files) != 2 {
		fs.Usage()
		return ExitUsage
	}
	var reps [2]*report.Report
	for i, path := range files {
		s, err := session.Open(ctx, path, *opts)
		if err != nil {
			return fail(stderr, path, err)
		}
		r, _, err := s.AnalysisReport(ctx)
		s.Close()
		if err != nil {
			return fail(stderr, path, err)
		}
		reps[i] = r
	}
	d := diff.Reports(reps[0], reps[1])
	if *asJSON {
		err = d.WriteJSON(stdout)
	} else {
		err = d.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "crashbench diff: %v\n", err)
		return ExitBadInput
	}
	return ExitOK
}
