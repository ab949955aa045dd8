package widgets

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Controls shared by the Summary and the Buckets view for what the user
// says about dumps and buckets.

// bucketPicker is a field to pick a bucket from others or type a new name
// (a ticket's, say), with a button labelled action that passes the choice
// to onPick; the button is enabled only for a name other than current.
func bucketPicker(others []string, current, placeholder, action string, onPick func(string)) fyne.CanvasObject {
	var choices []string
	for _, o := range others {
		if o != current {
			choices = append(choices, o)
		}
	}
	into := widget.NewSelectEntry(choices)
	into.SetPlaceHolder(placeholder)
	valid := func(t string) bool { return t != "" && t != current }
	button := widget.NewButton(action, func() {
		if t := strings.TrimSpace(into.Text); valid(t) && onPick != nil {
			onPick(t)
		}
	})
	button.Disable()
	into.OnChanged = func(t string) {
		if valid(strings.TrimSpace(t)) {
			button.Enable()
		} else {
			button.Disable()
		}
	}
	return container.NewBorder(nil, nil, button, nil, into)
}

// noteLabel shows a note: its local time and its text, selectable.
func noteLabel(n NoteRow) *widget.Label {
	return selectableValue(n.When.Local().Format("2006-01-02 15:04") + "  " + n.Text)
}

// submitEntry is a field that passes what is typed in it to submit on
// Enter, unless it is blank.
func submitEntry(placeholder string, submit func(text string)) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.OnSubmitted = func(t string) {
		if strings.TrimSpace(t) != "" {
			submit(t)
		}
	}
	return e
}
