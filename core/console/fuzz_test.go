package console_test

import (
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/console/consoletest"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

// FuzzExecGDB runs arbitrary lines, seeded with the gdb aliases, against
// the fake Linux core and minidump: commands must fail with errors, never
// panic, whatever their arguments.
func FuzzExecGDB(f *testing.F) {
	for _, s := range []string{"bt", "bt -2", "bt 0", "thread apply all bt 1", "t a a info r rip", "thread 2; up 3; down 9",
		"frame 9", "info threads", "i r $rip eflags", "info shared", "info proc map", "!address 0", "thread apply 1 2 3 bt", "f; up; up; up"} {
		f.Add(s, false)
	}
	e := console.New(console.Builtins()...)
	f.Fuzz(func(t *testing.T, line string, windows bool) {
		env := consoletest.LinuxCore()
		if windows {
			env = consoletest.AMD64AV()
		}
		_ = consoletest.Run(e, env, line)
	})
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"lm v", "~3 k; ~*k", `s -a 0 L?10 "x;y\"z"`, "~~[0x1a2b] r", "~.", "~#s", ".help lm", "!analyze -v", "? poi(@rsp)", "* x", "~~[", "|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		invs, err := console.ParseLine(line)
		if err != nil {
			var se *console.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("unstructured error %T: %v", err, err)
			}
			return
		}
		for _, inv := range invs {
			if inv.Name == "" && inv.Raw == "" {
				t.Fatalf("empty invocation from %q", line)
			}
		}
	})
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{"1+2*3", "poi(@rsp+8)", "app!main+0x10", "fffff800`00000000", "0n10 mod 3", "(((1)))", "-~!1", "dwo(1000) >> 0n64", "1 / 0"} {
		f.Add(s)
	}
	env := fakeEval{memtest.Map{0x1000: make([]byte, 16)}}
	f.Fuzz(func(t *testing.T, expr string) {
		_, err := console.Eval(expr, env)
		if err != nil {
			var ee *console.ExprError
			if !errors.As(err, &ee) {
				t.Fatalf("unstructured error %T: %v", err, err)
			}
			if ee.Col < 1 || ee.Col > len(expr)+1 {
				t.Fatalf("column %d out of range for %q", ee.Col, expr)
			}
		}
		_, _ = console.ParseRange(expr, env, 0x80)
	})
}
