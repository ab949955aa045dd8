package pdb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// FuzzNewFile reads arbitrary bytes as a PDB and exercises every view:
// nothing may panic, and a failed NewFile must return ErrUnrecognized or
// a *FormatError. Allocation is bounded by the input size (every count is
// checked against the file size), which the fuzzer's memory limit checks.
func FuzzNewFile(f *testing.F) {
	for _, rel := range []string{
		"llvm-pdb/DebugInfo-PDB/empty.pdb",
		"lldb-pdb/test-pdb.pdb",
		"llvm-pdb/llvm-pdbutil/FPOTest.pdb",
	} {
		// Seeds come from the shared corpus when it is there.
		dir := os.Getenv("CRASHBENCH_CORPUS")
		if dir == "" {
			dir = filepath.Join(fixture.Root(f), "..", "shared", "corpus")
		}
		if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(msfMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := NewFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var fe *FormatError
			if !errors.Is(err, ErrUnrecognized) && !errors.As(err, &fe) {
				t.Fatalf("unstructured error %T: %v", err, err)
			}
			return
		}
		exercise(file)
		exerciseTypes(file)
		exerciseGlobals(file)
	})
}

// exerciseGlobals reads the global data and the x86 frame records and
// looks each up: data names, sizes (and so types), GlobalType, WinFrame.
func exerciseGlobals(f *File) {
	gs, _ := f.Globals()
	tab, err := f.Table()
	if err != nil {
		return
	}
	for i, g := range gs {
		if i >= 100 {
			break
		}
		tab.GlobalType(g.Name)
		tab.LookupRVA(uint64(g.RVA))
		tab.LookupRVA(uint64(g.RVA) + 3)
	}
	tab.GlobalType("")
	n := 0
	tab.Symbols(func(s symtab.Symbol) bool { n++; return n < 300 })
	for _, w := range append(tab.frames()[:min(len(tab.frames()), 50)], tab.fpo()[:min(len(tab.fpo()), 50)]...) {
		tab.WinFrame(w.RVA)
		tab.WinFrame(w.RVA + w.CodeSize)
	}
	tab.WinFrame(0)
	tab.WinFrame(^uint64(0))
}
