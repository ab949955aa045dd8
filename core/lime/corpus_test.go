package lime_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/crashbench/crashbench/core/lime"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestCorpus opens the memflow-LiME slice of a real Debian x86_64 capture:
// one range 0x1000-0x9ffff (ORACLE-NOTES.md). The oracle is the 128 bytes
// Volatility 3 read at physical 0x1000; the range's file offset must point at
// exactly those bytes.
func TestCorpus(t *testing.T) {
	t.Parallel()
	f, err := lime.Open(fixture.Corpus(t, "memflow-lime/deb-x86_64-slice.lime"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := os.ReadFile(fixture.Corpus(t, "memflow-lime/deb-x86_64-slice_0x1000_volatility3_out"))
	if err != nil {
		t.Fatal(err)
	}
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %+v", d)
	}
	info := f.Info()
	if info.Format != model.LiME || info.Variant != "lime" || info.OS.Family != model.Linux || info.Arch != "" {
		t.Errorf("Info = %+v", info)
	}
	for k, v := range map[string]string{"Ranges": "1", "Captured": "0x9f000 bytes", "Physical span": "0x1000-0x9ffff", "Version": "1"} {
		if got := detail(info, k); got != v {
			t.Errorf("detail %q = %q, want %q", k, got, v)
		}
	}
	ranges, err := f.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != 1 || ranges[0].Start != 0x1000 || ranges[0].Size != 0x9f000 || ranges[0].FileOff != 32 || !ranges[0].Physical {
		t.Fatalf("ranges = %+v, want one physical range 0x1000+0x9f000 at file offset 32", ranges)
	}
	fh, err := os.Open(fixture.Corpus(t, "memflow-lime/deb-x86_64-slice.lime"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	got := make([]byte, len(want))
	if _, err := fh.ReadAt(got, ranges[0].FileOff+int64(0x1000-ranges[0].Start)); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	if len(want) != 128 || !bytes.Equal(got, want) {
		t.Errorf("bytes at physical 0x1000 differ from Volatility 3's read:\n got %x\nwant %x", got, want)
	}
	// The same 128 bytes through PhysicalMemory, and nothing below the range.
	phys, err := f.PhysicalMemory()
	if err != nil {
		t.Fatal(err)
	}
	viaPhys := make([]byte, len(want))
	if err := mem.ReadFull(phys, viaPhys, 0x1000); err != nil || !bytes.Equal(viaPhys, want) {
		t.Errorf("PhysicalMemory at 0x1000: %v\n got %x\nwant %x", err, viaPhys, want)
	}
	if _, err := phys.ReadMemory(make([]byte, 8), 0x800); !errors.Is(err, mem.ErrNotInDump) {
		t.Errorf("below the range: %v", err)
	}
}
