// Package fetch is the download machinery the symbol clients share
// (core/symbols/debuginfod, core/symbols/symsrv): a GET into a temporary
// file that a stalled transfer abandons and a size limit bounds, with
// progress; one download per file however many callers ask at once; and
// the memory of misses (on disk, as a marker file) and of failing servers
// (in memory), so a stack walk does not wait on them again and again.
//
// Each client keeps its own layout, keys and file checks; errors are
// *Error values whose Tool names the client ("debuginfod", "symsrv").
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Error is a failed request to one server.
type Error struct {
	Tool   string // the client, prefixed to the message
	URL    string // the request URL (or the file a symbol store points to)
	Status int    // the HTTP status, 0 when there was no response
	Err    error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s %s: HTTP %d: %v", e.Tool, e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Tool, e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Getter makes the requests of one client.
type Getter struct {
	Tool      string       // names the client in errors
	HTTP      *http.Client // nil means http.DefaultClient
	UserAgent string
	Timeout   time.Duration           // abandons a transfer silent this long
	Progress  func(done, total int64) // bytes received, size announced (-1 unknown)
	// SizeHeader names a response header announcing the size when
	// Content-Length does not (servers that compress on the fly).
	SizeHeader string
	// Missing says which statuses mean the server has no such file; nil
	// means 404 only. Such an error wraps NotFound.
	Missing  func(status int) bool
	NotFound error
}

// Get downloads url (at most limit bytes) into a temporary file in dir
// and returns its name; on error nothing is left behind.
func (g *Getter) Get(ctx context.Context, url string, limit int64, dir string) (string, error) {
	tmp, err := g.get(ctx, url, limit, dir)
	if err == nil {
		symtab.Tracef(ctx, "%s: GET %s: found", g.Tool, url)
	} else if e, ok := errors.AsType[*Error](err); ok {
		what := e.Err.Error()
		if g.NotFound != nil && errors.Is(e.Err, g.NotFound) {
			what = "not found"
		}
		if e.Status != 0 {
			what = fmt.Sprintf("HTTP %d (%s)", e.Status, what)
		}
		symtab.Tracef(ctx, "%s: GET %s: %s", g.Tool, url, what)
	} else {
		symtab.Tracef(ctx, "%s: GET %s: %v", g.Tool, url, err)
	}
	return tmp, err
}

func (g *Getter) get(ctx context.Context, url string, limit int64, dir string) (string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	errStalled := fmt.Errorf("no data for %v", g.Timeout)
	stall := time.AfterFunc(g.Timeout, func() { cancel(errStalled) })
	defer stall.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", g.err(url, 0, err)
	}
	req.Header.Set("User-Agent", g.UserAgent)
	hc := g.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", g.err(url, 0, stalled(ctx, err))
	}
	defer resp.Body.Close()
	missing := g.Missing
	if missing == nil {
		missing = func(s int) bool { return s == http.StatusNotFound }
	}
	switch {
	case missing(resp.StatusCode):
		return "", g.err(url, resp.StatusCode, g.NotFound)
	case resp.StatusCode != http.StatusOK:
		return "", g.err(url, resp.StatusCode, errors.New(http.StatusText(resp.StatusCode)))
	}
	total := resp.ContentLength
	if total < 0 && g.SizeHeader != "" {
		if n, err := strconv.ParseInt(resp.Header.Get(g.SizeHeader), 10, 64); err == nil && n >= 0 {
			total = n
		}
	}
	if total > limit {
		return "", g.err(url, resp.StatusCode, fmt.Errorf("file of %d bytes exceeds the %d-byte limit", total, limit))
	}
	tmp, err := g.save(ctx, resp.Body, url, limit, total, resp.ContentLength >= 0, dir, stall)
	if err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			e.Status = resp.StatusCode
			e.Err = stalled(ctx, e.Err)
		}
		return "", err
	}
	return tmp, nil
}

// Save copies r (total bytes, -1 when unknown; at most limit) into a
// temporary file in dir and returns its name; on error nothing is left
// behind. name says where the bytes come from, for errors.
func (g *Getter) Save(ctx context.Context, r io.Reader, name string, limit, total int64, dir string) (string, error) {
	return g.save(ctx, r, name, limit, total, total >= 0, dir, nil)
}

// save is Save; exact says total is promised (a Content-Length), so a
// short transfer is an error; stall, when set, is reset as data arrives.
func (g *Getter) save(ctx context.Context, r io.Reader, name string, limit, total int64, exact bool, dir string, stall *time.Timer) (tmpName string, err error) {
	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", g.err(name, 0, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := make([]byte, 256<<10)
	var done int64
	progress := g.Progress
	if fn := symtab.Progress(ctx); progress == nil && fn != nil {
		progress = func(done, total int64) { fn(name, done, total) }
	}
	if progress != nil {
		progress(0, total)
		// The last call has done == total, whether the transfer ended
		// well or not, so a progress bar knows to go away.
		defer func() { progress(done, done) }()
	}
	for {
		if err := ctx.Err(); err != nil {
			return "", g.err(name, 0, err)
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if stall != nil {
				stall.Reset(g.Timeout)
			}
			done += int64(n)
			if done > limit {
				return "", g.err(name, 0, fmt.Errorf("download exceeds the %d-byte limit", limit))
			}
			if _, err := tmp.Write(buf[:n]); err != nil {
				return "", g.err(name, 0, err)
			}
			if progress != nil {
				progress(done, total)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", g.err(name, 0, rerr)
		}
	}
	if exact && done != total {
		return "", g.err(name, 0, fmt.Errorf("received %d of %d bytes", done, total))
	}
	if err := tmp.Close(); err != nil {
		return "", g.err(name, 0, err)
	}
	return tmp.Name(), nil
}

func (g *Getter) err(url string, status int, err error) error {
	return &Error{Tool: g.Tool, URL: url, Status: status, Err: err}
}

// stalled replaces a transfer error caused by the stall timer with the
// timer's cause, so it does not read as the caller's cancellation.
func stalled(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// Flights runs one download per file, however many callers ask for it at
// once, and remembers for a while the files whose servers failed (not
// those they do not have: those are missed on disk). The zero value is
// ready to use.
type Flights struct {
	mu       sync.Mutex
	inflight map[string]*call
	failed   map[string]time.Time // until when a failure is remembered
}

// call is one download that concurrent callers share.
type call struct {
	done chan struct{}
	path string
	err  error
}

// Do runs download for key unless it runs already (then it waits for
// that one) or failed within ttl of now (then it says so, naming the
// file as label). Errors that are misses (isMiss) or cancellations are
// not remembered.
func (f *Flights) Do(ctx context.Context, key, label string, ttl time.Duration, now func() time.Time, isMiss func(error) bool, download func() (string, error)) (string, error) {
	for {
		f.mu.Lock()
		if until, ok := f.failed[key]; ok && now().Before(until) {
			f.mu.Unlock()
			return "", fmt.Errorf("%s: failed recently; retried after %s", label, until.Format(time.TimeOnly))
		}
		if cl, ok := f.inflight[key]; ok {
			f.mu.Unlock()
			select {
			case <-cl.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			// The download was for another caller, whose context may have
			// ended; ours has not, so try again.
			if errors.Is(cl.err, context.Canceled) || errors.Is(cl.err, context.DeadlineExceeded) {
				continue
			}
			return cl.path, cl.err
		}
		cl := &call{done: make(chan struct{})}
		if f.inflight == nil {
			f.inflight = map[string]*call{}
		}
		f.inflight[key] = cl
		f.mu.Unlock()

		cl.path, cl.err = download()

		f.mu.Lock()
		delete(f.inflight, key)
		if cl.err != nil && ctx.Err() == nil && !isMiss(cl.err) && ttl > 0 {
			// Unreachable or failing servers: do not wait on them at every
			// stack walk either, but do not record it on disk.
			if f.failed == nil {
				f.failed = map[string]time.Time{}
			}
			f.failed[key] = now().Add(ttl)
		}
		f.mu.Unlock()
		close(cl.done)
		return cl.path, cl.err
	}
}

// Missed reports whether the miss marker at p is younger than ttl.
func Missed(p string, ttl time.Duration, now time.Time) bool {
	if ttl <= 0 {
		return false
	}
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	return now.Sub(st.ModTime()) < ttl
}

// MarkMissed writes the miss marker at p, dated now.
func MarkMissed(p string, now time.Time) {
	if f, err := os.Create(p); err == nil {
		f.Close()
		os.Chtimes(p, now, now)
	}
}
