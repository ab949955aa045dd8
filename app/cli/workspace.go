package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/crashbench/crashbench/workspace"
	"github.com/crashbench/crashbench/workspace/watch"
)

// dbFlag declares --db and returns a function that opens the index it
// names (default: workspace.DefaultPath()).
func dbFlag(fs *flag.FlagSet) func() (*workspace.DB, error) {
	p := fs.String("db", "", "the workspace index (default: $XDG_DATA_HOME/crashbench/workspace.db)")
	return func() (*workspace.DB, error) {
		path := *p
		if path == "" {
			var err error
			if path, err = workspace.DefaultPath(); err != nil {
				return nil, err
			}
		}
		return workspace.Open(path)
	}
}

func dbFail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "crashbench %s: %s\n", cmd, oneLine(err.Error()))
	return ExitBadInput
}

// runIndex is `crashbench index [--db P] [--workers N] [--online] PATH...`.
func runIndex(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	workers := fs.Int("workers", 0, "dumps read at once (default: the number of CPUs)")
	online := fs.Bool("online", false, "let symbol servers and debuginfod be asked (default: their caches only)")
	timeout := fs.Duration("timeout", 60*time.Second, "the longest one dump may take")
	opts := symbolFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench index [--db P] [--workers N] [--online] [--sympath P] PATH...")
	}
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(paths) == 0 {
		fs.Usage()
		return ExitUsage
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return fail(stderr, p, err)
		}
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "index", err)
	}
	defer db.Close()
	tty := isTerminal(stderr)
	last := time.Now()
	progress := func(done, total int, path string) {
		switch {
		case tty && (time.Since(last) > 100*time.Millisecond || done == total):
			last = time.Now()
			fmt.Fprintf(stderr, "\r\033[K[%d/%d] %s", done, total, shorten(path, 60))
			if done == total {
				fmt.Fprintln(stderr)
			}
		case !tty && done%100 == 0 && done > 0:
			fmt.Fprintf(stderr, "indexed %d of %d files\n", done, total)
		}
	}
	res, err := db.Index(ctx, paths, workspace.IndexOptions{Workers: *workers, Online: *online && !opts.Offline,
		Timeout: *timeout, SymPath: opts.SymPath, ImagePath: opts.ImagePath, Sysroot: opts.Sysroot, Progress: progress})
	for _, f := range res.Failures {
		fmt.Fprintf(stderr, "crashbench index: %s\n", f)
	}
	fmt.Fprintf(stdout, "%d files: %d added, %d unchanged, %d duplicates, %d not dumps, %d errors\n",
		res.Files, res.Added, res.Unchanged, res.Duplicates, res.NotDumps, res.Errors)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "crashbench index: interrupted; what was indexed is kept")
		} else {
			fmt.Fprintf(stderr, "crashbench index: %v\n", err)
		}
		return ExitBadInput
	}
	return ExitOK
}

// bucketJSON is one element of `buckets --json` (cli.md).
type bucketJSON struct {
	Signature string   `json:"signature"`
	Count     int      `json:"count"`
	FirstSeen string   `json:"first_seen"`
	LastSeen  string   `json:"last_seen"`
	Dumps     []string `json:"dumps"`
	Why       string   `json:"why"`
	// FrameSignature is the Socorro-style signature the dumps share (an
	// extension of the contract; "signature" is the bucket's key).
	FrameSignature string `json:"frame_signature,omitempty"`
	// Notes are the user's notes on the bucket (an extension).
	Notes []noteJSON `json:"notes,omitempty"`
}

type noteJSON struct {
	Text    string `json:"text"`
	Created string `json:"created"`
}

func rfc3339(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// runBuckets is `crashbench buckets [--db P] [--json] [--correlations KEY]
// [--timeline [--since DATE] [--until DATE]]`.
func runBuckets(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("buckets", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	corr := fs.String("correlations", "", "the modules and module versions bucket `KEY`'s dumps load more often than crashes in general")
	timeline := fs.Bool("timeline", false, "crashes per day (UTC) and bucket")
	since := fs.String("since", "", "with --timeline: from this `DATE` (2024-03-01 or RFC 3339)")
	until := fs.String("until", "", "with --timeline: up to this `DATE`, included when a day")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench buckets [--db P] [--json] [--correlations KEY] [--timeline [--since DATE] [--until DATE]]")
		for _, verb := range []string{"merge", "unmerge", "move", "unmove"} {
			fmt.Fprintln(stderr, "       crashbench "+bucketVerbs[verb].usage)
		}
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(rest) > 0 {
		if _, ok := bucketVerbs[rest[0]]; ok {
			db, err := open()
			if err != nil {
				return dbFail(stderr, "buckets", err)
			}
			defer db.Close()
			return runBucketVerb(ctx, db, rest[0], rest[1:], stdout, stderr)
		}
	}
	if len(rest) != 0 || (*corr != "" && *timeline) {
		fs.Usage()
		return ExitUsage
	}
	var from, to time.Time
	if *since != "" || *until != "" {
		if !*timeline {
			fmt.Fprintln(stderr, "crashbench buckets: --since and --until go with --timeline")
			return ExitUsage
		}
		if from, err = parseDate(*since, false); err != nil {
			fmt.Fprintf(stderr, "crashbench buckets: --since %s: %v\n", *since, err)
			return ExitUsage
		}
		if to, err = parseDate(*until, true); err != nil {
			fmt.Fprintf(stderr, "crashbench buckets: --until %s: %v\n", *until, err)
			return ExitUsage
		}
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "buckets", err)
	}
	defer db.Close()
	bs, err := db.Buckets(ctx)
	if err != nil {
		return dbFail(stderr, "buckets", err)
	}
	switch {
	case *corr != "":
		return printCorrelations(ctx, db, bs, *corr, *asJSON, stdout, stderr)
	case *timeline:
		return printTimeline(ctx, db, from, to, *asJSON, stdout, stderr)
	}
	if *asJSON {
		out := []bucketJSON{}
		for _, b := range bs {
			bj := bucketJSON{Signature: b.Key, Count: b.Count, FirstSeen: rfc3339(b.FirstSeen), LastSeen: rfc3339(b.LastSeen),
				Dumps: b.Dumps, Why: b.Why, FrameSignature: b.Signature}
			for _, n := range b.Notes {
				bj.Notes = append(bj.Notes, noteJSON{Text: n.Text, Created: rfc3339(n.Created)})
			}
			out = append(out, bj)
		}
		if err := writeJSON(stdout, out); err != nil {
			return dbFail(stderr, "buckets", err)
		}
		return ExitOK
	}
	if len(bs) == 0 {
		fmt.Fprintln(stdout, "no crashes indexed")
		return ExitOK
	}
	for i, b := range bs {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintln(stdout, b.Key)
		noun := "dumps"
		if b.Count == 1 {
			noun = "dump"
		}
		fmt.Fprintf(stdout, "  %d %s, first seen %s, last seen %s\n", b.Count, noun, rfc3339(b.FirstSeen), rfc3339(b.LastSeen))
		fmt.Fprintf(stdout, "  why: %s\n", b.Why)
		for _, n := range b.Notes {
			fmt.Fprintf(stdout, "  note (%s): %s\n", rfc3339(n.Created), n.Text)
		}
		for _, d := range b.Dumps {
			fmt.Fprintf(stdout, "  %s\n", d)
		}
	}
	return ExitOK
}

// parseDate reads a --since or --until date: 2024-03-01 (midnight UTC;
// for --until, the end of that day) or RFC 3339. "" is the zero time (no
// bound).
func parseDate(s string, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("not a date (use 2024-03-01 or RFC 3339)")
}

// correlationsJSON is `buckets --correlations KEY --json`.
type correlationsJSON struct {
	Bucket       string            `json:"bucket"`
	Count        int               `json:"count"`   // the bucket's dumps
	Crashes      int               `json:"crashes"` // crash dumps in the index
	Rule         string            `json:"rule"`
	Correlations []correlationJSON `json:"correlations"`
}

type correlationJSON struct {
	Module         string  `json:"module"`
	Version        string  `json:"version,omitempty"` // absent: the module at any version
	InBucket       int     `json:"in_bucket"`
	Overall        int     `json:"overall"`
	BucketPercent  float64 `json:"bucket_percent"`
	OverallPercent float64 `json:"overall_percent"`
}

const correlationRule = "loaded by at least twice the share of the bucket's dumps as of all crashes, or by a share at least 25 points higher"

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func printCorrelations(ctx context.Context, db *workspace.DB, bs []workspace.Bucket, key string, asJSON bool, stdout, stderr io.Writer) int {
	cs, err := db.Correlations(ctx, key)
	if errors.Is(err, workspace.ErrNoBucket) {
		fmt.Fprintf(stderr, "crashbench buckets: no bucket %s (crashbench buckets lists them)\n", key)
		return ExitUsage
	}
	if err != nil {
		return dbFail(stderr, "buckets", err)
	}
	count, crashes := 0, 0
	for _, b := range bs {
		crashes += b.Count
		if b.Key == key {
			count = b.Count
		}
	}
	if asJSON {
		out := correlationsJSON{Bucket: key, Count: count, Crashes: crashes, Rule: correlationRule, Correlations: []correlationJSON{}}
		for _, c := range cs {
			out.Correlations = append(out.Correlations, correlationJSON{Module: c.Module, Version: c.Version, InBucket: c.InBucket,
				Overall: c.Overall, BucketPercent: round1(c.BucketPercent), OverallPercent: round1(c.OverallPercent)})
		}
		if err := writeJSON(stdout, out); err != nil {
			return dbFail(stderr, "buckets", err)
		}
		return ExitOK
	}
	fmt.Fprintln(stdout, key)
	if len(cs) == 0 {
		fmt.Fprintf(stdout, "  %d of %d crash dumps\n", count, crashes)
		fmt.Fprintln(stdout, "  no module is over-represented ("+correlationRule+")")
		return ExitOK
	}
	names := make([]string, len(cs))
	bucket := make([]string, len(cs))
	width, bwidth := len("module"), len("in bucket")
	for i, c := range cs {
		names[i] = c.Module
		if c.Version != "" {
			names[i] += " " + c.Version
		}
		bucket[i] = fmt.Sprintf("%5.1f%% (%d/%d)", c.BucketPercent, c.InBucket, c.BucketTotal)
		width, bwidth = max(width, len(names[i])), max(bwidth, len(bucket[i]))
	}
	fmt.Fprintf(stdout, "  %d of %d crash dumps; the modules they load more often than crashes in general:\n", count, crashes)
	fmt.Fprintf(stdout, "  %-*s  %-*s  %s\n", width, "module", bwidth, "in bucket", "all crashes")
	for i, c := range cs {
		fmt.Fprintf(stdout, "  %-*s  %-*s  %5.1f%% (%d/%d)\n", width, names[i], bwidth, bucket[i], c.OverallPercent, c.Overall, c.Total)
	}
	return ExitOK
}

// timelineJSON is one element of `buckets --timeline --json`.
type timelineJSON struct {
	Day    string `json:"day"` // 2024-03-01 (UTC)
	Bucket string `json:"bucket"`
	Count  int    `json:"count"`
}

func printTimeline(ctx context.Context, db *workspace.DB, since, until time.Time, asJSON bool, stdout, stderr io.Writer) int {
	ps, err := db.Timeline(ctx, since, until)
	if err != nil {
		return dbFail(stderr, "buckets", err)
	}
	if asJSON {
		out := []timelineJSON{}
		for _, p := range ps {
			out = append(out, timelineJSON{Day: p.Day.Format("2006-01-02"), Bucket: p.Bucket, Count: p.Count})
		}
		if err := writeJSON(stdout, out); err != nil {
			return dbFail(stderr, "buckets", err)
		}
		return ExitOK
	}
	if len(ps) == 0 {
		fmt.Fprintln(stdout, "no crashes in that time")
		return ExitOK
	}
	width := 0
	for _, p := range ps {
		width = max(width, len(fmt.Sprint(p.Count)))
	}
	for _, p := range ps {
		fmt.Fprintf(stdout, "%s  %*d  %s\n", p.Day.Format("2006-01-02"), width, p.Count, p.Bucket)
	}
	return ExitOK
}

// hitJSON is one element of `search --json`.
type hitJSON struct {
	Path      string   `json:"path"`
	Format    string   `json:"format,omitempty"`
	Time      string   `json:"time"`
	Process   string   `json:"process,omitempty"`
	Crash     string   `json:"crash,omitempty"`
	Signature string   `json:"signature,omitempty"`
	Bucket    string   `json:"bucket,omitempty"`
	Status    string   `json:"status"`
	Tags      []string `json:"tags,omitempty"`
}

// runSearch is `crashbench search [--db P] [--json] QUERY`.
func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench search [--db P] [--json] QUERY")
		fmt.Fprintln(stderr, "  QUERY: words (module, version, function, signature, bug check, process, path) and")
		fmt.Fprintln(stderr, "  filters module:NAME version:V since:2024-03-01 until:DATE bucket:KEY status:ok|partial|error tag:TAG note:TEXT")
	}
	words, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	// Words were split by the shell: keep each one whole (quoted) when it
	// holds spaces.
	for i, w := range words {
		if strings.ContainsAny(w, " \t") && !strings.Contains(w, `"`) {
			words[i] = `"` + w + `"`
		}
	}
	q := strings.TrimSpace(strings.Join(words, " "))
	if q == "" {
		fs.Usage()
		return ExitUsage
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "search", err)
	}
	defer db.Close()
	hits, err := db.Search(ctx, q)
	if err != nil {
		fmt.Fprintf(stderr, "crashbench %s\n", oneLine(err.Error()))
		return ExitUsage
	}
	if *asJSON {
		out := []hitJSON{}
		for _, h := range hits {
			out = append(out, hitJSON{Path: h.Path, Format: h.Format, Time: rfc3339(h.Time), Process: h.Process,
				Crash: h.Crash, Signature: h.Signature, Bucket: h.Bucket, Status: h.Status, Tags: h.Tags})
		}
		if err := writeJSON(stdout, out); err != nil {
			return dbFail(stderr, "search", err)
		}
		return ExitOK
	}
	for _, h := range hits {
		what := h.Bucket
		if what == "" {
			what = h.Crash
		}
		if what == "" {
			what = "(no crash)"
		}
		if h.Status != workspace.DumpOK {
			what += " [" + h.Status + "]"
		}
		if len(h.Tags) > 0 {
			what += " (tags: " + strings.Join(h.Tags, " ") + ")"
		}
		fmt.Fprintf(stdout, "%s  %s  %s\n", rfc3339(h.Time), h.Path, what)
	}
	if len(hits) == 0 {
		fmt.Fprintln(stderr, "no dumps found")
	}
	return ExitOK
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n+3:]
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runWatch is `crashbench watch [--db P] [DIR...]`: it indexes every dump
// that appears in the folders (default: the system's crash folders, those
// that exist), once each is completely written, until interrupted.
func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	stable := fs.Duration("stable", 2*time.Second, "how long a file's size must stay unchanged before it is indexed")
	online := fs.Bool("online", false, "let symbol servers and debuginfod be asked (default: their caches only)")
	opts := symbolFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench watch [--db P] [--stable D] [--online] [--sympath P] [DIR...]")
	}
	dirs, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(dirs) == 0 {
		if dirs = watch.DefaultDirs(); len(dirs) == 0 {
			fmt.Fprintln(stderr, "crashbench watch: none of this system's crash folders exists; name the folders to watch")
			return ExitUsage
		}
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "watch", err)
	}
	defer db.Close()
	index := func(ctx context.Context, path string) error {
		res, err := db.Index(ctx, []string{path}, workspace.IndexOptions{Workers: 1, Online: *online && !opts.Offline,
			SymPath: opts.SymPath, ImagePath: opts.ImagePath, Sysroot: opts.Sysroot})
		for _, f := range res.Failures {
			fmt.Fprintf(stderr, "crashbench watch: %s\n", f)
		}
		if res.Added > 0 {
			fmt.Fprintf(stdout, "indexed %s\n", path)
		}
		return err
	}
	removed := func(ctx context.Context, path string) error {
		files, dumps, err := db.Forget(ctx, path)
		if files > 0 {
			fmt.Fprintf(stdout, "forgot %s (deleted)", path)
			if dumps > 0 {
				fmt.Fprint(stdout, " and its dump")
			}
			fmt.Fprintln(stdout)
		}
		return err
	}
	w, err := watch.New(watch.Options{Dirs: dirs, Index: index, Removed: removed, Stable: *stable,
		Logf: func(f string, a ...any) { fmt.Fprintf(stderr, "crashbench watch: "+f+"\n", a...) }})
	if err != nil {
		fmt.Fprintf(stderr, "crashbench watch: %v\n", err)
		return ExitUsage
	}
	fmt.Fprintf(stderr, "crashbench watch: watching %s (Ctrl-C stops)\n", strings.Join(dirs, ", "))
	if err := w.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "crashbench watch: %v\n", err)
		return ExitBadInput
	}
	return ExitOK
}
