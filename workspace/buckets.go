package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Bucket is a group of dumps of the same crash.
type Bucket struct {
	Key       string    // the bucket id (or the signature when analysis gave no bucket id)
	Signature string    // the frame signature shared by the dumps, "" when they differ
	Count     int       // dumps in the bucket
	FirstSeen time.Time // earliest dump time (the dump's own time, else the file's mtime)
	LastSeen  time.Time
	Dumps     []string // each dump's path, oldest first
	DumpIDs   []int64
	Why       string   // why these dumps are together
	Merged    []string // other buckets the user merged into this one (their own keys), sorted
	Notes     []Note   // the user's notes on the bucket, oldest first
}

type bucketRow struct {
	id                                    int64
	path, key                             string
	seen                                  time.Time
	kind, name, frame, module, sig, bktID string
	code                                  sql.NullInt64
	pid                                   sql.NullInt64
}

// Buckets groups the indexed crash dumps by their bucket key, with the
// user's merges and splits applied. Dumps that record no crash (live
// snapshots, requested dumps) and dumps that could not be analysed are in
// no bucket. Buckets come largest first, then most recently seen.
func (db *DB) Buckets(ctx context.Context) ([]Bucket, error) {
	merges, splits, err := db.overrides(ctx)
	if err != nil {
		return nil, err
	}
	notes, err := db.bucketNotes(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id, path, bucket_key,
			COALESCE(crash_time * 1000000000, mtime), COALESCE(crash_kind, ''), COALESCE(crash_name, ''),
			COALESCE(faulting_frame, ''), COALESCE(faulting_module, ''), COALESCE(signature, ''), COALESCE(bucket_id, ''),
			crash_code, pid
		FROM dumps WHERE bucket_key IS NOT NULL ORDER BY 4, path`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	groups := map[string][]bucketRow{}
	origin := map[string]map[string]bool{} // effective key -> stored keys merged into it
	for rows.Next() {
		var r bucketRow
		var ns int64
		if err := rows.Scan(&r.id, &r.path, &r.key, &ns, &r.kind, &r.name, &r.frame, &r.module, &r.sig, &r.bktID, &r.code, &r.pid); err != nil {
			return nil, err
		}
		r.seen = time.Unix(0, ns).UTC()
		k := r.key
		if t, ok := splits[r.id]; ok {
			k = t
		} else {
			for i := 0; i < 16; i++ { // follow merge chains, never loop
				t, ok := merges[k]
				if !ok || t == k {
					break
				}
				k = t
			}
		}
		groups[k] = append(groups[k], r)
		if origin[k] == nil {
			origin[k] = map[string]bool{}
		}
		origin[k][r.key] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []Bucket
	for k, rs := range groups {
		b := Bucket{Key: k, Count: len(rs), FirstSeen: rs[0].seen, LastSeen: rs[len(rs)-1].seen}
		for _, r := range rs {
			b.Dumps = append(b.Dumps, r.path)
			b.DumpIDs = append(b.DumpIDs, r.id)
		}
		if all(rs, func(r bucketRow) string { return r.sig }) {
			b.Signature = rs[0].sig
		}
		b.Why = why(k, rs, origin[k])
		for from := range origin[k] {
			if from != k {
				b.Merged = append(b.Merged, from)
			}
		}
		sort.Strings(b.Merged)
		b.Notes = notes[k]
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if !a.LastSeen.Equal(b.LastSeen) {
			return a.LastSeen.After(b.LastSeen)
		}
		return a.Key < b.Key
	})
	return out, nil
}

func (db *DB) overrides(ctx context.Context) (map[string]string, map[int64]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT kind, bucket_key, dump_id, target_key FROM bucket_overrides ORDER BY id")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	merges, splits := map[string]string{}, map[int64]string{}
	for rows.Next() {
		var kind, target string
		var key sql.NullString
		var id sql.NullInt64
		if err := rows.Scan(&kind, &key, &id, &target); err != nil {
			return nil, nil, err
		}
		switch {
		case kind == "merge" && key.Valid:
			merges[key.String] = target
		case kind == "split" && id.Valid:
			splits[id.Int64] = target
		}
	}
	return merges, splits, rows.Err()
}

// MergeBuckets makes every dump of bucket from part of bucket into, which
// may be a new name. It returns ErrNoBucket when from is no bucket.
func (db *DB) MergeBuckets(ctx context.Context, from, into string) error {
	if strings.TrimSpace(into) == "" || from == into {
		return fmt.Errorf("workspace: cannot merge bucket %q into %q", from, into)
	}
	if ok, err := db.BucketKnown(ctx, from); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s", ErrNoBucket, from)
	}
	_, err := db.sql.ExecContext(ctx, "INSERT INTO bucket_overrides (kind, bucket_key, target_key, created_at) VALUES ('merge', ?, ?, ?)",
		from, into, time.Now().Unix())
	return err
}

// SplitDump moves one dump to bucket into, whatever its own key says.
func (db *DB) SplitDump(ctx context.Context, dumpID int64, into string) error {
	if strings.TrimSpace(into) == "" {
		return errors.New("workspace: no bucket to move the dump to")
	}
	if err := db.checkDump(ctx, dumpID); err != nil {
		return err
	}
	_, err := db.sql.ExecContext(ctx, "INSERT INTO bucket_overrides (kind, dump_id, target_key, created_at) VALUES ('split', ?, ?, ?)",
		dumpID, into, time.Now().Unix())
	return err
}

// BucketKnown reports whether key is a bucket: a dump's own key or the
// target of a merge or move.
func (db *DB) BucketKnown(ctx context.Context, key string) (bool, error) {
	var one int
	err := db.sql.QueryRowContext(ctx, `SELECT 1 WHERE EXISTS (SELECT 1 FROM dumps WHERE bucket_key = ?)
		OR EXISTS (SELECT 1 FROM bucket_overrides WHERE target_key = ?)`, key, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Unmerge undoes every merge of bucket from: its dumps go back to their
// own key (or to where a later merge of that key sends them). It returns
// how many merges it removed.
func (db *DB) Unmerge(ctx context.Context, from string) (int64, error) {
	res, err := db.sql.ExecContext(ctx, "DELETE FROM bucket_overrides WHERE kind = 'merge' AND bucket_key = ?", from)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// MovedTo returns the bucket the user moved a dump to, ok false when it
// is in its own.
func (db *DB) MovedTo(ctx context.Context, dumpID int64) (string, bool, error) {
	var into string
	err := db.sql.QueryRowContext(ctx, "SELECT target_key FROM bucket_overrides WHERE kind = 'split' AND dump_id = ? ORDER BY id DESC LIMIT 1", dumpID).Scan(&into)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return into, err == nil, err
}

// Unsplit undoes the moves of one dump: it goes back to its own bucket.
// It returns how many moves it removed.
func (db *DB) Unsplit(ctx context.Context, dumpID int64) (int64, error) {
	res, err := db.sql.ExecContext(ctx, "DELETE FROM bucket_overrides WHERE kind = 'split' AND dump_id = ?", dumpID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// all reports whether f gives the same non-empty value for every row.
func all(rs []bucketRow, f func(bucketRow) string) bool {
	v := f(rs[0])
	if v == "" {
		return false
	}
	for _, r := range rs[1:] {
		if f(r) != v {
			return false
		}
	}
	return true
}

// why explains, from what the dumps share, why they are one bucket.
func why(key string, rs []bucketRow, from map[string]bool) string {
	var b strings.Builder
	stored := make([]string, 0, len(from))
	for k := range from {
		stored = append(stored, k)
	}
	sort.Strings(stored)
	switch {
	case len(stored) > 1 || (len(stored) == 1 && stored[0] != key):
		fmt.Fprintf(&b, "grouped by the user under %s (from %s)", key, strings.Join(stored, ", "))
		return b.String()
	case all(rs, func(r bucketRow) string { return r.bktID }) && rs[0].bktID == key:
		fmt.Fprintf(&b, "same bucket id %s", key)
	case all(rs, func(r bucketRow) string { return r.bktID }) && all(rs, func(r bucketRow) string { return r.sig }) && key == rs[0].bktID+" "+rs[0].sig:
		fmt.Fprintf(&b, "same bucket id %s and same location %s (the faulting function has no symbol, so the module-relative address tells crash sites apart)", rs[0].bktID, rs[0].sig)
	default:
		fmt.Fprintf(&b, "same signature %s (no bucket id)", key)
	}
	var facts []string
	if all(rs, func(r bucketRow) string { return crashCode(r) }) {
		facts = append(facts, "same "+crashCode(rs[0]))
	}
	fn := func(r bucketRow) string {
		if i := strings.LastIndex(r.frame, "+0x"); i > 0 {
			return r.frame[:i]
		}
		return r.frame
	}
	switch {
	case all(rs, func(r bucketRow) string { return r.frame }):
		facts = append(facts, "same faulting frame "+rs[0].frame)
	case all(rs, fn):
		facts = append(facts, "same faulting function "+fn(rs[0])+" (at different offsets)")
	case all(rs, func(r bucketRow) string { return r.module }):
		facts = append(facts, "same faulting module "+rs[0].module)
	}
	if all(rs, func(r bucketRow) string { return r.sig }) && rs[0].sig != key && !strings.HasSuffix(key, " "+rs[0].sig) && !strings.HasPrefix(rs[0].sig, "EMPTY") {
		facts = append(facts, "same signature "+rs[0].sig)
	}
	if len(facts) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(facts, " and "))
	}
	if len(rs) > 1 {
		pids := map[int64]bool{}
		for _, r := range rs {
			if r.pid.Valid {
				pids[r.pid.Int64] = true
			}
		}
		if len(pids) > 1 {
			fmt.Fprintf(&b, "; %d runs (process ids differ; frames are module-relative, so load addresses do not matter)", len(pids))
		}
	}
	return b.String()
}

// crashCode names a dump's crash event for Why: "exception code
// 0xc0000005 (EXCEPTION_ACCESS_VIOLATION_WRITE)", "signal SIGSEGV", "bug
// check 0xd1 (DRIVER_IRQL_NOT_LESS_OR_EQUAL)".
func crashCode(r bucketRow) string {
	switch r.kind {
	case "exception":
		if r.code.Valid {
			return fmt.Sprintf("exception code %#x (%s)", uint32(r.code.Int64), r.name)
		}
	case "bugcheck":
		if r.code.Valid {
			return fmt.Sprintf("bug check %#x (%s)", r.code.Int64, r.name)
		}
	case "signal":
		return "signal " + r.name
	}
	if r.name != "" {
		return r.kind + " " + r.name
	}
	return ""
}
