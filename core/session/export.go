package session

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/export"
	"github.com/crashbench/crashbench/core/model"
)

// ExportMinimal writes to out a reduced copy of the dump to share, and
// returns what it kept and removed, one line each. A minidump keeps every
// stream and the threads' stacks and loses every other memory range
// (core/export); a kernel dump or a process core becomes its analysis
// plus, where there is one, the kernel log, as text.
func (s *Session) ExportMinimal(ctx context.Context, out string) ([]string, error) {
	if s.Target().Info().Format == model.Minidump {
		f, err := os.Open(s.Path())
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		res, err := export.MinimalMinidump(f, fi.Size(), out)
		if err != nil {
			return nil, err
		}
		return []string{
			fmt.Sprintf("wrote %s (%d bytes, from %d)", out, res.Size, fi.Size()),
			fmt.Sprintf("kept: every stream (threads and their contexts, modules, exception, system information, ...) and %d thread stack range(s), %d bytes", res.KeptRanges, res.KeptBytes),
			fmt.Sprintf("removed: %d other memory range(s), %d bytes (heap, mapped files, full memory)", res.RemovedRanges, res.RemovedBytes),
		}, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "crashbench export --minimal of %s\n\n", s.Path())
	if err := s.Exec(ctx, "!analyze -v", console.NewTextOutput(&b)); err != nil {
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
		return nil, err
	}
	what := fmt.Sprintf("wrote %s: the analysis", out)
	if logLines > 0 {
		what += fmt.Sprintf(" and the kernel log (%d lines)", logLines)
	}
	f := s.Target().Info().Format
	return []string{what + " as text",
		fmt.Sprintf("removed: all of the %s's memory (a reduced %s that the platform's tools open is not written yet)", f, f)}, nil
}
