package fbsd_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/fbsd"
	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
	"github.com/crashbench/crashbench/core/mem"
)

// seedLimit keeps the header page's interesting part of the header-only
// seeds: NewFile reads at most 256 bytes, the rest only sets the file size.
const seedLimit = 512

// fuzzReadBudget bounds the bytes one input may read back, so that a
// mutated bitmap listing many pages cannot make an input slow.
const fuzzReadBudget = 1 << 20

// FuzzNewFile feeds mutated minidumps to NewFile and, when it opens, to the
// memory and log readers: nothing may panic, NewFile fails only with a
// *FormatError, and every short read reports a *mem.FaultError at the first
// byte not read.
func FuzzNewFile(f *testing.F) {
	for _, mk := range fbsdtest.Scenarios() {
		b, err := mk().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), seedLimit)])
	}
	for _, arch := range []string{fbsdtest.AMD64, fbsdtest.ARM64} {
		mb, _ := fbsdtest.Memory(arch, 3, false)
		b, err := mb.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := fbsd.NewFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			var fe *fbsd.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error: %v", err)
			}
			return
		}
		_ = file.Info()
		_, _ = file.MessageBuffer()
		_, _ = file.Log()
		_ = file.PanicString()
		ranges, _ := file.Ranges()
		budget := fuzzReadBudget
		check := func(s mem.Space, addr uint64, n int) {
			if budget <= 0 || n <= 0 {
				return
			}
			n = min(n, budget, 1<<16)
			budget -= n
			p := make([]byte, n)
			got, err := s.ReadMemory(p, addr)
			if got == n {
				if err != nil {
					t.Fatalf("%s %#x: full read with error %v", s.Name(), addr, err)
				}
				return
			}
			var fe *mem.FaultError
			if !errors.As(err, &fe) || fe.Addr != addr+uint64(got) {
				t.Fatalf("%s %#x: short read %d with %v", s.Name(), addr, got, err)
			}
		}
		if phys, err := file.PhysicalMemory(); err == nil {
			for _, r := range ranges {
				check(phys, r.Start, int(min(r.Size, 1<<16)))
			}
			check(phys, 0, 0x3000)
			for range phys.Regions() {
			}
		}
		if k, err := file.KernelMemory(); err == nil {
			for r := range k.Regions() {
				check(k, r.Start, 0x3000)
				check(k, r.Start+0x200000-8, 16)
			}
			check(k, ^uint64(0)-0x1000, 0x2000)
		}
		_ = file.Diagnostics()
	})
}
