package vmcoretest

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// The offsets below are the C layouts as crash's diskdump.c tabulates them
// (and as a C compiler lays out diskdump_mod.h); they check the builder's
// sequential encoding against an independent statement of the spec.

func TestKdumpLayouts(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	for _, tc := range []struct {
		name            string
		k               *Kdump
		order           binary.ByteOrder
		timeval, status int // in disk_dump_header
		nrCPUs          int
		offVmcoreinfo   int // in kdump_sub_header
		offNote         int
		maxMapnr64      int
	}{
		{"lp64", NewKdump(le), le, 408, 424, 460, 32, 48, 96},
		{"lp64-be", NewKdump(be).Machine("s390x"), be, 408, 424, 460, 32, 48, 96},
		{"i386", NewKdump(le).Word(4).Machine("i686"), le, 404, 412, 448, 20, 32, 72},
		{"arm", NewKdump(le).Word(4).Machine("armv7l"), le, 404, 412, 448, 24, 40, 88},
		{"arm-time64", NewKdump(le).Word(4).Machine("armv7l").Time64(), le, 408, 424, 460, 24, 40, 88},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.k.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			o := tc.order
			if string(b[:8]) != "KDUMP   " || o.Uint32(b[8:]) != 6 {
				t.Fatalf("signature/version: %q %d", b[:8], o.Uint32(b[8:]))
			}
			if got := string(bytes.TrimRight(b[12+2*65:12+3*65], "\x00")); got != DefaultRelease {
				t.Errorf("utsname.release = %q", got)
			}
			if got := int64(o.Uint32(b[tc.timeval:])); tc.timeval == 408 && int64(o.Uint64(b[408:])) != DefaultCrashTime || tc.timeval == 404 && got != DefaultCrashTime {
				t.Errorf("tv_sec at %d wrong", tc.timeval)
			}
			if o.Uint32(b[tc.status:]) != CompressedZlib || o.Uint32(b[tc.status+4:]) != 4096 {
				t.Errorf("status/block_size at %d: %#x %d", tc.status, o.Uint32(b[tc.status:]), o.Uint32(b[tc.status+4:]))
			}
			if o.Uint32(b[tc.nrCPUs:]) != DefaultCPUs {
				t.Errorf("nr_cpus at %d = %d", tc.nrCPUs, o.Uint32(b[tc.nrCPUs:]))
			}
			sub := b[4096:]
			vi := o.Uint64(sub[tc.offVmcoreinfo:])
			if !bytes.HasPrefix(b[vi:], []byte("OSRELEASE="+DefaultRelease+"\n")) {
				t.Errorf("offset_vmcoreinfo at +%d = %#x does not point at the text", tc.offVmcoreinfo, vi)
			}
			note := o.Uint64(sub[tc.offNote:])
			if o.Uint32(b[note:]) != 5 || string(b[note+12:note+16]) != "CORE" {
				t.Errorf("offset_note at +%d = %#x does not point at a CORE note", tc.offNote, note)
			}
			if o.Uint64(sub[tc.maxMapnr64:]) != 256 {
				t.Errorf("max_mapnr_64 at +%d = %d", tc.maxMapnr64, o.Uint64(sub[tc.maxMapnr64:]))
			}
			// sub_hdr_size blocks after the header, two one-block bitmaps:
			// all 256 pfns are RAM; 0-15 and 32-47 were dumped.
			subBlocks := int(o.Uint32(b[tc.status+8:]))
			bm := 4096 * (1 + subBlocks)
			if o.Uint32(b[tc.status+12:]) != 2 || b[bm] != 0xff || b[bm+31] != 0xff || b[bm+32] != 0 {
				t.Errorf("first bitmap wrong")
			}
			d := b[bm+4096:]
			if !bytes.Equal(d[:8], []byte{0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0}) {
				t.Errorf("second bitmap = % x", d[:8])
			}
			// One page_desc per dumped page, then the data.
			pd := bm + 2*4096
			first := o.Uint64(b[pd:])
			if first != uint64(pd+32*24) {
				t.Errorf("first page_desc points at %#x, want %#x", first, pd+32*24)
			}
		})
	}
}

func TestFlatLayout(t *testing.T) {
	inner := []byte("KDUMP   and some more bytes")
	b, err := FlattenBytes(inner).RecordSize(10).Order(Reverse).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	be := binary.BigEndian
	if string(b[:16]) != "makedumpfile\x00\x00\x00\x00" || be.Uint64(b[16:]) != 1 || be.Uint64(b[24:]) != 1 || len(b) < 4096 {
		t.Fatalf("header % x", b[:32])
	}
	out := make([]byte, len(inner))
	p := 4096
	records := 0
	for {
		off, n := int64(be.Uint64(b[p:])), int64(be.Uint64(b[p+8:]))
		p += 16
		if off == -1 && n == -1 {
			break
		}
		if records == 0 && off != 20 {
			t.Errorf("first record at offset %d; Reverse writes the last first", off)
		}
		copy(out[off:], b[p:p+int(n)])
		p += int(n)
		records++
	}
	if records != 3 || p != len(b) || !bytes.Equal(out, inner) {
		t.Errorf("%d records, end %d of %d, rearranged %q", records, p, len(b), out)
	}
}

func TestELFLayout(t *testing.T) {
	for _, tc := range []struct {
		e     *ELF
		order binary.ByteOrder
		phoff int
		phent int
	}{
		{NewELF(binary.LittleEndian), binary.LittleEndian, 64, 56},
		{NewELF(binary.BigEndian).Class(32), binary.BigEndian, 52, 32},
	} {
		b, err := tc.e.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		o := tc.order
		if o.Uint16(b[16:]) != ET_CORE || o.Uint16(b[18:]) != EM_X86_64 {
			t.Errorf("e_type/e_machine")
		}
		phentsize, phnum := o.Uint16(b[tc.phoff-10:]), o.Uint16(b[tc.phoff-8:])
		if int(phentsize) != tc.phent || phnum != 3 {
			t.Errorf("phentsize %d phnum %d", phentsize, phnum)
		}
		if o.Uint32(b[tc.phoff:]) != PT_NOTE || o.Uint32(b[tc.phoff+tc.phent:]) != PT_LOAD {
			t.Errorf("program header types")
		}
	}
}

func TestScenariosBuild(t *testing.T) {
	for name, mk := range Scenarios() {
		if _, err := mk().Bytes(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if r, n := ReaderAt(NewKdump(binary.LittleEndian)); r == nil || n == 0 {
		t.Error("ReaderAt")
	}
}

func TestVMCOREINFO(t *testing.T) {
	v := DefaultVMCOREINFO().Set("PAGESIZE", "65536").Delete("CRASHTIME").Set("NEW", "1")
	got := string(v.Text())
	if !bytes.HasPrefix([]byte(got), []byte("OSRELEASE=")) || !bytes.Contains([]byte(got), []byte("\nPAGESIZE=65536\n")) ||
		bytes.Contains([]byte(got), []byte("CRASHTIME")) || !bytes.HasSuffix([]byte(got), []byte("NEW=1\n")) {
		t.Errorf("text %q", got)
	}
	if string(DefaultVMCOREINFO().Text()) == got {
		t.Error("Set mutated the default")
	}
}
