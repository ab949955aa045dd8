package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/session"
)

// runSecrets is `crashbench secrets FILE`: what the dump's memory would
// leak if shared (core/secrets), with the values redacted unless --show.
// Finding secrets is not a failure: the exit status is 0 either way, and
// 2 only when the dump cannot be read.
func runSecrets(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("secrets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	show := fs.Bool("show", false, "print the secrets themselves, not just a redacted preview")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench secrets [--json] [--show] FILE")
		fmt.Fprintln(stderr, "exit status 0 whether or not secrets are found, 2 when FILE cannot be read")
	}
	path, ok := oneFile(fs, args)
	if !ok {
		return ExitUsage
	}
	// Offline: a scan for what would leak must not itself reach out to
	// symbol servers, and needs no symbols.
	s, err := session.Open(ctx, path, session.Options{Offline: true})
	if err != nil {
		return fail(stderr, path, err)
	}
	defer s.Close()
	rep, scanErr := s.ScanSecrets(ctx, *show, nil)
	if rep == nil {
		return fail(stderr, path, scanErr)
	}
	if *asJSON {
		err = writeJSON(stdout, rep)
	} else {
		err = writeSecrets(stdout, rep, console.PointerSize(s.Target().Info().Arch))
	}
	if err != nil {
		return fail(stderr, path, err)
	}
	if scanErr != nil {
		// Cancelled or timed out: what was printed is partial.
		return fail(stderr, path, fmt.Errorf("secrets scan stopped: %w", scanErr))
	}
	return ExitOK
}

// writeSecrets prints the summary, the counts per kind and one line per
// finding.
func writeSecrets(w io.Writer, rep *secrets.Report, ptrSize int) error {
	if rep.Physical {
		ptrSize = 8 // physical addresses are 64-bit whatever the CPU mode
	}
	fmt.Fprintln(w, rep.Summary()+".")
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "Note:", n)
	}
	if rep.Total == 0 {
		return nil
	}
	fmt.Fprintln(w, "What sharing this dump would leak:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, k := range secrets.Kinds() {
		if n := rep.Counts[k]; n > 0 {
			fmt.Fprintf(tw, "  %d\t%s\n", n, k)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tADDRESS\tWHERE\tCONTEXT\tVALUE")
	for _, f := range rep.Findings {
		where := f.Where()
		if where == "" {
			where = "-"
		}
		value := f.Preview
		if rep.Shown {
			value = secrets.Printable(f.Value)
		}
		context := f.Context
		if context == "" {
			context = "-"
		}
		// The value comes last: shown in full (--show) it may be long.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Kind, console.FormatAddr(f.Addr, ptrSize), where, context, value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rep.Omitted > 0 {
		fmt.Fprintf(w, "(%d more not listed: the list keeps the first of each kind)\n", rep.Omitted)
	}
	if !rep.Shown {
		fmt.Fprintln(w, "Values are redacted; --show prints them.")
	}
	return nil
}
