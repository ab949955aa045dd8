//go:build linux || darwin || freebsd

package container

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// TestSparse: 64 MiB of zeros must cost (almost) no disk.
func TestSparse(t *testing.T) {
	zeros := make([]byte, 64<<20)
	copy(zeros[1<<20:], "a little data in the middle")
	for _, tt := range []struct {
		name string
		file []byte
	}{
		{"zst", zstBytes(t, zeros)},
		{"gz", gzBytes(t, zeros)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Unpack(context.Background(), writeFile(t, tt.file), Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(u.Path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != int64(len(zeros)) {
				t.Fatalf("size %d, want %d", fi.Size(), len(zeros))
			}
			used := diskUsage(t, u.Path)
			t.Logf("%d bytes apparent, %d allocated", fi.Size(), used)
			if used > 1<<20 {
				t.Errorf("%d bytes allocated for a 64 MiB zero file: not sparse", used)
			}
			got := readAll(t, u.Path)
			if string(got[1<<20:1<<20+27]) != "a little data in the middle" {
				t.Error("data lost")
			}
		})
	}
}

// diskUsage is the space a file occupies on disk.
func diskUsage(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}
