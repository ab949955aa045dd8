package osfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestOpenPassesSizeAndClosesOnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("12345"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, f, err := Open(p, func(r io.ReaderAt, size int64) (int64, error) { return size, nil })
	if err != nil || n != 5 || f == nil {
		t.Fatalf("Open = %d, %v, %v", n, f, err)
	}
	f.Close()
	bad := errors.New("bad")
	_, f, err = Open(p, func(io.ReaderAt, int64) (int, error) { return 0, bad })
	if !errors.Is(err, bad) || f != nil {
		t.Fatalf("err = %v, file %v", err, f)
	}
	if _, _, err := Open(filepath.Join(t.TempDir(), "missing"), func(io.ReaderAt, int64) (int, error) { return 0, nil }); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
