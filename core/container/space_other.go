//go:build !(linux || darwin || freebsd || dragonfly)

package container

// freeSpace is not implemented here; MinFree is then not checked and only
// a failing write reports a full disk.
func freeSpace(string) (int64, bool) { return 0, false }

// isNoSpace cannot recognise a full disk portably on these systems.
func isNoSpace(error) bool { return false }
