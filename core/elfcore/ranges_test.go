package elfcore

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// readelfLoad is one LOAD line of `readelf -l -W`.
type readelfLoad struct {
	vaddr, filesz, memsz uint64
	prot                 string // Flg as "r-x"
}

var (
	// "  LOAD  0x002000 0x0000000000400000 0x0000000000000000 0x001000 0x001000 R E 0x1000":
	// Flg is three fixed-width characters, blank where a flag is clear.
	reLoad = regexp.MustCompile(`^\s*LOAD\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+) (.{3}) 0x[0-9a-f]+$`)
	// "      7f6112ad6000-7f6112c43000 00028000 1495040     /usr/lib64/libc.so.6"
	reNTFile = regexp.MustCompile(`^\s+([0-9a-f]+)-([0-9a-f]+) ([0-9a-f]+) \d+\s+(.+)$`)
)

func hexU(t *testing.T, s string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		t.Fatalf("oracle number %q: %v", s, err)
	}
	return v
}

func parseReadelfLoads(t *testing.T, text string) []readelfLoad {
	var out []readelfLoad
	for _, line := range strings.Split(text, "\n") {
		m := reLoad.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		flg := m[4]
		prot := []byte("---")
		if flg[0] == 'R' {
			prot[0] = 'r'
		}
		if flg[1] == 'W' {
			prot[1] = 'w'
		}
		if flg[2] == 'E' {
			prot[2] = 'x'
		}
		out = append(out, readelfLoad{vaddr: hexU(t, m[1]), filesz: hexU(t, m[2]), memsz: hexU(t, m[3]), prot: string(prot)})
	}
	return out
}

// parseEUFiles returns the NT_FILE entries eu-readelf -n lists.
func parseEUFiles(t *testing.T, text string) []MappedFile {
	var out []MappedFile
	sc := bufio.NewScanner(strings.NewReader(text))
	in := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(strings.TrimSpace(line), " FILE") && strings.HasPrefix(strings.TrimSpace(line), "CORE") {
			in = true
			continue
		}
		if !in {
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(line), " files:") {
			continue
		}
		m := reNTFile.FindStringSubmatch(line)
		if m == nil {
			in = false
			continue
		}
		out = append(out, MappedFile{Start: hexU(t, m[1]), End: hexU(t, m[2]), Offset: hexU(t, m[3]), Name: m[4]})
	}
	return out
}

// corpusCore finds the core an oracle file was made from: oracles are
// named <dir>__<file> for <sub>/<dir>/<file>, where dir's first _ may
// stand for a /.
func corpusCore(dir, oracle, suffix string) string {
	sub := filepath.Base(filepath.Dir(filepath.Dir(oracle)))
	base := strings.TrimSuffix(filepath.Base(oracle), suffix)
	var cands []string
	if d, file, ok := strings.Cut(base, "__"); ok {
		cands = append(cands, filepath.Join(sub, d, file), filepath.Join(sub, strings.Replace(d, "_", "/", 1), file))
	} else {
		cands = append(cands, filepath.Join(sub, base))
	}
	for _, c := range cands {
		for _, ext := range []string{"", ".bz2"} {
			if _, err := os.Stat(filepath.Join(dir, c+ext)); err == nil {
				return filepath.Join(dir, c+ext)
			}
		}
	}
	return ""
}

func openCore(t *testing.T, path string) *File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".bz2") {
		if b, err = io.ReadAll(bzip2.NewReader(bytes.NewReader(b))); err != nil {
			t.Fatal(err)
		}
	}
	f, err := NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("NewFile(%s): %v", path, err)
	}
	return f
}

// TestRangesAgreeWithReadelf checks, for every corpus core with local
// readelf oracles, that Ranges lists each PT_LOAD with readelf's Flg
// protections and the NT_FILE label of its first byte, and that Memory's
// regions cover every NT_FILE mapping eu-readelf lists with its path and
// file offset, carry the protections of the PT_LOAD they lie in, and are
// committed exactly where the core holds bytes.
func TestRangesAgreeWithReadelf(t *testing.T) {
	t.Parallel()
	dir := fixture.CorpusDir(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "local-oracles", "*.readelf-hlW.txt"))
	if len(oracles) == 0 {
		t.Skip("no readelf oracles in the corpus")
	}
	cores, withFiles := 0, 0
	for _, op := range oracles {
		core := corpusCore(dir, op, ".readelf-hlW.txt")
		if core == "" {
			continue // .zst cores: no decompressor in the standard library
		}
		hl, err := os.ReadFile(op)
		if err != nil {
			t.Fatal(err)
		}
		notes, err := os.ReadFile(strings.TrimSuffix(op, ".readelf-hlW.txt") + ".eu-readelf-n.txt")
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(dir, core)
		loads := parseReadelfLoads(t, string(hl))
		files := parseEUFiles(t, string(notes))
		if len(loads) == 0 {
			continue
		}
		cores++
		if len(files) > 0 {
			withFiles++
		}
		t.Run(name, func(t *testing.T) {
			f := openCore(t, core)
			checkRanges(t, f, loads, files)
			checkRegions(t, f, loads, files)
		})
	}
	if cores < 5 || withFiles < 5 {
		t.Errorf("checked %d cores, %d with NT_FILE: the corpus should give more", cores, withFiles)
	}
}

// fileAt returns the label NT_FILE gives address a, or "".
func fileAt(files []MappedFile, a uint64) string {
	for _, m := range files {
		if a >= m.Start && a < m.End {
			return model.FileLabel(m.Name, m.Offset+(a-m.Start))
		}
	}
	return ""
}

func checkRanges(t *testing.T, f *File, loads []readelfLoad, files []MappedFile) {
	t.Helper()
	rs, err := f.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != len(loads) {
		t.Fatalf("Ranges: %d ranges, readelf lists %d PT_LOADs", len(rs), len(loads))
	}
	for i, l := range loads {
		r := rs[i]
		if r.Start != l.vaddr || r.Size != l.memsz || r.Prot != l.prot {
			t.Errorf("range %d = %#x+%#x %s, readelf %#x+%#x %s", i, r.Start, r.Size, r.Prot, l.vaddr, l.memsz, l.prot)
		}
		if (r.FileOff < 0) != (l.filesz == 0) {
			t.Errorf("range %d at %#x: FileOff %d with p_filesz %#x", i, r.Start, r.FileOff, l.filesz)
		}
		if want := fileAt(files, l.vaddr); want != "" && r.Label != want {
			t.Errorf("range %d at %#x: label %q, NT_FILE says %q", i, r.Start, r.Label, want)
		}
	}
}

func checkRegions(t *testing.T, f *File, loads []readelfLoad, files []MappedFile) {
	t.Helper()
	sp, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	var regs []mem.Region
	for r := range sp.Regions() {
		if len(regs) > 0 && r.Start < regs[len(regs)-1].End() {
			t.Fatalf("region %v overlaps or precedes %v", r, regs[len(regs)-1])
		}
		regs = append(regs, r)
	}
	// Every PT_LOAD: its regions have its protections, committed for the
	// p_filesz bytes the core holds and absent after.
	for _, l := range loads {
		for _, r := range regs {
			if r.Start < l.vaddr || r.Start-l.vaddr >= l.memsz {
				continue
			}
			if r.Prot.String() != l.prot {
				t.Errorf("region %v: protections %s, readelf's PT_LOAD %#x says %s", r, r.Prot, l.vaddr, l.prot)
			}
			if dumped := r.Start-l.vaddr < l.filesz; dumped != (r.State == mem.Committed) {
				t.Errorf("region %v of PT_LOAD %#x (p_filesz %#x) has state %s", r, l.vaddr, l.filesz, r.State)
			}
		}
	}
	// Every NT_FILE mapping: covered by regions labelled with its path and
	// the offset of each region's first byte.
	for _, m := range files {
		cur := m.Start
		for _, r := range regs {
			if r.End() <= cur || r.Start >= m.End {
				continue
			}
			if r.Start > cur {
				break
			}
			if want := model.FileLabel(m.Name, m.Offset+(r.Start-m.Start)); r.Label != want {
				t.Errorf("region %v: label %q, NT_FILE says %q", r, r.Label, want)
			}
			cur = r.End()
		}
		if cur < m.End {
			t.Errorf("NT_FILE %#x-%#x %s: regions cover it only up to %#x", m.Start, m.End, m.Name, cur)
		}
	}
}

// TestRegionsLabelStacksAndFiles checks the labels on a synthetic core:
// file mappings with offsets, the main thread's stack and another
// thread's, and an NT_FILE mapping no PT_LOAD describes, listed as absent.
func TestRegionsLabelStacksAndFiles(t *testing.T) {
	t.Parallel()
	sp := func(v uint64) []uint64 { r := make([]uint64, 27); r[19] = v; return r } // rsp is slot 19 of user_regs_struct
	f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 300, Signal: 11, Regs: sp(0x7ffff800)}, elfcoretest.Thread{TID: 301, Regs: sp(0x7f1000000100)}).
		Process("app", "./app", 300).
		MapFile(elfcoretest.File{Start: 0x400000, End: 0x401000, Offset: 0, Name: "/usr/bin/app"}).
		MapFile(elfcoretest.File{Start: 0x401000, End: 0x403000, Offset: 1, Name: "/usr/bin/app"}).
		MapFile(elfcoretest.File{Start: 0x7f0000000000, End: 0x7f0000001000, Offset: 0, Name: "/lib/libc.so.6"}).
		Load(elfcoretest.Segment{Vaddr: 0x400000, Memsz: 0x1000, Flags: 4, Data: make([]byte, 0x1000)}).
		Load(elfcoretest.Segment{Vaddr: 0x401000, Memsz: 0x2000, Flags: 5, Data: make([]byte, 0x1000)}).
		Load(elfcoretest.Segment{Vaddr: 0x7f1000000000, Memsz: 0x1000, Flags: 6, Data: make([]byte, 0x1000)}).
		Load(elfcoretest.Segment{Vaddr: 0x7ffff000, Memsz: 0x2000, Flags: 6}))
	space, err := f.Memory()
	if err != nil {
		t.Fatal(err)
	}
	var got []mem.Region
	for r := range space.Regions() {
		got = append(got, r)
	}
	want := []mem.Region{
		{Start: 0x400000, Size: 0x1000, Prot: mem.R, Label: model.FileLabel("/usr/bin/app", 0)},
		{Start: 0x401000, Size: 0x1000, Prot: mem.R | mem.X, Label: model.FileLabel("/usr/bin/app", 0x1000)},
		{Start: 0x402000, Size: 0x1000, Prot: mem.R | mem.X, State: mem.Absent, Label: model.FileLabel("/usr/bin/app", 0x2000)},
		{Start: 0x7ffff000, Size: 0x2000, Prot: mem.R | mem.W, State: mem.Absent, Label: "[stack]"},
		{Start: 0x7f0000000000, Size: 0x1000, State: mem.Absent, Label: model.FileLabel("/lib/libc.so.6", 0)},
		{Start: 0x7f1000000000, Size: 0x1000, Prot: mem.R | mem.W, Label: "[stack:301]"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("regions:\n%v\nwant\n%v", got, want)
	}
	rs, _ := f.Ranges()
	labels := []string{model.FileLabel("/usr/bin/app", 0), model.FileLabel("/usr/bin/app", 0x1000), "[stack:301]", "[stack]"}
	if len(rs) != len(labels) {
		t.Fatalf("ranges %+v", rs)
	}
	for i, r := range rs {
		if r.Label != labels[i] {
			t.Errorf("range %d at %#x: label %q, want %q", i, r.Start, r.Label, labels[i])
		}
	}
	if rs[1].Prot != "r-x" || rs[3].FileOff != -1 {
		t.Errorf("ranges %+v", rs)
	}
}
