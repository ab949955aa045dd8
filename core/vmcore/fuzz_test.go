package vmcore_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

func FuzzNewFile(f *testing.F) {
	names := slices.Sorted(maps.Keys(vmcoretest.Scenarios()))
	for _, name := range names {
		b, err := vmcoretest.Scenarios()[name]().Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	le := binary.LittleEndian
	for _, d := range []vmcoretest.Dump{
		vmcoretest.NewKdump(le).Truncate(6000),
		vmcoretest.NewKdump(le).SizeVmcoreinfo(1 << 40).Status(vmcoretest.Incomplete),
		vmcoretest.NewKdump(le).Word(4).Machine("frob"),
		vmcoretest.NewELF(le).Truncate(900),
		vmcoretest.NewELF(le).NoVMCOREINFO(),
		vmcoretest.ProcessCore(le),
		vmcoretest.Flatten(vmcoretest.NewKdump(le)).RecordSize(64).NoEndMarker(),
	} {
		b, err := d.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Real dumps from the corpus (their first 64 KiB), when it is there.
	for _, b := range fixture.CorpusSeeds(f, 64<<10, "KDUMP   ", "makedumpfile", "\x7fELF") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, size := bytes.NewReader(b), int64(len(b))
		_ = vmcore.ProbeELF(r, size)
		_ = vmcore.ProbeCompressed(r, size)
		file, err := vmcore.NewFile(r, size)
		if err != nil {
			var fe *vmcore.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured error %T: %v", err, err)
			}
			return
		}
		_ = file.Info()
		_ = file.Diagnostics()
		_, _ = file.VMCOREINFO()
		rs, err := file.Ranges()
		if err != nil {
			var fe *vmcore.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("unstructured Ranges error %T: %v", err, err)
			}
		}
		if len(rs) > len(b) {
			t.Fatalf("%d ranges from %d bytes", len(rs), len(b))
		}
		// Read a page at the start of each range (and one past it): a
		// corrupt page or descriptor faults, never panics.
		if phys, err := file.PhysicalMemory(); err == nil {
			buf := make([]byte, 4096)
			for i, r := range rs {
				if i == 16 {
					break
				}
				phys.ReadMemory(buf, r.Start)
				phys.ReadMemory(buf[:8], r.Start+r.Size)
			}
		}
		_ = file.Diagnostics()
	})
}

func FuzzVMCOREINFO(f *testing.F) {
	f.Add(vmcoretest.DefaultVMCOREINFO().Text())
	f.Add([]byte("OSRELEASE=6.1.0\r\nA=1\nA=2\n=x\njunk\nB=a=b\x00C=3"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m := vmcore.ParseVMCOREINFO(b)
		if len(m) > len(b)/2+1 {
			t.Fatalf("%d entries from %d bytes", len(m), len(b))
		}
		var sb strings.Builder
		for _, k := range slices.Sorted(maps.Keys(m)) {
			v := m[k]
			if k == "" || strings.ContainsAny(k, "=\n\x00") || strings.ContainsAny(v, "\n\x00") {
				t.Fatalf("bad entry %q=%q", k, v)
			}
			if strings.HasSuffix(v, "\r") {
				t.Fatalf("value %q keeps the CR", v)
			}
			sb.WriteString(k + "=" + v + "\n")
		}
		// Rendering the entries and parsing again is the identity.
		if again := vmcore.ParseVMCOREINFO([]byte(sb.String())); !maps.Equal(again, m) {
			t.Fatalf("round trip: %v != %v", again, m)
		}
	})
}
