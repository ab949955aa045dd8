package widgets

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// walkVisible calls fn for o and every visible object under it, parents
// first, through the live renderers. (test.LaidOutObjects would build new
// renderers, which for a widget.List means new, empty rows.)
func walkVisible(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	if !o.Visible() {
		return
	}
	fn(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, k := range c.Objects {
			walkVisible(k, fn)
		}
	case fyne.Widget:
		for _, k := range test.WidgetRenderer(c).Objects() {
			walkVisible(k, fn)
		}
	}
}

// visibleLabels returns the text of every visible, non-empty label under o:
// the text model a user reads, without comparing images.
func visibleLabels(o fyne.CanvasObject) []string {
	var out []string
	walkVisible(o, func(obj fyne.CanvasObject) {
		if l, ok := obj.(*widget.Label); ok && l.Text != "" {
			out = append(out, l.Text)
		}
	})
	return out
}

// tappableWith returns the innermost tappable object under root that shows
// a label with text, e.g. the list row titled "b.dmp".
func tappableWith(t *testing.T, root fyne.CanvasObject, text string) fyne.Tappable {
	t.Helper()
	var found fyne.Tappable
	walkVisible(root, func(obj fyne.CanvasObject) {
		if tap, ok := obj.(fyne.Tappable); ok && slices.Contains(visibleLabels(obj), text) {
			found = tap // later matches are deeper in the tree
		}
	})
	if found == nil {
		t.Fatalf("no tappable object shows %q; labels: %q", text, visibleLabels(root))
	}
	return found
}

// pickerControls returns the visible bucket picker field under root and
// its visible buttons by text.
func pickerControls(root fyne.CanvasObject) (*widget.SelectEntry, map[string]*widget.Button) {
	var into *widget.SelectEntry
	buttons := map[string]*widget.Button{}
	walkVisible(root, func(o fyne.CanvasObject) {
		switch w := o.(type) {
		case *widget.SelectEntry:
			into = w
		case *widget.Button:
			buttons[w.Text] = w
		}
	})
	return into, buttons
}

// findVisible returns the last visible object of type T under root that
// match accepts, or T's zero value.
func findVisible[T fyne.CanvasObject](root fyne.CanvasObject, match func(T) bool) T {
	var found T
	walkVisible(root, func(o fyne.CanvasObject) {
		if w, ok := o.(T); ok && match(w) {
			found = w
		}
	})
	return found
}
