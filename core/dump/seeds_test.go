package dump

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/lime/limetest"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

// fuzzSeeds returns one dump from every format builder, cut to at most
// 12 KiB: detection only needs the headers, and short seeds keep the
// fuzzer's minimizer fast.
func fuzzSeeds() [][]byte {
	var out [][]byte
	add := func(b []byte, err error) {
		if err == nil {
			out = append(out, b[:min(len(b), 12<<10)])
		}
	}
	for _, mk := range kdmptest.Scenarios() {
		add(mk().Bytes())
	}
	for _, mk := range limetest.Scenarios() {
		add(mk().Bytes())
	}
	for _, mk := range fbsdtest.Scenarios() {
		add(mk().Bytes())
	}
	for _, mk := range vmcoretest.Scenarios() {
		add(mk().Bytes())
	}
	return out
}

// TestEveryBuilderIsDetectedAsItsFormat runs each format's named scenarios
// through detection: the probe order must hand every one to its own format.
func TestEveryBuilderIsDetectedAsItsFormat(t *testing.T) {
	t.Parallel()
	check := func(name, want string, b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: build: %v", name, err)
		}
		f, ok := Detect(bytes.NewReader(b), int64(len(b)))
		if !ok || f.Name != want {
			t.Errorf("%s: detected as %q (%v), want %q", name, f.Name, ok, want)
		}
	}
	for name, mk := range kdmptest.Scenarios() {
		b, err := mk().Bytes()
		check("kdmp/"+name, "kdmp", b, err)
	}
	for name, mk := range limetest.Scenarios() {
		b, err := mk().Bytes()
		check("lime/"+name, "lime", b, err)
	}
	for name, mk := range fbsdtest.Scenarios() {
		b, err := mk().Bytes()
		check("fbsd/"+name, "fbsd", b, err)
	}
	for name, mk := range vmcoretest.Scenarios() {
		b, err := mk().Bytes()
		want := "vmcore"
		if len(b) >= 8 && (string(b[:8]) == "KDUMP   " || bytes.HasPrefix(b, []byte("makedumpfile"))) {
			want = "kdump-compressed"
		}
		check("vmcore/"+name, want, b, err)
	}
	b, err := vmcoretest.ProcessCore(binary.LittleEndian).Bytes()
	check("vmcore/ProcessCore", "elfcore", b, err)
}
