package session

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

var rizinSectionRE = regexp.MustCompile(`(?m)^0x[0-9a-f]+ +0x[0-9a-f]+ +0x([0-9a-f]+) +0x([0-9a-f]+) +0x[0-9a-f]+ +---- (C:\S+)`)

// TestCalcAgreesWithRizin compares rizin's view of calc.dmp (the iS module
// sections and the iI header facts in its test database) with ours: every
// module's base and size in order, the stream count, the machine and the
// OS build.
func TestCalcAgreesWithRizin(t *testing.T) {
	dmp := fixture.Corpus(t, "rizin/mdmp/calc.dmp")
	raw, err := os.ReadFile(fixture.Corpus(t, "rizin/oracle-test-db/formats_mdmp"))
	if err != nil {
		t.Fatal(err)
	}
	db := string(raw)
	start := strings.Index(db, "NAME=mdmp sections")
	end := strings.Index(db[start:], "\nRUN")
	want := rizinSectionRE.FindAllStringSubmatch(db[start:start+end], -1)
	if len(want) < 20 {
		t.Fatalf("parsed %d rizin module sections", len(want))
	}
	s, err := Open(context.Background(), dmp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// rizin leaves out the two side-by-side assemblies (GdiPlus and
	// comctl32 under C:\Windows\WinSxS); every module it lists must be
	// ours with the same base and size.
	size := map[uint64]uint64{}
	winsxs := 0
	for _, m := range s.Modules() {
		if !m.Unloaded {
			size[m.Base] = m.Size
			if strings.Contains(strings.ToLower(m.Path), `\winsxs\`) {
				winsxs++
			}
		}
	}
	if len(size) != len(want)+winsxs {
		t.Errorf("%d modules (%d in WinSxS), rizin lists %d", len(size), winsxs, len(want))
	}
	for _, w := range want {
		base, _ := strconv.ParseUint(w[1], 16, 64)
		sz, _ := strconv.ParseUint(w[2], 16, 64)
		if got, ok := size[base]; !ok || got != sz {
			t.Errorf("module %s at %#x: size %#x (present %v), want %#x", w[3], base, got, ok, sz)
		}
	}
	info := s.Target().Info()
	if info.Arch != "amd64" || info.OS.Version != "6.1.7601" || !strings.Contains(db, "streams  13") {
		t.Errorf("info: arch %s os %s", info.Arch, info.OS.Version)
	}
	for _, d := range info.Details {
		if d.Key == "Streams" && d.Value != "13" {
			t.Errorf("streams %s, rizin says 13", d.Value)
		}
	}
}

// TestFizzbuzzAgreesWithLLDB checks the values lldb's TestMiniDump asserts
// for fizzbuzz_no_heap.dmp: pid, one thread, the access violation, and the
// six modules in order with their PDB70 GUID and age.
func TestFizzbuzzAgreesWithLLDB(t *testing.T) {
	dmp := fixture.Corpus(t, "lldb/minidump/fizzbuzz_no_heap.dmp")
	s, err := Open(context.Background(), dmp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info := s.Target().Info()
	if info.Process == nil || info.Process.PID != 4440 || info.Threads != 1 || info.Crash == nil || info.Crash.Code != 0xc0000005 {
		t.Fatalf("info: process %+v threads %d crash %+v", info.Process, info.Threads, info.Crash)
	}
	want := []struct{ name, uuid string }{
		{"fizzbuzz.exe", "0F45B791-9A96-46F9-BF8F-2D6076EA421A-00000011"},
		{"ntdll.dll", "BBB0846A-402C-4052-A16B-67650BBFE6B0-00000002"},
		{"kernel32.dll", "E5CB7E1B-005E-4113-AB98-98D6913B52D8-00000002"},
		{"KERNELBASE.dll", "0BF95241-CB0D-4BD4-AC5D-186A6452E522-00000001"},
		{"MSVCP120D.dll", "3C05516E-57E7-40EB-8D3F-9722C5BD80DD-00000001"},
		{"MSVCR120D.dll", "6382FB86-46C4-4046-AE42-8D97B3F91FF2-00000001"},
	}
	mods := s.Modules()
	if len(mods) != len(want) {
		t.Fatalf("%d modules, want %d", len(mods), len(want))
	}
	for i, w := range want {
		// lldb prints GUID-age; the Breakpad debug id is the GUID's hex
		// followed by the age in hex without padding.
		parts := strings.Split(w.uuid, "-")
		age, _ := strconv.ParseUint(parts[5], 16, 32)
		id := strings.Join(parts[:5], "") + strings.ToUpper(strconv.FormatUint(age, 16))
		if mods[i].Name() != w.name || mods[i].DebugID != id {
			t.Errorf("module %d = %s %s, want %s %s", i, mods[i].Name(), mods[i].DebugID, w.name, id)
		}
	}
}
