package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/export"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
)

// runExport is `crashbench export --minimal FILE OUT`: a reduced copy to
// share. A minidump keeps its streams and the threads' stacks and loses
// every other memory range (core/export); a kernel dump or a process core
// becomes the analysis plus, where there is one, the kernel log, as text.
// It says what was removed.
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
	if s.Target().Info().Format == model.Minidump {
		return exportMinidump(s, out, stdout, stderr)
	}
	return exportText(ctx, s, out, stdout, stderr)
}

func exportMinidump(s *session.Session, out string, stdout, stderr io.Writer) int {
	// The unpacked file when the dump came in a container.
	f, err := os.Open(s.Path())
	if err != nil {
		return fail(stderr, s.Path(), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail(stderr, s.Path(), err)
	}
	res, err := export.MinimalMinidump(f, fi.Size(), out)
	if err != nil {
		fmt.Fprintf(stderr, "crashbench export: %s: %v\n", s.Path(), err)
		return ExitBadInput
	}
	fmt.Fprintf(stdout, "wrote %s (%d bytes, from %d)\n", out, res.Size, fi.Size())
	fmt.Fprintf(stdout, "kept: every stream (threads and their contexts, modules, exception, system information, ...) and %d thread stack range(s), %d bytes\n", res.KeptRanges, res.KeptBytes)
	fmt.Fprintf(stdout, "removed: %d other memory range(s), %d bytes (heap, mapped files, full memory)\n", res.RemovedRanges, res.RemovedBytes)
	return ExitOK
}

// exportText writes the analysis (and the kernel log) of a dump whose
// memory cannot be cut down to a dump the platform's tools still open.
func exportText(ctx context.Context, s *session.Session, out string, stdout, stderr io.Writer) int {
	var b strings.Builder
	fmt.Fprintf(&b, "crashbench export --minimal of %s\n\n", s.Path())
	o := console.NewTextOutput(&b)
	if err := s.Exec(ctx, "!analyze -v", o); err != nil {
		fmt.Fprintf(&b, "(analysis failed: %v)\n", err)
	}
	logLines := 0
	if log, err := s.KernelLog(); err == nil {
		b.WriteString("\n----- kernel log -----\n")
		for _, l := range log {
			b.WriteString(l)
			b.WriteByte('\n')
		}
		logLines = len(log)
	}
	if err := os.WriteFile(out, []byte(b.String()), 0o600); err != nil {
		fmt.Fprintf(stderr, "crashbench export: %v\n", err)
		return ExitBadInput
	}
	fmt.Fprintf(stdout, "wrote %s: the analysis", out)
	if logLines > 0 {
		fmt.Fprintf(stdout, " and the kernel log (%d lines)", logLines)
	}
	fmt.Fprintf(stdout, " as text\nremoved: all of the %s's memory (a reduced %s the platform's tools open is not written yet)\n",
		s.Target().Info().Format, s.Target().Info().Format)
	return ExitOK
}
