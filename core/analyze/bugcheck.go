package analyze

import (
	"fmt"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/assets/bugcheck"
	"github.com/crashbench/crashbench/core/codes"
	"github.com/crashbench/crashbench/core/model"
)

// BrokenDriverDetail is the model.Detail key under which a kernel dump
// reader reports the driver the dump itself names as broken (a triage
// dump's BrokenDriverOffset, KiBugCheckDriver). NewBugcheckReport uses it
// as the last source of the probable cause.
const BrokenDriverDetail = "Broken driver"

// ArgLine is one line of the "Arguments:" block of WinDbg's !analyze -v:
//
//	Arg1: ffffffffc0000005, The exception code that wasn't handled (EXCEPTION_ACCESS_VIOLATION)
type ArgLine struct {
	N      int    // 1-4
	Value  uint64 // the parameter as the dump records it
	Text   string // its documented meaning, with the value named where the docs or a decoder can; may be ""
	Digits int    // hex digits WinDbg prints: 16 on 64-bit targets, 8 on 32-bit ones
}

// String renders the line as WinDbg does.
func (a ArgLine) String() string {
	s := fmt.Sprintf("Arg%d: %0*x", a.N, max(a.Digits, 1), a.Value)
	if a.Text != "" {
		s += ", " + a.Text
	}
	return s
}

// BugcheckArgs explains bug-check parameters the way WinDbg's !analyze -v
// does, from Microsoft's documentation of the code
// (assets/bugcheck/bugchecks.txt): each parameter's meaning, under the
// value of the parameter that selects the failure type where the page says
// so, and the value itself named from the page's value table, as an
// exception code, an NTSTATUS or an IRQL. arch picks the print width and the
// IRQL names. Unknown codes give lines with values only.
func BugcheckArgs(code uint32, params []uint64, arch model.Arch) []ArgLine {
	info, known := codes.BugCheck(code)
	digits := 16
	if arch == model.X86 || arch == model.ARM { // the 32-bit Windows targets
		digits = 8
	}
	lines := make([]ArgLine, 0, len(params))
	for i, v := range params {
		l := ArgLine{N: i + 1, Value: v, Digits: digits}
		if known {
			meaning, value, decode := info.Explain(i+1, params)
			named := decodeParam(decode, v, arch)
			switch {
			case value != "" && meaning != "":
				l.Text = meaning + ": " + value
			case value != "":
				l.Text = value
			case named != "" && meaning != "":
				l.Text = meaning + " (" + named + ")"
			default:
				l.Text = meaning
			}
		}
		lines = append(lines, l)
	}
	return lines
}

// decodeParam names a parameter value by its decoder, or returns "".
func decodeParam(d codes.ParamDecoder, v uint64, arch model.Arch) string {
	switch d {
	case codes.DecodeIRQL:
		return irqlName(v, arch)
	case codes.DecodeException, codes.DecodeStatus:
		// 64-bit kernels pass NTSTATUS values sign-extended
		// (ffffffffc0000005); anything wider is not a status.
		if hi := v >> 32; hi != 0 && hi != 0xffffffff {
			return ""
		}
		if d == codes.DecodeException {
			if name := codes.WindowsException(uint32(v), nil); name != "" {
				return name
			}
		}
		return codes.NTStatusName(uint32(v))
	}
	return ""
}

// irqlName names the interrupt request levels wdm.h defines for the
// architecture; device IRQLs in between have no name.
func irqlName(v uint64, arch model.Arch) string {
	switch v {
	case 0:
		return "PASSIVE_LEVEL"
	case 1:
		return "APC_LEVEL"
	case 2:
		return "DISPATCH_LEVEL"
	}
	if arch == model.X86 {
		switch v {
		case 5:
			return "CMCI_LEVEL"
		case 27:
			return "PROFILE_LEVEL"
		case 28:
			return "CLOCK_LEVEL"
		case 29:
			return "IPI_LEVEL"
		case 30:
			return "POWER_LEVEL"
		case 31:
			return "HIGH_LEVEL"
		}
		return ""
	}
	switch v {
	case 5:
		if arch == model.AMD64 {
			return "CMCI_LEVEL"
		}
	case 13:
		return "CLOCK_LEVEL"
	case 14:
		return "IPI_LEVEL"
	case 15:
		return "HIGH_LEVEL"
	}
	return ""
}

// inboxDrivers holds the parsed assets/bugcheck/microsoft-drivers.txt:
// lower-case file names and their stems ("ntoskrnl"), true for the kernel
// and HAL images.
var inboxDrivers = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(bugcheck.MicrosoftDrivers) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		name := strings.ToLower(f[0])
		kernel := len(f) > 1 && f[1] == "kernel"
		m[name] = kernel
		if stem := fileStem(name); stem != name {
			m[stem] = m[stem] || kernel
		}
	}
	return m
})

// fileStem drops a file name's extension: "amdppm.sys" -> "amdppm".
func fileStem(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

// IsMicrosoftDriver reports whether a kernel module (a file name, or
// WinDbg's module name such as "nt") ships with Windows, by the list in
// assets/bugcheck/microsoft-drivers.txt: a kernel dump holds no version
// resources to read the company from.
func IsMicrosoftDriver(name string) bool {
	m := inboxDrivers()
	n := strings.ToLower(name)
	_, byName := m[n]
	_, byStem := m[fileStem(n)]
	return byName || byStem
}

// isKernelImage reports whether name is the kernel or the HAL.
func isKernelImage(name string) bool {
	m := inboxDrivers()
	n := strings.ToLower(name)
	return m[n] || m[fileStem(n)]
}

// CausedBy names the driver a bug check is most probably due to, as
// BlueScreenView's "Caused By Driver" column does, and says why. Candidates
// are taken in this order: (a) the modules of the crashing thread's frames,
// innermost first; (b) the modules holding a bug-check parameter's value;
// (c) broken, the driver the dump itself names. The first candidate that
// does not ship with Windows is named. When every candidate does, the first
// one that is not the kernel or the HAL is named, as WinDbg blames the
// module where the fault happened unless it is the kernel itself: in the
// corpus dump triage_x64.dmp the fault is in amdppm.sys, Microsoft's AMD
// processor driver, and that is where to look. Only when the kernel alone
// is implicated is it named. It returns "" when nothing names a driver.
func CausedBy(c *model.Crash, modules []model.Module, frames []Frame, broken string) (driver, reason string) {
	type candidate struct{ name, why string }
	var cands []candidate
	for i, f := range frames {
		name := frameModule(f, modules)
		if name == "" {
			continue
		}
		why := fmt.Sprintf("return address on the stack at frame %d", i)
		if i == 0 {
			why = "instruction pointer at frame 0"
		}
		cands = append(cands, candidate{name, why})
	}
	if c != nil {
		for i, p := range c.Parameters[:min(len(c.Parameters), 4)] {
			if m := moduleAt(modules, p); m != nil {
				name := m.Name()
				why := fmt.Sprintf("parameter %d %#x is inside %s", i+1, p, name)
				if m.Unloaded {
					why += " (unloaded)"
				}
				cands = append(cands, candidate{name, why})
			}
		}
	}
	if broken != "" {
		cands = append(cands, candidate{broken, "the dump names " + broken + " as the broken driver"})
	}
	for _, k := range cands {
		if !IsMicrosoftDriver(k.name) {
			return k.name, k.why
		}
	}
	for _, k := range cands {
		if !isKernelImage(k.name) {
			return k.name, k.why + "; every implicated driver ships with Windows, so the first outside the kernel is named"
		}
	}
	if len(cands) > 0 {
		return cands[0].name, cands[0].why + "; only the kernel is implicated"
	}
	return "", ""
}

// frameModule returns the file name of the module a frame is in: the
// module list's spelling of f.Module (which may be a stem such as "amdppm",
// or WinDbg's "nt" for the kernel), or the module holding f.PC.
func frameModule(f Frame, modules []model.Module) string {
	if f.Module != "" {
		nt := strings.EqualFold(f.Module, "nt")
		for _, m := range modules {
			n := m.Name()
			if strings.EqualFold(n, f.Module) || strings.EqualFold(fileStem(n), f.Module) ||
				nt && isKernelImage(n) && !strings.HasPrefix(strings.ToLower(n), "hal") {
				return n
			}
		}
		return f.Module
	}
	if m := moduleAt(modules, f.PC); m != nil {
		return m.Name()
	}
	return ""
}

// moduleAt returns the module whose image holds addr, preferring loaded
// modules to unloaded ones that once occupied the range.
func moduleAt(modules []model.Module, addr uint64) *model.Module {
	var unloaded *model.Module
	for i := range modules {
		m := &modules[i]
		if m.Size == 0 || !m.Contains(addr) {
			continue
		}
		if !m.Unloaded {
			return m
		}
		if unloaded == nil {
			unloaded = m
		}
	}
	return unloaded
}

// BugcheckReport is the bug-check part of an analysis of a Windows kernel
// dump: what BlueScreenView lists and WinDbg's !analyze -v prints above its
// debugging details.
type BugcheckReport struct {
	Code        uint32    // as recorded: 0x1000007E keeps its _M flag
	Name        string    // "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M"
	Description string    // Microsoft's one-line description; "" for undocumented codes
	Args        []ArgLine // the parameters explained
	CausedBy    string    // the probable driver ("amdppm.sys"); "" when nothing names one
	Reason      string    // why CausedBy was chosen
	BucketID    string    // WinDbg-style FAILURE_BUCKET_ID: "0x7E_amdppm!WriteIoMemRawEx"
}

// NewBugcheckReport builds the report for a dump whose crash is a bug
// check; it returns nil for any other crash. modules are the loaded (and
// unloaded) drivers, frames the crashing thread's stack, innermost first;
// either may be empty. The broken driver a dump records is read from
// info.Details under BrokenDriverDetail.
func NewBugcheckReport(info model.Info, modules []model.Module, frames []Frame) *BugcheckReport {
	c := info.Crash
	if c == nil || c.Kind != model.BugCheck {
		return nil
	}
	code := uint32(c.Code)
	doc, _ := codes.BugCheck(code)
	r := &BugcheckReport{
		Code:        code,
		Name:        c.Name,
		Description: doc.Description,
		Args:        BugcheckArgs(code, c.Parameters, info.Arch),
	}
	if r.Name == "" {
		r.Name = doc.Name
	}
	var broken string
	for _, d := range info.Details {
		if d.Key == BrokenDriverDetail {
			broken = strings.TrimSpace(d.Value)
		}
	}
	r.CausedBy, r.Reason = CausedBy(c, modules, frames, broken)
	// The bucket names the blamed driver's innermost frame, or the driver
	// alone when no frame is in it (no stack, or blamed by a parameter).
	var faulting *Frame
	if r.CausedBy != "" {
		faulting = &Frame{Module: r.CausedBy}
		for _, f := range frames {
			if strings.EqualFold(frameModule(f, modules), r.CausedBy) {
				f.Module = r.CausedBy
				faulting = &f
				break
			}
		}
	}
	r.BucketID = BucketID(c, faulting)
	return r
}
