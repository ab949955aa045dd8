package analyze

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// TestParsePanicCorpus reads panic-96M's dmesg (the oracle the issue
// names): a sysrq panic on CPU 0 in PID 1 init, whose call trace starts
// at sysrq_handle_crash once panic's own frames are dropped.
func TestParsePanicCorpus(t *testing.T) {
	b, err := os.ReadFile(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.dmesg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r := ParsePanic(strings.Split(strings.TrimRight(string(b), "\n"), "\n"))
	if r == nil {
		t.Fatal("no panic found")
	}
	if r.Kind != "panic" || r.Message != "Kernel panic - not syncing: sysrq triggered crash" || r.Reason != "sysrq triggered crash" {
		t.Errorf("kind %q message %q reason %q", r.Kind, r.Message, r.Reason)
	}
	if r.CPU != 0 || r.PID != 1 || r.Comm != "init" || r.Tainted != "Not tainted" || r.Release != "6.1.0-56-cloud-amd64" {
		t.Errorf("CPU %d PID %d comm %q tainted %q release %q", r.CPU, r.PID, r.Comm, r.Tainted, r.Release)
	}
	wantTop := []string{"sysrq_handle_crash+0x16/0x20", "__handle_sysrq.cold+0x44/0x11c", "write_sysrq_trigger+0x24/0x40", "proc_reg_write+0x56/0xa0"}
	if len(r.Frames) < 4 || !slices.Equal(r.Frames[:4], wantTop) {
		t.Errorf("frames %q", r.Frames)
	}
	if r.Frames[len(r.Frames)-1] != "entry_SYSCALL_64_after_hwframe+0x6e/0xd8" {
		t.Errorf("last frame %q", r.Frames[len(r.Frames)-1])
	}
	for _, f := range r.Frames {
		if strings.HasPrefix(f, "_printk") || strings.HasPrefix(f, "mntput") {
			t.Errorf("unreliable ? frame %q kept", f)
		}
	}
	if r.RIP != "" { // the RIP line is user mode (0033:0x47b7a0)
		t.Errorf("RIP %q", r.RIP)
	}
	if r.BucketID != "LNX_PANIC_sysrq_handle_crash" || strings.ContainsAny(r.Signature, "0123456789") && strings.Contains(r.Signature, "0x") {
		t.Errorf("bucket %q signature %q", r.BucketID, r.Signature)
	}
	if !strings.HasPrefix(r.Hardware, "QEMU Standard PC") {
		t.Errorf("hardware %q", r.Hardware)
	}
}

// TestParsePanicOops: an Oops followed by the panic it causes reports the
// Oops, its RIP and modules.
func TestParsePanicOops(t *testing.T) {
	log := []string{
		"[  100.000001] BUG: kernel NULL pointer dereference, address: 0000000000000008",
		"[  100.000002] #PF: supervisor read access in kernel mode",
		"[  100.000003] Oops: 0000 [#1] PREEMPT SMP NOPTI",
		"[  100.000004] CPU: 3 PID: 4242 Comm: kworker/3:1 Tainted: G           OE      6.1.0-56-amd64 #1 Debian 6.1.192-2",
		"[  100.000005] RIP: 0010:mydrv_poll+0x2a/0x90 [mydrv]",
		"[  100.000006] Call Trace:",
		"[  100.000007]  <TASK>",
		"[  100.000008]  process_one_work+0x1c7/0x380",
		"[  100.000009]  worker_thread+0x4d/0x380",
		"[  100.000010]  </TASK>",
		"[  100.000011] Modules linked in: mydrv(OE) nls_ascii",
		"[  100.000012] Kernel panic - not syncing: Fatal exception",
	}
	r := ParsePanic(log)
	if r == nil || r.Kind != "bug" || r.Reason != "kernel NULL pointer dereference, address: 0000000000000008" {
		t.Fatalf("%+v", r)
	}
	if r.CPU != 3 || r.PID != 4242 || r.Comm != "kworker/3:1" || r.Tainted != "G           OE" {
		t.Errorf("CPU %d PID %d comm %q tainted %q", r.CPU, r.PID, r.Comm, r.Tainted)
	}
	if r.RIP != "mydrv_poll+0x2a/0x90 [mydrv]" || r.BucketID != "LNX_BUG_mydrv_poll" || !slices.Equal(r.Modules, []string{"mydrv(OE)", "nls_ascii"}) {
		t.Errorf("RIP %q bucket %q modules %q", r.RIP, r.BucketID, r.Modules)
	}
	if strings.Contains(r.Signature, "0000000000000008") {
		t.Errorf("signature keeps the address: %q", r.Signature)
	}
	if ParsePanic([]string{"[    0.000000] Linux version 6.1.0"}) != nil {
		t.Error("a log without a crash gave a report")
	}
}

// TestParsePanicFreeBSD reads FreeBSD's panic report: the panic line, the
// cpuid, the current process and the KDB backtrace below vpanic/panic.
func TestParsePanicFreeBSD(t *testing.T) {
	log := []string{
		"Fatal trap 12: page fault while in kernel mode",
		"cpuid = 1; apic id = 01",
		"fault virtual address	= 0x18",
		"instruction pointer	= 0x20:0xffffffff80c1f0e5",
		"current process		= 1234 (ifconfig)",
		"trap number		= 12",
		"panic: page fault",
		"cpuid = 1",
		"time = 1700000000",
		"KDB: stack backtrace:",
		"#0 0xffffffff80c4a8f5 at kdb_backtrace+0x65",
		"#1 0xffffffff80bfcd41 at vpanic+0x151",
		"#2 0xffffffff80bfcbe3 at panic+0x43",
		"#3 0xffffffff810b3f2c at trap_fatal+0x38c",
		"#4 0xffffffff81086a28 at calltrap+0x8",
		"#5 0xffffffff80c1f0e5 at if_ioctl+0x45",
		"#6 0xffffffff80c61e12 at kern_ioctl+0x2b2",
		"Uptime: 1h2m3s",
	}
	r := ParsePanic(log)
	if r == nil || r.OS != "freebsd" || r.Kind != "oops" || r.Message != "Fatal trap 12: page fault while in kernel mode" {
		t.Fatalf("%+v", r)
	}
	if r.CPU != 1 || r.PID != 1234 || r.Comm != "ifconfig" {
		t.Errorf("CPU %d PID %d comm %q", r.CPU, r.PID, r.Comm)
	}
	if !slices.Equal(r.Frames, []string{"if_ioctl+0x45", "kern_ioctl+0x2b2"}) || r.BucketID != "FBSD_OOPS_if_ioctl" {
		t.Errorf("frames %q bucket %q", r.Frames, r.BucketID)
	}
}
