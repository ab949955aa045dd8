package workspace

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// ErrNoBucket is returned for a bucket key that no crash dump has (after
// the user's merges and splits).
var ErrNoBucket = errors.New("workspace: no such bucket")

// Correlation is a module, or a module at one version, that the dumps of
// a bucket load more often than crashes in general do (Socorro's
// correlations tab).
type Correlation struct {
	Module  string // the module's name (as the bucket's dumps spell it)
	Version string // "" for the module at any version

	InBucket    int // the bucket's dumps that load it
	BucketTotal int // the bucket's dumps
	Overall     int // crash dumps in the index that load it (the bucket's included)
	Total       int // crash dumps in the index

	BucketPercent  float64 // 100 × InBucket / BucketTotal
	OverallPercent float64 // 100 × Overall / Total
}

// Over-representation rule: a module (or module version) is kept when
// the bucket's share is at least CorrelationRatio times the overall share,
// or at least CorrelationMargin above it (shares as fractions of 1).
const (
	CorrelationRatio  = 2
	CorrelationMargin = 0.25
)

// crashDump is a crash dump with its effective bucket key (the user's
// merges and splits applied, exactly as Buckets applies them) and its
// time.
type crashDump struct {
	id   int64
	key  string
	seen time.Time
}

// crashDumps lists the dumps that are in a bucket: those with a bucket
// key (dumps that record no crash are in none).
func (db *DB) crashDumps(ctx context.Context) ([]crashDump, error) {
	merges, splits, err := db.overrides(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id, bucket_key, COALESCE(crash_time * 1000000000, mtime)
		FROM dumps WHERE bucket_key IS NOT NULL ORDER BY 3, path`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crashDump
	for rows.Next() {
		var d crashDump
		var ns int64
		if err := rows.Scan(&d.id, &d.key, &ns); err != nil {
			return nil, err
		}
		d.seen = time.Unix(0, ns).UTC()
		d.key = effectiveKey(d.id, d.key, merges, splits)
		out = append(out, d)
	}
	return out, rows.Err()
}

// effectiveKey is the bucket a dump is shown in: a split's target, else
// its key with merges followed (as Buckets does).
func effectiveKey(id int64, key string, merges map[string]string, splits map[int64]string) string {
	if t, ok := splits[id]; ok {
		return t
	}
	for i := 0; i < 16; i++ { // follow merge chains, never loop
		t, ok := merges[key]
		if !ok || t == key {
			break
		}
		key = t
	}
	return key
}

// Correlations compares, for every module name and every (module,
// version) pair, the share of the bucket's dumps that load it with the
// share of all crash dumps in the index that load it (the bucket's own
// included; dumps that record no crash are not counted). Module names
// are compared case-insensitively, versions exactly; unloaded modules
// do not count, and a module without a version gives only the
// module-wide entry. Those over-represented in the bucket (see
// CorrelationRatio and CorrelationMargin) are returned, the largest
// difference of shares first, then by module, then version (the
// module-wide entry before its versions). The bucket is named by its key
// as Buckets shows it, merges and splits applied; an unknown key is
// ErrNoBucket.
func (db *DB) Correlations(ctx context.Context, bucketKey string) ([]Correlation, error) {
	dumps, err := db.crashDumps(ctx)
	if err != nil {
		return nil, err
	}
	inBucket := map[int64]bool{}
	for _, d := range dumps {
		if d.key == bucketKey {
			inBucket[d.id] = true
		}
	}
	if len(inBucket) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoBucket, bucketKey)
	}
	isCrash := make(map[int64]bool, len(dumps))
	for _, d := range dumps {
		isCrash[d.id] = true
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT m.dump_id, m.name, COALESCE(m.version, '')
		FROM modules m JOIN dumps d ON d.id = m.dump_id
		WHERE d.bucket_key IS NOT NULL AND m.unloaded = 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type item struct{ module, version string } // module lower-cased
	type tally struct {
		in, all int
		seen    map[int64]bool // dumps counted
		name    string         // the spelling shown: the smallest among the bucket's dumps
	}
	tallies := map[item]*tally{}
	add := func(it item, id int64, name string) {
		t := tallies[it]
		if t == nil {
			t = &tally{seen: map[int64]bool{}}
			tallies[it] = t
		}
		if inBucket[id] && (t.name == "" || name < t.name) {
			t.name = name
		}
		if t.seen[id] {
			return
		}
		t.seen[id] = true
		t.all++
		if inBucket[id] {
			t.in++
		}
	}
	for rows.Next() {
		var id int64
		var name, version string
		if err := rows.Scan(&id, &name, &version); err != nil {
			return nil, err
		}
		if !isCrash[id] || name == "" {
			continue
		}
		low := strings.ToLower(name)
		add(item{low, ""}, id, name)
		if version != "" {
			add(item{low, version}, id, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	nb, n := len(inBucket), len(dumps)
	var out []Correlation
	for it, t := range tallies {
		if t.in == 0 {
			continue
		}
		// bucket share ≥ ratio × overall share, or ≥ overall share +
		// margin, in integers: in/nb ≥ ratio·all/n ⇔ in·n ≥ ratio·all·nb.
		over := t.in*n >= CorrelationRatio*t.all*nb ||
			float64(t.in)/float64(nb)-float64(t.all)/float64(n) >= CorrelationMargin-1e-12
		if !over {
			continue
		}
		out = append(out, Correlation{Module: t.name, Version: it.version,
			InBucket: t.in, BucketTotal: nb, Overall: t.all, Total: n,
			BucketPercent: 100 * float64(t.in) / float64(nb), OverallPercent: 100 * float64(t.all) / float64(n)})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		// The difference of shares, a.in/nb − a.all/n, compared exactly.
		da, dbb := a.InBucket*n-a.Overall*nb, b.InBucket*n-b.Overall*nb
		if da != dbb {
			return da > dbb
		}
		if a.InBucket != b.InBucket {
			return a.InBucket > b.InBucket
		}
		if la, lb := strings.ToLower(a.Module), strings.ToLower(b.Module); la != lb {
			return la < lb
		}
		return a.Version < b.Version
	})
	return out, nil
}
