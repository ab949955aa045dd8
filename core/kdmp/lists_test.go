package kdmp_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/model"
)

func TestModulesAndProcesses(t *testing.T) {
	t.Parallel()
	for _, v := range vmVariants() {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			m := v.machine()
			f := vmOpen(t, m, v.builder(m))
			mods, err := f.LoadedModules()
			if err != nil {
				t.Fatal(err)
			}
			if len(mods) != len(m.Modules) {
				t.Fatalf("%d modules, want %d", len(mods), len(m.Modules))
			}
			for i, got := range mods {
				w := m.Modules[i]
				want := model.Module{
					Base: w.Base, Size: w.Size, Path: w.Path, Checksum: w.CheckSum,
					Time:   time.Unix(int64(w.TimeDateStamp), 0).UTC(),
					CodeID: fmt.Sprintf("%08X%x", w.TimeDateStamp, w.Size),
				}
				if got.Base != want.Base || got.Size != want.Size || got.Path != want.Path || !got.Time.Equal(want.Time) ||
					got.CodeID != want.CodeID || got.Checksum != want.Checksum || got.Name() != w.Name {
					t.Errorf("module %d = %+v, want %+v", i, got, want)
				}
			}

			procs, err := f.Processes()
			if err != nil {
				t.Fatal(err)
			}
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
			if d := viewDiags(f); len(d) > 0 {
				t.Errorf("diagnostics on a clean dump: %v", d)
			}
		})
	}
}

// hasDiag reports whether a view diagnostic mentions all the words.
func hasDiag(f *kdmp.File, words ...string) bool {
	for _, d := range viewDiags(f) {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(d.Msg, w)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestCorruptLists damages the lists and checks that every walk ends, keeps
// what it read before the damage and says why.
func TestCorruptLists(t *testing.T) {
	t.Parallel()
	for _, p := range []kdmptest.Paging{kdmptest.PagingAMD64, kdmptest.PagingPAE} {
		ptr := uint64(8)
		if !p.Is64() {
			ptr = 4
		}
		bad := uint64(0xdead0000beef0000) // non-canonical
		if ptr == 4 {
			bad = 0x7ffe0000 // user mode
		}
		apl := func(m *kdmptest.Machine, i int) uint64 { return m.Processes[i].EPROCESS + m.Offsets.ActiveProcessLinks }
		for _, c := range []struct {
			name     string
			damage   func(m *kdmptest.Machine)
			modules  int // modules expected; -1: LoadedModules fails
			procs    int // processes expected; -1: Processes fails
			diag     []string
			checkOne func(t *testing.T, procs []model.KernelProcess)
		}{
			{"module cycle", func(m *kdmptest.Machine) { m.WritePtr(m.Modules[2].Entry, m.Modules[0].Entry) },
				3, 3, []string{"PsLoadedModuleList", "cycle"}, nil},
			{"module self-loop", func(m *kdmptest.Machine) { m.WritePtr(m.Modules[1].Entry, m.Modules[1].Entry) },
				2, 3, []string{"cycle"}, nil},
			{"non-canonical module link", func(m *kdmptest.Machine) { m.WritePtr(m.Modules[0].Entry, 0x0000800000000000) },
				1, 3, []string{"not a kernel address"}, nil},
			{"user-mode module link", func(m *kdmptest.Machine) { m.WritePtr(m.Modules[0].Entry, 0x10000) },
				1, 3, []string{"not a kernel address"}, nil},
			{"unmapped module link", func(m *kdmptest.Machine) { m.WritePtr(m.Modules[1].Entry, m.KernBase+0x3f000000) },
				2, 3, []string{"cannot be read"}, nil},
			{"empty module name", func(m *kdmptest.Machine) {
				m.WritePtr(m.Modules[1].Entry+10*ptr, 0) // FullDllName.Buffer (x64 0x50, x86 0x28)
			}, 3, 3, nil, nil},
			{"process cycle", func(m *kdmptest.Machine) { m.WritePtr(apl(m, 2), apl(m, 1)) },
				3, 3, []string{"PsActiveProcessHead", "cycle"}, nil},
			{"bad process link", func(m *kdmptest.Machine) { m.WritePtr(apl(m, 1), bad) },
				3, 2, []string{"PsActiveProcessHead", "not a kernel address"}, nil},
			{"broken Blink", func(m *kdmptest.Machine) { m.WritePtr(apl(m, 1)+ptr, apl(m, 2)) },
				3, 3, []string{"Blink"}, nil},
			{"junk EPROCESS", func(m *kdmptest.Machine) { m.AS.Write(m.Processes[1].EPROCESS, []byte{0x11}) },
				3, 2, []string{"object type 17"}, nil},
			{"no System", func(m *kdmptest.Machine) { m.WritePtr(m.Processes[0].EPROCESS+m.Offsets.UniqueProcessID, 8) },
				3, -1, []string{"System"}, nil},
			{"thread cycle", func(m *kdmptest.Machine) {
				th := m.Processes[0].Threads
				m.WritePtr(th[2]+m.Offsets.KThreadListEntry, th[0]+m.Offsets.KThreadListEntry)
			}, 3, 3, []string{"thread list", "cycle"}, func(t *testing.T, procs []model.KernelProcess) {
				if procs[0].Threads != -1 || procs[1].Threads != 2 {
					t.Errorf("threads = %d, %d; want -1 (damaged), 2", procs[0].Threads, procs[1].Threads)
				}
			}},
			{"empty process list", func(m *kdmptest.Machine) {
				m.WritePtr(m.PsActiveProcessHead, m.PsActiveProcessHead)
			}, 3, -1, nil, nil},
		} {
			t.Run(fmt.Sprintf("%v/%s", p, c.name), func(t *testing.T) {
				t.Parallel()
				m := kdmptest.NewMachine(p)
				c.damage(m)
				f := vmOpen(t, m, m.NewBuilder())
				done := make(chan struct{})
				var mods []model.Module
				var procs []model.KernelProcess
				var merr, perr error
				go func() {
					defer close(done)
					mods, merr = f.LoadedModules()
					procs, perr = f.Processes()
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("list walk does not end")
				}
				if c.modules < 0 && merr == nil || c.modules >= 0 && (merr != nil || len(mods) != c.modules) {
					t.Errorf("LoadedModules = %d modules, %v; want %d", len(mods), merr, c.modules)
				}
				if c.procs < 0 && perr == nil || c.procs >= 0 && (perr != nil || len(procs) != c.procs) {
					t.Errorf("Processes = %d processes, %v; want %d", len(procs), perr, c.procs)
				}
				if c.diag != nil && !hasDiag(f, c.diag...) {
					t.Errorf("no diagnostic mentioning %q in %v", c.diag, viewDiags(f))
				}
				if c.checkOne != nil && perr == nil {
					c.checkOne(t, procs)
				}
			})
		}
	}
}

// TestListHeadFromKDBG clears the header's list heads: the walks take them
// from KDDEBUGGER_DATA64.
func TestListHeadFromKDBG(t *testing.T) {
	t.Parallel()
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	b := m.Configure(kdmptest.New()).PsLoadedModuleList(0).PsActiveProcessHead(0)
	raw, err := m.Mem.Dump(b)
	if err != nil {
		t.Fatal(err)
	}
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := f.LoadedModules()
	if err != nil || len(mods) != 3 {
		t.Errorf("LoadedModules = %d, %v", len(mods), err)
	}
	procs, err := f.Processes()
	if err != nil || len(procs) != 3 {
		t.Errorf("Processes = %d, %v", len(procs), err)
	}
}

// TestUnreadableListHead points the header's PsLoadedModuleList at an
// unmapped address: KDDEBUGGER_DATA64's copy is used.
func TestUnreadableListHead(t *testing.T) {
	t.Parallel()
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	raw, err := m.Mem.Dump(m.Configure(kdmptest.New()).PsLoadedModuleList(m.KernBase + 0x3f000000))
	if err != nil {
		t.Fatal(err)
	}
	f, err := kdmp.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	// The header's head fails; KDDEBUGGER_DATA64's is walked instead.
	if mods, err := f.LoadedModules(); err != nil || len(mods) != 3 {
		t.Errorf("LoadedModules = %d, %v", len(mods), err)
	}
	if procs, err := f.Processes(); err != nil || len(procs) != 3 {
		t.Errorf("Processes = %d, %v", len(procs), err)
	}
	if !hasDiag(f, "PsLoadedModuleList", "cannot be read") || !hasDiag(f, "KDDEBUGGER_DATA64 says") {
		t.Errorf("diagnostics %v", viewDiags(f))
	}
}

// TestTruncatedKernelDump cuts a dump at every page boundary: no walk may
// fail to end or panic, whatever is missing.
func TestTruncatedKernelDump(t *testing.T) {
	t.Parallel()
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	raw, err := m.Bytes(m.NewBuilder())
	if err != nil {
		t.Fatal(err)
	}
	for n := 0x2000; n < len(raw); n += 3 * kdmptest.PageSize {
		f, err := kdmp.NewFile(bytes.NewReader(raw[:n]), int64(n))
		if err != nil {
			t.Fatal(err)
		}
		f.LoadedModules()
		f.Processes()
		if ks, err := f.KernelSpace(); err == nil {
			for range ks.Regions() {
			}
		}
		if _, err := f.KDDebuggerData(); err != nil && !errors.Is(err, kdmp.ErrKDBGEncoded) {
			continue
		}
	}
}
