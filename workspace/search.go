package workspace

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SearchHit is one dump a search found.
type SearchHit struct {
	DumpID    int64
	Path      string
	Format    string
	Time      time.Time // the dump's time, else the file's mtime
	Process   string
	Crash     string // the crash's name (exception, signal, bug check)
	Signature string
	Bucket    string   // the bucket key; "" for a non-crash
	Status    string   // ok, partial or error
	Tags      []string // the user's tags on the dump
}

// Search finds dumps. Words are matched, as prefixes, against module
// names and debug files, module versions, the function names of the
// stored frames, signatures and bucket ids, crash and bug-check names,
// process names and paths; every word must match. Filters narrow the
// result: module:NAME (a module of that name, case-insensitive; * is a
// wildcard), version:V (a module whose version is V or starts with V.;
// with module:, that module's version), since:DATE and until:DATE
// (2024-03-01 or RFC 3339, on the dump's time, else the file's mtime),
// bucket:KEY, status:ok|partial|error, tag:TAG (a tag the user gave the
// dump, case-insensitive), note:TEXT (a note on the dump or on its own
// bucket holds TEXT, case-insensitive). Quote a word to keep its spaces.
func (db *DB) Search(ctx context.Context, q string) ([]SearchHit, error) {
	words, err := splitQuery(q)
	if err != nil {
		return nil, err
	}
	var match []string
	var where []string
	var args []any
	var module, version string
	for _, w := range words {
		k, v, ok := strings.Cut(w, ":")
		if !ok || v == "" {
			match = append(match, ftsPhrase(w))
			continue
		}
		switch strings.ToLower(k) {
		case "module", "mod":
			module = v
		case "version", "ver":
			version = v
		case "since", "until":
			t, err := parseWhen(v)
			if err != nil {
				return nil, fmt.Errorf("search: %s: %w", w, err)
			}
			op := ">="
			if strings.EqualFold(k, "until") {
				op = "<"
				if len(v) == len("2006-01-02") {
					t = t.AddDate(0, 0, 1) // until a date includes the day
				}
			}
			where = append(where, "COALESCE(d.crash_time * 1000000000, d.mtime) "+op+" ?")
			args = append(args, t.UnixNano())
		case "bucket":
			where = append(where, "d.bucket_key = ?")
			args = append(args, v)
		case "status":
			where = append(where, "d.status = ?")
			args = append(args, v)
		case "tag":
			where = append(where, "EXISTS (SELECT 1 FROM tags t WHERE t.dump_id = d.id AND t.tag = ? COLLATE NOCASE)")
			args = append(args, v)
		case "note":
			// LIKE is case-insensitive for ASCII in SQLite.
			where = append(where, `EXISTS (SELECT 1 FROM notes n WHERE (n.dump_id = d.id OR (n.dump_id IS NULL AND n.bucket_key = d.bucket_key))
				AND n.text LIKE ? ESCAPE '\')`)
			args = append(args, "%"+likeEscape(v)+"%")
		default:
			match = append(match, ftsPhrase(w))
		}
	}
	if module != "" || version != "" {
		cond := []string{"m.dump_id = d.id"}
		if module != "" {
			cond = append(cond, "m.name LIKE ? ESCAPE '\\'")
			args = append(args, likePattern(module))
		}
		if version != "" {
			cond = append(cond, "(m.version = ? OR m.version LIKE ? ESCAPE '\\')")
			args = append(args, version, likeEscape(version)+".%")
		}
		where = append(where, "EXISTS (SELECT 1 FROM modules m WHERE "+strings.Join(cond, " AND ")+")")
	}
	query := `SELECT d.id, d.path, COALESCE(d.format, ''), COALESCE(d.crash_time * 1000000000, d.mtime),
		COALESCE(d.process_name, ''), COALESCE(d.crash_name, ''), COALESCE(d.signature, ''), COALESCE(d.bucket_key, ''), d.status
		FROM dumps d`
	order := " ORDER BY 4 DESC, d.path"
	if len(match) > 0 {
		query += " JOIN search ON search.rowid = d.id"
		where = append([]string{"search MATCH ?"}, where...)
		args = append([]any{strings.Join(match, " AND ")}, args...)
		order = " ORDER BY search.rank, 4 DESC, d.path"
	}
	if len(where) == 0 {
		return nil, fmt.Errorf("search: empty query")
	}
	query += " WHERE " + strings.Join(where, " AND ") + order
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var hits []SearchHit
	for rows.Next() {
		var h SearchHit
		var ns int64
		if err := rows.Scan(&h.DumpID, &h.Path, &h.Format, &ns, &h.Process, &h.Crash, &h.Signature, &h.Bucket, &h.Status); err != nil {
			return nil, err
		}
		h.Time = time.Unix(0, ns).UTC()
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return hits, db.addTags(ctx, hits)
}

// addTags fills in the hits' tags, sorted as Tags sorts them.
func (db *DB) addTags(ctx context.Context, hits []SearchHit) error {
	if len(hits) == 0 {
		return nil
	}
	at := make(map[int64]int, len(hits))
	for i, h := range hits {
		at[h.DumpID] = i
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT dump_id, tag FROM tags ORDER BY tag COLLATE NOCASE, tag")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		if i, ok := at[id]; ok {
			hits[i].Tags = append(hits[i].Tags, tag)
		}
	}
	return rows.Err()
}

// splitQuery splits at spaces outside double quotes.
func splitQuery(q string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, have := false, false
	for _, r := range q {
		switch {
		case r == '"':
			in, have = !in, true
		case !in && (r == ' ' || r == '\t' || r == '\n'):
			if have {
				out = append(out, cur.String())
			}
			cur.Reset()
			have = false
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if in {
		return nil, fmt.Errorf("search: unbalanced quote in %q", q)
	}
	if have {
		out = append(out, cur.String())
	}
	return out, nil
}

// ftsPhrase makes a word an FTS5 prefix phrase: "ntdll.dll" matches the
// tokens ntdll dll in a row, "1.2" matches 1 2 at the start of 1.2.3.4.
func ftsPhrase(w string) string {
	return `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func likePattern(s string) string {
	return strings.ReplaceAll(likeEscape(s), "*", "%")
}

func parseWhen(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date (use 2024-03-01 or RFC 3339)")
}

// Stats counts what the index holds.
type Stats struct {
	Dumps, Files, Duplicates, NotDumps, Errors int
}

// Stats counts the indexed dumps and files.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := db.sql.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM dumps), (SELECT COUNT(*) FROM files),
		(SELECT COUNT(*) FROM files WHERE status = 'duplicate'), (SELECT COUNT(*) FROM files WHERE status = 'not-dump'),
		(SELECT COUNT(*) FROM files WHERE status = 'error')`).Scan(&s.Dumps, &s.Files, &s.Duplicates, &s.NotDumps, &s.Errors)
	return s, err
}
