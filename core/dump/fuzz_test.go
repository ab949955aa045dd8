package dump

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// FuzzDetect feeds arbitrary bytes through detection and the header parse
// of whichever format claims them: no panic, no hang, and every failure is
// a *dump.Error.
func FuzzDetect(f *testing.F) {
	for _, mk := range minidumptest.Scenarios() {
		b, _ := mk().Bytes()
		f.Add(b)
	}
	for _, mk := range elfcoretest.Scenarios() {
		b, _ := mk().Bytes()
		f.Add(b)
	}
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Add([]byte("PAGEDU64"))
	f.Add([]byte("PAGEDUMP"))
	f.Add([]byte("KDUMP   "))
	f.Add([]byte("EMiL\x01\x00\x00\x00"))
	f.Add([]byte("minidump FreeBSD/amd64\x00\x00"))
	f.Add([]byte("makedumpfile\x00\x00\x00\x00"))
	// Real dumps from the corpus (their first 16 KiB), when it is there.
	for _, b := range fixture.CorpusSeeds(f, 16<<10, "MDMP", "PAGEDU64", "PAGEDUMP", "KDUMP   ", "makedumpfile", "\x7fELF", "EMiL", "minidump FreeBSD") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tg, _, err := NewTarget(bytes.NewReader(b), int64(len(b)), "fuzz")
		if err != nil {
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("unstructured error: %v", err)
			}
			return
		}
		_ = tg.Info()
		_ = tg.Diagnostics()
		if rl, ok := tg.(model.RangeLister); ok {
			_, _ = rl.Ranges()
		}
	})
}
