package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/widgets"
)

const (
	// historyLimit bounds the console history; the oldest lines go first.
	historyLimit = 500
	// completionLimit bounds how many candidates a Tab lists.
	completionLimit = 200
	// flushBytes and flushEvery bound how much output waits before it
	// is handed to the view: often enough to show progress, in chunks
	// large enough that a long listing does not redraw per line.
	flushBytes = 64 << 10
	flushEvery = 50 * time.Millisecond
)

// ConsoleModel is the view-model of one dump's console tab. It runs the
// lines the widgets.Console submits against a session, one at a time on a
// background goroutine, and streams their output back to the view on the
// UI thread. It owns the history and answers completion.
//
// Its methods other than Wait and Running are called on the UI thread (the
// view's callbacks are).
type ConsoleModel struct {
	// Navigate, when set, carries out a link's navigation (see links.go):
	// kind is viewAddr, viewExpr, viewModule or viewThread.
	Navigate func(kind, arg string)

	sess *session.Session
	view *widgets.Console

	// exec runs one line; it is sess.Exec, replaceable by tests.
	exec func(ctx context.Context, line string, out console.Output) error

	history []string
	histPos int // index into history while walking it; len(history) is the new line

	mu      sync.Mutex
	cancel  context.CancelFunc // of the running command, nil when idle
	done    chan struct{}      // closed when the running command has finished
	closed  bool
	cmdName []string // command names for completion, sorted
}

// ConsoleTab is a console ready to put in a tab: Object is the view, and
// Close stops a running command when the tab or its dump closes.
type ConsoleTab struct {
	*ConsoleModel
	Object fyne.CanvasObject
}

// NewConsoleTab returns a console on sess. The caller keeps owning sess;
// call Close before closing it.
func NewConsoleTab(sess *session.Session) *ConsoleTab {
	v := widgets.NewConsole(sess.Prompt())
	return &ConsoleTab{ConsoleModel: NewConsoleModel(sess, v), Object: v}
}

// NewConsoleModel connects view to sess.
func NewConsoleModel(sess *session.Session, view *widgets.Console) *ConsoleModel {
	m := &ConsoleModel{sess: sess, view: view, exec: sess.Exec}
	for _, c := range console.Builtins() {
		m.cmdName = append(m.cmdName, c.Names...)
	}
	slices.SortFunc(m.cmdName, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	m.cmdName = slices.Compact(m.cmdName)
	view.OnSubmit = m.Submit
	view.OnHistory = m.History
	view.OnComplete = m.Complete
	view.OnLink = m.link
	view.OnCancel = m.Cancel
	view.SetPrompt(sess.Prompt())
	return m
}

// link follows a tapped link: a navigation goes to the view it names,
// anything else runs as a command.
func (m *ConsoleModel) link(command string) {
	if kind, arg, ok := parseView(command); ok {
		if m.Navigate != nil {
			m.Navigate(kind, arg)
		}
		return
	}
	m.Submit(command)
}

// View returns the console widget.
func (m *ConsoleModel) View() *widgets.Console { return m.view }

// Submit runs line as typed: it is echoed after the prompt, added to the
// history and run in the background. ".cls" clears the output instead. A
// line submitted while a command runs is refused with a message.
func (m *ConsoleModel) Submit(line string) {
	m.remember(line)
	cmd := strings.TrimSpace(line)
	if m.Running() {
		m.view.AppendText("Still running the last command: press Escape or Stop to cancel it.\n")
		return
	}
	if strings.EqualFold(cmd, ".cls") {
		m.view.Clear()
		return
	}
	m.view.AppendText(m.sess.Prompt() + " " + line + "\n")
	if cmd == "" {
		return
	}

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	m.cancel, m.done = cancel, done
	m.mu.Unlock()
	m.view.SetBusy(true)

	out := newStreamOutput(m.view)
	go func() {
		defer close(done)
		defer cancel()
		stop := out.flushPeriodically(flushEvery)
		err := m.exec(ctx, line, out)
		stop()
		if err != nil {
			switch {
			case errors.Is(err, context.Canceled) || ctx.Err() != nil:
				out.Text("Command cancelled.\n")
			default:
				out.Text(err.Error() + "\n")
			}
		}
		out.flush()
		prompt := m.sess.Prompt()
		onUI(func() {
			m.mu.Lock()
			if m.done == done {
				m.cancel, m.done = nil, nil
			}
			m.mu.Unlock()
			m.view.SetPrompt(prompt)
			m.view.SetBusy(false)
		})
	}()
}

// Running reports whether a command is running.
func (m *ConsoleModel) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cancel != nil
}

// Cancel stops the running command, if any (Escape, Stop).
func (m *ConsoleModel) Cancel() {
	m.mu.Lock()
	c := m.cancel
	m.mu.Unlock()
	if c != nil {
		c()
	}
}

// Wait blocks until the running command, if any, has finished and its
// last output and prompt have been passed to fyne.Do (under the test
// driver, which runs them at once: until the view shows them).
func (m *ConsoleModel) Wait() {
	m.mu.Lock()
	d := m.done
	m.mu.Unlock()
	if d != nil {
		<-d
	}
}

// Close cancels the running command and waits (up to closeWait) for it to
// stop, so that the session can be closed. Later submits are ignored.
func (m *ConsoleModel) Close() {
	m.mu.Lock()
	m.closed = true
	d := m.done
	m.mu.Unlock()
	m.Cancel()
	if d != nil {
		select {
		case <-d:
		case <-time.After(closeWait):
		}
	}
}

// closeWait bounds how long Close waits for a cancelled command.
const closeWait = 2 * time.Second

// remember adds line to the history unless it is blank or repeats the
// last entry, and starts the next walk from the newest entry.
func (m *ConsoleModel) remember(line string) {
	if strings.TrimSpace(line) != "" && (len(m.history) == 0 || m.history[len(m.history)-1] != line) {
		m.history = append(m.history, line)
		if n := len(m.history) - historyLimit; n > 0 {
			m.history = slices.Delete(m.history, 0, n)
		}
	}
	m.histPos = len(m.history)
}

// History returns the line delta steps from the current place in the
// history (-1 older, +1 newer); stepping past the newest gives "" (a new
// line). ok is false at the oldest entry, or when already on the new line.
func (m *ConsoleModel) History(delta int) (line string, ok bool) {
	p := m.histPos + delta
	if p < 0 || p > len(m.history) || delta == 0 {
		return "", false
	}
	m.histPos = p
	if p == len(m.history) {
		return "", true
	}
	return m.history[p], true
}

// HistoryLines returns a copy of the history, oldest first.
func (m *ConsoleModel) HistoryLines() []string { return slices.Clone(m.history) }

// Complete returns candidates for the word at the end of prefix (as
// widgets.CompletionWord splits it): command names for the first word of a
// command, symbols for a word holding "!" after its first character
// ("app!ma" → "app!main"). At most completionLimit are returned.
func (m *ConsoleModel) Complete(prefix string) []string {
	head, word := widgets.CompletionWord(prefix)
	first := strings.TrimSpace(head) == "" || strings.HasSuffix(strings.TrimSpace(head), ";")
	if i := strings.Index(word, "!"); i > 0 {
		return m.completeSymbol(word[:i], word[i+1:])
	}
	if !first || word == "" {
		return nil
	}
	var out []string
	for _, n := range m.cmdName {
		if len(n) >= len(word) && strings.EqualFold(n[:len(word)], word) {
			out = append(out, n)
			if len(out) == completionLimit {
				break
			}
		}
	}
	return out
}

// completeSymbol finds module!prefix* through the session's symbols. The
// module's symbols load on first use, as x would load them.
func (m *ConsoleModel) completeSymbol(module, prefix string) []string {
	set := m.sess.Symbols()
	if set == nil {
		return nil
	}
	syms, err := set.Find(module + "!" + prefix + "*")
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range syms {
		// The module as typed (a wildcard stays a wildcard only if it
		// matched one module's short name: use the symbol's own).
		mod := module
		if strings.ContainsAny(module, "*?") {
			mod = shortModule(s.Module)
		}
		c := mod + "!" + s.Name
		if seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	if len(out) > completionLimit {
		out = out[:completionLimit]
	}
	return out
}

// shortModule is a module's name as commands take it: no directory and
// no extension ("C:\\app\\app.exe" → "app").
func shortModule(name string) string {
	if i := strings.LastIndexAny(name, `\/`); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndex(name, "."); i > 0 {
		name = name[:i]
	}
	return name
}

// streamOutput is the console.Output a command writes to: it collects
// segments and hands them to the view in chunks, through fyne.Do.
type streamOutput struct {
	view *widgets.Console

	mu      sync.Mutex
	pending []widgets.Segment
	size    int

	flushMu sync.Mutex // keeps chunks in order between the two flushers
}

func newStreamOutput(v *widgets.Console) *streamOutput { return &streamOutput{view: v} }

func (o *streamOutput) add(s widgets.Segment) {
	o.mu.Lock()
	if n := len(o.pending); n > 0 && s.Command == "" && o.pending[n-1].Command == "" {
		o.pending[n-1].Text += s.Text
	} else {
		o.pending = append(o.pending, s)
	}
	o.size += len(s.Text)
	full := o.size >= flushBytes
	o.mu.Unlock()
	if full {
		o.flush()
	}
}

// Text implements console.Output; addresses, symbols, modules and
// threads in it become links (see linkify).
func (o *streamOutput) Text(s string) {
	for _, seg := range linkify(s) {
		o.add(seg)
	}
}

// Link implements console.Output: a location with a command becomes a
// link that runs it; one without is plain text.
func (o *streamOutput) Link(label string, to console.Location) {
	o.add(widgets.Segment{Text: label, Command: to.Command})
}

// Table implements console.Output: tables print as the CLI prints them.
func (o *streamOutput) Table(t *console.Table) {
	var b strings.Builder
	console.NewTextOutput(&b).Table(t)
	o.Text(b.String())
}

// flush hands what is pending to the view.
func (o *streamOutput) flush() {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	o.mu.Lock()
	segs := o.pending
	o.pending, o.size = nil, 0
	o.mu.Unlock()
	if len(segs) > 0 {
		// Not DoAndWait: Close waits on the UI thread for the command
		// to end. fyne.Do runs functions in the order they are queued.
		onUI(func() { o.view.Append(segs...) })
	}
}

// flushPeriodically flushes every d until the returned stop is called.
func (o *streamOutput) flushPeriodically(d time.Duration) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				o.flush()
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

var _ console.Output = (*streamOutput)(nil)
