package symsrv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/symbols/internal/fetch"
	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
)

// Defaults for the zero fields of a Client.
const (
	// DefaultMissTTL is how long a file no server has is remembered.
	DefaultMissTTL = 10 * time.Minute
	// DefaultMaxSize bounds one download (and one unpacked file): the
	// largest public PDBs (browsers, game engines) approach 4 GiB.
	DefaultMaxSize = 4 << 30
	// DefaultTimeout is how long a request may go without receiving data
	// (response headers included).
	DefaultTimeout = 90 * time.Second
)

// UserAgent is the User-Agent header symsrv.dll sends; some servers
// (and proxies in front of them) serve only requests that carry it.
const UserAgent = "Microsoft-Symbol-Server/10.0.0.0"

// MicrosoftServer is Microsoft's public symbol server.
const MicrosoftServer = "https://msdl.microsoft.com/download/symbols"

// Bounds on what is asked for and read.
const (
	maxNameLen = 255     // a file name, as on every file system
	maxKeyLen  = 64      // PDB keys are 33–40 characters, image keys 9–16
	maxPtrSize = 4 << 10 // a file.ptr holds one line
)

// ErrNotFound says no server has the file: every one answered 404 (or
// 410), or served something that is not the file asked for, now or
// within MissTTL.
var ErrNotFound = errors.New("symsrv: not found")

// ErrBadContent says a server answered with a body that is not the kind
// of file asked for (an HTML page for a .pdb, a .pd_ that is no CAB, a
// file.ptr without PATH:). It counts as a miss.
var ErrBadContent = errors.New("symsrv: not the file asked for")

// Error is a failed request to one server (Tool "symsrv").
type Error = fetch.Error

// tool names this client in errors.
const tool = "symsrv"

// Client fetches files from symbol servers into a local store. Its zero
// value has no servers. Set the fields before the first Fetch; Fetch is
// safe for concurrent use.
type Client struct {
	// URLs are the servers, tried in order.
	URLs []string
	// CacheDir is the local store the files are kept in, as
	// <CacheDir>/<name>/<key>/<name>; "" means DefaultCacheDir.
	CacheDir string
	// HTTP makes the requests; nil means http.DefaultClient. Its own
	// Timeout, if any, bounds whole downloads, so leave it 0 and rely on
	// Client.Timeout, which bounds only silence.
	HTTP *http.Client
	// Progress, when set, is called as a download proceeds with the bytes
	// received and the size announced by the server (-1 when unknown).
	// For a compressed file these are the compressed bytes. Concurrent
	// downloads call it concurrently.
	Progress func(done, total int64)
	// MissTTL is how long a miss is remembered; 0 means DefaultMissTTL,
	// a negative value disables the negative cache.
	MissTTL time.Duration
	// MaxSize bounds one download and one unpacked file; 0 means
	// DefaultMaxSize.
	MaxSize int64
	// Timeout abandons a request that receives nothing for this long; 0
	// means DefaultTimeout.
	Timeout time.Duration

	now func() time.Time // time.Now; tests move the clock

	flights fetch.Flights // downloads under way and recent failures, by "<name>/<KEY>"
}

// NewClient returns a client for one symbol path server entry.
func NewClient(s Server) *Client {
	return &Client{URLs: append([]string(nil), s.URLs...), CacheDir: s.Cache}
}

// DefaultCacheDir returns crashbench/symbols under the user's cache
// directory ($XDG_CACHE_HOME, else ~/.cache, on Linux).
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "crashbench", "symbols"), nil
}

// Fetch returns the local path of the file name with symbol-store key
// key (amdppm.pdb, 1C19FDDB27BB3399D9B45973EFEAFCF31): from the cache,
// else downloaded from the first server that has it, in any of the key
// spellings and forms the package doc lists. Errors wrap ErrNotFound when
// no server has the file, else are *Error values per server (joined), or
// ctx's error when ctx ended.
func (c *Client) Fetch(ctx context.Context, name, key string) (string, error) {
	return c.FetchFile(ctx, name, key, name)
}

// FetchFile is Fetch for a file stored under another file's entry, as
// Breakpad symbol servers keep <name>/<key>/<file>
// (basic32.pdb/<key>/basic32.sym); it is cached at the same place under
// the cache. Only Fetch (file == name) follows file.ptr.
func (c *Client) FetchFile(ctx context.Context, name, key, file string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	if err := checkName(file); err != nil {
		return "", err
	}
	if err := checkKey(key); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	cache := c.CacheDir
	if cache == "" {
		var err error
		if cache, err = DefaultCacheDir(); err != nil {
			return "", fmt.Errorf("symsrv: cache directory: %w", err)
		}
	}
	id := name + "/" + key
	if file != name {
		id += "/" + file
	}
	if p, ok := cached(cache, name, key, file); ok {
		symtab.Tracef(ctx, "symsrv: %s: in the cache, %s", id, p)
		return p, nil
	}
	if len(c.URLs) == 0 {
		symtab.Tracef(ctx, "symsrv: %s: not in the cache %s (offline)", id, cache)
		return "", fmt.Errorf("symsrv %s: no servers: %w", id, ErrNotFound)
	}
	dir := filepath.Join(cache, name, key)
	final := filepath.Join(dir, file)
	miss := filepath.Join(dir, "."+file+".miss")
	if c.missed(miss) {
		symtab.Tracef(ctx, "symsrv: %s: no server had it a short while ago (%s); not asked again yet", id, miss)
		return "", fmt.Errorf("symsrv %s: %w (cached miss)", id, ErrNotFound)
	}
	flight := name + "/" + strings.ToUpper(key) + "/" + file
	isMiss := func(err error) bool { return errors.Is(err, ErrNotFound) }
	return c.flights.Do(ctx, flight, "symsrv "+id, c.missTTL(), c.clock, isMiss, func() (string, error) {
		return c.download(ctx, name, key, file, dir, final, miss)
	})
}

// form is one way a store may hold a file.
type form int

const (
	plain      form = iota // <name>
	compressed             // <name with its last character replaced by _>, a CAB
	pointer                // file.ptr
)

// download tries each server, key spelling and form in turn.
func (c *Client) download(ctx context.Context, name, key, file, dir, final, miss string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("symsrv: %w", err)
	}
	var errs []error
	allMissed := true
servers:
	for _, u := range c.URLs {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if u == "" {
			continue
		}
		for _, k := range keyVariants(key) {
			for _, f := range []form{plain, compressed, pointer} {
				stored := file
				switch f {
				case compressed:
					stored = file[:len(file)-1] + "_"
				case pointer:
					if file != name {
						continue // file.ptr stands for the entry's own file
					}
					stored = "file.ptr"
				}
				url := u + "/" + neturl.PathEscape(name) + "/" + k + "/" + neturl.PathEscape(stored)
				err := c.fetchForm(ctx, f, url, file, dir, final)
				if err == nil {
					os.Remove(miss)
					return final, nil
				}
				if ctxErr := ctx.Err(); ctxErr != nil {
					return "", ctxErr
				}
				if errors.Is(err, ErrNotFound) {
					continue
				}
				errs = append(errs, err)
				if !errors.Is(err, ErrBadContent) {
					// The server fails: do not ask it again for each
					// spelling and form.
					allMissed = false
					continue servers
				}
			}
		}
	}
	if allMissed {
		if c.missTTL() > 0 {
			fetch.MarkMissed(miss, c.clock())
		}
		if len(errs) == 0 {
			return "", fmt.Errorf("symsrv %s/%s/%s: %w", name, key, file, ErrNotFound)
		}
		return "", fmt.Errorf("%w: %w", ErrNotFound, errors.Join(errs...))
	}
	return "", errors.Join(errs...)
}

// fetchForm fetches url, a file of the given form, and leaves the file
// name at final.
func (c *Client) fetchForm(ctx context.Context, f form, url, name, dir, final string) error {
	switch f {
	case plain:
		tmp, err := c.get(ctx, url, c.maxSize(), dir)
		if err != nil {
			return err
		}
		if isCAB(tmp) {
			// Some stores keep the compressed file under the plain name
			// (symbolicator's test store): sniff, do not trust the name.
			defer os.Remove(tmp)
			out, err := c.unpack(ctx, tmp, url, name, dir)
			if err != nil {
				return err
			}
			tmp = out
		}
		return c.install(tmp, url, name, final)
	case compressed:
		tmp, err := c.get(ctx, url, c.maxSize(), dir)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		out, err := c.unpack(ctx, tmp, url, name, dir)
		if err != nil {
			return err
		}
		return c.install(out, url, name, final)
	default:
		tmp, err := c.get(ctx, url, maxPtrSize, dir)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(tmp)
		os.Remove(tmp)
		if err != nil {
			return &Error{Tool: tool, URL: url, Err: err}
		}
		target, ok := ptrTarget(b)
		if !ok {
			return &Error{Tool: tool, URL: url, Err: fmt.Errorf("%w: file.ptr %q is not of the PATH: form", ErrBadContent, firstLine(b))}
		}
		return c.follow(ctx, target, url, name, dir, final)
	}
}

// follow fetches the file a file.ptr at ptrURL points to.
func (c *Client) follow(ctx context.Context, target, ptrURL, name, dir, final string) error {
	var tmp string
	if l := strings.ToLower(target); strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") {
		var err error
		if tmp, err = c.get(ctx, target, c.maxSize(), dir); err != nil {
			return err
		}
	} else {
		// A local or UNC path, as written on the machine that made the
		// store; on this one it exists only if mounted at the same place.
		src, err := os.Open(target)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return &Error{Tool: tool, URL: target, Err: fmt.Errorf("file.ptr of %s: %w", ptrURL, ErrNotFound)}
			}
			return &Error{Tool: tool, URL: target, Err: err}
		}
		defer src.Close()
		if tmp, err = c.save(ctx, src, target, -1, dir); err != nil {
			return err
		}
	}
	if strings.HasSuffix(target, "_") && !strings.HasSuffix(name, "_") {
		defer os.Remove(tmp)
		out, err := c.unpack(ctx, tmp, target, name, dir)
		if err != nil {
			return err
		}
		tmp = out
	}
	return c.install(tmp, target, name, final)
}

// ptrTarget returns the location of a file.ptr of the PATH: form.
func ptrTarget(b []byte) (string, bool) {
	s := strings.TrimSpace(firstLine(b))
	if len(s) < 5 || !strings.EqualFold(s[:5], "PATH:") {
		return "", false
	}
	s = strings.TrimSpace(s[5:])
	return s, s != ""
}

func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

// unpack extracts the member called name (else the only or first member)
// from the CAB at tmp into a new temporary file in dir.
func (c *Client) unpack(ctx context.Context, tmp, url, name, dir string) (string, error) {
	work, err := os.MkdirTemp(dir, ".unpack-*")
	if err != nil {
		return "", &Error{Tool: tool, URL: url, Err: err}
	}
	defer os.RemoveAll(work)
	o := container.Options{CacheDir: work, MaxBytes: c.maxSize(), Pick: func(member string, _ []byte) bool {
		return strings.EqualFold(path.Base(strings.ReplaceAll(member, `\`, "/")), name)
	}}
	res, err := container.Unpack(ctx, tmp, o)
	if errors.Is(err, container.ErrNoMember) {
		// makecab keeps the name it was given, which may differ from the
		// store's (a renamed file): take the first member.
		o.Pick = func(string, []byte) bool { return true }
		res, err = container.Unpack(ctx, tmp, o)
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		if errors.Is(err, container.ErrCorrupt) {
			err = fmt.Errorf("%w: %w", ErrBadContent, err)
		}
		return "", &Error{Tool: tool, URL: url, Err: err}
	}
	if res.Kind != container.Cab {
		return "", &Error{Tool: tool, URL: url, Err: fmt.Errorf("%w: compressed file is no CAB archive (%q)", ErrBadContent, res.Kind)}
	}
	out, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return "", &Error{Tool: tool, URL: url, Err: err}
	}
	out.Close()
	if err := os.Rename(res.Path, out.Name()); err != nil {
		os.Remove(out.Name())
		return "", &Error{Tool: tool, URL: url, Err: err}
	}
	return out.Name(), nil
}

// install checks the complete file at tmp and renames it to final; tmp
// is removed on failure.
func (c *Client) install(tmp, url, name, final string) error {
	if err := checkContent(tmp, name); err != nil {
		os.Remove(tmp)
		return &Error{Tool: tool, URL: url, Err: err}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return &Error{Tool: tool, URL: url, Err: err}
	}
	return nil
}

// getter makes the client's requests: a 404 or 410 is a miss.
func (c *Client) getter() *fetch.Getter {
	return &fetch.Getter{Tool: tool, HTTP: c.HTTP, UserAgent: UserAgent, Timeout: c.timeout(), Progress: c.Progress,
		Missing: func(s int) bool { return s == http.StatusNotFound || s == http.StatusGone }, NotFound: ErrNotFound}
}

// get downloads url (at most limit bytes) into a temporary file in dir
// and returns its name.
func (c *Client) get(ctx context.Context, url string, limit int64, dir string) (string, error) {
	return c.getter().Get(ctx, url, limit, dir)
}

// save copies r (total bytes, -1 when unknown) into a temporary file in
// dir, at most MaxSize bytes, and returns its name.
func (c *Client) save(ctx context.Context, r io.Reader, name string, total int64, dir string) (string, error) {
	return c.getter().Save(ctx, r, name, c.maxSize(), total, dir)
}

// isCAB reports whether the file at p is a Cabinet archive.
func isCAB(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 4)
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == "MSCF"
}

// checkContent rejects files that cannot be what name says: a PDB
// without an MSF signature, an image without "MZ".
func checkContent(p, name string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 32)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if n == 0 {
		return fmt.Errorf("%w: empty file", ErrBadContent)
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".pdb":
		// MSF 7.00 (every PDB since VC 7) or the 2.00 format before it,
		// or a Breakpad text file that a store keeps in the PDB's place
		// (symbolicator's test store does): the reader sniffs it.
		if !bytes.HasPrefix(head, []byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS")) &&
			!bytes.HasPrefix(head, []byte("Microsoft C/C++ program database")) &&
			!bytes.HasPrefix(head, []byte("MODULE ")) {
			return fmt.Errorf("%w: no PDB signature", ErrBadContent)
		}
	case ".sym":
		if !bytes.HasPrefix(head, []byte("MODULE ")) {
			return fmt.Errorf("%w: no Breakpad MODULE line", ErrBadContent)
		}
	case ".exe", ".dll", ".sys", ".drv", ".ocx", ".cpl", ".efi", ".scr", ".mui", ".winmd":
		if !bytes.HasPrefix(head, []byte("MZ")) {
			return fmt.Errorf("%w: no MZ signature", ErrBadContent)
		}
	}
	return nil
}

// keyVariants lists the spellings of key to ask for: as given, upper
// case, lower case, without repeats.
func keyVariants(key string) []string {
	ks := []string{key}
	for _, k := range []string{strings.ToUpper(key), strings.ToLower(key)} {
		if k != ks[0] && (len(ks) < 2 || k != ks[1]) {
			ks = append(ks, k)
		}
	}
	return ks
}

// checkName accepts a plain file name: it becomes a path element in the
// cache and in URLs.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || len(name) > maxNameLen ||
		strings.ContainsAny(name, "/\\:*?\"<>|%#") || name != strings.TrimSpace(name) {
		return fmt.Errorf("symsrv: bad file name %q", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("symsrv: bad file name %q", name)
		}
	}
	return nil
}

// checkKey accepts keys of letters and digits, as both key kinds are.
func checkKey(key string) error {
	if key == "" || len(key) > maxKeyLen {
		return fmt.Errorf("symsrv: bad key %q", key)
	}
	for _, r := range key {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return fmt.Errorf("symsrv: bad key %q", key)
		}
	}
	return nil
}

// cached returns the file in the store under key spelled in any case,
// the exact spelling first.
func cached(cache, name, key, file string) (string, bool) {
	if p := filepath.Join(cache, name, key, file); isFile(p) {
		return p, true
	}
	ents, err := os.ReadDir(filepath.Join(cache, name))
	if err != nil {
		return "", false
	}
	for _, e := range ents {
		if e.IsDir() && e.Name() != key && strings.EqualFold(e.Name(), key) {
			if p := filepath.Join(cache, name, e.Name(), file); isFile(p) {
				return p, true
			}
		}
	}
	return "", false
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// missed reports whether the miss marker at p is younger than MissTTL.
func (c *Client) missed(p string) bool { return fetch.Missed(p, c.missTTL(), c.clock()) }

func (c *Client) missTTL() time.Duration {
	if c.MissTTL == 0 {
		return DefaultMissTTL
	}
	return c.MissTTL
}

func (c *Client) maxSize() int64 {
	if c.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return c.MaxSize
}

func (c *Client) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// Clients are the clients of a symbol path's server entries, asked in
// path order.
type Clients []*Client

// NewClients returns one client per server entry.
func NewClients(servers []Server) Clients {
	cs := make(Clients, len(servers))
	for i, s := range servers {
		cs[i] = NewClient(s)
	}
	return cs
}

// Fetch asks each client in turn and returns the first file found.
// Errors wrap ErrNotFound when every client missed.
func (cs Clients) Fetch(ctx context.Context, name, key string) (string, error) {
	return cs.FetchFile(ctx, name, key, name)
}

// FetchFile asks each client in turn for a file under another file's
// entry (Client.FetchFile) and returns the first one found.
func (cs Clients) FetchFile(ctx context.Context, name, key, file string) (string, error) {
	var errs []error
	allMissed := true
	for _, c := range cs {
		p, err := c.FetchFile(ctx, name, key, file)
		if err == nil {
			return p, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		errs = append(errs, err)
		allMissed = allMissed && errors.Is(err, ErrNotFound)
	}
	if len(errs) == 0 {
		return "", fmt.Errorf("symsrv %s/%s: no servers: %w", name, key, ErrNotFound)
	}
	if allMissed && len(errs) == 1 {
		return "", errs[0]
	}
	if allMissed {
		return "", fmt.Errorf("%w: %w", ErrNotFound, errors.Join(errs...))
	}
	return "", errors.Join(errs...)
}
