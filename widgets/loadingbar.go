package widgets

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// loadingBar is a thin indeterminate progress bar for list rows. Fyne's
// ProgressBarInfinite is a text line tall, and when its renderer is created
// after Start, as happens to list rows drawn for the first time, it never
// starts animating; this one checks its state whenever it is refreshed or
// created, like widget.Activity does.
type loadingBar struct {
	widget.BaseWidget
	running bool
}

func newLoadingBar() *loadingBar {
	b := &loadingBar{}
	b.ExtendBaseWidget(b)
	return b
}

// Start animates the bar; it is a no-op when already running.
func (b *loadingBar) Start() {
	if !b.running {
		b.running = true
		b.Refresh()
	}
}

// Stop stops the animation, which otherwise redraws the row at 60 Hz.
func (b *loadingBar) Stop() {
	if b.running {
		b.running = false
		b.Refresh()
	}
}

func (b *loadingBar) CreateRenderer() fyne.WidgetRenderer {
	r := &loadingBarRenderer{bar: b, track: canvas.NewRectangle(color.Transparent), seg: canvas.NewRectangle(color.Transparent)}
	r.anim = &fyne.Animation{
		Duration:    1200 * time.Millisecond,
		RepeatCount: fyne.AnimationRepeatForever,
		AutoReverse: true,
		Curve:       fyne.AnimationEaseInOut,
		Tick:        r.tick,
	}
	r.Refresh()
	return r
}

type loadingBarRenderer struct {
	bar        *loadingBar
	track, seg *canvas.Rectangle
	anim       *fyne.Animation
	animating  bool
	done       float32
}

func (r *loadingBarRenderer) Layout(size fyne.Size) {
	r.track.Resize(size)
	r.track.CornerRadius, r.seg.CornerRadius = size.Height/2, size.Height/2
	r.place()
}

func (r *loadingBarRenderer) MinSize() fyne.Size { return fyne.NewSize(0, theme.Padding()) }

func (r *loadingBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.seg}
}

func (r *loadingBarRenderer) Refresh() {
	th := r.bar.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	p := color.NRGBAModel.Convert(th.Color(theme.ColorNamePrimary, v)).(color.NRGBA)
	r.seg.FillColor = p
	p.A /= 3 // the track is the segment's colour, faded, as Fyne's bars do
	r.track.FillColor = p
	switch {
	case r.bar.running && !r.animating:
		r.animating = true
		r.anim.Start()
	case !r.bar.running && r.animating:
		r.animating = false
		r.anim.Stop()
	}
	r.track.Refresh()
	r.place()
}

func (r *loadingBarRenderer) Destroy() {
	r.anim.Stop()
	r.animating = false
}

func (r *loadingBarRenderer) tick(done float32) {
	r.done = done
	r.place()
}

// place puts a segment a third of the bar wide at the animation's point.
func (r *loadingBarRenderer) place() {
	size := r.bar.Size()
	w := size.Width / 3
	r.seg.Resize(fyne.NewSize(w, size.Height))
	r.seg.Move(fyne.NewPos((size.Width-w)*r.done, 0))
	r.seg.Hidden = !r.bar.running
	canvas.Refresh(r.seg)
}
