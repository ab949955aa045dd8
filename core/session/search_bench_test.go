package session

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

// Search benchmark dump: a full-memory minidump (Memory64List) of
// searchRanges ranges of searchRangeSize bytes each, with gaps between
// them so that no match spans two ranges. The bytes are pseudo-random,
// so the first byte of a pattern occurs every 256 bytes or so, as in real
// memory, not the zeros a sparse test dump would hold.
const (
	searchRanges    = 16
	searchRangeSize = 4 << 20
	searchBase      = 0x10000000
	searchStride    = 0x01000000 // 16 MiB: the ranges are 4 MiB, gaps 12 MiB
	searchText      = "crashbench-needle"
)

var searchBytes = []byte{0x4d, 0x5a, 0x90, 0x00} // "s -b … 4d 5a 90 00": a PE header

// searchDump writes the dump and returns its path, its memory size and
// where each pattern occurs (what s must print, in address order).
func searchDump(b *testing.B) (path string, size int64, hitsText, hitsBytes []uint64) {
	rng := rand.New(rand.NewPCG(1, 2))
	bld := minidumptest.New(minidumptest.LE).FullMemory()
	for i := range searchRanges {
		start := uint64(searchBase + i*searchStride)
		mem := make([]byte, searchRangeSize)
		for j := 0; j < len(mem); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				mem[j+k] = byte(v >> (8 * k))
			}
		}
		// A few planted matches per range, one across the 1 MiB chunk
		// boundary the search reads by.
		for _, off := range []int{0x1234, 1<<20 - 5, 3<<20 + 0x777} {
			copy(mem[off:], searchText)
			copy(mem[off+0x100:], searchBytes)
		}
		hitsText = append(hitsText, matches(mem, []byte(searchText), start)...)
		hitsBytes = append(hitsBytes, matches(mem, searchBytes, start)...)
		bld.Memory(minidumptest.Memory{Start: start, Bytes: mem})
		size += int64(len(mem))
	}
	raw, err := bld.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	path = filepath.Join(b.TempDir(), "full.dmp")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	return path, size, hitsText, hitsBytes
}

// matches returns the addresses of every (overlapping) occurrence of pat
// in mem, which starts at base.
func matches(mem, pat []byte, base uint64) []uint64 {
	var out []uint64
	for off := 0; ; {
		k := bytes.Index(mem[off:], pat)
		if k < 0 {
			return out
		}
		out = append(out, base+uint64(off+k))
		off += k + 1
	}
}

// BenchmarkSearch is the console's memory search, s, over all of a
// 64 MiB full-memory minidump (the file page-cached after the first
// pass): -a for an ASCII string, -b for bytes. MB/s is memory searched
// per second. Every match must be printed, and nothing else.
func BenchmarkSearch(b *testing.B) {
	path, size, hitsText, hitsBytes := searchDump(b)
	s, err := Open(context.Background(), path, Options{Offline: true, SymPath: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		name, cmd string
		want      []uint64
	}{
		{"ascii", `s -a 0 L?ffffffffffffffff "` + searchText + `"`, hitsText},
		{"bytes", "s -b 0 L?ffffffffffffffff 4d 5a 90 00", hitsBytes},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			var out strings.Builder
			for b.Loop() {
				out.Reset()
				if err := s.Exec(context.Background(), c.cmd, console.NewTextOutput(&out)); err != nil {
					b.Fatal(err)
				}
				checkSearchOutput(b, out.String(), c.want)
			}
		})
	}
}

// checkSearchOutput checks that s printed one db line per match, each
// starting with the match's address, in address order.
func checkSearchOutput(b *testing.B, out string, want []uint64) {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(want) {
		b.Fatalf("%d lines for %d matches:\n%s", len(lines), len(want), out)
	}
	for i, a := range want {
		if !strings.HasPrefix(lines[i], console.FormatAddr(a, 8)) {
			b.Fatalf("line %d: %q, want the match at %s", i, lines[i], console.FormatAddr(a, 8))
		}
	}
}
