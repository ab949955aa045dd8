package session

import (
	"context"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestKdmpTriageSession opens the corpus's x64 triage dump through the
// session, with no symbol path, and checks that the kdmp target's triage
// views reach the engine: one crashing thread (its ID the ETHREAD address
// the crash names), the 151 drivers rizin's iH counts plus the unloaded
// ones, memory at TopOfStack, and an analysis that starts from the
// exception context: the faulting amdppm.sys instruction rizin's dbt
// shows as frame 8 (its parameter 2).
func TestKdmpTriageSession(t *testing.T) {
	t.Parallel()
	path := fixture.Corpus(t, "rizin/dmp/triage_x64.dmp")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ths, err := s.Threads()
	if err != nil || len(ths) != 1 || ths[0].Context == nil || ths[0].ID == 0 {
		t.Fatalf("Threads = %+v, %v", ths, err)
	}
	if pc := ths[0].Context.PC(); pc != 0xfffff8047bdf5a80 { // rizin dr: rip (KeBugCheckEx)
		t.Errorf("thread pc %#x", pc)
	}
	loaded, unloaded := 0, 0
	for _, m := range s.Modules() {
		if m.Unloaded {
			unloaded++
		} else {
			loaded++
		}
	}
	if loaded != 0x97 || unloaded == 0 {
		t.Errorf("%d loaded and %d unloaded modules, want 0x97 loaded", loaded, unloaded)
	}
	m := s.Memory()
	if m == nil {
		t.Fatal("no memory")
	}
	var b [8]byte
	if err := mem.ReadFull(m, b[:], 0xffff850429890ee8); err != nil { // rizin iH: TopOfStack
		t.Errorf("read at TopOfStack: %v", err)
	}
	a, err := s.Analyze(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if a.Crashed != 0 || len(a.Threads) != 1 {
		t.Fatalf("crashed thread %d of %d", a.Crashed, len(a.Threads))
	}
	ts := a.Threads[0]
	if ts.Context == nil || ts.Context.PC() != 0xfffff8048b58334c || ts.Context.SP() != 0xffff850429892120 {
		t.Fatalf("analysis context %+v", ts.Context)
	}
	if len(ts.Frames) == 0 || ts.Frames[0].PC != 0xfffff8048b58334c || ts.Frames[0].Analysis.Module != "amdppm.sys" {
		t.Errorf("first frame %+v", ts.Frames)
	}
}
