//go:build headless && unix

package main

import (
	"os"
	"syscall"
)

// execWorkbench replaces this process with the workbench: same pid, same
// arguments and environment.
func execWorkbench(path string, args []string) error {
	return syscall.Exec(path, append([]string{path}, args...), os.Environ())
}
