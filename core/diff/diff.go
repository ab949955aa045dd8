// Package diff compares two crashes side by side from their analysis
// reports (session.AnalysisReport): the system, the crash, the crashing
// threads' stacks aligned frame by frame, and the modules with their
// versions. It is what `crashbench diff` prints.
//
// Stacks are aligned by a longest-common-subsequence over frame keys
// (module and function, or module and offset when the function is
// unknown), so frames inserted or removed in one stack and addresses
// moved by ASLR do not disturb the rest of the alignment. Each aligned
// row is marked "=" (same frame), "~" (same function, different offset
// or line), "-" (only in A) or "+" (only in B). Modules are matched by
// name: a module whose base alone moved is noted as rebased (ASLR), not
// counted as a change.
package diff

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/report"
)

// Schema names the JSON shape of a Diff.
const Schema = "crashbench.diff/1"

// Frame alignment marks.
const (
	OpSame     = "="
	OpMoved    = "~" // same function, different offset or line
	OpRemoved  = "-" // only in A
	OpInserted = "+" // only in B
)

// Module change kinds.
const (
	ModAdded   = "added"   // only in B
	ModRemoved = "removed" // only in A
	ModChanged = "changed" // version, build or identity differs
	ModRebased = "rebased" // only the base differs: ASLR, not a change
)

// Diff is the comparison of crash A with crash B.
type Diff struct {
	Schema string `json:"schema"`
	A      Side   `json:"a"`
	B      Side   `json:"b"`
	Same   bool   `json:"same"` // nothing below differs
	// SameCrash says whether the crash facts and the crashing stack agree
	// (= rows only), whatever the system, time and modules.
	SameCrash bool      `json:"same_crash"`
	Changes   int       `json:"differences"` // how many rows differ
	System    []Field   `json:"system"`
	Crash     []Field   `json:"crash"`
	Stack     Stack     `json:"stack"`
	Modules   ModuleSet `json:"modules"`
}

// Side names one of the two dumps.
type Side struct {
	Path    string `json:"path,omitempty"`
	Format  string `json:"format,omitempty"`
	Variant string `json:"variant,omitempty"`
}

// Field is one compared fact; A or B is empty when that dump does not say.
type Field struct {
	Name string `json:"name"`
	A    string `json:"a,omitempty"`
	B    string `json:"b,omitempty"`
	Same bool   `json:"same"`
}

// Stack is the crashing threads' stacks aligned.
type Stack struct {
	ThreadA *uint64     `json:"thread_a,omitempty"`
	ThreadB *uint64     `json:"thread_b,omitempty"`
	Same    bool        `json:"same"`
	Frames  []FramePair `json:"frames,omitempty"`
}

// FramePair is one row of the alignment: A is absent for "+", B for "-".
type FramePair struct {
	Op string        `json:"op"`
	A  *report.Frame `json:"a,omitempty"`
	B  *report.Frame `json:"b,omitempty"`
}

// ModuleSet is the modules compared by name.
type ModuleSet struct {
	Same    int            `json:"same"` // identical, or rebased only
	Changes []ModuleChange `json:"changes,omitempty"`
}

// ModuleChange is a module added, removed, changed or rebased. Fields
// lists what differs (version, build_id, debug_id, code_id, timestamp,
// size, path, base).
type ModuleChange struct {
	Name   string         `json:"name"`
	Change string         `json:"change"`
	Fields []string       `json:"fields,omitempty"`
	A      *report.Module `json:"a,omitempty"`
	B      *report.Module `json:"b,omitempty"`
}

// Reports compares two analysis reports. Neither is modified.
func Reports(a, b *report.Report) *Diff {
	if a == nil {
		a = &report.Report{}
	}
	if b == nil {
		b = &report.Report{}
	}
	d := &Diff{Schema: Schema, A: side(a), B: side(b)}
	d.System = fields(systemFacts(a), systemFacts(b))
	d.Crash = fields(crashFacts(a), crashFacts(b))
	d.Stack = stacks(a, b)
	d.Modules = modules(a, b)
	for _, fs := range [][]Field{d.System, d.Crash} {
		for _, f := range fs {
			if !f.Same {
				d.Changes++
			}
		}
	}
	for _, f := range d.Stack.Frames {
		if f.Op != OpSame {
			d.Changes++
		}
	}
	for _, m := range d.Modules.Changes {
		if m.Change != ModRebased {
			d.Changes++
		}
	}
	d.Same = d.Changes == 0
	d.SameCrash = d.Stack.Same
	for _, f := range d.Crash {
		d.SameCrash = d.SameCrash && f.Same
	}
	return d
}

func side(r *report.Report) Side {
	s := Side{Format: r.Format, Variant: r.Variant}
	if r.File != nil {
		s.Path = r.File.Path
	}
	return s
}

// fact is a named value of one report.
type fact struct{ name, value string }

func systemFacts(r *report.Report) []fact {
	var os, build string
	if r.OS != nil {
		os = strings.TrimSpace(r.OS.Family + " " + r.OS.Version)
		build = r.OS.Build
		if r.OS.Release != "" {
			build = strings.TrimSpace(r.OS.Release + " " + build)
		}
	}
	var cpus, when, uptime, process string
	if r.CPUs > 0 {
		cpus = strconv.Itoa(r.CPUs)
	}
	if r.Time != nil {
		when = r.Time.Crash
		if r.Time.UptimeSeconds > 0 {
			uptime = strconv.FormatInt(r.Time.UptimeSeconds, 10) + " s"
		}
	}
	if r.Process != nil {
		process = r.Process.Name
	}
	arch := r.Arch
	if r.ABI != "" {
		arch += " (" + r.ABI + ")"
	}
	return []fact{{"format", strings.TrimSpace(r.Format + " " + r.Variant)}, {"os", os}, {"build", build},
		{"arch", arch}, {"cpus", cpus}, {"process", process}, {"uptime", uptime}, {"time", when}}
}

func crashFacts(r *report.Report) []fact {
	var kind, code, name, addr, msg string
	if c := r.Crash; c != nil {
		kind, code, name, addr, msg = c.Kind, c.CodeHex, c.Name, c.Address, c.Message
	}
	var reason, frame, sig, bucket string
	if an := r.Analysis; an != nil {
		reason, frame, sig, bucket = an.Reason, an.FaultingFrame, an.Signature, an.BucketID
	}
	return []fact{{"kind", kind}, {"code", code}, {"name", name}, {"address", addr}, {"message", msg},
		{"reason", reason}, {"faulting_frame", frame}, {"signature", sig}, {"bucket", bucket}}
}

// fields pairs facts of the same names, leaving out those neither says.
func fields(a, b []fact) []Field {
	var out []Field
	for i := range a {
		if a[i].value == "" && b[i].value == "" {
			continue
		}
		out = append(out, Field{Name: a[i].name, A: a[i].value, B: b[i].value, Same: a[i].value == b[i].value})
	}
	return out
}

// crashingThread returns the thread that crashed: the one marked so, else
// the crash's thread id, else the first.
func crashingThread(r *report.Report) *report.Thread {
	for i := range r.Threads {
		if r.Threads[i].Crashed {
			return &r.Threads[i]
		}
	}
	if r.Crash != nil && r.Crash.ThreadID != nil {
		for i := range r.Threads {
			if r.Threads[i].ID == *r.Crash.ThreadID {
				return &r.Threads[i]
			}
		}
	}
	if len(r.Threads) > 0 {
		return &r.Threads[0]
	}
	return nil
}

func stacks(a, b *report.Report) Stack {
	var s Stack
	var fa, fb []report.Frame
	if t := crashingThread(a); t != nil {
		id := t.ID
		s.ThreadA, fa = &id, t.Frames
	}
	if t := crashingThread(b); t != nil {
		id := t.ID
		s.ThreadB, fb = &id, t.Frames
	}
	s.Frames = Align(fa, fb)
	s.Same = true
	for _, p := range s.Frames {
		s.Same = s.Same && p.Op == OpSame
	}
	return s
}

// frameKey is what makes two frames the same call: module and function,
// or module and offset when the function is unknown, or the address when
// even the module is.
func frameKey(f *report.Frame) string {
	mod := strings.ToLower(f.Module)
	switch {
	case f.Function != "":
		return mod + "!" + f.Function
	case f.Module != "":
		return mod + "+" + f.Offset
	default:
		return "@" + f.PC
	}
}

// Align aligns two stacks, innermost frame first, by a longest common
// subsequence of their frame keys. Rows only in A come before rows only
// in B where both have some.
func Align(a, b []report.Frame) []FramePair {
	ka := make([]string, len(a))
	kb := make([]string, len(b))
	for i := range a {
		ka[i] = frameKey(&a[i])
	}
	for j := range b {
		kb[j] = frameKey(&b[j])
	}
	// l[i][j] is the LCS length of ka[i:] and kb[j:].
	w := len(b) + 1
	l := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			switch {
			case ka[i] == kb[j]:
				l[i*w+j] = l[(i+1)*w+j+1] + 1
			case l[(i+1)*w+j] >= l[i*w+j+1]:
				l[i*w+j] = l[(i+1)*w+j]
			default:
				l[i*w+j] = l[i*w+j+1]
			}
		}
	}
	var out []FramePair
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && ka[i] == kb[j]:
			op := OpSame
			if !sameSpot(&a[i], &b[j]) {
				op = OpMoved
			}
			out = append(out, FramePair{Op: op, A: &a[i], B: &b[j]})
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || l[(i+1)*w+j] >= l[i*w+j+1]):
			out = append(out, FramePair{Op: OpRemoved, A: &a[i]})
			i++
		default:
			out = append(out, FramePair{Op: OpInserted, B: &b[j]})
			j++
		}
	}
	return out
}

// sameSpot reports whether two frames of the same key are at the same
// place in their function: offset, file and line (the pc may differ under
// ASLR).
func sameSpot(a, b *report.Frame) bool {
	return a.Offset == b.Offset && a.Line == b.Line && a.File == b.File
}

// moduleKey matches modules across dumps: the name, case-insensitively
// (Windows spells one DLL several ways), and whether it is unloaded.
func moduleKey(m *report.Module) string {
	k := strings.ToLower(m.Name)
	if k == "" {
		k = strings.ToLower(m.Path)
	}
	if m.Unloaded {
		k += " (unloaded)"
	}
	return k
}

func modules(a, b *report.Report) ModuleSet {
	var set ModuleSet
	// Several modules may share a name: pair them in order.
	index := func(ms []report.Module) (map[string][]int, []string) {
		m := map[string][]int{}
		var order []string
		for i := range ms {
			k := moduleKey(&ms[i])
			if _, ok := m[k]; !ok {
				order = append(order, k)
			}
			m[k] = append(m[k], i)
		}
		return m, order
	}
	ia, orderA := index(a.Modules)
	ib, orderB := index(b.Modules)
	for _, k := range orderA {
		as, bs := ia[k], ib[k]
		for n, i := range as {
			ma := &a.Modules[i]
			if n >= len(bs) {
				set.Changes = append(set.Changes, ModuleChange{Name: ma.Name, Change: ModRemoved, A: ma})
				continue
			}
			mb := &b.Modules[bs[n]]
			diffs := moduleFields(ma, mb)
			switch {
			case len(diffs) == 0:
				set.Same++
			case len(diffs) == 1 && diffs[0] == "base":
				set.Same++
				set.Changes = append(set.Changes, ModuleChange{Name: ma.Name, Change: ModRebased, Fields: diffs, A: ma, B: mb})
			default:
				set.Changes = append(set.Changes, ModuleChange{Name: ma.Name, Change: ModChanged, Fields: diffs, A: ma, B: mb})
			}
		}
	}
	for _, k := range orderB {
		as, bs := ia[k], ib[k]
		for n := len(as); n < len(bs); n++ {
			mb := &b.Modules[bs[n]]
			set.Changes = append(set.Changes, ModuleChange{Name: mb.Name, Change: ModAdded, B: mb})
		}
	}
	return set
}

// moduleFields lists what differs between two modules of the same name.
func moduleFields(a, b *report.Module) []string {
	var out []string
	add := func(name string, differ bool) {
		if differ {
			out = append(out, name)
		}
	}
	add("version", a.Version != b.Version)
	add("build_id", a.BuildID != b.BuildID)
	add("debug_id", a.DebugID != b.DebugID)
	add("code_id", a.CodeID != b.CodeID)
	add("timestamp", a.Timestamp != b.Timestamp)
	add("size", a.Size != b.Size)
	add("path", !strings.EqualFold(a.Path, b.Path))
	add("base", a.Base != b.Base)
	return out
}

// FrameText is a frame as one line: module!function+offset [file @ line].
func FrameText(f *report.Frame) string {
	var s string
	switch {
	case f.Function != "" && f.Module != "":
		s = f.Module + "!" + f.Function
	case f.Function != "":
		s = f.Function
	case f.Module != "":
		s = f.Module
	default:
		return f.PC
	}
	if f.Offset != "" && f.Offset != "0x0" {
		s += "+" + f.Offset
	}
	if f.File != "" {
		s += " [" + f.File
		if f.Line > 0 {
			s += " @ " + strconv.Itoa(f.Line)
		}
		s += "]"
	} else if f.Line > 0 {
		s += fmt.Sprintf(" [line %d]", f.Line)
	}
	return s
}
