package elfcore

import (
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/model"
)

func open(t *testing.T, b *elfcoretest.Builder) *File {
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

func TestScenarios(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		arch    model.Arch
		threads int
		pid     uint64
		procNm  string
		kind    model.CrashKind
		crash   string
	}{
		{"minimal", model.AMD64, 1, 100, "app", model.Signal, "SIGSEGV"},
		{"sigsegv-threads", model.AMD64, 3, 200, "crashc", model.Signal, "SIGSEGV / SEGV_MAPERR"},
		{"i386", model.X86, 1, 32306, "a.out", model.Signal, "SIGSEGV"},
		{"s390x-be", model.S390X, 1, 1045, "a.out", model.Signal, "SIGILL"},
		{"gcore", model.AMD64, 2, 100, "app", model.NoCrash, "SIGSTOP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := open(t, elfcoretest.Scenarios()[tc.name]())
			i := f.Info()
			if d := f.Diagnostics(); len(d) != 0 {
				t.Fatalf("diagnostics: %v", d)
			}
			if i.Format != model.ELFCore || i.Variant != "process" || i.Arch != tc.arch || i.OS.Family != model.Linux {
				t.Fatalf("info = %+v", i)
			}
			if i.Threads != tc.threads || i.Process == nil || i.Process.PID != tc.pid || i.Process.Name != tc.procNm {
				t.Fatalf("threads %d process %+v", i.Threads, i.Process)
			}
			if i.Crash == nil || i.Crash.Kind != tc.kind || i.Crash.Name != tc.crash {
				t.Fatalf("crash = %+v", i.Crash)
			}
		})
	}
}

func TestSigInfoAndFiles(t *testing.T) {
	t.Parallel()
	f := open(t, elfcoretest.Scenarios()["sigsegv-threads"]())
	i := f.Info()
	if i.Crash.Address == nil || *i.Crash.Address != 0x10 || *i.Crash.ThreadID != 200 {
		t.Fatalf("crash = %+v", i.Crash)
	}
	if i.Modules != 2 {
		t.Fatalf("modules = %d, want 2 distinct mapped files", i.Modules)
	}
	if i.Process.CommandLine != "./crashc --go" {
		t.Fatalf("command line %q", i.Process.CommandLine)
	}
	rs, _ := f.Ranges()
	if len(rs) != 2 || rs[0].Start != 0x400000 || rs[0].Prot != "r-x" || rs[1].FileOff != -1 {
		t.Fatalf("ranges = %+v", rs)
	}
}

func TestFreeBSDNotes(t *testing.T) {
	t.Parallel()
	i := open(t, elfcoretest.New().FreeBSD().Process("sleep", "sleep 100", 4242)).Info()
	if i.OS.Family != model.FreeBSD {
		t.Fatalf("os = %v", i.OS.Family)
	}
	// pr_pid ends the 120-byte amd64 prpsinfo_t exactly.
	if i.Process == nil || i.Process.PID != 4242 || i.Process.Name != "sleep" {
		t.Errorf("process = %+v", i.Process)
	}
}

func TestTruncatedCoreIsDiagnosed(t *testing.T) {
	t.Parallel()
	full, _ := elfcoretest.Scenarios()["sigsegv-threads"]().Bytes()
	f := open(t, elfcoretest.Scenarios()["sigsegv-threads"]().Truncate(len(full)-0x800))
	if len(f.Diagnostics()) == 0 {
		t.Fatal("no diagnostic for a PT_LOAD past the end of the file")
	}
	if f.Info().Process.PID != 200 {
		t.Fatal("notes before the cut were not read")
	}
}

func TestNotACore(t *testing.T) {
	t.Parallel()
	b, _ := elfcoretest.New().Bytes()
	b[16] = 2 // ET_EXEC
	if Probe(bytesReader(b), int64(len(b))) {
		t.Fatal("Probe accepted ET_EXEC")
	}
	_, err := NewFile(bytesReader(b), int64(len(b)))
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *FormatError", err)
	}
	if _, err := NewFile(bytesReader(b[:30]), 30); !errors.As(err, &fe) {
		t.Fatalf("short header: err = %v", err)
	}
}
