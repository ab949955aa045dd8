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
