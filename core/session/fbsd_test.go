package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/fbsd/fbsdtest"
)

// TestFreeBSDMinidump opens a spec-written FreeBSD/amd64 minidump whose
// message buffer ends in a panic: log shows the buffer, info --log gives
// the same lines, and !analyze -v reports the panic from it.
func TestFreeBSDMinidump(t *testing.T) {
	t.Parallel()
	msg := strings.Join([]string{
		"Copyright (c) 1992-2024 The FreeBSD Project.",
		"FreeBSD 14.1-RELEASE releng/14.1-n267679-10e31f0946d8 GENERIC amd64",
		"Fatal trap 12: page fault while in kernel mode",
		"cpuid = 0; apic id = 00",
		"current process		= 42 (ifconfig)",
		"panic: page fault",
		"cpuid = 0",
		"KDB: stack backtrace:",
		"#0 0xffffffff80c4a8f5 at kdb_backtrace+0x65",
		"#1 0xffffffff80bfcd41 at vpanic+0x151",
		"#2 0xffffffff80bfcbe3 at panic+0x43",
		"#3 0xffffffff810b3f2c at trap_fatal+0x38c",
		"#4 0xffffffff81086a28 at calltrap+0x8",
		"#5 0xffffffff80c1f0e5 at if_ioctl+0x45",
		"#6 0xffffffff80c61e12 at kern_ioctl+0x2b2",
		"",
	}, "\n")
	raw, err := fbsdtest.New("amd64").MsgBuf(msg).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vmcore.0")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openSession(t, path, Options{})
	log := run(t, s, "log")
	wantAll(t, "log", log, "FreeBSD 14.1-RELEASE", "panic: page fault", "#5 0xffffffff80c1f0e5 at if_ioctl+0x45")
	r, err := s.Report(ReportOptions{Log: true})
	if err != nil || len(r.Log) < 10 || r.Log[len(r.Log)-1] != "#6 0xffffffff80c61e12 at kern_ioctl+0x2b2" {
		t.Errorf("report log %q, %v", r.Log, err)
	}
	wantAll(t, "!analyze -v", run(t, s, "!analyze -v"),
		"Fatal trap 12: page fault while in kernel mode", "CPU: 0  PID: 42  COMM: ifconfig",
		"CALL TRACE:\n  if_ioctl+0x45\n  kern_ioctl+0x2b2\n", "FAILURE_BUCKET_ID:  FBSD_OOPS_if_ioctl")
}
