package elfcore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func FuzzNewFile(f *testing.F) {
	for _, mk := range elfcoretest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Real dumps from the corpus (their first 64 KiB), when it is there.
	for _, b := range fixture.CorpusSeeds(f, 64<<10, "\x7fELF") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error: %v", err)
			}
			return
		}
		_ = file.Info()
		_, _ = file.Ranges()
		if ts, err := file.Threads(); err == nil {
			for _, th := range ts {
				if th.Context != nil {
					_, _, _ = th.Context.PC(), th.Context.SP(), th.Context.FP()
					_ = th.Context.Regs()
				}
			}
		}
		_, _ = file.ExceptionContext()
		_, _ = file.Modules()
		if sp, err := file.Memory(); err == nil {
			var buf [64]byte
			for r := range sp.Regions() {
				_, _ = sp.ReadMemory(buf[:], r.Start)
				_, _ = sp.ReadMemory(buf[:], r.End()-1)
			}
		}
	})
}
