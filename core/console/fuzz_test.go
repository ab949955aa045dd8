package console_test

import (
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

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
