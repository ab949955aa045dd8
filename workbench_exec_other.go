//go:build headless && !unix

package main

import (
	"errors"
	"os"
	"os/exec"
)

// execWorkbench runs the workbench and exits with its status (no exec(2)
// here).
func execWorkbench(path string, args []string) error {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		os.Exit(ee.ExitCode())
	}
	if err == nil {
		os.Exit(0)
	}
	return err
}
