// Command planted writes a minidump whose heap holds one fake secret of
// every kind core/secrets detects, in ASCII and in UTF-16LE, among random
// bytes: the input of the secrets-scan screenshot (scripts/screenshots.sh)
// and a file to try `crashbench secrets` on. The secrets are made up
// (core/secrets/secretstest); the dump comes from minidumptest.
//
// usage: go run ./scripts/planted FILE
package main

import (
	"fmt"
	"os"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/core/secrets"
	"github.com/crashbench/crashbench/core/secrets/secretstest"
)

const heapBase = 0x140000

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: planted FILE")
		os.Exit(1)
	}
	heap := secretstest.Random(512<<10, 1)
	off := 100
	for _, enc := range []secrets.Encoding{secrets.ASCII, secrets.UTF16LE} {
		for _, c := range secretstest.Secrets() {
			secretstest.Plant(heap, heapBase, off, c, enc)
			off += 9973
		}
	}
	b, err := minidumptest.Scenarios()["amd64-av-write"]().Memory(minidumptest.Memory{Start: heapBase, Bytes: heap}).Bytes()
	if err == nil {
		err = os.WriteFile(os.Args[1], b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "planted:", err)
		os.Exit(1)
	}
}
