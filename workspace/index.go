package workspace

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/session"
)

// IndexOptions configure Index.
type IndexOptions struct {
	// Workers is how many dumps are read at once; default runtime.NumCPU().
	Workers int
	// Timeout bounds the reading and analysis of one dump; default 60 s.
	// A dump that takes longer is recorded as an error and ingest goes on.
	Timeout time.Duration
	// SymPath, ImagePath and Sysroot are passed to session.Options.
	SymPath, ImagePath, Sysroot string
	// Online lets symbol servers and debuginfod be asked. By default
	// ingest is offline (session.Options.Offline): a slow server must
	// never hold up indexing; the caches are still read.
	Online bool
	// Progress, when set, is called after each file with the files done
	// so far, the total found and the file's path. Calls come from one
	// goroutine, in order.
	Progress func(done, total int, path string)
}

// IndexResult counts what Index did with each file it found.
type IndexResult struct {
	Files      int // regular files found under the paths
	Added      int // new dumps (new content)
	Unchanged  int // files whose path, size and mtime were already indexed, plus re-touched files with the same content
	Duplicates int // files whose content is already indexed under another path
	NotDumps   int // files that are not dumps (README, .sym, .pdb, ...)
	Errors     int // files that could not be read or are damaged dumps
	Parsed     int // files opened as dumps (session.Open)
	Hashed     int // files read to compute their SHA-256
	// Failures lists the errors (path: error), one a file, in path order.
	Failures []string
}

// File statuses in the files table.
const (
	StatusDump      = "dump"      // the first path (in path order) of a dump's content
	StatusDuplicate = "duplicate" // same content as a dump indexed under another path
	StatusNotDump   = "not-dump"  // not a dump: skipped
	StatusError     = "error"     // unreadable, or a damaged dump
)

// Dump statuses in the dumps table.
const (
	DumpOK      = "ok"      // read and analysed
	DumpPartial = "partial" // read, but the analysis failed: header facts only
	DumpError   = "error"   // recognised as a dump but could not be read
)

// job is one file to look at.
type job struct {
	path  string
	size  int64
	mtime int64 // Unix ns
}

// outcome is what a worker found for a job.
type outcome struct {
	job
	sha256    string
	fileErr   error // could not read the file at all
	notDump   string
	dumpErr   error // a damaged dump (status error)
	known     bool  // the content is already a dump: not parsed
	rep       *report.Report
	checksums []uint32
	partial   error // the analysis failed; rep holds the header only
	parsed    bool
}

// testHookBeforeCommit, when set by tests, runs inside each dump's
// transaction just before it commits.
var testHookBeforeCommit func()

// Index adds the files and folders (recursively) at paths to the index.
// Files whose path, size and modification time are already recorded are
// skipped without being read. Each other file is hashed; content already
// indexed is recorded as another path of the same dump without being
// parsed; new content is opened and analysed by o.Workers workers and
// written by a single writer, one transaction per file, so an
// interrupted run leaves only whole dumps. A file that cannot be read is
// recorded with its error and does not stop the others. Cancelling ctx
// stops the run; what was written stays.
func (db *DB) Index(ctx context.Context, paths []string, o IndexOptions) (IndexResult, error) {
	var res IndexResult
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	var jobs []job
	var walkErrs []string
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return res, err
		}
		err = filepath.WalkDir(abs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				walkErrs = append(walkErrs, fmt.Sprintf("%s: %v", path, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err == nil && info.Mode()&fs.ModeSymlink != 0 {
				info, err = os.Stat(path)
			}
			if err != nil {
				walkErrs = append(walkErrs, fmt.Sprintf("%s: %v", path, err))
				return nil
			}
			if !info.Mode().IsRegular() {
				return nil
			}
			jobs = append(jobs, job{path: path, size: info.Size(), mtime: info.ModTime().UnixNano()})
			return nil
		})
		if err != nil {
			return res, err
		}
	}
	// The same file named twice (a folder and a file in it) is one job.
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].path < jobs[j].path })
	known, err := db.knownFiles(ctx, jobs)
	if err != nil {
		return res, err
	}
	todo := jobs[:0]
	for i, j := range jobs {
		if i > 0 && jobs[i-1].path == j.path {
			continue
		}
		res.Files++
		if k, ok := known[j.path]; ok && k.size == j.size && k.mtime == j.mtime {
			res.Unchanged++
			continue
		}
		todo = append(todo, j)
	}
	res.Errors += len(walkErrs)
	res.Failures = append(res.Failures, walkErrs...)
	total := res.Files
	done := res.Unchanged
	if o.Progress != nil && done > 0 {
		o.Progress(done, total, "")
	}
	if len(todo) == 0 {
		return res, ctx.Err()
	}

	w, err := db.newWriter(ctx)
	if err != nil {
		return res, err
	}
	defer w.close()
	// A write error stops the workers too.
	outer := ctx
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	jobc := make(chan job)
	outc := make(chan outcome, o.Workers)
	var wg sync.WaitGroup
	for range min(o.Workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobc {
				oc := db.examine(ctx, j, o)
				if ctx.Err() != nil {
					continue // interrupted: record nothing half-known
				}
				outc <- oc
			}
		}()
	}
	go func() {
		defer close(jobc)
		for _, j := range todo {
			select {
			case jobc <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(outc) }()

	var werr error
	for oc := range outc {
		if oc.parsed {
			res.Parsed++
		}
		if oc.sha256 != "" {
			res.Hashed++
		}
		if werr == nil {
			var st string
			st, werr = w.write(ctx, oc)
			if werr != nil {
				stop()
			}
			switch st {
			case "added":
				res.Added++
			case "unchanged":
				res.Unchanged++
			case StatusDuplicate:
				res.Duplicates++
			case StatusNotDump:
				res.NotDumps++
			case StatusError:
				res.Errors++
				msg := errString(oc.fileErr, oc.dumpErr)
				res.Failures = append(res.Failures, oc.path+": "+msg)
			}
		}
		done++
		if o.Progress != nil {
			o.Progress(done, total, oc.path)
		}
	}
	sort.Strings(res.Failures)
	if werr != nil {
		return res, werr
	}
	return res, outer.Err()
}

func errString(errs ...error) string {
	for _, e := range errs {
		if e != nil {
			return oneLine(e.Error())
		}
	}
	return ""
}

type fileKey struct{ size, mtime int64 }

// knownFiles returns the recorded size and mtime of the jobs' paths: one
// query a path for a few files (a watcher's), the whole table for many.
func (db *DB) knownFiles(ctx context.Context, jobs []job) (map[string]fileKey, error) {
	m := map[string]fileKey{}
	if len(jobs) <= 64 {
		for _, j := range jobs {
			var k fileKey
			err := db.sql.QueryRowContext(ctx, "SELECT size, mtime FROM files WHERE path = ?", j.path).Scan(&k.size, &k.mtime)
			switch {
			case err == nil:
				m[j.path] = k
			case !errors.Is(err, sql.ErrNoRows):
				return nil, err
			}
		}
		return m, nil
	}
	rows, err := db.sql.QueryContext(ctx, "SELECT path, size, mtime FROM files")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		var k fileKey
		if err := rows.Scan(&p, &k.size, &k.mtime); err != nil {
			return nil, err
		}
		m[p] = k
	}
	return m, rows.Err()
}

// examine hashes one file and, when its content is new, opens and
// analyses it.
func (db *DB) examine(ctx context.Context, j job, o IndexOptions) outcome {
	oc := outcome{job: j}
	sum, err := hashFile(j.path)
	if err != nil {
		oc.fileErr = err
		return oc
	}
	oc.sha256 = sum
	var id int64
	err = db.sql.QueryRowContext(ctx, "SELECT id FROM dumps WHERE sha256 = ?", sum).Scan(&id)
	if err == nil {
		oc.known = true
		return oc
	}
	if !errors.Is(err, sql.ErrNoRows) {
		oc.fileErr = err
		return oc
	}
	oc.parsed = true
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	// The analysis runs in its own goroutine so that a reader that does
	// not heed its context cannot hold up ingest past the timeout.
	resc := make(chan outcome, 1)
	in, hook := oc, testHookAnalyse // the goroutine may outlive this call: share nothing
	go func() { resc <- analyse(dctx, in, o, hook) }()
	select {
	case r := <-resc:
		return r
	case <-dctx.Done():
		select {
		case r := <-resc:
			return r
		case <-time.After(2 * time.Second):
		}
		oc.fileErr = fmt.Errorf("reading the dump took longer than %v", o.Timeout)
		if ctx.Err() == nil {
			oc.dumpErr, oc.fileErr = oc.fileErr, nil
		}
		return oc
	}
}

// testHookAnalyse, when set by tests, runs before each dump is opened.
var testHookAnalyse func(path string)

func analyse(ctx context.Context, oc outcome, o IndexOptions, hook func(string)) outcome {
	if hook != nil {
		hook(oc.path)
	}
	s, err := session.Open(ctx, oc.path, session.Options{SymPath: o.SymPath, ImagePath: o.ImagePath,
		Sysroot: o.Sysroot, Offline: !o.Online})
	if err != nil {
		var de *dump.Error
		switch {
		case errors.Is(err, dump.ErrUnrecognized) && errors.As(err, &de):
			oc.notDump = de.LooksLike
		case errors.Is(err, dump.ErrUnrecognized):
			oc.notDump = "not a dump"
		case errors.As(err, &de):
			oc.dumpErr = err
		case ctx.Err() != nil:
			oc.dumpErr = fmt.Errorf("reading the dump took longer than %v", o.Timeout)
		default:
			oc.fileErr = err
		}
		return oc
	}
	defer s.Close()
	r, _, err := s.AnalysisReport(ctx)
	if err != nil {
		oc.partial = err
		if ctx.Err() != nil {
			oc.partial = fmt.Errorf("analysis took longer than %v", o.Timeout)
		}
		r, err = s.Report(session.ReportOptions{})
		if err != nil {
			oc.dumpErr = err
			return oc
		}
	} else {
		for _, m := range s.Modules() {
			oc.checksums = append(oc.checksums, m.Checksum)
		}
	}
	oc.rep = r
	return oc
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isCrash reports whether a dump records a crash (not a live snapshot or
// a requested dump).
func isCrash(c *report.Crash) bool {
	return c != nil && c.Kind != "" && c.Kind != string(model.NoCrash)
}

// counts is the result without its failure list, for logs.
func (r IndexResult) counts() IndexResult { r.Failures = nil; return r }
