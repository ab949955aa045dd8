package kdmp_test

import (
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// symOffsets is what nt's symbols would say of the machine's layout.
func symOffsets(o kdmptest.Offsets) kdmp.ProcessOffsets {
	return kdmp.ProcessOffsets{ActiveProcessLinks: int64(o.ActiveProcessLinks), UniqueProcessId: int64(o.UniqueProcessID),
		ImageFileName: int64(o.ImageFileName), InheritedFromUniqueProcessId: int64(o.ParentPID),
		DirectoryTableBase: int64(o.DirectoryTableBase), ThreadListHead: int64(o.ThreadListHead), Size: int64(o.EprocessSize)}
}

func wantProcesses(t *testing.T, m *kdmptest.Machine, procs []model.KernelProcess) {
	t.Helper()
	if len(procs) != len(m.Processes) {
		t.Fatalf("%d processes, want %d", len(procs), len(m.Processes))
	}
	for i, got := range procs {
		w := m.Processes[i]
		want := model.KernelProcess{PID: w.PID, ParentPID: w.PPID, Name: w.Name, DirBase: w.DTB,
			Address: w.EPROCESS, Threads: len(w.Threads), Handles: -1}
		if got != want {
			t.Errorf("process %d = %+v, want %+v", i, got, want)
		}
	}
}

// TestProcessesWithOffsets: with the offsets symbols give, every dump kind
// lists the same processes as the search finds; offsets of another build
// are refused.
func TestProcessesWithOffsets(t *testing.T) {
	t.Parallel()
	for _, v := range vmVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			m := v.machine()
			f := vmOpen(t, m, v.builder(m))
			procs, err := f.ProcessesWithOffsets(symOffsets(m.Offsets))
			if err != nil {
				t.Fatal(err)
			}
			wantProcesses(t, m, procs)
			wrong := symOffsets(m.Offsets)
			wrong.UniqueProcessId += 8
			if _, err := f.ProcessesWithOffsets(wrong); !errors.Is(err, kdmp.ErrOffsetsMismatch) {
				t.Errorf("offsets of another build: %v", err)
			}
		})
	}
}

// TestProcessesNeedSymbols: a kernel whose UniqueProcessId is not the
// pointer before ActiveProcessLinks defeats the search; its symbols'
// offsets read the list.
func TestProcessesNeedSymbols(t *testing.T) {
	t.Parallel()
	o := kdmptest.OffsetsFor(true)
	o.UniqueProcessID, o.ActiveProcessLinks = 0x438, 0x450 // something between them
	m := kdmptest.NewMachineWith(kdmptest.PagingAMD64, kdmptest.DefaultKernelBase(kdmptest.PagingAMD64), o)
	f := vmOpen(t, m, m.NewBuilder())
	if _, err := f.Processes(); err == nil {
		t.Fatal("the search read a layout it cannot know")
	}
	procs, err := f.ProcessesWithOffsets(symOffsets(o))
	if err != nil {
		t.Fatal(err)
	}
	wantProcesses(t, m, procs)
}

// TestTriageProcessWithOffsets reads rizin's triage_x64.dmp (Windows 10
// build 19041, whose _EPROCESS layout Vergilius gives; the same values as
// kdmptest.OffsetsFor(true)) with those offsets: its one process, System,
// gets the id 4 and parent 0 that no search can give, and the name and
// DirBase agree with the header (DirectoryTableBase 0x1ad000 in rizin's
// oracle).
func TestTriageProcessWithOffsets(t *testing.T) {
	t.Parallel()
	f, err := kdmp.Open(fixture.Corpus(t, "rizin/dmp/triage_x64.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	procs, err := f.ProcessesWithOffsets(symOffsets(kdmptest.OffsetsFor(true)))
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 || procs[0].PID != 4 || procs[0].ParentPID != 0 || procs[0].Name != "System" || procs[0].DirBase != 0x1ad000 {
		t.Errorf("processes %+v", procs)
	}
}
