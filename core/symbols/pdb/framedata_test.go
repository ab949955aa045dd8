package pdb

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestFrameDataAgreesWithDumpSyms compares every STACK WIN 4 record that
// Breakpad's dump_syms wrote for crash.pdb (symbolic's crash.sym) with the
// FrameData record WinFrame finds at its start: range, sizes and program.
func TestFrameDataAgreesWithDumpSyms(t *testing.T) {
	t.Parallel()
	f, err := Open(fixture.Corpus(t, "symbolic-pdb/windows/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	sym, err := os.Open(fixture.Corpus(t, "symbolic-pdb/windows/crash.sym"))
	if err != nil {
		t.Fatal(err)
	}
	defer sym.Close()
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
	checked := 0
	sc := bufio.NewScanner(sym)
	for sc.Scan() {
		// STACK WIN 4 rva size prolog epilog params saved locals maxstack hasprogram program...
		fs := strings.Fields(sc.Text())
		if len(fs) < 13 || fs[0] != "STACK" || fs[1] != "WIN" || fs[2] != "4" {
			continue
		}
		rva := hex(fs[3])
		w, ok := tab.WinFrame(rva)
		if !ok {
			t.Errorf("no FrameData at %#x", rva)
			continue
		}
		prog := strings.Join(strings.Fields(strings.Join(fs[12:], " ")), " ")
		got := strings.Join(strings.Fields(w.ProgramString), " ")
		if w.RVA != rva || w.CodeSize != hex(fs[4]) || uint64(w.PrologSize) != hex(fs[5]) || uint64(w.ParamSize) != hex(fs[7]) ||
			uint64(w.SavedRegSize) != hex(fs[8]) || uint64(w.LocalSize) != hex(fs[9]) || got != prog {
			t.Errorf("%#x: %+v\nwant %s", rva, w, sc.Text())
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d STACK WIN 4 records checked", checked)
	}
	t.Logf("%d STACK WIN 4 records agree", checked)
}
