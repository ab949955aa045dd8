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
	"os"
	"os/signal"

	// Blank-imported first of all: it must run before Fyne's init (see its doc).
	_ "crashbench.dev/earlylocale"

	"fyne.io/fyne/v2/app"

	crashapp "github.com/crashbench/crashbench/app"
	"github.com/crashbench/crashbench/app/cli"
)

// appID is the application's reverse-DNS ID, as in FyneApp.toml. Fyne keys
// preferences and storage on it.
const appID = "io.crashbench.app"

func main() {
	args := os.Args[1:]
	if cli.IsSubcommand(args) {
		// Before anything touches Fyne: GLFW panics without a display,
		// and the CLI must work on servers and over ssh.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := cli.Main(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	a := app.NewWithID(appID)
	w := crashapp.Run(a, files(args))
	w.ShowAndRun()
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
