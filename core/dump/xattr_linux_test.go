package dump

import "syscall"

func setXattr(path, name, value string) error {
	return syscall.Setxattr(path, name, []byte(value), 0)
}
