package vmcore_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

func build(t *testing.T, d vmcoretest.Dump) []byte {
	t.Helper()
	b, err := d.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func open(t *testing.T, d vmcoretest.Dump) *vmcore.File {
	t.Helper()
	b := build(t, d)
	f, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f
}

// openErr expects NewFile to fail with a *FormatError.
func openErr(t *testing.T, d vmcoretest.Dump) *vmcore.FormatError {
	t.Helper()
	b := build(t, d)
	f, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
	if err == nil {
		t.Fatalf("NewFile succeeded: %+v", f.Info())
	}
	var fe *vmcore.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %T is not a *FormatError: %v", err, err)
	}
	return fe
}

func noDiags(t *testing.T, f *vmcore.File) {
	t.Helper()
	for _, d := range f.Diagnostics() {
		t.Errorf("unexpected diagnostic: %+v", d)
	}
}

// hasDiag reports whether some diagnostic of severity sev mentions all words.
func hasDiag(f *vmcore.File, sev model.Severity, words ...string) bool {
	for _, d := range f.Diagnostics() {
		if d.Severity != sev {
			continue
		}
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

func detail(info model.Info, key string) string {
	for _, d := range info.Details {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

// kdumpRanges is what the builder's dumpable pfns should come out as.
func kdumpRanges(k *vmcoretest.Kdump, pageSize uint64) []model.Range {
	var rs []model.Range
	for _, p := range k.DumpablePFNs() {
		if n := len(rs); n > 0 && rs[n-1].Start+rs[n-1].Size == p*pageSize {
			rs[n-1].Size += pageSize
			continue
		}
		rs = append(rs, model.Range{Start: p * pageSize, Size: pageSize, FileOff: -1, Physical: true, Label: "dumpable pages"})
	}
	return rs
}

func TestScenarios(t *testing.T) {
	for name, mk := range vmcoretest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := mk()
			b := build(t, d)
			r, size := bytes.NewReader(b), int64(len(b))
			f, err := vmcore.NewFile(r, size)
			if err != nil {
				t.Fatal(err)
			}
			noDiags(t, f)
			info := f.Info()
			if info.Format != model.LinuxVMCore || info.OS.Family != model.Linux || info.Arch == "" || info.CPUs != vmcoretest.DefaultCPUs {
				t.Errorf("info = %+v", info)
			}
			rs, err := f.Ranges()
			if err != nil || len(rs) == 0 {
				t.Fatalf("Ranges = %v, %v", rs, err)
			}
			noDiags(t, f)
			switch {
			case strings.HasPrefix(name, "elf-"):
				if info.Variant != "elf" || !vmcore.ProbeELF(r, size) || vmcore.ProbeCompressed(r, size) {
					t.Errorf("variant %q, probes wrong", info.Variant)
				}
			case strings.HasPrefix(name, "kdump-"):
				if info.Variant != "kdump-compressed" || vmcore.ProbeELF(r, size) || !vmcore.ProbeCompressed(r, size) {
					t.Errorf("variant %q, probes wrong", info.Variant)
				}
				k := d.(*vmcoretest.Kdump)
				bs := map[string]uint64{"kdump-ppc64": 65536, "kdump-small-blocks": 512}[name]
				if bs == 0 {
					bs = 4096
				}
				if want := kdumpRanges(k, bs); !slices.Equal(rs, want) {
					t.Errorf("ranges = %+v, want %+v", rs, want)
				}
				if info.OS.Release != vmcoretest.DefaultRelease || info.OS.Build != vmcoretest.DefaultVersion {
					t.Errorf("OS = %+v", info.OS)
				}
				if !info.Time.Equal(time.Unix(vmcoretest.DefaultCrashTime, 0)) {
					t.Errorf("time = %v", info.Time)
				}
			case strings.HasPrefix(name, "flattened-"):
				if info.Variant != "flattened" || !vmcore.ProbeCompressed(r, size) {
					t.Errorf("variant %q, probes wrong", info.Variant)
				}
			}
		})
	}
}

func TestKdumpDefault(t *testing.T) {
	k := vmcoretest.NewKdump(le)
	f := open(t, k)
	noDiags(t, f)
	info := f.Info()
	want := model.Info{
		Format:      model.LinuxVMCore,
		Variant:     "kdump-compressed",
		Compression: "zlib",
		OS:          model.OS{Family: model.Linux, Version: "6.1.0", Build: vmcoretest.DefaultVersion, Release: vmcoretest.DefaultRelease},
		Arch:        model.AMD64,
		CPUs:        2,
		Time:        time.Unix(vmcoretest.DefaultCrashTime, 0).UTC(),
		Crash:       &model.Crash{Kind: model.Panic},
		Threads:     -1,
		Modules:     -1,
	}
	got := info
	got.Details = nil
	if got.Crash == nil || got.Crash.Kind != model.Panic || got.Crash.Message != "" {
		t.Errorf("crash = %+v", got.Crash)
	}
	got.Crash, want.Crash = nil, nil
	if !got.Time.Equal(want.Time) {
		t.Errorf("time = %v", got.Time)
	}
	got.Time, want.Time = time.Time{}, time.Time{}
	if got.OS != want.OS || got.Format != want.Format || got.Variant != want.Variant || got.Compression != want.Compression ||
		got.Arch != want.Arch || got.CPUs != want.CPUs || got.Threads != -1 || got.Modules != -1 {
		t.Errorf("info = %+v\nwant %+v", got, want)
	}
	for k, v := range map[string]string{
		"dump_level":             "31",
		"block_size":             "4096",
		"max_mapnr":              "256",
		"header_version":         "6",
		"PAGESIZE":               "4096",
		"KERNELOFFSET":           "0",
		"SYMBOL(swapper_pg_dir)": "ffffffff82a10000",
		"NUMBER(phys_base)":      "0",
		"nodename":               "testhost",
		"status":                 "0x1 (DUMP_DH_COMPRESSED_ZLIB)",
	} {
		if g := detail(info, k); g != v {
			t.Errorf("detail %s = %q, want %q", k, g, v)
		}
	}
	vi, err := f.VMCOREINFO()
	if err != nil || vi["OSRELEASE"] != vmcoretest.DefaultRelease {
		t.Errorf("VMCOREINFO = %v, %v", vi, err)
	}
	vi["OSRELEASE"] = "mutated"
	if vi2, _ := f.VMCOREINFO(); vi2["OSRELEASE"] != vmcoretest.DefaultRelease {
		t.Error("VMCOREINFO returned the memoised map itself")
	}
	i2 := f.Info()
	i2.Details[0].Value = "mutated"
	if f.Info().Details[0].Value == "mutated" {
		t.Error("Info shares its Details slice")
	}
}

func TestKdumpStatus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status uint32
		comp   string
		sev    model.Severity
		words  []string // a diagnostic that must be present; nil: none at all
	}{
		{"none", 0, "", 0, nil},
		{"zlib", vmcoretest.CompressedZlib, "zlib", 0, nil},
		{"lzo", vmcoretest.CompressedLZO, "lzo", 0, nil},
		{"snappy", vmcoretest.CompressedSnappy, "snappy", 0, nil},
		{"zstd", vmcoretest.CompressedZstd, "zstd", 0, nil},
		{"vmemmap", vmcoretest.CompressedZstd | vmcoretest.ExcludedVmemmap, "zstd", 0, nil},
		{"incomplete", vmcoretest.CompressedZlib | vmcoretest.Incomplete, "zlib", model.Warning, []string{"dump is incomplete"}},
		{"two", vmcoretest.CompressedLZO | vmcoretest.CompressedZstd, "lzo", model.Warning, []string{"lzo", "zstd"}},
		{"unknown", vmcoretest.CompressedZlib | 0x400, "zlib", model.Note, []string{"0x400"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, vmcoretest.NewKdump(le).Status(tc.status))
			if got := f.Info().Compression; got != tc.comp {
				t.Errorf("compression = %q, want %q", got, tc.comp)
			}
			if tc.words == nil {
				noDiags(t, f)
			} else if !hasDiag(f, tc.sev, tc.words...) {
				t.Errorf("no %v diagnostic with %q: %+v", tc.sev, tc.words, f.Diagnostics())
			}
		})
	}
}

func TestKdumpArch(t *testing.T) {
	for _, tc := range []struct {
		machine string
		word    int
		order   vmcoretestOrder
		want    model.Arch
	}{
		{"x86_64", 8, le, model.AMD64},
		{"i686", 4, le, model.X86},
		{"i386", 4, le, model.X86},
		{"aarch64", 8, le, model.ARM64},
		{"armv7l", 4, le, model.ARM},
		{"ppc64le", 8, le, model.PPC64LE},
		{"ppc64", 8, be, model.PPC64},
		{"s390x", 8, be, model.S390X},
		{"riscv64", 8, le, model.RISCV64},
		{"loongarch64", 8, le, model.LoongArch},
		{"mips64", 8, be, model.MIPS64},
		{"mips", 4, le, model.MIPS},
		{"sparc64", 8, be, model.SPARC64},
	} {
		t.Run(tc.machine, func(t *testing.T) {
			f := open(t, vmcoretest.NewKdump(tc.order).Word(tc.word).Machine(tc.machine))
			noDiags(t, f)
			info := f.Info()
			if info.Arch != tc.want || info.OS.Release != vmcoretest.DefaultRelease || info.CPUs != 2 || detail(info, "dump_level") != "31" {
				t.Errorf("info = %+v", info)
			}
			if vi, err := f.VMCOREINFO(); err != nil || vi["PAGESIZE"] != "4096" {
				t.Errorf("VMCOREINFO through the %d-bit sub-header: %v %v", tc.word*8, vi, err)
			}
			if rs, err := f.Ranges(); err != nil || len(rs) != 2 {
				t.Errorf("ranges %+v %v", rs, err)
			}
		})
	}
}

// vmcoretestOrder is the byte-order type the builders take.
type vmcoretestOrder = interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// An unknown machine name leaves the layout to the header's own fields.
func TestKdumpUnknownMachine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		word  int
		order vmcoretestOrder
	}{
		{"64le", 8, le}, {"64be", 8, be}, {"32le", 4, le}, {"32be", 4, be},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, vmcoretest.NewKdump(tc.order).Word(tc.word).Machine("frob9000"))
			info := f.Info()
			if info.Arch != "" || info.CPUs != 2 || info.OS.Release != vmcoretest.DefaultRelease || !info.Time.Equal(time.Unix(vmcoretest.DefaultCrashTime, 0)) {
				t.Errorf("info = %+v", info)
			}
			if !hasDiag(f, model.Note, "frob9000") {
				t.Errorf("no note about the machine: %+v", f.Diagnostics())
			}
			if vi, err := f.VMCOREINFO(); err != nil || vi["OSRELEASE"] != vmcoretest.DefaultRelease {
				t.Errorf("VMCOREINFO: %v", err)
			}
		})
	}
}

func TestKdumpVersions(t *testing.T) {
	for v := int32(1); v <= 6; v++ {
		f := open(t, vmcoretest.NewKdump(le).Version(v))
		noDiags(t, f)
		info := f.Info()
		_, err := f.VMCOREINFO()
		if v < 3 {
			if !errors.Is(err, vmcore.ErrNoVMCOREINFO) {
				t.Errorf("v%d: VMCOREINFO err = %v", v, err)
			}
			if info.Crash != nil {
				t.Errorf("v%d: crash without CRASHTIME", v)
			}
		} else if err != nil || info.Crash == nil {
			t.Errorf("v%d: VMCOREINFO err = %v, crash %v", v, err, info.Crash)
		}
		if info.CPUs != 2 || info.OS.Release != vmcoretest.DefaultRelease {
			t.Errorf("v%d: info = %+v", v, info)
		}
	}
	f := open(t, vmcoretest.NewKdump(le).Version(7))
	if !hasDiag(f, model.Note, "header_version 7") {
		t.Errorf("v7: %+v", f.Diagnostics())
	}
}

func TestKdumpSplit(t *testing.T) {
	f := open(t, vmcoretest.NewKdump(le).Split(vmcoretest.PFNRange{Start: 0x10, End: 0x80}))
	if got := detail(f.Info(), "split"); got != "pfn 0x10-0x80" {
		t.Errorf("split = %q", got)
	}
}

// The dump needs only the sub-header's VMCOREINFO; without notes the CPU
// count still comes from nr_cpus, and nr_cpus damage falls back to notes.
func TestKdumpCPUs(t *testing.T) {
	f := open(t, vmcoretest.NewKdump(le).NoNotes())
	noDiags(t, f)
	if f.Info().CPUs != 2 {
		t.Errorf("CPUs = %d", f.Info().CPUs)
	}
	// nr_cpus sits at 460 in the LP64 header (after the 16-byte timeval at
	// 408 and nine 4-byte fields).
	f = open(t, vmcoretest.NewKdump(le).CPUs(3).Patch(460, []byte{0, 0, 0, 0}))
	if f.Info().CPUs != 3 || !hasDiag(f, model.Warning, "nr_cpus") {
		t.Errorf("CPUs = %d, diags %+v", f.Info().CPUs, f.Diagnostics())
	}
}

func TestKdumpTimestamp(t *testing.T) {
	f := open(t, vmcoretest.NewKdump(le).Timestamp(1600000000, 250000))
	if want := time.Unix(1600000000, 250000000); !f.Info().Time.Equal(want) {
		t.Errorf("time = %v, want %v", f.Info().Time, want)
	}
	f = open(t, vmcoretest.NewKdump(le).Timestamp(0, 0))
	if want := time.Unix(vmcoretest.DefaultCrashTime, 0); !f.Info().Time.Equal(want) {
		t.Errorf("time = %v, want CRASHTIME %v", f.Info().Time, want)
	}
	f = open(t, vmcoretest.NewKdump(le).Timestamp(0, 0).Set("CRASHTIME", "junk"))
	if !f.Info().Time.IsZero() || f.Info().Crash != nil {
		t.Errorf("time = %v crash %v", f.Info().Time, f.Info().Crash)
	}
}

func TestKdumpReleaseFallback(t *testing.T) {
	u := vmcoretest.Utsname{Sysname: "Linux", Machine: "x86_64"}
	f := open(t, vmcoretest.NewKdump(le).Utsname(u))
	if got := f.Info().OS.Release; got != vmcoretest.DefaultRelease {
		t.Errorf("release = %q, want VMCOREINFO OSRELEASE", got)
	}
	u.Release = "5.10.0"
	f = open(t, vmcoretest.NewKdump(le).Utsname(u))
	if got := f.Info().OS.Release; got != "5.10.0" || !hasDiag(f, model.Note, "OSRELEASE") {
		t.Errorf("release = %q, diags %+v", got, f.Diagnostics())
	}
}

func TestKdumpDamage(t *testing.T) {
	clean := build(t, vmcoretest.NewKdump(le))
	dataOff := 4096 * (1 + int(le.Uint32(clean[432:])) + int(le.Uint32(clean[436:])))

	t.Run("header truncated", func(t *testing.T) {
		fe := openErr(t, vmcoretest.NewKdump(le).Truncate(300))
		if !errors.Is(fe, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v", fe)
		}
	})
	t.Run("only the header", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).Truncate(4096))
		if f.Info().OS.Release != vmcoretest.DefaultRelease || f.Info().CPUs != 2 || !hasDiag(f, model.Error, "kdump_sub_header") {
			t.Errorf("info %+v diags %+v", f.Info(), f.Diagnostics())
		}
		if _, err := f.VMCOREINFO(); !errors.Is(err, vmcore.ErrNoVMCOREINFO) {
			t.Errorf("VMCOREINFO err = %v", err)
		}
		if _, err := f.Ranges(); err == nil {
			t.Error("Ranges without a bitmap succeeded")
		}
	})
	t.Run("bitmap cut", func(t *testing.T) {
		// The dumpable bitmap is the second of two one-block bitmaps; with
		// no page descriptors left, no page can be listed.
		f := open(t, vmcoretest.NewKdump(le).Truncate(dataOff-4096+2))
		if !hasDiag(f, model.Warning, "bitmap", "runs past the end") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		rs, err := f.Ranges()
		if err != nil || len(rs) != 0 || !hasDiag(f, model.Warning, "room for") {
			t.Errorf("ranges %+v %v diags %+v", rs, err, f.Diagnostics())
		}
	})
	t.Run("page descriptors cut", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).Truncate(dataOff+20*24))
		rs, err := f.Ranges()
		if err != nil || !hasDiag(f, model.Warning, "page descriptors") {
			t.Fatalf("ranges %+v %v diags %+v", rs, err, f.Diagnostics())
		}
		var pages uint64
		for _, r := range rs {
			pages += r.Size / 4096
		}
		if pages != 20 {
			t.Errorf("%d pages listed for room for 20 descriptors", pages)
		}
	})
	t.Run("vmcoreinfo size lies", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).SizeVmcoreinfo(1<<40))
		_, err := f.VMCOREINFO()
		var fe *vmcore.FormatError
		if !errors.As(err, &fe) || !hasDiag(f, model.Warning, "size_vmcoreinfo") {
			t.Errorf("VMCOREINFO err = %v, diags %+v", err, f.Diagnostics())
		}
		if f.Info().OS.Release != vmcoretest.DefaultRelease {
			t.Errorf("release %q", f.Info().OS.Release)
		}
		f = open(t, vmcoretest.NewKdump(le).SizeVmcoreinfo(uint64(len(clean))))
		if _, err := f.VMCOREINFO(); !errors.As(err, &fe) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("VMCOREINFO err = %v", err)
		}
	})
	t.Run("note size lies", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).SizeNote(1<<62))
		if !hasDiag(f, model.Warning, "size_note") || f.Info().CPUs != 2 {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
	t.Run("note offset lies", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).OffsetNote(1<<40))
		if !hasDiag(f, model.Warning, "ELF notes") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		f = open(t, vmcoretest.NewKdump(le).OffsetNote(-8))
		if !hasDiag(f, model.Warning, "ELF notes") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
	t.Run("no bitmap", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).BitmapBlocks(0))
		rs, err := f.Ranges()
		if len(rs) != 0 || !hasDiag(f, model.Warning, "bitmap_blocks is 0") {
			t.Errorf("ranges %+v %v diags %+v", rs, err, f.Diagnostics())
		}
	})
	t.Run("huge bitmap", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).BitmapBlocks(1<<31))
		if !hasDiag(f, model.Warning, "runs past the end") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		_, _ = f.Ranges() // must stay bounded: the reads fail at EOF
	})
	t.Run("huge max_mapnr", func(t *testing.T) {
		// max_mapnr_64 is the last field of the LP64 sub-header, at 96.
		huge := le.AppendUint64(nil, 1<<40)
		f := open(t, vmcoretest.NewKdump(le).Patch(4096+96, huge))
		if !hasDiag(f, model.Warning, "max_mapnr") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		if _, err := f.Ranges(); err != nil {
			t.Error(err)
		}
	})
	t.Run("negative sub_hdr_size", func(t *testing.T) {
		f := open(t, vmcoretest.NewKdump(le).SubHdrSize(-1))
		if !hasDiag(f, model.Error, "sub_hdr_size") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		_, err := f.Ranges()
		var fe *vmcore.FormatError
		if !errors.As(err, &fe) {
			t.Errorf("Ranges err = %v", err)
		}
	})
	t.Run("bad block_size", func(t *testing.T) {
		// block_size follows status at 424 in the LP64 header.
		f := open(t, vmcoretest.NewKdump(le).Patch(428, []byte{0xe8, 0x03, 0, 0}))
		if !hasDiag(f, model.Error, "block_size 1000") || f.Info().OS.Release != vmcoretest.DefaultRelease {
			t.Errorf("info %+v diags %+v", f.Info(), f.Diagnostics())
		}
		if _, err := f.Ranges(); err == nil {
			t.Error("Ranges succeeded")
		}
	})
}

func TestELFDefault(t *testing.T) {
	f := open(t, vmcoretest.NewELF(le))
	noDiags(t, f)
	info := f.Info()
	if info.Variant != "elf" || info.Arch != model.AMD64 || info.CPUs != 2 || info.OS.Release != vmcoretest.DefaultRelease ||
		info.Crash == nil || info.Crash.Kind != model.Panic || !info.Time.Equal(time.Unix(vmcoretest.DefaultCrashTime, 0)) ||
		info.Compression != "" || detail(info, "Detected by") != "VMCOREINFO note" {
		t.Errorf("info = %+v", info)
	}
	rs, err := f.Ranges()
	if err != nil || len(rs) != 2 {
		t.Fatalf("ranges %+v %v", rs, err)
	}
	b := build(t, vmcoretest.NewELF(le))
	for i, want := range []struct{ paddr, vaddr uint64 }{{0x1000000, 0xffffffff81000000}, {0, 0xffff888000000000}} {
		r := rs[i]
		if r.Start != want.paddr || r.Size != 0x1000 || !r.Physical || !strings.Contains(r.Label, fmt.Sprintf("%#x", want.vaddr)) {
			t.Errorf("range %d = %+v", i, r)
		}
		if !bytes.Equal(b[r.FileOff:r.FileOff+int64(r.Size)], vmcoretest.NewELF(le).LoadData(i)) {
			t.Errorf("range %d FileOff %#x does not hold the segment's data", i, r.FileOff)
		}
	}
}

func TestELFArch(t *testing.T) {
	for _, tc := range []struct {
		machine uint16
		class   int
		order   vmcoretestOrder
		want    model.Arch
	}{
		{vmcoretest.EM_X86_64, 64, le, model.AMD64},
		{vmcoretest.EM_AARCH64, 64, le, model.ARM64},
		{vmcoretest.EM_386, 32, le, model.X86},
		{vmcoretest.EM_386, 64, le, model.X86}, // kexec-tools writes ELF64 for PAE kernels
		{vmcoretest.EM_PPC64, 64, le, model.PPC64LE},
		{vmcoretest.EM_PPC64, 64, be, model.PPC64},
		{vmcoretest.EM_S390, 64, be, model.S390X},
		{vmcoretest.EM_RISCV, 64, le, model.RISCV64},
		{vmcoretest.EM_ARM, 32, le, model.ARM},
		{9999, 64, le, ""},
	} {
		f := open(t, vmcoretest.NewELF(tc.order).Class(tc.class).Machine(tc.machine))
		if got := f.Info().Arch; got != tc.want {
			t.Errorf("e_machine %d class %d %v: arch %q, want %q", tc.machine, tc.class, tc.order, got, tc.want)
		}
		if f.Info().OS.Release != vmcoretest.DefaultRelease || f.Info().CPUs != 2 {
			t.Errorf("info %+v", f.Info())
		}
	}
}

// TestProbeELFRule pins the vmcore-or-process-core rule.
func TestProbeELFRule(t *testing.T) {
	user := vmcoretest.Load{Vaddr: 0x400000, Data: make([]byte, 64)}
	for _, tc := range []struct {
		name string
		d    *vmcoretest.ELF
		want bool
	}{
		{"VMCOREINFO", vmcoretest.NewELF(le), true},
		{"VMCOREINFO only, user-looking loads", vmcoretest.NewELF(le).CPUs(0).Loads(user), true},
		{"QEMU", vmcoretest.NewELF(le).NoVMCOREINFO().QEMUNotes().Loads(vmcoretest.Load{Data: make([]byte, 64)}), true},
		{"PRSTATUS + paddr", vmcoretest.NewELF(le).NoVMCOREINFO().Loads(vmcoretest.Load{Paddr: 0x100000, Data: make([]byte, 64)}), true},
		{"PRSTATUS + kernel vaddr", vmcoretest.NewELF(le).NoVMCOREINFO().Loads(vmcoretest.Load{Vaddr: 0xffff888000000000, Data: make([]byte, 64)}), true},
		{"PRSTATUS + 32-bit high vaddr", vmcoretest.NewELF(le).Class(32).Machine(vmcoretest.EM_386).NoVMCOREINFO().Loads(vmcoretest.Load{Vaddr: 0xc0000000, Data: make([]byte, 64)}), false},
		{"process core", vmcoretest.ProcessCore(le), false},
		{"process core with paddr", vmcoretest.ProcessCore(le).Loads(vmcoretest.Load{Paddr: 0x1000, Data: make([]byte, 64)}), false},
		{"PRPSINFO only", vmcoretest.NewELF(le).NoVMCOREINFO().Note(vmcoretest.Note{Name: "CORE", Type: vmcoretest.NT_PRPSINFO, Desc: make([]byte, 136)}), false},
		{"NT_FILE only", vmcoretest.NewELF(le).NoVMCOREINFO().Note(vmcoretest.Note{Name: "CORE", Type: vmcoretest.NT_FILE, Desc: make([]byte, 16)}), false},
		{"no PRSTATUS", vmcoretest.NewELF(le).NoVMCOREINFO().CPUs(0), false},
		{"no PT_LOAD", vmcoretest.NewELF(le).NoVMCOREINFO().Loads(), false},
		{"user vaddr, paddr 0", vmcoretest.NewELF(le).NoVMCOREINFO().Loads(user), false},
		{"ET_EXEC", vmcoretest.NewELF(le).Type(vmcoretest.ET_EXEC), false},
		{"big-endian ppc64", vmcoretest.NewELF(be).Machine(vmcoretest.EM_PPC64).NoVMCOREINFO().Loads(vmcoretest.Load{Vaddr: 0xc000000000000000, Data: make([]byte, 64)}), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build(t, tc.d)
			if got := vmcore.ProbeELF(bytes.NewReader(b), int64(len(b))); got != tc.want {
				t.Errorf("ProbeELF = %v, want %v", got, tc.want)
			}
			if vmcore.ProbeCompressed(bytes.NewReader(b), int64(len(b))) {
				t.Error("ProbeCompressed on ELF")
			}
			f, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
			if tc.want != (err == nil) {
				t.Fatalf("NewFile err = %v", err)
			}
			if err != nil && !errors.Is(err, vmcore.ErrUnrecognized) {
				t.Errorf("err = %v, want ErrUnrecognized", err)
			}
			if f != nil && f.Info().Variant != "elf" {
				t.Errorf("variant %q", f.Info().Variant)
			}
		})
	}
}

func TestELFDamage(t *testing.T) {
	t.Run("header truncated", func(t *testing.T) {
		openErr(t, vmcoretest.NewELF(le).Truncate(40))
	})
	t.Run("phnum lies", func(t *testing.T) {
		fe := openErr(t, vmcoretest.NewELF(le).Phnum(60000))
		if !errors.Is(fe, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v", fe)
		}
	})
	t.Run("load data cut", func(t *testing.T) {
		b := build(t, vmcoretest.NewELF(le))
		f := open(t, vmcoretest.NewELF(le).Truncate(len(b)-100))
		if !hasDiag(f, model.Warning, "PT_LOAD 2", "truncated") || f.Info().OS.Release != vmcoretest.DefaultRelease {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		if rs, err := f.Ranges(); err != nil || len(rs) != 2 {
			t.Errorf("ranges %+v %v", rs, err)
		}
	})
	t.Run("load offset lies", func(t *testing.T) {
		f := open(t, vmcoretest.NewELF(le).LoadOffset(0, 1<<62))
		if !hasDiag(f, model.Warning, "PT_LOAD 1", "past the end") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		if rs, _ := f.Ranges(); len(rs) != 2 || rs[0].FileOff != 1<<62 {
			t.Errorf("ranges %+v", rs)
		}
		f = open(t, vmcoretest.NewELF(le).LoadOffset(0, ^uint64(0)))
		if rs, _ := f.Ranges(); len(rs) != 2 || rs[0].FileOff != -1 {
			t.Errorf("ranges %+v", rs)
		}
	})
	t.Run("many loads past EOF", func(t *testing.T) {
		var ls []vmcoretest.Load
		for i := range 20 {
			ls = append(ls, vmcoretest.Load{Paddr: uint64(i) << 20, Data: make([]byte, 64)})
		}
		d := vmcoretest.NewELF(le).Loads(ls...)
		b := build(t, d)
		f := open(t, d.Truncate(len(b)-20*64))
		if n := len(f.Diagnostics()); n > 10 || !hasDiag(f, model.Warning, "more PT_LOAD") {
			t.Errorf("%d diagnostics: %+v", n, f.Diagnostics())
		}
	})
	t.Run("note size lies", func(t *testing.T) {
		f := open(t, vmcoretest.NewELF(le).NoteFilesz(1<<40))
		if len(f.Diagnostics()) == 0 || f.Info().OS.Release != vmcoretest.DefaultRelease {
			t.Errorf("info %+v diags %+v", f.Info(), f.Diagnostics())
		}
	})
	t.Run("VMCOREINFO cut off", func(t *testing.T) {
		// Cutting the file inside the VMCOREINFO note leaves the PRSTATUS
		// notes and the PT_LOAD headers: rule 3 still knows the vmcore.
		d := vmcoretest.NewELF(le)
		notesEnd := 64 + 3*56 + 2*(12+8+336)
		f := open(t, d.Truncate(notesEnd+30))
		if f.Info().CPUs != 2 || detail(f.Info(), "Detected by") == "VMCOREINFO note" || len(f.Diagnostics()) == 0 {
			t.Errorf("info %+v diags %+v", f.Info(), f.Diagnostics())
		}
		if _, err := f.VMCOREINFO(); !errors.Is(err, vmcore.ErrNoVMCOREINFO) {
			t.Errorf("VMCOREINFO err = %v", err)
		}
	})
}

func TestFlattened(t *testing.T) {
	k := vmcoretest.NewKdump(le)
	plain := open(t, k)
	want, _ := plain.Ranges()
	for _, tc := range []struct {
		name string
		flat *vmcoretest.Flat
	}{
		{"in order", vmcoretest.Flatten(k)},
		{"reverse", vmcoretest.Flatten(k).Order(vmcoretest.Reverse).RecordSize(3000)},
		{"interleave", vmcoretest.Flatten(k).Order(vmcoretest.Interleave).RecordSize(777)},
		// Records of 8 bytes: the bitmaps lie beyond the 1024 records
		// NewFile probes, so Ranges builds the full index.
		{"tiny records", vmcoretest.Flatten(k).RecordSize(8)},
		{"one record", vmcoretest.Flatten(k).RecordSize(1 << 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := open(t, tc.flat)
			noDiags(t, f)
			info, pinfo := f.Info(), plain.Info()
			if info.Variant != "flattened" || info.OS != pinfo.OS || info.CPUs != pinfo.CPUs || info.Compression != "zlib" ||
				!info.Time.Equal(pinfo.Time) || detail(info, "Flattened content") != "kdump-compressed" {
				t.Errorf("info %+v", info)
			}
			got, err := f.Ranges()
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("ranges %+v %v, want %+v", got, err, want)
			}
			noDiags(t, f)
		})
	}
}

func TestFlattenedELF(t *testing.T) {
	f := open(t, vmcoretest.Flatten(vmcoretest.NewELF(be).Machine(vmcoretest.EM_PPC64)).Order(vmcoretest.Reverse).RecordSize(100))
	noDiags(t, f)
	info := f.Info()
	if info.Variant != "flattened" || detail(info, "Flattened content") != "ELF" || info.Arch != model.PPC64 || info.CPUs != 2 || info.Compression != "" {
		t.Errorf("info %+v", info)
	}
	rs, err := f.Ranges()
	if err != nil || len(rs) != 2 || rs[0].FileOff != -1 || rs[0].Start != 0x1000000 {
		t.Errorf("ranges %+v %v", rs, err)
	}
	// A flattened ELF is a kernel dump even without vmcore notes: only
	// makedumpfile writes the container.
	f = open(t, vmcoretest.Flatten(vmcoretest.ProcessCore(le)))
	if detail(f.Info(), "Detected by") != "makedumpfile flattened container" {
		t.Errorf("info %+v", f.Info())
	}
}

func TestFlattenedDamage(t *testing.T) {
	k := vmcoretest.NewKdump(le)
	full := build(t, vmcoretest.Flatten(k))
	t.Run("no end marker", func(t *testing.T) {
		f := open(t, vmcoretest.Flatten(k).NoEndMarker())
		if !hasDiag(f, model.Warning, "end record") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
	t.Run("cut mid-record", func(t *testing.T) {
		f := open(t, vmcoretest.Flatten(k).Truncate(len(full)-1000))
		if !hasDiag(f, model.Warning, "cut off") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
		if rs, err := f.Ranges(); err != nil || len(rs) == 0 {
			t.Errorf("ranges %+v %v", rs, err)
		}
	})
	t.Run("cut in a record header", func(t *testing.T) {
		f := open(t, vmcoretest.Flatten(k).Truncate(len(full)-8))
		if !hasDiag(f, model.Warning, "cut off") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
	t.Run("negative offset", func(t *testing.T) {
		f := open(t, vmcoretest.Flatten(k).LieRecord(3, -5, 4096))
		if !hasDiag(f, model.Error, "offset -5") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
	t.Run("overlap", func(t *testing.T) {
		f := open(t, vmcoretest.Flatten(k).LieRecord(2, 4096, 4096))
		if !hasDiag(f, model.Warning, "overlap") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
	t.Run("header beyond the probe", func(t *testing.T) {
		fe := openErr(t, vmcoretest.Flatten(k).RecordSize(8).Order(vmcoretest.Reverse))
		if !errors.Is(fe, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v", fe)
		}
	})
	t.Run("short header block", func(t *testing.T) {
		openErr(t, vmcoretest.Flatten(k).Truncate(2000))
	})
	t.Run("neither kdump nor ELF", func(t *testing.T) {
		fe := openErr(t, vmcoretest.FlattenBytes(bytes.Repeat([]byte("junk"), 300)))
		if !errors.Is(fe, vmcore.ErrUnrecognized) {
			t.Errorf("err = %v", fe)
		}
	})
	t.Run("version", func(t *testing.T) {
		f := open(t, vmcoretest.Flatten(k).Version(2))
		if !hasDiag(f, model.Note, "version 2") {
			t.Errorf("diags %+v", f.Diagnostics())
		}
	})
}

func TestUnrecognized(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":    nil,
		"short":    []byte("KDUMP"),
		"minidump": []byte("MDMP\x93\xa7\x00\x00 and more bytes here"),
		"makedump": append([]byte("makedumpfilX"), make([]byte, 4096)...),
	} {
		_, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
		var fe *vmcore.FormatError
		if !errors.As(err, &fe) || !errors.Is(err, vmcore.ErrUnrecognized) {
			t.Errorf("%s: err = %v", name, err)
		}
		if vmcore.ProbeCompressed(bytes.NewReader(b), int64(len(b))) || vmcore.ProbeELF(bytes.NewReader(b), int64(len(b))) {
			t.Errorf("%s: a probe accepted it", name)
		}
	}
	if _, err := vmcore.NewFile(bytes.NewReader(nil), -1); err == nil {
		t.Error("negative size accepted")
	}
}

func TestFormatError(t *testing.T) {
	e := &vmcore.FormatError{Off: 0x1a8, What: "status", Err: io.ErrUnexpectedEOF}
	if !errors.Is(e, io.ErrUnexpectedEOF) || e.Unwrap() != io.ErrUnexpectedEOF || e.Error() == "" {
		t.Errorf("FormatError %v", e)
	}
}

// errReaderAt fails every read at or past off.
type errReaderAt struct {
	r   io.ReaderAt
	off int64
}

var errDisk = errors.New("disk on fire")

func (e errReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= e.off {
		return 0, errDisk
	}
	if end := off + int64(len(p)); end > e.off {
		n, _ := e.r.ReadAt(p[:e.off-off], off)
		return n, errDisk
	}
	return e.r.ReadAt(p, off)
}

func TestReadErrors(t *testing.T) {
	b := build(t, vmcoretest.NewKdump(le))
	f, err := vmcore.NewFile(errReaderAt{bytes.NewReader(b), 3 * 4096}, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Ranges()
	if !errors.Is(err, errDisk) {
		t.Errorf("Ranges err = %v, want the I/O error", err)
	}
	f, err = vmcore.NewFile(errReaderAt{bytes.NewReader(b), 4097}, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if !hasDiag(f, model.Error, "disk on fire") {
		t.Errorf("diags %+v", f.Diagnostics())
	}
}

func TestOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vmcore")
	if err := os.WriteFile(p, build(t, vmcoretest.NewKdump(le)), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := vmcore.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Info().Variant != "kdump-compressed" {
		t.Errorf("info %+v", f.Info())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := vmcore.Open(filepath.Join(t.TempDir(), "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v", err)
	}
	os.WriteFile(p, []byte("nope"), 0o600)
	if _, err := vmcore.Open(p); !errors.Is(err, vmcore.ErrUnrecognized) {
		t.Errorf("err = %v", err)
	}
}

func TestConcurrent(t *testing.T) {
	f := open(t, vmcoretest.Flatten(vmcoretest.NewKdump(le)).RecordSize(8))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_ = f.Info()
			if _, err := f.Ranges(); err != nil {
				t.Error(err)
			}
			_ = f.Diagnostics()
			if _, err := f.VMCOREINFO(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestParseVMCOREINFO(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"OSRELEASE=6.1.0\nPAGESIZE=4096\n", map[string]string{"OSRELEASE": "6.1.0", "PAGESIZE": "4096"}},
		{"A=1\r\nB=2", map[string]string{"A": "1", "B": "2"}},
		{"A=1\nA=2\n", map[string]string{"A": "1"}},
		{"junk\n=empty key\nK=\nX=a=b\n", map[string]string{"K": "", "X": "a=b"}},
		{"A=1\n\x00B=2\n", map[string]string{"A": "1"}},
		{"SYMBOL(swapper_pg_dir)=ffffffff82a10000\nNUMBER(phys_base)=-411041792", map[string]string{"SYMBOL(swapper_pg_dir)": "ffffffff82a10000", "NUMBER(phys_base)": "-411041792"}},
	} {
		if got := vmcore.ParseVMCOREINFO([]byte(tc.in)); !maps.Equal(got, tc.want) {
			t.Errorf("ParseVMCOREINFO(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Thousands of PT_NOTE headers naming the whole file must not make the
// parser copy the file thousands of times.
func TestManyNoteSegments(t *testing.T) {
	const phnum = 4000
	size := 64 + phnum*56
	b := make([]byte, size)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1})
	le.PutUint16(b[16:], 4)  // ET_CORE
	le.PutUint16(b[18:], 62) // EM_X86_64
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], phnum)
	for i := range phnum {
		ph := b[64+56*i:]
		le.PutUint32(ph, 4) // PT_NOTE
		le.PutUint64(ph[32:], uint64(size))
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_ = vmcore.ProbeELF(bytes.NewReader(b), int64(size))
	_, err := vmcore.NewFile(bytes.NewReader(b), int64(size))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, vmcore.ErrUnrecognized) {
		t.Errorf("err = %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 40*uint64(size) {
		t.Errorf("allocated %d bytes for a %d-byte file", alloc, size)
	}
}

// TestKdumpTruncatedPageData cuts a kdump-compressed dump inside its page
// data (descriptors whole, the last pages' data gone): the ranges say the
// file is truncated and from which page on, the pages before the cut
// still read, and the whole file says nothing.
func TestKdumpTruncatedPageData(t *testing.T) {
	for _, name := range []string{"kdump-zlib", "kdump-none"} {
		k := vmcoretest.Scenarios()[name]().(*vmcoretest.Kdump)
		b := build(t, k)
		pfns := k.DumpablePFNs()
		last := pfns[len(pfns)-1]
		cut := b[:len(b)-1] // the last page's data loses its last byte
		f, err := vmcore.NewFile(bytes.NewReader(cut), int64(len(cut)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Ranges(); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("up to 1 of its %d dumpable pages (0 MiB, from pfn %#x, physical address %#x, on)", len(pfns), last, last*4096)
		ds := f.Diagnostics()
		if len(ds) != 1 || !strings.Contains(ds[0].Msg, "truncated") || !strings.Contains(ds[0].Msg, want) {
			t.Errorf("%s: diagnostics %v, want one with %q", name, ds, want)
		}
		phys, err := f.PhysicalMemory()
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 4096)
		if _, err := phys.ReadMemory(p, pfns[0]*4096); err != nil {
			t.Errorf("%s: the first page no longer reads: %v", name, err)
		}
		if _, err := phys.ReadMemory(p, last*4096); err == nil {
			t.Errorf("%s: the cut page reads", name)
		}
	}
}

// TestKdumpTruncatedCorpus cuts the corpus's makedumpfile vmcore (which
// writes its shared zero page first) in half. Walked by hand from the
// format (descriptors from 0x5000, the zero page's copy at 382640, the
// dumpable bitmap's set bits), descriptor 4213 is the first whose data
// runs past the cut, and its page is pfn 0x2153: the open says so.
func TestKdumpTruncatedCorpus(t *testing.T) {
	b, err := os.ReadFile(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	if err != nil {
		t.Fatal(err)
	}
	cut := b[:len(b)/2]
	f, err := vmcore.NewFile(bytes.NewReader(cut), int64(len(cut)))
	if err != nil {
		t.Fatal(err)
	}
	want := "before the data of up to 10877 of its 15090 dumpable pages (42 MiB, from pfn 0x2153, physical address 0x2153000, on)"
	if ds := f.Diagnostics(); len(ds) != 1 || !strings.Contains(ds[0].Msg, want) {
		t.Errorf("diagnostics %v, want one with %q", ds, want)
	}
	whole, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if ds := whole.Diagnostics(); len(ds) != 0 {
		t.Errorf("the whole file: %v", ds)
	}
}
