package codes

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/assets/bugcheck"
)

// The stop codes, their names (the symbolic constants of the WDK's
// bugcodes.h, which WinDbg prints after "BugCheck" and in !analyze's
// BUGCHECK_CODE), descriptions and parameter meanings are data:
// assets/bugcheck/bugchecks.txt, taken from Microsoft's "Bug Check Code
// Reference"
// (https://learn.microsoft.com/windows-hardware/drivers/debugger/bug-check-code-reference2)
// and each code's page. Codes 0x1000000X are not listed there: BugCheck and
// BugCheckName derive them from the base code.

// BugCheckM is the flag the kernel ORs into a stop code when the same
// condition is reported by a second, newer code path (KeBugCheckEx callers
// that pass 0x1000007E rather than 0x7E). WinDbg prints these codes with the
// base name and an "_M" suffix: 0x1000007E is
// SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M. Microsoft documents them as having
// the same meaning and parameters as the base code.
const BugCheckM uint32 = 0x10000000

// ParamDecoder names how a bug-check parameter's value can be named beyond
// the documented value tables.
type ParamDecoder string

// Parameter decoders, as the data file spells them after a parameter key.
const (
	DecodeNone      ParamDecoder = ""
	DecodeException ParamDecoder = "exception" // a Windows exception code (0x7E parameter 1)
	DecodeStatus    ParamDecoder = "status"    // an NTSTATUS
	DecodeIRQL      ParamDecoder = "irql"      // an interrupt request level
)

// BugCheckParam is what Microsoft documents about one parameter of a stop
// code.
type BugCheckParam struct {
	Meaning string       // "" when the page does not describe it
	Decode  ParamDecoder // how to name the value, beyond Values
	// Values gives the meaning of particular values ("Write operation").
	Values map[uint64]string
	// When gives the parameter's meaning for a value of the code's
	// selector parameter (BugCheckInfo.Selector), overriding Meaning.
	When map[uint64]ParamMeaning
}

// ParamMeaning is a parameter's meaning under one value of the selector.
type ParamMeaning struct {
	Meaning string
	Decode  ParamDecoder
}

// BugCheckInfo is what Microsoft documents about a stop code.
type BugCheckInfo struct {
	Code        uint32 // as asked for: 0x1000007E keeps its _M flag
	Name        string // "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" for 0x1000007E
	Description string // one line; "" when the page has none
	Params      [4]BugCheckParam
	// Selector is the parameter (1-4) whose value changes what the others
	// mean, usually 1 ("Parameter 1 indicates the type of violation"); 0
	// when the meanings are fixed.
	Selector int
}

// Explain returns what parameter n (1-4) means for the given parameter
// values: its meaning (under the selector's value when the page says so),
// the documented meaning of its value, and the decoder that names its value.
// Any of them may be empty.
func (b *BugCheckInfo) Explain(n int, params []uint64) (meaning, value string, decode ParamDecoder) {
	if n < 1 || n > 4 {
		return "", "", DecodeNone
	}
	p := &b.Params[n-1]
	meaning, decode = p.Meaning, p.Decode
	if s := b.Selector; s >= 1 && s <= len(params) && s != n {
		if w, ok := p.When[params[s-1]]; ok {
			meaning, decode = w.Meaning, w.Decode
		}
	}
	if n <= len(params) {
		value = p.Values[params[n-1]]
	}
	return meaning, value, decode
}

// BugCheck returns what Microsoft documents about a stop code. The
// 0x1000000X variants of a known code return the base code's text under the
// "_M" name. The parameters' maps are shared by all callers: read them, do
// not change them.
func BugCheck(code uint32) (BugCheckInfo, bool) {
	tab, _ := bugCheckTable()
	if b, ok := tab.codes[code]; ok {
		return *b, true
	}
	if code&0xF0000000 == BugCheckM {
		if b, ok := tab.codes[code&^BugCheckM]; ok {
			m := *b
			m.Code, m.Name = code, b.Name+"_M"
			return m, true
		}
	}
	return BugCheckInfo{}, false
}

// BugCheckName returns the WinDbg name of a Windows stop code
// ("DRIVER_IRQL_NOT_LESS_OR_EQUAL" for 0xD1), the base name with "_M" for
// the 0x1000000X variants of a known code, and "" for codes it does not know.
func BugCheckName(code uint32) string {
	b, _ := BugCheck(code)
	return b.Name
}

// BugCheckCodes returns the documented stop codes in ascending order,
// without the derived _M variants.
func BugCheckCodes() []uint32 {
	tab, _ := bugCheckTable()
	return slices.Clone(tab.order)
}

type bugCheckTab struct {
	codes map[uint32]*BugCheckInfo
	order []uint32
}

// bugCheckTable parses the embedded data once. Lines it cannot read are
// skipped and reported as errors, which the tests require to be none.
var bugCheckTable = sync.OnceValues(func() (*bugCheckTab, []error) {
	return parseBugChecks(bugcheck.Codes)
})

// parseBugChecks reads the format described at the top of
// assets/bugcheck/bugchecks.txt.
func parseBugChecks(text string) (*bugCheckTab, []error) {
	tab := &bugCheckTab{codes: map[uint32]*BugCheckInfo{}}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("bugchecks.txt:%d: %s", line, fmt.Sprintf(format, args...)))
	}
	var cur *BugCheckInfo
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if !strings.HasPrefix(line, "\t") {
			f := strings.Fields(line)
			code, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 32)
			if len(f) != 2 || !strings.HasPrefix(f[0], "0x") || err != nil {
				bad(n, "record header %q is not \"0xCODE NAME\"", line)
				cur = nil
				continue
			}
			if _, dup := tab.codes[uint32(code)]; dup {
				bad(n, "code %#x listed twice", code)
			}
			cur = &BugCheckInfo{Code: uint32(code), Name: f[1]}
			tab.codes[cur.Code] = cur
			tab.order = append(tab.order, cur.Code)
			clear(seen)
			continue
		}
		if cur == nil {
			bad(n, "entry outside a record")
			continue
		}
		key, val, ok := strings.Cut(trimmed, "\t")
		val = strings.TrimSpace(val)
		if !ok || val == "" {
			bad(n, "entry %q has no text", trimmed)
			continue
		}
		if seen[key] {
			bad(n, "key %q repeated in %#x", key, cur.Code)
			continue
		}
		seen[key] = true
		if key == "desc" {
			cur.Description = val
			continue
		}
		if err := cur.add(key, val); err != nil {
			bad(n, "%v", err)
		}
	}
	slices.Sort(tab.order)
	return tab, errs
}

// add files one parameter entry: "N[:dec]", "N=0xV" or "S=0xV/N[:dec]".
func (b *BugCheckInfo) add(key, text string) error {
	sel, target, conditional := strings.Cut(key, "/")
	if !conditional {
		target, sel = sel, ""
	}
	target, dec, _ := strings.Cut(target, ":")
	decode := ParamDecoder(dec)
	switch decode {
	case DecodeNone, DecodeException, DecodeStatus, DecodeIRQL:
	default:
		return fmt.Errorf("key %q: unknown decoder %q", key, dec)
	}
	n, v, hasValue, err := paramKey(target)
	if err != nil || (hasValue && (conditional || decode != DecodeNone)) {
		return fmt.Errorf("key %q is not N, N:decoder, N=0xV or S=0xV/N", key)
	}
	p := &b.Params[n-1]
	switch {
	case conditional:
		s, sv, ok, err := paramKey(sel)
		if err != nil || !ok || s == n {
			return fmt.Errorf("key %q: selector %q is not S=0xV", key, sel)
		}
		if b.Selector != 0 && b.Selector != s {
			return fmt.Errorf("key %q: %#x already selects by parameter %d", key, b.Code, b.Selector)
		}
		b.Selector = s
		if p.When == nil {
			p.When = map[uint64]ParamMeaning{}
		}
		p.When[sv] = ParamMeaning{Meaning: text, Decode: decode}
	case hasValue:
		if p.Values == nil {
			p.Values = map[uint64]string{}
		}
		p.Values[v] = text
	default:
		p.Meaning, p.Decode = text, decode
	}
	return nil
}

// paramKey parses "N" or "N=0xV".
func paramKey(s string) (n int, v uint64, hasValue bool, err error) {
	num, val, hasValue := strings.Cut(s, "=")
	if len(num) != 1 || num[0] < '1' || num[0] > '4' {
		return 0, 0, false, fmt.Errorf("parameter %q is not 1-4", num)
	}
	n = int(num[0] - '0')
	if hasValue {
		hex, ok := strings.CutPrefix(val, "0x")
		if !ok {
			return 0, 0, false, fmt.Errorf("value %q is not hexadecimal", val)
		}
		if v, err = strconv.ParseUint(hex, 16, 64); err != nil {
			return 0, 0, false, err
		}
	}
	return n, v, hasValue, nil
}
