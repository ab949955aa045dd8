package widgets

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newTestProcessTree(t *testing.T) *ProcessTree {
	t.Helper()
	test.NewTempApp(t)
	v := NewProcessTree()
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1000, 600))
	return v
}

// linuxProcs is a small Linux process list: swapper, init and its
// children, kthreadd and its kernel threads, one orphan whose parent is
// not listed, and the crashed process deep under init.
var linuxProcs = []ProcNode{
	{PID: 0, ParentPID: 0, Name: "swapper/0", Threads: -1},
	{PID: 1, ParentPID: 0, Name: "init", Threads: -1},
	{PID: 2, ParentPID: 0, Name: "kthreadd", Threads: -1},
	{PID: 3, ParentPID: 2, Name: "rcu_gp", Threads: -1},
	{PID: 14, ParentPID: 2, Name: "ksoftirqd/0", Threads: -1},
	{PID: 95, ParentPID: 1, Name: "sh", Threads: 1},
	{PID: 97, ParentPID: 95, Name: "sleep", Threads: 3, Crashed: true},
	{PID: 96, ParentPID: 1, Name: "marker", Threads: -1},
	{PID: 400, ParentPID: 399, Name: "orphan", Threads: -1},
}

// pids returns the pids of nodes, in order.
func pids(nodes []ProcNode) []uint64 {
	out := make([]uint64, len(nodes))
	for i, n := range nodes {
		out[i] = n.PID
	}
	return out
}

// forestShape returns each node's parent's name in f (or "root"), by
// name, and the pids in the order a depth-first walk meets them.
func forestShape(nodes []ProcNode, f procForest) (map[string]string, []uint64) {
	parent := map[string]string{}
	var order []uint64
	var walk func(i int)
	walk = func(i int) {
		order = append(order, nodes[i].PID)
		for _, k := range f.kids[i] {
			if f.parent[k] != i {
				panic("parent and kids disagree")
			}
			parent[nodes[k].Name] = nodes[i].Name
			walk(k)
		}
	}
	for _, r := range f.roots {
		parent[nodes[r].Name] = "root"
		walk(r)
	}
	return parent, order
}

func TestBuildProcForest(t *testing.T) {
	parent, order := forestShape(linuxProcs, buildProcForest(linuxProcs))
	want := map[string]string{
		"swapper/0": "root", "orphan": "root",
		"init": "swapper/0", "kthreadd": "swapper/0",
		"rcu_gp": "kthreadd", "ksoftirqd/0": "kthreadd",
		"sh": "init", "marker": "init", "sleep": "sh",
	}
	if fmt.Sprint(parent) != fmt.Sprint(want) {
		t.Errorf("parents\n got %v\nwant %v", parent, want)
	}
	// Roots and children come in pid order, not the list's.
	if wantOrder := []uint64{0, 1, 95, 97, 96, 2, 3, 14, 400}; !slices.Equal(order, wantOrder) {
		t.Errorf("depth-first order %v, want %v", order, wantOrder)
	}
}

func TestBuildProcForestHostile(t *testing.T) {
	for _, c := range []struct {
		name  string
		nodes []ProcNode
	}{
		{"own parent", []ProcNode{{PID: 5, ParentPID: 5, Name: "self"}, {PID: 6, ParentPID: 5, Name: "kid"}}},
		{"two-cycle", []ProcNode{{PID: 10, ParentPID: 11, Name: "a"}, {PID: 11, ParentPID: 10, Name: "b"}}},
		{"cycle with a tail", []ProcNode{
			{PID: 30, ParentPID: 22, Name: "tail"}, // listed before the loop it hangs from
			{PID: 20, ParentPID: 22, Name: "x"}, {PID: 21, ParentPID: 20, Name: "y"}, {PID: 22, ParentPID: 21, Name: "z"},
			{PID: 1, ParentPID: 0, Name: "init"},
		}},
		{"duplicate pids", []ProcNode{
			{PID: 0, ParentPID: 0, Name: "swapper/0"}, {PID: 0, ParentPID: 0, Name: "swapper/1"},
			{PID: 7, ParentPID: 0, Name: "p"}, {PID: 7, ParentPID: 7, Name: "p-again"}, {PID: 8, ParentPID: 7, Name: "q"},
		}},
	} {
		done := make(chan procForest)
		go func() { done <- buildProcForest(c.nodes) }()
		var f procForest
		select {
		case f = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: buildProcForest hangs", c.name)
		}
		_, order := forestShape(c.nodes, f)
		if len(order) != len(c.nodes) {
			t.Errorf("%s: the forest holds %d nodes (%v), want each of the %d once", c.name, len(order), order, len(c.nodes))
		}
		if len(f.roots) == 0 {
			t.Errorf("%s: no root", c.name)
		}
	}

	// The loop is broken at one of its own nodes, so the tail keeps its
	// parent z.
	nodes := []ProcNode{
		{PID: 30, ParentPID: 22, Name: "tail"},
		{PID: 20, ParentPID: 22, Name: "x"}, {PID: 21, ParentPID: 20, Name: "y"}, {PID: 22, ParentPID: 21, Name: "z"},
	}
	parent, _ := forestShape(nodes, buildProcForest(nodes))
	if parent["tail"] != "z" || parent["x"] == "root" && parent["y"] == "root" {
		t.Errorf("loop broken badly: %v", parent)
	}
	roots := 0
	for _, p := range parent {
		if p == "root" {
			roots++
		}
	}
	if roots != 1 {
		t.Errorf("%d roots for one loop: %v", roots, parent)
	}
}

func TestProcessTreeSelectsCrashed(t *testing.T) {
	v := newTestProcessTree(t)
	if v.State() != PaneLoading {
		t.Fatalf("state %v", v.State())
	}
	var picked []uint64
	v.OnSelected = func(n ProcNode) { picked = append(picked, n.PID) }
	v.SetProcesses(linuxProcs, "ids and names found by searching the list")

	if v.State() != PaneReady || v.Selected() != 6 || !slices.Equal(picked, []uint64{97}) {
		t.Fatalf("state %v, selected %d, OnSelected %v", v.State(), v.Selected(), picked)
	}
	if v.CountText() != "9 processes" || v.Len() != 9 || len(v.Shown()) != 9 {
		t.Errorf("count %q, len %d, shown %d", v.CountText(), v.Len(), len(v.Shown()))
	}
	if v.NoteText() == "" || !v.note.Visible() {
		t.Error("the note is not shown")
	}
	// The crashed process's ancestors are open, the kernel threads not.
	for _, i := range []int{0, 1, 5} {
		if !v.IsOpen(i) {
			t.Errorf("%s is closed", linuxProcs[i].Name)
		}
	}
	if v.IsOpen(2) {
		t.Error("kthreadd is open")
	}

	// The rows drawn are the open part of the tree: the crashed one is
	// there with its pid and thread count, marked, and the kernel threads
	// are not.
	labels := visibleLabels(v.tree)
	for _, want := range []string{"swapper/0", "init", "sh", "sleep", "pid 97 · 3 threads", "pid 95 · 1 thread", "kthreadd", "orphan"} {
		if !slices.Contains(labels, want) {
			t.Errorf("no row shows %q; labels %q", want, labels)
		}
	}
	marked := map[string]bool{}
	walkVisible(v.tree, func(o fyne.CanvasObject) {
		if r, ok := o.(*procRow); ok {
			marked[r.name.Text] = r.name.Importance == widget.DangerImportance
		}
	})
	if !marked["sleep"] || marked["sh"] || marked["init"] || len(marked) != 7 {
		t.Errorf("rows marked crashed: %v", marked)
	}
	if slices.Contains(labels, "rcu_gp") {
		t.Errorf("kernel thread shown while kthreadd is closed: %q", labels)
	}

	// Tapping another row selects it.
	test.Tap(tappableWith(t, v.tree, "marker"))
	if v.Selected() != 7 || picked[len(picked)-1] != 96 {
		t.Errorf("after tapping marker: selected %d, OnSelected %v", v.Selected(), picked)
	}
}

func TestProcessTreeSearch(t *testing.T) {
	v := newTestProcessTree(t)
	v.SetProcesses(linuxProcs, "")
	if v.note.Visible() {
		t.Error("an empty note is shown")
	}

	// A kernel thread: its ancestors stay, kthreadd opens to show it.
	v.SetFilter("SOFTIRQ")
	if got := pids(v.Shown()); !slices.Equal(got, []uint64{0, 2, 14}) {
		t.Errorf("search softirq shows %v, want [0 2 14]", got)
	}
	if v.CountText() != "1 of 9 processes" || !v.IsOpen(2) {
		t.Errorf("count %q, kthreadd open %v", v.CountText(), v.IsOpen(2))
	}
	if !slices.Contains(visibleLabels(v.tree), "ksoftirqd/0") {
		t.Errorf("the match is not drawn: %q", visibleLabels(v.tree))
	}

	// A pid is matched whole, in decimal or hex, not as a substring.
	v.SetFilter("97")
	if got := pids(v.Shown()); !slices.Equal(got, []uint64{0, 1, 95, 97}) {
		t.Errorf("search 97 shows %v", got)
	}
	v.SetFilter("0x60")
	if got := pids(v.Shown()); !slices.Equal(got, []uint64{0, 1, 96}) {
		t.Errorf("search 0x60 shows %v", got)
	}
	v.SetFilter("nothing like it")
	if len(v.Shown()) != 0 || v.CountText() != "0 of 9 processes" {
		t.Errorf("no match: shown %v, count %q", pids(v.Shown()), v.CountText())
	}

	// Clearing the search brings the whole tree back, kthreadd folded.
	v.SetFilter("")
	if len(v.Shown()) != 9 || v.IsOpen(2) || v.CountText() != "9 processes" {
		t.Errorf("cleared: shown %d, kthreadd open %v, count %q", len(v.Shown()), v.IsOpen(2), v.CountText())
	}
}

func TestProcessTreeSingleAndDetail(t *testing.T) {
	v := newTestProcessTree(t)
	var picked []ProcNode
	v.OnSelected = func(n ProcNode) { picked = append(picked, n) }
	one := []ProcNode{{PID: 4242, Name: "app.exe", Threads: 2}}
	v.SetProcesses(one, "")
	if len(picked) != 1 || picked[0].Name != "app.exe" || v.CountText() != "1 process" {
		t.Fatalf("single process: OnSelected %v, count %q", picked, v.CountText())
	}

	v.ShowDetailLoading(ProcTitle(one[0]))
	if v.DetailState() != PaneLoading || v.DetailTitle() != "app.exe (pid 4242)" {
		t.Errorf("loading: %v %q", v.DetailState(), v.DetailTitle())
	}
	v.ShowDetail("app.exe (pid 4242)", "00 app!CrashFunction+0x18\n01 app!main+0x46\n")
	if v.DetailState() != PaneReady || !v.detailText.TextStyle.Monospace {
		t.Errorf("ready: %v", v.DetailState())
	}
	if !slices.Contains(visibleLabels(v), "00 app!CrashFunction+0x18\n01 app!main+0x46\n") {
		t.Errorf("detail not drawn: %q", visibleLabels(v))
	}
	v.ShowDetailError("app.exe (pid 4242)", "no stack")
	if v.DetailState() != PaneError || v.DetailText() != "no stack" {
		t.Errorf("error: %v %q", v.DetailState(), v.DetailText())
	}

	// Nothing crashed among several: nothing is selected.
	picked = nil
	v.SetProcesses([]ProcNode{{PID: 1, Name: "a"}, {PID: 2, ParentPID: 1, Name: "b"}}, "")
	if len(picked) != 0 || v.Selected() != -1 || v.DetailTitle() != "Select a process" {
		t.Errorf("no crash: OnSelected %v, selected %d, title %q", picked, v.Selected(), v.DetailTitle())
	}

	v.ShowError("no process list")
	if v.State() != PaneError || v.ErrorLine() != "no process list" || v.Len() != 0 {
		t.Errorf("error state %v %q %d", v.State(), v.ErrorLine(), v.Len())
	}
}
