package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/testutil/golden"
	"github.com/crashbench/crashbench/workspace"
)

// correlationDir lays out ten crashes and a snapshot: four access
// violations in app.exe (bucket A) that all load foo.dll 1.2.3, four
// Linux SIGSEGVs of which one loads foo.dll 1.1.0, two divisions by
// zero in app.exe without a time of their own (their mtime, 2024-03-05,
// counts), and a snapshot that loads foo.dll 1.2.3 but is no crash.
func correlationDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		dir = d
	}
	sc := minidumptest.Scenarios()
	foo := func(v [4]uint16) minidumptest.Module {
		return minidumptest.Module{Base: 0x7ffe_0000_0000, Size: 0x10000, Name: `C:\Program Files\Vendor\foo.dll`, Version: &v}
	}
	day := func(d, h int) uint32 {
		return uint32(time.Date(2024, 3, d, h, 0, 0, 0, time.UTC).Unix())
	}
	divide := func(pid uint32) *minidumptest.Builder {
		// No time in the header nor a process creation time: the mtime
		// counts. The second thread tells the dumps apart.
		return minidumptest.New(minidumptest.LE).Timestamp(0).Thread(0x1234).Thread(pid).
			Module(minidumptest.Module{Base: 0x7ff6_0000_0000, Size: 0x10000, Name: `C:\app\app.exe`}).
			Exception(minidumptest.Exception{ThreadID: 0x1234, Code: 0xc0000094, Address: 0x7ff6_0000_1010})
	}
	dumps := map[string]*minidumptest.Builder{
		"a1.dmp":     sc["amd64-av-write"]().Module(foo([4]uint16{1, 2, 3, 0})).Timestamp(day(1, 9)),
		"a2.dmp":     sc["amd64-av-write"]().Module(foo([4]uint16{1, 2, 3, 0})).Timestamp(day(1, 17)),
		"a3.dmp":     sc["amd64-av-write"]().Module(foo([4]uint16{1, 2, 3, 0})).Timestamp(day(2, 9)),
		"a4.dmp":     sc["amd64-av-write"]().Module(foo([4]uint16{1, 2, 3, 0})).Timestamp(day(4, 9)),
		"l1.dmp":     sc["linux-sigsegv"]().Module(foo([4]uint16{1, 1, 0, 0})).Timestamp(day(1, 10)),
		"l2.dmp":     sc["linux-sigsegv"]().Timestamp(day(2, 10)),
		"l3.dmp":     sc["linux-sigsegv"]().Timestamp(day(2, 11)),
		"l4.dmp":     sc["linux-sigsegv"]().Timestamp(day(3, 10)),
		"d1.dmp":     divide(1),
		"d2.dmp":     divide(2),
		"snap.dmp":   sc["x86-threads"]().Module(foo([4]uint16{1, 2, 3, 0})).Timestamp(day(1, 12)),
		"README.txt": nil,
	}
	mtime := time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)
	for name, b := range dumps {
		data := []byte("not a dump\n")
		if b != nil {
			var err error
			if data, err = b.Bytes(); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(dir, "dumps", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBucketsCorrelationsTimeline(t *testing.T) {
	dir := correlationDir(t)
	clean := func(s string) string { return strings.ReplaceAll(s, dir+string(filepath.Separator), "") }
	out, errs, code := runCLI(t, dir, "index", "--db", "ws.db", "dumps")
	if want := "12 files: 11 added, 0 unchanged, 0 duplicates, 1 not dumps, 0 errors\n"; code != ExitOK || out != want {
		t.Fatalf("index: exit %d, %q, stderr %q", code, out, errs)
	}
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db", "--json")
	var bs []struct {
		Signature string `json:"signature"`
		Count     int    `json:"count"`
	}
	if err := json.Unmarshal([]byte(out), &bs); err != nil {
		t.Fatal(err)
	}
	var counts []string
	for _, b := range bs {
		counts = append(counts, fmt.Sprintf("%s %d", b.Signature, b.Count))
	}
	t.Logf("buckets: %q", counts)
	if len(bs) != 3 || bs[0].Count != 4 || bs[1].Count != 4 || bs[2].Count != 2 {
		t.Fatalf("buckets %q, want 4 + 4 + 2 crashes", counts)
	}
	keyA := ""
	for _, b := range bs {
		if strings.Contains(b.Signature, "c0000005") && b.Count == 4 {
			keyA = b.Signature
		}
	}
	if keyA == "" {
		t.Fatalf("no bucket of the four access violations: %q", counts)
	}

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"buckets-correlations.txt", []string{"buckets", "--db", "ws.db", "--correlations", keyA}},
		{"buckets-correlations.json", []string{"buckets", "--db", "ws.db", "--correlations", keyA, "--json"}},
		{"buckets-timeline.txt", []string{"buckets", "--db", "ws.db", "--timeline"}},
		{"buckets-timeline-since.json", []string{"buckets", "--db", "ws.db", "--timeline", "--since", "2024-03-02", "--until", "2024-03-04", "--json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, code := runCLI(t, dir, tc.args...)
			if code != ExitOK || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			golden.Check(t, tc.name, []byte(clean(out)))
		})
	}

	// The numbers, independent of the goldens: foo.dll 1.2.3 is in all
	// four dumps of A and in 4 of the 10 crashes (the snapshot does not
	// count); foo.dll at any version in 5.
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db", "--correlations", keyA, "--json")
	var cj correlationsJSON
	if err := json.Unmarshal([]byte(out), &cj); err != nil {
		t.Fatal(err)
	}
	if cj.Bucket != keyA || cj.Count != 4 || cj.Crashes != 10 {
		t.Errorf("correlations header %+v", cj)
	}
	found := map[string]correlationJSON{}
	for _, c := range cj.Correlations {
		found[c.Module+"@"+c.Version] = c
	}
	if c := found["foo.dll@1.2.3.0"]; c.InBucket != 4 || c.Overall != 4 || c.BucketPercent != 100 || c.OverallPercent != 40 {
		t.Errorf("foo.dll 1.2.3.0: %+v", c)
	}
	if c := found["foo.dll@"]; c.InBucket != 4 || c.Overall != 5 || c.BucketPercent != 100 || c.OverallPercent != 50 {
		t.Errorf("foo.dll: %+v", c)
	}
	if _, ok := found["foo.dll@1.1.0.0"]; ok {
		t.Error("foo.dll 1.1.0.0 is not in bucket A")
	}

	// The timeline adds up to the buckets.
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db", "--timeline", "--json")
	var ps []timelineJSON
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	sum := map[string]int{}
	for _, p := range ps {
		sum[p.Bucket] += p.Count
	}
	for _, b := range bs {
		if sum[b.Signature] != b.Count {
			t.Errorf("%s: timeline %d, buckets %d", b.Signature, sum[b.Signature], b.Count)
		}
	}

	// The user's merges count: the divisions by zero joined to A make
	// A six dumps, on the days of both.
	ws, err := workspace.Open(filepath.Join(dir, "ws.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = ws.MergeBuckets(context.Background(), "INTEGER_DIVIDE_BY_ZERO_c0000094_unknown_module!unknown_function", keyA)
	ws.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db", "--correlations", keyA, "--json")
	if err := json.Unmarshal([]byte(out), &cj); err != nil {
		t.Fatal(err)
	}
	if cj.Count != 6 || cj.Crashes != 10 {
		t.Errorf("after the merge: %+v", cj)
	}
	out, _, _ = runCLI(t, dir, "buckets", "--db", "ws.db", "--timeline", "--since", "2024-03-04")
	if want := "2024-03-04  1  " + keyA + "\n2024-03-05  2  " + keyA + "\n"; out != want {
		t.Errorf("timeline after the merge: %q, want %q", out, want)
	}

	// Misuse and empty indexes.
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"buckets", "--db", "ws.db", "--correlations", "NO_SUCH"}, ExitUsage, ""},
		{[]string{"buckets", "--db", "ws.db", "--since", "2024-03-01"}, ExitUsage, ""},
		{[]string{"buckets", "--db", "ws.db", "--timeline", "--since", "yesterday"}, ExitUsage, ""},
		{[]string{"buckets", "--db", "ws.db", "--timeline", "--correlations", keyA}, ExitUsage, ""},
		{[]string{"buckets", "--db", "ws.db", "--timeline", "--since", "2025-01-01"}, ExitOK, "no crashes in that time\n"},
		{[]string{"buckets", "--db", "empty.db", "--timeline", "--json"}, ExitOK, "[]\n"},
	} {
		out, errs, code := runCLI(t, dir, tc.args...)
		if code != tc.code || out != tc.out || (code != ExitOK && errs == "") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", tc.args, code, out, errs)
		}
	}
}
