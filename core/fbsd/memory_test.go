package fbsd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/fbsd"
	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

type memCase struct {
	arch    string
	version uint32
	k16     bool
}

var memCases = []memCase{
	{fbsdtest.AMD64, 3, false}, {fbsdtest.AMD64, 2, false}, {fbsdtest.AMD64, 1, false},
	{fbsdtest.ARM64, 3, false}, {fbsdtest.ARM64, 3, true}, {fbsdtest.ARM64, 2, false}, {fbsdtest.ARM64, 1, false},
}

func (c memCase) String() string { return fmt.Sprintf("%s-v%d-16k=%v", c.arch, c.version, c.k16) }

func wantFault(t *testing.T, s mem.Space, addr uint64, kind mem.FaultKind, level string) {
	t.Helper()
	p := make([]byte, 16)
	n, err := s.ReadMemory(p, addr)
	var fe *mem.FaultError
	if n != 0 || !errors.As(err, &fe) || fe.Kind != kind || fe.Addr != addr || fe.Level != level {
		t.Errorf("%s %#x: read %d, %v; want a %v fault (level %q)", s.Name(), addr, n, err, kind, level)
	}
}

func readAt(t *testing.T, s mem.Space, addr uint64, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	if err := mem.ReadFull(s, p, addr); err != nil {
		t.Errorf("%s %#x: %v", s.Name(), addr, err)
	}
	return p
}

// TestMemory reads every dumped page back physically, through the direct
// map and through the kernel map, and checks the holes.
func TestMemory(t *testing.T) {
	t.Parallel()
	for _, c := range memCases {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			b, l := fbsdtest.Memory(c.arch, c.version, c.k16)
			f := open(t, b)
			phys, err := f.PhysicalMemory()
			if err != nil {
				t.Fatal(err)
			}
			kern, err := f.KernelMemory()
			if err != nil {
				t.Fatal(err)
			}
			ps := uint64(l.PageSize)
			for pa, data := range l.Phys {
				if got := readAt(t, phys, pa, len(data)); !bytes.Equal(got, data) {
					t.Errorf("physical %#x: got %q...", pa, got[:24])
				}
				if got := readAt(t, kern, l.DMapBase+pa-l.DMapPhys, len(data)); !bytes.Equal(got, data) {
					t.Errorf("direct map of %#x: got %q...", pa, got[:24])
				}
			}
			for _, pa := range l.PhysHoles {
				wantFault(t, phys, pa, mem.NotInDump, "")
				if pa >= l.DMapPhys {
					wantFault(t, kern, l.DMapBase+pa-l.DMapPhys, mem.NotInDump, "")
				}
			}
			for va, pa := range l.Kernel {
				if got := readAt(t, kern, va, int(ps)); !bytes.Equal(got, l.Phys[pa]) {
					t.Errorf("kernel %#x (-> %#x): got %q...", va, pa, got[:24])
				}
				// An unaligned read inside the page.
				if got := readAt(t, kern, va+5, 7); !bytes.Equal(got, l.Phys[pa][5:12]) {
					t.Errorf("kernel %#x+5: got %q", va, got)
				}
			}
			for va, level := range l.NotPresent {
				wantFault(t, kern, va, mem.NotPresent, level)
			}
			for _, va := range l.NotInDump {
				p := make([]byte, 8)
				if _, err := kern.ReadMemory(p, va); !errors.Is(err, mem.ErrNotInDump) {
					t.Errorf("kernel %#x: %v, want not in dump", va, err)
				}
			}
			for _, va := range l.Unmapped {
				wantFault(t, kern, va, mem.Unmapped, "")
			}
			// A read across the end of a mapped kernel page into an invalid
			// one stops exactly at the boundary.
			kb := slices.Min(slices.Collect(mapsKeys(l.Kernel)))
			p := make([]byte, 3*ps)
			n, err := kern.ReadMemory(p, kb+ps-4)
			if n != int(4+ps) || err == nil {
				t.Errorf("read across pages: %d, %v; want %d and a fault", n, err, 4+ps)
			}
			// Ranges: one per run, covering exactly the dumped pages.
			rs, err := f.Ranges()
			if err != nil {
				t.Fatal(err)
			}
			var total uint64
			for i, r := range rs {
				if !r.Physical || r.FileOff <= 0 || r.Size%ps != 0 {
					t.Errorf("range %d: %+v", i, r)
				}
				for off := uint64(0); off < r.Size; off += ps {
					if got := readAt(t, phys, r.Start+off, int(ps)); !bytes.Equal(got, l.Phys[r.Start+off]) {
						t.Errorf("range %d page %#x mismatch", i, r.Start+off)
					}
				}
				total += r.Size
			}
			if total != uint64(len(l.Phys))*ps {
				t.Errorf("ranges cover %#x bytes, want %d pages", total, len(l.Phys))
			}
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics: %+v", d)
			}
			// Log.
			text, err := f.MessageBuffer()
			if err != nil || text != l.Log {
				t.Errorf("MessageBuffer = %q, %v", text, err)
			}
			lines, _ := f.Log()
			if len(lines) != 7 || lines[1] != "em0: link state changed to UP" || lines[6] != "Dumping 3 out of 1024 MB:" {
				t.Errorf("Log = %q", lines)
			}
			if got := f.PanicString(); got != l.Panic {
				t.Errorf("PanicString = %q, want %q", got, l.Panic)
			}
		})
	}
}

func mapsKeys(m map[uint64]uint64) func(func(uint64) bool) {
	return func(yield func(uint64) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDefaultRanges checks the bitmap the default builder writes (bits 0, 1
// and 160) against the pages dump_avail[] numbers, worked out by hand.
func TestDefaultRanges(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		b    *fbsdtest.Builder
		want []model.Range
	}{
		// dump_avail {0x1000-0x9f000, 0x100000-0x8000000}: bits 0-157 are
		// pages 0x1000-0x9e000, bit 160 is the third page of 0x100000.
		"amd64-v3": {fbsdtest.New(fbsdtest.AMD64), []model.Range{{Start: 0x1000, Size: 0x2000, FileOff: 0x5000, Physical: true}, {Start: 0x102000, Size: 0x1000, FileOff: 0x7000, Physical: true}}},
		"arm64-v2": {fbsdtest.New(fbsdtest.ARM64).Version(2), []model.Range{{Start: 0x1000, Size: 0x2000, FileOff: 0x5000, Physical: true}, {Start: 0x102000, Size: 0x1000, FileOff: 0x7000, Physical: true}}},
		// No dump_avail: bit n is page n.
		"amd64-v2": {fbsdtest.New(fbsdtest.AMD64).Version(2), []model.Range{{Start: 0, Size: 0x2000, FileOff: 0x4000, Physical: true}, {Start: 0xa0000, Size: 0x1000, FileOff: 0x6000, Physical: true}}},
		// 16 KiB pages: range 0 is pages 0-39, so bit 160 is page
		// 0x100000/16K + 120 = 184.
		"arm64-16k": {fbsdtest.New(fbsdtest.ARM64).Flags(1), []model.Range{{Start: 0, Size: 0x8000, FileOff: 0x14000, Physical: true}, {Start: 184 * 0x4000, Size: 0x4000, FileOff: 0x1c000, Physical: true}}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t, tc.b)
			rs, err := f.Ranges()
			if err != nil || !slices.Equal(rs, tc.want) {
				t.Errorf("Ranges = %+v, %v\nwant %+v", rs, err, tc.want)
			}
			phys, err := f.PhysicalMemory()
			if err != nil {
				t.Fatal(err)
			}
			ps := tc.b.PageSize()
			n := 0
			for _, r := range rs {
				for off := uint64(0); off < r.Size; off += uint64(ps) {
					if got := readAt(t, phys, r.Start+off, ps); !bytes.Equal(got, fbsdtest.PageData(n, ps)) {
						t.Errorf("page %d at %#x: %q", n, r.Start+off, got[:20])
					}
					n++
				}
			}
		})
	}
}

func TestUnsupportedArches(t *testing.T) {
	t.Parallel()
	for _, a := range []string{fbsdtest.I386, fbsdtest.ARM, fbsdtest.RISCV, fbsdtest.PowerPC64, fbsdtest.MIPS} {
		f := open(t, fbsdtest.New(a))
		if _, err := f.PhysicalMemory(); !errors.Is(err, fbsd.ErrUnsupported) {
			t.Errorf("%s PhysicalMemory: %v", a, err)
		}
		if _, err := f.KernelMemory(); !errors.Is(err, fbsd.ErrUnsupported) {
			t.Errorf("%s KernelMemory: %v", a, err)
		}
		if r, err := f.Ranges(); r != nil || err != nil {
			t.Errorf("%s Ranges: %v, %v", a, r, err)
		}
		if got := f.PanicString(); got != "fbsdtest" {
			t.Errorf("%s PanicString = %q", a, got)
		}
	}
}

// TestMessageBufferOrder checks the ring-order rule on rings that wrapped.
func TestMessageBufferOrder(t *testing.T) {
	t.Parallel()
	var long strings.Builder
	for i := range 200 {
		fmt.Fprintf(&long, "line %03d\n", i)
	}
	long.WriteString("panic: wrapped\ncpuid = 0\n")
	marked := long.String() + "Dumping 1 out of 2 MB:"
	for name, tc := range map[string]struct {
		ring      string
		wantTail  string
		wantPanic string
	}{
		// The ring wrapped: its newest text is the dump message.
		"marker": {fbsdtest.MsgBufRing(marked, 1000), "cpuid = 0\nDumping 1 out of 2 MB:", "wrapped"},
		// The marker itself wraps around the end of the ring.
		"marker-split": {fbsdtest.MsgBufRing(marked, len(marked)-10), "cpuid = 0\nDumping 1 out of 2 MB:", "wrapped"},
		// No marker, no NULs: storage order.
		"no-marker": {fbsdtest.MsgBufRing(long.String(), len(long.String())), "cpuid = 0\n", "wrapped"},
		"empty":     {strings.Repeat("\x00", 64), "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t, fbsdtest.New(fbsdtest.AMD64).MsgBuf(tc.ring))
			text, err := f.MessageBuffer()
			if err != nil || !strings.HasSuffix(text, tc.wantTail) || strings.Contains(text, "\x00") {
				t.Errorf("MessageBuffer = …%q, %v; want suffix %q", text[max(0, len(text)-60):], err, tc.wantTail)
			}
			if got := f.PanicString(); got != tc.wantPanic {
				t.Errorf("PanicString = %q, want %q", got, tc.wantPanic)
			}
		})
	}
}

// TestMemoryDamage: truncated and corrupt dumps give clear errors or
// diagnostics and faults, never panics.
func TestMemoryDamage(t *testing.T) {
	t.Parallel()
	b, l := fbsdtest.Memory(fbsdtest.AMD64, 3, false)
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	const pagesOff = 0x5000 // header, msgbuf, dump_avail, bitmap, pmap
	t.Run("truncated-pages", func(t *testing.T) {
		t.Parallel()
		cut := raw[:pagesOff+2*0x1000+100]
		f, err := fbsd.NewFile(bytes.NewReader(cut), int64(len(cut)))
		if err != nil {
			t.Fatal(err)
		}
		phys, err := f.PhysicalMemory()
		if err != nil {
			t.Fatal(err)
		}
		// The first two pages in bitmap order survive (0x1000, 0x2000).
		readAt(t, phys, 0x1000, 0x2000)
		wantFault(t, phys, 0x100000, mem.NotInDump, "")
		if !slices.ContainsFunc(f.Diagnostics(), func(d model.Diagnostic) bool { return strings.Contains(d.Msg, "past the end of the file") }) {
			t.Errorf("no truncation diagnostic: %+v", f.Diagnostics())
		}
	})
	t.Run("truncated-msgbuf", func(t *testing.T) {
		t.Parallel()
		cut := raw[:0x1000+20]
		f, err := fbsd.NewFile(bytes.NewReader(cut), int64(len(cut)))
		if err != nil {
			t.Fatal(err)
		}
		text, err := f.MessageBuffer()
		if !errors.Is(err, io.ErrUnexpectedEOF) || text != l.Log[:20] {
			t.Errorf("MessageBuffer = %q, %v", text, err)
		}
		if _, err := f.PhysicalMemory(); err != nil {
			t.Errorf("PhysicalMemory on a header-only dump: %v", err)
		}
		k, err := f.KernelMemory()
		if err != nil {
			t.Fatal(err)
		}
		wantFault(t, k, 0xffffffff80000000, mem.OutsideFile, "PDE")
	})
	t.Run("bad-dump-avail", func(t *testing.T) {
		t.Parallel()
		// dump_avail[1] < dump_avail[0].
		f := open(t, fbsdtest.New(fbsdtest.AMD64).DumpAvail(0x9000, 0x1000))
		if _, err := f.PhysicalMemory(); err != nil {
			t.Fatal(err)
		}
		if len(f.Diagnostics()) == 0 {
			t.Error("no diagnostic for a reversed dump_avail range")
		}
	})
	t.Run("huge-sizes", func(t *testing.T) {
		t.Parallel()
		f := open(t, fbsdtest.New(fbsdtest.ARM64).SizeOverride("bitmapsize", 0xfffffff0).SizeOverride("pmapsize", 0xfffffff0).SizeOverride("msgbufsize", 0xfffffff0))
		if _, err := f.PhysicalMemory(); err != nil {
			t.Fatal(err)
		}
		k, err := f.KernelMemory()
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 8)
		if _, err := k.ReadMemory(p, 0xffff000000000000+1<<40); err == nil {
			t.Error("read through a page-table section past the file succeeded")
		}
		if _, err := f.MessageBuffer(); err == nil {
			t.Error("no error for a message buffer past the end of the file")
		}
	})
}
