package workspace

import (
	"context"
	"database/sql"
	"path/filepath"
	"time"
)

// WatchedFolders returns the folders the workbench watches, in the order
// they were added.
func (db *DB) WatchedFolders(ctx context.Context) ([]string, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT path FROM watched_folders ORDER BY added_at, path")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AddWatchedFolder records dir (made absolute) as watched; adding it again
// changes nothing.
func (db *DB) AddWatchedFolder(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	_, err = db.sql.ExecContext(ctx, "INSERT OR IGNORE INTO watched_folders (path, added_at) VALUES (?, ?)", abs, time.Now().UnixNano())
	return err
}

// RemoveWatchedFolder stops recording dir as watched; what was indexed
// from it stays in the index.
func (db *DB) RemoveWatchedFolder(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	_, err = db.sql.ExecContext(ctx, "DELETE FROM watched_folders WHERE path = ?", abs)
	return err
}

// DumpOfFile returns the id of the dump a file was indexed as (its own
// content, or the earlier file it duplicates), and false when the file is
// not indexed as a dump.
func (db *DB) DumpOfFile(ctx context.Context, path string) (int64, bool, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, false, err
	}
	var id sql.NullInt64
	err = db.sql.QueryRowContext(ctx, "SELECT dump_id FROM files WHERE path = ?", abs).Scan(&id)
	if err == sql.ErrNoRows || (err == nil && !id.Valid) {
		return 0, false, nil
	}
	return id.Int64, err == nil, err
}
