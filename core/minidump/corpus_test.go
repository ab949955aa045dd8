package minidump

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// corpusDumps lists every minidump in the shared corpus.
func corpusDumps(t *testing.T) []string {
	t.Helper()
	dir := fixture.CorpusDir(t)
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b := make([]byte, 4)
		fh, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer fh.Close()
		if n, _ := fh.Read(b); n == 4 && string(b) == "MDMP" {
			out = append(out, p)
		}
		return nil
	})
	if len(out) == 0 {
		t.Skip("no minidumps in the corpus")
	}
	return out
}

func openCorpus(t *testing.T, rel string) *File {
	t.Helper()
	f, err := Open(fixture.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestCorpusDecodesEveryStream opens every corpus minidump and decodes
// every stream it has, plus threads, modules and memory. Only the
// deliberately malformed rust-minidump/invalid-*.dmp may fail, and then
// with structured errors.
func TestCorpusDecodesEveryStream(t *testing.T) {
	t.Parallel()
	dir := fixture.CorpusDir(t)
	for _, p := range corpusDumps(t) {
		rel, _ := filepath.Rel(dir, p)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			t.Parallel()
			invalid := strings.HasPrefix(filepath.Base(p), "invalid-") && filepath.Base(p) != "invalid-parameter.dmp"
			f, err := Open(p)
			if err != nil {
				var fe *FormatError
				if invalid && errors.As(err, &fe) {
					return
				}
				t.Fatal(err)
			}
			defer f.Close()
			var failures []string
			fail := func(what string, err error) {
				if err != nil && !errors.Is(err, ErrNoStream) {
					var fe *FormatError
					if !errors.As(err, &fe) && !errors.Is(err, ErrUnsupportedContext) {
						t.Errorf("%s: unstructured error %v", what, err)
					}
					failures = append(failures, what+": "+err.Error())
				}
			}
			for _, d := range f.Directory() {
				if dec := Decoders[d.StreamType]; dec != nil {
					_, err := dec(f)
					fail(d.StreamType.String(), err)
				}
			}
			_ = f.Info()
			ts, err := f.Threads()
			fail("Threads", err)
			_, err = f.Modules()
			fail("Modules", err)
			m, err := f.Memory()
			fail("Memory", err)
			if m != nil {
				for r := range m.Regions() {
					b := make([]byte, min(r.Size, 16))
					if _, err := m.ReadMemory(b, r.Start); err != nil && !invalid {
						t.Errorf("reading region %v: %v", r, err)
					}
				}
			}
			if f.find(ExceptionStream) >= 0 {
				_, err = f.ExceptionContext()
				fail("ExceptionContext", err)
			}
			for _, th := range ts {
				if th.Context == nil && !invalid {
					if si, err := f.SystemInfo(); err == nil && archName(si.ProcessorArchitecture) != model.PPC {
						t.Errorf("thread %#x has no context", th.ID)
					}
				}
			}
			var errs []model.Diagnostic
			for _, d := range f.Diagnostics() {
				if d.Severity >= model.Error {
					errs = append(errs, d)
				}
			}
			if invalid {
				if len(failures) == 0 && len(f.Diagnostics()) == 0 {
					t.Errorf("malformed dump decoded without a diagnostic or error")
				}
				return
			}
			for _, s := range failures {
				t.Error(s)
			}
			if len(errs) > 0 {
				t.Errorf("error diagnostics: %v", errs)
			}
			if testing.Verbose() {
				for _, d := range f.Diagnostics() {
					t.Logf("diag: %v %#x %s", d.Severity, d.Off, d.Msg)
				}
			}
		})
	}
}
