package minidump

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

func FuzzNewFile(f *testing.F) {
	for _, mk := range minidumptest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Real dumps from the corpus (their first 64 KiB), when it is there.
	for _, b := range fixture.CorpusSeeds(f, 64<<10, "MDMP") {
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
		for _, dec := range Decoders { // touch every stream, as rust-minidump's fuzz target does
			_, _ = dec(file)
		}
		_, _ = file.Threads()
		_, _ = file.Modules()
		_, _ = file.ExceptionContext()
		if m, err := file.Memory(); err == nil {
			for r := range m.Regions() {
				p := make([]byte, min(r.Size, 16))
				_, _ = m.ReadMemory(p, r.Start)
			}
		}
		_ = file.Diagnostics()
	})
}
