//go:build linux || darwin || freebsd || dragonfly

// syscall.Statfs with Bavail/Bsize exists on these systems only (NetBSD,
// Solaris, illumos and AIX lack it; OpenBSD names the fields differently),
// so the tag lists them instead of "unix".

package container

import (
	"errors"
	"math"
	"syscall"
)

// freeSpace returns the bytes available to an unprivileged user on the
// file system holding dir.
func freeSpace(dir string) (int64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, false
	}
	free := uint64(st.Bavail) * uint64(st.Bsize)
	if free > math.MaxInt64 {
		free = math.MaxInt64
	}
	return int64(free), true
}

// isNoSpace reports a full disk (or quota).
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
