package export_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/export"
	"github.com/crashbench/crashbench/core/minidump"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// heapSecret is planted in a heap range: the reduced copy must not hold it.
const heapSecret = "password=hunter2-in-the-heap"

// sampleWithHeap is the bundled sample (a stack walked through frame
// records) plus a heap range holding heapSecret, as a MemoryList dump or a
// full-memory (Memory64List) one.
func sampleWithHeap(t *testing.T, full bool) string {
	t.Helper()
	heap := bytes.Repeat([]byte{0xab}, 64<<10)
	copy(heap[100:], heapSecret)
	b := minidumptest.Scenarios()["sample"]().Memory(minidumptest.Memory{Start: 0x2000_0000, Bytes: heap})
	if full {
		b = b.FullMemory()
	}
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "in.dmp")
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// stack runs k on a dump, the way a support engineer checks a copy.
func stack(t *testing.T, path string) string {
	t.Helper()
	s, err := session.Open(context.Background(), path, session.Options{Offline: true})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer s.Close()
	var out strings.Builder
	if err := s.Exec(context.Background(), "k", console.NewTextOutput(&out)); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestMinimalMinidump(t *testing.T) {
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "memory-list", true: "full-memory"}[full]
		t.Run(name, func(t *testing.T) {
			in := sampleWithHeap(t, full)
			fi, _ := os.Stat(in)
			f, err := os.Open(in)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			out := filepath.Join(t.TempDir(), "out.dmp")
			res, err := export.MinimalMinidump(f, fi.Size(), out)
			if err != nil {
				t.Fatal(err)
			}
			if res.KeptRanges != 1 || res.KeptBytes != 0x100 || res.RemovedRanges != 1 || res.RemovedBytes != 64<<10 {
				t.Errorf("result %+v: want the 0x100-byte stack kept and the 64 KiB heap removed", res)
			}
			b, _ := os.ReadFile(out)
			if bytes.Contains(b, []byte(heapSecret)) {
				t.Error("the reduced copy still holds the heap's secret")
			}
			if int64(len(b)) != res.Size {
				t.Errorf("size %d, result says %d", len(b), res.Size)
			}
			if full && res.Size >= fi.Size() {
				t.Errorf("full-memory copy is %d bytes, the original %d", res.Size, fi.Size())
			}
			// The copy opens, its stack walks as the original's does, and
			// the heap is gone from its memory.
			if got, want := stack(t, out), stack(t, in); got != want || !strings.Contains(got, "app+0x2046") || strings.Count(got, "\n") < 5 {
				t.Errorf("k on the copy:\n%s\nwant:\n%s", got, want)
			}
			md, err := minidump.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer md.Close()
			mem, err := md.Memory()
			if err != nil {
				t.Fatal(err)
			}
			p := make([]byte, 16)
			if n, _ := mem.ReadMemory(p, 0x2000_0000); n != 0 {
				t.Errorf("the heap still reads %d bytes", n)
			}
			if n, _ := mem.ReadMemory(p, 0x14_0020); n != 16 {
				t.Errorf("the stack reads %d bytes", n)
			}
			if ds := md.Diagnostics(); len(ds) != 0 {
				t.Errorf("the copy opens with diagnostics %v", ds)
			}
		})
	}
}

func TestMinimalMinidumpRejectsNonMinidump(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("not a minidump at all, just text"), 0o644)
	f, _ := os.Open(p)
	defer f.Close()
	if _, err := export.MinimalMinidump(f, 33, filepath.Join(t.TempDir(), "out")); err == nil {
		t.Error("text exported as a minidump")
	}
}

// TestMinimalMinidumpBreakpad opens the reduced copy with Breakpad's
// minidump_stackwalk (unpacked by scripts/bench-compare.sh into
// bin/peers/, or on PATH), the tool the platform's crash reports go to.
func TestMinimalMinidumpBreakpad(t *testing.T) {
	tool, err := exec.LookPath("minidump_stackwalk")
	if err != nil {
		tool = filepath.Join(fixture.Root(t), "bin/peers/minidump-0.26.0/bin/linux-x64/minidump_stackwalk")
		if _, err := os.Stat(tool); err != nil {
			t.Skip("no minidump_stackwalk: make bench-compare unpacks it into bin/peers/")
		}
	}
	in := sampleWithHeap(t, true)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	out := filepath.Join(t.TempDir(), "out.dmp")
	if _, err := export.MinimalMinidump(f, fi.Size(), out); err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(tool, out).Output()
	if err != nil {
		t.Fatalf("minidump_stackwalk on the copy: %v", err)
	}
	for _, want := range []string{"EXCEPTION_ACCESS_VIOLATION_WRITE", "Thread 0 (crashed)", "app.exe + 0x2046"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("minidump_stackwalk output lacks %q:\n%s", want, got)
		}
	}
}
