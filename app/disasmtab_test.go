package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/disasm"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/widgets"
)

const vmcorePath = "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"

// showDisasmTab builds the disassembly tab of sess and shows it at
// 1000x600 once its initial position is settled.
func showDisasmTab(t *testing.T, sess *session.Session) (*DisasmTab, fyne.Window) {
	t.Helper()
	tab := newDisasmTab(context.Background(), sess)
	queueUI(tab.ui)
	waitClosed(t, "the initial position", tab.started, 60*time.Second)
	w := test.NewTempWindow(t, tab.Object)
	w.Resize(fyne.NewSize(1000, 600))
	waitDisasmIdle(t, tab)
	return tab, w
}

func waitDisasmIdle(t *testing.T, tab *DisasmTab) {
	t.Helper()
	settleUI(t, tab.ui)
}

// consoleU runs "u addr Ln" and returns its instruction lines by address.
func consoleU(t *testing.T, sess *session.Session, addr uint64, n int) map[uint64]string {
	t.Helper()
	var out strings.Builder
	cmd := fmt.Sprintf("u %#x L%d", addr, n)
	if err := sess.Exec(context.Background(), cmd, console.NewTextOutput(&out)); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	lines := map[uint64]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		var a uint64
		if f := strings.Fields(l); len(f) > 2 {
			if _, err := fmt.Sscanf(strings.ReplaceAll(f[0], "`", ""), "%x", &a); err == nil {
				lines[a] = l
			}
		}
	}
	return lines
}

// checkAgainstDisasm checks every instruction line of the view against
// what core/disasm decodes from the same memory and against the console's
// u listing of the same range.
func checkAgainstDisasm(t *testing.T, tab *DisasmTab) {
	t.Helper()
	lines := tab.view.Lines()
	for len(lines) > 0 && lines[0].Unreadable { // a hole before the code
		lines = lines[1:]
	}
	if len(lines) == 0 {
		t.Fatal("no readable lines")
	}
	sess := tab.sess
	dec, err := disasm.For(sess.Target().Info().Arch)
	if err != nil {
		t.Fatal(err)
	}
	top := lines[0].Addr
	ins, _ := disasm.Range(sess.Memory(), dec, top, len(lines))
	u := consoleU(t, sess, top, len(lines))
	checked := 0
	for i, l := range lines {
		if l.Unreadable || i >= len(ins) {
			break
		}
		in := ins[i]
		if l.Addr != in.Addr || string(l.Bytes) != string(in.Bytes) {
			t.Errorf("line %d at %#x (% x); disasm decodes %#x (% x)", i, l.Addr, l.Bytes, in.Addr, in.Bytes)
			continue
		}
		want := u[l.Addr]
		if !strings.HasSuffix(want, " "+l.Text) || !strings.HasPrefix(want, disasm.FormatAddr(l.Addr, 8)+" "+fmt.Sprintf("%x", l.Bytes)) {
			t.Errorf("line %d: %q; u prints %q", i, l.Text, want)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d lines checked", checked)
	}
}

func TestDisasmTabSample(t *testing.T) {
	test.NewTempApp(t)
	sess := sampleSession(t)
	tab, w := showDisasmTab(t, sess)
	v := tab.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v: %q", v.State(), v.ErrorLine())
	}
	saveViewPNG(t, w, "/tmp/disasmview-sample.png", func() {}, func() {})
	// It opens at the crash's instruction, highlighted; the sample
	// holds no code, so that is a hole, as u shows it.
	c := sess.Target().Info().Crash
	if c == nil || c.PC == nil {
		t.Fatal("the sample records no crash address")
	}
	pc := *c.PC
	if ins, err := disasm.Range(sess.Memory(), mustDecoder(t, sess), pc, 4); len(ins) != 0 || err == nil {
		t.Fatalf("core/disasm decodes %d instructions at the sample's pc (%v)", len(ins), err)
	}
	var hole *widgets.DisasmLine
	for i, l := range v.Lines() {
		if l.Addr <= pc && pc <= l.Last {
			hole = &v.Lines()[i]
		}
	}
	if hole == nil || !hole.Unreadable {
		t.Fatalf("no unreadable line holds the pc %#x: %+v", pc, v.Lines())
	}
	if a, _ := v.Selected(); a != pc {
		t.Errorf("selected %#x, want the pc %#x", a, pc)
	}
	// The hole is split at the pc, which gets its own ?? row under the
	// label u prints for it.
	rows := v.RowTexts()
	row := rowWith(rows, disasm.FormatAddr(pc, 8)+" ??")
	if row < 1 || hole.Addr != pc || rows[row-1] != sess.Symbols().Describe(pc)+":" {
		t.Errorf("no labelled ?? row at the pc %#x: %q", pc, rows)
	}
	// It ends with the module: the next hole is named after what follows.
	for _, m := range sess.Modules() {
		if m.Contains(pc) && hole.Last != m.Base+m.Size-1 {
			t.Errorf("the hole at the pc ends at %#x, the module at %#x", hole.Last, m.Base+m.Size-1)
		}
	}

	// The stack decodes (as data, but decodes): the view shows what
	// core/disasm and u make of it.
	tab.GoTo(0x140000)
	waitDisasmIdle(t, tab)
	checkAgainstDisasm(t, tab)

	// Go to evaluates in the background.
	want, err := sess.Eval("app!CrashFunction")
	if err != nil {
		t.Fatal(err)
	}
	v.OnGoTo("app!CrashFunction")
	waitDisasmIdle(t, tab)
	if a, _ := v.Selected(); a != want || v.GoToError() != "" {
		t.Errorf("Go to app!CrashFunction selected %#x, want %#x; error %q", a, want, v.GoToError())
	}
}

func mustDecoder(t *testing.T, sess *session.Session) disasm.Decoder {
	t.Helper()
	d, err := disasm.For(sess.Target().Info().Arch)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rowWith returns the index of the first row starting with prefix.
func rowWith(rows []string, prefix string) int {
	for i, r := range rows {
		if strings.HasPrefix(r, prefix) {
			return i
		}
	}
	return -1
}

func TestDisasmTabVmcore(t *testing.T) {
	path := fixture.Corpus(t, vmcorePath)
	test.NewTempApp(t)
	sess := openSession(t, path)
	tab, w := showDisasmTab(t, sess)
	v := tab.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v: %q", v.State(), v.ErrorLine())
	}
	fn, err := sess.Eval("sysrq_handle_crash")
	if err != nil {
		t.Fatal(err)
	}
	// The dump records no registers: the highlight is the call in the
	// panic report's first frame, sysrq_handle_crash calling panic.
	cur, ok := v.Current()
	var at *widgets.DisasmLine
	for i, l := range v.Lines() {
		if l.Addr <= cur && cur <= l.Last {
			at = &v.Lines()[i]
		}
	}
	if !ok || at == nil || !strings.HasPrefix(at.Text, "call") || !strings.Contains(at.Text, "!panic ") || !strings.HasPrefix(at.Symbol, "vmlinux!sysrq_handle_crash+") {
		t.Errorf("current %#x (%v) is on %+v, want sysrq_handle_crash's call to panic", cur, ok, at)
	}
	tab.GoTo(fn)
	waitDisasmIdle(t, tab)
	rows := v.RowTexts()
	i := rowWith(rows, disasm.FormatAddr(fn, 8)+" ")
	if i < 1 || !strings.Contains(rows[i-1], "sysrq_handle_crash") || !strings.HasSuffix(rows[i-1], "!sysrq_handle_crash:") {
		t.Fatalf("no label naming sysrq_handle_crash above its first instruction: %q", rows)
	}
	if i != 5 { // the top label, three instructions of context, the label
		t.Errorf("the function's first instruction is on row %d", i)
	}
	checkAgainstDisasm(t, tab)

	// Scrolling up one instruction decodes backwards as ub does.
	var out strings.Builder
	if err := sess.Exec(context.Background(), fmt.Sprintf("ub %#x L1", v.Top()), console.NewTextOutput(&out)); err != nil {
		t.Fatal(err)
	}
	top := v.Top()
	v.Scroll(-1)
	waitDisasmIdle(t, tab)
	if !strings.Contains(out.String(), disasm.FormatAddr(v.Top(), 8)+" ") || v.Top() >= top {
		t.Errorf("one instruction up from %#x: %#x; ub says %q", top, v.Top(), out.String())
	}

	// The scrollbar lands mid-instruction: the page realigns to the
	// instruction holding it, decoding from the symbol's start.
	ins, err := disasm.Range(sess.Memory(), mustDecoder(t, sess), fn, 3)
	if err != nil || len(ins) < 3 || ins[1].Len < 2 {
		t.Fatalf("decoding sysrq_handle_crash: %v, %+v", err, ins)
	}
	p := tab.page(widgets.DisasmRequest{Addr: ins[1].Addr + 1, Sync: true, Rows: 5})
	if len(p.Lines) != 5 || p.Lines[0].Addr != ins[1].Addr || p.Lines[1].Addr != ins[2].Addr {
		t.Errorf("realigned page starts %+v, want the instruction at %#x", p.Lines[:1], ins[1].Addr)
	}

	// Tapping a call's text follows it; Back returns.
	tab.GoTo(fn)
	waitDisasmIdle(t, tab)
	var call *widgets.DisasmLine
	for k, l := range v.Lines() {
		if l.Target != 0 && strings.HasPrefix(l.Text, "call") {
			call = &v.Lines()[k]
			break
		}
	}
	if call == nil {
		t.Fatalf("no call among %+v", v.Lines())
	}
	target := call.Target
	wantName, _ := tab.symname(target)
	if wantName == "" || !strings.Contains(call.Text, wantName) {
		t.Errorf("call text %q does not name its target %q", call.Text, wantName)
	}
	v.GoTo(call.Addr) // select it, as a tap would
	waitDisasmIdle(t, tab)
	v.Follow()
	waitDisasmIdle(t, tab)
	if a, _ := v.Selected(); a != target || rowWith(v.RowTexts(), disasm.FormatAddr(target, 8)) < 0 {
		t.Errorf("following the call: selected %#x, want %#x", a, target)
	}
	v.Back()
	waitDisasmIdle(t, tab)
	if a, _ := v.Selected(); a != call.Addr {
		t.Errorf("Back: selected %#x, want %#x", a, call.Addr)
	}
	saveViewPNG(t, w, "/tmp/disasmview.png", func() { tab.GoTo(fn) }, func() { waitDisasmIdle(t, tab) })
}
