package widgets

import (
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Row is one labelled fact of a summary: "Format" → "minidump (full memory)".
type Row struct {
	Key, Value string
}

// SummaryState is which of its four faces a Summary shows.
type SummaryState int

const (
	// SummaryEmpty shows a placeholder: nothing is selected.
	SummaryEmpty SummaryState = iota
	// SummaryLoading shows the title and an indeterminate progress bar.
	SummaryLoading
	// SummaryError shows the title and a one-line error.
	SummaryError
	// SummaryRows shows the title and a key/value grid.
	SummaryRows
)

// String returns the state's name, for test failures.
func (s SummaryState) String() string {
	switch s {
	case SummaryEmpty:
		return "empty"
	case SummaryLoading:
		return "loading"
	case SummaryError:
		return "error"
	case SummaryRows:
		return "rows"
	}
	return "unknown"
}

// Summary shows one dump's summary as a two-column grid of keys and values,
// or a placeholder, a progress bar or an error line. Values are selectable
// so that paths, addresses and codes can be copied into a ticket.
//
// The methods that change what it shows (ShowPlaceholder, ShowLoading,
// ShowError, ShowRows) must be called on the UI thread.
type Summary struct {
	widget.BaseWidget

	state   SummaryState
	title   string
	hint    string
	errLine string
	rows    []Row

	content *fyne.Container // a Stack whose single object is the current face
	bar     *widget.ProgressBarInfinite

	// seen is the recurrence line under the heading ("Seen 4 times since
	// …"), with a link to the bucket; empty until SetSeen.
	seen     *fyne.Container
	seenText string

	// OnAddNote is called with a note the user writes on the dump shown;
	// OnTag with a tag added (add) or removed. Both only once
	// SetAnnotations has shown the dump is in the index.
	OnAddNote func(text string)
	OnTag     func(tag string, add bool)
	// OnMove is called to move the dump to another bucket, or with "" to
	// put it back in its own.
	OnMove func(into string)
	// notes holds the bucket, tags and notes under the rows; hidden until
	// SetAnnotations.
	notes     *fyne.Container
	ann       Annotations
	annotated bool
}

// Annotations is what the workspace index says of the dump shown beyond
// its analysis: its bucket, whether the user moved it there, the other
// buckets it could go to, and the user's tags and notes.
type Annotations struct {
	Bucket  string
	Moved   bool
	Buckets []string
	Tags    []string
	Notes   []NoteRow
}

func (a Annotations) equal(b Annotations) bool {
	return a.Bucket == b.Bucket && a.Moved == b.Moved && slices.Equal(a.Buckets, b.Buckets) &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.Notes, b.Notes)
}

// NoteRow is a user's note on the dump shown.
type NoteRow struct {
	When time.Time
	Text string
}

// NewSummary returns a summary showing an empty placeholder.
func NewSummary() *Summary {
	s := &Summary{content: container.NewStack(), bar: widget.NewProgressBarInfinite(), seen: container.NewHBox(), notes: container.NewVBox()}
	s.seen.Hide()
	s.notes.Hide()
	s.bar.Stop()
	s.ExtendBaseWidget(s)
	s.ShowPlaceholder("")
	return s
}

// CreateRenderer implements fyne.Widget.
func (s *Summary) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(s.content)
}

// State returns what the summary shows.
func (s *Summary) State() SummaryState { return s.state }

// Title returns the heading shown above the rows, error or progress bar;
// it is "" in the empty state.
func (s *Summary) Title() string { return s.title }

// Hint returns the placeholder text of the empty state.
func (s *Summary) Hint() string { return s.hint }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (s *Summary) ErrorLine() string { return s.errLine }

// Rows returns a copy of the rows shown in the rows state, nil otherwise.
func (s *Summary) Rows() []Row { return slices.Clone(s.rows) }

// ShowPlaceholder shows that nothing is selected, with hint underneath
// (for example how to open a dump).
func (s *Summary) ShowPlaceholder(hint string) {
	s.set(SummaryEmpty, "", "", nil)
	s.hint = hint
	icon := widget.NewIcon(theme.NewDisabledResource(theme.DocumentIcon()))
	iconBox := container.NewGridWrap(fyne.NewSquareSize(4*theme.IconInlineSize()), icon)
	head := widget.NewLabel("No dump selected")
	head.Alignment = fyne.TextAlignCenter
	head.SizeName = theme.SizeNameSubHeadingText
	head.Importance = widget.LowImportance
	text := widget.NewLabel(hint)
	text.Alignment = fyne.TextAlignCenter
	text.Importance = widget.LowImportance
	face := container.NewVBox(container.NewCenter(iconBox), head)
	if hint != "" {
		face.Add(text)
	}
	s.show(container.NewCenter(face))
}

// ShowLoading shows title and an indeterminate progress bar, while the dump
// is being opened.
func (s *Summary) ShowLoading(title string) {
	s.set(SummaryLoading, title, "", nil)
	msg := widget.NewLabel("Reading the dump…")
	// Inset the bar so that its ends line up with the text above it.
	pad := theme.InnerPadding()
	bar := container.New(layout.NewCustomPaddedLayout(0, 0, pad, pad), s.bar)
	s.show(container.NewBorder(s.heading(), nil, nil, nil, container.NewVBox(msg, bar)))
	s.bar.Start()
}

// ShowError shows title and line, the one-line reason the dump could not be
// opened. The line wraps and can be selected and copied.
func (s *Summary) ShowError(title, line string) {
	s.set(SummaryError, title, line, nil)
	icon := widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon()))
	msg := selectableValue(line)
	msg.Importance = widget.DangerImportance
	// The icon sits level with the first line of text, which starts one
	// inner padding below the label's top; the icon is a little taller
	// than a line, so half the difference comes off.
	lineH := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{}).Height
	top := theme.InnerPadding() - (theme.IconInlineSize()-lineH)/2
	iconBox := container.New(layout.NewCustomPaddedLayout(top, 0, 0, 0), icon)
	s.show(container.NewBorder(s.heading(), nil, nil, nil,
		container.NewVBox(container.NewBorder(nil, nil, container.NewVBox(iconBox), nil, msg))))
}

// ShowRows shows title and rows as a two-column grid: keys on the left in
// bold, values on the right, wrapped and selectable. The grid scrolls when
// it is taller than the pane.
func (s *Summary) ShowRows(title string, rows []Row) {
	s.set(SummaryRows, title, "", slices.Clone(rows))
	grid := container.New(layout.NewFormLayout())
	for _, r := range rows {
		k := widget.NewLabel(r.Key)
		k.TextStyle.Bold = true
		grid.Add(k)
		grid.Add(selectableValue(r.Value))
	}
	s.show(container.NewBorder(s.heading(), nil, nil, nil, container.NewVScroll(container.NewVBox(grid, s.notes))))
}

// SetAnnotations shows the dump's bucket, tags and notes from the
// workspace index under the rows, with fields to change them; showing
// another dump clears them.
func (s *Summary) SetAnnotations(a Annotations) {
	if s.annotated && a.equal(s.ann) {
		return // unchanged: keep what the user is typing
	}
	s.ann, s.annotated = a, true
	s.notes.RemoveAll()
	s.notes.Add(widget.NewSeparator())
	head := func(text string) *widget.Label {
		l := widget.NewLabel(text)
		l.TextStyle.Bold = true
		return l
	}
	if a.Bucket != "" {
		s.notes.Add(s.bucketRow(a, head("Grouped in")))
	}
	tagRow := container.NewHBox(head("Tags"))
	for _, t := range a.Tags {
		tag := t
		b := widget.NewButtonWithIcon(tag, theme.CancelIcon(), func() {
			if s.OnTag != nil {
				s.OnTag(tag, false)
			}
		})
		b.Importance = widget.LowImportance
		b.IconPlacement = widget.ButtonIconTrailingText
		tagRow.Add(b)
	}
	newTag := submitEntry("add a tag", func(t string) {
		if s.OnTag != nil {
			s.OnTag(strings.TrimSpace(t), true)
		}
	})
	s.notes.Add(container.NewBorder(nil, nil, tagRow, nil, newTag))
	s.notes.Add(head("Notes"))
	for _, n := range a.Notes {
		s.notes.Add(noteLabel(n))
	}
	s.notes.Add(submitEntry("add a note (Enter saves it)", func(t string) {
		if s.OnAddNote != nil {
			s.OnAddNote(t)
		}
	}))
	s.notes.Show()
	s.notes.Refresh()
}

// bucketRow names the dump's bucket and lets the user move the dump to
// another (picked or typed), or back to its own when it was moved.
func (s *Summary) bucketRow(a Annotations, label *widget.Label) fyne.CanvasObject {
	picker := bucketPicker(a.Buckets, a.Bucket, "move to another bucket, or a new name", "Move", func(into string) {
		if s.OnMove != nil {
			s.OnMove(into)
		}
	})
	var back fyne.CanvasObject
	if a.Moved {
		b := widget.NewButtonWithIcon("Back to its own bucket", theme.ContentUndoIcon(), func() {
			if s.OnMove != nil {
				s.OnMove("")
			}
		})
		b.Importance = widget.LowImportance
		back = b
	}
	return container.NewVBox(container.NewBorder(nil, nil, label, back, selectableValue(a.Bucket)), picker)
}

// Annotations returns what SetAnnotations shows; Annotated whether it was
// called for the dump shown (it is in the index).
func (s *Summary) Annotations() Annotations { return s.ann }
func (s *Summary) Annotated() bool          { return s.annotated }

func (s *Summary) clearAnnotations() {
	s.ann, s.annotated = Annotations{}, false
	s.notes.RemoveAll()
	s.notes.Hide()
}

// SetSeen shows text (how often this crash was seen, from the workspace
// index) under the heading, with a link labelled link that calls onTap;
// an empty text hides the line. Showing another dump clears it.
func (s *Summary) SetSeen(text, link string, onTap func()) {
	s.seenText = text
	s.seen.RemoveAll()
	if text != "" {
		l := widget.NewLabel(text)
		l.Importance = widget.WarningImportance
		s.seen.Add(l)
		if link != "" && onTap != nil {
			b := widget.NewButton(link, onTap)
			b.Importance = widget.LowImportance
			s.seen.Add(b)
		}
	}
	if text == "" {
		s.seen.Hide() // a hidden object takes no padding in the VBox
	} else {
		s.seen.Show()
	}
	s.seen.Refresh()
}

// Seen returns the recurrence line shown, "" when none.
func (s *Summary) Seen() string { return s.seenText }

func (s *Summary) set(st SummaryState, title, errLine string, rows []Row) {
	if title != s.title {
		s.SetSeen("", "", nil)
		s.clearAnnotations()
	}
	s.state, s.title, s.errLine, s.rows, s.hint = st, title, errLine, rows, ""
	if st != SummaryLoading {
		// A stopped bar costs nothing; a running one redraws at 60 Hz
		// even when no face shows it.
		s.bar.Stop()
	}
}

func (s *Summary) show(face fyne.CanvasObject) {
	s.content.Objects = []fyne.CanvasObject{face}
	s.content.Refresh()
}

// heading is the title line with a rule under it, shared by three faces.
func (s *Summary) heading() fyne.CanvasObject {
	h := widget.NewLabel(s.title)
	h.TextStyle.Bold = true
	h.SizeName = theme.SizeNameSubHeadingText
	h.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(h, s.seen, widget.NewSeparator())
}

func selectableValue(text string) *widget.Label {
	v := widget.NewLabel(text)
	v.Selectable = true
	v.Wrapping = fyne.TextWrapWord
	return v
}
