//go:build linux

package crashcfg

import "syscall"

// lxHostRlimitCore is this process's RLIMIT_CORE (getrlimit(2));
// RLIM_INFINITY (all ones) reads as math.MaxUint64.
func lxHostRlimitCore() (soft, hard uint64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &rl); err != nil {
		return 0, 0, false
	}
	// RLIM_INFINITY is all ones, which is math.MaxUint64 already.
	return rl.Cur, rl.Max, true
}

// lxHostStatfs is the free (available to unprivileged users) and total
// size of the file system holding path (statfs(2)).
func lxHostStatfs(path string) (free, size uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, false
	}
	bs := uint64(st.Bsize)
	return st.Bavail * bs, st.Blocks * bs, true
}
