package workspace

import (
	"context"
	"sort"
	"time"
)

// TimelinePoint is how many crashes of one bucket happened on one day.
type TimelinePoint struct {
	Day    time.Time // midnight UTC
	Bucket string    // the bucket key, merges and splits applied
	Count  int
}

// Timeline counts crash dumps per day (UTC) and bucket, for dumps whose
// time (the dump's crash time, else the file's mtime) is at or after
// since and before until; a zero since or until leaves that side open.
// Days without crashes are omitted. Points come by day, then bucket key.
// Dumps that record no crash are in no bucket and not counted.
func (db *DB) Timeline(ctx context.Context, since, until time.Time) ([]TimelinePoint, error) {
	dumps, err := db.crashDumps(ctx)
	if err != nil {
		return nil, err
	}
	type slot struct {
		day    int64 // Unix seconds of midnight UTC
		bucket string
	}
	counts := map[slot]int{}
	for _, d := range dumps {
		if (!since.IsZero() && d.seen.Before(since)) || (!until.IsZero() && !d.seen.Before(until)) {
			continue
		}
		day := time.Date(d.seen.Year(), d.seen.Month(), d.seen.Day(), 0, 0, 0, 0, time.UTC)
		counts[slot{day.Unix(), d.key}]++
	}
	out := make([]TimelinePoint, 0, len(counts))
	for s, c := range counts {
		out = append(out, TimelinePoint{Day: time.Unix(s.day, 0).UTC(), Bucket: s.bucket, Count: c})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Day.Equal(out[j].Day) {
			return out[i].Day.Before(out[j].Day)
		}
		return out[i].Bucket < out[j].Bucket
	})
	return out, nil
}
