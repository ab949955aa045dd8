package minidump

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

func FuzzNewFile(f *testing.F) {
	for _, mk := range minidumptest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
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
		_ = file.Diagnostics()
	})
}
