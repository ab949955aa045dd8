package pdb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// FuzzNewFile reads arbitrary bytes as a PDB and exercises every view:
// nothing may panic, and a failed NewFile must return ErrUnrecognized or
// a *FormatError. Allocation is bounded by the input size (every count is
// checked against the file size), which the fuzzer's memory limit checks.
func FuzzNewFile(f *testing.F) {
	for _, rel := range []string{
		"llvm-pdb/DebugInfo-PDB/empty.pdb",
		"lldb-pdb/test-pdb.pdb",
	} {
		// Seeds come from the shared corpus when it is there.
		dir := os.Getenv("CRASHBENCH_CORPUS")
		if dir == "" {
			dir = filepath.Join(fixture.Root(f), "..", "shared", "corpus")
		}
		if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(msfMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var fe *FormatError
			if !errors.Is(err, ErrUnrecognized) && !errors.As(err, &fe) {
				t.Fatalf("unstructured error %T: %v", err, err)
			}
			return
		}
		exercise(file)
		exerciseTypes(file)
	})
}
