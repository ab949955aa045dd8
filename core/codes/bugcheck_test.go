package codes

import (
	"errors"
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
		{0x170, "CLUSTER_CSV_CLUSSVC_DISCONNECT_WATCHDOG"},
		{0x171, "CRYPTO_LIBRARY_INTERNAL_ERROR"},
		{0x17C, "PDC_LOCK_WATCHDOG_LIVEDUMP"},
		{0x1C8, "MANUALLY_INITIATED_POWER_BUTTON_HOLD"},
		{0x1D0, "ACPI_FIRMWARE_WATCHDOG_TIMEOUT"},
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

// TestBugCheckData checks the embedded file: it parses cleanly, covers the
// documented codes, spells every name as a bugcodes.h constant, and gives
// parameter meanings for well over the ~120 common codes.
func TestBugCheckData(t *testing.T) {
	t.Parallel()
	tab, errs := bugCheckTable()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(tab.codes); n < 420 {
		t.Errorf("data has %d codes, want the 421 documented ones", n)
	}
	seen := map[string]uint32{}
	withParams, meanings := 0, 0
	for _, code := range tab.order {
		b := tab.codes[code]
		if b.Name == "" || strings.Trim(b.Name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			t.Errorf("%#x: name %q is not an upper-case constant", code, b.Name)
		}
		if code&0xF0000000 == BugCheckM && tab.codes[code&^BugCheckM] != nil {
			t.Errorf("%#x: _M variants are derived, not listed", code)
		}
		if other, dup := seen[b.Name]; dup {
			t.Errorf("%q is listed for both %#x and %#x", b.Name, other, code)
		}
		seen[b.Name] = code
		n := 0
		for _, p := range b.Params {
			if p.Meaning != "" || len(p.Values) > 0 || len(p.When) > 0 {
				n++
			}
		}
		if n > 0 {
			withParams++
			meanings += n
		}
		if b.Selector != 0 && len(b.Params[b.Selector-1].Values) == 0 {
			t.Errorf("%#x: parameter %d selects the meanings but its values are not described", code, b.Selector)
		}
	}
	if withParams < 200 {
		t.Errorf("only %d codes have parameter meanings", withParams)
	}
	t.Logf("%d codes, %d with parameter meanings (%d parameters described)", len(tab.order), withParams, meanings)
	// The codes the blue screen shows most often must be documented.
	for _, code := range []uint32{0x0A, 0x19, 0x1A, 0x1E, 0x3B, 0x50, 0x7A, 0x7E, 0x7F, 0x9F, 0xA0, 0xC2, 0xC4,
		0xD1, 0xEF, 0xF4, 0xFC, 0x101, 0x109, 0x116, 0x124, 0x133, 0x139, 0x1C8} {
		b, ok := BugCheck(code)
		if !ok || b.Description == "" {
			t.Errorf("%#x: no description", code)
		}
		n := 0
		for _, p := range b.Params {
			if p.Meaning != "" || len(p.Values) > 0 {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%#x (%s): no parameter meanings", code, b.Name)
		}
	}
}

func TestBugCheckExplain(t *testing.T) {
	t.Parallel()
	b, ok := BugCheck(0x1000007E)
	if !ok || b.Code != 0x1000007E || b.Name != "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M" {
		t.Fatalf("BugCheck(0x1000007E) = %+v, %v", b, ok)
	}
	base, _ := BugCheck(0x7E)
	if b.Description != base.Description || b.Params[0].Meaning != base.Params[0].Meaning {
		t.Errorf("_M variant does not share the base code's text")
	}
	type want struct {
		meaning, value string
		decode         ParamDecoder
	}
	for _, tc := range []struct {
		code   uint32
		params []uint64
		n      int
		want   want
	}{
		{0x7E, []uint64{0xffffffffc0000005, 0, 0, 0}, 1, want{"The exception code that wasn't handled", "", DecodeException}},
		{0x7E, []uint64{0xffffffffc0000005, 0, 0, 0}, 4, want{"The address of the context record", "", DecodeNone}},
		{0x50, []uint64{0, 2, 0, 0}, 2, want{"The type of access", "Write operation", DecodeNone}},
		{0x50, []uint64{0, 0x10, 0, 0}, 2, want{"The type of access", "Execute operation", DecodeNone}},
		{0x0A, []uint64{0, 2, 1, 0}, 2, want{"IRQL at time of the fault", "", DecodeIRQL}},
		{0x0A, []uint64{0, 2, 1, 0}, 3, want{"Bit field that describes the operation that caused the fault (bit 0 write, bit 3 execute)",
			"Fault trying to WRITE to the address in parameter 1", DecodeNone}},
		{0x1C8, []uint64{12000, 0, 0, 0}, 1, want{"Time in milliseconds the power button was held down", "", DecodeNone}},
		// Parameter 1 selects what the others mean.
		{0x1A, []uint64{0x41790, 0, 0, 0}, 1, want{"", "A page table page has been corrupted", DecodeNone}},
		{0x9F, []uint64{3, 0, 0, 0}, 4, want{"The blocked IRP", "", DecodeNone}},
		{0x9F, []uint64{0x77, 0, 0, 0}, 4, want{"", "", DecodeNone}},
		{0x139, []uint64{3, 0, 0, 0}, 1, want{"The type of corruption", "A LIST_ENTRY was corrupted (for example, a double remove)", DecodeNone}},
		{0x131, []uint64{1, 0, 0, 0}, 2, want{"The IRQL", "", DecodeIRQL}},
		{0x7A, []uint64{4, 0xc000009c, 1, 2}, 2, want{"The error status (usually an I/O status code)", "", DecodeStatus}},
		{0x7A, []uint64{4, 0xc000009c, 1, 2}, 3, want{"The address of the InPageSupport structure", "", DecodeNone}},
		// Out of range and missing parameters.
		{0x7E, nil, 1, want{"The exception code that wasn't handled", "", DecodeException}},
		{0x7E, nil, 5, want{}},
	} {
		b, ok := BugCheck(tc.code)
		if !ok {
			t.Errorf("%#x unknown", tc.code)
			continue
		}
		m, v, d := b.Explain(tc.n, tc.params)
		if got := (want{m, v, d}); got != tc.want {
			t.Errorf("%#x parameter %d %#x: got %+v, want %+v", tc.code, tc.n, tc.params, got, tc.want)
		}
	}
	if codes := BugCheckCodes(); len(codes) < 420 || codes[0] != 1 {
		t.Errorf("BugCheckCodes() = %d codes starting %#x", len(codes), codes[0])
	}
}

// TestParseBugChecksErrors feeds the parser the mistakes a hand edit makes.
func TestParseBugChecksErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, text string }{
		{"header", "7E NAME\n"},
		{"header fields", "0x7E NAME extra\n"},
		{"orphan", "\t1\tmeaning\n"},
		{"no text", "0x7E N\n\t1\n"},
		{"repeated key", "0x7E N\n\t1\ta\n\t1\tb\n"},
		{"duplicate code", "0x7E N\n0x7E M\n"},
		{"bad parameter", "0x7E N\n\t5\ta\n"},
		{"decimal value", "0x7E N\n\t1=5\ta\n"},
		{"decoder", "0x7E N\n\t1:bogus\ta\n"},
		{"value with decoder", "0x7E N\n\t1=0x1:irql\ta\n"},
		{"two selectors", "0x7E N\n\t1=0x1/2\ta\n\t3=0x1/2\tb\n"},
		{"self selector", "0x7E N\n\t1=0x1/1\ta\n"},
	} {
		if _, errs := parseBugChecks(tc.text); len(errs) == 0 {
			t.Errorf("%s: %q parsed without error", tc.name, tc.text)
		}
	}
	tab, errs := parseBugChecks("# c\n0x7E N\n\t# c\n\tdesc\td\n\t1:irql\ta\n\t1=0x2\tb\n\t1=0x2/3:status\tc\n")
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	b := tab.codes[0x7E]
	if b.Description != "d" || b.Params[0].Decode != DecodeIRQL || b.Params[0].Values[2] != "b" ||
		b.Params[2].When[2] != (ParamMeaning{"c", DecodeStatus}) || b.Selector != 1 {
		t.Errorf("parsed %+v", b)
	}
}

func TestNTStatusName(t *testing.T) {
	t.Parallel()
	for code, want := range map[uint32]string{
		0xc000009c: "STATUS_DEVICE_DATA_ERROR",
		0xc0000005: "STATUS_ACCESS_VIOLATION",
		0xc0000374: "STATUS_HEAP_CORRUPTION", // from the exception names
		0x12345678: "",
	} {
		if got := NTStatusName(code); got != want {
			t.Errorf("NTStatusName(%#x) = %q, want %q", code, got, want)
		}
	}
}
