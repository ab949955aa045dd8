package kdmp_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestSecondaryData walks the secondary dump data of the corpus's real
// triage dumps: the chain of blobs must end exactly at the end of the
// file (a misread header size or padding would not), with no diagnostic;
// cut inside a blob, the file says at open that it is truncated, in that
// blob, and the blobs before it are still listed whole.
func TestSecondaryData(t *testing.T) {
	for _, c := range []struct {
		rel   string
		blobs int // counted by walking the headers by hand (DUMP_BLOB_HEADER: size, GUID, data size, pre-, post-pad)
	}{
		{"rizin/dmp/triage_x64.dmp", 20},
		{"rizin/dmp/triage_arm64.dmp", 42},
	} {
		b, err := os.ReadFile(fixture.Corpus(t, c.rel))
		if err != nil {
			t.Fatal(err)
		}
		f, err := kdmp.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		blobs := f.SecondaryData()
		if len(blobs) != c.blobs || len(f.Diagnostics()) != 0 {
			t.Fatalf("%s: %d blobs, diagnostics %v; want %d and none", c.rel, len(blobs), f.Diagnostics(), c.blobs)
		}
		last := blobs[len(blobs)-1]
		if end := last.Off + int64(last.Size); end > int64(len(b)) || end < int64(len(b))-8 {
			t.Errorf("%s: the last blob ends at %#x, the file at %#x", c.rel, end, len(b))
		}
		for _, bl := range blobs {
			if !strings.HasPrefix(bl.Tag, "{") || len(bl.Tag) != 38 || bl.Present != bl.Size {
				t.Errorf("%s: blob %+v", c.rel, bl)
			}
		}
		// Cut in the middle of the middle blob.
		mid := blobs[len(blobs)/2]
		cut := b[:mid.Off+int64(mid.Size)/2]
		g, err := kdmp.NewFile(bytes.NewReader(cut), int64(len(cut)))
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("inside secondary dump data blob %d (tag %s", len(blobs)/2, mid.Tag)
		if ds := g.Diagnostics(); len(ds) != 1 || !strings.Contains(ds[0].Msg, "truncated") || !strings.Contains(ds[0].Msg, want) {
			t.Errorf("%s cut at %#x: diagnostics %v, want one with %q", c.rel, len(cut), ds, want)
		}
		if got := g.SecondaryData(); len(got) != len(blobs)/2+1 || got[len(got)-1].Present != mid.Size/2 {
			t.Errorf("%s cut at %#x: %d blobs listed, the last %+v", c.rel, len(cut), len(got), got[len(got)-1])
		}
	}
}
