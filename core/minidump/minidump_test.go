package minidump

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/model"
)

func open(t *testing.T, b *minidumptest.Builder) *File {
	t.Helper()
	r, n, err := b.ReaderAt()
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFile(r, n)
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f
}

func TestScenariosOpenCleanly(t *testing.T) {
	t.Parallel()
	for name, mk := range minidumptest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t, mk())
			_ = f.Info()
			if d := f.Diagnostics(); len(d) != 0 {
				t.Fatalf("diagnostics on a valid dump: %v", d)
			}
		})
	}
}

func TestWindowsAccessViolation(t *testing.T) {
	t.Parallel()
	f := open(t, minidumptest.Scenarios()["amd64-av-write"]())
	i := f.Info()
	if i.Format != model.Minidump || i.Variant != "user" || i.Arch != model.AMD64 || i.CPUs != 4 {
		t.Fatalf("info = %+v", i)
	}
	if i.OS.Family != model.Windows || i.OS.Version != "10.0.19041" {
		t.Fatalf("os = %+v", i.OS)
	}
	if i.Threads != 2 || i.Modules != 2 {
		t.Fatalf("threads/modules = %d/%d", i.Threads, i.Modules)
	}
	if i.Process == nil || i.Process.PID != 4242 || i.Process.Name != "app.exe" {
		t.Fatalf("process = %+v", i.Process)
	}
	if i.Uptime != 1000*time.Second {
		t.Fatalf("uptime = %v", i.Uptime)
	}
	c := i.Crash
	if c == nil || c.Kind != model.Exception || c.Name != "EXCEPTION_ACCESS_VIOLATION_WRITE" || *c.Address != 0x45 || *c.PC != 0x7ff600001010 || *c.ThreadID != 0x1234 {
		t.Fatalf("crash = %+v", c)
	}
	rs, err := f.Ranges()
	if err != nil || len(rs) != 1 || rs[0].Start != 0x1000 || rs[0].Size != 64 {
		t.Fatalf("ranges = %+v, %v", rs, err)
	}
}

func TestSignExtendedX86Addresses(t *testing.T) {
	t.Parallel()
	i := open(t, minidumptest.Scenarios()["x86-sign-extended"]()).Info()
	if *i.Crash.Address != 0x45 || *i.Crash.PC != 0x40429e {
		t.Fatalf("address %#x pc %#x, want 0x45 and 0x40429e", *i.Crash.Address, *i.Crash.PC)
	}
	if i.OS.Build != "Service Pack 2" || i.OS.Version != "5.1.2600" {
		t.Fatalf("os = %+v", i.OS)
	}
}

func TestLinuxBreakpadStreams(t *testing.T) {
	t.Parallel()
	i := open(t, minidumptest.Scenarios()["linux-sigsegv"]()).Info()
	if i.OS.Family != model.Linux || i.OS.Release != "6.1.0-26-amd64" || i.OS.Version != "6.1.0" {
		t.Fatalf("os = %+v", i.OS)
	}
	if i.Process.PID != 77 || i.Process.CommandLine != "/usr/bin/crash --now" || i.Process.Name != "crash" {
		t.Fatalf("process = %+v", i.Process)
	}
	if i.Crash.Kind != model.Signal || i.Crash.Name != "SIGSEGV / SEGV_MAPERR" || *i.Crash.Address != 0x10 {
		t.Fatalf("crash = %+v", i.Crash)
	}
}

func TestFullMemoryVariant(t *testing.T) {
	t.Parallel()
	f := open(t, minidumptest.Scenarios()["full-memory"]())
	if v := f.Info().Variant; v != "full-memory" {
		t.Fatalf("variant = %q", v)
	}
	rs, err := f.Ranges()
	if err != nil || len(rs) != 2 || rs[1].FileOff != rs[0].FileOff+4096 {
		t.Fatalf("ranges = %+v, %v", rs, err)
	}
	b, _ := minidumptest.Scenarios()["full-memory"]().Bytes()
	if !bytes.Equal(b[rs[1].FileOff:rs[1].FileOff+4096], bytes.Repeat([]byte{1}, 4096)) {
		t.Fatal("second range's file offset does not point at its bytes")
	}
}

func TestBigEndian(t *testing.T) {
	t.Parallel()
	i := open(t, minidumptest.Scenarios()["big-endian"]()).Info()
	if i.Arch != model.PPC || i.OS.Family != model.MacOS || i.Crash.Name != "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS" {
		t.Fatalf("info = %+v crash %+v", i, i.Crash)
	}
}

func TestDamage(t *testing.T) {
	t.Parallel()
	full, _ := minidumptest.Scenarios()["amd64-av-write"]().Bytes()
	for _, tc := range []struct {
		name     string
		b        *minidumptest.Builder
		wantErr  bool
		wantDiag bool
	}{
		{"header only", minidumptest.New(minidumptest.LE).Truncate(20), true, false},
		{"count lies", minidumptest.New(minidumptest.LE).CountOverride(1 << 30), false, true},
		{"streams cut off", minidumptest.Scenarios()["amd64-av-write"]().Truncate(len(full) - 100), false, true},
		{"wine version word", minidumptest.New(minidumptest.LE).Version(0x0000a793), false, false},
		{"bad version", minidumptest.New(minidumptest.LE).Version(0x1234), false, true},
		{"unknown stream", minidumptest.New(minidumptest.LE).RawStream(0xfff0, []byte{1, 2, 3}), false, false},
		{"short system info", minidumptest.New(minidumptest.LE).SystemInfo(nil).RawStream(7, []byte{9, 0}), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, n, err := tc.b.ReaderAt()
			if err != nil {
				t.Fatal(err)
			}
			f, err := NewFile(r, n)
			if tc.wantErr {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want *FormatError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = f.Info()
			_, _ = f.Ranges()
			if got := len(f.Diagnostics()) > 0; got != tc.wantDiag {
				t.Fatalf("diagnostics = %v, want some: %v", f.Diagnostics(), tc.wantDiag)
			}
		})
	}
}

// TestTruncationSaidAtOpen cuts a dump inside its last memory range: the
// open itself says the file is truncated and how much memory is missing,
// in one diagnostic, before any memory is read; the rest still works and
// the memory before the cut still reads.
func TestTruncationSaidAtOpen(t *testing.T) {
	t.Parallel()
	const start, size = 0x3000_0000, 64 << 10
	data := bytes.Repeat([]byte{0x5a}, size)
	for _, full := range []bool{false, true} {
		b := minidumptest.Scenarios()["amd64-av-write"]().Memory(minidumptest.Memory{Start: start, Bytes: data})
		if full {
			b = b.FullMemory()
		}
		whole, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		at := bytes.LastIndex(whole, data) // the range's bytes in the file
		if at < 0 || at+size != len(whole) {
			t.Fatalf("full %v: the builder does not put the last range at the end of the file (%d of %d)", full, at, len(whole))
		}
		for _, keep := range []int{0, 1, size / 2, size - 1} {
			cut := whole[:at+keep]
			f, err := NewFile(bytes.NewReader(cut), int64(len(cut)))
			if err != nil {
				t.Fatalf("full %v, cut %d bytes into the range: %v", full, keep, err)
			}
			ds := f.Diagnostics()
			want := fmt.Sprintf("1 of %d memory range(s) (%d bytes missing, from file offset %#x)", rangeCount(t, whole), size-keep, at)
			if len(ds) != 1 || !strings.Contains(ds[0].Msg, "truncated") || !strings.Contains(ds[0].Msg, want) {
				t.Fatalf("full %v, cut %d bytes into the range: diagnostics %v, want one with %q", full, keep, ds, want)
			}
			if f.Info().Crash == nil {
				t.Errorf("full %v: the exception is lost", full)
			}
			space, err := f.Memory()
			if err != nil {
				t.Fatal(err)
			}
			if keep > 0 {
				p := make([]byte, 1)
				if n, err := space.ReadMemory(p, start+uint64(keep)-1); n != 1 || p[0] != 0x5a {
					t.Errorf("full %v: the byte before the cut reads %d, %v", full, n, err)
				}
			}
			if n, _ := space.ReadMemory(make([]byte, 1), start+uint64(keep)); n != 0 {
				t.Errorf("full %v: a byte past the cut reads", full)
			}
			if got := len(f.Diagnostics()); got != 1 {
				t.Errorf("full %v: reading memory added diagnostics: %v", full, f.Diagnostics())
			}
		}
	}
}

// rangeCount is the number of memory ranges of an undamaged dump.
func rangeCount(t *testing.T, b []byte) int {
	f, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := f.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}
