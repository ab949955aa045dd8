package breakpad

import (
	"errors"
	"sort"
	"strings"
)

// Rules maps a register to the postfix expression that recovers the
// caller's value of it: ".cfa" (the canonical frame address), ".ra" (the
// return address) and callee-saved registers such as "$rbx" or "$ebp". The
// expressions may use ".cfa" and the callee's registers ("$rsp").
type Rules map[string]string

// ParseRules parses the rule text of a STACK CFI record, "reg: expr reg:
// expr ...". A later rule for the same register replaces the earlier one.
func ParseRules(text string) (Rules, error) {
	r := Rules{}
	if err := r.add(text); err != nil {
		return nil, err
	}
	return r, nil
}

var errRules = errors.New("malformed CFI rules")

func (r Rules) add(text string) error {
	reg := ""
	var expr []string
	flush := func() error {
		if reg == "" {
			return nil
		}
		if len(expr) == 0 {
			return errRules
		}
		r[reg] = strings.Join(expr, " ")
		return nil
	}
	n := 0
	for tok := range strings.FieldsSeq(text) {
		if strings.HasSuffix(tok, ":") {
			if err := flush(); err != nil {
				return err
			}
			reg, expr = tok[:len(tok)-1], expr[:0]
			if reg == "" {
				return errRules
			}
			n++
			continue
		}
		if reg == "" {
			return errRules
		}
		expr = append(expr, tok)
	}
	if n == 0 {
		return errRules
	}
	return flush()
}

// CFIRules returns the CFI rules in force at rva: those of the STACK CFI
// INIT record whose range contains rva, updated by each STACK CFI record of
// that range at or before rva. ok is false when no INIT covers rva.
func (f *File) CFIRules(rva uint64) (Rules, bool) {
	i := sort.Search(len(f.cfiInits), func(i int) bool { return f.cfiInits[i].rva > rva }) - 1
	if i < 0 {
		return nil, false
	}
	in := f.cfiInits[i]
	if rva-in.rva >= in.size {
		return nil, false
	}
	r := Rules{}
	_ = r.add(f.s(in.rules)) // validated while parsing
	for _, d := range f.cfiDeltas[in.deltas[0]:in.deltas[1]] {
		if d.rva > rva {
			break
		}
		_ = r.add(f.s(d.rules))
	}
	return r, true
}

// Recover evaluates the rules for one frame. ev holds the callee's
// registers ("$rsp", "$rip", ...) and the memory callback; Recover first
// computes ".cfa", sets it in ev.Vars, then every other rule. It returns
// the recovered values by rule name (".cfa", ".ra", "$rbx", ...). Rules that
// fail to evaluate are left out, as Breakpad does, except that a failure
// of ".cfa" or ".ra" is an error (ErrMissingRule when absent).
func (r Rules) Recover(ev *Evaluator) (map[string]uint64, error) {
	cfaExpr, ok1 := r[".cfa"]
	_, ok2 := r[".ra"]
	if !ok1 || !ok2 {
		return nil, &EvalError{Token: -1, What: "rules lack .cfa or .ra", Err: ErrMissingRule}
	}
	cfa, err := ev.Eval(cfaExpr)
	if err != nil {
		return nil, err
	}
	if ev.Vars == nil {
		ev.Vars = map[string]uint64{}
	}
	ev.Vars[".cfa"] = cfa
	out := map[string]uint64{".cfa": cfa}
	for reg, expr := range r {
		if reg == ".cfa" {
			continue
		}
		v, err := ev.Eval(expr)
		if err != nil {
			if reg == ".ra" {
				return nil, err
			}
			continue
		}
		out[reg] = v
	}
	return out, nil
}
