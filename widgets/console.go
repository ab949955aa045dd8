package widgets

import (
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Segment is a run of console output. A segment with a Command is a link:
// it shows in the hyperlink colour, and tapping it calls
// Console.OnLink with the command.
type Segment struct {
	Text    string
	Command string
}

// consoleTabWidth is where tab stops fall, as in a terminal.
const consoleTabWidth = 8

// Console is a debugger console: a scrolling, monospace output pane above
// a prompt and a one-line entry. It keeps no history and runs nothing: it
// reports what the user does through its callbacks and shows what it is
// given.
//
// The output is a virtualised text grid, so tens of thousands of lines cost
// only the rows on screen. While the view is at the bottom, new output keeps
// it there; after the user scrolls up, output arrives without moving it.
//
// All methods must be called on the UI thread.
type Console struct {
	widget.BaseWidget

	// OnSubmit is called with the entry's text when Enter is pressed; the
	// entry is cleared first.
	OnSubmit func(line string)
	// OnHistory is called for Up (delta -1) and Down (delta +1). When ok,
	// line replaces the entry's text.
	OnHistory func(delta int) (line string, ok bool)
	// OnComplete is called for Tab with the text before the cursor. It
	// returns candidates for the word at its end, as CompletionWord splits
	// it. One candidate replaces the word; several are listed in the
	// output and the word grows to their longest common prefix.
	OnComplete func(prefix string) []string
	// OnLink is called with a link segment's command when it is tapped.
	OnLink func(command string)
	// OnCancel is called when Escape is pressed in the entry or the Stop
	// button is tapped.
	OnCancel func()
	// OnClear is called by the Clear button, after the output is cleared.
	OnClear func()

	grid   *widget.TextGrid
	out    *consoleOutput
	entry  *consoleEntry
	prompt *widget.Label
	stop   *widget.Button
	copyB  *widget.Button
	clearB *widget.Button
	body   fyne.CanvasObject

	links      [][]linkSpan // per row, the links on it in column order
	col        int          // column where the next text goes on the last row
	open       bool         // the last row is unfinished (no newline yet)
	busy       bool
	promptText string
}

// linkSpan is a link's columns on its row, [start, end).
type linkSpan struct {
	start, end int
	command    string
}

// NewConsole returns an empty console with prompt shown beside the entry.
func NewConsole(prompt string) *Console {
	c := &Console{}
	c.grid = widget.NewTextGrid()
	c.grid.Scroll = fyne.ScrollBoth
	c.out = &consoleOutput{c: c}
	c.out.ExtendBaseWidget(c.out)
	c.entry = newConsoleEntry(c)
	c.promptText = prompt
	c.prompt = widget.NewLabel(prompt)
	c.prompt.TextStyle.Monospace = true
	c.stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), func() {
		if c.OnCancel != nil {
			c.OnCancel()
		}
	})
	c.stop.Disable()
	c.copyB = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), c.CopyAll)
	c.clearB = widget.NewButtonWithIcon("", theme.DeleteIcon(), func() {
		c.Clear()
		if c.OnClear != nil {
			c.OnClear()
		}
	})
	buttons := container.NewHBox(c.stop, c.copyB, c.clearB)
	input := container.NewBorder(nil, nil, c.prompt, buttons, c.entry)
	c.body = container.NewBorder(nil, input, nil, nil, c.out)
	c.ExtendBaseWidget(c)
	return c
}

// CreateRenderer implements fyne.Widget.
func (c *Console) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(c.body)
}

// SetPrompt changes the prompt shown beside the entry ("0:001>", "kd>").
func (c *Console) SetPrompt(p string) {
	c.promptText = p
	if !c.busy {
		c.prompt.SetText(p)
	}
}

// Prompt returns the prompt shown beside the entry when no command runs.
func (c *Console) Prompt() string { return c.promptText }

// SetBusy says whether a command is running: the Stop button is enabled
// only then, and the prompt shows "*BUSY*" as WinDbg's does.
func (c *Console) SetBusy(busy bool) {
	c.busy = busy
	if busy {
		c.stop.Enable()
		c.prompt.SetText("*BUSY*")
	} else {
		c.stop.Disable()
		c.prompt.SetText(c.promptText)
	}
}

// Busy reports what SetBusy last set.
func (c *Console) Busy() bool { return c.busy }

// Entry returns the text in the entry.
func (c *Console) Entry() string { return c.entry.Text }

// SetEntry replaces the entry's text and puts the cursor at its end.
func (c *Console) SetEntry(s string) {
	c.entry.SetText(s)
	c.entry.CursorRow = 0
	c.entry.CursorColumn = utf8.RuneCountInString(s)
	c.entry.Refresh()
}

// FocusEntry gives the entry the keyboard focus, if the console is shown
// on a canvas.
func (c *Console) FocusEntry() {
	if cv := fyne.CurrentApp().Driver().CanvasForObject(c.entry); cv != nil {
		cv.Focus(c.entry)
	}
}

// AppendText adds plain text to the output; see Append.
func (c *Console) AppendText(s string) { c.Append(Segment{Text: s}) }

// Append adds segments to the output. Text continues the last line until a
// newline; tabs expand to the next multiple of 8 columns and carriage
// returns are dropped. Callers streaming a lot of output should pass it in
// chunks (many lines per call): each call refreshes the view once.
func (c *Console) Append(segs ...Segment) {
	follow := c.atBottom()
	style := c.linkStyle()
	rows := c.grid.Rows
	for _, s := range segs {
		text := s.Text
		for len(text) > 0 {
			line, rest, nl := strings.Cut(text, "\n")
			text = rest
			if !c.open {
				rows = append(rows, widget.TextGridRow{})
				c.links = append(c.links, nil)
				c.col, c.open = 0, true
			}
			r := &rows[len(rows)-1]
			start := c.col
			for _, ch := range line {
				switch ch {
				case '\r':
					continue
				case '\t':
					for n := consoleTabWidth - c.col%consoleTabWidth; n > 0; n-- {
						r.Cells = append(r.Cells, widget.TextGridCell{Rune: ' '})
						c.col++
					}
					continue
				}
				r.Cells = append(r.Cells, widget.TextGridCell{Rune: ch})
				c.col++
			}
			if s.Command != "" && c.col > start {
				for i := start; i < c.col; i++ {
					r.Cells[i].Style = style
				}
				last := len(c.links) - 1
				c.links[last] = append(c.links[last], linkSpan{start, c.col, s.Command})
			}
			if nl {
				c.open = false
			}
		}
	}
	c.grid.Rows = rows
	if follow {
		c.grid.ScrollToBottom() // refreshes the grid
	} else {
		c.grid.Refresh()
	}
}

// atBottom reports whether the last row is on screen (or nearly), so that
// new output should keep the view at the bottom.
func (c *Console) atBottom() bool {
	n := len(c.grid.Rows)
	h := c.grid.Size().Height
	if n == 0 || h <= 0 {
		return true
	}
	cell := c.grid.PositionForCursorLocation(1, 0).Y - c.grid.PositionForCursorLocation(0, 0).Y
	if cell <= 0 {
		return true
	}
	top, _ := c.grid.CursorLocationForPosition(fyne.NewPos(0, 0))
	return top+int(h/cell)+1 >= n-1
}

func (c *Console) linkStyle() widget.TextGridStyle {
	return &widget.CustomTextGridStyle{
		FGColor:   c.Theme().Color(theme.ColorNameHyperlink, fyne.CurrentApp().Settings().ThemeVariant()),
		TextStyle: fyne.TextStyle{Monospace: true}, // no Underline: not every theme has such a font
	}
}

// Text returns all the output as plain text, lines separated by "\n".
func (c *Console) Text() string { return c.grid.Text() }

// Lines returns the number of output lines.
func (c *Console) Lines() int { return len(c.grid.Rows) }

// Clear empties the output (.cls).
func (c *Console) Clear() {
	c.grid.Rows = nil
	c.links = nil
	c.col, c.open = 0, false
	c.grid.Refresh()
	c.grid.ScrollToTop()
}

// CopyAll puts all the output on the clipboard.
func (c *Console) CopyAll() {
	fyne.CurrentApp().Clipboard().SetContent(c.Text())
}

// LinkAt returns the command of the link at a row and column of the
// output, or "" if there is none.
func (c *Console) LinkAt(row, col int) string {
	if row < 0 || row >= len(c.links) {
		return ""
	}
	for _, l := range c.links[row] {
		if col >= l.start && col < l.end {
			return l.command
		}
	}
	return ""
}

// LinkPosition returns where on the output pane the first link whose text
// is label is drawn (the middle of its first cell, relative to the pane's
// top left), for tapping it; ok is false when there is no such link.
func (c *Console) LinkPosition(label string) (pos fyne.Position, ok bool) {
	for row, spans := range c.links {
		for _, l := range spans {
			if cellsText(c.grid.Rows[row].Cells[l.start:l.end]) == label {
				p := c.grid.PositionForCursorLocation(row, l.start)
				next := c.grid.PositionForCursorLocation(row+1, l.start+1)
				return fyne.NewPos((p.X+next.X)/2, (p.Y+next.Y)/2), true
			}
		}
	}
	return fyne.Position{}, false
}

// Output returns the tappable output pane, for tests that tap links.
func (c *Console) Output() fyne.Tappable { return c.out }

func cellsText(cells []widget.TextGridCell) string {
	var b strings.Builder
	for _, cl := range cells {
		b.WriteRune(cl.Rune)
	}
	return b.String()
}

// complete handles Tab in the entry.
func (c *Console) complete() {
	if c.OnComplete == nil {
		return
	}
	text := []rune(c.entry.Text)
	cur := min(c.entry.CursorColumn, len(text))
	prefix, after := string(text[:cur]), string(text[cur:])
	head, word := CompletionWord(prefix)
	cands := c.OnComplete(prefix)
	if len(cands) == 0 {
		return
	}
	common := cands[0]
	for _, s := range cands[1:] {
		common = commonPrefix(common, s)
	}
	if len(cands) > 1 {
		c.AppendText(strings.Join(cands, "\n") + "\n")
		if len([]rune(common)) < len([]rune(word)) {
			// Candidates matched by a wildcard may share less than was
			// typed: keep what was typed.
			common = word
		}
	} else if !strings.HasPrefix(after, " ") {
		common += " "
	}
	line := head + common
	c.entry.SetText(line + after)
	c.entry.CursorRow = 0
	c.entry.CursorColumn = utf8.RuneCountInString(line)
	c.entry.Refresh()
}

// CompletionWord splits the text before the cursor into what stays and the
// word being completed: the word starts after the last space, tab or ';'.
func CompletionWord(prefix string) (head, word string) {
	i := strings.LastIndexAny(prefix, " \t;")
	return prefix[:i+1], prefix[i+1:]
}

// commonPrefix is the longest common prefix of a and b, ignoring case; it
// keeps a's spelling.
func commonPrefix(a, b string) string {
	ar, br := []rune(a), []rune(b)
	n := 0
	for n < len(ar) && n < len(br) && strings.EqualFold(string(ar[n]), string(br[n])) {
		n++
	}
	return string(ar[:n])
}

// consoleOutput is the output grid made tappable, for links.
type consoleOutput struct {
	widget.BaseWidget
	c       *Console
	pointer bool
}

func (o *consoleOutput) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(o.c.grid)
}

func (o *consoleOutput) linkAt(p fyne.Position) string {
	row, col := o.c.grid.CursorLocationForPosition(p)
	return o.c.LinkAt(row, col)
}

// Tapped follows the link under the pointer, if any.
func (o *consoleOutput) Tapped(ev *fyne.PointEvent) {
	if cmd := o.linkAt(ev.Position); cmd != "" && o.c.OnLink != nil {
		o.c.OnLink(cmd)
	}
}

// Cursor shows a pointing hand over links.
func (o *consoleOutput) Cursor() desktop.Cursor {
	if o.pointer {
		return desktop.PointerCursor
	}
	return desktop.TextCursor
}

func (o *consoleOutput) MouseIn(ev *desktop.MouseEvent)    { o.MouseMoved(ev) }
func (o *consoleOutput) MouseMoved(ev *desktop.MouseEvent) { o.pointer = o.linkAt(ev.Position) != "" }
func (o *consoleOutput) MouseOut()                         { o.pointer = false }

var (
	_ fyne.Tappable      = (*consoleOutput)(nil)
	_ desktop.Cursorable = (*consoleOutput)(nil)
	_ desktop.Hoverable  = (*consoleOutput)(nil)
)

// consoleEntry is a one-line entry that gives Up, Down, Tab and Escape to
// the console instead of moving the cursor or the focus.
type consoleEntry struct {
	widget.Entry
	c *Console
}

func newConsoleEntry(c *Console) *consoleEntry {
	e := &consoleEntry{c: c}
	e.ExtendBaseWidget(e)
	e.TextStyle.Monospace = true
	e.SetPlaceHolder("Command (Tab completes, Up/Down for history)")
	e.OnSubmitted = func(line string) {
		e.SetText("")
		if c.OnSubmit != nil {
			c.OnSubmit(line)
		}
	}
	return e
}

// AcceptsTab keeps Tab in the entry, for completion.
func (e *consoleEntry) AcceptsTab() bool { return true }

// TypedKey implements fyne.Focusable.
func (e *consoleEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyUp, fyne.KeyDown:
		if e.c.OnHistory != nil {
			delta := -1
			if k.Name == fyne.KeyDown {
				delta = 1
			}
			if line, ok := e.c.OnHistory(delta); ok {
				e.c.SetEntry(line)
			}
		}
	case fyne.KeyTab:
		e.c.complete()
	case fyne.KeyEscape:
		if e.c.OnCancel != nil {
			e.c.OnCancel()
		}
	default:
		e.Entry.TypedKey(k)
	}
}
