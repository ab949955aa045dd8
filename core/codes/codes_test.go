package codes

import "testing"

func TestWindowsException(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   uint32
		params []uint64
		want   string
	}{
		{0xc0000005, []uint64{1, 0x45}, "EXCEPTION_ACCESS_VIOLATION_WRITE"},
		{0xc0000005, []uint64{0, 0}, "EXCEPTION_ACCESS_VIOLATION_READ"},
		{0xc0000005, []uint64{8, 0}, "EXCEPTION_ACCESS_VIOLATION_EXEC"},
		{0xc0000005, nil, "EXCEPTION_ACCESS_VIOLATION"},
		{0xc0000409, []uint64{7}, "STATUS_STACK_BUFFER_OVERRUN"},
		{0x12345678, nil, ""},
	} {
		if got := WindowsException(tc.code, tc.params); got != tc.want {
			t.Errorf("WindowsException(%#x, %v) = %q, want %q", tc.code, tc.params, got, tc.want)
		}
	}
	if got := FastFail(7); got != "FAST_FAIL_FATAL_APP_EXIT" {
		t.Errorf("FastFail(7) = %q", got)
	}
}

func TestSignals(t *testing.T) {
	t.Parallel()
	if got := Signal(11, LinuxGeneric); got != "SIGSEGV" {
		t.Errorf("generic 11 = %q", got)
	}
	if got := Signal(10, LinuxMIPS); got != "SIGBUS" {
		t.Errorf("mips 10 = %q", got)
	}
	if got := Signal(10, LinuxGeneric); got != "SIGUSR1" {
		t.Errorf("generic 10 = %q", got)
	}
	if got := SigCode("SIGSEGV", 1); got != "SEGV_MAPERR" {
		t.Errorf("SigCode = %q", got)
	}
	if got := SigCode("SIGSEGV", 99); got != "" {
		t.Errorf("SigCode(99) = %q", got)
	}
}
