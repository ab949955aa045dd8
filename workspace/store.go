package workspace

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/report"
)

// maxFrames is how many frames of each thread are stored, innermost
// first.
const maxFrames = 10

// writer is the single goroutine's connection that writes outcomes.
type writer struct {
	db   *DB
	conn *sql.Conn
}

func (db *DB) newWriter(ctx context.Context) (*writer, error) {
	c, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return &writer{db: db, conn: c}, nil
}

func (w *writer) close() { w.conn.Close() }

// write records one outcome in its own transaction and says how it was
// counted: "added", "unchanged", or a file status.
func (w *writer) write(ctx context.Context, oc outcome) (string, error) {
	// The write must not be half done when ctx is cancelled between
	// statements: run it on a context that is not cancelled.
	wctx := context.WithoutCancel(ctx)
	tx, err := w.conn.BeginTx(wctx, nil)
	if err != nil {
		return "", err
	}
	st, err := w.writeTx(wctx, tx, oc)
	if err != nil {
		tx.Rollback()
		return "", err
	}
	if testHookBeforeCommit != nil {
		testHookBeforeCommit()
	}
	// A failed commit (a full disk) added nothing: it must not be counted.
	if err := tx.Commit(); err != nil {
		return "", err
	}
	return st, nil
}

func (w *writer) writeTx(ctx context.Context, tx *sql.Tx, oc outcome) (string, error) {
	now := time.Now().Unix()
	var oldDump sql.NullInt64
	err := tx.QueryRowContext(ctx, "SELECT dump_id FROM files WHERE path = ?", oc.path).Scan(&oldDump)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	putFile := func(status, msg string, dumpID sql.NullInt64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO files (path, size, mtime, sha256, status, error, dump_id, indexed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, sha256 = excluded.sha256,
				status = excluded.status, error = excluded.error, dump_id = excluded.dump_id, indexed_at = excluded.indexed_at`,
			oc.path, oc.size, oc.mtime, nullStr(oc.sha256), status, nullStr(msg), dumpID, now)
		return err
	}
	var result string
	var newDump sql.NullInt64
	switch {
	case oc.fileErr != nil:
		result = StatusError
		if err := putFile(StatusError, oneLine(oc.fileErr.Error()), newDump); err != nil {
			return "", err
		}
	case oc.notDump != "":
		result = StatusNotDump
		if err := putFile(StatusNotDump, "not a dump: looks like "+oc.notDump, newDump); err != nil {
			return "", err
		}
	default:
		var id int64
		var primary string
		err := tx.QueryRowContext(ctx, "SELECT id, path FROM dumps WHERE sha256 = ?", oc.sha256).Scan(&id, &primary)
		switch {
		case err == nil:
			// Known content: one more path of the same dump. The
			// dump's path is the first of its files in path order, so
			// the result does not depend on which worker finished first.
			newDump = sql.NullInt64{Int64: id, Valid: true}
			status := StatusDuplicate
			switch {
			case primary == oc.path:
				// Touched, not changed.
				status, result = StatusDump, "unchanged"
				if _, err := tx.ExecContext(ctx, "UPDATE dumps SET mtime = ? WHERE id = ?", oc.mtime, id); err != nil {
					return "", err
				}
			case oc.path < primary:
				if _, err := tx.ExecContext(ctx, "UPDATE files SET status = ? WHERE path = ?", StatusDuplicate, primary); err != nil {
					return "", err
				}
				if _, err := tx.ExecContext(ctx, "UPDATE dumps SET path = ?, size = ?, mtime = ? WHERE id = ?", oc.path, oc.size, oc.mtime, id); err != nil {
					return "", err
				}
				status, result = StatusDump, StatusDuplicate
			default:
				result = StatusDuplicate
			}
			var msg string
			if status == StatusDuplicate {
				msg = "same content as " + primary
				if oc.path < primary {
					msg = ""
				}
			}
			if err := putFile(status, msg, newDump); err != nil {
				return "", err
			}
		case errors.Is(err, sql.ErrNoRows):
			if oc.known {
				// Indexed when the worker looked, gone since (its only
				// file changed in this run): nothing to attach to.
				oc.fileErr = errors.New("content vanished while indexing; index again")
				result = StatusError
				if err := putFile(StatusError, oc.fileErr.Error(), newDump); err != nil {
					return "", err
				}
				break
			}
			id, err := insertDump(ctx, tx, oc, now)
			if err != nil {
				return "", err
			}
			newDump = sql.NullInt64{Int64: id, Valid: true}
			status := StatusDump
			result = "added"
			var msg string
			if oc.dumpErr != nil {
				status, result, msg = StatusError, StatusError, oneLine(oc.dumpErr.Error())
			}
			if err := putFile(status, msg, newDump); err != nil {
				return "", err
			}
		default:
			return "", err
		}
	}
	if oldDump.Valid && (!newDump.Valid || oldDump.Int64 != newDump.Int64) {
		if err := releaseDump(ctx, tx, oldDump.Int64); err != nil {
			return "", err
		}
	}
	return result, nil
}

// releaseDump is called when a file no longer holds dump id's content:
// the dump goes when no file holds it any more, else its path moves to
// the first remaining file.
func releaseDump(ctx context.Context, tx *sql.Tx, id int64) error {
	var path string
	err := tx.QueryRowContext(ctx, "SELECT path FROM files WHERE dump_id = ? ORDER BY path LIMIT 1", id).Scan(&path)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, "DELETE FROM dumps WHERE id = ?", id)
		return err
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE dumps SET path = ?, size = (SELECT size FROM files WHERE path = ?), mtime = (SELECT mtime FROM files WHERE path = ?) WHERE id = ?", path, path, path, id); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE files SET status = ?, error = NULL WHERE path = ? AND status = ?", StatusDump, path, StatusDuplicate)
	return err
}

// insertDump writes a new dump with its modules, threads, top frames,
// processes and search row, and returns its id.
func insertDump(ctx context.Context, tx *sql.Tx, oc outcome, now int64) (int64, error) {
	r := oc.rep
	if r == nil {
		r = &report.Report{}
	}
	status, msg := DumpOK, ""
	switch {
	case oc.dumpErr != nil:
		status, msg = DumpError, oneLine(oc.dumpErr.Error())
	case oc.partial != nil:
		status, msg = DumpPartial, "analysis failed: "+oneLine(oc.partial.Error())
	}
	var format any
	if r.Format != "" {
		format = r.Format
	} else if oc.dumpErr != nil {
		format = looksLike(oc.dumpErr)
	}
	var osf, osv, osb, osr any
	if r.OS != nil {
		osf, osv, osb, osr = nullStr(r.OS.Family), nullStr(r.OS.Version), nullStr(r.OS.Build), nullStr(r.OS.Release)
	}
	var crashTime, uptime any
	if r.Time != nil {
		if t, err := time.Parse(time.RFC3339, r.Time.Crash); err == nil {
			crashTime = t.Unix()
		}
		if r.Time.UptimeSeconds > 0 {
			uptime = r.Time.UptimeSeconds
		}
	}
	var pname, pid, cmdline any
	if p := r.Process; p != nil {
		pname, cmdline = nullStr(p.Name), nullStr(p.CommandLine)
		if p.PID != 0 {
			pid = int64(p.PID)
		}
	}
	var ckind, ccode, cname, caddr, cparams, cmsg, cthread any
	if c := r.Crash; c != nil {
		ckind, cname, caddr, cmsg = nullStr(c.Kind), nullStr(c.Name), nullStr(c.Address), nullStr(c.Message)
		if c.Code != nil {
			ccode = int64(*c.Code)
		}
		if len(c.Parameters) > 0 {
			cparams = strings.Join(c.Parameters, " ")
		}
		if c.ThreadID != nil {
			cthread = int64(*c.ThreadID)
		}
	}
	var a report.Analysis
	if r.Analysis != nil {
		a = *r.Analysis
	}
	key := bucketKey(r)
	var cpus any
	if r.CPUs > 0 {
		cpus = r.CPUs
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO dumps (sha256, path, size, mtime, status, error, format, variant, container,
		os_family, os_version, os_build, os_release, arch, cpus, crash_time, uptime, process_name, pid, command_line,
		crash_kind, crash_code, crash_name, crash_address, crash_parameters, crash_message, crash_thread,
		reason, faulting_module, faulting_frame, probably_caused_by, signature, bucket_id, bucket_key, indexed_at, diagnostics)
		VALUES (?,?,?,?,?,?,?,?,?, ?,?,?,?,?,?,?,?,?,?,?, ?,?,?,?,?,?,?, ?,?,?,?,?,?,?,?, ?)`,
		oc.sha256, oc.path, oc.size, oc.mtime, status, nullStr(msg), format, nullStr(r.Variant), nullStr(r.Container),
		osf, osv, osb, osr, nullStr(r.Arch), cpus, crashTime, uptime, pname, pid, cmdline,
		ckind, ccode, cname, caddr, cparams, cmsg, cthread,
		nullStr(a.Reason), nullStr(a.FaultingModule), nullStr(a.FaultingFrame), nullStr(a.ProbablyCausedBy),
		nullStr(a.Signature), nullStr(a.BucketID), nullStr(key), now, nullStr(diagnosticText(r.Diagnostics)))
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	var modNames, versions, funcs []string
	if len(r.Modules) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO modules (dump_id, idx, name, path, version, timestamp, checksum,
			debug_file, debug_id, build_id, code_id, base, size, unloaded) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return 0, err
		}
		defer st.Close()
		for i, m := range r.Modules {
			var ts, sum any
			if m.Timestamp != 0 {
				ts = m.Timestamp
			}
			if i < len(oc.checksums) && oc.checksums[i] != 0 {
				sum = int64(oc.checksums[i])
			}
			if _, err := st.ExecContext(ctx, id, i, m.Name, nullStr(m.Path), nullStr(m.Version), ts, sum,
				nullStr(m.DebugFile), nullStr(m.DebugID), nullStr(m.BuildID), nullStr(m.CodeID), nullStr(m.Base), int64(m.Size), m.Unloaded); err != nil {
				return 0, err
			}
			modNames = append(modNames, m.Name)
			if m.DebugFile != "" && m.DebugFile != m.Name {
				modNames = append(modNames, m.DebugFile)
			}
			if m.Version != "" {
				versions = append(versions, m.Version)
			}
		}
	}
	if len(r.Threads) > 0 {
		ts, err := tx.PrepareContext(ctx, "INSERT INTO threads (dump_id, idx, tid, name, crashed) VALUES (?,?,?,?,?)")
		if err != nil {
			return 0, err
		}
		defer ts.Close()
		fs, err := tx.PrepareContext(ctx, "INSERT INTO frames (dump_id, thread_idx, idx, module, function, offset, file, line, trust) VALUES (?,?,?,?,?,?,?,?,?)")
		if err != nil {
			return 0, err
		}
		defer fs.Close()
		for i, t := range r.Threads {
			if _, err := ts.ExecContext(ctx, id, i, int64(t.ID), nullStr(t.Name), t.Crashed); err != nil {
				return 0, err
			}
			for k, f := range t.Frames {
				if k >= maxFrames {
					break
				}
				var line any
				if f.Line > 0 {
					line = f.Line
				}
				if _, err := fs.ExecContext(ctx, id, i, k, nullStr(f.Module), nullStr(f.Function), nullStr(f.Offset),
					nullStr(f.File), line, nullStr(f.Trust)); err != nil {
					return 0, err
				}
				if f.Function != "" {
					funcs = append(funcs, f.Function)
				}
			}
		}
	}
	var procNames []string
	for i, p := range r.Processes {
		var pid, ppid any
		if p.PID != nil {
			pid = int64(*p.PID)
		}
		if p.PPID != nil {
			ppid = int64(*p.PPID)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO processes (dump_id, idx, pid, ppid, name) VALUES (?,?,?,?,?)", id, i, pid, ppid, p.Name); err != nil {
			return 0, err
		}
		procNames = append(procNames, p.Name)
	}
	var crashText []string
	if c := r.Crash; c != nil {
		crashText = append(crashText, c.Kind, c.Name, c.CodeHex, c.Message)
	}
	crashText = append(crashText, a.Reason, a.Description)
	var procText []string
	if r.Process != nil {
		procText = append(procText, r.Process.Name, r.Process.CommandLine)
	}
	procText = append(procText, procNames...)
	sigText := []string{a.Signature, a.BucketID, a.FaultingFrame, a.FaultingModule, a.ProbablyCausedBy}
	if _, err := tx.ExecContext(ctx, `INSERT INTO search (rowid, path, process, crash, signature, modules, versions, functions)
		VALUES (?,?,?,?,?,?,?,?)`, id, oc.path, join(procText), join(crashText), join(sigText),
		join(dedupe(modNames)), join(dedupe(versions)), join(dedupe(funcs))); err != nil {
		return 0, err
	}
	return id, nil
}

// bucketKey is what a dump is grouped by: the analysis' bucket id (with
// the signature added when the faulting function has no name), else its
// signature; none for a dump that records no crash.
func bucketKey(r *report.Report) string {
	if !isCrash(r.Crash) || r.Analysis == nil {
		return ""
	}
	if r.Crash.Kind == "snapshot" {
		return ""
	}
	a := r.Analysis
	switch {
	case a.BucketID == "":
		return a.Signature
	case strings.HasSuffix(a.BucketID, "!unknown_function") && strings.Contains(a.Signature, "@0x"):
		// Without symbols for the faulting function the bucket id names
		// only a module (or none): the signature's module-relative
		// location (app.exe@0x1018) tells crash sites apart, and stays
		// the same across runs whatever the load address.
		return a.BucketID + " " + a.Signature
	}
	return a.BucketID
}

// looksLike is the format a damaged dump looked like ("a Windows
// user-mode minidump (MDMP)").
func looksLike(err error) any {
	var de *dump.Error
	if errors.As(err, &de) {
		return nullStr(de.LooksLike)
	}
	return nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func join(ss []string) string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// diagnosticText is a report's diagnostics, one "severity: message" line
// each, "" when there are none.
func diagnosticText(ds []report.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s: %s\n", d.Severity, d.Message)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
