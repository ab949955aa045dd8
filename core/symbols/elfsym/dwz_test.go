package elfsym

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDwzSupplementaryFile reads testdata/dwz/prog1, whose DWARF dwz
// split with prog2 into common.debug (make.sh), and prog1.dwarf5, the
// same code split in DWARF 5's form into common5.debug: at every byte of
// work_one the innermost function, inlined calls included, is GDB's
// (prog1.gdb). Without the supplementary file the inlined calls have no
// name: the names come from it.
func TestDwzSupplementaryFile(t *testing.T) {
	f, err := os.Open("testdata/dwz/prog1.gdb")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type at struct {
		addr uint64
		fn   string
	}
	var want []at
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		a, err := strconv.ParseUint(fs[0], 16, 64)
		if err != nil || len(fs) != 2 {
			t.Fatalf("prog1.gdb line %q", sc.Text())
		}
		want = append(want, at{a, fs[1]})
	}
	inlined := 0
	for _, w := range want {
		if w.fn != "work_one" {
			inlined++
		}
	}
	if len(want) < 16 || inlined == 0 {
		t.Fatalf("prog1.gdb: %d addresses, %d inlined", len(want), inlined)
	}
	innermost := func(tab *Table, addr uint64) string {
		s, ok := tab.LookupRVA(addr - tab.LinkBase())
		if !ok {
			return ""
		}
		if len(s.Inlined) > 0 {
			return s.Inlined[0].Name
		}
		return s.Name
	}

	// prog1.dwarf5 is the same code with DWARF 5's standard forms.
	for _, name := range []string{"prog1", "prog1.dwarf5"} {
		t.Run(name, func(t *testing.T) {
			tab, err := Open("testdata/dwz/" + name)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if got := innermost(tab, w.addr); got != w.fn {
					t.Errorf("%#x: %q, GDB says %s", w.addr, got, w.fn)
				}
			}

			// The file alone, in a folder without its supplementary file.
			b, err := os.ReadFile("testdata/dwz/" + name)
			if err != nil {
				t.Fatal(err)
			}
			alone := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(alone, b, 0o644); err != nil {
				t.Fatal(err)
			}
			tab, err = Open(alone)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if got := innermost(tab, w.addr); w.fn != "work_one" && got == w.fn {
					t.Errorf("%#x named %s without the supplementary file: the test shows nothing", w.addr, got)
				}
			}
		})
	}
}

// TestFindAltByBuildID finds common.debug by the build id prog1's
// .gnu_debugaltlink records, in a debug directory's .build-id tree (where
// distributions link their .dwz files), when the path it names is absent.
func TestFindAltByBuildID(t *testing.T) {
	ef, err := elfOpen(t, "testdata/dwz/prog1")
	if err != nil {
		t.Fatal(err)
	}
	link, ok := readAltLink(ef)
	if !ok || link.name != "common.debug" || len(link.id) < 8 {
		t.Fatalf("altlink %+v, %v", link, ok)
	}
	common, err := os.ReadFile("testdata/dwz/common.debug")
	if err != nil {
		t.Fatal(err)
	}
	debugDir := t.TempDir()
	hexID := hex.EncodeToString(link.id)
	p := filepath.Join(debugDir, buildIDPath(hexID, ".debug"))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, common, 0o644); err != nil {
		t.Fatal(err)
	}
	elsewhere := filepath.Join(t.TempDir(), "prog1")
	f := &Finder{DebugDirs: []string{debugDir}}
	if got, ok := f.findAlt(context.Background(), link, elsewhere); !ok || got != p {
		t.Errorf("findAlt = %q, %v; want %s", got, ok, p)
	}
	// Another build id: not taken.
	bad := link
	bad.id = append([]byte{^link.id[0]}, link.id[1:]...)
	if got, ok := f.findAlt(context.Background(), bad, elsewhere); ok {
		t.Errorf("findAlt took %s for another build id", got)
	}
}

func elfOpen(t *testing.T, path string) (*elf.File, error) {
	t.Helper()
	ef, err := elf.Open(path)
	if err == nil {
		t.Cleanup(func() { ef.Close() })
	}
	return ef, err
}
