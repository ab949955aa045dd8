package fbsd_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/fbsd"
	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
)

// seedLimit keeps the header page's interesting part of each seed: NewFile
// reads at most 256 bytes, the rest only sets the file size.
const seedLimit = 512

// FuzzNewFile feeds mutated minidumps to NewFile: it must never panic and
// fail only with a *FormatError.
func FuzzNewFile(f *testing.F) {
	for _, mk := range fbsdtest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), seedLimit)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := fbsd.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *fbsd.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error: %v", err)
			}
			return
		}
		_ = file.Info()
		_ = file.Diagnostics()
		if r, err := file.Ranges(); r != nil || err != nil {
			t.Fatalf("Ranges = %v, %v", r, err)
		}
	})
}
