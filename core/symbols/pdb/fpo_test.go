package pdb

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/breakpad"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// pdbutilRows returns the table rows llvm-pdbutil's test expects under a
// section title ("Old FPO Data"): the CHECK-NEXT lines after the column
// header, split at "|".
func pdbutilRows(t *testing.T, test, title string) [][]string {
	var rows [][]string
	in := false
	for _, l := range strings.Split(test, "\n") {
		body, ok := strings.CutPrefix(l, "CHECK-NEXT:")
		if !ok {
			body, ok = strings.CutPrefix(l, "CHECK:")
			in = ok && strings.TrimSpace(body) == title
			continue
		}
		if !in || !strings.Contains(body, "|") || strings.Contains(body, "RVA") {
			continue
		}
		var row []string
		for _, c := range strings.Split(body, "|") {
			row = append(row, strings.TrimSpace(c))
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatalf("no %q rows in the test", title)
	}
	return rows
}

// TestFPOAgreesWithPdbutil checks FPOTest.pdb's old FPO record and its
// FrameData records against llvm-pdbutil's fpo-data.test.
func TestFPOAgreesWithPdbutil(t *testing.T) {
	b, err := os.ReadFile(fixture.Corpus(t, "llvm-pdb/llvm-pdbutil/fpo-data.test"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(fixture.Corpus(t, "llvm-pdb/llvm-pdbutil/FPOTest.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
	dec := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }
	types := map[string]breakpad.WinFrameType{"FPO": breakpad.WinFPO, "Trap": breakpad.WinTrap, "TSS": breakpad.WinTSS, "Non FPO": breakpad.WinStandard}

	// Old FPO: RVA | Code | Locals | Params | Prolog | Saved Regs | Use BP | Has SEH | Frame Type
	old := pdbutilRows(t, string(b), "Old FPO Data")
	fpo := tab.fpo()
	if len(fpo) != len(old) {
		t.Errorf("%d old FPO records, pdbutil lists %d", len(fpo), len(old))
	}
	for i, r := range old {
		if len(r) != 9 || i >= len(fpo) {
			t.Errorf("row %q", r)
			continue
		}
		w := fpo[i]
		typ, ok := types[r[8]]
		if !ok || w.RVA != hex(r[0]) || w.CodeSize != dec(r[1]) || uint64(w.LocalSize) != 4*dec(r[2]) || uint64(w.ParamSize) != 4*dec(r[3]) ||
			uint64(w.PrologSize) != dec(r[4]) || uint64(w.SavedRegSize) != 4*dec(r[5]) || w.AllocatesBasePointer != (r[6] == "true") ||
			w.Type != typ || w.HasProgramString {
			t.Errorf("old FPO %d: %+v\nwant %q", i, w, r)
		}
		// FPOTest.pdb has FrameData too, but none at 0x4E: WinFrame
		// answers from the FPO record.
		got, ok := tab.WinFrame(w.RVA + w.CodeSize - 1)
		if !ok || *got != w {
			t.Errorf("WinFrame(%#x) = %+v, %v; want the FPO record", w.RVA+w.CodeSize-1, got, ok)
		}
	}
	if _, ok := tab.WinFrame(0x4E + 19); ok {
		t.Error("WinFrame found a record past the FPO range")
	}

	// New FPO: RVA | Code | Locals | Params | Stack | Prolog | Saved Regs | Has SEH | Has C++EH | Start | Program
	nfpo := pdbutilRows(t, string(b), "New FPO Data")
	fd := tab.frames()
	if len(fd) != len(nfpo) {
		t.Errorf("%d FrameData records, pdbutil lists %d", len(fd), len(nfpo))
	}
	for i, r := range nfpo {
		if len(r) != 11 || i >= len(fd) {
			t.Errorf("row %q", r)
			continue
		}
		w := fd[i]
		// The test's last program runs on into the next string of the
		// file ("… = FPOTest.pdb"): the record's program is a prefix.
		prog := strings.Join(strings.Fields(w.ProgramString), " ")
		if w.RVA != hex(r[0]) || w.CodeSize != dec(r[1]) || uint64(w.LocalSize) != dec(r[2]) || uint64(w.ParamSize) != dec(r[3]) ||
			uint64(w.MaxStackSize) != dec(r[4]) || uint64(w.PrologSize) != dec(r[5]) || uint64(w.SavedRegSize) != dec(r[6]) ||
			prog == "" || !strings.HasPrefix(r[10], prog) {
			t.Errorf("FrameData %d: %+v\nwant %q", i, w, r)
		}
	}
	t.Logf("%d old FPO and %d FrameData records agree with llvm-pdbutil", len(old), len(nfpo))
}

// TestFPOAgreesWithDumpSyms compares the STACK WIN 0 records Breakpad's
// dump_syms (DIA) wrote with the old FPO records, function by function:
// every record, at the same (OMAP-translated) RVA, with the same sizes
// and base-pointer flag, and no FPO record dump_syms left out.
// omap_stretched_filled's OMAP maps injected ranges to 0x80000000, which
// DIA resolves in a way this reader does not reconstruct (as for its
// FUNC records, TestBreakpadFuncs): its agreement is only logged.
func TestFPOAgreesWithDumpSyms(t *testing.T) {
	dir := fixture.CorpusDir(t)
	for _, rel := range []string{
		"breakpad-dumpsyms/dump_syms_regtest",
		"breakpad-dumpsyms/omap_reorder_funcs",
		"breakpad-dumpsyms/omap_reorder_bbs",
		"breakpad-dumpsyms/omap_stretched",
		"breakpad-dumpsyms/omap_stretched_filled",
		"symbolic-pdb/windows/crash",
	} {
		strict := !strings.HasSuffix(rel, "filled")
		t.Run(filepath.Base(rel), func(t *testing.T) {
			errorf := t.Errorf
			if !strict {
				errorf = t.Logf
			}
			f, err := Open(filepath.Join(dir, filepath.FromSlash(rel)+".pdb"))
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			sym, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)+".sym"))
			if err != nil {
				t.Skip(err)
			}
			defer sym.Close()
			tab, err := f.Table()
			if err != nil {
				t.Fatal(err)
			}
			hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
			ours := map[uint64]breakpad.WinFrameInfo{}
			for _, w := range tab.fpo() {
				if w.Type == breakpad.WinFPO {
					if _, dup := ours[w.RVA]; !dup {
						ours[w.RVA] = w
					}
				}
			}
			var want, agree, answered int
			sc := bufio.NewScanner(sym)
			for sc.Scan() {
				// STACK WIN 0 rva size prolog epilog params saved locals maxstack 0 allocates_bp
				fs := strings.Fields(sc.Text())
				if len(fs) != 13 || fs[0] != "STACK" || fs[1] != "WIN" || fs[2] != "0" {
					continue
				}
				want++
				rva := hex(fs[3])
				w, ok := ours[rva]
				if !ok {
					errorf("no FPO record at %#x: %s", rva, sc.Text())
					continue
				}
				delete(ours, rva)
				if w.CodeSize != hex(fs[4]) || uint64(w.PrologSize) != hex(fs[5]) || w.EpilogSize != 0 || uint64(w.ParamSize) != hex(fs[7]) ||
					uint64(w.SavedRegSize) != hex(fs[8]) || uint64(w.LocalSize) != hex(fs[9]) || uint64(w.MaxStackSize) != hex(fs[10]) ||
					fs[11] != "0" || w.AllocatesBasePointer != (fs[12] == "1") {
					errorf("%#x: %+v\nwant %s", rva, w, sc.Text())
					continue
				}
				agree++
				// Where no FrameData covers it, WinFrame answers with it.
				if g, ok := tab.WinFrame(rva); ok && g.Type == breakpad.WinFPO {
					answered++
				}
			}
			for rva, w := range ours {
				errorf("FPO record at %#x (%+v) has no STACK WIN 0 line", rva, w)
			}
			if want == 0 {
				t.Skip("no STACK WIN 0 records")
			}
			t.Logf("%d/%d STACK WIN 0 records agree (%d answered by WinFrame, the rest covered by FrameData)", agree, want, answered)
		})
	}
}

// TestFrameDataOMAP compares the STACK WIN 4 records of
// omap_reorder_funcs.sym (functions reordered after linking) with the
// FrameData records starting there: ranges translated
// through OMAP, sizes and programs. For the OMAP PDBs whose code was
// reordered by basic block or stretched, where DIA splits records into
// pieces, agreement is only logged.
func TestFrameDataOMAP(t *testing.T) {
	dir := filepath.Join(fixture.CorpusDir(t), "breakpad-dumpsyms")
	for _, name := range []string{"omap_reorder_funcs", "omap_reorder_bbs", "omap_stretched", "omap_stretched_filled"} {
		strict := name == "omap_reorder_funcs"
		t.Run(name, func(t *testing.T) {
			f, err := Open(filepath.Join(dir, name+".pdb"))
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			b, err := os.ReadFile(filepath.Join(dir, name+".sym"))
			if err != nil {
				t.Skip(err)
			}
			tab, err := f.Table()
			if err != nil {
				t.Fatal(err)
			}
			hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
			var want, agree int
			for _, l := range strings.Split(string(b), "\n") {
				fs := strings.Fields(l)
				if len(fs) < 13 || fs[0] != "STACK" || fs[1] != "WIN" || fs[2] != "4" {
					continue
				}
				want++
				rva := hex(fs[3])
				prog := strings.Join(fs[12:], " ")
				// Nested records (a function's and its prolog's) share
				// starts: any record at the start may match.
				var found bool
				for _, w := range tab.frames() {
					if w.RVA == rva && w.CodeSize == hex(fs[4]) && uint64(w.PrologSize) == hex(fs[5]) && uint64(w.ParamSize) == hex(fs[7]) &&
						uint64(w.SavedRegSize) == hex(fs[8]) && uint64(w.LocalSize) == hex(fs[9]) && strings.Join(strings.Fields(w.ProgramString), " ") == prog {
						found = true
						break
					}
				}
				if !found {
					if strict {
						t.Errorf("no FrameData record for %s", l)
					}
					continue
				}
				agree++
			}
			t.Logf("%d/%d STACK WIN 4 records agree", agree, want)
		})
	}
}
