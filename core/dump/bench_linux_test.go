//go:build linux

package dump

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
)

// BenchmarkOpenSparse64GiBKernelDump opens a 64 GiB sparse file that starts
// with a valid complete-memory kernel dump header (DUMP_HEADER64, DumpType 1,
// one run covering 64 GiB of pages). Opening must read the header only, so
// time and memory must not grow with the size of the dump. It reports the
// process's peak RSS in MiB (maxrss-MiB).
func BenchmarkOpenSparse64GiBKernelDump(b *testing.B) {
	const size = 64 << 30
	hdr, err := kdmptest.New().Runs(kdmptest.Run{BasePage: 0, PageCount: 1}).Truncate(0x2000).Bytes()
	if err != nil {
		b.Fatal(err)
	}
	// PHYSICAL_MEMORY_DESCRIPTOR64 at 0x88: NumberOfRuns, pad, NumberOfPages,
	// then Run[0] {BasePage, PageCount}; RequiredDumpSpace at 0xfa0.
	pages := uint64(size / 4096)
	binary.LittleEndian.PutUint32(hdr[0x88:], 1)
	binary.LittleEndian.PutUint64(hdr[0x90:], pages)
	binary.LittleEndian.PutUint64(hdr[0x98:], 0)
	binary.LittleEndian.PutUint64(hdr[0xa0:], pages)
	binary.LittleEndian.PutUint64(hdr[0xfa0:], 0x2000+size)
	path := filepath.Join(b.TempDir(), "MEMORY.DMP")
	if err := os.WriteFile(path, hdr, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Truncate(path, 0x2000+size); err != nil {
		b.Skipf("filesystem cannot hold a sparse 64 GiB file: %v", err)
	}
	b.ResetTimer()
	for b.Loop() {
		d, err := Open(context.Background(), path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		i := d.Info()
		if i.Variant != "complete" || len(d.Diagnostics()) != 0 {
			b.Fatalf("info %+v diagnostics %v", i, d.Diagnostics())
		}
		d.Close()
	}
	b.StopTimer()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MiB")
	}
}
