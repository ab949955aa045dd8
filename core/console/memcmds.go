package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// rangeArgs parses a range, or continues from the scope when args is empty.
func rangeArgs(env Env, args string, def uint64, next uint64, valid bool) (Range, error) {
	if strings.TrimSpace(args) == "" {
		if !valid {
			return Range{}, &RangeError{Args: args, Msg: "no address given and no earlier display to continue"}
		}
		return Range{Start: next, Count: def}, nil
	}
	if t := Tokens(args); isLength(t[0]) {
		if !valid {
			return Range{}, &RangeError{Args: args, Msg: "no address given and no earlier display to continue"}
		}
		return ParseRange(FormatAddr(next, 8)+" "+args, NewEvalEnv(env), def)
	}
	return ParseRange(args, NewEvalEnv(env), def)
}

func runDump(ctx context.Context, env Env, inv *Invocation, out Output) error {
	name := strings.ToLower(inv.Name)
	sc := env.Scope()
	if name == "d" {
		name = sc.LastData
		if name == "" {
			name = "db"
		}
	}
	m, err := memory(env)
	if err != nil {
		return err
	}
	ptr := ptrOf(env)
	unit := map[string]int{"db": 1, "dw": 2, "dd": 4, "dq": 8, "dp": ptr, "da": 1, "du": 2, "dps": ptr, "dds": 4, "dqs": 8}[name]
	def := uint64(0x80 / unit)
	if name == "dps" || name == "dds" || name == "dqs" {
		def = uint64(0x80 / unit / 2)
	}
	if name == "da" || name == "du" {
		def = 0x100
	}
	r, err := rangeArgs(env, inv.Args, def, sc.NextData, sc.NextDataValid)
	if err != nil {
		return err
	}
	count := r.Elems(uint64(unit))
	if name == "da" || name == "du" {
		next := dumpString(env, m, r.Start, count, unit, out)
		sc.NextData, sc.NextDataValid, sc.LastData = next, true, name
		return nil
	}
	perLine := uint64(16 / unit)
	if name == "dps" || name == "dds" || name == "dqs" {
		perLine = 1
	}
	var b strings.Builder
	a := r.Start
	gaps := gapFinder{m: m}
	for done := uint64(0); done < count; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(perLine, count-done)
		buf, ok := readSparse(m, a, int(n)*unit)
		if n == perLine && none(ok) {
			// A page or more the dump does not hold: one line for the
			// whole gap rather than a line of ?? per 16 bytes of it
			// (WinDbg's way, which makes a big range unreadable).
			lineBytes := perLine * uint64(unit)
			if skip := gaps.unlisted(a, (count-done)*uint64(unit)) / lineBytes * lineBytes; skip >= gapLine {
				out.Text(fmt.Sprintf("%s  ?? (%#x bytes not in the dump, to %s)\n", FormatAddr(a, ptr), skip, FormatAddr(a+skip, ptr)))
				done += skip / uint64(unit)
				a += skip
				continue
			}
		}
		b.WriteString(FormatAddr(a, ptr) + "  ")
		switch name {
		case "db":
			for k := range 16 {
				sep := " "
				if k == 7 {
					sep = "-"
				}
				switch {
				case k >= len(buf):
					b.WriteString("   ")
					continue
				case ok[k]:
					fmt.Fprintf(&b, "%02x", buf[k])
				default:
					b.WriteString("??")
				}
				if k == 7 && (k+1 >= len(buf)) {
					sep = " "
				}
				b.WriteString(sep)
			}
			b.WriteString(" ")
			for k := range buf {
				c := buf[k]
				switch {
				case !ok[k]:
					b.WriteByte('?')
				case c >= 0x20 && c < 0x7f:
					b.WriteByte(c)
				default:
					b.WriteByte('.')
				}
			}
		case "dps", "dds", "dqs":
			if all(ok) {
				v := leUint(buf)
				b.WriteString(FormatAddr(v, unit))
				if s := symbolize(env, v); s != "" {
					b.WriteString(" " + s)
				}
			} else {
				b.WriteString(absentWord(unit))
			}
		default:
			for k := 0; k < int(n); k++ {
				if k > 0 {
					b.WriteByte(' ')
				}
				w := buf[k*unit : (k+1)*unit]
				if all(ok[k*unit : (k+1)*unit]) {
					v := leUint(w)
					if unit == 8 {
						b.WriteString(FormatAddr(v, 8))
					} else {
						fmt.Fprintf(&b, "%0*x", unit*2, v)
					}
				} else {
					b.WriteString(absentWord(unit))
				}
			}
		}
		out.Text(strings.TrimRight(b.String(), " ") + "\n")
		b.Reset()
		done += n
		a += n * uint64(unit)
	}
	sc.NextData, sc.NextDataValid, sc.LastData = a, true, name
	return nil
}

// gapLine is the smallest gap in memory that display commands print as
// one line.
const gapLine = 0x1000

// gapFinder finds how far memory the dump does not list runs, from the
// space's regions, remembering the listed region it last saw so that a
// listed but unreadable region (a truncated file) costs one walk.
type gapFinder struct {
	m      mem.Space
	listed mem.Region // the last listed region found around an address
}

// unlisted returns how many of the n bytes from a lie before the next
// region the space lists (0 when a is inside one), at most n.
func (g *gapFinder) unlisted(a, n uint64) uint64 {
	if g.listed.Size > 0 && g.listed.Contains(a) {
		return 0
	}
	for r := range g.m.Regions() {
		if r.End() <= a && r.Size > 0 {
			continue
		}
		if r.Start <= a {
			g.listed = r
			return 0
		}
		return min(r.Start-a, n)
	}
	return n
}

// none reports whether no element of ok is set.
func none(ok []bool) bool {
	for _, v := range ok {
		if v {
			return false
		}
	}
	return true
}

func absentWord(unit int) string {
	if unit == 8 {
		return "????????`????????"
	}
	return strings.Repeat("?", unit*2)
}

func all(ok []bool) bool {
	for _, o := range ok {
		if !o {
			return false
		}
	}
	return true
}

func leUint(b []byte) uint64 {
	var v [8]byte
	copy(v[:], b)
	return binary.LittleEndian.Uint64(v[:])
}

// dumpString prints da/du output: up to max characters or the first NUL,
// 48 characters a line. It returns where the display stopped.
func dumpString(env Env, m mem.Reader, a uint64, max uint64, unit int, out Output) uint64 {
	ptr := ptrOf(env)
	const perLine = 48
	for n := uint64(0); n < max; {
		k := min(perLine, max-n)
		buf, ok := readSparse(m, a, int(k)*unit)
		var s strings.Builder
		end := false
		for j := 0; j < int(k); j++ {
			if !all(ok[j*unit : (j+1)*unit]) {
				if j == 0 {
					out.Text(FormatAddr(a, ptr) + "  ????\n")
					return a + uint64(unit)
				}
				end = true
				k = uint64(j)
				break
			}
			c := rune(buf[j*unit])
			if unit == 2 {
				c = rune(binary.LittleEndian.Uint16(buf[j*2:]))
			}
			if c == 0 {
				end = true
				k = uint64(j)
				break
			}
			if unit == 2 && utf16.IsSurrogate(c) || c < 0x20 || c == 0x7f {
				c = '.'
			}
			s.WriteRune(c)
		}
		out.Text(fmt.Sprintf("%s  %q\n", FormatAddr(a, ptr), s.String()))
		a += k * uint64(unit)
		n += k
		if end {
			return a + uint64(unit)
		}
	}
	return a
}

func runSearch(ctx context.Context, env Env, inv *Invocation, out Output) error {
	toks := inv.Tokens
	unit, kind := 1, "b"
	for len(toks) > 0 && strings.HasPrefix(toks[0], "-") && len(toks[0]) == 2 {
		switch toks[0][1] {
		case 'a', 'u', 'b':
			kind = toks[0][1:]
		case 'w':
			kind, unit = "w", 2
		case 'd':
			kind, unit = "d", 4
		case 'q':
			kind, unit = "q", 8
		default:
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: fmt.Sprintf("unknown search flag %s (use -a, -u, -b, -w, -d or -q)", toks[0])}
		}
		toks = toks[1:]
	}
	nr := 2
	if len(toks) >= 3 && (strings.EqualFold(toks[1], "L") || strings.EqualFold(toks[1], "L?")) {
		nr = 3
	}
	if len(toks) <= nr {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "usage: s [-a|-u|-b|-w|-d|-q] range pattern"}
	}
	ee := NewEvalEnv(env)
	r, err := ParseRange(strings.Join(toks[:nr], " "), ee, 0)
	if err != nil {
		return err
	}
	var pat []byte
	switch kind {
	case "a", "u":
		text := Unquote(strings.Join(toks[nr:], " "))
		if text == "" {
			return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "empty search string"}
		}
		if kind == "a" {
			pat = []byte(text)
		} else {
			for _, u := range utf16.Encode([]rune(text)) {
				pat = binary.LittleEndian.AppendUint16(pat, u)
			}
		}
	default:
		for _, t := range toks[nr:] {
			v, err := Eval(t, ee)
			if err != nil {
				return err
			}
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], v)
			pat = append(pat, w[:unit]...)
		}
	}
	m, err := memory(env)
	if err != nil {
		return err
	}
	size := uint64(1)
	if kind == "w" || kind == "d" || kind == "q" {
		size = uint64(unit)
	}
	last := r.Start + r.Elems(size)*size - 1
	if r.ByEnd {
		last = r.End
	}
	if last < r.Start {
		last = ^uint64(0)
	}
	var hits []uint64
	// One buffer for every chunk; the readable map is filled only for a
	// chunk the dump does not hold whole, so the common case is one read
	// and one scan per chunk.
	const chunk = 4 << 20
	buf := make([]byte, chunk+len(pat)-1)
	var okBuf []bool
	for reg := range m.Regions() {
		if reg.State != mem.Committed || reg.Size == 0 || reg.Last() < r.Start || reg.Start > last {
			continue
		}
		lo, hi := max(reg.Start, r.Start), min(reg.Last(), last)
		for a := lo; a <= hi; {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(hi-a+1, chunk+uint64(len(pat)-1))
			b := buf[:n]
			got, _ := m.ReadMemory(b, a)
			var ok []bool // nil: every byte of b was read
			if got < len(b) {
				if okBuf == nil {
					okBuf = make([]bool, len(buf))
				}
				ok = okBuf[:n]
				readRest(m, a, b, ok, max(got, 0))
			}
			for off := 0; ; {
				k := bytes.Index(b[off:], pat)
				if k < 0 {
					break
				}
				at := off + k
				if (ok == nil || all(ok[at:at+len(pat)])) && (a+uint64(at))%uint64(unit) == 0 && uint64(at) < chunk {
					hits = append(hits, a+uint64(at))
				}
				off = at + 1
			}
			if hi-a < chunk {
				break
			}
			a += chunk
		}
	}
	slices.Sort(hits)
	hits = slices.Compact(hits)
	dump := map[string]string{"a": "db", "u": "db", "b": "db", "w": "dw", "d": "dd", "q": "dq"}[kind]
	for _, h := range hits {
		inv2 := &Invocation{Name: dump, Args: FormatAddr(h, 8) + " L" + fmt.Sprintf("%x", 16/unit)}
		saved := *env.Scope()
		if err := runDump(ctx, env, inv2, out); err != nil {
			return err
		}
		*env.Scope() = saved
	}
	return nil
}

// AddressRegions returns the regions of env's memory as !address lists
// them, in address order, each with its usage (see addressRegions and
// regionUsage), and the name of the dump's space.
func AddressRegions(env Env) (rs []mem.Region, usage []string, name string, err error) {
	rs, name, err = addressRegions(env)
	if err != nil {
		return nil, nil, "", err
	}
	ms, _ := modules(env)
	usage = make([]string, len(rs))
	for i, r := range rs {
		usage[i] = regionUsage(r, ms)
	}
	return rs, usage, name, nil
}

// regionUsage is !address's Usage column: the region's label, or the
// module image it lies in.
func regionUsage(r mem.Region, ms []model.Module) string {
	if r.Label != "" {
		return r.Label
	}
	for _, mo := range ms {
		if mo.Contains(r.Start) {
			return "Image " + mo.Path
		}
	}
	return ""
}

func runAddress(_ context.Context, env Env, inv *Invocation, out Output) error {
	rs, name, err := addressRegions(env)
	if err != nil {
		return err
	}
	ms, _ := modules(env)
	usage := func(r mem.Region) string { return regionUsage(r, ms) }
	state := func(r mem.Region) string {
		if r.State == mem.Absent {
			return "not in dump"
		}
		return r.State.String()
	}
	ptr := ptrOf(env)
	t := &Table{PtrSize: ptr, Columns: []Column{{Name: "BaseAddr", Kind: ColAddr}, {Name: "EndAddr+1", Kind: ColAddr}, {Name: "RegionSize", Kind: ColUint, Width: 8}, {Name: "State"}, {Name: "Protect"}, {Name: "Usage"}}}
	if inv.Args != "" {
		a, err := Eval(inv.Args, NewEvalEnv(env))
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Contains(a) {
				t.Add(Uint(r.Start), Uint(r.End()), Uint(r.Size), Str(state(r)), Str(r.Prot.String()), Str(usage(r)))
				out.Table(t)
				return nil
			}
		}
		out.Text(fmt.Sprintf("Address %s is not in any region of %s: not mapped, or not captured in the dump\n", FormatAddr(a, ptr), name))
		return nil
	}
	for _, r := range rs {
		t.Add(Uint(r.Start), Uint(r.End()), Uint(r.Size), Str(state(r)), Str(r.Prot.String()), Str(usage(r)))
	}
	if len(t.Rows) == 0 {
		out.Text("the dump lists no memory regions\n")
		return nil
	}
	out.Table(t)
	return nil
}

// addressRegions lists the regions !address and info proc mappings show:
// the dump's own, which carry what it records of protections, states
// (mem.Absent: mapped but not dumped) and labels, then the parts of the
// environment's wider memory (module images found on disk, see
// MemoryProvider) that no dump region covers. It returns them in address
// order with the name of the dump's space.
func addressRegions(env Env) ([]mem.Region, string, error) {
	var own, wide mem.Space
	if mr, ok := env.Target().(model.MemoryReader); ok {
		if m, err := mr.Memory(); err == nil && m != nil {
			own = m
		}
	}
	if mp, ok := env.(MemoryProvider); ok {
		if m, err := mp.Memory(); err == nil && m != nil {
			wide = m
		}
	}
	if own == nil {
		m, err := memory(env)
		if err != nil {
			return nil, "", err
		}
		own, wide = m, nil
	}
	var rs []mem.Region
	for r := range own.Regions() {
		if r.Size > 0 {
			rs = append(rs, r)
		}
	}
	if wide == nil {
		return rs, own.Name(), nil
	}
	var extra []mem.Region
	for r := range wide.Regions() {
		extra = append(extra, UncoveredParts(r, rs)...)
	}
	if len(extra) > 0 {
		rs = append(rs, extra...)
		slices.SortStableFunc(rs, func(a, b mem.Region) int { return cmp.Compare(a.Start, b.Start) })
	}
	return rs, own.Name(), nil
}

// UncoveredParts returns the pieces of r that no region of covered (sorted,
// non-overlapping) contains, with r's attributes.
func UncoveredParts(r mem.Region, covered []mem.Region) []mem.Region {
	if r.Size == 0 {
		return nil
	}
	var out []mem.Region
	cur, last := r.Start, r.Last()
	for _, c := range covered {
		if c.Last() < cur || c.Start > last {
			continue
		}
		if c.Start > cur {
			p := r
			p.Start, p.Size = cur, c.Start-cur
			out = append(out, p)
		}
		if c.Last() >= last {
			return out
		}
		cur = c.Last() + 1
	}
	p := r
	p.Start, p.Size = cur, last-cur+1
	if p.Size == 0 { // r is the whole address space: its size does not fit
		return out
	}
	return append(out, p)
}

func decoderFor(env Env) (disasm.Decoder, error) {
	a := env.Target().Info().Arch
	d, err := disasm.For(a)
	if err != nil {
		return nil, &NotSupportedError{What: fmt.Sprintf("cannot disassemble %s code", a), Err: err}
	}
	return d, nil
}

func disasmRange(m mem.Reader, d disasm.Decoder, a uint64, n int) ([]disasm.Inst, error) {
	return disasm.Range(m, d, a, n)
}

// instLine formats one instruction as u prints it.
func instLine(env Env, in disasm.Inst) string {
	text := strings.TrimSpace(in.Text(disasm.Intel, symname(env)))
	if mn, ops, ok := strings.Cut(text, " "); ok && !strings.HasPrefix(ops, "[") {
		text = fmt.Sprintf("%-7s %s", mn, strings.TrimSpace(ops))
	}
	return fmt.Sprintf("%s %-15x %s", addr(env, in.Addr), in.Bytes, text)
}

func printInsts(env Env, ins []disasm.Inst, out Output) {
	for k, in := range ins {
		s := symbolize(env, in.Addr)
		if s != "" && (k == 0 || !strings.Contains(s, "+")) {
			out.Text(s + ":\n")
		}
		out.Text(instLine(env, in) + "\n")
	}
}

func pcOf(env Env) (uint64, error) {
	c, err := context_(env)
	if err != nil {
		return 0, err
	}
	return c.PC(), nil
}

func runU(_ context.Context, env Env, inv *Invocation, out Output) error {
	m, err := memory(env)
	if err != nil {
		return err
	}
	d, err := decoderFor(env)
	if err != nil {
		return err
	}
	sc := env.Scope()
	next, valid := sc.NextCode, sc.NextCodeValid
	if !valid {
		pc, err := pcOf(env)
		if err != nil && strings.TrimSpace(inv.Args) == "" {
			return err
		}
		next, valid = pc, err == nil
	}
	r, err := rangeArgs(env, inv.Args, 8, next, valid)
	if err != nil {
		return err
	}
	n := int(min(r.Count, 1<<16))
	if r.ByEnd {
		n = int(min(r.End-r.Start+1, 1<<16))
	}
	ins, ferr := disasm.Range(m, d, r.Start, n)
	if r.ByEnd {
		for k, in := range ins {
			if in.Addr > r.End {
				ins, ferr = ins[:k], nil
				break
			}
		}
	}
	printInsts(env, ins, out)
	end := r.Start
	if len(ins) > 0 {
		end = ins[len(ins)-1].Addr + uint64(ins[len(ins)-1].Len)
	}
	if ferr != nil {
		// WinDbg's marker for bytes it cannot read.
		out.Text(fmt.Sprintf("%s ??              ???\n", addr(env, end)))
	}
	sc.NextCode, sc.NextCodeValid = end, true
	return nil
}

func runUB(_ context.Context, env Env, inv *Invocation, out Output) error {
	ee := NewEvalEnv(env)
	var end uint64
	count := uint64(8)
	toks := inv.Tokens
	if len(toks) == 0 || isLength(toks[0]) {
		pc, err := pcOf(env)
		if err != nil {
			return err
		}
		end = pc
		if len(toks) > 0 {
			r, err := ParseRange(FormatAddr(pc, 8)+" "+inv.Args, ee, 8)
			if err != nil {
				return err
			}
			count = r.Count
		}
	} else {
		r, err := ParseRange(inv.Args, ee, 8)
		if err != nil {
			return err
		}
		if r.ByEnd {
			return &RangeError{Args: inv.Args, Msg: "ub takes an address and an optional L count"}
		}
		end, count = r.Start, r.Count
	}
	m, err := memory(env)
	if err != nil {
		return err
	}
	d, err := decoderFor(env)
	if err != nil {
		return err
	}
	ins, err := disasm.Backward(m, d, end, int(min(count, 1<<12)))
	if err != nil {
		return fmt.Errorf("cannot disassemble backwards from %s: %w", addr(env, end), err)
	}
	printInsts(env, ins, out)
	return nil
}

func runLn(_ context.Context, env Env, inv *Invocation, out Output) error {
	if inv.Args == "" {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "ln needs an address"}
	}
	a, err := Eval(inv.Args, NewEvalEnv(env))
	if err != nil {
		return err
	}
	var mod *model.Module
	if ms, err := modules(env); err == nil {
		for k := range ms {
			if ms[k].Contains(a) {
				mod = &ms[k]
			}
		}
	}
	r := env.Symbols()
	if r == nil {
		return &NotSupportedError{What: "no symbols loaded"}
	}
	s, ok := r.Lookup(a)
	if !ok {
		if mod != nil {
			return &NotSupportedError{What: fmt.Sprintf("no symbols for %s (address is %s)", mod.Name(), offText(ModuleName(mod.Path), a-mod.Base))}
		}
		return &NotSupportedError{What: fmt.Sprintf("%s is not in any module", addr(env, a))}
	}
	line := fmt.Sprintf("(%s)   %s", addr(env, s.Addr), symText(s, a))
	if s.Size > 0 {
		line += fmt.Sprintf("   |  (%s)", addr(env, s.Addr+s.Size))
		if n, ok := r.Lookup(s.Addr + s.Size); ok && n.Addr == s.Addr+s.Size {
			line += "   " + symText(n, n.Addr)
		}
	}
	out.Text(line + "\n")
	if s.File != "" {
		out.Text(fmt.Sprintf("    [%s @ %d]\n", s.File, s.Line))
	}
	if a == s.Addr {
		out.Text("Exact matches:\n    " + symText(s, a) + "\n")
	}
	return nil
}

func runX(_ context.Context, env Env, inv *Invocation, out Output) error {
	pat := strings.TrimSpace(inv.Args)
	if pat == "" {
		return &SyntaxError{Line: inv.Raw, Col: 1, Msg: "x needs a pattern: x module!name*"}
	}
	if !strings.Contains(pat, "!") {
		pat = "*!" + pat
	}
	mod, _, _ := strings.Cut(pat, "!")
	if !strings.ContainsAny(mod, "*?") {
		if ms, err := modules(env); err == nil {
			found := false
			for _, m := range ms {
				if strings.EqualFold(ModuleName(m.Path), mod) || strings.EqualFold(m.Name(), mod) {
					found = true
				}
			}
			if !found {
				return fmt.Errorf("Couldn't resolve error at '%s': no module named %s", inv.Args, mod)
			}
		}
	}
	r := env.Symbols()
	if r == nil {
		return &NotSupportedError{What: "no symbols loaded"}
	}
	ss, err := r.Find(pat)
	if err != nil {
		return err
	}
	slices.SortStableFunc(ss, func(a, b symbolT) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	t := &Table{PtrSize: ptrOf(env), NoHeader: true, Columns: []Column{{Name: "address", Kind: ColAddr}, {Name: "symbol", Kind: ColSymbol}}}
	for _, s := range ss {
		t.Add(Uint(s.Addr), Str(symText(s, s.Addr)))
	}
	if len(ss) > 0 {
		out.Table(t)
	}
	return nil
}

type symbolT = symbols.Symbol
