package console

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is one of WinDbg's three command kinds.
type Kind uint8

const (
	// Regular commands act on the target: lm, db, u, ~, ?.
	Regular Kind = iota
	// Meta commands start with a dot and control the debugger: .frame.
	Meta
	// Extension commands start with '!': !analyze, !address.
	Extension
)

// String returns "regular", "meta" or "extension".
func (k Kind) String() string {
	switch k {
	case Regular:
		return "regular"
	case Meta:
		return "meta"
	case Extension:
		return "extension"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ThreadSelKind says which threads a thread prefix selects.
type ThreadSelKind uint8

const (
	// NoThreads: the command has no thread prefix and uses the current thread.
	NoThreads ThreadSelKind = iota
	// CurrentThread: "~.".
	CurrentThread
	// EventThread: "~#", the thread that caused the crash.
	EventThread
	// AllThreads: "~*".
	AllThreads
	// ThreadIndex: "~3", by debugger thread number (decimal).
	ThreadIndex
	// ThreadByID: "~~[0x1a2b]", by system thread ID (an expression).
	ThreadByID
)

// ThreadSel is a parsed thread prefix.
type ThreadSel struct {
	Kind  ThreadSelKind
	Index int    // for ThreadIndex
	Expr  string // for ThreadByID: the expression between the brackets
}

// Invocation is one parsed command.
type Invocation struct {
	Raw     string    // the command's text, trimmed, thread prefix included
	Kind    Kind      // regular, meta or extension
	Name    string    // "lm", ".frame", "!analyze", "~" (thread list), "~s" (switch)
	Threads ThreadSel // thread prefix, if any
	Args    string    // everything after the name, trimmed
	Tokens  []string  // Args split on blanks outside quotes, parentheses and brackets; quotes kept

	engine *Engine // set by Exec for commands such as .help
}

// SyntaxError reports a line ParseLine cannot split into commands.
type SyntaxError struct {
	Line string
	Col  int // 1-based column of the offending character
	Msg  string
}

// Error formats the error with the column, e.g.
// "Syntax error at column 5: unterminated quoted string".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Syntax error at column %d: %s", e.Col, e.Msg)
}

// ParseLine splits a console line into invocations: commands separated by
// ';' outside double quotes, each with an optional thread prefix ("~3 k",
// "~* k", "~~[0x1a2b] r", "~.", "~#"). An empty line gives no invocations.
// A '*' command (comment) ends the line, and .sympath takes the rest of
// the line as its path. ParseLine resolves no names; the
// engine does.
func ParseLine(line string) ([]Invocation, error) {
	var out []Invocation
	start := 0
	inQuote := false
	segs := [][2]int{}
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			inQuote = !inQuote
		case '\\':
			if inQuote && i+1 < len(line) {
				i++
			}
		case ';':
			if inQuote {
				break
			}
			if takesRestOfLine(line[start:i]) {
				i = len(line) // the path's ';' separate its entries
				continue
			}
			segs = append(segs, [2]int{start, i})
			start = i + 1
		}
	}
	if inQuote {
		return nil, &SyntaxError{Line: line, Col: strings.LastIndexByte(line, '"') + 1, Msg: "unterminated quoted string"}
	}
	segs = append(segs, [2]int{start, len(line)})
	for _, sg := range segs {
		seg := line[sg[0]:sg[1]]
		lead := len(seg) - len(strings.TrimLeft(seg, " \t\r\n"))
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		if seg[0] == '*' { // comment: the rest of the line is ignored
			break
		}
		inv, err := parseOne(seg, sg[0]+lead, line)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, nil
}

// takesRestOfLine reports whether a command segment is one whose argument
// is the rest of the line, semicolons included: .sympath PATH, as in
// WinDbg, where a symbol path's entries are separated by ';'.
func takesRestOfLine(seg string) bool {
	seg = strings.ToLower(strings.TrimSpace(seg))
	return strings.HasPrefix(seg, ".sympath")
}

func parseOne(seg string, off int, line string) (Invocation, error) {
	inv := Invocation{Raw: seg}
	rest := seg
	if rest[0] == '~' {
		sel, n, err := parseThreadSel(rest)
		if err != nil {
			err.(*SyntaxError).Col += off
			err.(*SyntaxError).Line = line
			return inv, err
		}
		inv.Threads = sel
		rest = strings.TrimSpace(rest[n:])
		switch {
		case rest == "":
			inv.Name = "~"
			return inv, nil
		case rest == "s":
			inv.Name = "~s"
			return inv, nil
		}
	}
	if rest == "" {
		return inv, nil
	}
	i := 0
	switch c := rest[0]; {
	case c == '.':
		inv.Kind = Meta
		i = 1 + identLen(rest[1:], false)
	case c == '!':
		inv.Kind = Extension
		i = 1 + identLen(rest[1:], true)
	case c == '?':
		i = 1
		if strings.HasPrefix(rest, "??") {
			i = 2
		}
	case c == '|':
		i = 1
	case isLetter(c):
		for i < len(rest) && isLetter(rest[i]) {
			i++
		}
	default:
		return inv, &SyntaxError{Line: line, Col: off + len(seg) - len(rest) + 1, Msg: fmt.Sprintf("no command at '%s'", firstWord(rest))}
	}
	inv.Name = rest[:i]
	inv.Args = strings.TrimSpace(rest[i:])
	inv.Tokens = Tokens(inv.Args)
	return inv, nil
}

// parseThreadSel parses a thread prefix at the start of s and returns how
// many bytes it used.
func parseThreadSel(s string) (ThreadSel, int, error) {
	if len(s) < 2 {
		return ThreadSel{}, 1, nil
	}
	switch c := s[1]; {
	case c == '.':
		return ThreadSel{Kind: CurrentThread}, 2, nil
	case c == '#':
		return ThreadSel{Kind: EventThread}, 2, nil
	case c == '*':
		return ThreadSel{Kind: AllThreads}, 2, nil
	case c == '~':
		if len(s) < 3 || s[2] != '[' {
			return ThreadSel{}, 0, &SyntaxError{Col: 3, Msg: "~~ must be followed by [thread id]"}
		}
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return ThreadSel{}, 0, &SyntaxError{Col: 3, Msg: "missing ']' after ~~[thread id"}
		}
		expr := strings.TrimSpace(s[3:end])
		if expr == "" {
			return ThreadSel{}, 0, &SyntaxError{Col: 4, Msg: "empty thread id in ~~[]"}
		}
		return ThreadSel{Kind: ThreadByID, Expr: expr}, end + 1, nil
	case '0' <= c && c <= '9':
		j := 1
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(s[1:j])
		if err != nil {
			return ThreadSel{}, 0, &SyntaxError{Col: 2, Msg: fmt.Sprintf("thread number '%s' out of range", s[1:j])}
		}
		return ThreadSel{Kind: ThreadIndex, Index: n}, j, nil
	}
	return ThreadSel{}, 1, nil
}

func identLen(s string, dots bool) int {
	i := 0
	for i < len(s) && (isLetter(s[i]) || '0' <= s[i] && s[i] <= '9' || s[i] == '_' || dots && s[i] == '.') {
		i++
	}
	return i
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}

// Tokens splits an argument string on blanks that are outside double
// quotes, parentheses and square brackets. Quotes are kept, so callers can
// tell "text" from an expression; Unquote removes them.
func Tokens(args string) []string {
	var out []string
	depth := 0
	inQuote := false
	start := -1
	for i := 0; i < len(args); i++ {
		c := args[i]
		blank := c == ' ' || c == '\t' || c == '\r' || c == '\n'
		if start < 0 {
			if blank {
				continue
			}
			start = i
		}
		switch {
		case inQuote && c == '\\' && i+1 < len(args):
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(' || c == '[':
			depth++
		case c == ')' || c == ']':
			if depth > 0 {
				depth--
			}
		case blank && depth == 0:
			out = append(out, args[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, args[start:])
	}
	return out
}

// Unquote removes the double quotes around a token and resolves \" and \\
// inside; a token without quotes is returned unchanged.
func Unquote(tok string) string {
	if len(tok) < 2 || tok[0] != '"' || tok[len(tok)-1] != '"' {
		return tok
	}
	tok = tok[1 : len(tok)-1]
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] == '\\' && i+1 < len(tok) {
			i++
		}
		b.WriteByte(tok[i])
	}
	return b.String()
}
