package elfsym

import (
	"debug/dwarf"
	"io"
	"slices"
	"sort"

	"github.com/crashbench/crashbench/core/symbols"
)

// inlinedAt returns the chain of inlined calls at rva, innermost first:
// the innermost is at the line record (file, line), each outer one at the
// call site of the one inside it.
func inlinedAt(inls []inl, rva uint64, file string, line int) []symbols.Inline {
	var chain []inl
	for _, in := range inls {
		if rva < in.low || rva >= in.high {
			continue
		}
		dup := false
		for _, c := range chain {
			dup = dup || c.depth == in.depth
		}
		if !dup {
			chain = append(chain, in)
		}
	}
	if len(chain) == 0 {
		return nil
	}
	slices.SortFunc(chain, func(a, b inl) int { return b.depth - a.depth })
	out := make([]symbols.Inline, len(chain))
	for k, in := range chain {
		out[k] = symbols.Inline{Name: in.name, File: file, Line: line, CallFile: in.callFile, CallLine: in.callLine, Addr: in.low}
		file, line = in.callFile, in.callLine
	}
	return out
}

// containing returns the entry of fs (sorted by low) containing rva,
// preferring the one starting last (the innermost of nested ranges).
func containing(fs []fn, rva uint64) (fn, bool) {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].low > rva })
	for j := i - 1; j >= 0 && j >= i-32; j-- {
		if rva >= fs[j].low && rva < fs[j].high {
			return fs[j], true
		}
	}
	return fn{}, false
}

func (t *Table) lineAt(rva uint64) (string, int) {
	i := sort.Search(len(t.lines), func(i int) bool { return t.lines[i].rva > rva }) - 1
	if i < 0 || t.lines[i].end {
		return "", 0
	}
	return t.lines[i].file, t.lines[i].line
}

// readDWARF indexes the subprograms and line tables of d. It keeps what it
// read before an error.
func (t *Table) readDWARF(d *dwarf.Data) error {
	// scope is what encloses the entries being read: the function (0 for
	// none) and how many inlined calls deep they are.
	type scope struct {
		fn    dwarf.Offset
		depth int
	}
	var stack []scope
	cur := scope{}
	var files []*dwarf.LineFile
	r := d.Reader()
	var firstErr error
	for {
		e, err := r.Next()
		if err != nil {
			firstErr = err
			break
		}
		if e == nil {
			break
		}
		if e.Tag == 0 { // end of a sibling list
			if n := len(stack); n > 0 {
				cur, stack = stack[n-1], stack[:n-1]
			}
			continue
		}
		inner := cur
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
			inner = scope{}
			var err error
			files, err = t.readLines(d, e)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		case dwarf.TagSubprogram:
			inner = scope{fn: e.Offset}
			ranges, err := d.Ranges(e)
			if err != nil || len(ranges) == 0 {
				break
			}
			name := nameOf(d, e, 0)
			if name == "" {
				break
			}
			for _, rg := range ranges {
				if rg[0] == 0 || rg[0] < t.base || rg[1] <= rg[0] {
					continue // discarded code (low_pc 0) or nonsense
				}
				t.funcs = append(t.funcs, fn{name: name, low: rg[0] - t.base, high: rg[1] - t.base, die: e.Offset})
			}
		case dwarf.TagInlinedSubroutine:
			inner.depth++
			if cur.fn == 0 {
				break
			}
			ranges, err := d.Ranges(e)
			if err != nil || len(ranges) == 0 {
				break
			}
			in := inl{name: nameOf(d, e, 0), depth: inner.depth}
			if i, ok := e.Val(dwarf.AttrCallFile).(int64); ok && i >= 0 && i < int64(len(files)) && files[i] != nil {
				in.callFile = files[i].Name
			}
			if l, ok := e.Val(dwarf.AttrCallLine).(int64); ok {
				in.callLine = int(l)
			}
			for _, rg := range ranges {
				if rg[0] == 0 || rg[0] < t.base || rg[1] <= rg[0] {
					continue
				}
				in.low, in.high = rg[0]-t.base, rg[1]-t.base
				if t.inlines == nil {
					t.inlines = map[dwarf.Offset][]inl{}
				}
				t.inlines[cur.fn] = append(t.inlines[cur.fn], in)
			}
		}
		if e.Children {
			stack = append(stack, cur)
			cur = inner
		}
	}
	slices.SortStableFunc(t.funcs, func(a, b fn) int {
		switch {
		case a.low != b.low:
			return cmpU(a.low, b.low)
		default:
			return cmpU(b.high, a.high) // larger first, so the inner one is found last
		}
	})
	t.funcs = slices.CompactFunc(t.funcs, func(a, b fn) bool { return a == b })
	slices.SortStableFunc(t.lines, func(a, b row) int {
		if c := cmpU(a.rva, b.rva); c != 0 {
			return c
		}
		// A sequence ending where another starts: the start wins.
		switch {
		case a.end && !b.end:
			return -1
		case !a.end && b.end:
			return 1
		}
		return 0
	})
	return firstErr
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readLines appends the rows of cu's line program, dropping sequences of
// discarded code (addresses below the link base), and returns the
// unit's file table (indexed as DW_AT_call_file values are).
func (t *Table) readLines(d *dwarf.Data, cu *dwarf.Entry) ([]*dwarf.LineFile, error) {
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return nil, err
	}
	var seq []row
	start, skip := true, false
	var le dwarf.LineEntry
	for {
		if err := lr.Next(&le); err != nil {
			if err == io.EOF {
				return lr.Files(), nil
			}
			return lr.Files(), err
		}
		if start {
			skip = le.Address == 0 || le.Address < t.base
			start = false
		}
		if !skip && le.Address >= t.base {
			r := row{rva: le.Address - t.base, line: le.Line, end: le.EndSequence}
			if le.File != nil {
				r.file = le.File.Name
			}
			seq = append(seq, r)
		}
		if le.EndSequence {
			if !skip {
				t.lines = append(t.lines, seq...)
			}
			seq, start = seq[:0], true
		}
	}
}

// nameOf returns a subprogram's name, following DW_AT_specification and
// DW_AT_abstract_origin (out-of-line definitions and concrete instances
// of inlined functions name themselves there), then DW_AT_linkage_name.
func nameOf(d *dwarf.Data, e *dwarf.Entry, depth int) string {
	if n, ok := e.Val(dwarf.AttrName).(string); ok && n != "" {
		return n
	}
	if depth < maxOriginDepth {
		for _, a := range []dwarf.Attr{dwarf.AttrSpecification, dwarf.AttrAbstractOrigin} {
			off, ok := e.Val(a).(dwarf.Offset)
			if !ok {
				continue
			}
			r := d.Reader()
			r.Seek(off)
			if o, err := r.Next(); err == nil && o != nil {
				if n := nameOf(d, o, depth+1); n != "" {
					return n
				}
			}
		}
	}
	for _, a := range []dwarf.Attr{dwarf.AttrLinkageName} {
		if n, ok := e.Val(a).(string); ok && n != "" {
			return n
		}
	}
	return ""
}
