package app

import (
	"context"

	"github.com/crashbench/crashbench/widgets"
	"github.com/crashbench/crashbench/workspace"
)

// bucketsTab is the view-model of the buckets view: it reads the buckets
// and the timeline from the workspace off the UI thread whenever the
// index changes, and each selected bucket's correlations.
type bucketsTab struct {
	view *widgets.BucketsView
	ws   *Workspace
	ctx  context.Context
	// loaded is closed after the first load was shown; tests wait on it.
	loaded chan struct{}
	first  bool
}

func newBucketsTab(ctx context.Context, ws *Workspace, open func(paths []string)) *bucketsTab {
	t := &bucketsTab{view: widgets.NewBucketsView(), ws: ws, ctx: ctx, loaded: make(chan struct{}), first: true}
	t.view.OnOpen = open
	t.view.OnSelected = t.correlate
	fail := func(err error) { t.view.ShowNotice(shortError(err)) }
	t.view.OnMerge = func(from, into string) {
		ws.Regroup(func(ctx context.Context, db *workspace.DB) error { return db.MergeBuckets(ctx, from, into) }, fail)
	}
	t.view.OnUnmerge = func(keys []string) {
		ws.Regroup(func(ctx context.Context, db *workspace.DB) error {
			for _, k := range keys {
				if _, err := db.Unmerge(ctx, k); err != nil {
					return err
				}
			}
			return nil
		}, fail)
	}
	t.view.OnAddNote = func(key, text string) {
		ws.Regroup(func(ctx context.Context, db *workspace.DB) error {
			_, err := db.AddBucketNote(ctx, key, text)
			return err
		}, fail)
	}
	return t
}

// reload reads the buckets and timeline again (after an index change).
func (t *bucketsTab) reload() {
	done := make(chan struct{})
	if t.first {
		done, t.first = t.loaded, false
	}
	inBackground(t.ctx, done, func() func() {
		t.ws.Wait()
		if err := t.ws.Err(); err != nil {
			return func() { t.view.ShowError("The workspace index is unavailable: " + shortError(err)) }
		}
		bs := t.ws.Buckets()
		points, err := t.ws.Timeline(t.ctx)
		if err != nil {
			return func() { t.view.ShowError(shortError(err)) }
		}
		rows, pts := bucketRows(bs), timelinePoints(points)
		return func() {
			if len(rows) == 0 {
				t.view.ShowError("No crashes indexed yet: open dumps, or watch a folder from the sidebar.")
				return
			}
			t.view.SetBuckets(rows, pts)
		}
	})
}

// correlate loads the selected bucket's correlated modules.
func (t *bucketsTab) correlate(key string) {
	inBackground(t.ctx, make(chan struct{}), func() func() {
		cs, err := t.ws.Correlations(t.ctx, key)
		if err != nil {
			return nil
		}
		rows := make([]widgets.CorrelationRow, len(cs))
		for i, c := range cs {
			rows[i] = widgets.CorrelationRow{Module: c.Module, Version: c.Version, InBucket: c.InBucket,
				BucketTotal: c.BucketTotal, BucketPercent: c.BucketPercent, OverallPerc: c.OverallPercent}
		}
		return func() { t.view.SetCorrelations(key, rows) }
	})
}

func bucketRows(bs []workspace.Bucket) []widgets.BucketRow {
	rows := make([]widgets.BucketRow, len(bs))
	for i, b := range bs {
		rows[i] = widgets.BucketRow{Key: b.Key, Signature: b.Signature, Count: b.Count, First: b.FirstSeen,
			Last: b.LastSeen, Why: b.Why, Dumps: b.Dumps, Merged: b.Merged}
		for _, n := range b.Notes {
			rows[i].Notes = append(rows[i].Notes, widgets.NoteRow{When: n.Created, Text: n.Text})
		}
	}
	return rows
}

func timelinePoints(ps []workspace.TimelinePoint) []widgets.TimelinePoint {
	out := make([]widgets.TimelinePoint, len(ps))
	for i, p := range ps {
		out[i] = widgets.TimelinePoint{Day: p.Day, Bucket: p.Bucket, Count: p.Count}
	}
	return out
}
