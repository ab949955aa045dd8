package app

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/session"
	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/widgets"
)

// waitDetail waits for the detail of the latest selection.
func waitDetail(t *testing.T, pt *procTab) {
	t.Helper()
	d := pt.detailDone()
	if d == nil {
		t.Fatal("no process was selected")
	}
	waitClosed(t, "the process detail", d, 60*time.Second)
}

// execText runs a console command as the CLI would and returns its text.
func execText(t *testing.T, pt *procTab, line string) string {
	t.Helper()
	var b strings.Builder
	if err := pt.sess.Exec(context.Background(), line, console.NewTextOutput(&b)); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return b.String()
}

// traceFunctions returns the function names of the call trace in a kernel
// log: " ? vfs_write+0xc7/0x3f0" gives vfs_write.
func traceFunctions(log string) []string {
	re := regexp.MustCompile(`(?m)^\[[ \d.]+\]\s+(?:\? )?([A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(log, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestProcessTabVmcore(t *testing.T) {
	path := fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump")
	ps, err := os.ReadFile(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.ps.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dmesg, err := os.ReadFile(fixture.Corpus(t, "generated/linux-vmcore/panic-96M.dmesg.txt"))
	if err != nil {
		t.Fatal(err)
	}
	test.NewTempApp(t)
	sess := openSession(t, path)
	pt := newProcTab(context.Background(), sess)
	waitClosed(t, "the process tree", pt.done, 60*time.Second)
	waitDetail(t, pt)
	showTab(t, pt.view, fyne.NewSize(1200, 700))

	v := pt.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v, error %q", v.State(), v.ErrorLine())
	}
	nodes, _, err := sess.ProcessTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The oracle (a task-list dump made beside the vmcore) lists one task
	// a line after its header.
	var oracle int
	for _, l := range strings.Split(string(ps), "\n") {
		if f := strings.Fields(l); len(f) >= 4 && f[0] != "#" && f[0] != "PID" {
			oracle++
		}
	}
	if len(nodes) != oracle || v.Len() != oracle || len(v.Shown()) != oracle || v.CountText() != strconv.Itoa(oracle)+" processes" {
		t.Errorf("ProcessTree %d, view %d, tree holds %d, count %q; oracle %d tasks", len(nodes), v.Len(), len(v.Shown()), v.CountText(), oracle)
	}

	sel := v.Selected()
	if sel < 0 || nodes[sel].PID != 1 || nodes[sel].Name != "init" || !nodes[sel].Crashed {
		t.Fatalf("selected %d, want the crashed init", sel)
	}
	if v.DetailState() != widgets.PaneReady || v.DetailTitle() != "init (pid 1), crashed — bt 1" {
		t.Fatalf("detail %v %q: %q", v.DetailState(), v.DetailTitle(), v.DetailText())
	}

	// The stack shown is bt 1's, and holds the frames of the panic's call
	// trace in the kernel log.
	bt := execText(t, pt, "bt 1")
	var both []string
	for _, fn := range traceFunctions(string(dmesg)) {
		if strings.Contains(bt, " "+fn+"+0x") {
			both = append(both, fn)
		}
	}
	if !slices.Contains(both, "sysrq_handle_crash") || len(both) < 8 {
		t.Fatalf("bt 1 and the log's call trace share %v", both)
	}
	for _, fn := range both {
		if !strings.Contains(v.DetailText(), " "+fn+"+0x") {
			t.Errorf("the detail lacks %s:\n%s", fn, v.DetailText())
		}
	}

	// Selecting kthreadd and then, before its stack shows, pid 97: the
	// last selection wins, and its stack is bt 97's.
	idx := func(pid uint64) int {
		return slices.IndexFunc(nodes, func(n session.ProcessNode) bool { return n.PID == pid })
	}
	onUIWait(func() {
		v.Select(idx(2))
		v.Select(idx(97))
	})
	waitDetail(t, pt)
	want := execText(t, pt, "bt 97")
	if v.Selected() != idx(97) || v.DetailTitle() != "sleep (pid 97) — bt 97" || v.DetailText() != want {
		t.Errorf("after selecting pid 97: %q\n%s\nwant\n%s", v.DetailTitle(), v.DetailText(), want)
	}

	// The search keeps the match and its ancestors.
	v.SetFilter("sleep")
	var shown []uint64
	for _, n := range v.Shown() {
		shown = append(shown, n.PID)
	}
	if !slices.Equal(shown, []uint64{0, 1, 95, 97}) || v.CountText() != "1 of "+strconv.Itoa(oracle)+" processes" {
		t.Errorf("search sleep: %v, count %q", shown, v.CountText())
	}
	v.SetFilter("")
	v.Select(sel)
	waitDetail(t, pt)
}

func TestProcessTabSample(t *testing.T) {
	test.NewTempApp(t)
	pt := newProcTab(context.Background(), sampleSession(t))
	waitClosed(t, "the process tree", pt.done, 30*time.Second)
	waitDetail(t, pt)
	showTab(t, pt.view, fyne.NewSize(1000, 600))

	v := pt.view
	shown := v.Shown()
	if v.State() != widgets.PaneReady || len(shown) != 1 || v.Selected() != 0 {
		t.Fatalf("state %v %q, shown %v, selected %d", v.State(), v.ErrorLine(), shown, v.Selected())
	}
	if n := shown[0]; n.Name != "app.exe" || n.Threads != 2 || !n.Crashed {
		t.Errorf("node %+v, want the crashed app.exe with 2 threads", n)
	}
	if v.CountText() != "1 process" || !strings.HasSuffix(v.DetailTitle(), " — ~*k") {
		t.Errorf("count %q, title %q", v.CountText(), v.DetailTitle())
	}
	// Every thread ~ lists has its stack, the crashing one through
	// CrashFunction.
	detail := v.DetailText()
	threads := regexp.MustCompile(`Id: [0-9a-f]+\.[0-9a-f]+`).FindAllString(execText(t, pt, "~"), -1)
	if len(threads) != 2 {
		t.Fatalf("~ lists %q", threads)
	}
	for _, th := range threads {
		if !strings.Contains(detail, th) {
			t.Errorf("the detail lacks thread %s:\n%s", th, detail)
		}
	}
	if !strings.Contains(detail, "app!CrashFunction+0x18") || strings.Count(detail, "Child-SP") != 2 {
		t.Errorf("detail:\n%s", detail)
	}
}

func TestProcessTabClosed(t *testing.T) {
	test.NewTempApp(t)
	pt := newProcTab(context.Background(), nil)
	if pt.view.State() != widgets.PaneError || pt.detailDone() != nil {
		t.Errorf("nil session: state %v", pt.view.State())
	}
}

func TestDetailCommand(t *testing.T) {
	for _, c := range []struct {
		f    model.Format
		n    widgets.ProcNode
		want string
	}{
		{model.LinuxVMCore, widgets.ProcNode{PID: 97, Address: 0xffff89ff03df4180}, "bt 97"},
		{model.WindowsKernel, widgets.ProcNode{PID: 0x1a4, Address: 0xffffc08bdce94180}, "!process ffffc08bdce94180"},
		{model.WindowsKernel, widgets.ProcNode{Name: "System", Crashed: true}, "!process 0; k"},
		{model.Minidump, widgets.ProcNode{PID: 4242, Crashed: true}, "~*k"},
	} {
		if got, _ := detailCommand(c.f, c.n); got != c.want {
			t.Errorf("%v %+v: %q, want %q", c.f, c.n, got, c.want)
		}
	}
}
