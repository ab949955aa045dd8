package symsrv

import (
	"errors"
	"reflect"
	"testing"
)

func TestParsePath(t *testing.T) {
	const ms = MicrosoftServer
	for _, tc := range []struct {
		path    string
		locals  []string
		servers []Server
		bad     []string // entries reported as *PathError
	}{
		{path: ""},
		{path: " ; ;"},
		{path: "/sym;/other", locals: []string{"/sym", "/other"}},
		{
			path:    "srv*/cache*" + ms,
			locals:  []string{"/cache"},
			servers: []Server{{Cache: "/cache", URLs: []string{ms}}},
		},
		{
			path:    "SRV*" + ms + "/",
			servers: []Server{{URLs: []string{ms}}},
		},
		{
			path:    "srv**" + ms,
			servers: []Server{{URLs: []string{ms}}},
		},
		{
			// Several URLs chained, and further local stores.
			path:    `srv*C:\sym*\\share\sym*https://a.example/s*http://b.example/`,
			locals:  []string{`C:\sym`, `\\share\sym`},
			servers: []Server{{Cache: `C:\sym`, URLs: []string{"https://a.example/s", "http://b.example"}}},
		},
		{
			path:    "symsrv*SymSrv.DLL*/cache*" + ms,
			locals:  []string{"/cache"},
			servers: []Server{{Cache: "/cache", URLs: []string{ms}}},
		},
		{
			// cache* gives the cache of later srv* entries naming none.
			path:    "cache*/c;srv*" + ms + ";srv*/own*https://x.example",
			locals:  []string{"/c", "/own"},
			servers: []Server{{Cache: "/c", URLs: []string{ms}}, {Cache: "/own", URLs: []string{"https://x.example"}}},
		},
		{
			// A local store only, with a plain folder and a duplicate.
			path:   "srv*/store;/plain;/store",
			locals: []string{"/store", "/plain"},
		},
		{
			path:    ms,
			servers: []Server{{URLs: []string{ms}}},
		},
		{
			path:   "symsrv*other.dll*/c*" + ms + ";srv*;ftp://x/y;srv*/c*ftp://x;weird*/x;/ok",
			locals: []string{"/ok"},
			bad:    []string{"symsrv*other.dll*/c*" + ms, "srv*", "ftp://x/y", "srv*/c*ftp://x", "weird*/x"},
		},
	} {
		locals, servers, err := ParsePath(tc.path)
		if !reflect.DeepEqual(locals, tc.locals) {
			t.Errorf("%q: locals %q, want %q", tc.path, locals, tc.locals)
		}
		if !reflect.DeepEqual(servers, tc.servers) {
			t.Errorf("%q: servers %+v, want %+v", tc.path, servers, tc.servers)
		}
		var bad []string
		if err != nil {
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var pe *PathError
				if !errors.As(e, &pe) {
					t.Errorf("%q: error %v is no *PathError", tc.path, e)
					continue
				}
				bad = append(bad, pe.Entry)
			}
		}
		if !reflect.DeepEqual(bad, tc.bad) {
			t.Errorf("%q: bad entries %q, want %q", tc.path, bad, tc.bad)
		}
	}
}
