package analyze

import (
	"fmt"
	"strings"

	"github.com/crashbench/crashbench/core/codes"
	"github.com/crashbench/crashbench/core/model"
)

// nullRegion is the size of the low address range WinDbg treats as a
// NULL-relative access (a field of a NULL object): the first 64 KiB are
// never mapped on Windows.
const nullRegion = 0x10000

// ProblemClass names the kind of failure as WinDbg's bucket IDs do:
// NULL_POINTER_READ, NULL_CLASS_PTR_WRITE, INVALID_POINTER_READ,
// STACK_OVERFLOW, FAIL_FAST_FATAL_APP_EXIT, BREAKPOINT, ...
func ProblemClass(c *model.Crash) string {
	if c == nil {
		return "NO_CRASH"
	}
	switch c.Kind {
	case model.NoCrash:
		return "NO_CRASH"
	case model.BugCheck:
		return bugcheckClass(c)
	case model.Panic, model.Oops:
		return "KERNEL_PANIC"
	case model.Signal:
		return signalClass(c)
	}
	if strings.HasPrefix(c.Name, "EXC_") { // a Mach exception (macOS, iOS)
		return signalClass(c)
	}
	switch uint32(c.Code) {
	case 0xc0000005, 0xc0000006:
		return accessClass(c)
	case 0xc0000409:
		if len(c.Parameters) > 0 {
			if ff := codes.FastFail(c.Parameters[0]); ff != "" {
				return "FAIL_FAST_" + strings.TrimPrefix(ff, "FAST_FAIL_")
			}
		}
		return "STACK_BUFFER_OVERRUN"
	case 0xc00000fd:
		return "STACK_OVERFLOW"
	case 0x80000003:
		return "BREAKPOINT"
	case 0xc000001d:
		return "ILLEGAL_INSTRUCTION"
	case 0xc0000096:
		return "PRIVILEGED_INSTRUCTION"
	case 0xc0000094:
		return "INTEGER_DIVIDE_BY_ZERO"
	case 0xc0000374:
		return "HEAP_CORRUPTION"
	case 0xc000000d, 0xc0000417:
		return "INVALID_PARAMETER"
	case 0xe06d7363:
		return "CPP_EXCEPTION"
	}
	return "APPLICATION_FAULT"
}

// bugcheckClass is WinDbg's BUGCHECK_STR: the stop code without the _M
// flag ("0x7E" for 0x1000007E, as WinDbg prints it), followed by parameter 1
// where Microsoft documents its values as the kind of failure (0x1A, 0x7F,
// 0x9F, 0x139, ...): "0x1A_41790", "0x7F_8". WinDbg has further special
// cases (0x124 adds the CPU vendor) that are not reproduced.
func bugcheckClass(c *model.Crash) string {
	code := uint32(c.Code) &^ codes.BugCheckM
	class := fmt.Sprintf("0x%X", code)
	if b, ok := codes.BugCheck(code); ok && len(c.Parameters) > 0 && len(b.Params[0].Values) > 0 {
		class += fmt.Sprintf("_%X", c.Parameters[0])
	}
	return class
}

// accessClass classifies an access violation by access type and address.
func accessClass(c *model.Crash) string {
	access := "READ"
	if len(c.Parameters) > 0 {
		switch c.Parameters[0] {
		case 1:
			access = "WRITE"
		case 8:
			if c.Address != nil && *c.Address < nullRegion {
				return "NULL_IP"
			}
			return "BAD_IP"
		}
	}
	if c.Address == nil {
		return "INVALID_POINTER_" + access
	}
	switch a := *c.Address; {
	case a == 0:
		return "NULL_POINTER_" + access
	case a < nullRegion:
		return "NULL_CLASS_PTR_" + access
	}
	return "INVALID_POINTER_" + access
}

func signalClass(c *model.Crash) string {
	name, _, _ := strings.Cut(c.Name, " ")
	if name == "" {
		name = fmt.Sprintf("SIGNAL_%d", c.Code)
	}
	if (name == "SIGSEGV" || name == "SIGBUS" || name == "EXC_BAD_ACCESS") && c.Address != nil {
		switch a := *c.Address; {
		case a == 0:
			return name + "_NULL_POINTER"
		case a < nullRegion:
			return name + "_NULL_CLASS_PTR"
		}
		return name + "_INVALID_POINTER"
	}
	return name
}

// BucketID builds a WinDbg-style FAILURE_BUCKET_ID from the problem class,
// the crash code and the faulting frame:
// NULL_CLASS_PTR_WRITE_c0000005_test_app.exe!CrashFunction, and for bug
// checks 0x7E_amdppm!WriteIoMemRawEx.
func BucketID(c *model.Crash, faulting *Frame) string {
	class := ProblemClass(c)
	mod, fn := "unknown_module", "unknown_function"
	if faulting != nil {
		if faulting.Module != "" {
			mod = faulting.Module
		}
		if faulting.Function != "" {
			fn = normalize(faulting.Function)
		}
	}
	if c != nil && c.Kind == model.BugCheck {
		// Kernel buckets name the module as WinDbg's module!symbol does:
		// without its extension, and the kernel under any file name as nt.
		mod = moduleStem(mod)
		if isKernelImage(mod) && !strings.HasPrefix(strings.ToLower(mod), "hal") {
			mod = "nt"
		}
		return class + "_" + mod + "!" + fn
	}
	where := mod + "!" + fn
	if c == nil || c.Kind == model.NoCrash || c.Kind == model.Panic || c.Kind == model.Oops {
		return class + "_" + where
	}
	if c.Kind == model.Signal || strings.HasPrefix(c.Name, "EXC_") {
		return class + "_" + where
	}
	return fmt.Sprintf("%s_%x_%s", class, uint32(c.Code), where)
}
