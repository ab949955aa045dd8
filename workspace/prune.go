package workspace

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// PruneResult is what Prune forgot and what it kept.
type PruneResult struct {
	Files int // file records removed: the files are gone
	Dumps int // dumps removed with them (and their notes, tags and moves)
	// Kept counts missing files Prune left alone because their folder is
	// gone too: an unmounted disk or share looks like that, and
	// forgetting its dumps would lose the user's notes for nothing.
	Kept          int
	MissingFolder []string // those folders, sorted
}

// Forgot says what was forgotten: "1 deleted file and 1 dump".
func (r PruneResult) Forgot() string {
	return countOf(r.Files, "deleted file", "deleted files") + " and " + countOf(r.Dumps, "dump", "dumps")
}

// KeptWhy says which missing files were kept and why, "" when none was.
func (r PruneResult) KeptWhy() string {
	if r.Kept == 0 {
		return ""
	}
	return countOf(r.Kept, "file", "files") + " whose folders are missing too (an unmounted disk or share?): " + strings.Join(r.MissingFolder, ", ")
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Prune forgets the files that were deleted since they were indexed:
// their records go, and so does a dump none of whose files is left. A
// dump still found under another path (a duplicate) stays and is listed
// under that path from then on. Only files whose folder still exists are
// forgotten (see PruneResult.Kept).
func (db *DB) Prune(ctx context.Context) (PruneResult, error) {
	var res PruneResult
	rows, err := db.sql.QueryContext(ctx, "SELECT path FROM files ORDER BY path")
	if err != nil {
		return res, err
	}
	var gone []string
	missingDirs := map[string]bool{}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return res, err
		}
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			continue // there, or unknown (permissions): kept
		}
		dir := filepath.Dir(p)
		if _, err := os.Stat(dir); err != nil {
			missingDirs[dir] = true
			res.Kept++
			continue
		}
		gone = append(gone, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, err
	}
	for d := range missingDirs {
		res.MissingFolder = append(res.MissingFolder, d)
	}
	slices.Sort(res.MissingFolder)
	res.Files, res.Dumps, err = db.forget(ctx, gone)
	return res, err
}

// Forget forgets the indexed files at paths that no longer exist (the
// watcher saw them deleted), as Prune does; a path that exists again, or
// was never indexed, is left alone. It returns how many files and dumps
// it forgot.
func (db *DB) Forget(ctx context.Context, paths ...string) (files, dumps int, err error) {
	var gone []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return 0, 0, err
		}
		if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, abs)
		}
	}
	return db.forget(ctx, gone)
}

// forget removes the file records of gone, in one transaction, and each
// dump left without a file; a dump with a file left takes its path.
func (db *DB) forget(ctx context.Context, gone []string) (files, dumps int, err error) {
	if len(gone) == 0 {
		return 0, 0, nil
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	touched := map[int64]bool{}
	for _, p := range gone {
		var id sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT dump_id FROM files WHERE path = ?", p).Scan(&id); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				continue // removed meanwhile by another process
			}
			return 0, 0, err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM files WHERE path = ?", p); err != nil {
			return 0, 0, err
		}
		files++
		if id.Valid {
			touched[id.Int64] = true
		}
	}
	for id := range touched {
		// The dump's first remaining file, if any, becomes its path.
		var left sql.NullString
		err := tx.QueryRowContext(ctx, "SELECT MIN(path) FROM files WHERE dump_id = ?", id).Scan(&left)
		if err != nil {
			return 0, 0, err
		}
		if left.Valid {
			if _, err := tx.ExecContext(ctx, "UPDATE dumps SET path = ? WHERE id = ?", left.String, id); err != nil {
				return 0, 0, err
			}
			if _, err := tx.ExecContext(ctx, "UPDATE search SET path = ? WHERE rowid = ?", left.String, id); err != nil {
				return 0, 0, err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM dumps WHERE id = ?", id); err != nil {
			return 0, 0, err
		}
		dumps++
	}
	return files, dumps, tx.Commit()
}
