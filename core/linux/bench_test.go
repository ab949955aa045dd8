package linux_test

import (
	"os"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/linux"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore"
)

// The benchmarks read the corpus vmcore: a Debian 6.1 x86-64 guest
// (96 MiB, KASLR) dumped by makedumpfile -c -d 31 (zlib pages).
const (
	benchVmcore = "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"
	benchDmesg  = "generated/linux-vmcore/panic-96M.dmesg.txt"
	benchNSyms  = 87347 // panic-96M.ps.txt: "kallsyms: 87347 symbols"
)

// benchKernel opens path and returns its kernel. The vmcore's page cache
// is fresh, so the first reads decompress pages.
func benchKernel(b *testing.B, path string) (*linux.Kernel, *vmcore.File) {
	f, err := vmcore.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	phys, err := f.PhysicalMemory()
	if err != nil {
		b.Fatal(err)
	}
	info, err := f.VMCOREINFO()
	if err != nil {
		b.Fatal(err)
	}
	k, err := linux.New(phys, info, model.AMD64)
	if err != nil {
		b.Fatal(err)
	}
	return k, f
}

// BenchmarkKernelLog is kernel-log extraction from the printk ring buffer
// (Linux 5.10+), formatted as makedumpfile --dump-dmesg prints it, which
// is what `crashbench run VMCORE -c log` does. "cold" opens the vmcore
// each time, so the ring's pages are decompressed each time; "warm"
// rereads the log of an open kernel (pages cached). The output must equal
// the corpus oracle, line for line.
func BenchmarkKernelLog(b *testing.B) {
	path := fixture.Corpus(b, benchVmcore)
	raw, err := os.ReadFile(fixture.Corpus(b, benchDmesg))
	if err != nil {
		b.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	check := func(b *testing.B, got []string, err error) {
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
			b.Fatalf("%d lines, oracle %d", len(got), len(want))
		}
	}
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			k, f := benchKernel(b, path)
			got, err := k.Log()
			check(b, got, err)
			f.Close()
		}
	})
	b.Run("warm", func(b *testing.B) {
		k, f := benchKernel(b, path)
		defer f.Close()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			got, err := k.Log()
			check(b, got, err)
		}
	})
}

// BenchmarkKallsyms is the kernel's own symbol table. "decode" is its
// first use on a fresh kernel: kallsyms_names through the token table,
// the offsets, sorting and the name index (87,347 symbols), the pages
// already cached. "nearest" is one address-to-symbol lookup in the
// decoded table, as naming a kernel frame does, cycling over every
// symbol.
func BenchmarkKallsyms(b *testing.B) {
	path := fixture.Corpus(b, benchVmcore)
	b.Run("decode", func(b *testing.B) {
		f, err := vmcore.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		phys, err := f.PhysicalMemory()
		if err != nil {
			b.Fatal(err)
		}
		info, err := f.VMCOREINFO()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			k, err := linux.New(phys, info, model.AMD64)
			if err != nil {
				b.Fatal(err)
			}
			syms, err := k.Symbols()
			if err != nil {
				b.Fatal(err)
			}
			if syms.Len() != benchNSyms {
				b.Fatalf("%d symbols, oracle %d", syms.Len(), benchNSyms)
			}
		}
	})
	b.Run("nearest", func(b *testing.B) {
		k, f := benchKernel(b, path)
		defer f.Close()
		syms, err := k.Symbols()
		if err != nil {
			b.Fatal(err)
		}
		all := syms.All()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			s := all[i]
			got, off, ok := syms.Nearest(s.Addr)
			// Several symbols may share an address: any of them will do.
			if !ok || got.Addr != s.Addr || off != 0 {
				b.Fatalf("Nearest(%#x) = %+v+%#x, %v; want %s", s.Addr, got, off, ok, s.Name)
			}
			if i++; i == len(all) {
				i = 0
			}
		}
	})
}

// pageWalkAddrs returns kernel virtual addresses to translate: every
// 64th page of each mapped region (direct map, vmalloc, vmemmap,
// modules, the image), up to 4096 of them, with their physical
// addresses as a first walk found them.
func pageWalkAddrs(b *testing.B, k *linux.Kernel) (vas, pas []uint64) {
	for r := range k.Virtual().Regions() {
		for va := r.Start; va < r.Start+r.Size && len(vas) < 4096; va += 64 << 12 {
			pa, _, err := k.Walk(va + 0x123)
			if err != nil {
				b.Fatalf("Walk(%#x) in region %+v: %v", va+0x123, r, err)
			}
			vas, pas = append(vas, va+0x123), append(pas, pa)
		}
	}
	if len(vas) < 100 {
		b.Fatalf("only %d mapped addresses", len(vas))
	}
	return vas, pas
}

// BenchmarkPageWalk is x86-64 address translation through the kernel's
// page tables (init_top_pgt, 4 levels, 2 MiB and 1 GiB pages honoured).
// "walk" reads every level's entry each time (page-table pages come from
// the dump's page cache); "translate" is what reads do, through the
// 4096-entry translation cache, which these addresses fit.
func BenchmarkPageWalk(b *testing.B) {
	k, f := benchKernel(b, fixture.Corpus(b, benchVmcore))
	defer f.Close()
	vas, pas := pageWalkAddrs(b, k)
	for _, c := range []struct {
		name string
		fn   func(uint64) (uint64, uint64, error)
	}{{"walk", k.Walk}, {"translate", k.Translate}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if pa, _, err := c.fn(vas[i]); err != nil || pa != pas[i] {
					b.Fatalf("%s(%#x) = %#x, %v; want %#x", c.name, vas[i], pa, err, pas[i])
				}
				if i++; i == len(vas) {
					i = 0
				}
			}
		})
	}
}
