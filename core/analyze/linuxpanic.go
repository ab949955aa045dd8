package analyze

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// PanicReport is what a kernel log says about the crash that ended it:
// Linux's last panic, Oops, BUG or WARNING and the register and stack
// dump printed with it, or FreeBSD's "panic:" with its cpuid, current
// process and KDB backtrace. It is read from the log alone, so it
// works on any vmcore or memory image whose log can be read, without
// vmlinux.
type PanicReport struct {
	OS       string // "linux" or "freebsd", from the report's form
	Kind     string // "panic", "oops", "bug" or "warning"
	Message  string // "Kernel panic - not syncing: sysrq triggered crash"
	Reason   string // the part after "not syncing: " / "BUG: " / "Oops: ", the short description
	CPU      int    // -1 when the log does not say
	PID      int    // -1 when the log does not say
	Comm     string
	Tainted  string // "Not tainted", or the taint flags ("G   OE")
	Release  string // the kernel release on the CPU line
	Hardware string // the "Hardware name:" line
	RIP      string // the faulting kernel function ("sysrq_handle_crash+0x16/0x20"); "" for a user-mode RIP
	Trace    []string
	// Frames are the reliable call-trace frames from the first one below
	// the panic/oops machinery down, "function+0xoff/0xsize" as printed
	// (entries marked "?" are unreliable and left out).
	Frames    []string
	Modules   []string // "Modules linked in:"
	Signature string   // Message and the top functions, without addresses, offsets or timestamps
	BucketID  string   // "LNX_PANIC_sysrq_handle_crash"
}

var (
	logPrefix   = lazyRegexp(`^\[\s*\d+\.\d+\]\s?`)
	cpuLine     = lazyRegexp(`^CPU: (\d+) (?:UID: \d+ )?PID: (\d+) Comm: (\S+) (Not tainted|Tainted: [^0-9]*?) ?(\S+) #`)
	ripLine     = lazyRegexp(`^RIP: [0-9a-f]{4}:(.+)$`)
	pcLine      = lazyRegexp(`^pc ?: (.+)$`) // arm64: "pc : function+0x1c/0x30"
	frameLine   = lazyRegexp(`^ (\? )?([A-Za-z_.$][\w.$]*\+0x[0-9a-f]+/0x[0-9a-f]+)(?: \[(\S+)\])?`)
	hexOffsets  = lazyRegexp(`\+0x[0-9a-f]+/0x[0-9a-f]+`)
	hexNumbers  = lazyRegexp(`\b(?:0x)?[0-9a-f]{8,}\b`)
	panicMarker = []struct{ prefix, kind string }{
		{"Kernel panic - not syncing: ", "panic"},
		{"BUG: ", "bug"},
		{"kernel BUG at ", "bug"},
		{"Oops: ", "oops"},
		{"WARNING: ", "warning"},
		{"general protection fault", "oops"},
		{"Unable to handle kernel ", "oops"},
		{"panic: ", "panic"},    // FreeBSD
		{"Fatal trap ", "oops"}, // FreeBSD: "Fatal trap 12: page fault while in kernel mode"
	}
	bsdCPU   = lazyRegexp(`^cpuid = (\d+)`)
	bsdPID   = lazyRegexp(`^current process\s+= (\d+) \((.*)\)$`)
	bsdFrame = lazyRegexp(`^#\d+ 0x[0-9a-f]+ at ([A-Za-z_.$][\w.$]*\+0x[0-9a-f]+)`)
	bsdRIP   = lazyRegexp(`^instruction pointer\s+= 0x[0-9a-f]+:0x[0-9a-f]+$`)
)

// machinery are the functions that print the report rather than cause it:
// the call trace starts below the last of them.
var machinery = map[string]bool{
	"dump_stack": true, "dump_stack_lvl": true, "show_stack": true, "panic": true, "vpanic": true,
	"__warn": true, "warn_slowpath_fmt": true, "report_bug": true, "handle_bug": true,
	"exc_invalid_op": true, "asm_exc_invalid_op": true, "die": true, "oops_end": true,
	"__die": true, "__die_body": true, "no_context": true, "page_fault_oops": true,
	"kernelmode_fixup_or_oops": true, "__bad_area_nosemaphore": true, "do_user_addr_fault": true,
	"exc_page_fault": true, "asm_exc_page_fault": true, "do_trap": true, "do_error_trap": true,
	// FreeBSD
	"kdb_backtrace": true, "trap_fatal": true, "trap_pfault": true, "trap": true, "calltrap": true,
}

// ParsePanic reads the report of the last panic, Oops, BUG or WARNING in
// a kernel log (lines as dmesg prints them, with or without the
// "[    6.640342] " timestamps). It returns nil when the log has none.
func ParsePanic(log []string) *PanicReport {
	lines := make([]string, len(log))
	for i, l := range log {
		lines[i] = logPrefix().ReplaceAllString(l, "")
	}
	start, kind := -1, ""
	for i, l := range lines {
		for _, m := range panicMarker {
			if strings.HasPrefix(l, m.prefix) {
				// A panic that follows an Oops reports the Oops: keep the
				// Oops as the report unless nothing precedes the panic.
				if (kind == "oops" || kind == "bug") && m.kind == "panic" {
					continue
				}
				// "BUG: kernel NULL pointer dereference" is followed by
				// "Oops: 0000 [#1]": one event, the BUG line says what.
				if kind == "bug" && m.kind == "oops" && i-start <= 4 {
					continue
				}
				start, kind = i, m.kind
			}
		}
	}
	if start < 0 {
		return nil
	}
	r := &PanicReport{OS: "linux", Kind: kind, Message: strings.TrimSpace(lines[start]), CPU: -1, PID: -1}
	if strings.HasPrefix(r.Message, "panic: ") || strings.HasPrefix(r.Message, "Fatal trap ") {
		r.OS = "freebsd"
	}
	r.Reason = r.Message
	for _, m := range panicMarker {
		if rest, ok := strings.CutPrefix(r.Message, m.prefix); ok && rest != "" {
			r.Reason = rest
			break
		}
	}
	inTrace := false
	for _, l := range lines[start:] {
		switch {
		case r.CPU < 0 && cpuLine().MatchString(l):
			m := cpuLine().FindStringSubmatch(l)
			r.CPU, _ = strconv.Atoi(m[1])
			r.PID, _ = strconv.Atoi(m[2])
			r.Comm = m[3]
			r.Tainted = strings.TrimSpace(strings.TrimPrefix(m[4], "Tainted: "))
			if m[4] == "Not tainted" {
				r.Tainted = "Not tainted"
			}
			r.Release = m[5]
		case strings.HasPrefix(l, "Hardware name: ") && r.Hardware == "":
			r.Hardware = strings.TrimPrefix(l, "Hardware name: ")
		case strings.HasPrefix(l, "Modules linked in:") && r.Modules == nil:
			r.Modules = strings.Fields(strings.TrimPrefix(l, "Modules linked in:"))
			if r.Modules == nil {
				r.Modules = []string{}
			}
		case r.RIP == "" && ripLine().MatchString(l):
			if v := ripLine().FindStringSubmatch(l)[1]; !strings.HasPrefix(v, "0x") {
				r.RIP = v // "0x47b7a0" is a user-mode address: no function
			}
		case r.RIP == "" && pcLine().MatchString(l):
			r.RIP = pcLine().FindStringSubmatch(l)[1]
		case r.CPU < 0 && bsdCPU().MatchString(l):
			r.CPU, _ = strconv.Atoi(bsdCPU().FindStringSubmatch(l)[1])
		case r.PID < 0 && bsdPID().MatchString(l):
			m := bsdPID().FindStringSubmatch(l)
			r.PID, _ = strconv.Atoi(m[1])
			r.Comm = m[2]
		case strings.HasPrefix(l, "KDB: stack backtrace:"):
			inTrace = len(r.Trace) == 0
		case inTrace && bsdFrame().MatchString(l):
			r.Trace = append(r.Trace, bsdFrame().FindStringSubmatch(l)[1])
		case strings.HasPrefix(l, "Call Trace:") || strings.HasPrefix(l, "Call trace:"):
			inTrace = len(r.Trace) == 0
		case inTrace && (strings.HasPrefix(l, " </TASK>") || strings.HasPrefix(l, "---[ end")):
			inTrace = false
		case inTrace:
			if m := frameLine().FindStringSubmatch(l); m != nil {
				fn := m[2]
				if m[3] != "" {
					fn += " [" + m[3] + "]"
				}
				if m[1] == "" {
					r.Trace = append(r.Trace, fn)
				}
			}
		}
	}
	// Drop the machinery that printed the report.
	first := 0
	for i, f := range r.Trace {
		if machinery[funcName(f)] {
			first = i + 1
		}
	}
	r.Frames = r.Trace[first:]
	r.Signature = panicSignature(r)
	r.BucketID = panicBucket(r)
	return r
}

// funcName is the function of a trace entry: "panic+0x118/0x2f4" → "panic".
func funcName(frame string) string {
	if i := strings.IndexByte(frame, '+'); i >= 0 {
		return frame[:i]
	}
	return frame
}

// panicSignature is the message and the top three frames, with offsets,
// addresses and numbers that change from boot to boot removed.
func panicSignature(r *PanicReport) string {
	msg := hexNumbers().ReplaceAllString(hexOffsets().ReplaceAllString(r.Message, ""), "X")
	parts := []string{msg}
	for i, f := range r.Frames {
		if i == 3 {
			break
		}
		parts = append(parts, funcName(f))
	}
	return strings.Join(parts, " | ")
}

// panicBucket names the crash's bucket: kind and the top frame (or the
// faulting function), "LNX_PANIC_sysrq_handle_crash".
func panicBucket(r *PanicReport) string {
	where := ""
	switch {
	case r.RIP != "":
		where = funcName(r.RIP)
	case len(r.Frames) > 0:
		where = funcName(r.Frames[0])
	}
	b := "LNX_" + strings.ToUpper(r.Kind)
	if r.OS == "freebsd" {
		b = "FBSD_" + strings.ToUpper(r.Kind)
	}
	if where != "" {
		b += "_" + where
	}
	return b
}

// lazyRegexp compiles pattern on first use rather than when the program
// starts: every crashbench command links this package, few read a panic.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
