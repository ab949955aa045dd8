package session

import (
	"context"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/ctype"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestKernelProcessesWithoutNtSymbols: without nt's PDB the list is the
// search's, and the note says what would give more.
func TestKernelProcessesWithoutNtSymbols(t *testing.T) {
	t.Parallel()
	s := openSession(t, fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"), Options{SymPath: t.TempDir()})
	procs, note, err := s.KernelProcesses(context.Background())
	if err != nil || len(procs) != 1 || procs[0].Name != "System" {
		t.Fatalf("%+v, %v", procs, err)
	}
	if !strings.Contains(note, "nt has no type information") || !strings.Contains(note, "ntkrnlmp.pdb") {
		t.Errorf("note %q", note)
	}
	if out := run(t, s, "!process"); !strings.Contains(out, note) {
		t.Errorf("!process does not say %q:\n%s", note, out)
	}
}

// TestFieldOffset follows dotted paths through embedded structures, as
// _EPROCESS.Pcb.DirectoryTableBase is found in nt's types.
func TestFieldOffset(t *testing.T) {
	ptr := &ctype.Type{Kind: ctype.Base, Name: "unsigned __int64", Size: 8}
	kproc := &ctype.Type{Kind: ctype.Struct, Name: "_KPROCESS", Size: 0x438, Fields: []ctype.Field{
		{Name: "Header", Offset: 0, Type: ptr}, {Name: "DirectoryTableBase", Offset: 0x28, Type: ptr}}}
	eproc := &ctype.Type{Kind: ctype.Struct, Name: "_EPROCESS", Size: 0xa40, Fields: []ctype.Field{
		{Name: "Pcb", Offset: 0, Type: kproc}, {Name: "UniqueProcessId", Offset: 0x440, Type: ptr}}}
	inner := &ctype.Type{Kind: ctype.Struct, Name: "OUTER", Fields: []ctype.Field{{Name: "E", Offset: 0x10, Type: eproc}}}
	for path, want := range map[string]int64{"UniqueProcessId": 0x440, "Pcb.DirectoryTableBase": 0x28, "Pcb.Nothing": -1, "Nothing": -1} {
		if got := fieldOffset(eproc, path); got != want {
			t.Errorf("%s: %#x, want %#x", path, got, want)
		}
	}
	if got := fieldOffset(inner, "E.Pcb.DirectoryTableBase"); got != 0x38 {
		t.Errorf("nested: %#x", got)
	}
}
