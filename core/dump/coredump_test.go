package dump

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/model"
)

// TestSystemdCoredumpFile opens a core under the name systemd-coredump
// gives it in /var/lib/systemd/coredump: the zstd container is unpacked
// and the name's time becomes the dump's time, which the core lacks.
func TestSystemdCoredumpFile(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "linux-core", "core.assertc.zst"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "core.assertc.0.0b3a1f3e2d4c4b5a9f8e7d6c5b4a3928.28275.1763852580123456.zst")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	d, i := openWithTime(t, path)
	if i.Process == nil || i.Process.PID != 28275 || len(d.Diagnostics()) != 0 {
		t.Errorf("process %+v, diagnostics %v", i.Process, d.Diagnostics())
	}
	// The same core under another name has no time.
	plain := filepath.Join(dir, "core.28275.zst")
	if err := os.WriteFile(plain, src, 0o600); err != nil {
		t.Fatal(err)
	}
	d2, err := Open(context.Background(), plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if !d2.Info().Time.IsZero() {
		t.Errorf("plain name got time %v", d2.Info().Time)
	}
}

// TestSystemdCoredumpXattrs: the same core renamed, with the extended
// attributes systemd-coredump sets (coredump.c, fix_xattr), gets its time,
// host, executable and signal from them.
func TestSystemdCoredumpXattrs(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "linux-core", "core.assertc.zst"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "renamed.core.zst")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"pid": "28275", "uid": "1000", "gid": "1000", "signal": "6", "timestamp": "1763852580123456",
		"rlimit": "18446744073709551615", "hostname": "web-01", "comm": "assertc", "exe": "/usr/local/bin/assertc",
	} {
		if err := setXattr(path, "user.coredump."+name, value); err != nil {
			t.Skipf("this file system keeps no user attributes: %v", err)
		}
	}
	_, i := openWithTime(t, path)
	var line string
	for _, det := range i.Details {
		if det.Key == "systemd-coredump" {
			line = det.Value
		}
	}
	want := "2025-11-22T23:03:00Z, host web-01, /usr/local/bin/assertc, uid 1000, gid 1000, pid 28275, signal 6"
	if line != want {
		t.Errorf("systemd-coredump detail %q\nwant %q", line, want)
	}
}

// openWithTime opens the dump at path and checks that its time is the
// test core's crash time.
func openWithTime(t *testing.T, path string) (*Dump, model.Info) {
	t.Helper()
	d, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	i := d.Info()
	if want := time.UnixMicro(1763852580123456).UTC(); !i.Time.Equal(want) {
		t.Errorf("time %v, want %v", i.Time, want)
	}
	return d, i
}
