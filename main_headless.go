//go:build headless

// Command crashbench, built with -tags headless, is the command-line half
// of the workbench: no Fyne, no GL and no GTK are linked, so it starts in a
// few milliseconds and runs on servers for batch bucketing (rust-minidump's
// minidump-stackwalk idea). Subcommands behave exactly as in the GUI build.
// `make build` installs it as bin/crashbench beside the GUI build,
// bin/crashbench-workbench: asked for the window (`crashbench FILE`, or no
// arguments), it hands over to that binary, in place (exec), so that
// double-clicks and scripts see one program.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"

	"github.com/crashbench/crashbench/app/cli"
)

// workbenchName is the GUI build's file name, beside this one.
const workbenchName = "crashbench-workbench"

func main() {
	args := os.Args[1:]
	if !cli.IsSubcommand(args) {
		if wb, ok := workbenchBeside(); ok {
			err := execWorkbench(wb, args) // returns only on failure
			fmt.Fprintf(os.Stderr, "crashbench: starting %s: %v\n", wb, err)
			os.Exit(cli.ExitBadInput)
		}
		if len(args) > 0 {
			fmt.Fprintf(os.Stderr, "crashbench: this build has no workbench window and no %s beside it; try: crashbench info FILE\n", workbenchName)
			os.Exit(cli.ExitUsage)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// workbenchBeside returns the GUI build in this executable's folder.
func workbenchBeside() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	name := workbenchName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	p := filepath.Join(filepath.Dir(exe), name)
	if fi, err := os.Stat(p); err != nil || fi.IsDir() {
		return "", false
	}
	return p, true
}
