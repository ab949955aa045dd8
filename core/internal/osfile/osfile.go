// Package osfile holds the one piece every format package's Open shares:
// open a file, learn its size and hand both to the package's NewFile.
package osfile

import (
	"io"
	"os"
)

// Open opens path read-only and calls newFile on it. On success the caller
// owns the returned *os.File and closes it with the parsed value; on
// failure it is already closed.
func Open[T any](path string, newFile func(r io.ReaderAt, size int64) (T, error)) (T, *os.File, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return zero, nil, err
	}
	v, err := newFile(f, st.Size())
	if err != nil {
		f.Close()
		return zero, nil, err
	}
	return v, f, nil
}
