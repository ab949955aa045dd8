package diff

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/report"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/testutil/golden"
)

// fr builds a frame: module, function, offset, line; the pc is made up
// from base so that two stacks can differ by ASLR alone.
func fr(base uint64, mod, fn, off string, line int) report.Frame {
	return report.Frame{PC: report.Hex(base), Module: mod, Function: fn, Offset: off, Line: line}
}

// stack numbers frames and gives each a distinct pc above base.
func stack(base uint64, fs ...report.Frame) []report.Frame {
	for i := range fs {
		fs[i].Index = i
		fs[i].PC = report.Hex(base + uint64(i)*0x100)
	}
	return fs
}

// ops returns the alignment marks as one string, with the frame indexes.
func ops(ps []FramePair) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Op)
		switch {
		case p.A != nil && p.B != nil:
			b.WriteString(itoa(p.A.Index) + "/" + itoa(p.B.Index))
		case p.A != nil:
			b.WriteString(itoa(p.A.Index) + "/")
		case p.B != nil:
			b.WriteString("/" + itoa(p.B.Index))
		}
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestAlign(t *testing.T) {
	f := func(fn, off string, line int) report.Frame { return fr(0, "app", fn, off, line) }
	lib := func(fn, off string) report.Frame { return fr(0, "libc.so.6", fn, off, 0) }
	tests := []struct {
		name string
		a, b []report.Frame
		want string
	}{
		{"both empty", nil, nil, ""},
		{"A empty", nil, stack(0x1000, f("main", "0x10", 3)), "+/0"},
		{"B empty", stack(0x1000, f("main", "0x10", 3), f("_start", "0x21", 0)), nil, "-0/ -1/"},
		{"ASLR only",
			stack(0x400000, f("crash", "0xe", 58), f("main", "0x10", 3)),
			stack(0x7f0000, f("crash", "0xe", 58), f("main", "0x10", 3)),
			"=0/0 =1/1"},
		{"offset and line moved",
			stack(0x1000, f("crash", "0xe", 58), f("main", "0x10", 3)),
			stack(0x1000, f("crash", "0x12", 60), f("main", "0x10", 4)),
			"~0/0 ~1/1"},
		{"frame inserted in B",
			stack(0x1000, lib("raise", "0x12"), f("check", "0x39", 4), f("main", "0x1c", 5)),
			stack(0x1000, lib("raise", "0x12"), lib("abort", "0xd3"), f("check", "0x39", 4), f("main", "0x1c", 5)),
			"=0/0 +/1 =1/2 =2/3"},
		{"frame removed in B",
			stack(0x1000, lib("raise", "0x12"), lib("abort", "0xd3"), f("main", "0x1c", 5)),
			stack(0x1000, lib("raise", "0x12"), f("main", "0x1c", 5)),
			"=0/0 -1/ =2/1"},
		{"frame replaced: removal before insertion",
			stack(0x1000, lib("raise", "0x12"), f("check", "0x39", 4), f("main", "0x1c", 5)),
			stack(0x1000, lib("raise", "0x12"), f("release", "0x18", 3), f("main", "0x37", 4)),
			"=0/0 -1/ +/1 ~2/2"},
		{"recursion depth differs",
			stack(0x1000, f("walk", "0x5", 9), f("walk", "0x20", 12), f("walk", "0x20", 12), f("main", "0x1", 2)),
			stack(0x1000, f("walk", "0x5", 9), f("walk", "0x20", 12), f("main", "0x1", 2)),
			"=0/0 =1/1 -2/ =3/2"},
		{"no function: module and offset",
			stack(0x900000, fr(0, "crashme.exe", "", "0xa6cd", 0), fr(0, "crashme.exe", "", "0x83d8", 0)),
			stack(0x1030000, fr(0, "crashme.exe", "", "0xa6cd", 0), fr(0, "crashme.exe", "", "0x83d9", 0)),
			"=0/0 -1/ +/1"},
		{"module name case",
			stack(0x1000, fr(0, "KERNEL32.dll", "BaseThreadInitThunk", "0x12", 0)),
			stack(0x2000, fr(0, "kernel32.dll", "BaseThreadInitThunk", "0x12", 0)),
			"=0/0"},
		{"no module: the pc decides",
			[]report.Frame{{Index: 0, PC: "0xdead"}, {Index: 1, PC: "0xbeef"}},
			[]report.Frame{{Index: 0, PC: "0xdead"}, {Index: 1, PC: "0xbee0"}},
			"=0/0 -1/ +/1"},
		{"same function in another module is another frame",
			stack(0x1000, fr(0, "a.dll", "Init", "0x1", 0)),
			stack(0x1000, fr(0, "b.dll", "Init", "0x1", 0)),
			"-0/ +/0"},
		{"common tail after divergent tops",
			stack(0x1000, lib("a", "0x1"), lib("b", "0x1"), f("main", "0x2", 1), f("_start", "0x3", 0)),
			stack(0x1000, lib("c", "0x1"), f("main", "0x2", 1), f("_start", "0x3", 0)),
			"-0/ -1/ +/0 =2/1 =3/2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ops(Align(tc.a, tc.b)); got != tc.want {
				t.Errorf("Align = %q, want %q", got, tc.want)
			}
		})
	}
}

// synth builds a small report.
func synth(path string, base uint64, frames []report.Frame, mods ...report.Module) *report.Report {
	code := uint64(0xc0000005)
	tid := uint64(7)
	return &report.Report{
		Schema: report.Schema, File: &report.File{Path: path}, Format: "minidump", Variant: "user",
		OS: &report.OS{Family: "windows", Version: "10.0.19041", Build: "19041.1.amd64fre"}, Arch: "amd64", CPUs: 4,
		Time:    &report.Time{Crash: "2024-01-02T03:04:05Z", UptimeSeconds: 54},
		Process: &report.Process{PID: 1, Name: "app.exe"},
		Crash: &report.Crash{Kind: "exception", Code: &code, CodeHex: "0xc0000005", Name: "EXCEPTION_ACCESS_VIOLATION_WRITE",
			Address: "0x45", ThreadID: &tid},
		Threads: []report.Thread{
			{ID: 3, Frames: stack(base+0x9000, fr(0, "ntdll.dll", "NtWaitForSingleObject", "0x14", 0))},
			{ID: tid, Frames: frames},
		},
		Modules: mods,
		Analysis: &report.Analysis{Reason: "EXCEPTION_ACCESS_VIOLATION_WRITE at 0x45", FaultingFrame: "app!Crash+0xe",
			Signature: "app.exe!Crash", BucketID: "NULL_CLASS_PTR_WRITE_c0000005_app.exe!Crash"},
	}
}

func mod(name, base, version, debugID string) report.Module {
	return report.Module{Name: name, Base: base, Size: 0x10000, Version: version, DebugID: debugID}
}

func synthPair() (*report.Report, *report.Report) {
	a := synth("a.dmp", 0x7ff700000000, stack(0x7ff700001000,
		fr(0, "app.exe", "Crash", "0xe", 58),
		fr(0, "app.exe", "Queue::Push", "0x20", 12),
		fr(0, "app.exe", "main", "0x30", 80),
		fr(0, "kernel32.dll", "BaseThreadInitThunk", "0x14", 0)),
		mod("app.exe", "0x7ff700000000", "1.2.3.4", "AAAA1"),
		mod("KERNEL32.dll", "0x7ffa00000000", "10.0.19041.1", "K1"),
		mod("ntdll.dll", "0x7ffb00000000", "10.0.19041.1", "N1"),
		mod("old.dll", "0x180000000", "", ""))
	b := synth("b.dmp", 0x7ff600000000, stack(0x7ff600001000,
		fr(0, "app.exe", "Crash", "0x12", 60),
		fr(0, "app.exe", "Queue::Grow", "0x8", 30),
		fr(0, "app.exe", "Queue::Push", "0x20", 12),
		fr(0, "app.exe", "main", "0x30", 80)),
		mod("app.exe", "0x7ff600000000", "1.2.4.0", "BBBB1"),
		mod("kernel32.dll", "0x7ffa10000000", "10.0.19041.1", "K1"),
		mod("ntdll.dll", "0x7ffb00000000", "10.0.19041.1", "N1"),
		mod("new.dll", "0x180000000", "2.0", ""))
	b.Crash.Name = "EXCEPTION_ACCESS_VIOLATION_READ"
	b.Analysis.BucketID = "NULL_CLASS_PTR_READ_c0000005_app.exe!Crash"
	b.Time.Crash = "2024-01-03T00:00:00Z"
	return a, b
}

func TestReportsSynthesized(t *testing.T) {
	a, b := synthPair()
	d := Reports(a, b)
	if d.Same {
		t.Fatal("Same for different crashes")
	}
	if got, want := ops(d.Stack.Frames), "~0/0 +/1 =1/2 =2/3 -3/"; got != want {
		t.Errorf("stack %q, want %q", got, want)
	}
	if d.Stack.ThreadA == nil || *d.Stack.ThreadA != 7 {
		t.Errorf("thread A %v, want the crash's thread 7", d.Stack.ThreadA)
	}
	got := map[string]string{}
	for _, c := range d.Modules.Changes {
		got[c.Name] = c.Change + " " + strings.Join(c.Fields, ",")
	}
	want := map[string]string{
		"app.exe":      "changed version,debug_id,base",
		"KERNEL32.dll": "rebased base",
		"old.dll":      "removed ",
		"new.dll":      "added ",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("module changes %v, want %v", got, want)
	}
	if d.Modules.Same != 2 {
		t.Errorf("%d modules the same, want 2 (ntdll, and kernel32 rebased)", d.Modules.Same)
	}
	diffNames := map[string]bool{}
	for _, f := range append(append([]Field{}, d.System...), d.Crash...) {
		if !f.Same {
			diffNames[f.Name] = true
		}
	}
	if !reflect.DeepEqual(diffNames, map[string]bool{"time": true, "name": true, "bucket": true}) {
		t.Errorf("differing fields %v", diffNames)
	}
	// 3 fields, 3 stack rows, 3 module changes (the rebase is not one).
	if d.Changes != 9 {
		t.Errorf("%d differences, want 9", d.Changes)
	}
	checkGolden(t, "synthesized", d)
}

func TestReportsIdentical(t *testing.T) {
	a, _ := synthPair()
	d := Reports(a, a)
	if !d.Same || d.Changes != 0 || len(d.Modules.Changes) != 0 {
		t.Fatalf("a report against itself: same=%v changes=%d modules=%v", d.Same, d.Changes, d.Modules.Changes)
	}
}

func TestReportsEmpty(t *testing.T) {
	d := Reports(nil, &report.Report{})
	if !d.Same || len(d.Stack.Frames) != 0 {
		t.Fatalf("empty reports differ: %+v", d)
	}
	var buf bytes.Buffer
	if err := d.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "(no frames)") {
		t.Errorf("empty text:\n%s", buf.String())
	}
}

func TestModulesDuplicatesAndUnloaded(t *testing.T) {
	a := &report.Report{Modules: []report.Module{
		mod("x.dll", "0x1000", "1", ""), mod("x.dll", "0x2000", "1", ""),
		{Name: "gone.dll", Base: "0x5000", Unloaded: true},
	}}
	b := &report.Report{Modules: []report.Module{
		mod("x.dll", "0x1000", "1", ""),
		{Name: "gone.dll", Base: "0x5000"},
	}}
	d := Reports(a, b)
	var got []string
	for _, c := range d.Modules.Changes {
		got = append(got, c.Change+" "+c.Name)
	}
	// The second x.dll went away; the unloaded gone.dll of A is not the
	// loaded one of B.
	want := []string{"removed x.dll", "removed gone.dll", "added gone.dll"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes %q, want %q", got, want)
	}
}

func checkGolden(t *testing.T, name string, d *Diff) {
	t.Helper()
	var txt, js bytes.Buffer
	if err := d.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Diff
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON does not read back: %v", err)
	}
	golden.Check(t, name+".txt", txt.Bytes())
	golden.Check(t, name+".json", js.Bytes())
}

// analysis opens a dump and returns its analysis report with the path
// shortened to the file name, so goldens do not depend on the checkout.
func analysis(t *testing.T, path string) *report.Report {
	t.Helper()
	s, err := session.Open(context.Background(), path, session.Options{Offline: true})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer s.Close()
	r, _, err := s.AnalysisReport(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if r.File != nil {
		r.File.Path = filepath.Base(r.File.Path)
	}
	// Where symbols were found depends on the checkout's location; the
	// goldens keep only which kind of source it was.
	for i := range r.Modules {
		if s := r.Modules[i].Symbols; s != "" {
			if j := strings.Index(s, " ("); j >= 0 {
				r.Modules[i].Symbols = s[:j]
			}
		}
	}
	return r
}

func TestCorpusPairs(t *testing.T) {
	tests := []struct {
		name string
		a, b func(t *testing.T) string
		same bool
	}{
		{"minidump2-self", corpus("breakpad/minidump2.dmp"), corpus("breakpad/minidump2.dmp"), true},
		{"null-read-vs-write", corpus("breakpad/null_read_av.dmp"), corpus("breakpad/null_write_av.dmp"), false},
		{"linux-null-read-vs-stacksmash", corpus("breakpad/linux_null_read_av.dmp"), corpus("breakpad/linux_stacksmash.dmp"), false},
		{"linux-core-assert-vs-dfree", testdata("linux-core/core.assertc.zst"), testdata("linux-core/core.dfree.zst"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pa, pb := tc.a(t), tc.b(t)
			d := Reports(analysis(t, pa), analysis(t, pb))
			if d.Same != tc.same {
				t.Errorf("Same = %v, want %v", d.Same, tc.same)
			}
			checkGolden(t, tc.name, d)
		})
	}
}

func corpus(rel string) func(*testing.T) string {
	return func(t *testing.T) string { return fixture.Corpus(t, rel) }
}

func testdata(rel string) func(*testing.T) string {
	return func(t *testing.T) string { return fixture.Testdata(t, rel) }
}
