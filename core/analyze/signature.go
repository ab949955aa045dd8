package analyze

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/assets/signature"
)

// Frame is one symbolised stack frame as the analysis sees it.
type Frame struct {
	Module   string // file name without directory; "" outside any module
	Function string // "" when no symbol names the frame
	Offset   uint64 // offset from the function start, or from the module base when Function is ""
	File     string
	Line     int
	PC       uint64
	// Inlined are the calls inlined at PC, innermost first, each at its
	// own source position; File and Line are then the position in
	// Function itself (the outermost inline's call site).
	Inlined []Inline
}

// Inline is a call inlined at a frame's PC.
type Inline struct {
	Function string
	File     string
	Line     int
}

// InlineName renders the i-th inlined call as WinDbg shows an inline
// frame: "module!function".
func (f Frame) InlineName(i int) string {
	if f.Module == "" {
		return f.Inlined[i].Function
	}
	return moduleStem(f.Module) + "!" + f.Inlined[i].Function
}

// String renders the frame the way signatures and WinDbg show it:
// "module!Function+0x1f", "module+0x1234", or the bare address.
func (f Frame) String() string {
	switch {
	case f.Function != "" && f.Module != "":
		return fmt.Sprintf("%s!%s+%#x", moduleStem(f.Module), f.Function, f.Offset)
	case f.Function != "":
		return fmt.Sprintf("%s+%#x", f.Function, f.Offset)
	case f.Module != "":
		return fmt.Sprintf("%s+%#x", moduleStem(f.Module), f.Offset)
	}
	return fmt.Sprintf("%#x", f.PC)
}

// signatureName is the frame as signature rules match it: the normalised
// function name, or "module@0xoffset" (Socorro's spelling) without one.
func (f Frame) signatureName() string {
	if f.Function != "" {
		return normalize(f.Function)
	}
	if f.Module != "" {
		return fmt.Sprintf("%s@%#x", f.Module, f.Offset)
	}
	return fmt.Sprintf("@%#x", f.PC)
}

// moduleStem drops the extension WinDbg leaves off in module!symbol
// ("test_app.exe" -> "test_app"); shared objects keep their name; the
// Windows kernel is "nt".
func moduleStem(m string) string {
	lower := strings.ToLower(m)
	// WinDbg names the kernel nt whichever image it is (uniprocessor,
	// multiprocessor, PAE).
	switch lower {
	case "ntoskrnl.exe", "ntkrnlmp.exe", "ntkrnlpa.exe", "ntkrpamp.exe":
		return "nt"
	}
	for _, ext := range []string{".exe", ".dll", ".sys", ".drv", ".ocx", ".cpl"} {
		if strings.HasSuffix(lower, ext) {
			return m[:len(m)-len(ext)]
		}
	}
	return m
}

var spaces = regexp.MustCompile(`\s+`)

// normalize makes names from different symbol sources compare equal:
// collapsed whitespace, no space after commas, and glibc's internal
// aliases under their public names: its DWARF names functions by the
// hidden alias the library calls them through (__GI_raise for raise,
// __GI___assert_fail for __assert_fail), as gdb shows them.
func normalize(name string) string {
	name = spaces.ReplaceAllString(strings.TrimSpace(name), " ")
	name = strings.TrimPrefix(name, "__GI_")
	return strings.ReplaceAll(name, ", ", ",")
}

// Rules decide which frames make a signature.
type Rules struct {
	irrelevant, prefix, sentinel, system []*regexp.Regexp
}

// ParseRules compiles rule lists: one regular expression per line, blank
// lines and # comments ignored.
func ParseRules(irrelevant, prefix, sentinel, system string) (*Rules, error) {
	r := &Rules{}
	for _, l := range []struct {
		name string
		text string
		dst  *[]*regexp.Regexp
		fold bool
	}{{"irrelevant", irrelevant, &r.irrelevant, false}, {"prefix", prefix, &r.prefix, false},
		{"sentinel", sentinel, &r.sentinel, false}, {"system", system, &r.system, true}} {
		for i, line := range strings.Split(l.text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if l.fold {
				line = "(?i)" + line
			}
			re, err := regexp.Compile(line)
			if err != nil {
				return nil, fmt.Errorf("analyze: %s rules line %d: %w", l.name, i+1, err)
			}
			*l.dst = append(*l.dst, re)
		}
	}
	return r, nil
}

// DefaultRules returns the rules embedded from assets/signature, compiled
// once.
var DefaultRules = sync.OnceValue(func() *Rules {
	r, err := ParseRules(signature.Irrelevant, signature.Prefix, signature.Sentinel, signature.System)
	if err != nil {
		panic(err) // the embedded lists are tested; a bad one is a build bug
	}
	return r
})

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// IsSystemModule reports whether module (a file name) belongs to the OS or
// a language runtime.
func (r *Rules) IsSystemModule(module string) bool { return matchAny(r.system, module) }

// maxSignatureFrames bounds how many prefix frames a signature may join.
const maxSignatureFrames = 10

// Signature builds the crash signature from frames, innermost first:
// start at the last sentinel frame if any, skip irrelevant frames, join
// prefix frames with the first frame that is neither.
func (r *Rules) Signature(frames []Frame) string {
	start := 0
	for i, f := range frames {
		if matchAny(r.sentinel, f.signatureName()) {
			start = i
			break
		}
	}
	var parts []string
	for _, f := range frames[start:] {
		name := f.signatureName()
		if matchAny(r.irrelevant, name) && !matchAny(r.sentinel, name) {
			continue
		}
		parts = append(parts, name)
		if !matchAny(r.prefix, name) || len(parts) == maxSignatureFrames {
			break
		}
	}
	if len(parts) == 0 {
		if len(frames) == 0 {
			return "EMPTY: no frame data available"
		}
		return frames[0].signatureName()
	}
	return strings.Join(parts, " | ")
}

// Faulting returns the index of the frame to blame: the first frame that
// is not irrelevant and not in a system module, else the first frame that
// is not irrelevant, else 0. It returns -1 for no frames.
func (r *Rules) Faulting(frames []Frame) int {
	if len(frames) == 0 {
		return -1
	}
	firstRelevant := -1
	for i, f := range frames {
		if matchAny(r.irrelevant, f.signatureName()) {
			continue
		}
		if firstRelevant < 0 {
			firstRelevant = i
		}
		if f.Module != "" && !r.IsSystemModule(f.Module) {
			return i
		}
	}
	return max(firstRelevant, 0)
}
