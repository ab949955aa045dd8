package vmcore_test

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/core/vmcore"
	"github.com/crashbench/crashbench/core/vmcore/vmcoretest"
)

const kdumpSample = "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"

// dmesgOracle reads the release from the "Linux version" line of the
// makedumpfile --dump-dmesg oracle and the CPU count from its boot log.
func dmesgOracle(t *testing.T) (release string, cpus int) {
	t.Helper()
	b, err := os.ReadFile(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.dmesg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	verRE := regexp.MustCompile(`\] Linux version (\S+) `)
	cpuRE := regexp.MustCompile(`smp: Brought up \d+ nodes?, (\d+) CPUs?`)
	for sc.Scan() {
		if m := verRE.FindStringSubmatch(sc.Text()); m != nil && release == "" {
			release = m[1]
		}
		if m := cpuRE.FindStringSubmatch(sc.Text()); m != nil {
			cpus, _ = strconv.Atoi(m[1])
		}
	}
	if release == "" || cpus == 0 {
		t.Fatalf("dmesg oracle: release %q, cpus %d not found", release, cpus)
	}
	return release, cpus
}

func openSample(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture.Corpus(t, kdumpSample))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkSampleInfo asserts what the dmesg oracle and the generator's notes
// (generated/README.md) say about the kdump sample.
func checkSampleInfo(t *testing.T, info model.Info, variant string) {
	t.Helper()
	release, cpus := dmesgOracle(t)
	if info.Format != model.LinuxVMCore || info.Variant != variant {
		t.Errorf("format/variant = %q/%q, want %q/%q", info.Format, info.Variant, model.LinuxVMCore, variant)
	}
	if info.OS.Family != model.Linux || info.OS.Release != release {
		t.Errorf("OS = %+v, want linux release %q", info.OS, release)
	}
	if info.OS.Version != "6.1.0" {
		t.Errorf("OS.Version = %q, want 6.1.0", info.OS.Version)
	}
	if !strings.Contains(info.OS.Build, "Debian 6.1.") {
		t.Errorf("OS.Build = %q, want the uname -v of a Debian 6.1 kernel", info.OS.Build)
	}
	if info.Arch != model.AMD64 {
		t.Errorf("Arch = %q, want amd64", info.Arch)
	}
	if info.CPUs != cpus || cpus != 2 {
		t.Errorf("CPUs = %d, dmesg says %d, README says 2", info.CPUs, cpus)
	}
	if info.Compression != "zlib" {
		t.Errorf("Compression = %q, want zlib (makedumpfile -c)", info.Compression)
	}
	if info.Crash != nil {
		t.Errorf("Crash = %+v, want nil: neither the kdump header nor this VMCOREINFO (no CRASHTIME) proves a crash", info.Crash)
	}
	want := map[string]string{
		"dump_level":             "31", // makedumpfile -d 31
		"block_size":             "4096",
		"PAGESIZE":               "4096",
		"OSRELEASE":              "", // not a detail; checked through VMCOREINFO below
		"SYMBOL(swapper_pg_dir)": "",
		"KERNELOFFSET":           "",
		"NUMBER(phys_base)":      "",
	}
	got := map[string]string{}
	for _, d := range info.Details {
		got[d.Key] = d.Value
	}
	for k, v := range want {
		if k == "OSRELEASE" {
			continue
		}
		g, ok := got[k]
		if !ok || (v != "" && g != v) {
			t.Errorf("detail %s = %q (present %v), want %q", k, g, ok, v)
		}
	}
}

func TestOracleKdumpSample(t *testing.T) {
	b := openSample(t)
	f, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checkSampleInfo(t, f.Info(), "kdump-compressed")
	for _, d := range f.Diagnostics() {
		t.Errorf("unexpected diagnostic: %+v", d)
	}
	release, _ := dmesgOracle(t)
	vi, err := f.VMCOREINFO()
	if err != nil {
		t.Fatal(err)
	}
	if vi["OSRELEASE"] != release {
		t.Errorf("VMCOREINFO OSRELEASE = %q, want %q", vi["OSRELEASE"], release)
	}
	if !vmcore.ProbeCompressed(bytes.NewReader(b), int64(len(b))) || vmcore.ProbeELF(bytes.NewReader(b), int64(len(b))) {
		t.Error("probes disagree with the sample")
	}

	// The ranges must account for exactly the page descriptors the file
	// holds. makedumpfile (write_kdump_pages_and_bitmap_cyclic) writes one
	// page_desc_t (24 bytes) per dumpable page right after the bitmaps, and
	// with dump_level bit 1 (-d 31) the shared zero page right after the
	// last descriptor. So all N descriptors point past the table, and the
	// 24 bytes at slot N are zero-page bytes.
	rs, err := f.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	var pages uint64
	for i, r := range rs {
		if !r.Physical || r.FileOff != -1 || r.Size == 0 || r.Start%4096 != 0 || r.Size%4096 != 0 {
			t.Fatalf("range %d = %+v", i, r)
		}
		if i > 0 && r.Start <= rs[i-1].Start+rs[i-1].Size {
			t.Fatalf("ranges %d and %d not sorted and coalesced: %+v %+v", i-1, i, rs[i-1], r)
		}
		pages += r.Size / 4096
	}
	le := binary.LittleEndian
	blockSize := int64(le.Uint32(b[428:]))
	dataOff := blockSize * (1 + int64(le.Uint32(b[432:])) + int64(le.Uint32(b[436:])))
	tableEnd := dataOff + int64(pages)*24
	for i := range int64(pages) {
		pd := b[dataOff+24*i:]
		if off, size := int64(le.Uint64(pd)), le.Uint32(pd[8:]); off < tableEnd || size == 0 || size > 4096 {
			t.Fatalf("page_desc %d of %d: offset %#x size %d; the table should end at %#x", i, pages, off, size, tableEnd)
		}
	}
	if !bytes.Equal(b[tableEnd:tableEnd+24], make([]byte, 24)) {
		t.Errorf("slot %d after the last page_desc is not the zero page: the ranges count the wrong number of pages", pages)
	}
	if last := rs[len(rs)-1]; last.Start+last.Size > 96<<20+1<<20 {
		t.Errorf("last range %+v lies beyond the 96 MiB guest", last)
	}
}

// TestOracleFlattenedSample wraps the kdump sample into makedumpfile's
// flattened format (records out of order) and expects the same summary and
// ranges.
func TestOracleFlattenedSample(t *testing.T) {
	b := openSample(t)
	ref, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	flat, err := vmcoretest.FlattenBytes(b).RecordSize(1 << 20).Order(vmcoretest.Reverse).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := vmcore.NewFile(bytes.NewReader(flat), int64(len(flat)))
	if err != nil {
		t.Fatal(err)
	}
	checkSampleInfo(t, f.Info(), "flattened")
	if got := detail(f.Info(), "Flattened content"); got != "kdump-compressed" {
		t.Errorf("Flattened content = %q", got)
	}
	got, err := f.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("flattened: %d ranges, plain: %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("range %d: flattened %+v, plain %+v", i, got[i], want[i])
		}
	}
	for _, d := range f.Diagnostics() {
		t.Errorf("unexpected diagnostic: %+v", d)
	}
}

// testfile62 is elfutils' truncated Fedora 14 /proc/vmcore: notes only.
func testfile62(t *testing.T) []byte {
	t.Helper()
	fh, err := os.Open(fixture.Corpus(t, "elfutils/testfile62.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(bzip2.NewReader(fh), 64<<20))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readelfOracle extracts OSRELEASE, CRASHTIME and the PRSTATUS count from
// eu-readelf -n's output.
func readelfOracle(t *testing.T) (release string, crashtime int64, prstatus int) {
	t.Helper()
	b, err := os.ReadFile(fixture.Corpus(t, "elfutils/testfile62.eu-readelf_n.expected"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "OSRELEASE="):
			release = strings.TrimPrefix(line, "OSRELEASE=")
		case strings.HasPrefix(line, "CRASHTIME="):
			crashtime, _ = strconv.ParseInt(strings.TrimPrefix(line, "CRASHTIME="), 10, 64)
		case strings.HasPrefix(line, "CORE") && strings.HasSuffix(line, "PRSTATUS"):
			prstatus++
		}
	}
	if release == "" || crashtime == 0 || prstatus == 0 {
		t.Fatal("readelf oracle incomplete")
	}
	return
}

func TestOracleTestfile62(t *testing.T) {
	b := testfile62(t)
	release, crashtime, prstatus := readelfOracle(t)
	if !vmcore.ProbeELF(bytes.NewReader(b), int64(len(b))) || vmcore.ProbeCompressed(bytes.NewReader(b), int64(len(b))) {
		t.Fatal("probes disagree with testfile62")
	}
	f, err := vmcore.NewFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("missing PT_LOAD data must not fail NewFile: %v", err)
	}
	info := f.Info()
	if info.Variant != "elf" || info.Format != model.LinuxVMCore {
		t.Errorf("variant = %q", info.Variant)
	}
	if info.OS.Release != release || release != "2.6.35.11-83.fc14.x86_64" {
		t.Errorf("release = %q, oracle %q", info.OS.Release, release)
	}
	if info.CPUs != prstatus || prstatus != 2 {
		t.Errorf("CPUs = %d, oracle PRSTATUS notes %d", info.CPUs, prstatus)
	}
	if info.Arch != model.AMD64 {
		t.Errorf("arch = %q", info.Arch)
	}
	if want := time.Unix(crashtime, 0).UTC(); !info.Time.Equal(want) {
		t.Errorf("time = %v, want CRASHTIME %v", info.Time, want)
	}
	if info.Crash == nil || info.Crash.Kind != model.Panic {
		t.Errorf("crash = %+v, want a panic (CRASHTIME proves __crash_kexec ran)", info.Crash)
	}
	if got := detail(info, "SYMBOL(swapper_pg_dir)"); got != "ffffffff81a42000" {
		t.Errorf("SYMBOL(swapper_pg_dir) = %q", got)
	}
	if got := detail(info, "PAGESIZE"); got != "4096" {
		t.Errorf("PAGESIZE = %q", got)
	}
	vi, err := f.VMCOREINFO()
	if err != nil || vi["SYMBOL(phys_base)"] != "ffffffff81a4a010" {
		t.Errorf("VMCOREINFO: %v, SYMBOL(phys_base) = %q", err, vi["SYMBOL(phys_base)"])
	}
	// readelf -lW (local-oracles/testfile62.readelf-hlW.txt): 4 PT_LOADs,
	// whose data the 16 KiB the file keeps holds at most in part.
	missing := 0
	for _, d := range f.Diagnostics() {
		if d.Severity == model.Warning && d.Off >= 0x990 {
			missing++
		}
	}
	if missing != 4 {
		t.Errorf("got %d PT_LOAD warnings, want 4: %+v", missing, f.Diagnostics())
	}
	rs, err := f.Ranges()
	if err != nil {
		t.Fatal(err)
	}
	wantRanges := []model.Range{
		{Start: 0x1000000, Size: 0xe64000, FileOff: 0x990},
		{Start: 0, Size: 0xa0000, FileOff: 0xe64990},
		{Start: 0x100000, Size: 0x1f00000, FileOff: 0xf04990},
		{Start: 0xa000000, Size: 0x736b0000, FileOff: 0x2e04990},
	}
	if len(rs) != len(wantRanges) {
		t.Fatalf("ranges = %+v", rs)
	}
	for i, w := range wantRanges {
		g := rs[i]
		if g.Start != w.Start || g.Size != w.Size || g.FileOff != w.FileOff || !g.Physical {
			t.Errorf("range %d = %+v, want %+v", i, g, w)
		}
	}
}

// A flattened ELF vmcore (makedumpfile -E -F) keeps the ELF summary.
func TestOracleTestfile62Flattened(t *testing.T) {
	b := testfile62(t)
	flat, err := vmcoretest.FlattenBytes(b).RecordSize(1000).Order(vmcoretest.Interleave).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := vmcore.NewFile(bytes.NewReader(flat), int64(len(flat)))
	if err != nil {
		t.Fatal(err)
	}
	info := f.Info()
	if info.Variant != "flattened" || detail(info, "Flattened content") != "ELF" || info.CPUs != 2 || info.OS.Release != "2.6.35.11-83.fc14.x86_64" {
		t.Errorf("info = %+v", info)
	}
	rs, err := f.Ranges()
	if err != nil || len(rs) != 4 || rs[0].FileOff != -1 {
		t.Errorf("ranges = %+v, %v", rs, err)
	}
}
