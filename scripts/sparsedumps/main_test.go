package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/dump"
	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/session"
)

// wantFormat is the report's format for each generated dump.
var wantFormat = map[string]string{
	"kdmp-full":         "windows-kernel",
	"kdmp-bitmap":       "windows-kernel",
	"vmcore-elf":        "linux-vmcore",
	"vmcore-kdump":      "linux-vmcore",
	"lime":              "lime",
	"lime-novmcoreinfo": "lime",
	"fbsd-amd64":        "freebsd-vmcore",
}

// benchSizes are the memory sizes (GiB) BenchmarkInfo writes:
// $SPARSEDUMPS_SIZES, default 1 and 16 (the 16 GiB kdump-compressed file
// holds 96 MiB of page descriptors).
func benchSizes(b *testing.B) []uint64 {
	s := os.Getenv("SPARSEDUMPS_SIZES")
	if s == "" {
		s = "1,16"
	}
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil || n == 0 {
			b.Fatalf("SPARSEDUMPS_SIZES: bad size %q", f)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkInfo measures what `crashbench info FILE` does after start-up
// (session.Open, Report, Close) on each big sparse kernel dump, for
// profiling the open cost: it must not grow with the size of the dump.
func BenchmarkInfo(b *testing.B) {
	dir := b.TempDir()
	for _, size := range benchSizes(b) {
		for _, f := range formats {
			path := filepath.Join(dir, fmt.Sprintf("%s-%dG.dmp", f.name, size))
			if err := f.write(path, size*gib); err != nil {
				b.Skipf("%s: %v (a filesystem without sparse files?)", path, err)
			}
			b.Run(fmt.Sprintf("%s/%dG", f.name, size), func(b *testing.B) {
				for b.Loop() {
					s, err := session.Open(context.Background(), path, session.Options{})
					if err != nil {
						b.Fatal(err)
					}
					r, err := s.Report(session.ReportOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if r.Format != wantFormat[f.name] || len(r.Diagnostics) != 0 {
						b.Fatalf("format %q (want %q), diagnostics %v", r.Format, wantFormat[f.name], r.Diagnostics)
					}
					s.Close()
				}
			})
			os.Remove(path)
		}
	}
}

// BenchmarkFindVMCOREINFO measures the scan for the VMCOREINFO page that
// `info` runs on a LiME image (which carries no copy of it), over a 1 GiB
// image without one: the worst case, every page's head is read.
func BenchmarkFindVMCOREINFO(b *testing.B) {
	path := filepath.Join(b.TempDir(), "lime-1G.dmp")
	if err := writeLiMENoVMCOREINFO(path, gib); err != nil {
		b.Skip(err)
	}
	d, err := dump.Open(context.Background(), path, dump.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	phys, err := d.Target.(interface{ PhysicalMemory() (mem.Space, error) }).PhysicalMemory()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := linux.FindVMCOREINFO(context.Background(), phys); !errors.Is(err, linux.ErrNoVMCOREINFO) {
			b.Fatal(err)
		}
	}
	b.SetBytes(gib)
}
