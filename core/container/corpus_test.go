package container

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"
)

// The shared corpus lives beside the repository; the tests skip without it.
const corpusDir = "../../../shared/corpus/"

func corpusFile(t *testing.T, rel string) string {
	t.Helper()
	p := corpusDir + rel
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not present (%v); skipping", p, err)
	}
	return p
}

func TestCorpusZstdCore(t *testing.T) {
	p := corpusFile(t, "drgn/multithreaded.core.zst")
	cache := t.TempDir()
	start := time.Now()
	u, err := Unpack(context.Background(), p, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unpacked in %v (%d bytes on disk)", time.Since(start), diskUsage(t, u.Path))
	if u.Kind != Zstd || u.Size != 101_232_640 {
		t.Fatalf("got %+v, want zst of 101232640 bytes", u)
	}
	f, err := os.Open(u.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 18)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(head, []byte("\x7fELF")) || !looksLikeDump(head) {
		t.Errorf("head % x is not an ELF core", head)
	}
	start = time.Now()
	if _, err := Unpack(context.Background(), p, Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	t.Logf("cache hit in %v", time.Since(start))
}

func TestCorpusBzip2Core(t *testing.T) {
	p := corpusFile(t, "elfutils/testfile62.bz2")
	u, err := Unpack(context.Background(), p, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if u.Kind != Bzip2 || u.Size != 16_064 {
		t.Fatalf("got %+v, want bz2 of 16064 bytes", u)
	}
	if !looksLikeDump(readAll(t, u.Path)[:64]) {
		t.Error("not an ELF core")
	}
}
