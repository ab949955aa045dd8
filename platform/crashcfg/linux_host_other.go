//go:build !linux

package crashcfg

// Reading a Linux machine from elsewhere (a fixture tree, a mounted
// disk): this process's limits and disks are not that machine's.

func lxHostRlimitCore() (soft, hard uint64, ok bool) { return 0, 0, false }

func lxHostStatfs(path string) (free, size uint64, ok bool) { return 0, 0, false }
