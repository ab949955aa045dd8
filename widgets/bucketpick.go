package widgets

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

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
