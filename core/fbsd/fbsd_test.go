package fbsd_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/crashbench/crashbench/core/fbsd"
	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
	"github.com/crashbench/crashbench/core/model"
)

func open(t *testing.T, b *fbsdtest.Builder) *fbsd.File {
	t.Helper()
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	f, err := fbsd.NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("NewFile: %v", err)
	}
	return f
}

func detail(info model.Info, key string) string {
	for _, d := range info.Details {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

func diagAt(diags []model.Diagnostic, sev model.Severity, off int64) bool {
	return slices.ContainsFunc(diags, func(d model.Diagnostic) bool { return d.Severity == sev && d.Off == off })
}

// The default builder: a 0x1a-byte message buffer, six dump_avail words
// (two ranges and the terminator), a 0x15-byte bitmap with three bits set,
// one page of page tables, so five 4 KiB pages precede the page data.
func TestArches(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		b       *fbsdtest.Builder
		arch    model.Arch
		details map[string]string
	}{
		"amd64": {fbsdtest.New(fbsdtest.AMD64), model.AMD64, map[string]string{
			"Magic": "minidump FreeBSD/amd64", "Version": "3", "Kernel base": "0xffffffff80000000",
			"Direct map": "0xfffff80000000000-0xfffffc0000000000", "Message buffer": "0x1a bytes", "dump_avail": "0x30 bytes",
			"Page bitmap": "0x15 bytes (168 pages)", "Page map": "0x1000 bytes", "Page size": "4096", "Page data offset": "0x5000",
		}},
		"amd64-v2": {fbsdtest.New(fbsdtest.AMD64).Version(2), model.AMD64, map[string]string{
			"Version": "2", "dump_avail": "", "Page data offset": "0x4000",
		}},
		"amd64-v1": {fbsdtest.New(fbsdtest.AMD64).Version(1), model.AMD64, map[string]string{
			"Version": "1", "Page data offset": "0x4000",
		}},
		"i386": {fbsdtest.New(fbsdtest.I386), model.X86, map[string]string{
			"Magic": "minidump FreeBSD/i386", "Version": "2", "Kernel base": "0x400000", "PAE": "enabled",
			"Page tables": "0x1000 bytes", "dump_avail": "0x30 bytes", "Direct map": "", "Page data offset": "0x5000",
		}},
		"i386-no-pae": {fbsdtest.New(fbsdtest.I386).PAE(false), model.X86, map[string]string{"PAE": "disabled"}},
		"arm": {fbsdtest.New(fbsdtest.ARM), model.ARM, map[string]string{
			"Kernel base": "0xc0000000", "ARM architecture": "7", "MMU format": "2 (v6)", "dump_avail": "0x18 bytes",
			"Page tables": "0x1000 bytes", "Byte order": "little-endian",
		}},
		"arm64": {fbsdtest.New(fbsdtest.ARM64), model.ARM64, map[string]string{
			"Version": "3", "Kernel base": "0xffff000000000000", "Direct map physical base": "0x40000000",
			"Direct map": "0xffffa00000000000-0xffffff0000000000", "Page size": "4096", "Page data offset": "0x5000",
		}},
		"arm64-16k": {fbsdtest.New(fbsdtest.ARM64).Flags(1), model.ARM64, map[string]string{
			"Page size": "16384", "Page data offset": "0x14000",
		}},
		"riscv": {fbsdtest.New(fbsdtest.RISCV), model.RISCV64, map[string]string{
			"Version": "2", "Kernel base": "0xffffffc000000000", "Direct map physical base": "0x80000000",
		}},
		"powerpc64": {fbsdtest.New(fbsdtest.PowerPC64), model.PPC64, map[string]string{
			"Magic": "minidump FreeBSD/powerpc64", "Byte order": "big-endian", "MMU": "mmu_oea64",
			"Kernel base": "0xc000000000100000", "Kernel end": "0xc000000002000000", "Kernel image": "0x100000-0x2000000",
			"Hardware direct map": "yes", "Direct map": "0xc000000000000000-0xc0003fffffffffff", "dump_avail": "0x30 bytes",
		}},
		"powerpc64le": {fbsdtest.New(fbsdtest.PowerPC64).Order(binary.LittleEndian), model.PPC64LE, map[string]string{
			"Byte order": "little-endian", "MMU": "mmu_oea64", "Kernel base": "0xc000000000100000",
		}},
		"mips64": {fbsdtest.New(fbsdtest.MIPS), model.MIPS64, map[string]string{
			"Byte order": "big-endian", "Kernel base": "0xffffffff80000000", "Page tables": "0x1000 bytes",
		}},
		"mipsel-32": {fbsdtest.New(fbsdtest.MIPS).Order(binary.LittleEndian).KernBase(0x80000000), model.MIPS, map[string]string{
			"Byte order": "little-endian", "Kernel base": "0x80000000",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t, tc.b)
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics on a valid dump: %+v", d)
			}
			info := f.Info()
			if info.Format != model.FreeBSDVMCore || info.Variant != "minidump" || info.OS.Family != model.FreeBSD || info.Arch != tc.arch {
				t.Errorf("format/variant/os/arch = %q/%q/%q/%q, want freebsd-vmcore/minidump/freebsd/%q", info.Format, info.Variant, info.OS.Family, info.Arch, tc.arch)
			}
			if info.Threads != -1 || info.Modules != -1 || info.Crash != nil {
				t.Errorf("Threads/Modules/Crash = %d/%d/%+v", info.Threads, info.Modules, info.Crash)
			}
			for k, want := range tc.details {
				if got := detail(info, k); got != want {
					t.Errorf("detail %q = %q, want %q", k, got, want)
				}
			}
			r, err := f.Ranges()
			if supported := tc.arch == model.AMD64 || tc.arch == model.ARM64; err != nil || (len(r) == 0) == supported {
				t.Errorf("Ranges = %v, %v", r, err)
			}
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics after Ranges: %+v", d)
			}
		})
	}
}

func TestDamage(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		b    *fbsdtest.Builder
		sev  model.Severity
		off  int64
		arch model.Arch
	}{
		"truncated":         {fbsdtest.New(fbsdtest.AMD64).Truncate(4096 + 100), model.Error, 4096 + 100, model.AMD64},
		"header-page-only":  {fbsdtest.New(fbsdtest.ARM64).Truncate(4096), model.Error, 4096, model.ARM64},
		"header-only":       {fbsdtest.New(fbsdtest.PowerPC64).Truncate(144), model.Error, 144, model.PPC64},
		"unknown-arch":      {fbsdtest.New(fbsdtest.AMD64).Magic("minidump FreeBSD/sparc64"), model.Error, 0, ""},
		"newer-version":     {fbsdtest.New(fbsdtest.RISCV).Version(9), model.Warning, 24, model.RISCV64},
		"version-zero":      {fbsdtest.New(fbsdtest.AMD64).Version(0), model.Error, 24, model.AMD64},
		"lying-bitmap-size": {fbsdtest.New(fbsdtest.AMD64).SizeOverride("bitmapsize", 0xfffffff0), model.Error, 0x8000, model.AMD64},
		"lying-msgbuf-size": {fbsdtest.New(fbsdtest.I386).SizeOverride("msgbufsize", 0x10000000), model.Error, 0x8000, model.X86},
		"empty-bitmap":      {fbsdtest.New(fbsdtest.I386).Bitmap(nil), model.Warning, 32, model.X86},
		"reversed-dmap":     {fbsdtest.New(fbsdtest.AMD64).DMap(2, 1), model.Warning, 0, model.AMD64},
		"arm64-64k-flag":    {fbsdtest.New(fbsdtest.ARM64).Flags(2), model.Warning, 76, model.ARM64},
		// Version 0 reads the same in both orders: the order cannot be
		// told, and big-endian is assumed.
		"powerpc64-no-version": {fbsdtest.New(fbsdtest.PowerPC64).Version(0), model.Warning, 64, model.PPC64},
		"mips-bad-version":     {fbsdtest.New(fbsdtest.MIPS).Version(0x01000001), model.Warning, 24, model.MIPS64},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t, tc.b)
			info := f.Info()
			if info.Format != model.FreeBSDVMCore || info.Arch != tc.arch {
				t.Errorf("format/arch = %q/%q", info.Format, info.Arch)
			}
			if d := f.Diagnostics(); !diagAt(d, tc.sev, tc.off) {
				t.Errorf("want a %v diagnostic at %#x, got %+v", tc.sev, tc.off, d)
			}
		})
	}
}

type failingReader struct {
	r   io.ReaderAt
	err error
}

func (f failingReader) ReadAt(p []byte, off int64) (int, error) { return 0, f.err }

func TestErrors(t *testing.T) {
	t.Parallel()
	errDisk := errors.New("disk on fire")
	raw, _ := fbsdtest.New(fbsdtest.AMD64).Bytes()
	for name, tc := range map[string]struct {
		r       io.ReaderAt
		size    int64
		wantErr error
	}{
		"empty":        {bytes.NewReader(nil), 0, fbsd.ErrUnrecognized},
		"linux":        {bytes.NewReader([]byte("minidump Linux/amd64....")), 24, fbsd.ErrUnrecognized},
		"kdh-header":   {bytes.NewReader([]byte("FreeBSD Kernel Dump\x00\x00\x00\x00\x00")), 24, fbsd.ErrUnrecognized},
		"magic-only":   {bytes.NewReader(raw[:24]), 24, io.ErrUnexpectedEOF},
		"short-header": {bytes.NewReader(raw[:60]), 60, io.ErrUnexpectedEOF},
		"size-lies":    {bytes.NewReader(raw[:20]), int64(len(raw)), io.ErrUnexpectedEOF},
		"io-error":     {failingReader{bytes.NewReader(raw), errDisk}, int64(len(raw)), errDisk},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := fbsd.NewFile(tc.r, tc.size)
			var fe *fbsd.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v (%T) is not a *FormatError", err, err)
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tc.wantErr)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		want bool
	}{
		{"minidump FreeBSD/amd64", true},
		{"minidump FreeBSD/", true},
		{"minidump FreeBSD", false},
		{"minidump Linux/amd64", false},
		{"", false},
	} {
		if got := fbsd.Probe(bytes.NewReader([]byte(tc.data)), int64(len(tc.data))); got != tc.want {
			t.Errorf("Probe(%q) = %v", tc.data, got)
		}
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	raw, _ := fbsdtest.New(fbsdtest.ARM64).Bytes()
	path := filepath.Join(t.TempDir(), "vmcore.0")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := fbsd.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Info().Arch != model.ARM64 {
		t.Errorf("Arch = %q", f.Info().Arch)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if _, err := fbsd.Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("not a minidump"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := fbsd.Open(bad); !errors.Is(err, fbsd.ErrUnrecognized) {
		t.Errorf("Open(bad) = %v", err)
	}
	if err := open(t, fbsdtest.New(fbsdtest.AMD64)).Close(); err != nil {
		t.Error(err)
	}
}

func TestScenariosOpen(t *testing.T) {
	t.Parallel()
	for name, mk := range fbsdtest.Scenarios() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := open(t, mk())
			_ = f.Info()
			_ = f.Diagnostics()
		})
	}
}
