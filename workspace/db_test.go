package workspace

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func schema(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.sql.Query("SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_schema ORDER BY type, name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name, tbl, sql string
		rows.Scan(&typ, &name, &tbl, &sql)
		out = append(out, strings.Join([]string{typ, name, tbl, sql}, "|"))
	}
	return out
}

// TestMigrations opens a database at every earlier schema version, with
// a dump in it when the version has the tables, migrates it to the
// latest and checks the schema equals a fresh one's and the data stayed.
func TestMigrations(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	fresh, err := Open(filepath.Join(dir, "fresh.db"))
	if err != nil {
		t.Fatal(err)
	}
	want := schema(t, fresh)
	if v, _ := fresh.Version(context.Background()); v != SchemaVersion || v < 2 {
		t.Fatalf("fresh version %d, want %d", v, SchemaVersion)
	}
	fresh.Close()
	dump := filepath.Join(dir, "crash.dmp")
	writeFile(t, dump, crashSpec{pid: 9}.bytes(t))
	for k := 0; k < len(migrations); k++ {
		p := filepath.Join(dir, "v"+string(rune('0'+k))+".db")
		old, err := open(p, k)
		if err != nil {
			t.Fatalf("version %d: %v", k, err)
		}
		if v, _ := old.Version(context.Background()); v != k {
			t.Fatalf("built version %d, want %d", v, k)
		}
		if k >= 1 {
			// The first version has dumps and files: index into it
			// directly, the way that version's writer did.
			_, err := old.sql.Exec(`INSERT INTO dumps (sha256, path, size, mtime, status, indexed_at, bucket_key) VALUES ('x', ?, 1, 2, 'ok', 3, 'B');
				INSERT INTO files (path, size, mtime, sha256, status, dump_id, indexed_at) VALUES (?, 1, 2, 'x', 'dump', 1, 3)`, dump, dump)
			if err != nil {
				t.Fatal(err)
			}
		}
		old.Close()
		db, err := Open(p)
		if err != nil {
			t.Fatalf("migrating from %d: %v", k, err)
		}
		if got := schema(t, db); !reflect.DeepEqual(got, want) {
			t.Errorf("from version %d the schema differs:\n got %q\nwant %q", k, got, want)
		}
		if k >= 1 {
			if n := count(t, db, "SELECT COUNT(*) FROM dumps WHERE bucket_key = 'B'"); n != 1 {
				t.Errorf("from version %d: the dump was lost", k)
			}
		}
		// The migrated database works: index the dump.
		if _, err := db.Index(context.Background(), []string{dump}, IndexOptions{}); err != nil {
			t.Errorf("from version %d: index: %v", k, err)
		}
		if c := integrity(t, db); c != "ok" {
			t.Errorf("from version %d: integrity %s", k, c)
		}
		db.Close()
	}
	// A database from a newer build is refused, not damaged.
	db, _ := Open(filepath.Join(dir, "fresh.db"))
	db.sql.Exec("PRAGMA user_version = 99")
	db.Close()
	if _, err := Open(filepath.Join(dir, "fresh.db")); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data/home")
	p, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.HasPrefix(p, "/data/home"):
		if p != "/data/home/crashbench/workspace.db" {
			t.Errorf("DefaultPath %q", p)
		}
	default:
		t.Logf("DefaultPath %q (not XDG on this OS)", p)
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t)
	var mode string
	var fk, busy int
	db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode)
	db.sql.QueryRow("PRAGMA foreign_keys").Scan(&fk)
	db.sql.QueryRow("PRAGMA busy_timeout").Scan(&busy)
	if mode != "wal" || fk != 1 || busy < 1000 {
		t.Errorf("journal_mode %s, foreign_keys %d, busy_timeout %d", mode, fk, busy)
	}
}
