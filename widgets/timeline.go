package widgets

import (
	"fmt"
	"image/color"
	"slices"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TimelinePoint is how many crashes of one bucket happened on one day.
type TimelinePoint struct {
	Day    time.Time // midnight UTC
	Bucket string
	Count  int
}

// Timeline is a bar chart of crashes per day, each day's bar stacked by
// bucket, drawn with canvas primitives. The selected bucket keeps its
// colour and the others fade, so its days stand out.
type Timeline struct {
	widget.BaseWidget

	points   []TimelinePoint
	colors   map[string]color.Color
	selected string
}

// NewTimeline returns an empty chart.
func NewTimeline() *Timeline {
	t := &Timeline{}
	t.ExtendBaseWidget(t)
	return t
}

// SetPoints sets the data; order gives each bucket its colour (the first
// buckets get the palette's colours, later ones grey).
func (t *Timeline) SetPoints(points []TimelinePoint, order []string) {
	t.points = slices.Clone(points)
	t.colors = map[string]color.Color{}
	for i, b := range order {
		t.colors[b] = bucketColor(i)
	}
	t.Refresh()
}

// Select highlights one bucket ("" for none).
func (t *Timeline) Select(bucket string) {
	t.selected = bucket
	t.Refresh()
}

// bucketPalette tells the largest buckets apart (Okabe–Ito, readable by
// colour-blind users, on light and dark themes).
var bucketPalette = []color.NRGBA{
	{0xe6, 0x9f, 0x00, 0xff}, {0x56, 0xb4, 0xe9, 0xff}, {0x00, 0x9e, 0x73, 0xff},
	{0xf0, 0xe4, 0x42, 0xff}, {0x00, 0x72, 0xb2, 0xff}, {0xd5, 0x5e, 0x00, 0xff}, {0xcc, 0x79, 0xa7, 0xff},
}

func bucketColor(i int) color.Color {
	if i < len(bucketPalette) {
		return bucketPalette[i]
	}
	return color.NRGBA{0x88, 0x88, 0x88, 0xff}
}

// barRect is one drawn segment of the chart: a bucket's crashes on a day.
type barRect struct {
	Bucket string
	Day    time.Time
	Count  int
	Pos    fyne.Position
	Size   fyne.Size
}

// chartScale is the chart's axes: the days shown, how many days one bar
// covers, and the tallest bar.
type chartScale struct {
	first, last time.Time
	days        int // from first to last, inclusive
	per         int // days per slot: 1, 7, 30 or 365
	maxCount    int
}

// minSlot is the narrowest bar worth drawing: when days are narrower,
// bars cover weeks, months or years instead.
const minSlot = 4

func scaleOf(points []TimelinePoint, width float32) chartScale {
	if len(points) == 0 {
		return chartScale{}
	}
	s := chartScale{first: points[0].Day, last: points[0].Day}
	for _, p := range points {
		if p.Day.Before(s.first) {
			s.first = p.Day
		}
		if p.Day.After(s.last) {
			s.last = p.Day
		}
	}
	s.days = s.dayOf(s.last) + 1
	s.per = 365
	for _, per := range []int{1, 7, 30, 365} {
		if width/float32(s.slots(per)) >= minSlot {
			s.per = per
			break
		}
	}
	perSlot := map[int]int{}
	for _, p := range points {
		i := s.dayOf(p.Day) / s.per
		perSlot[i] += p.Count
		s.maxCount = max(s.maxCount, perSlot[i])
	}
	return s
}

func (s chartScale) dayOf(t time.Time) int { return int(t.Sub(s.first).Hours() / 24) }

func (s chartScale) slots(per int) int { return (s.days + per - 1) / per }

// unit names what one bar covers, for the chart's title.
func (s chartScale) unit() string {
	return map[int]string{1: "day", 7: "week", 30: "month", 365: "year"}[s.per]
}

// layoutBars places each point's segment in a plot of the given size:
// slots of equal width run from the first to the last day (slots without
// crashes stay empty, so gaps in time show), each a day, or a week, month
// or year when days would be too narrow to see; bars are stacked
// bottom-up in points' order and scaled so the busiest slot fills the
// height.
func layoutBars(points []TimelinePoint, plot fyne.Size) []barRect {
	s := scaleOf(points, plot.Width)
	if s.days == 0 || s.maxCount == 0 {
		return nil
	}
	slot := plot.Width / float32(s.slots(s.per))
	gap := min(slot*0.2, 4)
	unit := plot.Height / float32(s.maxCount)
	stacked := map[int]float32{}
	out := make([]barRect, 0, len(points))
	for _, p := range points {
		if p.Count <= 0 {
			continue
		}
		i := s.dayOf(p.Day) / s.per
		h := float32(p.Count) * unit
		base := stacked[i]
		stacked[i] = base + h
		out = append(out, barRect{Bucket: p.Bucket, Day: p.Day, Count: p.Count,
			Pos:  fyne.NewPos(float32(i)*slot+gap/2, plot.Height-base-h),
			Size: fyne.NewSize(max(slot-gap, 1), h)})
	}
	return out
}

// CreateRenderer implements fyne.Widget.
func (t *Timeline) CreateRenderer() fyne.WidgetRenderer {
	r := &timelineRenderer{t: t}
	r.Refresh()
	return r
}

type timelineRenderer struct {
	t       *Timeline
	objects []fyne.CanvasObject
	size    fyne.Size
}

const (
	axisLeft   = 36 // room for the count labels
	axisBottom = 22 // room for the date labels
)

func (r *timelineRenderer) Layout(size fyne.Size) {
	r.size = size
	r.Refresh()
}

func (r *timelineRenderer) MinSize() fyne.Size { return fyne.NewSize(200, 120) }

func (r *timelineRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *timelineRenderer) Destroy() {}

func (r *timelineRenderer) Refresh() {
	t := r.t
	fg := theme.Color(theme.ColorNameForeground)
	dim := theme.Color(theme.ColorNameDisabled)
	ts := theme.CaptionTextSize()
	r.objects = r.objects[:0]
	if len(t.points) == 0 {
		msg := canvas.NewText("No crashes with a time in the index yet.", dim)
		msg.Move(fyne.NewPos(axisLeft, 4))
		r.objects = append(r.objects, msg)
		return
	}
	plot := fyne.NewSize(r.size.Width-axisLeft-8, r.size.Height-axisBottom-8)
	if plot.Width <= 0 || plot.Height <= 0 {
		return
	}
	origin := fyne.NewPos(axisLeft, 8)
	axis := canvas.NewLine(dim)
	axis.Position1, axis.Position2 = fyne.NewPos(axisLeft, 8+plot.Height), fyne.NewPos(axisLeft+plot.Width, 8+plot.Height)
	r.objects = append(r.objects, axis)
	for _, b := range layoutBars(t.points, plot) {
		c := t.colors[b.Bucket]
		if c == nil {
			c = bucketColor(len(bucketPalette))
		}
		if t.selected != "" && b.Bucket != t.selected {
			rr, gg, bb, _ := c.RGBA()
			c = color.NRGBA{uint8(rr >> 8), uint8(gg >> 8), uint8(bb >> 8), 0x50}
		}
		rect := canvas.NewRectangle(c)
		rect.Move(origin.Add(b.Pos))
		rect.Resize(b.Size)
		r.objects = append(r.objects, rect)
	}
	s := scaleOf(t.points, plot.Width)
	title := canvas.NewText("Crashes per "+s.unit(), fg)
	title.TextSize = ts
	title.Move(fyne.NewPos(axisLeft+6, 2))
	r.objects = append(r.objects, title)
	top := canvas.NewText(fmt.Sprint(s.maxCount), fg)
	top.TextSize = ts
	top.Alignment = fyne.TextAlignTrailing
	top.Move(fyne.NewPos(axisLeft-6-top.MinSize().Width, 2))
	zero := canvas.NewText("0", fg)
	zero.TextSize = ts
	zero.Move(fyne.NewPos(axisLeft-6-zero.MinSize().Width, 8+plot.Height-zero.MinSize().Height/2))
	first := canvas.NewText(s.first.Format("2006-01-02"), fg)
	first.TextSize = ts
	first.Move(fyne.NewPos(axisLeft, 10+plot.Height))
	r.objects = append(r.objects, top, zero, first)
	if s.days > 1 {
		last := canvas.NewText(s.last.Format("2006-01-02"), fg)
		last.TextSize = ts
		last.Move(fyne.NewPos(axisLeft+plot.Width-last.MinSize().Width, 10+plot.Height))
		r.objects = append(r.objects, last)
	}
}
