package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/crashbench/crashbench/workspace"
)

// What a support engineer says about the index: bucket merges and moves
// (`buckets merge|unmerge|move|unmove`), notes and tags on dumps.

// bucketVerbs are the subcommands of `crashbench buckets` that change
// the grouping rather than print it.
var bucketVerbs = map[string]struct {
	usage string
	args  int
}{
	"merge":   {"buckets merge [--db P] FROM INTO   every dump of bucket FROM goes to INTO (a bucket or a new name)", 2},
	"unmerge": {"buckets unmerge [--db P] FROM      undo the merges of FROM", 1},
	"move":    {"buckets move [--db P] FILE INTO    one dump goes to bucket INTO", 2},
	"unmove":  {"buckets unmove [--db P] FILE       the dump goes back to its own bucket", 1},
}

// runBucketVerb runs `crashbench buckets VERB ARGS` on the opened index.
func runBucketVerb(ctx context.Context, db *workspace.DB, verb string, args []string, stdout, stderr io.Writer) int {
	v := bucketVerbs[verb]
	if len(args) != v.args {
		fmt.Fprintln(stderr, "usage: crashbench "+v.usage)
		return ExitUsage
	}
	cmd := "buckets " + verb
	switch verb {
	case "merge":
		if err := db.MergeBuckets(ctx, args[0], args[1]); err != nil {
			return curateFail(stderr, cmd, err)
		}
		fmt.Fprintf(stdout, "merged %s into %s (undo: crashbench buckets unmerge %s)\n", args[0], args[1], quoteArg(args[0]))
	case "unmerge":
		n, err := db.Unmerge(ctx, args[0])
		if err != nil {
			return curateFail(stderr, cmd, err)
		}
		if n == 0 {
			fmt.Fprintf(stderr, "crashbench %s: bucket %s was not merged into another\n", cmd, args[0])
			return ExitBadInput
		}
		fmt.Fprintf(stdout, "%s is its own bucket again\n", args[0])
	case "move", "unmove":
		id, ok := dumpOf(ctx, db, cmd, args[0], stderr)
		if !ok {
			return ExitBadInput
		}
		if verb == "move" {
			if err := db.SplitDump(ctx, id, args[1]); err != nil {
				return curateFail(stderr, cmd, err)
			}
			fmt.Fprintf(stdout, "moved %s to bucket %s (undo: crashbench buckets unmove %s)\n", args[0], args[1], quoteArg(args[0]))
			return ExitOK
		}
		n, err := db.Unsplit(ctx, id)
		if err != nil {
			return curateFail(stderr, cmd, err)
		}
		if n == 0 {
			fmt.Fprintf(stderr, "crashbench %s: %s was not moved\n", cmd, args[0])
			return ExitBadInput
		}
		fmt.Fprintf(stdout, "%s is back in its own bucket\n", args[0])
	}
	return ExitOK
}

// runNote is `crashbench note [--db P] FILE [TEXT...]` and `crashbench
// note [--db P] --bucket KEY [TEXT...]`: the dump's (or the bucket's)
// notes, or with TEXT a new one.
func runNote(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("note", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	bucket := fs.String("bucket", "", "note the whole bucket `KEY` instead of one dump")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: crashbench note [--db P] FILE [TEXT...]")
		fmt.Fprintln(stderr, "       crashbench note [--db P] --bucket KEY [TEXT...]")
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(rest) == 0 && *bucket == "" {
		fs.Usage()
		return ExitUsage
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "note", err)
	}
	defer db.Close()
	if *bucket != "" {
		return noteBucket(ctx, db, *bucket, rest, stdout, stderr)
	}
	id, ok := dumpOf(ctx, db, "note", rest[0], stderr)
	if !ok {
		return ExitBadInput
	}
	if text := strings.Join(rest[1:], " "); len(rest) > 1 {
		n, err := db.AddNote(ctx, id, text)
		if err != nil {
			return curateFail(stderr, "note", err)
		}
		printNotes(stdout, stderr, []workspace.Note{n}, "")
		return ExitOK
	}
	notes, err := db.Notes(ctx, id)
	if err != nil {
		return dbFail(stderr, "note", err)
	}
	printNotes(stdout, stderr, notes, rest[0])
	return ExitOK
}

// printNotes prints notes, oldest first, one a line; none is said on
// stderr, of what (a file, a bucket).
func printNotes(stdout, stderr io.Writer, notes []workspace.Note, of string) {
	for _, n := range notes {
		fmt.Fprintf(stdout, "%s  %s\n", rfc3339(n.Created), n.Text)
	}
	if len(notes) == 0 {
		fmt.Fprintf(stderr, "no notes on %s\n", of)
	}
}

// noteBucket adds text (when given) to bucket key's notes, or lists them.
func noteBucket(ctx context.Context, db *workspace.DB, key string, text []string, stdout, stderr io.Writer) int {
	if len(text) > 0 {
		n, err := db.AddBucketNote(ctx, key, strings.Join(text, " "))
		if err != nil {
			return curateFail(stderr, "note", err)
		}
		printNotes(stdout, stderr, []workspace.Note{n}, "")
		return ExitOK
	}
	bs, err := db.Buckets(ctx)
	if err != nil {
		return dbFail(stderr, "note", err)
	}
	for _, b := range bs {
		if b.Key != key {
			continue
		}
		printNotes(stdout, stderr, b.Notes, "bucket "+key)
		return ExitOK
	}
	fmt.Fprintf(stderr, "crashbench note: no bucket %s (crashbench buckets lists them)\n", key)
	return ExitBadInput
}

// runTag is `crashbench tag [--db P] [--remove] FILE [TAG...]`: the
// dump's tags, after adding (or removing) the ones given.
func runTag(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tag", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	remove := fs.Bool("remove", false, "remove the tags instead of adding them")
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: crashbench tag [--db P] [--remove] FILE [TAG...]") }
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(rest) == 0 || (*remove && len(rest) == 1) {
		fs.Usage()
		return ExitUsage
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "tag", err)
	}
	defer db.Close()
	id, ok := dumpOf(ctx, db, "tag", rest[0], stderr)
	if !ok {
		return ExitBadInput
	}
	for _, tag := range rest[1:] {
		if *remove {
			err = db.Untag(ctx, id, tag)
		} else {
			err = db.Tag(ctx, id, tag)
		}
		if err != nil {
			return curateFail(stderr, "tag", err)
		}
	}
	tags, err := db.Tags(ctx, id)
	if err != nil {
		return dbFail(stderr, "tag", err)
	}
	if len(tags) > 0 {
		fmt.Fprintln(stdout, strings.Join(tags, " "))
	} else {
		fmt.Fprintf(stderr, "no tags on %s\n", rest[0])
	}
	return ExitOK
}

// runPrune is `crashbench prune [--db P]`: the index forgets the files
// deleted since they were indexed, and the dumps left with no file.
func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("prune", flag.ContinueOnError)
	fs.SetOutput(stderr)
	open := dbFlag(fs)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: crashbench prune [--db P]") }
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return ExitUsage
	}
	if len(rest) != 0 {
		fs.Usage()
		return ExitUsage
	}
	db, err := open()
	if err != nil {
		return dbFail(stderr, "prune", err)
	}
	defer db.Close()
	res, err := db.Prune(ctx)
	if err != nil {
		return dbFail(stderr, "prune", err)
	}
	fmt.Fprintf(stdout, "forgot %s\n", res.Forgot())
	if why := res.KeptWhy(); why != "" {
		fmt.Fprintf(stderr, "kept %s\n", why)
	}
	return ExitOK
}

// dumpOf finds the indexed dump of a file; on failure it has said why.
func dumpOf(ctx context.Context, db *workspace.DB, cmd, path string, stderr io.Writer) (int64, bool) {
	id, ok, err := db.DumpOfFile(ctx, path)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "crashbench %s: %s\n", cmd, oneLine(err.Error()))
	case !ok:
		fmt.Fprintf(stderr, "crashbench %s: %s is not a dump in the index (crashbench index %s adds it)\n", cmd, path, quoteArg(path))
	}
	return id, err == nil && ok
}

// curateFail reports a refused change: exit 2 for a bucket or dump the
// index does not hold, 1 for what it cannot take (an empty note, a tag
// with spaces, a bucket merged into itself).
func curateFail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "crashbench %s: %s\n", cmd, strings.TrimPrefix(oneLine(err.Error()), "workspace: "))
	if errors.Is(err, workspace.ErrNoBucket) || errors.Is(err, workspace.ErrNoDump) {
		return ExitBadInput
	}
	return ExitUsage
}

// quoteArg quotes s for a shell when it needs it.
func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?;&|<>()[]{}#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
