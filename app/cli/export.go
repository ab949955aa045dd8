package cli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/crashbench/crashbench/core/session"
)

// runExport is `crashbench export --minimal FILE OUT`: a reduced copy to
// share. A minidump keeps its streams and the threads' stacks and loses
// every other memory range (core/export); a kernel dump or a process core
// becomes the analysis plus, where there is one, the kernel log, as text
// (session.ExportMinimal). It says what was removed.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	minimal := fs.Bool("minimal", false, "write the reduced copy (the only kind of export so far)")
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: crashbench export --minimal FILE OUT") }
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(files) != 2 || !*minimal {
		fs.Usage()
		return ExitUsage
	}
	in, out := files[0], files[1]
	s, err := session.Open(ctx, in, session.Options{Offline: true})
	if err != nil {
		return fail(stderr, in, err)
	}
	defer s.Close()
	lines, err := s.ExportMinimal(ctx, out)
	if err != nil {
		fmt.Fprintf(stderr, "crashbench export: %s: %v\n", in, err)
		return ExitBadInput
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	return ExitOK
}
