package breakpad

import (
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/internal/symtab"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// FuzzBreakpadText parses arbitrary text and exercises every lookup and
// the evaluator on whatever rules and programs it yields: nothing may
// panic, and a MODULE-less text must fail with *FormatError.
func FuzzBreakpadText(f *testing.F) {
	f.Add(smallSym)
	f.Add("MODULE Linux x86_64 BBA6 linux_inline\nINFO CODE_ID 10FA\nFILE 0 a.cpp\nINLINE_ORIGIN 0 bar()\n" +
		"FUNC 15b30 6cf 0 main\nINLINE 0 42 0 0 15b45 6b1 15c00 10\nINLINE 1 39 0 0 15b72 684\n15b30 15 41 0\n")
	f.Add("MODULE a b c d\nSTACK CFI INIT 10 20 .cfa: $rsp 8 + .ra: .cfa -8 + ^\nSTACK CFI 18 $rbx: .cfa 16 - ^ .cfa: $rsp 16 +\n")
	f.Add("MODULE a b c d\nSTACK WIN 4 10 20 1 0 4 8 0 0 1 $T0 $ebp = $eip $T0 4 + ^ = $esp $T0 8 @ =\nSTACK WIN 0 10 8 0 0 0 0 0 0 0 1\n")
	// The corpus's .sym files (their first 16 KiB), when it is there.
	for _, b := range fixture.CorpusSeeds(f, 16<<10, "MODULE ") {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		file, err := Parse(strings.NewReader(text))
		if err != nil {
			return
		}
		deref := func(a uint64) (uint64, error) { return a * 3, nil }
		probe := []uint64{0, 1, 0x10, 0x18, 0x1000, 0x15b50, 0x161b6, ^uint64(0)}
		for _, fn := range file.funcs {
			probe = append(probe, fn.rva, fn.rva+fn.size/2, fn.rva+fn.size)
		}
		for _, in := range file.cfiInits {
			probe = append(probe, in.rva, in.rva+in.size-1)
		}
		for _, w := range file.wins {
			probe = append(probe, w.rva)
		}
		if len(probe) > 256 {
			probe = probe[:256]
		}
		for _, rva := range probe {
			file.LookupRVA(rva)
			file.LineAt(rva)
			if r, ok := file.CFIRules(rva); ok {
				_, _ = r.Recover(&Evaluator{Vars: map[string]uint64{"$rsp": 8, "$esp": 8}, Deref: deref})
			}
			if w, ok := file.WinFrame(rva); ok && w.HasProgramString {
				ev := &Evaluator{Width: 4, Vars: map[string]uint64{"$ebp": 8, "$esp": 8}, Deref: deref}
				_ = ev.Run(w.ProgramString)
			}
		}
		n := 0
		file.Symbols(func(s symtab.Symbol) bool { n++; return n < 1000 })
		// The evaluator on the raw text, as if it were a program.
		_ = (&Evaluator{Deref: deref}).Run(text)
		_, _ = (&Evaluator{}).Eval(text)
	})
}
