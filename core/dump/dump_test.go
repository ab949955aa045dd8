package dump

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/container"
	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/minidump"
	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/model"
)

func TestNotDumpsSayWhatTheyLookLike(t *testing.T) {
	t.Parallel()
	exec, _ := elfcoretest.New().Bytes()
	exec[16] = 2 // ET_EXEC
	for _, tc := range []struct {
		name  string
		data  []byte
		looks string
		off   int64
	}{
		{"empty", nil, "an empty file", 0},
		{"text", []byte("hello\nworld\n"), "a text file", 0},
		{"elf executable", exec, "an ELF executable", 16},
		{"pe", append([]byte("MZ\x90\x00"), make([]byte, 60)...), "a Windows PE image (executable or DLL)", 0},
		{"pdb", []byte("Microsoft C/C++ MSF 7.00\r\n\x1aDS\x00\x00\x00"), "a PDB symbol file", 0},
		{"breakpad sym", []byte("MODULE windows x86 5A98 test_app.pdb\n"), "a Breakpad symbol file", 0},
		{"random", []byte{0x00, 0xff, 0x13, 0x37, 0x80, 0x01}, "unrecognized binary data", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := NewTarget(bytes.NewReader(tc.data), int64(len(tc.data)), "f")
			var de *Error
			if !errors.As(err, &de) || !errors.Is(err, ErrUnrecognized) {
				t.Fatalf("err = %v, want *Error matching ErrUnrecognized", err)
			}
			if de.LooksLike != tc.looks || de.Off != tc.off || de.What == "" || de.Path != "f" {
				t.Fatalf("error = %+v, want looks %q at %#x", de, tc.looks, tc.off)
			}
		})
	}
}

func TestDamagedDumpNamesFormatAndOffset(t *testing.T) {
	t.Parallel()
	b, _ := minidumptest.New(minidumptest.LE).Truncate(20).Bytes()
	_, f, err := NewTarget(bytes.NewReader(b), int64(len(b)), "short.dmp")
	var de *Error
	if !errors.As(err, &de) || errors.Is(err, ErrUnrecognized) {
		t.Fatalf("err = %v, want a format error", err)
	}
	var me *minidump.FormatError
	if !errors.As(err, &me) {
		t.Fatalf("err does not wrap *minidump.FormatError: %v", err)
	}
	if f.Name != "minidump" || de.Off != 20 || de.LooksLike != f.Looks {
		t.Fatalf("error = %+v (format %q)", de, f.Name)
	}
}

func TestOpenUnpacksContainers(t *testing.T) {
	t.Parallel()
	raw, _ := minidumptest.Scenarios()["amd64-av-write"]().Bytes()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "crash.bin") // no telling extension: detection is by content
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), path, Options{Container: container.Options{CacheDir: filepath.Join(dir, "cache")}})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Format.Name != "minidump" || len(d.Containers) != 1 || d.Containers[0] != "gz" || d.Unpacked == "" {
		t.Fatalf("dump = %+v", d)
	}
	if d.Info().Crash.Name != "EXCEPTION_ACCESS_VIOLATION_WRITE" {
		t.Fatalf("crash = %+v", d.Info().Crash)
	}
}

func TestProbeOrderIsExplicit(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i, f := range Formats {
		if seen[f.Name] {
			t.Fatalf("format %q listed twice", f.Name)
		}
		seen[f.Name] = true
		if f.Name == "elfcore" && i != len(Formats)-1 {
			t.Fatalf("elfcore accepts any ET_CORE and must be probed last, is at %d of %d", i, len(Formats))
		}
	}
	core, _ := elfcoretest.New().Bytes()
	f, ok := Detect(bytes.NewReader(core), int64(len(core)))
	if !ok || f.Name != "elfcore" {
		t.Fatalf("Detect(process core) = %q, %v", f.Name, ok)
	}
}

func TestTargetsAreModelTargets(t *testing.T) {
	t.Parallel()
	b, _ := minidumptest.New(minidumptest.LE).Bytes()
	tg, _, err := NewTarget(bytes.NewReader(b), int64(len(b)), "m")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Info().Format != model.Minidump {
		t.Fatalf("format %q", tg.Info().Format)
	}
}

// TestCutOffArchive opens a gzipped minidump cut off halfway through its
// memory, as a half-finished download leaves it: the dump opens from what
// could be unpacked, the first diagnostic says the archive was cut off,
// and the streams before the cut still decode.
func TestCutOffArchive(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	heap := make([]byte, 4<<20)
	for i := range heap {
		heap[i] = byte(i*7 + i>>12) // compressible, but not to nothing
	}
	b, err := minidumptest.Scenarios()["amd64-av-write"]().Memory(minidumptest.Memory{Start: 0x2000_0000, Bytes: heap}).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(b)
	w.Close()
	path := filepath.Join(t.TempDir(), "cut.dmp.gz")
	if err := os.WriteFile(path, gz.Bytes()[:gz.Len()/2], 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ds := d.Diagnostics()
	if d.Truncated == "" || len(ds) == 0 || !strings.Contains(ds[0].Msg, "cut off") {
		t.Fatalf("Truncated %q, diagnostics %v", d.Truncated, ds)
	}
	if c := d.Info().Crash; c == nil || c.Code != 0xc0000005 {
		t.Errorf("the exception stream is lost: %+v", c)
	}
}
