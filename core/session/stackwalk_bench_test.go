package session

import (
	"compress/bzip2"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// walkBench is a corpus core of one architecture and the executable that
// wrote it (its CFI and symbols), as `crashbench run CORE --image EXE`
// would be given them.
type walkBench struct {
	arch      model.Arch
	core, exe string
}

// walkBenches covers every architecture the walker unwinds.
var walkBenches = []walkBench{
	{model.AMD64, "lldb/elf-core/linux-x86_64.core", "lldb/elf-core/linux-x86_64.out"},
	{model.X86, "lldb/elf-core/linux-i386.core", "lldb/elf-core/linux-i386.out"},
	{model.ARM64, "elfutils/backtrace.aarch64.core.bz2", "elfutils/backtrace.aarch64.exec.bz2"},
	{model.ARM, "rizin/elf-core/core-linux-arm32", "rizin/elf-core/crash-linux-arm32"},
	{model.PPC64LE, "lldb/elf-core/linux-ppc64le.core", "lldb/elf-core/linux-ppc64le.out"},
	{model.PPC, "elfutils/backtrace.ppc.core.bz2", "elfutils/backtrace.ppc.exec.bz2"},
	{model.S390X, "lldb/elf-core/linux-s390x.core", "lldb/elf-core/linux-s390x.out"},
	{model.MIPS, "lldb/elf-core/linux-mipsel-gnuabio32.core", "lldb/elf-core/linux-mipsel-gnuabio32.out"},
	{model.MIPS64, "lldb/elf-core/linux-mips64el-gnuabi64.core", "lldb/elf-core/linux-mips64el-gnuabi64.out"},
	{model.RISCV64, "rizin/elf-core/core-linux-riscv64", "rizin/elf-core/crash-linux-riscv64"},
}

// BenchmarkStackWalk walks the crashing thread of a corpus core of each
// architecture through the session: Open (with the executable as image),
// the crashing thread's context, Stack, Close. The image's CFI and
// symbols are read anew each time, as one `crashbench run` does; frames
// are not named (see BenchmarkAnalyzeCorpusMinidumps for that).
func BenchmarkStackWalk(b *testing.B) {
	for _, w := range walkBenches {
		b.Run(string(w.arch), func(b *testing.B) {
			dir := b.TempDir()
			b.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache")) // no DWARF cache of the user's
			core := benchUnpacked(b, w.core, dir, "core")
			o := Options{ImagePath: benchUnpacked(b, w.exe, dir, "exe"), Offline: true, SymPath: dir}
			n := 0
			for b.Loop() {
				if n = walkCrashingThread(b, core, o, w.arch); n < 2 {
					b.Fatalf("%d frame(s): the walk did not get past the crashing frame", n)
				}
			}
			b.ReportMetric(float64(n), "frames")
		})
	}
}

// walkCrashingThread opens core and walks its crashing thread from the
// exception context when the dump has one, returning the number of
// frames.
func walkCrashingThread(b *testing.B, core string, o Options, arch model.Arch) int {
	ctx := context.Background()
	s, err := Open(ctx, core, o)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	crash := s.Target().Info().Crash
	if crash == nil || crash.ThreadID == nil {
		b.Fatalf("no crashing thread in %+v", s.Target().Info())
	}
	threads, err := s.Threads()
	if err != nil {
		b.Fatal(err)
	}
	var regs model.Context
	for _, th := range threads {
		if th.ID == *crash.ThreadID {
			regs = th.Context
		}
	}
	if ec, ok := s.Target().(model.ExceptionContext); ok {
		if c, err := ec.ExceptionContext(); err == nil && c != nil {
			regs = c
		}
	}
	if regs == nil {
		b.Fatalf("crashing thread %d has no context", *crash.ThreadID)
	}
	if regs.Arch() != arch {
		b.Fatalf("context is %s, want %s", regs.Arch(), arch)
	}
	frames, err := s.Stack(ctx, regs)
	if err != nil {
		b.Fatal(err)
	}
	return len(frames)
}

// benchUnpacked returns the corpus file rel, decompressed into dir under
// name when it ends in .bz2 (so the walk, not bzip2, is measured).
func benchUnpacked(b *testing.B, rel, dir, name string) string {
	src := fixture.Corpus(b, rel)
	if !strings.HasSuffix(rel, ".bz2") {
		return src
	}
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(dir, name)
	w, err := os.Create(out)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, bzip2.NewReader(in)); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out
}
