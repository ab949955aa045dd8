package elfsym

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMiniDebugInfo reads testdata/minidebuginfo/prog.minidebuginfo (made
// by its make.sh with GDB's recipe): every function of the unstripped
// program, static ones included, is named as GDB names it in the
// stripped file (prog.gdb). With the section renamed, the static
// functions are not found: the names come from .gnu_debugdata.
func TestMiniDebugInfo(t *testing.T) {
	const dir = "testdata/minidebuginfo/"
	b, err := os.ReadFile(dir + "prog.minidebuginfo")
	if err != nil {
		t.Fatal(err)
	}
	want := miniOracle(t)

	tab, err := ReadBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if src := tab.Source(); !strings.Contains(src, "minidebuginfo") {
		t.Errorf("Source() = %q, want it to say minidebuginfo", src)
	}
	for _, w := range want {
		s, ok := tab.LookupRVA(w.addr - tab.LinkBase())
		if !ok || s.Name != w.name {
			t.Errorf("%#x: %q (found %v), GDB says %s", w.addr, s.Name, ok, w.name)
		}
	}

	// The same file with the section renamed: only .dynsym is left.
	renamed := bytes.Replace(b, []byte(".gnu_debugdata\x00"), []byte(".gnu_debugdatX\x00"), 1)
	if bytes.Equal(renamed, b) {
		t.Fatal("no .gnu_debugdata name to rename")
	}
	plain, err := ReadBytes(renamed)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if w.name != "checksum" && w.name != "parse_header" {
			continue
		}
		if s, ok := plain.LookupRVA(w.addr - plain.LinkBase()); ok && s.Name == w.name {
			t.Errorf("without .gnu_debugdata %s is still named: the test shows nothing", w.name)
		}
	}
}

// TestMiniDebugInfoCorrupt: a damaged .gnu_debugdata costs its names,
// not the table.
func TestMiniDebugInfoCorrupt(t *testing.T) {
	b, err := os.ReadFile("testdata/minidebuginfo/prog.minidebuginfo")
	if err != nil {
		t.Fatal(err)
	}
	var exported uint64
	for _, f := range miniOracle(t) {
		if f.name == "exported_entry" {
			exported = f.addr
		}
	}
	i := bytes.Index(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0})
	if i < 0 {
		t.Fatal("no xz stream in the file")
	}
	for _, damage := range []func([]byte){
		func(c []byte) { c[i+40] ^= 0xff },                  // a flipped byte in the stream
		func(c []byte) { copy(c[i+12:], make([]byte, 64)) }, // a zeroed block header
	} {
		c := bytes.Clone(b)
		damage(c)
		tab, err := ReadBytes(c)
		if err != nil {
			t.Fatalf("a damaged .gnu_debugdata failed the file: %v", err)
		}
		if s, ok := tab.LookupRVA(exported - tab.LinkBase()); !ok || s.Name != "exported_entry" {
			t.Errorf(".dynsym's exported_entry lost: %q %v", s.Name, ok)
		}
	}
}

// miniFn is a function of prog.gdb: where it starts and GDB's name.
type miniFn struct {
	addr uint64
	name string
}

// miniOracle reads testdata/minidebuginfo/prog.gdb.
func miniOracle(t *testing.T) []miniFn {
	t.Helper()
	oracle, err := os.Open("testdata/minidebuginfo/prog.gdb")
	if err != nil {
		t.Fatal(err)
	}
	defer oracle.Close()
	var want []miniFn
	sc := bufio.NewScanner(oracle)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			t.Fatalf("prog.gdb line %q", sc.Text())
		}
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, miniFn{a, f[1]})
	}
	if len(want) < 8 {
		t.Fatalf("prog.gdb has %d functions", len(want))
	}
	return want
}
