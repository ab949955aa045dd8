package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzUnpack feeds arbitrary bytes as a file. Unpack must not panic, hang
// or allocate without bound (MaxBytes and MaxWindow are small), and every
// error must be an *Error.
func FuzzUnpack(f *testing.F) {
	data := payload(70_000)
	readme := []byte("readme")
	for _, seed := range [][]byte{
		gzBytes(f, data),
		xzBytes(f, data[:5000]),
		zstBytes(f, data),
		readAll(f, "testdata/payload-bzip2cli.bz2"),
		readAll(f, "testdata/payload-2streams-padded.xz"),
		zipBytes(f, zipFile{"a", readme, 8}, zipFile{"core", data, 8}),
		zipBytes(f, zipFile{"core.gz", gzBytes(f, data[:3000]), 0}),
		cabBytes(f, cabSpecFolder{comp: 0, files: []cabSpecFile{{"r", readme}}},
			cabSpecFolder{comp: 1, files: []cabSpecFile{{"core", data}}}),
		cabBytes(f, cabSpecFolder{comp: 0, resvData: 2, noCsum: true, files: []cabSpecFile{{"core", data[:2000]}}}),
		[]byte("MSCF\x00\x00\x00\x00"),
		{0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0x40, 1, 0, 0},
	} {
		f.Add(seed)
	}
	syncOutput = false // an fsync per input would dominate the run time
	defer func() { syncOutput = true }()
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "in")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		u, err := Unpack(context.Background(), p, Options{
			CacheDir:  filepath.Join(dir, "cache"),
			MaxBytes:  1 << 20,
			MaxWindow: 1 << 20,
			MinFree:   -1,
		})
		if err != nil {
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			return
		}
		if u.Size > 1<<20 {
			t.Fatalf("size %d over budget", u.Size)
		}
	})
}
