// Command benchdata writes the inputs of scripts/bench-compare.sh that the
// corpus lacks: a full-memory minidump to search (its memory is text, so
// grep has lines to count, with a rare needle in it), and a folder of
// small, distinct minidumps to ingest. The dumps come from minidumptest,
// the builder written from Microsoft's minidump layout.
//
// usage: go run ./scripts/benchdata [-fullmem MiB] [-small N] DIR
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
)

// Needle is what bench-compare.sh searches for; it occurs Needles times.
const (
	Needle  = "CRASHBENCH-NEEDLE-7f3a"
	Needles = 100
)

func main() {
	fullMiB := flag.Int("fullmem", 1024, "size of the full-memory dump's memory, in MiB")
	small := flag.Int("small", 1000, "how many small minidumps to write for ingest")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: benchdata [-fullmem MiB] [-small N] DIR")
		os.Exit(1)
	}
	dir := flag.Arg(0)
	if err := os.MkdirAll(filepath.Join(dir, "small"), 0o755); err != nil {
		fail(err)
	}
	if err := writeFullMemory(filepath.Join(dir, "fullmem.dmp"), *fullMiB<<20); err != nil {
		fail(err)
	}
	if err := writeSmall(filepath.Join(dir, "small"), *small); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchdata:", err)
	os.Exit(1)
}

// writeFullMemory writes a full-memory minidump whose one memory region
// holds size bytes of text lines made of words, with the needle placed
// Needles times at random line starts.
func writeFullMemory(path string, size int) error {
	words := []string{"kernel32", "ntdll", "heap", "0x7ff6", "allocation", "failed", "thread", "exception",
		"module", "loader", "critical", "section", "pointer", "null", "access", "violation"}
	r := rand.New(rand.NewPCG(1, 2))
	mem := make([]byte, 0, size)
	for len(mem) < size {
		line := 0
		for line < 70 {
			w := words[r.IntN(len(words))]
			mem = append(mem, w...)
			mem = append(mem, ' ')
			line += len(w) + 1
		}
		mem = append(mem, '\n')
	}
	mem = mem[:size]
	for i := range Needles {
		at := (size / Needles) * i
		for at > 0 && mem[at-1] != '\n' {
			at--
		}
		copy(mem[at:], Needle)
	}
	b, err := minidumptest.Scenarios()["amd64-av-write"]().
		Memory(minidumptest.Memory{Start: 0x10000000, Bytes: mem}).FullMemory().Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// writeSmall writes n small minidumps, each different (time stamp,
// process id), of a few crash kinds.
func writeSmall(dir string, n int) error {
	kinds := []string{"amd64-av-write", "linux-sigsegv", "x86-threads", "arm64-threads", "amd64-threads-modules"}
	for i := range n {
		k := kinds[i%len(kinds)]
		b, err := minidumptest.Scenarios()[k]().Timestamp(uint32(1_700_000_000+i*3600)).MiscInfo(uint32(1000+i), 0).Bytes()
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d-%s.dmp", i, k)), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
