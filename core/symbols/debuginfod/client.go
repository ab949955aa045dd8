package debuginfod

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crashbench/crashbench/core/symbols/elfsym"
)

// Defaults for the zero fields of a Client.
const (
	// DefaultMissTTL is how long a build id no server has is remembered,
	// as debuginfod-client's cache_miss_s (600 s).
	DefaultMissTTL = 10 * time.Minute
	// DefaultMaxSize bounds one download; the largest debug files
	// (browsers, LLVM) are around 1–2 GiB.
	DefaultMaxSize = 2 << 30
	// DefaultTimeout is how long a request may go without receiving data
	// (response headers included), as DEBUGINFOD_TIMEOUT's default (90 s).
	DefaultTimeout = 90 * time.Second
)

// Kinds of file a server serves; the values are the last URL element.
const (
	KindDebuginfo  = elfsym.KindDebuginfo
	KindExecutable = elfsym.KindExecutable
)

// maxBuildIDLen bounds the build ids asked for: GNU build ids are 8 to 20
// bytes (SHA-1), 32 at most in practice.
const maxBuildIDLen = 64

// ErrNotFound says no server has the file: every one answered 404 or
// served a file with another build id, now or within MissTTL.
var ErrNotFound = errors.New("debuginfod: not found")

// ErrBuildIDMismatch says a server served a file whose GNU build id is
// not the one asked for (or none).
var ErrBuildIDMismatch = errors.New("debuginfod: build id mismatch")

// Error is a failed request to one server.
type Error struct {
	URL    string // the request URL
	Status int    // the HTTP status, 0 when there was no response
	Err    error
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("debuginfod %s: HTTP %d: %v", e.URL, e.Status, e.Err)
	}
	return fmt.Sprintf("debuginfod %s: %v", e.URL, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Client fetches files from debuginfod servers into a local cache. Its
// zero value has no servers; NewClient reads DEBUGINFOD_URLS. Set the
// fields before the first Fetch; Fetch is safe for concurrent use.
type Client struct {
	// URLs are the servers, tried in order.
	URLs []string
	// CacheDir holds the files as <CacheDir>/<hex build id>/<kind>; ""
	// means DefaultCacheDir.
	CacheDir string
	// HTTP makes the requests; nil means http.DefaultClient. Its own
	// Timeout, if any, bounds whole downloads, so leave it 0 and rely on
	// Client.Timeout, which bounds only silence.
	HTTP *http.Client
	// Progress, when set, is called as a download proceeds with the bytes
	// received and the size announced by the server (-1 when unknown).
	// Concurrent downloads call it concurrently.
	Progress func(done, total int64)
	// MissTTL is how long a miss is remembered; 0 means DefaultMissTTL,
	// a negative value disables the negative cache.
	MissTTL time.Duration
	// MaxSize bounds one download; 0 means DefaultMaxSize.
	MaxSize int64
	// Timeout abandons a request that receives nothing for this long; 0
	// means DefaultTimeout.
	Timeout time.Duration

	now func() time.Time // time.Now; tests move the clock

	mu       sync.Mutex
	inflight map[string]*call     // downloads under way, by "<hex>/<kind>"
	failed   map[string]time.Time // failures other than misses, until when they are remembered
}

// call is one download that concurrent Fetches of the same file share.
type call struct {
	done chan struct{}
	path string
	err  error
}

// NewClient returns a client for the servers in DEBUGINFOD_URLS (space
// separated, as elfutils and GDB read it), caching in DefaultCacheDir.
func NewClient() *Client {
	return &Client{URLs: strings.Fields(os.Getenv("DEBUGINFOD_URLS"))}
}

// DefaultCacheDir returns crashbench/debuginfod under the user's cache
// directory ($XDG_CACHE_HOME, else ~/.cache, on Linux). It is not
// debuginfod-client's own cache (~/.cache/debuginfod_client), which
// marks misses differently; add that one to elfsym.Finder.Dirs to reuse
// what GDB downloaded.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "crashbench", "debuginfod"), nil
}

// Fetch returns the local path of the file of the given kind
// (KindDebuginfo or KindExecutable) for buildID: from the cache, else
// downloaded from the first server that has it. The file's GNU build id
// is checked. Errors wrap ErrNotFound when no server has the file, else
// are *Error values per server (joined), or ctx's error when ctx ended.
// Its signature is elfsym.FetchFunc's.
func (c *Client) Fetch(ctx context.Context, buildID []byte, kind string) (string, error) {
	if kind != KindDebuginfo && kind != KindExecutable {
		return "", fmt.Errorf("debuginfod: unknown kind %q", kind)
	}
	if len(buildID) == 0 || len(buildID) > maxBuildIDLen {
		return "", fmt.Errorf("debuginfod: build id of %d bytes", len(buildID))
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	cache := c.CacheDir
	if cache == "" {
		var err error
		if cache, err = DefaultCacheDir(); err != nil {
			return "", fmt.Errorf("debuginfod: cache directory: %w", err)
		}
	}
	hexID := hex.EncodeToString(buildID)
	dir := filepath.Join(cache, hexID)
	final := filepath.Join(dir, kind)
	if hasBuildID(final, buildID) {
		return final, nil
	}
	if len(c.URLs) == 0 {
		return "", fmt.Errorf("debuginfod %s/%s: no servers: %w", hexID, kind, ErrNotFound)
	}
	miss := filepath.Join(dir, "."+kind+".miss")
	if c.missed(miss) {
		return "", fmt.Errorf("debuginfod %s/%s: %w (cached miss)", hexID, kind, ErrNotFound)
	}
	key := hexID + "/" + kind
	for {
		c.mu.Lock()
		if until, ok := c.failed[key]; ok && c.clock().Before(until) {
			c.mu.Unlock()
			return "", fmt.Errorf("debuginfod %s: failed recently; retried after %s", key, until.Format(time.TimeOnly))
		}
		if cl, ok := c.inflight[key]; ok {
			c.mu.Unlock()
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
		if c.inflight == nil {
			c.inflight = map[string]*call{}
		}
		c.inflight[key] = cl
		c.mu.Unlock()

		cl.path, cl.err = c.download(ctx, buildID, kind, dir, final, miss)

		c.mu.Lock()
		delete(c.inflight, key)
		if cl.err != nil && ctx.Err() == nil && !errors.Is(cl.err, ErrNotFound) && c.missTTL() > 0 {
			// Unreachable or failing servers: do not wait on them at every
			// stack walk either, but do not record it on disk.
			if c.failed == nil {
				c.failed = map[string]time.Time{}
			}
			c.failed[key] = c.clock().Add(c.missTTL())
		}
		c.mu.Unlock()
		close(cl.done)
		return cl.path, cl.err
	}
}

// download tries each server in turn.
func (c *Client) download(ctx context.Context, buildID []byte, kind, dir, final, miss string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("debuginfod: %w", err)
	}
	var errs []error
	allMissed := true
	for _, u := range c.URLs {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if u == "" {
			continue
		}
		url := u + "/buildid/" + hex.EncodeToString(buildID) + "/" + kind
		err := c.get(ctx, url, buildID, dir, final)
		if err == nil {
			os.Remove(miss)
			return final, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		errs = append(errs, err)
		allMissed = allMissed && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrBuildIDMismatch))
	}
	if allMissed {
		if c.missTTL() > 0 {
			if f, err := os.Create(miss); err == nil {
				f.Close()
				t := c.clock()
				os.Chtimes(miss, t, t)
			}
		}
		return "", fmt.Errorf("%w: %w", ErrNotFound, errors.Join(errs...))
	}
	return "", errors.Join(errs...)
}

// get downloads url into a temporary file in dir and renames it to final
// once complete and checked.
func (c *Client) get(ctx context.Context, url string, buildID []byte, dir, final string) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	errStalled := fmt.Errorf("no data for %v", timeout)
	stall := time.AfterFunc(timeout, func() { cancel(errStalled) })
	defer stall.Stop()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return &Error{URL: url, Err: err}
	}
	req.Header.Set("User-Agent", "crashbench")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Error{URL: url, Err: stalled(ctx, err)}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return &Error{URL: url, Status: resp.StatusCode, Err: ErrNotFound}
	case resp.StatusCode != http.StatusOK:
		return &Error{URL: url, Status: resp.StatusCode, Err: errors.New(http.StatusText(resp.StatusCode))}
	}
	limit := c.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	total := resp.ContentLength
	if total < 0 {
		// Servers compressing on the fly announce the size here.
		if n, err := strconv.ParseInt(resp.Header.Get("X-Debuginfod-Size"), 10, 64); err == nil && n >= 0 {
			total = n
		}
	}
	if total > limit {
		return &Error{URL: url, Status: resp.StatusCode, Err: fmt.Errorf("file of %d bytes exceeds the %d-byte limit", total, limit)}
	}

	tmp, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return &Error{URL: url, Err: err}
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	buf := make([]byte, 256<<10)
	var done int64
	if c.Progress != nil {
		c.Progress(0, total)
	}
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stall.Reset(timeout)
			done += int64(n)
			if done > limit {
				return &Error{URL: url, Status: resp.StatusCode, Err: fmt.Errorf("download exceeds the %d-byte limit", limit)}
			}
			if _, err := tmp.Write(buf[:n]); err != nil {
				return &Error{URL: url, Err: err}
			}
			if c.Progress != nil {
				c.Progress(done, total)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return &Error{URL: url, Status: resp.StatusCode, Err: stalled(ctx, rerr)}
		}
	}
	if total >= 0 && done != total && resp.ContentLength >= 0 {
		return &Error{URL: url, Status: resp.StatusCode, Err: fmt.Errorf("received %d of %d bytes", done, total)}
	}
	if err := tmp.Close(); err != nil {
		return &Error{URL: url, Err: err}
	}
	if !hasBuildID(tmp.Name(), buildID) {
		return &Error{URL: url, Status: resp.StatusCode, Err: ErrBuildIDMismatch}
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return &Error{URL: url, Err: err}
	}
	return nil
}

// stalled replaces a transfer error caused by the stall timer with the
// timer's cause, so it does not read as the caller's cancellation.
func stalled(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// missed reports whether the miss marker at p is younger than MissTTL.
func (c *Client) missed(p string) bool {
	ttl := c.missTTL()
	if ttl <= 0 {
		return false
	}
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	return c.clock().Sub(st.ModTime()) < ttl
}

func (c *Client) missTTL() time.Duration {
	if c.MissTTL == 0 {
		return DefaultMissTTL
	}
	return c.MissTTL
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// hasBuildID reports whether p is a regular ELF file with GNU build id id.
func hasBuildID(p string, id []byte) bool {
	st, err := os.Stat(p)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	got, err := elfsym.BuildID(p)
	return err == nil && bytes.Equal(got, id)
}

var _ elfsym.FetchFunc = (*Client)(nil).Fetch
