package lime_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/lime"
	"github.com/crashbench/crashbench/core/lime/limetest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// FuzzNewFile feeds mutated LiME images to NewFile: it must never panic, fail
// only with a *FormatError, and list only ranges inside the file.
func FuzzNewFile(f *testing.F) {
	for _, mk := range limetest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Real dumps from the corpus (their first 64 KiB), when it is there.
	for _, b := range fixture.CorpusSeeds(f, 64<<10, "EMiL") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := lime.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *lime.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error: %v", err)
			}
			return
		}
		_ = file.Info()
		_ = file.Diagnostics()
		ranges, err := file.Ranges()
		if err != nil {
			t.Fatalf("Ranges: %v", err)
		}
		for _, r := range ranges {
			if r.FileOff < 0 || r.Size == 0 || uint64(r.FileOff)+r.Size > uint64(len(b)) {
				t.Fatalf("range %+v outside the %d-byte file", r, len(b))
			}
		}
		if phys, err := file.PhysicalMemory(); err == nil {
			for _, r := range ranges {
				phys.ReadMemory(make([]byte, 64), r.Start)
			}
		}
	})
}
