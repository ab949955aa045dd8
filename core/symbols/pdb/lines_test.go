package pdb

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// symbolizerRecord is one address of a local llvm-symbolizer oracle.
type symbolizerRecord struct {
	addr   uint64
	frames []symbolizerFrame // innermost first; more than one with inlining
}

type symbolizerFrame struct {
	function string
	file     string // "" for "??"
	line     int
}

// readSymbolizer parses a local llvm-symbolizer oracle: its image base,
// the PDB it used, and its address / function / file:line:column records.
func readSymbolizer(t *testing.T, path string) (base uint64, pdbName string, recs []symbolizerRecord) {
	text, err := os.ReadFile(path)
	if err != nil {
		t.Skip(err)
	}
	lines := strings.Split(string(text), "\n")
	for _, l := range lines {
		if s, ok := strings.CutPrefix(l, "# PDB used: "); ok {
			pdbName, _, _ = strings.Cut(s, " ")
		}
		if _, s, ok := strings.Cut(l, "ImageBase 0x"); ok && strings.HasPrefix(l, "# input:") {
			s, _, _ = strings.Cut(s, " ")
			base, _ = strconv.ParseUint(s, 16, 64)
		}
	}
	for i := 0; i+2 < len(lines); i++ {
		a, ok := strings.CutPrefix(lines[i], "0x")
		if !ok {
			continue
		}
		addr, err := strconv.ParseUint(a, 16, 64)
		if err != nil {
			continue
		}
		r := symbolizerRecord{addr: addr}
		for i+2 < len(lines) && lines[i+1] != "" && !strings.HasPrefix(lines[i+1], "0x") {
			fr := symbolizerFrame{function: lines[i+1]}
			loc := lines[i+2]
			if j := strings.LastIndexByte(loc, ':'); j >= 0 {
				loc = loc[:j] // column
			}
			if j := strings.LastIndexByte(loc, ':'); j >= 0 {
				fr.line, _ = strconv.Atoi(loc[j+1:])
				fr.file = loc[:j]
			}
			if fr.file == "??" {
				fr.file = ""
			}
			r.frames = append(r.frames, fr)
			i += 2
		}
		if len(r.frames) > 0 {
			recs = append(recs, r)
		}
	}
	return base, pdbName, recs
}

// findPDB finds the PDB an oracle used: beside the image the oracle's name
// gives ("pdb__SimplePDB.exe" → pdb/SimplePDB.exe), named after the image
// (the oracle's vs2019_cpp_override.exe used vs2019_cpp_override.pdb,
// renamed Project1.pdb; the corpus Project1.pdb is another PDB) or as the
// oracle says, else anywhere in the oracle's corpus folder.
func findPDB(folder, oracle, name string) string {
	img, _, _ := strings.Cut(filepath.Base(oracle), ".llvm-symbolizer.txt")
	img = filepath.Join(folder, strings.ReplaceAll(img, "__", "/"))
	for _, p := range []string{strings.TrimSuffix(img, filepath.Ext(img)) + ".pdb", filepath.Join(filepath.Dir(img), name)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	var found string
	filepath.WalkDir(folder, func(p string, e fs.DirEntry, err error) error {
		if err == nil && found == "" && !e.IsDir() && e.Name() == name {
			found = p
		}
		return nil
	})
	return found
}

// sameFile compares a file name with the oracle's: exactly, else
// case-insensitively by base name (LLVM prints the /names string as
// stored; other tools may normalise it).
func sameFile(got, want string) bool {
	if got == want {
		return true
	}
	base := func(s string) string { return strings.ToLower(s[strings.LastIndexAny(s, `/\`)+1:]) }
	return got != "" && base(got) == base(want)
}

// TestSymbolizerLines compares file:line with every local llvm-symbolizer
// oracle (columns ignored) for the addresses the oracle gives a line.
// The outermost frame is compared with Symbol.OuterLine (the C13 line
// record, the procedure's own line), the innermost with File and Line
// (from the inline sites where code is inlined) and counted apart;
// TestSymbolizerInlines compares whole inline chains.
func TestSymbolizerLines(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	oracles, _ := filepath.Glob(filepath.Join(corpus, "*", "local-oracles", "*.llvm-symbolizer.txt"))
	if len(oracles) == 0 {
		t.Skip("no symbolizer oracles")
	}
	// Addresses where we knowingly differ from LLVM 14.
	known := map[string]string{
		// No symbol holds the address (an asm routine after the last
		// public of its section): no module, so no line.
		"exceptions-test.pdb 0x9a7b": "no symbol for the address",
		"xframe_eh_exe.pdb 0x2467":   "no symbol for the address",
		// Three folded asm contributions of one module start at 0x10b0;
		// LLVM's (unstable) sort picks another contribution's record.
		"nested_collided.pdb 0x10b6": "overlapping contributions",
	}
	var total, agree, inner, inlined int
	for _, o := range oracles {
		folder := filepath.Dir(filepath.Dir(o))
		name := filepath.Base(folder) + "/" + filepath.Base(o)
		t.Run(name, func(t *testing.T) {
			base, pdbName, recs := readSymbolizer(t, o)
			p := findPDB(folder, o, pdbName)
			if p == "" || base == 0 {
				t.Skipf("no PDB %q or image base", pdbName)
			}
			f, err := Open(p)
			if err != nil {
				t.Skip(err)
			}
			defer f.Close()
			tab, err := f.Table()
			if err != nil {
				t.Skip(err)
			}
			var ok, n, okInner, nInl int
			for _, r := range recs {
				outer := r.frames[len(r.frames)-1]
				if outer.file == "" || outer.line == 0 {
					continue
				}
				n++
				rva := r.addr - base
				s, found := tab.LookupRVA(rva)
				if len(r.frames) > 1 {
					nInl++
				}
				if in := r.frames[0]; s.Line == in.line && sameFile(s.File, in.file) {
					okInner++
				}
				// The outermost frame is the procedure's own line: the
				// call site of the outermost inline (Symbol.OuterLine).
				of, ol := s.OuterLine()
				if !found || ol != outer.line || !sameFile(of, outer.file) {
					key := fmt.Sprintf("%s %#x", filepath.Base(p), rva)
					if why, ok := known[key]; ok {
						t.Logf("%s: known difference: %s", key, why)
						continue
					}
					t.Errorf("%#x (%s): got %s:%d (%v), oracle %s:%d", rva, outer.function, of, ol, found, outer.file, outer.line)
					continue
				}
				ok++
			}
			t.Logf("%s: %d of %d oracle lines agree (outermost frame); %d agree with the innermost; %d addresses inlined", filepath.Base(p), ok, n, okInner, nInl)
			total += n
			agree += ok
			inner += okInner
			inlined += nInl
		})
	}
	t.Logf("all oracles: %d of %d file:line agree with the outermost frame, %d with the innermost (%d addresses with inlined frames)", agree, total, inner, inlined)
}

// TestCrashFrames checks the frames of symbolic's windows/mini.dmp
// (crash.exe, x86) against its llvm-symbolizer oracle: main at
// main.cpp:35 and __scrt_common_main_seh at exe_common.inl:283.
func TestCrashFrames(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "symbolic-pdb/windows/crash.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := f.Table()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rva  uint64
		name string
		file string
		line int
	}{
		{0x2a3d, "main", `c:\projects\breakpad-tools\windows\crash\main.cpp`, 35},
		{0x2910, "main", `c:\projects\breakpad-tools\windows\crash\main.cpp`, 33},
		{0x2d96, "__scrt_common_main_seh", `f:\dd\vctools\crt\vcstartup\src\startup\exe_common.inl`, 283},
	} {
		s, ok := tab.LookupRVA(c.rva)
		file, line := s.OuterLine() // main's own line, under inlined calls
		if !ok || s.Name != c.name || file != c.file || line != c.line {
			t.Errorf("LookupRVA(%#x) = %q %s:%d (%v), want %q %s:%d", c.rva, s.Name, file, line, ok, c.name, c.file, c.line)
		}
	}
}
