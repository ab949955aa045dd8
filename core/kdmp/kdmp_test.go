package kdmp_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/model"
)

// open assembles b (a header or triage builder) and opens it, failing
// the test on any error.
func open(t *testing.T, b interface{ Bytes() ([]byte, error) }) (*kdmp.File, []byte) {
	t.Helper()
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
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

// diagAt reports whether the diagnostics include one of severity sev at off.
func diagAt(diags []model.Diagnostic, sev model.Severity, off int64) bool {
	return slices.ContainsFunc(diags, func(d model.Diagnostic) bool { return d.Severity == sev && d.Off == off })
}

// checkPages verifies that every page a range lists is stored at the range's
// file offset, using the builder's page contents.
func checkPages(t *testing.T, raw []byte, ranges []model.Range) {
	t.Helper()
	for _, r := range ranges {
		if !r.Physical {
			t.Errorf("range %+v is not physical", r)
		}
		for i := uint64(0); i < r.Size; i += kdmptest.PageSize {
			n := min(kdmptest.PageSize, r.Size-i)
			off := r.FileOff + int64(i)
			want := kdmptest.PageData((r.Start + i) / kdmptest.PageSize)[:n]
			if off < 0 || off+int64(n) > int64(len(raw)) {
				t.Errorf("range %+v: page at %#x runs past the file", r, off)
				continue
			}
			if !bytes.Equal(raw[off:off+int64(n)], want) {
				t.Errorf("range %+v: file offset %#x does not hold physical page %#x", r, off, (r.Start+i)/kdmptest.PageSize)
			}
		}
	}
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

func TestBuilderVariants(t *testing.T) {
	t.Parallel()
	// FirstPage of a 64-bit bitmap dump: 0x2000 header + 0x38 bitmap header
	// + the bitmap (64 bits by default).
	const bmp64 = 0x2038 + 8
	for name, tc := range map[string]struct {
		b       *kdmptest.Builder
		variant string
		arch    model.Arch
		version string
		ranges  []span
		dumpTyp string
	}{
		"full": {
			b: kdmptest.New(), variant: "complete", arch: model.AMD64, version: "10.0.19041", dumpTyp: "1 (FullDump)",
			ranges: []span{{0x1000, 0x2000, 0x2000}, {0x10000, 0x1000, 0x4000}},
		},
		"full-32": {
			b: kdmptest.New32().PAE(true), variant: "complete", arch: model.X86, version: "6.1.7601", dumpTyp: "1 (FullDump)",
			ranges: []span{{0x1000, 0x2000, 0x1000}, {0x10000, 0x1000, 0x3000}},
		},
		"full-one-run": {
			b: kdmptest.New().Runs(kdmptest.Run{BasePage: 0, PageCount: 4}), variant: "complete", arch: model.AMD64, version: "10.0.19041", dumpTyp: "1 (FullDump)",
			ranges: []span{{0, 0x4000, 0x2000}},
		},
		"kernel-summary": {
			b: kdmptest.New().DumpType(kdmptest.Kernel), variant: "kernel", arch: model.AMD64, version: "10.0.19041", dumpTyp: "2 (KernelDump)",
		},
		"triage": {
			b: kdmptest.New().DumpType(kdmptest.Triage), variant: "triage", arch: model.AMD64, version: "10.0.19041", dumpTyp: "4 (MiniDump)",
		},
		"triage-arm64": {
			b: kdmptest.New().DumpType(kdmptest.Triage).Machine(kdmptest.ARM64).Build(22000), variant: "triage", arch: model.ARM64, version: "10.0.22000", dumpTyp: "4 (MiniDump)",
		},
		"bitmap-kernel": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1, 2, 3, 8, 9, 63), variant: "bitmap-kernel", arch: model.AMD64, version: "10.0.19041", dumpTyp: "5 (BMPDump, SDMP)",
			ranges: []span{{0x1000, 0x3000, bmp64}, {0x8000, 0x2000, bmp64 + 0x3000}, {0x3f000, 0x1000, bmp64 + 0x5000}},
		},
		"bitmap-complete": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).BitmapSignature(kdmptest.FullSignature).Pages(0, 7, 8, 100), variant: "bitmap-complete", arch: model.AMD64, version: "10.0.19041", dumpTyp: "5 (BMPDump, FDMP)",
			// 100 is in the second 64-bit word: the bitmap is 16 bytes.
			ranges: []span{{0, 0x1000, 0x2038 + 16}, {0x7000, 0x2000, 0x2038 + 16 + 0x1000}, {100 * 0x1000, 0x1000, 0x2038 + 16 + 0x3000}},
		},
		"bitmap-odd-bit-count": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(0, 1, 2, 9).BitmapBits(10), variant: "bitmap-kernel", arch: model.AMD64, version: "10.0.19041", dumpTyp: "5 (BMPDump, SDMP)",
			ranges: []span{{0, 0x3000, 0x2038 + 2}, {0x9000, 0x1000, 0x2038 + 2 + 0x3000}},
		},
		"live-kernel": {
			b: kdmptest.New().DumpType(kdmptest.LiveKernelBitmap).Pages(4, 5), variant: "live-kernel", arch: model.AMD64, version: "10.0.19041", dumpTyp: "6 (LiveKernelBitmapDump, SDMP)",
			ranges: []span{{0x4000, 0x2000, bmp64}},
		},
		"bitmap-32": {
			b: kdmptest.New32().DumpType(kdmptest.Bitmap).Pages(1, 2, 5), variant: "bitmap-kernel", arch: model.X86, version: "6.1.7601", dumpTyp: "5 (BMPDump, SDMP)",
			ranges: []span{{0x1000, 0x2000, 0x1038 + 8}, {0x5000, 0x1000, 0x1038 + 8 + 0x2000}},
		},
		// RDMP: header 0x30 bytes, 16 bytes per PFN range, a zero entry,
		// then the pages.
		"kernel-memory": {
			b: kdmptest.New().DumpType(kdmptest.KernelMemory).Pages(1, 2, 3, 9), variant: "kernel", arch: model.AMD64, version: "10.0.19041", dumpTyp: "8 (KernelMemoryDump)",
			ranges: []span{{0x1000, 0x3000, 0x2030 + 3*16}, {0x9000, 0x1000, 0x2030 + 3*16 + 0x3000}},
		},
		"active-memory": {
			b: kdmptest.New().DumpType(kdmptest.KernelAndUserMemory).Pages(2, 3, 0x20), variant: "active", arch: model.AMD64, version: "10.0.19041", dumpTyp: "9 (KernelAndUserMemoryDump)",
			ranges: []span{{0x2000, 0x2000, 0x2030 + 3*16}, {0x20000, 0x1000, 0x2030 + 3*16 + 0x2000}},
		},
		"complete-memory": {
			b: kdmptest.New().DumpType(kdmptest.CompleteMemory).Pages(1, 2, 4), variant: "complete", arch: model.AMD64, version: "10.0.19041", dumpTyp: "10 (CompleteMemoryDump)",
			// No terminator: TotalNumberOfPages ends the list.
			ranges: []span{{0x1000, 0x2000, 0x2030 + 2*16}, {0x4000, 0x1000, 0x2030 + 2*16 + 0x2000}},
		},
		"header-only-type": {
			b: kdmptest.New().DumpType(kdmptest.Header), variant: "", arch: model.AMD64, version: "10.0.19041", dumpTyp: "3 (HeaderDump)",
		},
		"win8.1-server": {
			b: kdmptest.New().Build(9600).ProductType(3), variant: "complete", arch: model.AMD64, version: "6.3.9600", dumpTyp: "1 (FullDump)",
			ranges: []span{{0x1000, 0x2000, 0x2000}, {0x10000, 0x1000, 0x4000}},
		},
		"arm32": {
			b: kdmptest.New32().Machine(kdmptest.ARM).Build(9600).DumpType(kdmptest.Triage), variant: "triage", arch: model.ARM, version: "6.3.9600", dumpTyp: "4 (MiniDump)",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, raw := open(t, tc.b)
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics on a valid dump: %+v", d)
			}
			info := f.Info()
			if info.Format != model.WindowsKernel || info.Variant != tc.variant || info.Arch != tc.arch {
				t.Errorf("format/variant/arch = %q/%q/%q, want windows-kernel/%q/%q", info.Format, info.Variant, info.Arch, tc.variant, tc.arch)
			}
			if info.OS.Family != model.Windows || info.OS.Version != tc.version {
				t.Errorf("OS = %+v, want windows %s", info.OS, tc.version)
			}
			if got := detail(info, "Dump type"); got != tc.dumpTyp {
				t.Errorf("Dump type detail = %q, want %q", got, tc.dumpTyp)
			}
			ranges, err := f.Ranges()
			if err != nil {
				t.Fatalf("Ranges: %v", err)
			}
			if got := spans(ranges); !slices.Equal(got, tc.ranges) {
				t.Errorf("ranges = %#v, want %#v", got, tc.ranges)
			}
			checkPages(t, raw, ranges)
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics after Ranges on a valid dump: %+v", d)
			}
		})
	}
}

func TestDefaultInfo(t *testing.T) {
	t.Parallel()
	f, _ := open(t, kdmptest.New().Comment("manual crash"))
	info := f.Info()
	want := model.Crash{Kind: model.BugCheck, Code: 0xE2, Name: "MANUALLY_INITIATED_CRASH", Parameters: []uint64{0, 0, 0, 0}}
	if c := info.Crash; c == nil || c.Kind != want.Kind || c.Code != want.Code || c.Name != want.Name || !slices.Equal(c.Parameters, want.Parameters) {
		t.Errorf("Crash = %+v, want %+v", info.Crash, want)
	}
	if !info.Time.Equal(kdmptest.DefaultTime) || info.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v UTC", info.Time, kdmptest.DefaultTime)
	}
	if info.Uptime != time.Hour || info.CPUs != 2 || info.Threads != -1 || info.Modules != -1 {
		t.Errorf("Uptime/CPUs/Threads/Modules = %v/%d/%d/%d", info.Uptime, info.CPUs, info.Threads, info.Modules)
	}
	if info.OS.Build != "19041" {
		t.Errorf("OS.Build = %q", info.OS.Build)
	}
	for key, want := range map[string]string{
		"Header":              "DUMP_HEADER64 (PAGEDU64)",
		"Kernel":              "Windows 10 Kernel Version 19041 MP (2 procs) Free x64",
		"DirectoryTableBase":  "0x1ad000",
		"PsLoadedModuleList":  "0xfffff8047c62a390",
		"KdDebuggerDataBlock": "0xfffff8047c600b20",
		"ProductType":         "1 (VER_NT_WORKSTATION)",
		"SuiteMask":           "0x110",
		"Comment":             "manual crash",
		"Physical memory":     "2 runs, 0x3 pages",
		"RequiredDumpSpace":   "0x5000",
	} {
		if got := detail(info, key); got != want {
			t.Errorf("detail %q = %q, want %q", key, got, want)
		}
	}
	if got := detail(info, "PAE"); got != "" {
		t.Errorf("PAE detail on a 64-bit dump: %q", got)
	}

	f32, _ := open(t, kdmptest.New32().PAE(true).BugCheck(0xD1, 1, 2, 3, 0xfffffffe))
	info = f32.Info()
	if got := detail(info, "PAE"); got != "enabled" {
		t.Errorf("PAE = %q", got)
	}
	if got := detail(info, "Kernel"); got != "Windows 7 Kernel Version 7601 MP (2 procs) Free x86 compatible" {
		t.Errorf("Kernel = %q", got)
	}
	if c := info.Crash; c == nil || c.Name != "DRIVER_IRQL_NOT_LESS_OR_EQUAL" || !slices.Equal(c.Parameters, []uint64{1, 2, 3, 0xfffffffe}) {
		t.Errorf("32-bit crash = %+v", c)
	}
	if !info.Time.Equal(kdmptest.DefaultTime) || info.Uptime != time.Hour {
		t.Errorf("32-bit time/uptime = %v/%v", info.Time, info.Uptime)
	}
}

func TestHeaderFields(t *testing.T) {
	t.Parallel()
	const page32 = 0x45474150
	const page64 = 0x4547415045474150
	for name, tc := range map[string]struct {
		b     *kdmptest.Builder
		check func(t *testing.T, info model.Info, diags []model.Diagnostic)
	}{
		"bugcheck-not-written": {kdmptest.New().BugCheck(page32), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if info.Crash != nil {
				t.Errorf("Crash = %+v, want nil for a \"PAGE\" code", info.Crash)
			}
		}},
		"bugcheck-zero": {kdmptest.New().BugCheck(0), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if info.Crash == nil || info.Crash.Kind != model.NoCrash {
				t.Errorf("Crash = %+v, want kind none", info.Crash)
			}
		}},
		"dumpit-markers": {kdmptest.New().BugCheck(0x5454414D, 0x4E4F4F4D, 0x534C4F53, 0x4E4F4F4D, 0x534C4F53), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if c := info.Crash; c == nil || c.Kind != model.NoCrash || c.Code != 0x5454414D || c.Message == "" {
				t.Errorf("Crash = %+v, want an acquisition marker", c)
			}
		}},
		"bugcheck-M": {kdmptest.New().BugCheck(0x1000008E, 0xc0000005), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if c := info.Crash; c == nil || c.Name != "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M" || c.Parameters[0] != 0xc0000005 {
				t.Errorf("Crash = %+v", c)
			}
		}},
		"unknown-bugcheck": {kdmptest.New().BugCheck(0x7777), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if c := info.Crash; c == nil || c.Kind != model.BugCheck || c.Name != "" || c.Code != 0x7777 {
				t.Errorf("Crash = %+v", c)
			}
		}},
		"time-not-written": {kdmptest.New().RawSystemTime(page64).RawUptime(page64), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if !info.Time.IsZero() || info.Uptime != 0 {
				t.Errorf("Time/Uptime = %v/%v, want zero", info.Time, info.Uptime)
			}
		}},
		"time-zero": {kdmptest.New().RawSystemTime(0), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if !info.Time.IsZero() {
				t.Errorf("Time = %v", info.Time)
			}
		}},
		"time-huge": {kdmptest.New().RawSystemTime(1 << 63).RawUptime(1 << 63), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if !info.Time.IsZero() || info.Uptime != 0 {
				t.Errorf("Time/Uptime = %v/%v", info.Time, info.Uptime)
			}
		}},
		"checked-build": {kdmptest.New().Major(0xC), func(t *testing.T, info model.Info, diags []model.Diagnostic) {
			if got := detail(info, "Kernel"); got != "Windows 10 Kernel Version 19041 MP (2 procs) Checked x64" {
				t.Errorf("Kernel = %q", got)
			}
			if len(diags) != 0 {
				t.Errorf("diags = %+v", diags)
			}
		}},
		"bad-major": {kdmptest.New().Major(5), func(t *testing.T, _ model.Info, diags []model.Diagnostic) {
			if !diagAt(diags, model.Warning, 8) {
				t.Errorf("no warning at MajorVersion: %+v", diags)
			}
		}},
		"unknown-build": {kdmptest.New().Build(9841), func(t *testing.T, info model.Info, _ []model.Diagnostic) {
			if info.OS.Version != "" || info.OS.Build != "9841" {
				t.Errorf("OS = %+v, want no NT version for a preview build", info.OS)
			}
		}},
		"unknown-machine": {kdmptest.New().Machine(0x1234), func(t *testing.T, info model.Info, diags []model.Diagnostic) {
			if info.Arch != "" || !diagAt(diags, model.Warning, 0x30) {
				t.Errorf("Arch %q, diags %+v", info.Arch, diags)
			}
		}},
		"x86-in-64": {kdmptest.New().Machine(kdmptest.X86), func(t *testing.T, _ model.Info, diags []model.Diagnostic) {
			if !diagAt(diags, model.Warning, 0x30) {
				t.Errorf("diags %+v", diags)
			}
		}},
		"amd64-in-32": {kdmptest.New32().Machine(kdmptest.AMD64), func(t *testing.T, _ model.Info, diags []model.Diagnostic) {
			if !diagAt(diags, model.Warning, 0x20) {
				t.Errorf("diags %+v", diags)
			}
		}},
		"no-cpus": {kdmptest.New().CPUs(0), func(t *testing.T, info model.Info, diags []model.Diagnostic) {
			if info.CPUs != 0 || !diagAt(diags, model.Warning, 0x34) {
				t.Errorf("CPUs %d, diags %+v", info.CPUs, diags)
			}
		}},
		"unknown-dump-type": {kdmptest.New().DumpType(0x99), func(t *testing.T, info model.Info, diags []model.Diagnostic) {
			if info.Variant != "" || !diagAt(diags, model.Warning, 0xF98) {
				t.Errorf("Variant %q, diags %+v", info.Variant, diags)
			}
		}},
		"unknown-dump-type-32": {kdmptest.New32().DumpType(0x99), func(t *testing.T, _ model.Info, diags []model.Diagnostic) {
			if !diagAt(diags, model.Warning, 0xF88) {
				t.Errorf("diags %+v", diags)
			}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, _ := open(t, tc.b)
			tc.check(t, f.Info(), f.Diagnostics())
		})
	}
}

// TestDamage opens damaged dumps: each must open, report the damage as a
// diagnostic at the right place, and list only ranges the file holds.
func TestDamage(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		b      *kdmptest.Builder
		sev    model.Severity
		off    int64 // where the expected diagnostic points
		ranges []span
		lies   bool // the ranges follow a lying header: skip the page check
	}{
		"full-truncated-mid-run": {
			b: kdmptest.New().Truncate(0x3000), sev: model.Error, off: 0x3000,
			ranges: []span{{0x1000, 0x1000, 0x2000}},
		},
		"full-truncated-mid-page": {
			b: kdmptest.New().Truncate(0x3800), sev: model.Error, off: 0x3800,
			ranges: []span{{0x1000, 0x1800, 0x2000}},
		},
		"full-header-only": {
			b: kdmptest.New().Truncate(0x2000), sev: model.Error, off: 0x2000,
		},
		"full-lying-run-count": {
			// The runs past the two written read as "PAGE" filler, which
			// overflows: only the real runs are listed.
			b: kdmptest.New().RunCountOverride(1000), sev: model.Error, off: 0x88,
			ranges: []span{{0x1000, 0x2000, 0x2000}, {0x10000, 0x1000, 0x4000}},
		},
		"full-zero-runs": {
			b: kdmptest.New().RunCountOverride(0), sev: model.Warning, off: 0x88,
		},
		"full-lying-page-count": {
			b: kdmptest.New().PageCountOverride(7), sev: model.Warning, off: 0x88,
			ranges: []span{{0x1000, 0x2000, 0x2000}, {0x10000, 0x1000, 0x4000}},
		},
		"full-no-descriptor": {
			b: kdmptest.New().Patch(0x88, []byte("PAGE")), sev: model.Error, off: 0x88,
		},
		"full-overlapping-runs": {
			b: kdmptest.New().Runs(kdmptest.Run{BasePage: 4, PageCount: 2}, kdmptest.Run{BasePage: 5, PageCount: 1}), sev: model.Warning, off: 0x88,
			ranges: []span{{0x4000, 0x2000, 0x2000}, {0x5000, 0x1000, 0x4000}},
		},
		"full-32-truncated": {
			b: kdmptest.New32().Truncate(0x2000), sev: model.Error, off: 0x2000,
			ranges: []span{{0x1000, 0x1000, 0x1000}},
		},
		"bitmap-truncated": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1, 2, 3).Truncate(0x2040 + 0x1000), sev: model.Error, off: 0x3040,
			ranges: []span{{0x1000, 0x1000, 0x2040}},
		},
		"bitmap-header-missing": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Truncate(0x2010), sev: model.Error, off: 0x2000,
		},
		"bitmap-bad-signature": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1).Patch(0x2000, []byte("XDMP")), sev: model.Error, off: 0x2000,
			ranges: []span{{0x1000, 0x1000, 0x2040}},
		},
		"bitmap-bad-valid-dump": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1).Patch(0x2004, []byte("DUMB")), sev: model.Warning, off: 0x2004,
			ranges: []span{{0x1000, 0x1000, 0x2040}},
		},
		"bitmap-lying-present-count": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1, 2).PageCountOverride(1 << 40), sev: model.Error, off: 0x2040 + 0x2000,
			ranges: []span{{0x1000, 0x2000, 0x2040}},
		},
		"bitmap-count-mismatch": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1, 2).PageCountOverride(1), sev: model.Warning, off: 0x2028,
			ranges: []span{{0x1000, 0x2000, 0x2040}},
		},
		"bitmap-huge": {
			// Pages claims 2^62 bits but the builder writes 4 KiB of
			// bitmap: it is read only up to the file's end (running into
			// the page data) and pages past the end are dropped.
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1).BitmapBits(1 << 62), sev: model.Error, off: 0x2038,
			ranges: []span{{0x1000, 0x1000, 0x3038}},
		},
		"bitmap-first-page-inside-bitmap": {
			b: kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1).Patch(0x2020, []byte{0x39, 0x20}), sev: model.Warning, off: 0x2020,
			ranges: []span{{0x1000, 0x1000, 0x2039}}, lies: true,
		},
		"triage-truncated": {
			b: kdmptest.New().DumpType(kdmptest.Triage).Truncate(0x2080), sev: model.Error, off: 0x2080,
		},
		"triage-no-marker": {
			b: kdmptest.New().DumpType(kdmptest.Triage).Patch(0x210c, []byte("XXXX")), sev: model.Warning, off: 0x210c,
		},
		"triage-header-missing": {
			b: kdmptest.New().DumpType(kdmptest.Triage).Truncate(0x2004), sev: model.Error, off: 0x2000,
		},
		"rdmp-bad-marker": {
			b: kdmptest.New().DumpType(kdmptest.KernelMemory).Pages(1).Patch(0x2000, []byte{0x41}), sev: model.Error, off: 0x2000,
			ranges: []span{{0x1000, 0x1000, 0x2050}},
		},
		"rdmp-truncated": {
			b: kdmptest.New().DumpType(kdmptest.KernelMemory).Pages(1, 2).Truncate(0x2050 + 0x1000), sev: model.Error, off: 0x3050,
			ranges: []span{{0x1000, 0x1000, 0x2050}},
		},
		"rdmp-complete-lying-total": {
			b: kdmptest.New().DumpType(kdmptest.CompleteMemory).Pages(1, 2).PageCountOverride(9), sev: model.Error, off: 0x2040 + 0x2000,
			ranges: []span{{0x1000, 0x2000, 0x2040}},
		},
		"rdmp-first-page-past-eof": {
			b: kdmptest.New().DumpType(kdmptest.KernelMemory).Pages(1).Patch(0x2018, []byte{0, 0, 0, 0, 0, 0, 1}), sev: model.Error, off: 0x2018,
		},
		"rdmp-header-missing": {
			b: kdmptest.New().DumpType(kdmptest.CompleteMemory).Truncate(0x2020), sev: model.Error, off: 0x2000,
		},
		"rdmp-in-32-bit-dump": {
			b: kdmptest.New32().DumpType(kdmptest.KernelMemory), sev: model.Warning, off: 0x1000,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, raw := open(t, tc.b)
			info := f.Info() // header fields survive the damage
			if info.Format != model.WindowsKernel || info.OS.Build == "" {
				t.Errorf("Info = %+v", info)
			}
			ranges, err := f.Ranges()
			if err != nil {
				t.Fatalf("Ranges: %v", err)
			}
			if got := spans(ranges); !slices.Equal(got, tc.ranges) {
				t.Errorf("ranges = %#v, want %#v", got, tc.ranges)
			}
			if !tc.lies {
				checkPages(t, raw, ranges)
			}
			if d := f.Diagnostics(); !diagAt(d, tc.sev, tc.off) {
				t.Errorf("want a %v diagnostic at %#x, got %+v", tc.sev, tc.off, d)
			}
		})
	}
}

// failingReader fails every read that touches offset at or beyond failAt.
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
	full, _ := kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1, 2).Bytes()
	for name, tc := range map[string]struct {
		r       io.ReaderAt
		size    int64
		wantErr error // matched with errors.Is
	}{
		"empty":                  {bytes.NewReader(nil), 0, kdmp.ErrUnrecognized},
		"tiny":                   {bytes.NewReader([]byte("PAGE")), 4, kdmp.ErrUnrecognized},
		"minidump":               {bytes.NewReader([]byte("MDMP\x93\xa7\x00\x00")), 8, kdmp.ErrUnrecognized},
		"page-but-other":         {bytes.NewReader([]byte("PAGEDU32")), 8, kdmp.ErrUnrecognized},
		"short-header-64":        {bytes.NewReader(full[:0x1fff]), 0x1fff, io.ErrUnexpectedEOF},
		"short-header-32":        {bytes.NewReader([]byte("PAGEDUMP")), 8, io.ErrUnexpectedEOF},
		"size-lies":              {bytes.NewReader(full[:0x100]), int64(len(full)), io.ErrUnexpectedEOF},
		"io-error-header":        {failingReader{bytes.NewReader(full), 0x100, errDisk}, int64(len(full)), errDisk},
		"io-error-bitmap-header": {failingReader{bytes.NewReader(full), 0x2010, errDisk}, int64(len(full)), errDisk},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := kdmp.NewFile(tc.r, tc.size)
			if err == nil {
				t.Fatalf("NewFile succeeded: %+v", f.Info())
			}
			var fe *kdmp.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tc.wantErr)
			}
			if fe.What == "" || fe.Error() == "" {
				t.Errorf("FormatError without description: %#v", fe)
			}
		})
	}

	// An I/O error while walking the bitmap is Ranges' error, not a panic.
	f, err := kdmp.NewFile(failingReader{bytes.NewReader(full), 0x2039, errDisk}, int64(len(full)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Ranges(); !errors.Is(err, errDisk) {
		t.Errorf("Ranges error = %v, want %v", err, errDisk)
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		want bool
	}{
		{"PAGEDU64", true},
		{"PAGEDUMP and more", true},
		{"PAGEDU6", false},
		{"PAGEDU65", false},
		{"MDMP\x93\xa7\x00\x00", false},
		{"", false},
	} {
		if got := kdmp.Probe(bytes.NewReader([]byte(tc.data)), int64(len(tc.data))); got != tc.want {
			t.Errorf("Probe(%q) = %v, want %v", tc.data, got, tc.want)
		}
	}
	// A damaged dump still probes as one.
	raw, _ := kdmptest.New().Truncate(0x100).Bytes()
	if !kdmp.Probe(bytes.NewReader(raw), int64(len(raw))) {
		t.Error("Probe rejects a truncated dump")
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	raw, err := kdmptest.New().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "MEMORY.DMP")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := kdmp.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Info().Variant; got != "complete" {
		t.Errorf("Variant = %q", got)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := kdmp.Open(filepath.Join(t.TempDir(), "missing.dmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.dmp")
	if err := os.WriteFile(bad, []byte("not a dump at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := kdmp.Open(bad); !errors.Is(err, kdmp.ErrUnrecognized) {
		t.Errorf("Open(bad) = %v", err)
	}
	// NewFile's File closes nothing.
	nf, _ := open(t, kdmptest.New())
	if err := nf.Close(); err != nil {
		t.Errorf("Close of a NewFile File: %v", err)
	}
}

// TestConcurrent exercises the memoised accessors from many goroutines (run
// with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	f, _ := open(t, kdmptest.New().DumpType(kdmptest.Bitmap).Pages(1, 2).PageCountOverride(5))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_ = f.Info()
			if _, err := f.Ranges(); err != nil {
				t.Error(err)
			}
			_ = f.Diagnostics()
		})
	}
	wg.Wait()
	if !diagAt(f.Diagnostics(), model.Warning, 0x2028) {
		t.Errorf("count mismatch not reported once Ranges ran: %+v", f.Diagnostics())
	}
}

func TestScenariosOpen(t *testing.T) {
	t.Parallel()
	for name, mk := range kdmptest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, raw := open(t, mk())
			_ = f.Info()
			ranges, err := f.Ranges()
			if err != nil {
				t.Fatal(err)
			}
			checkPages(t, raw, ranges)
		})
	}
}
