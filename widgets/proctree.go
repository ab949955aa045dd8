package widgets

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ProcNode is one process of a ProcessTree.
type ProcNode struct {
	PID, ParentPID uint64
	Name           string
	Threads        int    // -1 when unknown
	Address        uint64 // the kernel's process object, 0 when there is none
	Crashed        bool   // the process that crashed or panicked
}

// procForest is the parent/child structure of a process list: each node
// (an index into the list) appears exactly once, under its parent when the
// list holds it, else as a root. Children are in pid order.
type procForest struct {
	roots  []int
	kids   [][]int
	parent []int // -1 for a root
}

// buildProcForest links nodes to their parents by pid. Pid 0 (the idle
// process), a process that is its own parent and one whose parent is not
// in the list are roots. Dumps can be corrupt or hostile, so duplicate
// pids and parent loops are expected: children attach to the first node
// holding a pid, and a loop, unreachable from any root, is broken at one
// of its nodes, which becomes a root.
func buildProcForest(nodes []ProcNode) procForest {
	n := len(nodes)
	byPID := make(map[uint64]int, n)
	for i, p := range nodes {
		if _, ok := byPID[p.PID]; !ok {
			byPID[p.PID] = i
		}
	}
	up := make([]int, n) // the parent each node names, -1 for none
	raw := make([][]int, n)
	var roots []int
	for i, p := range nodes {
		up[i] = -1
		if j, ok := byPID[p.ParentPID]; ok && p.PID != 0 && p.ParentPID != p.PID && j != i {
			up[i] = j
			raw[j] = append(raw[j], i)
		} else {
			roots = append(roots, i)
		}
	}

	f := procForest{kids: make([][]int, n), parent: make([]int, n)}
	seen := make([]bool, n)
	attach := func(root int) {
		f.roots = append(f.roots, root)
		f.parent[root] = -1
		seen[root] = true
		for stack := []int{root}; len(stack) > 0; {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, k := range raw[i] {
				if !seen[k] {
					seen[k] = true
					f.kids[i] = append(f.kids[i], k)
					f.parent[k] = i
					stack = append(stack, k)
				}
			}
		}
	}
	for _, r := range roots {
		attach(r)
	}
	for i := range nodes {
		if seen[i] {
			continue
		}
		// Every ancestor of i is unseen too, so climbing from i must
		// come back to a node: break the loop there, keeping the nodes
		// hanging below the loop under their own parents.
		r, onPath := i, map[int]bool{}
		for !onPath[r] && up[r] >= 0 {
			onPath[r] = true
			r = up[r]
		}
		attach(r)
	}

	byPid := func(a, b int) int { return cmp.Or(cmp.Compare(nodes[a].PID, nodes[b].PID), cmp.Compare(a, b)) }
	slices.SortFunc(f.roots, byPid)
	for _, k := range f.kids {
		slices.SortFunc(k, byPid)
	}
	return f
}

// procMatches reports whether n matches a search: its name contains q
// (ignoring case), or q is its pid in decimal or as 0x-prefixed hex.
// q is lower case and trimmed.
func procMatches(n ProcNode, q string) bool {
	if strings.Contains(strings.ToLower(n.Name), q) || q == strconv.FormatUint(n.PID, 10) {
		return true
	}
	if h, ok := strings.CutPrefix(q, "0x"); ok {
		v, err := strconv.ParseUint(h, 16, 64)
		return err == nil && v == n.PID
	}
	return false
}

// ProcessTree shows a dump's processes as a tree of parents and children
// on the left, and on the right a detail pane (a title over monospace
// text) that the caller fills with the selected process's threads and
// stacks. The crashed process is marked, and at start its branch is open
// and it is selected; Linux's kernel threads (the children of kthreadd)
// start collapsed. The search entry keeps the processes whose name or pid
// matches, with their ancestors.
//
// Its methods must be called on the UI thread.
type ProcessTree struct {
	widget.BaseWidget

	// OnSelected is called with the process the user selected (or that
	// SetProcesses or Select chose), on the UI thread.
	OnSelected func(ProcNode)

	pane     *statePane
	nodes    []ProcNode
	forest   procForest
	query    string
	matches  int
	children map[widget.TreeNodeID][]widget.TreeNodeID // of the nodes the filter keeps; "" is the root
	selected int

	tree   *widget.Tree
	search *widget.Entry
	count  *widget.Label
	note   *widget.Label

	title      *widget.Label
	detail     *statePane
	detailText *widget.Label
}

// NewProcessTree returns an empty view in the loading state.
func NewProcessTree() *ProcessTree {
	v := &ProcessTree{selected: -1}
	v.tree = widget.NewTree(
		func(uid widget.TreeNodeID) []widget.TreeNodeID { return v.children[uid] },
		func(uid widget.TreeNodeID) bool { return len(v.children[uid]) > 0 },
		func(bool) fyne.CanvasObject { return newProcRow() },
		func(uid widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
			if i, ok := v.index(uid); ok {
				o.(*procRow).update(v.nodes[i])
			}
		})
	v.tree.OnSelected = func(uid widget.TreeNodeID) {
		i, ok := v.index(uid)
		if !ok {
			return
		}
		v.selected = i
		if v.OnSelected != nil {
			v.OnSelected(v.nodes[i])
		}
	}
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder("Search name or pid")
	v.search.OnChanged = v.applyFilter
	v.count = widget.NewLabel("")
	v.note = widget.NewLabel("")
	v.note.Wrapping = fyne.TextWrapWord
	v.note.Importance = widget.WarningImportance
	v.note.Hide()
	left := container.NewBorder(container.NewBorder(nil, nil, nil, v.count, v.search), v.note, nil, nil, v.tree)

	v.title = widget.NewLabel("Select a process")
	v.title.TextStyle.Bold = true
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.detailText = widget.NewLabel("")
	v.detailText.TextStyle.Monospace = true
	v.detailText.Selectable = true
	v.detail = newStatePane(container.NewScroll(v.detailText))
	v.detail.showReady()
	right := container.NewBorder(v.title, nil, nil, nil, v.detail.content)

	split := container.NewHSplit(left, right)
	split.Offset = 0.3
	v.pane = newStatePane(split)
	v.ExtendBaseWidget(v)
	v.ShowLoading()
	return v
}

// CreateRenderer implements fyne.Widget.
func (v *ProcessTree) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(v.pane.content)
}

// State returns which face the view shows.
func (v *ProcessTree) State() PaneState { return v.pane.state }

// ErrorLine returns the error shown in the error state, "" otherwise.
func (v *ProcessTree) ErrorLine() string { return v.pane.errLine }

// ShowLoading shows that the process list is being read.
func (v *ProcessTree) ShowLoading() { v.pane.showLoading("Reading the process list…") }

// ShowError shows line, the one-line reason there is no process list.
func (v *ProcessTree) ShowError(line string) {
	v.nodes, v.forest, v.children, v.selected = nil, procForest{}, nil, -1
	v.pane.showError(line)
}

// SetProcesses shows nodes as a tree and selects the crashed process (the
// only one, when there is a single process), calling OnSelected. note,
// when not empty, says how the list was found and is shown under the
// tree. The view keeps the slice.
func (v *ProcessTree) SetProcesses(nodes []ProcNode, note string) {
	v.nodes, v.forest, v.selected = nodes, buildProcForest(nodes), -1
	v.note.SetText(note)
	v.note.Hidden = note == ""
	v.tree.UnselectAll()
	v.pane.showReady()
	v.search.SetText("") // clears a search left from an earlier list
	v.applyFilter("")
	start := slices.IndexFunc(nodes, func(n ProcNode) bool { return n.Crashed })
	if start < 0 && len(nodes) == 1 {
		start = 0
	}
	if start >= 0 {
		v.Select(start)
	} else {
		v.ShowDetail("Select a process", "")
	}
}

// Len returns the number of processes.
func (v *ProcessTree) Len() int { return len(v.nodes) }

// Shown returns the processes the tree holds under the current filter,
// depth first, whether or not their branches are open.
func (v *ProcessTree) Shown() []ProcNode {
	var out []ProcNode
	var walk func(uid widget.TreeNodeID)
	walk = func(uid widget.TreeNodeID) {
		for _, k := range v.children[uid] {
			if i, ok := v.index(k); ok {
				out = append(out, v.nodes[i])
			}
			walk(k)
		}
	}
	walk("")
	return out
}

// Select selects process i (an index into the nodes given to
// SetProcesses), opens the branches above it and scrolls to it. A process
// the filter hides is not selected.
func (v *ProcessTree) Select(i int) {
	if i < 0 || i >= len(v.nodes) {
		return
	}
	uid := procUID(i)
	if v.query != "" && !slices.Contains(v.children[procUID(v.forest.parent[i])], uid) {
		return
	}
	for p := v.forest.parent[i]; p >= 0; p = v.forest.parent[p] {
		v.tree.OpenBranch(procUID(p))
	}
	v.tree.Select(uid)
}

// Selected returns the index of the selected process, or -1.
func (v *ProcessTree) Selected() int { return v.selected }

// IsOpen reports whether process i's branch is open (its children shown).
func (v *ProcessTree) IsOpen(i int) bool { return v.tree.IsBranchOpen(procUID(i)) }

// SetFilter sets the search text, as typing it would.
func (v *ProcessTree) SetFilter(query string) {
	v.search.SetText(query) // calls applyFilter through OnChanged
	if v.query != query {
		v.applyFilter(query)
	}
}

// Filter returns the search text.
func (v *ProcessTree) Filter() string { return v.query }

// CountText returns the count shown beside the search entry.
func (v *ProcessTree) CountText() string { return v.count.Text }

// NoteText returns the note shown under the tree, "" when there is none.
func (v *ProcessTree) NoteText() string { return v.note.Text }

// ShowDetailLoading shows title over a progress bar while the selected
// process's details are read.
func (v *ProcessTree) ShowDetailLoading(title string) {
	v.title.SetText(title)
	v.detail.showLoading("Reading the stacks…")
}

// ShowDetail shows title over text, the selected process's threads and
// stacks.
func (v *ProcessTree) ShowDetail(title, text string) {
	v.title.SetText(title)
	v.detailText.SetText(text)
	v.detail.showReady()
	if s, ok := v.detail.ready.(*container.Scroll); ok {
		s.ScrollToTop()
	}
}

// ShowDetailError shows title over line, why there are no details.
func (v *ProcessTree) ShowDetailError(title, line string) {
	v.title.SetText(title)
	v.detail.showError(line)
}

// DetailState returns which face the detail pane shows.
func (v *ProcessTree) DetailState() PaneState { return v.detail.state }

// DetailTitle returns the detail pane's title.
func (v *ProcessTree) DetailTitle() string { return v.title.Text }

// DetailText returns the detail pane's text when it is ready, or its
// error line.
func (v *ProcessTree) DetailText() string {
	if v.detail.state == PaneError {
		return v.detail.errLine
	}
	return v.detailText.Text
}

// ProcTitle is how a detail pane names a process: "init (pid 1), crashed".
func ProcTitle(n ProcNode) string {
	t := fmt.Sprintf("%s (pid %d)", n.Name, n.PID)
	if n.Crashed {
		t += ", crashed"
	}
	return t
}

func (v *ProcessTree) applyFilter(query string) {
	v.query = query
	q := strings.ToLower(strings.TrimSpace(query))
	keep := make([]bool, len(v.nodes))
	v.matches = 0
	for i, n := range v.nodes {
		if q != "" && !procMatches(n, q) {
			continue
		}
		v.matches++
		// Keep the ancestors, stopping at one already kept.
		for j := i; j >= 0 && !keep[j]; j = v.forest.parent[j] {
			keep[j] = true
		}
	}
	v.children = map[widget.TreeNodeID][]widget.TreeNodeID{}
	add := func(parent widget.TreeNodeID, ks []int) {
		for _, k := range ks {
			if keep[k] {
				v.children[parent] = append(v.children[parent], procUID(k))
			}
		}
	}
	add("", v.forest.roots)
	for i, ks := range v.forest.kids {
		add(procUID(i), ks)
	}

	switch {
	case len(v.nodes) == 1:
		v.count.SetText("1 process")
	case q == "":
		v.count.SetText(fmt.Sprintf("%d processes", len(v.nodes)))
	default:
		v.count.SetText(fmt.Sprintf("%d of %d processes", v.matches, len(v.nodes)))
	}

	// A search shows every match; without one, the kernel threads fold
	// away and the selected process stays in sight.
	v.tree.OpenAllBranches()
	if q == "" {
		for i, n := range v.nodes {
			if n.PID == 2 && n.Name == "kthreadd" {
				v.tree.CloseBranch(procUID(i))
			}
		}
		if v.selected >= 0 {
			for p := v.forest.parent[v.selected]; p >= 0; p = v.forest.parent[p] {
				v.tree.OpenBranch(procUID(p))
			}
		}
	}
	v.tree.Refresh()
	if v.selected >= 0 {
		v.tree.ScrollTo(procUID(v.selected))
	} else {
		v.tree.ScrollToTop()
	}
}

// procUID is the tree's id of node i; "" (the tree's root) for -1.
func procUID(i int) widget.TreeNodeID {
	if i < 0 {
		return ""
	}
	return strconv.Itoa(i)
}

func (v *ProcessTree) index(uid widget.TreeNodeID) (int, bool) {
	i, err := strconv.Atoi(uid)
	return i, err == nil && i >= 0 && i < len(v.nodes)
}

// procRow is one recycled row of the tree: an icon (a warning on the
// crashed process), the name, and the pid and thread count.
type procRow struct {
	widget.BaseWidget
	icon *widget.Icon
	name *widget.Label
	info *widget.Label
}

func newProcRow() *procRow {
	r := &procRow{icon: widget.NewIcon(theme.ComputerIcon()), name: widget.NewLabel(""), info: widget.NewLabel("")}
	r.info.Importance = widget.LowImportance
	r.ExtendBaseWidget(r)
	return r
}

func (r *procRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewHBox(r.icon, r.name, r.info))
}

func (r *procRow) update(n ProcNode) {
	r.name.Text = n.Name
	r.name.TextStyle.Bold = n.Crashed
	r.name.Importance = widget.MediumImportance
	if n.Crashed {
		r.name.Importance = widget.DangerImportance
		r.icon.SetResource(theme.NewErrorThemedResource(theme.WarningIcon()))
	} else {
		r.icon.SetResource(theme.ComputerIcon())
	}
	r.info.Text = procInfo(n)
	r.name.Refresh()
	r.info.Refresh()
}

// procInfo is a row's second column: "pid 4242 · 2 threads". The crash
// is marked by the icon and the name's colour, which leave the row short
// enough for a narrow pane.
func procInfo(n ProcNode) string {
	s := fmt.Sprintf("pid %d", n.PID)
	switch {
	case n.Threads == 1:
		s += " · 1 thread"
	case n.Threads >= 0:
		s += fmt.Sprintf(" · %d threads", n.Threads)
	}
	return s
}
