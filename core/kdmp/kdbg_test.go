package kdmp_test

import (
	"bytes"
	"errors"
	"os"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp"
	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

func TestKDDebuggerData(t *testing.T) {
	t.Parallel()
	for _, p := range []kdmptest.Paging{kdmptest.PagingAMD64, kdmptest.PagingPAE, kdmptest.PagingX86, kdmptest.PagingARM64, kdmptest.PagingLA57} {
		m := kdmptest.NewMachine(p)
		f := vmOpen(t, m, m.NewBuilder())
		k, err := f.KDDebuggerData()
		if err != nil {
			t.Fatalf("%v: %v", p, err)
		}
		o := m.Offsets
		if k.Address != m.KdDebuggerDataBlock || k.Size != m.KDBGSize || k.KernBase != m.KernBase ||
			k.PsLoadedModuleList != m.PsLoadedModuleList || k.PsActiveProcessHead != m.PsActiveProcessHead ||
			k.MmPfnDatabase != m.PfnDatabase || uint64(k.SizeEProcess) != o.EprocessSize ||
			uint64(k.OffsetEprocessPeb) != o.Peb || uint64(k.OffsetEprocessParentCID) != o.ParentPID ||
			uint64(k.OffsetEprocessDirectoryTableBase) != o.DirectoryTableBase ||
			uint64(k.OffsetKThreadApcProcess) != o.KThreadApcProcess || uint64(k.SizeEThread) != o.EthreadSize {
			t.Errorf("%v: KDDebuggerData = %+v", p, k)
		}
		if !k.Has(0x360, 8) || k.Has(0x3a0, 1) {
			t.Errorf("%v: Has: Size %#x", p, k.Size)
		}
	}
}

// TestKDBGEncoded checks an encoded block: reported (error and diagnostic),
// decodable with the keys, and the lists still walked with heuristics.
func TestKDBGEncoded(t *testing.T) {
	t.Parallel()
	const never, always, encoded = 0x1d2c3b4a59687786, 0x0f1e2d3c4b5a6978, 0xfffff8047c6c3c48
	m := kdmptest.NewMachine(kdmptest.PagingAMD64)
	m.EncodeKDBG(never, always, encoded)
	f := vmOpen(t, m, m.NewBuilder())
	if _, err := f.KDDebuggerData(); !errors.Is(err, kdmp.ErrKDBGEncoded) {
		t.Fatalf("KDDebuggerData = %v, want ErrKDBGEncoded", err)
	}
	if len(viewDiags(f)) == 0 {
		t.Error("no diagnostic for the encoded block")
	}
	k, err := f.DecodedKDDebuggerData(never, always, encoded)
	if err != nil || k.PsActiveProcessHead != m.PsActiveProcessHead || uint64(k.SizeEProcess) != m.Offsets.EprocessSize {
		t.Fatalf("DecodedKDDebuggerData = %+v, %v", k, err)
	}
	if _, err := f.DecodedKDDebuggerData(never+1, always, encoded); !errors.Is(err, kdmp.ErrKDBGEncoded) {
		t.Errorf("wrong keys: %v", err)
	}

	procs, err := f.Processes()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != len(m.Processes) {
		t.Fatalf("%d processes, want %d", len(procs), len(m.Processes))
	}
	for i, p := range procs {
		w := m.Processes[i]
		// Without KDDEBUGGER_DATA64: no parent PIDs, no thread counts.
		if p.PID != w.PID || p.Name != w.Name || p.DirBase != w.DTB || p.ParentPID != 0 || p.Threads != -1 {
			t.Errorf("process %d = %+v, want PID %d %q DTB %#x", i, p, w.PID, w.Name, w.DTB)
		}
	}
	mods, err := f.LoadedModules()
	if err != nil || len(mods) != len(m.Modules) {
		t.Errorf("LoadedModules = %d, %v", len(mods), err)
	}
}

// TestDecodeKDBGRoundTrip checks DecodeKDBG against the builder's encoder
// for rotation counts past 64.
func TestDecodeKDBGRoundTrip(t *testing.T) {
	t.Parallel()
	for _, never := range []uint64{0, 0x40, 0x7f, 0xff, 0x123456789abcdef0} {
		m := kdmptest.NewMachine(kdmptest.PagingAMD64)
		plain := m.AS.Read(m.KdDebuggerDataBlock, int(m.KDBGSize))
		m.EncodeKDBG(never, 0xaaaa5555aaaa5555, 0x1234)
		enc := m.AS.Read(m.KdDebuggerDataBlock, int(m.KDBGSize))
		kdmp.DecodeKDBG(enc, never, 0xaaaa5555aaaa5555, 0x1234)
		if !bytes.Equal(enc, plain) {
			t.Errorf("KiWaitNever %#x: decoding does not invert encoding", never)
		}
	}
}

// TestKDBGFromTriageCorpus parses the decoded KDDEBUGGER_DATA64 copy that
// the real triage dumps carry: the list heads must equal the header's
// (rizin's oracle), and the Windows 10 19041 x64 offsets are the builder's.
func TestKDBGFromTriageCorpus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		path                 string
		loaded, active       uint64
		sizeEProcess, dtbOff uint16
	}{
		{"rizin/dmp/triage_x64.dmp", 0xfffff8047c62a390, 0xfffff8047c61e200, 0xa40, 0x28},
		{"rizin/dmp/triage_arm64.dmp", 0xfffff803f3a2aa20, 0xfffff803f3a1d1c0, 0xc80, 0x28},
	} {
		raw, err := os.ReadFile(fixture.Corpus(t, c.path))
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(raw, []byte(kdmp.KDBGOwnerTag))
		if i < 0x10 {
			t.Fatalf("%s: no KDBG block", c.path)
		}
		k, err := kdmp.ParseKDDebuggerData(raw[i-0x10:], 0, true)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if k.PsLoadedModuleList != c.loaded || k.PsActiveProcessHead != c.active || k.SizeEProcess != c.sizeEProcess || k.OffsetEprocessDirectoryTableBase != c.dtbOff {
			t.Errorf("%s: %+v", c.path, k)
		}
		if c.sizeEProcess == 0xa40 {
			o := kdmptest.OffsetsFor(true)
			if uint64(k.OffsetEprocessPeb) != o.Peb || uint64(k.OffsetEprocessParentCID) != o.ParentPID ||
				uint64(k.OffsetKThreadApcProcess) != o.KThreadApcProcess || uint64(k.SizeEThread) != o.EthreadSize {
				t.Errorf("%s: offsets %+v differ from the builder's %+v", c.path, k, o)
			}
		}
	}
}
