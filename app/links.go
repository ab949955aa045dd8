package app

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/widgets"
)

// Console output is plain text; the workbench makes its addresses,
// symbols, modules and threads clickable. A link's command is a
// navigation, "view:KIND:ARG", which the dump's tabs carry out (open the
// disassembly or hex view, the module or the thread) instead of running it.
const viewPrefix = "view:"

// Navigation kinds.
const (
	viewAddr   = "addr"   // an address in hex: disassembly for code, hex for data
	viewExpr   = "expr"   // module!symbol[+off], evaluated as an address
	viewModule = "module" // a module name: the Modules tab, filtered to it
	viewThread = "thread" // a debugger thread number: switch to it, show its stack
)

var (
	// A WinDbg address (00007ff6`00002046), a 0x address long enough not
	// to be a count (0xffffffff9a1cd0a8), or a bare 16-digit one as
	// crash prints kernel addresses.
	addrRE = regexp.MustCompile("\\b[0-9a-f]{8}`[0-9a-f]{8}\\b|\\b0x[0-9a-f]{6,16}\\b|\\b[0-9a-f]{16}\\b")
	// module!symbol with an optional +0x offset; C++ and Rust names keep
	// their ::, <>, ~ and $.
	symRE = regexp.MustCompile(`\b[A-Za-z_][\w.\-]*![A-Za-z_?@$][\w:<>~?@$]*(?:\+0x[0-9a-f]+)?`)
	// The thread number of a ~ listing row: ".  0  Id: 1092.1234 ...".
	threadRE = regexp.MustCompile(`^[.# ]\s*(\d+)\s+Id: `)
	// The module column of an lm row: "start  end  module  name".
	lmRowRE = regexp.MustCompile("^[0-9a-f`]{17}\\s+[0-9a-f`]{17}\\s+(\\S+)")
)

// linkify splits text into segments, the recognised tokens as links.
func linkify(text string) []widgets.Segment {
	var out []widgets.Segment
	for len(text) > 0 {
		line, rest, nl := strings.Cut(text, "\n")
		out = append(out, linkifyLine(line)...)
		if nl {
			out = appendText(out, "\n")
		}
		text = rest
	}
	return out
}

type span struct {
	start, end int
	command    string
}

func linkifyLine(line string) []widgets.Segment {
	var spans []span
	if m := threadRE.FindStringSubmatchIndex(line); m != nil {
		spans = append(spans, span{m[2], m[3], viewPrefix + viewThread + ":" + line[m[2]:m[3]]})
	}
	if m := lmRowRE.FindStringSubmatchIndex(line); m != nil {
		spans = append(spans, span{m[2], m[3], viewPrefix + viewModule + ":" + line[m[2]:m[3]]})
	}
	for _, m := range symRE.FindAllStringIndex(line, -1) {
		spans = append(spans, span{m[0], m[1], viewPrefix + viewExpr + ":" + line[m[0]:m[1]]})
	}
	for _, m := range addrRE.FindAllStringIndex(line, -1) {
		a := line[m[0]:m[1]]
		if v, err := strconv.ParseUint(strings.TrimPrefix(strings.ReplaceAll(a, "`", ""), "0x"), 16, 64); err == nil && v < 0x10000 {
			continue // a null pointer or a small number (ORIG_RAX: 0000000000000001) leads nowhere
		}
		spans = append(spans, span{m[0], m[1], viewPrefix + viewAddr + ":" + a})
	}
	if len(spans) == 0 {
		return []widgets.Segment{{Text: line}}
	}
	// Earlier spans win over later overlapping ones: threads and modules
	// are found first, then symbols (which may contain hex digits).
	var out []widgets.Segment
	at := 0
	for _, s := range sortSpans(spans) {
		if s.start < at {
			continue
		}
		out = appendText(out, line[at:s.start])
		out = append(out, widgets.Segment{Text: line[s.start:s.end], Command: s.command})
		at = s.end
	}
	return appendText(out, line[at:])
}

// sortSpans orders spans by start, keeping the first found of two that
// start together.
func sortSpans(spans []span) []span {
	out := make([]span, 0, len(spans))
	for _, s := range spans {
		i := len(out)
		for i > 0 && out[i-1].start > s.start {
			i--
		}
		out = append(out[:i], append([]span{s}, out[i:]...)...)
	}
	return out
}

// appendText adds plain text, merged into a plain last segment.
func appendText(segs []widgets.Segment, s string) []widgets.Segment {
	if s == "" {
		return segs
	}
	if n := len(segs); n > 0 && segs[n-1].Command == "" {
		segs[n-1].Text += s
		return segs
	}
	return append(segs, widgets.Segment{Text: s})
}

// parseView splits a navigation command into its kind and argument.
func parseView(command string) (kind, arg string, ok bool) {
	rest, ok := strings.CutPrefix(command, viewPrefix)
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, ":")
}
