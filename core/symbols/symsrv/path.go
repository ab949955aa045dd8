package symsrv

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Server is one symbol path entry that downloads: files come from URLs,
// tried in order, and are kept in the local store Cache.
type Server struct {
	// Cache is the downstream store; "" means DefaultCacheDir (srv*URL,
	// srv**URL, no cache* entry before it).
	Cache string
	// URLs are the http(s) servers of the entry, in order.
	URLs []string
}

// PathError is a symbol path entry ParsePath cannot use.
type PathError struct {
	Entry string // the entry as written
	What  string // what is wrong with it
}

func (e *PathError) Error() string {
	return fmt.Sprintf("symsrv: symbol path entry %q: %s", e.Entry, e.What)
}

// ParsePath parses a WinDbg symbol path (_NT_SYMBOL_PATH): entries
// separated by ';', each one of
//
//	DIR                                  a folder of symbol files, or a local store
//	srv*[STORE*...]URL[*URL...]          servers, cached in the first STORE
//	srv*STORE[*STORE...]                 local stores only (no URL)
//	symsrv*symsrv.dll*...                the same as srv*...
//	cache*[DIR]                          the cache of the srv* entries that follow and name none
//
// See https://learn.microsoft.com/windows-hardware/drivers/debugger/symbol-path.
//
// locals lists, in path order and once each, the plain folders and every
// local store an entry names (the caches of servers included), for the
// caller to search itself before asking servers; they are not checked
// for existence. servers lists the entries with URLs. An empty STORE
// (srv**URL) or DIR (cache*) means the default cache. The local stores
// after the first of one srv* entry (srv*CACHE*\\share*URL) are read as
// locals; unlike symsrv.dll, files found there are not copied into the
// cache.
//
// Entries that cannot be used (another symbol-server DLL, a URL scheme
// other than http and https, an unknown "x*" prefix, srv* with nothing
// after it) are skipped; err joins one *PathError per such entry, and the
// other entries are still returned, so a caller can use them and show
// err as a note.
func ParsePath(symbolPath string) (locals []string, servers []Server, err error) {
	var errs []error
	cache := "" // set by cache*DIR
	addLocal := func(d string) {
		if d != "" && !slices.Contains(locals, d) {
			locals = append(locals, d)
		}
	}
	for _, e := range strings.Split(symbolPath, ";") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		bad := func(what string) { errs = append(errs, &PathError{Entry: e, What: what}) }
		prefix, rest, ok := strings.Cut(e, "*")
		if !ok {
			if isURL(e) {
				// A bare URL is not a valid entry, but the intent is plain.
				servers = append(servers, Server{Cache: cache, URLs: []string{e}})
				continue
			}
			if strings.Contains(e, "://") {
				bad("only http and https servers are supported")
				continue
			}
			addLocal(e)
			continue
		}
		switch strings.ToLower(prefix) {
		case "cache":
			cache = strings.TrimSpace(rest)
			addLocal(cache)
			continue
		case "srv":
		case "symsrv":
			dll, r, _ := strings.Cut(rest, "*")
			if !strings.EqualFold(strings.TrimSpace(dll), "symsrv.dll") {
				bad(fmt.Sprintf("symbol-server DLL %q is not supported (only symsrv.dll)", dll))
				continue
			}
			rest = r
		default:
			bad(fmt.Sprintf("unknown prefix %q", prefix+"*"))
			continue
		}
		var stores, urls []string
		var unsupported bool
		for _, part := range strings.Split(rest, "*") {
			part = strings.TrimSpace(part)
			switch {
			case isURL(part):
				urls = append(urls, strings.TrimRight(part, "/"))
			case strings.Contains(part, "://"):
				unsupported = true
			default:
				stores = append(stores, part)
			}
		}
		if unsupported {
			bad("only http and https servers are supported")
			if len(urls) == 0 {
				continue
			}
		}
		if len(urls) == 0 {
			if !slices.ContainsFunc(stores, func(s string) bool { return s != "" }) {
				bad("names no store and no server")
				continue
			}
			for _, s := range stores {
				addLocal(s)
			}
			continue
		}
		srv := Server{Cache: cache, URLs: urls}
		if len(stores) > 0 {
			srv.Cache = stores[0]
		}
		for _, s := range stores {
			addLocal(s)
		}
		servers = append(servers, srv)
	}
	return locals, servers, errors.Join(errs...)
}

// isURL reports whether s is an http or https URL.
func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}
