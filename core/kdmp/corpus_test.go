package kdmp_test

import (
	"slices"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// The expected values come from rizin's test database (oracle-test-db/
// formats_dmp_dmp, `iH` on the two triage dumps) and from the corpus notes
// (rizin/ORACLE-NOTES.md, imhex-patterns/ORACLE-NOTES.md). Values marked
// "our read" have no upstream oracle: they were decoded from the raw bytes
// independently of this package (FILETIME arithmetic in Python's datetime).
type corpusCase struct {
	path       string
	variant    string
	arch       model.Arch
	version    string
	cpus       int
	time       time.Time
	uptime     time.Duration
	crash      model.Crash
	details    map[string]string
	ranges     []span
	wantDiagAt int64 // -1: no diagnostics at all
}

var corpusCases = []corpusCase{
	{
		path: "rizin/dmp/triage_x64.dmp", variant: "triage", arch: model.AMD64, version: "10.0.19041", cpus: 16,
		// our read: SystemTime 0x01d707f23dbb3399, SystemUpTime 0x23bc1e9
		time:   time.Date(2021, 2, 21, 1, 38, 22, 987765700, time.UTC),
		uptime: 3747069700 * time.Nanosecond,
		crash: model.Crash{Kind: model.BugCheck, Code: 0x1000007e, Name: "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M",
			Parameters: []uint64{0xffffffffc0000005, 0xfffff8048b58334c, 0xffff850429891ee8, 0xffff850429891720}},
		details: map[string]string{
			"Dump type":           "4 (MiniDump)",
			"DirectoryTableBase":  "0x1ad000",
			"PfnDataBase":         "0xfffff8047c6fc500",
			"PsLoadedModuleList":  "0xfffff8047c62a390",
			"PsActiveProcessHead": "0xfffff8047c61e200",
			"KdDebuggerDataBlock": "0xfffff8047c600b20",
			"ProductType":         "1 (VER_NT_WORKSTATION)",
			"SuiteMask":           "0x110",
			"Triage dump size":    "0x13a28c",
			"Kernel":              "Windows 10 Kernel Version 19041 MP (16 procs) Free x64",
		},
		wantDiagAt: -1,
	},
	{
		path: "rizin/dmp/triage_arm64.dmp", variant: "triage", arch: model.ARM64, version: "10.0.22000", cpus: 8,
		// our read: SystemTime 0x01d7a9137c0dbdd7, SystemUpTime 0x1dadf9678
		time:   time.Date(2021, 9, 14, 2, 51, 58, 146709500, time.UTC),
		uptime: 796705343200 * time.Nanosecond,
		crash: model.Crash{Kind: model.BugCheck, Code: 0x1c8, Name: "MANUALLY_INITIATED_POWER_BUTTON_HOLD",
			Parameters: []uint64{0x1b58, 0xfffff803f3a20860, 0, 0}},
		details: map[string]string{
			"Dump type":           "4 (MiniDump)",
			"DirectoryTableBase":  "0x946aa000",
			"PfnDataBase":         "0xfffff803f3b19960",
			"PsLoadedModuleList":  "0xfffff803f3a2aa20",
			"PsActiveProcessHead": "0xfffff803f3a1d1c0",
			"KdDebuggerDataBlock": "0xfffff803f3a00d00",
			"ProductType":         "1 (VER_NT_WORKSTATION)",
			"SuiteMask":           "0x110",
			"Triage dump size":    "0xac46c",
		},
		wantDiagAt: -1,
	},
	{
		// The first 16 KiB of a DumpIt full dump: header plus PFN 2 and 3.
		path: "imhex-patterns/dmp64.hexpat.bin", variant: "complete", arch: model.AMD64, version: "10.0.19045", cpus: 4,
		time:   time.Date(2024, 10, 12, 12, 57, 59, 711078400, time.UTC), // notes: 2024-10-12 12:57:59 UTC
		uptime: 2321104723800 * time.Nanosecond,                          // our read: 0x5677c7946
		crash: model.Crash{Kind: model.NoCrash, Code: 0x5454414d,
			Parameters: []uint64{0x4e4f4f4d, 0x534c4f53, 0x4e4f4f4d, 0x534c4f53}}, // "MATT", "MOON", "SOLS"
		details: map[string]string{
			"Dump type":           "1 (FullDump)",
			"DirectoryTableBase":  "0x1ad002",
			"PfnDataBase":         "0xffffec0000000000",
			"PsLoadedModuleList":  "0xfffff8071ec422b0",
			"PsActiveProcessHead": "0xfffff8071ec360a0",
			"KdDebuggerDataBlock": "0xffffc509c480b080",
			"RequiredDumpSpace":   "0x7fe88000",
			"Physical memory":     "5 runs, 0x7fe86 pages",
		},
		// Run 0 starts at PFN 2; only two of its 0x9e pages are in the file.
		ranges:     []span{{0x2000, 0x2000, 0x2000}},
		wantDiagAt: 0x4000, // the file is shorter than the runs claim
	},
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	for _, tc := range corpusCases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			f, err := kdmp.Open(fixture.Corpus(t, tc.path))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			info := f.Info()
			if info.Format != model.WindowsKernel || info.Variant != tc.variant || info.Arch != tc.arch || info.CPUs != tc.cpus {
				t.Errorf("format/variant/arch/cpus = %q/%q/%q/%d, want windows-kernel/%q/%q/%d",
					info.Format, info.Variant, info.Arch, info.CPUs, tc.variant, tc.arch, tc.cpus)
			}
			if info.OS.Family != model.Windows || info.OS.Version != tc.version {
				t.Errorf("OS = %+v, want windows %s", info.OS, tc.version)
			}
			if !info.Time.Equal(tc.time) || info.Uptime != tc.uptime {
				t.Errorf("time/uptime = %v/%v, want %v/%v", info.Time, info.Uptime, tc.time, tc.uptime)
			}
			c := info.Crash
			if c == nil {
				t.Fatal("no crash")
			}
			if c.Kind != tc.crash.Kind || c.Code != tc.crash.Code || c.Name != tc.crash.Name || !slices.Equal(c.Parameters, tc.crash.Parameters) {
				t.Errorf("crash = %+v, want %+v", *c, tc.crash)
			}
			for k, want := range tc.details {
				if got := detail(info, k); got != want {
					t.Errorf("detail %q = %q, want %q", k, got, want)
				}
			}
			ranges, err := f.Ranges()
			if err != nil {
				t.Fatal(err)
			}
			if got := spans(ranges); !slices.Equal(got, tc.ranges) {
				t.Errorf("ranges = %#v, want %#v", got, tc.ranges)
			}
			diags := f.Diagnostics()
			if tc.wantDiagAt < 0 && len(diags) != 0 {
				t.Errorf("diagnostics: %+v", diags)
			}
			if tc.wantDiagAt >= 0 && !diagAt(diags, model.Error, tc.wantDiagAt) {
				t.Errorf("want a truncation error at %#x, got %+v", tc.wantDiagAt, diags)
			}
		})
	}
}
