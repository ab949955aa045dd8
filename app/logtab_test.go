package app

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/widgets"
)

// markedLines returns the indices panicLines marks.
func markedLines(lines []string) []int {
	var out []int
	for i, m := range panicLines(lines) {
		if m {
			out = append(out, i)
		}
	}
	return out
}

func lineSpan(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestPanicLines(t *testing.T) {
	for _, c := range []struct {
		name string
		log  []string
		want []int
	}{
		{"no crash", []string{"[    0.000000] Linux version 6.1.0", "[    1.0] all is well"}, nil},
		{"x86 task section with registers", []string{
			"[    6.6] sysrq: Trigger a crash",
			"[    6.6] Kernel panic - not syncing: sysrq triggered crash",
			"[    6.6] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0 #1",
			"[    6.6] Call Trace:",
			"[    6.6]  <TASK>",
			"[    6.6]  panic+0x118/0x2f4",
			"[    6.6]  ? _printk+0x68/0x83",
			"[    6.6] RIP: 0033:0x47b7a0",
			"[    6.6] RAX: ffffffffffffffda RBX: 0000000000000001",
			"[    6.6]  </TASK>",
			"[    6.7] Kernel Offset: disabled",
		}, lineSpan(1, 9)},
		{"oops, then the panic it ends in", []string{
			"BUG: kernel NULL pointer dereference, address: 0000000000000000",
			"#PF: supervisor write access in kernel mode",
			"Oops: 0002 [#1] PREEMPT SMP NOPTI",
			"Call Trace:",
			" <TASK>",
			" mydrv_poll+0x2a/0x90 [mydrv]",
			" </TASK>",
			"Modules linked in: mydrv(OE)",
			"CR2: 0000000000000000",
			"Kernel panic - not syncing: Fatal exception",
			"Kernel Offset: disabled",
		}, append(lineSpan(0, 6), 9)},
		{"arm64 trace without task markers", []string{
			"Unable to handle kernel NULL pointer dereference at virtual address 0000000000000000",
			"Internal error: Oops: 96000045 [#1] SMP",
			"Call trace:",
			" sysrq_handle_crash+0x1c/0x30",
			" __handle_sysrq+0x90/0x1a0",
			"Code: 52800021 ... (39000020)",
			"---[ end trace 0000000000000000 ]---",
		}, lineSpan(0, 4)},
		{"freebsd", []string{
			"panic: sysctl debug.kdb.panic",
			"cpuid = 0",
			"time = 1700000000",
			"KDB: stack backtrace:",
			"#0 0xffffffff80b9d2ad at kdb_backtrace+0x5d",
			"#1 0xffffffff80b4f971 at vpanic+0x131",
			"Uptime: 8s",
		}, lineSpan(0, 5)},
		{"no trace", []string{"Kernel panic - not syncing: VFS: Unable to mount root fs", "Rebooting in 10 seconds.."}, []int{0}},
	} {
		if got := markedLines(c.log); !slices.Equal(got, c.want) {
			t.Errorf("%s: marked %v, want %v", c.name, got, c.want)
		}
	}
}

func TestLogTabVmcore(t *testing.T) {
	path := fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump")
	raw, err := os.ReadFile(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.dmesg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	oracle := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	test.NewTempApp(t)
	lt := newLogTab(context.Background(), openSession(t, path))
	waitClosed(t, "the kernel log", lt.done, 60*time.Second)
	showTab(t, lt.view, fyne.NewSize(900, 600))

	v := lt.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v, error %q", v.State(), v.ErrorLine())
	}
	if v.Len() != 388 || len(oracle) != 388 {
		t.Fatalf("log has %d lines, oracle %d; want 388", v.Len(), len(oracle))
	}
	shown := v.Shown()
	for i, l := range shown {
		if l.Text != oracle[i] {
			t.Fatalf("line %d = %q, oracle %q", i+1, l.Text, oracle[i])
		}
	}

	// The highlight runs from the panic message through the call trace's
	// closing </TASK>, the oracle's last line.
	from := slices.IndexFunc(oracle, func(l string) bool { return strings.Contains(l, "Kernel panic - not syncing") })
	to := len(oracle) - 1
	if from < 0 || !strings.HasSuffix(oracle[to], "</TASK>") {
		t.Fatalf("oracle: panic at %d, last line %q", from, oracle[to])
	}
	var hl []int
	for i, l := range shown {
		if l.Highlight {
			hl = append(hl, i)
		}
	}
	if !slices.Equal(hl, lineSpan(from, to)) {
		t.Errorf("highlighted lines %v, want %d..%d", hl, from, to)
	}

	// Searching narrows to the oracle's count.
	want := 0
	for _, l := range oracle {
		if strings.Contains(strings.ToLower(l), "sysrq") {
			want++
		}
	}
	v.SetFilter("sysrq")
	if got := len(v.Shown()); got != want || v.CountText() != fmt.Sprintf("%d of 388 lines", want) {
		t.Errorf("search sysrq: %d lines, count %q; want %d", got, v.CountText(), want)
	}
	for _, l := range v.Shown() {
		if !strings.Contains(strings.ToLower(l.Text), "sysrq") {
			t.Errorf("search kept %q", l.Text)
		}
	}
}

func TestLogTabWithoutLog(t *testing.T) {
	test.NewTempApp(t)
	lt := newLogTab(context.Background(), sampleSession(t))
	waitClosed(t, "the kernel log", lt.done, 10*time.Second)
	showTab(t, lt.view, fyne.NewSize(600, 400))
	if lt.view.State() != widgets.PaneError || !strings.Contains(lt.view.ErrorLine(), "process dump and records no kernel log") {
		t.Errorf("minidump log tab: state %v, error %q", lt.view.State(), lt.view.ErrorLine())
	}

	nt := newLogTab(context.Background(), nil)
	if nt.view.State() != widgets.PaneError {
		t.Errorf("nil session: state %v", nt.view.State())
	}
}
