package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoDump is returned for a dump id the index does not hold.
var ErrNoDump = errors.New("workspace: no such dump")

// Note is a user's note on a dump or on a whole bucket.
type Note struct {
	ID      int64
	DumpID  int64  // the dump noted, 0 for a bucket's note
	Bucket  string // the bucket noted, "" for a dump's note
	Text    string
	Created time.Time // UTC, to the second
}

// checkDump returns ErrNoDump when the index holds no dump dumpID.
func (db *DB) checkDump(ctx context.Context, dumpID int64) error {
	var one int
	err := db.sql.QueryRowContext(ctx, "SELECT 1 FROM dumps WHERE id = ?", dumpID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %d", ErrNoDump, dumpID)
	}
	return err
}

// AddNote adds a note to a dump. Notes are kept as written (an empty or
// blank note is refused) and deleted with the dump.
func (db *DB) AddNote(ctx context.Context, dumpID int64, text string) (Note, error) {
	return db.addNote(ctx, Note{DumpID: dumpID, Text: text}, func() error { return db.checkDump(ctx, dumpID) })
}

// AddBucketNote adds a note to a whole bucket ("known issue, fixed in
// 2.1"): every dump grouped under key shows it. The bucket must exist.
func (db *DB) AddBucketNote(ctx context.Context, key, text string) (Note, error) {
	return db.addNote(ctx, Note{Bucket: key, Text: text}, func() error {
		if ok, err := db.BucketKnown(ctx, key); err != nil || ok {
			return err
		}
		return fmt.Errorf("%w: %s", ErrNoBucket, key)
	})
}

// addNote stores n (on a dump, or on a bucket when n.DumpID is 0) once
// its text is not blank and exists says what it notes is there.
func (db *DB) addNote(ctx context.Context, n Note, exists func() error) (Note, error) {
	if strings.TrimSpace(n.Text) == "" {
		return Note{}, errors.New("workspace: empty note")
	}
	if err := exists(); err != nil {
		return Note{}, err
	}
	var dumpID, bucket any // NULL unless set
	if n.DumpID != 0 {
		dumpID = n.DumpID
	} else {
		bucket = n.Bucket
	}
	n.Created = time.Now().UTC().Truncate(time.Second)
	res, err := db.sql.ExecContext(ctx, "INSERT INTO notes (dump_id, bucket_key, text, created_at) VALUES (?, ?, ?, ?)",
		dumpID, bucket, n.Text, n.Created.Unix())
	if err != nil {
		return Note{}, err
	}
	if n.ID, err = res.LastInsertId(); err != nil {
		return Note{}, err
	}
	return n, nil
}

// bucketNotes returns every bucket's notes by key, oldest first.
func (db *DB) bucketNotes(ctx context.Context) (map[string][]Note, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, bucket_key, text, created_at FROM notes WHERE dump_id IS NULL AND bucket_key IS NOT NULL ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]Note{}
	for rows.Next() {
		var n Note
		var at int64
		if err := rows.Scan(&n.ID, &n.Bucket, &n.Text, &at); err != nil {
			return nil, err
		}
		n.Created = time.Unix(at, 0).UTC()
		out[n.Bucket] = append(out[n.Bucket], n)
	}
	return out, rows.Err()
}

// Notes returns a dump's notes, oldest first.
func (db *DB) Notes(ctx context.Context, dumpID int64) ([]Note, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, text, created_at FROM notes WHERE dump_id = ? ORDER BY created_at, id", dumpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Note
	for rows.Next() {
		n := Note{DumpID: dumpID}
		var at int64
		if err := rows.Scan(&n.ID, &n.Text, &at); err != nil {
			return nil, err
		}
		n.Created = time.Unix(at, 0).UTC()
		out = append(out, n)
	}
	return out, rows.Err()
}

// normTag trims a tag and refuses an empty one or one with spaces (a
// search's tag: filter could not name it).
func normTag(tag string) (string, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" || strings.ContainsAny(tag, " \t\r\n\"") {
		return "", fmt.Errorf("workspace: bad tag %q (tags are single words)", tag)
	}
	return tag, nil
}

// Tag tags a dump. Tags are compared case-insensitively: tagging a dump
// again, in any case, changes nothing.
func (db *DB) Tag(ctx context.Context, dumpID int64, tag string) error {
	tag, err := normTag(tag)
	if err != nil {
		return err
	}
	if err := db.checkDump(ctx, dumpID); err != nil {
		return err
	}
	_, err = db.sql.ExecContext(ctx, `INSERT OR IGNORE INTO tags (dump_id, tag)
		SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM tags WHERE dump_id = ? AND tag = ? COLLATE NOCASE)`,
		dumpID, tag, dumpID, tag)
	return err
}

// Untag removes a tag (in any case) from a dump; removing a tag the dump
// does not have is not an error.
func (db *DB) Untag(ctx context.Context, dumpID int64, tag string) error {
	tag, err := normTag(tag)
	if err != nil {
		return err
	}
	_, err = db.sql.ExecContext(ctx, "DELETE FROM tags WHERE dump_id = ? AND tag = ? COLLATE NOCASE", dumpID, tag)
	return err
}

// Tags returns a dump's tags, sorted case-insensitively.
func (db *DB) Tags(ctx context.Context, dumpID int64) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT tag FROM tags WHERE dump_id = ? ORDER BY tag COLLATE NOCASE, tag", dumpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
