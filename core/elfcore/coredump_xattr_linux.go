package elfcore

import "syscall"

func readXattr(path, name string) (string, bool) {
	buf := make([]byte, maxXattr)
	n, err := syscall.Getxattr(path, name, buf)
	if err != nil || n < 0 || n > len(buf) {
		return "", false
	}
	return string(buf[:n]), true
}
