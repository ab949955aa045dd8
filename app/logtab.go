package app

import (
	"context"
	"regexp"
	"strings"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/analyze"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

// logTab is the view-model of the kernel log tab: it reads the session's
// log off the UI thread, works out which lines are the crash report, and
// hands both to a widgets.LogView.
type logTab struct {
	view *widgets.LogView
	done chan struct{} // closed once the view shows the log or the error
}

// NewLogTab returns the kernel log tab of sess: the log of a vmcore, LiME
// image or FreeBSD minidump, its panic highlighted, or one line saying why
// the dump has no log. It shows a progress bar until the log is read.
// Call it on the UI thread; sess may be nil (the dump did not open).
func NewLogTab(sess *session.Session) fyne.CanvasObject {
	return newLogTab(context.Background(), sess).view
}

func newLogTab(ctx context.Context, sess *session.Session) *logTab {
	t := &logTab{view: widgets.NewLogView(), done: make(chan struct{})}
	if sess == nil {
		t.view.ShowError("The dump is not open.")
		close(t.done)
		return t
	}
	inBackground(ctx, t.done, func() func() {
		lines, err := sess.KernelLog()
		return func() {
			switch {
			case err != nil:
				t.view.ShowError(shortError(err))
			case len(lines) == 0:
				t.view.ShowError("The kernel log is empty.")
			default:
				t.view.SetLines(logLines(lines))
			}
		}
	})
	return t
}

// logLines pairs each log line with whether it is part of the crash report.
func logLines(lines []string) []widgets.LogLine {
	hl := panicLines(lines)
	out := make([]widgets.LogLine, len(lines))
	for i, l := range lines {
		out[i] = widgets.LogLine{Text: l, Highlight: hl[i]}
	}
	return out
}

var (
	// logStamp is dmesg's "[    6.640342] " prefix.
	logStamp = regexp.MustCompile(`^\[\s*\d+\.\d+\]\s?`)
	// traceLine is an entry of a call trace: Linux's
	// " ? vfs_write+0xc7/0x3f0 [mod]" or FreeBSD's "#3 0xffff... at f+0x12".
	traceLine = regexp.MustCompile(`^(\s+(\? )?[A-Za-z_.$][\w.$]*\+0x[0-9a-f]+/0x[0-9a-f]+|#\d+ 0x[0-9a-f]+ at )`)
	// traceMark is an x86 stack-section marker: " <IRQ>", " </TASK>".
	traceMark = regexp.MustCompile(`^\s*</?[A-Z]+>\s*$`)
	// reportStart are the lines that open a crash report, as
	// analyze.ParsePanic recognises them.
	reportStart = []string{
		"Kernel panic - not syncing", "BUG: ", "kernel BUG at ", "Oops: ", "WARNING: ",
		"general protection fault", "Unable to handle kernel ", "panic: ", "Fatal trap ",
	}
)

// panicLines marks the lines of the crash report analyze.ParsePanic finds
// in a kernel log: from its first line ("Kernel panic - not syncing: …",
// "BUG: …", "Oops: …", "panic: …") through the end of the call trace that
// follows. Reports later in the log (the panic an Oops ends in) are marked
// the same way. Nothing is marked when the log reports no crash.
func panicLines(lines []string) []bool {
	marked := make([]bool, len(lines))
	r := analyze.ParsePanic(lines)
	if r == nil {
		return marked
	}
	text := make([]string, len(lines))
	for i, l := range lines {
		text[i] = logStamp.ReplaceAllString(l, "")
	}
	start := -1
	for i := len(text) - 1; i >= 0; i-- {
		if strings.TrimSpace(text[i]) == r.Message {
			start = i
			break
		}
	}
	if start < 0 {
		return marked
	}
	for i := start; i < len(text); {
		if !opensReport(text[i]) {
			i++
			continue
		}
		end := traceEnd(text, i)
		for j := i; j <= end; j++ {
			marked[j] = true
		}
		i = end + 1
	}
	return marked
}

func opensReport(l string) bool {
	for _, p := range reportStart {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// traceEnd returns the last line of the report opened at line start: the
// " </TASK>" closing its call trace, else its last trace entry, else the
// report's first line when no trace follows it before the next report.
// (A "BUG: …" line is followed by its "Oops: …" line: one report, as
// analyze.ParsePanic reads it.)
func traceEnd(text []string, start int) int {
	header := -1
	for i := start + 1; i < len(text); i++ {
		l := text[i]
		if opensReport(l) && i-start > 4 {
			break // the next report; "BUG: …" and "Oops: …" close together are one
		}
		if strings.HasPrefix(l, "Call Trace:") || strings.HasPrefix(l, "Call trace:") || strings.HasPrefix(l, "KDB: stack backtrace:") {
			header = i
			break
		}
	}
	if header < 0 {
		return start
	}
	end, inTask := header, false
	for i := header + 1; i < len(text); i++ {
		l := text[i]
		switch {
		case strings.TrimSpace(l) == "</TASK>":
			return i // the registers inside the task section belong to the trace
		case strings.TrimSpace(l) == "<TASK>":
			inTask = true
			end = i
		case traceLine.MatchString(l) || traceMark.MatchString(l):
			end = i
		case inTask:
			// x86's register dump before " </TASK>"
		default:
			return end
		}
	}
	return end
}
