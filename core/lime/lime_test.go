package lime_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/crashbench/crashbench/core/lime"
	"github.com/crashbench/crashbench/core/lime/limetest"
	"github.com/crashbench/crashbench/core/model"
)

func open(t *testing.T, b *limetest.Builder) (*lime.File, []byte) {
	t.Helper()
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := lime.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f, raw
}

func detail(info model.Info, key string) string {
	for _, d := range info.Details {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

func diagAt(diags []model.Diagnostic, sev model.Severity, off int64) bool {
	return slices.ContainsFunc(diags, func(d model.Diagnostic) bool { return d.Severity == sev && d.Off == off })
}

type span struct {
	start, size uint64
	off         int64
}

func spans(rs []model.Range) []span {
	var out []span
	for _, r := range rs {
		out = append(out, span{r.Start, r.Size, r.FileOff})
	}
	return out
}

// checkData verifies each range's file offset holds the memory the builder
// stored for its physical addresses.
func checkData(t *testing.T, raw []byte, ranges []model.Range) {
	t.Helper()
	for _, r := range ranges {
		if !r.Physical {
			t.Errorf("range %+v is not physical", r)
		}
		if r.FileOff < 0 || uint64(r.FileOff)+r.Size > uint64(len(raw)) {
			t.Errorf("range %+v runs past the %d-byte file", r, len(raw))
			continue
		}
		if !bytes.Equal(raw[r.FileOff:r.FileOff+int64(r.Size)], limetest.Data(r.Start, r.Size)) {
			t.Errorf("range %+v: file bytes are not the memory at %#x", r, r.Start)
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		b        *limetest.Builder
		ranges   []span
		captured string
		span     string
	}{
		"default": {limetest.New(), []span{{0x1000, 0x3000, 32}}, "0x3000 bytes", "0x1000-0x3fff"},
		"three": {
			limetest.New().Ranges(limetest.Range{Start: 0, Size: 0x9f000}, limetest.Range{Start: 0x100000, Size: 0x2000}, limetest.Range{Start: 0x7fff0000, Size: 0x10}),
			[]span{{0, 0x9f000, 32}, {0x100000, 0x2000, 32 + 0x9f000 + 32}, {0x7fff0000, 0x10, 3*32 + 0x9f000 + 0x2000}},
			"0xa1010 bytes", "0x0-0x7fff000f",
		},
		"one-byte-range": {limetest.New().Ranges(limetest.Range{Start: 0x1001, Size: 1}), []span{{0x1001, 1, 32}}, "0x1 bytes", "0x1001-0x1001"},
		"top-of-memory": {
			limetest.New().Ranges(limetest.Range{Start: 0xffffffffffffff00, Size: 0x100}),
			[]span{{0xffffffffffffff00, 0x100, 32}}, "0x100 bytes", "0xffffffffffffff00-0xffffffffffffffff",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, raw := open(t, tc.b)
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics on a valid image: %+v", d)
			}
			info := f.Info()
			if info.Format != model.LiME || info.Variant != "lime" || info.OS.Family != model.Linux || info.Arch != "" {
				t.Errorf("format/variant/os/arch = %q/%q/%q/%q", info.Format, info.Variant, info.OS.Family, info.Arch)
			}
			if info.Crash == nil || info.Crash.Kind != model.NoCrash {
				t.Errorf("Crash = %+v, want a live acquisition", info.Crash)
			}
			if got := detail(info, "Ranges"); got != strconv.Itoa(len(tc.ranges)) {
				t.Errorf("Ranges detail = %q", got)
			}
			if got := detail(info, "Captured"); got != tc.captured {
				t.Errorf("Captured = %q, want %q", got, tc.captured)
			}
			if got := detail(info, "Physical span"); got != tc.span {
				t.Errorf("Physical span = %q, want %q", got, tc.span)
			}
			if detail(info, "Architecture") == "" {
				t.Error("no detail says the architecture is not recorded")
			}
			ranges, err := f.Ranges()
			if err != nil {
				t.Fatal(err)
			}
			if got := spans(ranges); !slices.Equal(got, tc.ranges) {
				t.Errorf("ranges = %#v, want %#v", got, tc.ranges)
			}
			checkData(t, raw, ranges)
		})
	}
}

func TestMany(t *testing.T) {
	t.Parallel()
	f, raw := open(t, limetest.Many(500))
	ranges, _ := f.Ranges()
	if len(ranges) != 500 || len(f.Diagnostics()) != 0 {
		t.Fatalf("%d ranges, diags %+v", len(ranges), f.Diagnostics())
	}
	for i, r := range ranges {
		if r.Start != 0x1000+uint64(i)*0x2000 || r.Size != 0x1000 || r.FileOff != int64(i)*(32+0x1000)+32 {
			t.Fatalf("range %d = %+v", i, r)
		}
	}
	checkData(t, raw, ranges)
	// Ranges returns a copy: callers cannot change the File.
	ranges[0].Start = 0
	if again, _ := f.Ranges(); again[0].Start != 0x1000 {
		t.Error("Ranges shares its slice")
	}
}

func TestDamage(t *testing.T) {
	t.Parallel()
	const hp = 32 + 0x1000 // one header and one page, as limetest.Many lays them out
	for name, tc := range map[string]struct {
		b      *limetest.Builder
		sev    model.Severity
		off    int64
		ranges []span
	}{
		"truncated-range":         {limetest.New().Truncate(32 + 0x800), model.Error, 32 + 0x800, []span{{0x1000, 0x800, 32}}},
		"truncated-after-header":  {limetest.New().Truncate(32), model.Error, 32, nil},
		"truncated-second-header": {limetest.Many(2).Truncate(hp + 10), model.Warning, hp, []span{{0x1000, 0x1000, 32}}},
		"bad-second-magic":        {limetest.Many(3).Magic(1, 0xdeadbeef), model.Error, hp, []span{{0x1000, 0x1000, 32}}},
		"lying-end":               {limetest.Many(2).End(0, 1<<40), model.Error, 2 * hp, []span{{0x1000, 2*hp - 32, 32}}},
		"end-before-start":        {limetest.Many(2).End(1, 0), model.Error, hp + 16, []span{{0x1000, 0x1000, 32}}},
		"whole-address-space":     {limetest.New().Ranges(limetest.Range{Start: 0, Size: 1}).End(0, ^uint64(0)), model.Error, 16, nil},
		"version-2":               {limetest.New().Version(0, 2), model.Warning, 4, []span{{0x1000, 0x3000, 32}}},
		"trailing-bytes":          {limetest.New().Trailing([]byte("junk")), model.Warning, 32 + 0x3000, []span{{0x1000, 0x3000, 32}}},
		"overlapping": {
			limetest.New().Ranges(limetest.Range{Start: 0x2000, Size: 0x1000}, limetest.Range{Start: 0x1000, Size: 0x2000}), model.Warning, hp + 8,
			[]span{{0x2000, 0x1000, 32}, {0x1000, 0x2000, hp + 32}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, raw := open(t, tc.b)
			if f.Info().Format != model.LiME {
				t.Error("Info lost the format")
			}
			ranges, err := f.Ranges()
			if err != nil {
				t.Fatal(err)
			}
			if got := spans(ranges); !slices.Equal(got, tc.ranges) {
				t.Errorf("ranges = %#v, want %#v", got, tc.ranges)
			}
			if name != "lying-end" {
				checkData(t, raw, ranges)
			}
			if d := f.Diagnostics(); !diagAt(d, tc.sev, tc.off) {
				t.Errorf("want a %v diagnostic at %#x, got %+v", tc.sev, tc.off, d)
			}
		})
	}
}

func TestMaxRanges(t *testing.T) {
	t.Parallel()
	// MaxRanges+1 one-byte ranges: the walk stops at the bound.
	b := limetest.New().Ranges()
	for i := range lime.MaxRanges + 1 {
		b.AddRange(uint64(i)*2, 1)
	}
	f, _ := open(t, b)
	ranges, _ := f.Ranges()
	if len(ranges) != lime.MaxRanges {
		t.Errorf("%d ranges, want %d", len(ranges), lime.MaxRanges)
	}
	if d := f.Diagnostics(); !diagAt(d, model.Error, int64(lime.MaxRanges)*33) {
		t.Errorf("no diagnostic at the bound: %+v", d)
	}
}

type failingReader struct {
	r      io.ReaderAt
	failAt int64
	err    error
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.failAt {
		return 0, f.err
	}
	return f.r.ReadAt(p, off)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk on fire")
	two, _ := limetest.Many(2).Bytes()
	for name, tc := range map[string]struct {
		r       io.ReaderAt
		size    int64
		wantErr error
	}{
		"empty":          {bytes.NewReader(nil), 0, lime.ErrUnrecognized},
		"not-lime":       {bytes.NewReader([]byte("PAGEDU64........................")), 32, lime.ErrUnrecognized},
		"big-endian":     {bytes.NewReader([]byte("LiME\x00\x00\x00\x01")), 8, lime.ErrUnrecognized},
		"short-header":   {bytes.NewReader(two[:20]), 20, io.ErrUnexpectedEOF},
		"size-lies":      {bytes.NewReader(two[:2]), 32, io.ErrUnexpectedEOF},
		"io-error-first": {failingReader{bytes.NewReader(two), 8, errDisk}, int64(len(two)), errDisk},
		"io-error-later": {failingReader{bytes.NewReader(two), 0x1030, errDisk}, int64(len(two)), errDisk},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := lime.NewFile(tc.r, tc.size)
			var fe *lime.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tc.wantErr)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		want bool
	}{
		{"EMiL", true},
		{"EMiL\x01\x00\x00\x00", true},
		{"LiME", false},
		{"EMi", false},
		{"", false},
	} {
		if got := lime.Probe(bytes.NewReader([]byte(tc.data)), int64(len(tc.data))); got != tc.want {
			t.Errorf("Probe(%q) = %v", tc.data, got)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	raw, _ := limetest.New().Bytes()
	path := filepath.Join(t.TempDir(), "mem.lime")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := lime.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.Ranges(); len(r) != 1 {
		t.Errorf("ranges = %+v", r)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if _, err := lime.Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("raw memory, no header"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lime.Open(bad); !errors.Is(err, lime.ErrUnrecognized) {
		t.Errorf("Open(bad) = %v", err)
	}
	nf, _ := open(t, limetest.New())
	if err := nf.Close(); err != nil {
		t.Error(err)
	}
}

func TestScenariosOpen(t *testing.T) {
	t.Parallel()
	for name, mk := range limetest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, _ := open(t, mk())
			_ = f.Info()
			if _, err := f.Ranges(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
