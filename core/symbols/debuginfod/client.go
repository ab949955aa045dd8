package debuginfod

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/symbols/elfsym"
	"github.com/crashbench/crashbench/core/symbols/internal/fetch"
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

// Error is a failed request to one server (Tool "debuginfod").
type Error = fetch.Error

// tool names this client in errors.
const tool = "debuginfod"

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

	flights fetch.Flights // downloads under way and recent failures, by "<hex>/<kind>"
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
	isMiss := func(err error) bool { return errors.Is(err, ErrNotFound) }
	return c.flights.Do(ctx, key, "debuginfod "+key, c.missTTL(), c.clock, isMiss, func() (string, error) {
		return c.download(ctx, buildID, kind, dir, final, miss)
	})
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
			fetch.MarkMissed(miss, c.clock())
		}
		return "", fmt.Errorf("%w: %w", ErrNotFound, errors.Join(errs...))
	}
	return "", errors.Join(errs...)
}

// get downloads url into a temporary file in dir and renames it to final
// once complete and checked.
func (c *Client) get(ctx context.Context, url string, buildID []byte, dir, final string) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	limit := c.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	g := fetch.Getter{Tool: tool, HTTP: c.HTTP, UserAgent: "crashbench", Timeout: timeout, Progress: c.Progress,
		SizeHeader: "X-Debuginfod-Size", NotFound: ErrNotFound}
	tmp, err := g.Get(ctx, url, limit, dir)
	if err != nil {
		return err
	}
	if !hasBuildID(tmp, buildID) {
		os.Remove(tmp)
		return &Error{Tool: tool, URL: url, Status: http.StatusOK, Err: ErrBuildIDMismatch}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return &Error{Tool: tool, URL: url, Err: err}
	}
	return nil
}

// missed reports whether the miss marker at p is younger than MissTTL.
func (c *Client) missed(p string) bool { return fetch.Missed(p, c.missTTL(), c.clock()) }

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
