package crashcfg

import "slices"

// Cause is a likely reason a crash left no dump (or only part of one).
type Cause struct {
	Check
	Rank int // 1 is the most likely
}

// Explain answers "why is there no dump?" from the same facts as the
// preflight: checks that fail come first (each alone loses the dump),
// then warnings (a dump may be lost or cut short), then what could not be
// checked (it may be the cause; look at it by hand). Within each, the
// checks keep the preflight's order, which follows the chain from the
// crash to the file on disk, so an earlier break explains a later one.
// Passing checks are left out.
func Explain(checks []Check) []Cause {
	order := map[Status]int{Fail: 0, Warn: 1, Unknown: 2}
	var causes []Cause
	for _, c := range checks {
		if _, ok := order[c.Status]; ok {
			causes = append(causes, Cause{Check: c})
		}
	}
	slices.SortStableFunc(causes, func(a, b Cause) int { return order[a.Status] - order[b.Status] })
	for i := range causes {
		causes[i].Rank = i + 1
	}
	return causes
}
