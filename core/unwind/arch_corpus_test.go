package unwind

import (
	"compress/bzip2"
	"context"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestCorpusCoresAgreeWithGDB walks the ppc, s390x and MIPS cores of the
// corpus with DWARF CFI from their executables and names each frame from
// the executable's symbol table; want is gdb-multiarch 13's `thread
// apply all bt` (core/session/testdata/gdb-bt). The executable is made a
// module at its link address, as gdb's `file` does: three of these cores
// do not list it themselves (no NT_FILE note, or one the kernel wrote with
// 64-bit fields into a 32-bit core), so the session cannot name their
// frames yet, but the walk itself can be checked here.
func TestCorpusCoresAgreeWithGDB(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, core, exe string
		want            map[uint64][]string // LWP -> frames, innermost first
	}{
		{"ppc64le", "lldb/elf-core/linux-ppc64le.core", "lldb/elf-core/linux-ppc64le.out",
			map[uint64][]string{28147: {"bar", "foo", "_start"}}},
		{"s390x", "lldb/elf-core/linux-s390x.core", "lldb/elf-core/linux-s390x.out",
			map[uint64][]string{1045: {"bar", "foo", "_start"}}},
		{"mips64el", "lldb/elf-core/linux-mips64el-gnuabi64.core", "lldb/elf-core/linux-mips64el-gnuabi64.out",
			map[uint64][]string{25619: {"bar", "foo", "_start"}}},
		{"mipsel-o32", "lldb/elf-core/linux-mipsel-gnuabio32.core", "lldb/elf-core/linux-mipsel-gnuabio32.out",
			map[uint64][]string{3532: {"bar", "foo", "_start"}}},
		{"ppc", "elfutils/backtrace.ppc.core.bz2", "elfutils/backtrace.ppc.exec.bz2", map[uint64][]string{
			17197: {"pthread_join", "main"},
			17198: {"raise", "sigusr2", "stdarg", "backtracegen", "start", "start_thread", "clone"}}},
		// gdb prints only "PC not saved" for thread 58546 (it takes raise's
		// return address, r14, for unsaved); elfutils' own test expects
		// raise ← sigusr2 ← stdarg ← backtracegen ← start, which the
		// walk finds, up to thread_start (clone's child half).
		{"s390x-elfutils", "elfutils/backtrace.s390x.core.bz2", "elfutils/backtrace.s390x.exec.bz2", map[uint64][]string{
			58545: {"pthread_join", "main"},
			58546: {"raise", "sigusr2", "stdarg", "backtracegen", "start", "start_thread", "thread_start"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			core, exe := corpusFile(t, c.core, dir), corpusFile(t, c.exe, dir)
			f, err := elfcore.Open(core)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := f.Memory()
			if err != nil {
				t.Fatal(err)
			}
			checkCFITable(t, exe)
			exeMod, syms := exeModule(t, exe)
			mods := []model.Module{exeMod}
			if cm, err := f.Modules(); err == nil {
				for _, x := range cm {
					if x.Base+x.Size <= exeMod.Base || x.Base >= exeMod.Base+exeMod.Size {
						mods = append(mods, x)
					}
				}
			}
			rules := NewDWARFUnwind(mods, OpenFiles(func(x model.Module) (string, bool) { return exe, x.Path == exe }))
			threads, err := f.Threads()
			if err != nil {
				t.Fatal(err)
			}
			seen := 0
			for _, th := range threads {
				want, ok := c.want[th.ID]
				if !ok {
					continue
				}
				seen++
				frames, err := Walk(context.Background(), m, th.Context, mods, Options{Rules: rules,
					IsOutermost: func(pc uint64) bool { return entries[syms.name(pc)] }})
				if err != nil {
					t.Fatalf("LWP %d: %v", th.ID, err)
				}
				var got []string
				for i, fr := range frames {
					got = append(got, syms.name(fr.LookupPC()))
					// Every caller gdb shows comes from CFI: frame 0's
					// leaf callers through the link register's same-value
					// rule, none from scanning.
					if i > 0 && i < len(want) && fr.Trust != CFI {
						t.Errorf("LWP %d: frame %d (%#x) found by %v", th.ID, i, fr.PC, fr.Trust)
					}
				}
				if len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
					t.Errorf("LWP %d: frames %q, want %q", th.ID, got, want)
				}
			}
			if seen != len(c.want) {
				t.Errorf("%d of %d threads found", seen, len(c.want))
			}
		})
	}
}

// entries are the thread entry routines of these programs, as the session
// knows them.
var entries = map[string]bool{"_start": true, "start_thread": true, "thread_start": true, "clone": true, "__clone": true}

// checkCFITable reads an image's call-frame information: every entry must
// parse (the ppc exec's "zPLR" CIEs carry a big-endian personality
// pointer) and every FDE's rows execute to its end.
func checkCFITable(t *testing.T, path string) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	tab, err := readCFITable(fh)
	if err != nil || tab == nil {
		t.Fatalf("readCFITable: %v %v", tab, err)
	}
	if tab.errs != 0 || len(tab.fdes) < 3 {
		t.Fatalf("%d FDEs, %d malformed entries", len(tab.fdes), tab.errs)
	}
	for i := range tab.fdes {
		if fd := &tab.fdes[i]; fd.end > fd.begin {
			if _, err := fd.execute(fd.end - 1); err != nil {
				t.Errorf("FDE [%#x,%#x): %v", fd.begin, fd.end, err)
			}
		}
	}
}

// corpusFile returns the corpus file rel, decompressed into dir when it
// ends in .bz2.
func corpusFile(t *testing.T, rel, dir string) string {
	t.Helper()
	src := fixture.Corpus(t, rel)
	if !strings.HasSuffix(rel, ".bz2") {
		return src
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(rel), ".bz2"))
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bzip2.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// symtab names addresses by an executable's function symbols.
type symtab []elf.Symbol

func (s symtab) name(pc uint64) string {
	i := sort.Search(len(s), func(i int) bool { return s[i].Value > pc })
	// An untyped assembly label has no size: it runs to the next symbol.
	if j := i - 1; j >= 0 && (s[j].Size == 0 || pc < s[j].Value+s[j].Size) {
		return s[j].Name
	}
	return "??"
}

// exeModule returns an ET_EXEC image as a module spanning its PT_LOAD
// segments, and its function symbols.
func exeModule(t *testing.T, path string) (model.Module, symtab) {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			lo, hi = min(lo, p.Vaddr&^0xfff), max(hi, p.Vaddr+p.Memsz)
		}
	}
	all, err := ef.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var syms symtab
	for _, s := range all {
		// Assembly routines (s390x's thread_start) are untyped.
		if typ := elf.ST_TYPE(s.Info); (typ == elf.STT_FUNC || typ == elf.STT_NOTYPE) && s.Value != 0 &&
			s.Section != elf.SHN_UNDEF && s.Section != elf.SHN_ABS && int(s.Section) < len(ef.Sections) &&
			ef.Sections[s.Section].Flags&elf.SHF_EXECINSTR != 0 {
			syms = append(syms, s)
		}
	}
	// At one address, a function's own symbol wins over a label (MIPS's
	// _ftext): it sorts last, where name looks first.
	isFunc := func(s elf.Symbol) bool { return elf.ST_TYPE(s.Info) == elf.STT_FUNC }
	sort.SliceStable(syms, func(i, j int) bool {
		if syms[i].Value != syms[j].Value {
			return syms[i].Value < syms[j].Value
		}
		return !isFunc(syms[i]) && isFunc(syms[j])
	})
	return model.Module{Base: lo, Size: hi - lo, Path: path}, syms
}
