package minidumptest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/testutil/golden"
)

// TestBundledSample keeps testdata/sample/sample.dmp, the dump
// `make run` opens, equal to what this builder makes. Regenerate it with
// go test ./core/minidump/minidumptest -update.
func TestBundledSample(t *testing.T) {
	got, err := Scenarios()["sample"]().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := fixture.Testdata(t, "sample/sample.dmp")
	if golden.Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./core/minidump/minidumptest -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the builder's output; run go test ./core/minidump/minidumptest -update", path)
	}
}
