package dump

import (
	"compress/bzip2"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

// benchInput is one format's input for the detection and open
// benchmarks: a real file from the corpus where it has one, else a file
// written by the format's builder.
type benchInput struct {
	name      string                    // sub-benchmark name
	format    string                    // Format.Name that must own the file
	container container.Kind            // outer container, "" for a plain dump
	path      func(b *testing.B) string // prepares the file, skipping when it cannot
}

const (
	benchKdump  = "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"
	benchTriage = "rizin/dmp/triage_x64.dmp"
)

// benchInputs lists every format Open knows, plus a .zst and a .gz
// container (which Open unpacks into its cache first).
var benchInputs = []benchInput{
	{name: "minidump", format: "minidump", path: corpusPath("breakpad/minidump_crashpad_annotation.dmp")},
	{name: "kdmp-triage", format: "kdmp", path: corpusPath(benchTriage)},
	{name: "elfcore", format: "elfcore", path: corpusPath("generated/linux-core/core.crashc.sigsegv")},
	// The corpus' only ELF vmcore: a real header and notes, memory cut off.
	{name: "vmcore-elf", format: "vmcore", path: bunzipped("elfutils/testfile62.bz2")},
	{name: "kdump-zlib", format: "kdump-compressed", path: corpusPath(benchKdump)},
	// makedumpfile -F of the corpus kdump: the same 15 MB in 4 KiB records.
	{name: "flattened", format: "kdump-compressed", path: flattened(benchKdump)},
	{name: "lime", format: "lime", path: corpusPath("memflow-lime/deb-x86_64-slice.lime")},
	{name: "fbsd-minidump", format: "fbsd", path: fbsdMinidump},
	{name: "zst-elfcore", format: "elfcore", container: container.Zstd, path: corpusPath("drgn/crashme.core.zst")},
	{name: "gz-kdmp", format: "kdmp", container: container.Gzip, path: gzipped(benchTriage)},
}

func corpusPath(rel string) func(b *testing.B) string {
	return func(b *testing.B) string { return fixture.Corpus(b, rel) }
}

// bunzipped decompresses a .bz2 corpus file into the benchmark's temp dir,
// so that Open measures the dump, not bzip2.
func bunzipped(rel string) func(b *testing.B) string {
	return func(b *testing.B) string {
		f, err := os.Open(fixture.Corpus(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		raw, err := io.ReadAll(bzip2.NewReader(f))
		if err != nil {
			b.Fatal(err)
		}
		return writeBenchFile(b, "dump", raw)
	}
}

func flattened(rel string) func(b *testing.B) string {
	return func(b *testing.B) string {
		raw, err := os.ReadFile(fixture.Corpus(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		flat, err := vmcoretest.FlattenBytes(raw).Bytes()
		if err != nil {
			b.Fatal(err)
		}
		return writeBenchFile(b, "dump.flat", flat)
	}
}

func gzipped(rel string) func(b *testing.B) string {
	return func(b *testing.B) string {
		raw, err := os.ReadFile(fixture.Corpus(b, rel))
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "dump.gz")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := gzip.NewWriter(f)
		if _, err := w.Write(raw); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		return path
	}
}

// fbsdMinidump is the builder's amd64 kernel minidump with page tables
// and a message buffer: the corpus has no FreeBSD dump.
func fbsdMinidump(b *testing.B) string {
	bld, _ := fbsdtest.Memory(fbsdtest.AMD64, 3, false)
	raw, err := bld.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	return writeBenchFile(b, "vmcore.fbsd", raw)
}

func writeBenchFile(b *testing.B, name string, data []byte) string {
	path := filepath.Join(b.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkDetect is content detection on each format's file: Detect runs
// the probes in order until one claims the file (for a compressed file,
// container.Detect names the container). Probes read magic bytes and, for
// ELF cores, the notes, so this stays microseconds whatever the size.
func BenchmarkDetect(b *testing.B) {
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			mf, err := mem.OpenFile(in.path(b))
			if err != nil {
				b.Fatal(err)
			}
			defer mf.Close()
			for b.Loop() {
				if in.container != "" {
					if k, ok := container.Detect(mf, mf.Size()); !ok || k != in.container {
						b.Fatalf("container.Detect = %q, %v; want %q", k, ok, in.container)
					}
					continue
				}
				if f, ok := Detect(mf, mf.Size()); !ok || f.Name != in.format {
					b.Fatalf("Detect = %q, %v; want %q", f.Name, ok, in.format)
				}
			}
		})
	}
}

// BenchmarkOpen is Open on each format's file: detection, the header and
// whatever the format package reads up front. A compressed file is
// unpacked into a fresh cache on every iteration ("first", what opening
// a new .zst costs) or found in the cache ("cached", a reopen).
func BenchmarkOpen(b *testing.B) {
	for _, in := range benchInputs {
		if in.container == "" {
			b.Run(in.name, func(b *testing.B) {
				path := in.path(b)
				cache := b.TempDir()
				for b.Loop() {
					openBenchDump(b, in, path, cache)
				}
			})
			continue
		}
		b.Run(in.name+"/first", func(b *testing.B) {
			path := in.path(b)
			tmp := b.TempDir()
			i := 0
			for b.Loop() {
				i++
				cache := filepath.Join(tmp, fmt.Sprint(i))
				openBenchDump(b, in, path, cache)
				b.StopTimer()
				if err := os.RemoveAll(cache); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
		b.Run(in.name+"/cached", func(b *testing.B) {
			path := in.path(b)
			cache := b.TempDir()
			openBenchDump(b, in, path, cache) // fill the cache
			for b.Loop() {
				openBenchDump(b, in, path, cache)
			}
		})
	}
}

func openBenchDump(b *testing.B, in benchInput, path, cache string) {
	d, err := Open(context.Background(), path, Options{Container: container.Options{CacheDir: cache}})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	if d.Format.Name != in.format {
		b.Fatalf("opened as %q, want %q", d.Format.Name, in.format)
	}
	if in.container != "" && (len(d.Containers) != 1 || d.Containers[0] != in.container) {
		b.Fatalf("containers %v, want [%s]", d.Containers, in.container)
	}
	if d.Info().Format == "" {
		b.Fatalf("no format in %+v", d.Info())
	}
}
