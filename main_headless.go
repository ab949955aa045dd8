//go:build headless

// Command crashbench, built with -tags headless, is the command-line half
// of the workbench only: no Fyne, no GL and no GTK are linked, so it starts
// fast and runs on servers for batch bucketing (rust-minidump's
// minidump-stackwalk idea). Subcommands behave exactly as in the GUI build.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/crashbench/crashbench/app/cli"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && !cli.IsSubcommand(args) {
		// `crashbench FILE` asks for the window this build does not have.
		fmt.Fprintln(os.Stderr, "crashbench: this build has no workbench window (built with -tags headless); try: crashbench info FILE")
		os.Exit(cli.ExitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
