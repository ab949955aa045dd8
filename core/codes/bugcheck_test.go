package codes

import (
	"strings"
	"testing"
)

func TestBugCheckName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code uint32
		want string
	}{
		{0x0A, "IRQL_NOT_LESS_OR_EQUAL"},
		{0x1E, "KMODE_EXCEPTION_NOT_HANDLED"},
		{0x3B, "SYSTEM_SERVICE_EXCEPTION"},
		{0x50, "PAGE_FAULT_IN_NONPAGED_AREA"},
		{0x7E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"},
		{0xD1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL"},
		{0xE2, "MANUALLY_INITIATED_CRASH"},
		{0xEF, "CRITICAL_PROCESS_DIED"},
		{0x124, "WHEA_UNCORRECTABLE_ERROR"},
		{0x133, "DPC_WATCHDOG_VIOLATION"},
		{0x139, "KERNEL_SECURITY_CHECK_FAILURE"},
		{0x1C8, "MANUALLY_INITIATED_POWER_BUTTON_HOLD"},
		{0xC000021A, "WINLOGON_FATAL_ERROR"},
		{0xDEADDEAD, "MANUALLY_INITIATED_CRASH1"},
		// The "_M" variants WinDbg prints (rizin's oracle for triage_x64.dmp).
		{0x1000007E, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M"},
		{0x1000007F, "UNEXPECTED_KERNEL_MODE_TRAP_M"},
		{0x1000008E, "KERNEL_MODE_EXCEPTION_NOT_HANDLED_M"},
		{0x100000EA, "THREAD_STUCK_IN_DEVICE_DRIVER_M"},
		{0x100000D1, "DRIVER_IRQL_NOT_LESS_OR_EQUAL_M"},
		// Unknown codes and unknown bases stay unnamed.
		{0, ""},
		{0x10000000, ""},
		{0x10000084, ""},
		{0x5454414D, ""}, // DumpIt's "MATT" marker
		{0x20000050, ""}, // only the 0x1xxxxxxx prefix means "_M"
		{0xFFFFFFFF, ""},
	} {
		if got := BugCheckName(tc.code); got != tc.want {
			t.Errorf("BugCheckName(%#x) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

// TestBugCheckTable checks the table's shape: enough documented codes, and
// every name spelled as a bugcodes.h constant.
func TestBugCheckTable(t *testing.T) {
	t.Parallel()
	if n := len(bugCheckNames); n < 150 {
		t.Errorf("table has %d codes, want at least the ~150 documented ones", n)
	}
	seen := map[string]uint32{}
	for code, name := range bugCheckNames {
		if name == "" || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			t.Errorf("%#x: name %q is not an upper-case constant", code, name)
		}
		if strings.HasSuffix(name, "_M") {
			t.Errorf("%#x: %q: _M names are derived, not listed", code, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("%q is listed for both %#x and %#x", name, other, code)
		}
		seen[name] = code
	}
}
