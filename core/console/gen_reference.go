//go:build ignore

// gen_reference writes docs/commands.md from the builtin command table.
// Run it with go generate ./core/console.
package main

import (
	"bytes"
	"log"
	"os"

	"github.com/crashbench/crashbench/core/console"
)

func main() {
	var b bytes.Buffer
	if err := console.New(console.Builtins()...).WriteReference(&b); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("../../docs/commands.md", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
