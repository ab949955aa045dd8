package session

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestMemoryMapSample checks the memory map of the bundled sample minidump:
// its image and stack regions are classified, and the regions are sorted
// and do not overlap.
func TestMemoryMapSample(t *testing.T) {
	s := openSession(t, fixture.Testdata(t, "sample/sample.dmp"), Options{})
	rs, name, err := s.MemoryMap()
	if err != nil {
		t.Fatal(err)
	}
	if name == "" || len(rs) == 0 {
		t.Fatalf("name %q, %d regions", name, len(rs))
	}
	kinds := map[RegionKind]int{}
	for i, r := range rs {
		kinds[r.Kind]++
		if i > 0 && r.Start < rs[i-1].Start+rs[i-1].Size {
			t.Errorf("region %d %v overlaps %v", i, r.Region, rs[i-1].Region)
		}
	}
	// sample.dmp holds app.exe's code and the main thread's stack at 0x140000.
	if kinds[RegionImage] == 0 || kinds[RegionStack] == 0 {
		t.Errorf("kinds %v: want image and stack regions", kinds)
	}
	for _, r := range rs {
		if r.Contains(0x140000) && r.Kind != RegionStack {
			t.Errorf("the region at 0x140000 is %v, want stack", r.Kind)
		}
	}
}

// TestProcessTreeVmcore checks the process tree of the kdump against the
// ps oracle (every task, with its pid) and that the panicking task (pid 1,
// init) is marked.
func TestProcessTreeVmcore(t *testing.T) {
	s := openSession(t, fixture.Corpus(t, panicKdump), Options{})
	nodes, _, err := s.ProcessTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := psOracle(t)
	if len(nodes) != len(want) {
		t.Fatalf("%d processes, the oracle lists %d", len(nodes), len(want))
	}
	pid := regexp.MustCompile(`^(\d+) `)
	crashed := 0
	for i, n := range nodes {
		if got := pid.FindStringSubmatch(want[i])[1]; got != itoa(n.PID) {
			t.Errorf("process %d: pid %d, oracle %s", i, n.PID, got)
		}
		if n.Crashed {
			crashed++
			if n.PID != 1 || n.Name != "init" {
				t.Errorf("crashed process %d %s, want 1 init", n.PID, n.Name)
			}
		}
		if n.PID > 1 && n.ParentPID == n.PID {
			t.Errorf("process %d is its own parent", n.PID)
		}
	}
	if crashed != 1 {
		t.Errorf("%d processes marked crashed, want 1", crashed)
	}
}

// TestProcessTreeUserDump: a process dump is one node with its threads.
func TestProcessTreeUserDump(t *testing.T) {
	s := openSession(t, fixture.Testdata(t, "sample/sample.dmp"), Options{})
	nodes, _, err := s.ProcessTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 1 || nodes[0].PID != 4242 || nodes[0].Name != "app.exe" || nodes[0].Threads != 2 || !nodes[0].Crashed {
		t.Errorf("nodes %+v, want app.exe pid 4242 with 2 threads, crashed", nodes)
	}
}

// TestEval evaluates a symbol and arithmetic as the console does.
func TestEval(t *testing.T) {
	s := openSession(t, fixture.Testdata(t, "sample/sample.dmp"), Options{})
	sym, err := s.Eval("app!CrashFunction")
	if err != nil {
		t.Fatal(err)
	}
	plus, err := s.Eval("app!CrashFunction+0x10")
	if err != nil || plus != sym+0x10 {
		t.Errorf("app!CrashFunction+0x10 = %#x, %v; want %#x", plus, err, sym+0x10)
	}
	if _, err := s.Eval("nosuchmodule!nothing"); err == nil {
		t.Error("an unknown symbol evaluated")
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
