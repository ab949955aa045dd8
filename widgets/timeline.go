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

// chartScale is the chart's axes: the days shown and the tallest day.
type chartScale struct {
	first, last time.Time
	days        int
	maxCount    int
}

func scaleOf(points []TimelinePoint) chartScale {
	if len(points) == 0 {
		return chartScale{}
	}
	s := chartScale{first: points[0].Day, last: points[0].Day}
	perDay := map[time.Time]int{}
	for _, p := range points {
		if p.Day.Before(s.first) {
			s.first = p.Day
		}
		if p.Day.After(s.last) {
			s.last = p.Day
		}
		perDay[p.Day] += p.Count
		s.maxCount = max(s.maxCount, perDay[p.Day])
	}
	s.days = int(s.last.Sub(s.first).Hours()/24) + 1
	return s
}

// layoutBars places each point's segment in a plot of the given size:
// days are equal-width slots from the first to the last day (days without
// crashes stay empty, so gaps in time show), bars are stacked bottom-up in
// points' order and scaled so the busiest day fills the height.
func layoutBars(points []TimelinePoint, plot fyne.Size) []barRect {
	s := scaleOf(points)
	if s.days == 0 || s.maxCount == 0 {
		return nil
	}
	slot := plot.Width / float32(s.days)
	gap := min(slot*0.2, 4)
	unit := plot.Height / float32(s.maxCount)
	stacked := map[time.Time]float32{}
	out := make([]barRect, 0, len(points))
	for _, p := range points {
		if p.Count <= 0 {
			continue
		}
		d := int(p.Day.Sub(s.first).Hours() / 24)
		h := float32(p.Count) * unit
		base := stacked[p.Day]
		stacked[p.Day] = base + h
		out = append(out, barRect{Bucket: p.Bucket, Day: p.Day, Count: p.Count,
			Pos:  fyne.NewPos(float32(d)*slot+gap/2, plot.Height-base-h),
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
	s := scaleOf(t.points)
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
