package kdmp_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
)

// seedLimit cuts seeds short after the headers: the page data adds nothing
// for the fuzzer but makes every execution and every minimization slower.
const seedLimit = 0x2000 + 0x200

// FuzzNewFile feeds mutated kernel dumps to NewFile: it must never panic,
// fail only with a *FormatError, and keep Info, Diagnostics, Ranges and the
// target's decoders (Threads, Modules, Memory, the contexts) working on
// whatever it accepts, with ranges inside the file.
func FuzzNewFile(f *testing.F) {
	for _, mk := range kdmptest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), seedLimit)])
	}
	// Triage dumps keep their content after the header; their seeds are
	// whole (a few KiB).
	for _, mk := range kdmptest.TriageScenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := kdmp.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *kdmp.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error: %v", err)
			}
			return
		}
		_ = file.Info()
		ranges, err := file.Ranges()
		if err != nil {
			var fe *kdmp.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured Ranges error: %v", err)
			}
		}
		for _, r := range ranges {
			if r.FileOff < 0 || r.Size == 0 || uint64(r.FileOff)+r.Size > uint64(len(b)) {
				t.Fatalf("range %+v outside the %d-byte file", r, len(b))
			}
		}
		exercise(t, file) // triage_test.go: threads, modules, memory, contexts
		_ = file.Diagnostics()
	})
}
