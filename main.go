//go:build !headless

// Command crashbench is the crash-dump workbench. With a subcommand
// (`crashbench info FILE`) it is a headless tool; otherwise it opens the
// workbench window with the dump files given as arguments, which is what a
// double-click on a dump runs. See ../shared/spec/cli.md.
//
// This is the only file that imports fyne.io/fyne/v2/app: everything else
// receives a fyne.App, so it can be tested with Fyne's test driver.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	// Blank-imported first of all: it must run before Fyne's init (see its doc).
	_ "crashbench.dev/earlylocale"

	"fyne.io/fyne/v2/app"

	crashapp "github.com/crashbench/crashbench/app"
	"github.com/crashbench/crashbench/app/cli"
	"github.com/crashbench/crashbench/platform"
)

// appID is the application's reverse-DNS ID, as in FyneApp.toml. Fyne keys
// preferences and storage on it.
const appID = "io.crashbench.app"

func main() {
	args := os.Args[1:]
	if len(args) == 1 && args[0] == "--register" {
		os.Exit(register())
	}
	if cli.IsSubcommand(args) {
		// Before anything touches Fyne: GLFW panics without a display,
		// and the CLI must work on servers and over ssh.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := cli.Main(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	dumps := absolute(files(args))
	// One workbench per user: hand the files to a running one and exit.
	sock := platform.InstanceSocket()
	if ok, err := platform.HandOff(sock, dumps); ok {
		os.Exit(0)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "crashbench:", err)
	}
	if why := platform.NoDisplay(os.Getenv); why != "" {
		example := "crashbench info FILE"
		if len(dumps) > 0 {
			example = "crashbench analyze " + dumps[0]
		}
		fmt.Fprintf(os.Stderr, "crashbench: %s; the commands work without one, e.g. %s (crashbench help lists them)\n", why, example)
		os.Exit(cli.ExitUsage)
	}
	var incoming <-chan []string
	if in, err := platform.Listen(sock); err == nil {
		defer in.Close()
		incoming = in.Files()
	}
	a := app.NewWithID(appID)
	w := crashapp.Run(a, dumps, incoming)
	w.ShowAndRun()
}

// register is `crashbench --register`: this executable becomes the
// handler of dump files for the user (a double-click opens the workbench).
func register() int {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashbench --register:", err)
		return cli.ExitBadInput
	}
	r, err := platform.Register(exe)
	if r != nil {
		fmt.Printf("registered %s\n  %s\n  %s\n", exe, r.DesktopFile, r.MIMEFile)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashbench --register:", err)
		if r == nil {
			return cli.ExitBadInput
		}
	}
	return cli.ExitOK
}

// absolute makes paths absolute: a running workbench handed them has
// another working directory.
func absolute(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		out[i] = p
	}
	return out
}

// files returns the arguments that name dumps. A lone "--" ends options,
// for a dump whose name starts with a dash; GUI launchers pass plain paths.
func files(args []string) []string {
	for i, a := range args {
		if a == "--" {
			return append(args[:i:i], args[i+1:]...)
		}
	}
	return args
}
