//go:build unix

package mem

import (
	"errors"
	"math"
	"os"
	"syscall"
)

// mapFile maps the whole file read-only. MAP_SHARED shares the kernel's page
// cache, so nothing is copied or read until a page is touched.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || uint64(size) > math.MaxInt {
		return nil, errors.New("size cannot be mapped")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var data []byte
	var merr error
	// SyscallConn rather than Fd, which would switch the file to blocking
	// mode for the rest of its life if we fall back to ReadAt.
	if err := rc.Control(func(fd uintptr) {
		data, merr = syscall.Mmap(int(fd), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	}); err != nil {
		return nil, err
	}
	if merr != nil {
		return nil, merr
	}
	return data, nil
}

func unmapFile(data []byte) error { return syscall.Munmap(data) }
