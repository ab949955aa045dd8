package session

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/kdmp/kdmptest"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/secrets/secretstest"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// Where the planted dump keeps its memory: a heap, part of app.exe's
// image (amd64-av-write loads it at 0x7ff6_0000_0000) and a thread's
// stack.
const (
	heapBase  = 0x140000
	imageBase = 0x7ff6_0000_2000
	stackBase = 0x5000_0000
)

// plantedDump writes a minidump whose memory is random bytes with every
// kind of secret planted in ASCII and in UTF-16LE in the heap, and one in
// the image and one on the stack; it returns the path and the plants.
func plantedDump(t *testing.T) (string, []secretstest.Planted) {
	t.Helper()
	heap := secretstest.Random(2<<20, 1)
	image := secretstest.Random(0x4000, 2)
	stack := secretstest.Random(0x8000, 3)
	var plants []secretstest.Planted
	off := 100
	for _, enc := range []secrets.Encoding{secrets.ASCII, secrets.UTF16LE} {
		for _, c := range secretstest.Secrets() {
			plants = append(plants, secretstest.Plant(heap, heapBase, off, c, enc))
			off += 20011
		}
	}
	cases := secretstest.Secrets()
	plants = append(plants,
		secretstest.Plant(image, imageBase, 0x100, cases[len(cases)-1], secrets.ASCII),
		secretstest.Plant(stack, stackBase, 0x7000, cases[len(cases)-3], secrets.UTF16LE))
	b, err := minidumptest.Scenarios()["amd64-av-write"]().
		Memory(minidumptest.Memory{Start: heapBase, Bytes: heap}).
		Memory(minidumptest.Memory{Start: imageBase, Bytes: image}).
		AddThread(minidumptest.Thread{ID: 0x99, Stack: minidumptest.Memory{Start: stackBase, Bytes: stack}}).
		Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return writeTemp(t, "planted.dmp", b), plants
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScanSecretsPlanted(t *testing.T) {
	path, plants := plantedDump(t)
	s := openSession(t, path, Options{Offline: true})
	for _, show := range []bool{false, true} {
		rep, err := s.ScanSecrets(context.Background(), show, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Complete || rep.Physical || rep.Space != "process memory" || rep.Shown != show {
			t.Errorf("report: complete %v, physical %v, space %q, shown %v", rep.Complete, rep.Physical, rep.Space, rep.Shown)
		}
		got := map[uint64]secrets.Finding{}
		for _, f := range rep.Findings {
			got[f.Addr] = f
		}
		for _, p := range plants {
			f, ok := got[p.Addr]
			if !ok || f.Kind != p.Kind || f.Len != p.Len || f.Encoding != p.Encoding {
				t.Errorf("%s (%s) at %#x: got %+v", p.Name, p.Encoding, p.Addr, f)
				continue
			}
			if show && f.Value != p.Value || !show && (f.Value != "" || strings.Contains(f.Preview, p.Value)) {
				t.Errorf("%s, show %v: value %q, preview %q", p.Name, show, f.Value, f.Preview)
			}
			switch p.Addr &^ 0xffff {
			case imageBase &^ 0xffff:
				if f.Module != "app.exe" {
					t.Errorf("%s in app.exe's image: module %q", p.Name, f.Module)
				}
			case stackBase &^ 0xffff:
				if f.Region != "stack" || f.Module != "" {
					t.Errorf("%s on the stack: region %q, module %q", p.Name, f.Region, f.Module)
				}
			default:
				if f.Module != "" {
					t.Errorf("%s in the heap: module %q", p.Name, f.Module)
				}
			}
		}
		if rep.Total != len(plants) || len(rep.Findings) != len(plants) {
			t.Errorf("%d found (%d listed), %d planted", rep.Total, len(rep.Findings), len(plants))
		}
	}
}

// TestScanSecretsClean: a dump whose memory is a few MiB of random bytes
// holds no secrets.
func TestScanSecretsClean(t *testing.T) {
	const size = 4 << 20
	b, err := minidumptest.Scenarios()["amd64-av-write"]().
		Memory(minidumptest.Memory{Start: 0x10000000, Bytes: secretstest.Random(size, 42)}).FullMemory().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t, writeTemp(t, "clean.dmp", b), Options{Offline: true})
	rep, err := s.ScanSecrets(context.Background(), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Total != 0 || len(rep.Findings) != 0 || rep.Scanned < size || !rep.Complete {
		t.Errorf("clean dump: %d found in %d bytes: %+v", rep.Total, rep.Scanned, rep.Findings)
	}
}

// TestScanSecretsNoMemory: a dump without memory says nothing was
// scanned rather than that it is clean.
func TestScanSecretsNoMemory(t *testing.T) {
	b, err := minidumptest.Scenarios()["linux-sigsegv"]().Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t, writeTemp(t, "nomem.dmp", b), Options{Offline: true})
	rep, err := s.ScanSecrets(context.Background(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 0 || rep.Total != 0 || rep.Regions != 0 || !strings.Contains(rep.Summary(), "nothing was scanned") {
		t.Errorf("no-memory dump: scanned %d of %d regions, summary %q", rep.Scanned, rep.Regions, rep.Summary())
	}
}

func TestScanSecretsCancelled(t *testing.T) {
	path, _ := plantedDump(t)
	s := openSession(t, path, Options{Offline: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := s.ScanSecrets(ctx, false, nil)
	if err == nil || rep == nil || rep.Complete {
		t.Fatalf("cancelled scan: err %v, report %+v", err, rep)
	}
}

// TestScanSecretsRealDumps runs the scan over the sample and corpus dumps
// of every kind with memory: it must finish without error, having read
// something. Kernel dumps are scanned in physical memory.
func TestScanSecretsRealDumps(t *testing.T) {
	scan := func(t *testing.T, path string, physical bool) {
		s := openSession(t, path, Options{Offline: true})
		rep, err := s.ScanSecrets(context.Background(), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Complete || rep.Scanned == 0 || rep.Physical != physical {
			t.Errorf("complete %v, scanned %d, physical %v (%s); notes %q", rep.Complete, rep.Scanned, rep.Physical, rep.Space, rep.Notes)
		}
		t.Logf("%d bytes of %s, %d unreadable, %d found %v", rep.Scanned, rep.Space, rep.Unreadable, rep.Total, rep.Counts)
	}
	t.Run("sample.dmp", func(t *testing.T) { scan(t, fixture.Testdata(t, "sample/sample.dmp"), false) })
	for _, d := range []struct {
		path     string
		physical bool
	}{
		{"breakpad/minidump2.dmp", false},
		{"generated/windows-minidump/wine-MiniDumpNormal-exception.dmp", false},
		{"lldb/elf-core/linux-x86_64.core", false},
		{"generated/linux-core/core.crashc.sigsegv", false},
		{"rizin/dmp/triage_x64.dmp", false}, // a triage dump holds no physical pages
		{"memflow-lime/deb-x86_64-slice.lime", true},
		{"generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump", true},
	} {
		t.Run(filepath.Base(d.path), func(t *testing.T) { scan(t, fixture.Corpus(t, d.path), d.physical) })
	}
}

// TestScanSecretsKernelPhysical: a Windows full kernel dump is scanned in
// physical memory, where user processes' pages are too; a secret planted
// in physical page 2 is reported at its physical address.
func TestScanSecretsKernelPhysical(t *testing.T) {
	c := secretstest.Secrets()[0] // the PEM key
	page := make([]byte, kdmptest.PageSize)
	p := secretstest.Plant(page, 2*kdmptest.PageSize, 0x100, c, secrets.ASCII)
	// A full dump stores its runs' pages after the 0x2000-byte header:
	// pages 1 and 2 of the default runs, so page 2 at 0x3000.
	b, err := kdmptest.New().Patch(0x3000, page).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	s := openSession(t, writeTemp(t, "full.dmp", b), Options{Offline: true})
	rep, err := s.ScanSecrets(context.Background(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Physical || rep.Space != "physical memory" || rep.Scanned != 3*kdmptest.PageSize {
		t.Errorf("space %q physical %v, scanned %d", rep.Space, rep.Physical, rep.Scanned)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Addr != p.Addr || rep.Findings[0].Kind != secrets.PrivateKey || rep.Findings[0].Module != "" {
		t.Errorf("findings %+v, want the key at %#x", rep.Findings, p.Addr)
	}
}
