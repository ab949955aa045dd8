package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver "sqlite3"
)

// busyTimeout is how long a statement waits for another connection's
// lock (SQLite's busy_timeout) before failing with "database is locked".
const busyTimeout = 10 * time.Second

// DB is an open workspace index.
type DB struct {
	sql  *sql.DB
	path string
}

// DefaultPath returns where the workspace index lives when --db is not
// given: $XDG_DATA_HOME/crashbench/workspace.db (~/.local/share on Linux
// and the BSDs), %LocalAppData%\crashbench\workspace.db on Windows,
// ~/Library/Application Support/crashbench/workspace.db on macOS.
func DefaultPath() (string, error) {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = os.Getenv("LocalAppData")
		if base == "" {
			return "", errors.New("workspace: %LocalAppData% is not set")
		}
	case "darwin", "ios":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, "Library", "Application Support")
	default:
		base = os.Getenv("XDG_DATA_HOME")
		if base == "" || !filepath.IsAbs(base) {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			base = filepath.Join(home, ".local", "share")
		}
	}
	return filepath.Join(base, "crashbench", "workspace.db"), nil
}

// Open opens (creating it if needed) the workspace index at path and
// brings its schema to the latest version.
func Open(path string) (*DB, error) {
	return open(path, len(migrations))
}

// open opens the database and applies the first `upTo` migrations (tests
// build every earlier version this way).
func open(path string, upTo int) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
	}
	q := url.Values{}
	// No _journal_mode: WAL is set once below, as it persists in the
	// file; set on every new connection it fails when two processes
	// create the database at once.
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", fmt.Sprint(busyTimeout.Milliseconds()))
	q.Set("_synchronous", "NORMAL")
	// Transactions that will write take the write lock at BEGIN, so two
	// writers queue on busy_timeout instead of failing to upgrade.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	sdb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("workspace: %s: %w", path, err)
	}
	sdb.SetMaxOpenConns(8)
	sdb.SetMaxIdleConns(8)
	db := &DB{sql: sdb, path: path}
	if err := db.setWAL(context.Background()); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("workspace: %s: %w", path, err)
	}
	if err := db.migrate(context.Background(), upTo); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("workspace: %s: %w", path, err)
	}
	return db, nil
}

// setWAL puts the database in write-ahead-log mode, so that readers
// (the GUI) never wait for a writer (the watcher, the CLI) and writers
// queue on the busy timeout. Switching a new database to WAL needs an
// exclusive lock, and SQLite fails at once instead of waiting when
// another process is switching it too (it would deadlock): retry
// then, for up to busyTimeout.
func (db *DB) setWAL(ctx context.Context) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		var mode string
		err := db.sql.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if isBusy(err) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond + rand.N(10*time.Millisecond))
			continue
		}
		return err
	}
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// SQL returns the underlying database handle, for read-only queries the
// API does not offer yet.
func (db *DB) SQL() *sql.DB { return db.sql }

// Version returns the schema version (PRAGMA user_version).
func (db *DB) Version(ctx context.Context) (int, error) {
	var v int
	err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// SchemaVersion is the latest schema version this build writes.
var SchemaVersion = len(migrations)

// migrate applies migrations[v:upTo] where v is the database's
// user_version, each step in its own transaction together with the
// version bump.
func (db *DB) migrate(ctx context.Context, upTo int) error {
	v, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this build's %d: update Crashbench", v, len(migrations))
	}
	for ; v < upTo; v++ {
		tx, err := db.sql.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Another process (the GUI, the watcher, the CLI) may have
		// migrated since we looked: read the version again under the
		// write lock (BEGIN IMMEDIATE) and skip what it did.
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			tx.Rollback()
			return err
		}
		if v >= upTo {
			tx.Rollback()
			break
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			if strings.Contains(err.Error(), "no such module: fts5") {
				return fmt.Errorf("migration %d: %w (build with -tags sqlite_fts5)", v+1, err)
			}
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
