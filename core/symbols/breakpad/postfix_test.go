package breakpad

import (
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
)

func TestEval(t *testing.T) {
	t.Parallel()
	memory := memtest.Map{0x1000: {0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a}}
	vars := map[string]uint64{"$rsp": 0x1000, ".cfa": 0x2000, "$esp": 0xfffffffc}
	tests := map[string]struct {
		expr  string
		width int
		want  uint64
		err   error
	}{
		"literal":           {expr: "42", want: 42},
		"negative literal":  {expr: "-8", want: ^uint64(7)},
		"hex literal":       {expr: "0x10", want: 16},
		"add":               {expr: "$rsp 16 +", want: 0x1010},
		"sub order":         {expr: ".cfa 8 -", want: 0x1ff8},
		"plus negative":     {expr: ".cfa -8 +", want: 0x1ff8},
		"mul div mod":       {expr: "7 6 * 5 / 3 %", want: 2},
		"align":             {expr: "0x1237 16 @", want: 0x1230},
		"deref 64":          {expr: "$rsp ^", want: 0x9abcdef012345678},
		"deref 32":          {expr: "$rsp ^", width: 4, want: 0x12345678},
		"wrap 32":           {expr: "$esp 8 +", width: 4, want: 4},
		"extra spaces":      {expr: "  $rsp   8 +  ", want: 0x1008},
		"divide by zero":    {expr: "1 0 /", err: ErrDivideByZero},
		"mod by zero":       {expr: "1 0 %", err: ErrDivideByZero},
		"bad align":         {expr: "16 3 @", err: ErrSyntax},
		"undefined":         {expr: "$rax 8 +", err: ErrUndefined},
		"underflow":         {expr: "8 +", err: ErrStack},
		"leftover":          {expr: "1 2", err: ErrStack},
		"empty":             {expr: "", err: ErrStack},
		"bad token":         {expr: "1 foo +", err: ErrSyntax},
		"lonely sigil":      {expr: "$ 1 +", err: ErrSyntax},
		"assignment":        {expr: "$a 1 =", err: ErrSyntax},
		"unmapped deref":    {expr: "16 ^", err: mem.ErrUnmapped},
		"deref underflow":   {expr: "^", err: ErrStack},
		"huge literal":      {expr: "99999999999999999999999", err: ErrSyntax},
		"lone minus number": {expr: "-", err: ErrStack},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v := map[string]uint64{}
			for k, x := range vars {
				v[k] = x
			}
			width := tc.width
			if width == 0 {
				width = 8
			}
			ev := &Evaluator{Vars: v, Width: tc.width, Deref: DerefFrom(memory, width)}
			got, err := ev.Eval(tc.expr)
			if tc.err != nil {
				var ee *EvalError
				if !errors.Is(err, tc.err) || !errors.As(err, &ee) {
					t.Fatalf("Eval(%q) = %#x, %v; want error %v", tc.expr, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("Eval(%q) = %#x, %v; want %#x", tc.expr, got, err, tc.want)
			}
		})
	}
}

func TestEvalNoMemory(t *testing.T) {
	t.Parallel()
	if _, err := (&Evaluator{}).Eval("16 ^"); !errors.Is(err, ErrNoDeref) {
		t.Errorf("deref without memory: %v", err)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		prog string
		want map[string]uint64
		err  error
	}{
		"assign":        {prog: "$T0 $ebp = $eip $T0 4 + =", want: map[string]uint64{"$T0": 0x100, "$eip": 0x104}},
		"reassign":      {prog: "$T0 1 = $T0 $T0 1 + =", want: map[string]uint64{"$T0": 2}},
		"empty":         {prog: "", want: map[string]uint64{}},
		"leftover":      {prog: "$T0 1 = 5", err: ErrStack},
		"no target":     {prog: "1 =", err: ErrStack},
		"bad target":    {prog: "1 2 =", err: errNotAssignable},
		"dot target":    {prog: ".cfa 2 =", err: errNotAssignable},
		"undefined rhs": {prog: "$T0 $nope =", err: ErrUndefined},
		// MSVC glues "=" to the next token in some FrameData programs.
		"glued assign": {prog: "$T0 $ebp 4 + =$eip $T0 8 + =", want: map[string]uint64{"$T0": 0x104, "$eip": 0x10c}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ev := &Evaluator{Width: 4}
			if name != "empty" {
				ev.Vars = map[string]uint64{"$ebp": 0x100}
			}
			err := ev.Run(tc.prog)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Run(%q) = %v, want %v", tc.prog, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if ev.Vars[k] != v {
					t.Errorf("%s = %#x, want %#x", k, ev.Vars[k], v)
				}
			}
		})
	}
}

func TestRecoverMissingRules(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		rules Rules
		err   error
	}{
		"no ra":      {Rules{".cfa": "$rsp 8 +"}, ErrMissingRule},
		"no cfa":     {Rules{".ra": ".cfa 8 - ^"}, ErrMissingRule},
		"bad cfa":    {Rules{".cfa": "$nope", ".ra": "1"}, ErrUndefined},
		"bad ra":     {Rules{".cfa": "$rsp", ".ra": "1 0 /"}, ErrDivideByZero},
		"bad rbx ok": {Rules{".cfa": "$rsp", ".ra": "1", "$rbx": "$nope"}, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.rules.Recover(&Evaluator{Vars: map[string]uint64{"$rsp": 8}})
			if !errors.Is(err, tc.err) {
				t.Fatalf("Recover = %v, %v; want %v", got, err, tc.err)
			}
			if err == nil {
				if _, ok := got["$rbx"]; ok || got[".ra"] != 1 || got[".cfa"] != 8 {
					t.Errorf("Recover = %v", got)
				}
			}
		})
	}
}
