package app

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crashbench/crashbench/core/minidump/minidumptest"
	"github.com/crashbench/crashbench/widgets"
	"github.com/crashbench/crashbench/workspace"
)

// scenarioAt writes minidump scenario name, stamped with timestamp (so two
// copies differ in content but not in crash), to dir.
func scenarioAt(t *testing.T, dir, name string, timestamp uint32) string {
	t.Helper()
	b, err := minidumptest.Scenarios()[name]().Timestamp(timestamp).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+"-"+time.Unix(int64(timestamp), 0).UTC().Format("20060102")+".dmp")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// needIndex skips when this build has no SQLite (CGO_ENABLED=0): the
// window then works without the index, which TestWindowWithoutIndex checks.
func needIndex(t *testing.T, m *mainWindow) {
	t.Helper()
	m.ws.Wait()
	flushUI()
	if err := m.ws.Err(); err != nil && strings.Contains(err.Error(), "cgo") {
		t.Skipf("the workspace index needs a cgo build: %v", err)
	}
}

// TestWindowSeenBefore opens two dumps of the same crash: once both are
// indexed, the summary says the crash was seen twice since the first
// one's day, the sidebar lists the bucket with its count, and the link
// brings the buckets tab forward with that bucket selected.
func TestWindowSeenBefore(t *testing.T) {
	dir := t.TempDir()
	first := scenarioAt(t, dir, "amd64-av-write", 1_700_000_000)  // 2023-11-14
	second := scenarioAt(t, dir, "amd64-av-write", 1_710_000_000) // 2024-03-09
	m := newTestWindow(t, []string{first, second}, nil)
	needIndex(t, m)
	settle(t, m)
	waitFor(t, "both dumps indexed in one bucket", func() bool {
		bs := m.ws.Buckets()
		return len(bs) == 1 && bs[0].Count == 2
	}, 20*time.Second)
	onUIWait(func() { m.list.Select(1) })
	waitFor(t, "the recurrence line", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		return strings.HasPrefix(m.summary.Seen(), "Seen 2 times since ")
	}, 10*time.Second)
	m.uiMu.Lock()
	seen := m.summary.Seen()
	side := m.wsPanel.Buckets()
	m.uiMu.Unlock()
	day := time.Unix(1_700_000_000, 0).Local().Format("2006-01-02")
	if !strings.Contains(seen, day) {
		t.Errorf("seen line %q does not name the first crash's day %s", seen, day)
	}
	key := m.ws.Buckets()[0].Key
	if len(side) != 1 || side[0].Count != 2 || side[0].Key != key {
		t.Errorf("sidebar buckets %+v, want %s with 2", side, key)
	}
	onUIWait(func() { m.showBucket(key) })
	if s := m.tabs.Selected(); s == nil || s.Text != "Buckets" {
		t.Fatalf("selected tab %v, want Buckets", s)
	}
	waitFor(t, "the buckets view", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		return m.buckets.view.State() == widgets.PaneReady && m.buckets.view.Selected() == key
	}, 10*time.Second)
	m.uiMu.Lock()
	rows := m.buckets.view.Rows()
	m.uiMu.Unlock()
	if len(rows) != 1 || len(rows[0].Dumps) != 2 {
		t.Errorf("buckets view rows %+v", rows)
	}
}

// TestWindowWatchFolder adds a watched folder: what it holds is indexed
// and the sidebar lists it as watched; a dump written into it later is
// indexed by the watcher.
func TestWindowWatchFolder(t *testing.T) {
	dir := t.TempDir()
	scenarioAt(t, dir, "amd64-av-write", 1_700_000_000)
	m := newTestWindow(t, nil, &fakePicker{paths: []string{dir}})
	needIndex(t, m)
	onUIWait(m.addFolder)
	waitFor(t, "the folder indexed", func() bool {
		fs := m.ws.Folders()
		bs := m.ws.Buckets()
		return len(fs) == 1 && fs[0].Path == dir && fs[0].Status == "watching" && len(bs) == 1
	}, 20*time.Second)
	second := scenarioAt(t, dir, "amd64-av-write", 1_710_000_000)
	waitFor(t, "the watcher to index the new dump", func() bool {
		bs := m.ws.Buckets()
		return len(bs) == 1 && bs[0].Count == 2
	}, 30*time.Second)
	if fs := m.ws.Folders(); len(fs) != 1 || fs[0].Indexed != 1 {
		t.Errorf("folders %+v, want 1 dump indexed by the watcher", fs)
	}
	// A dump deleted from the folder leaves its bucket.
	if err := os.Remove(second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the watcher to forget the deleted dump", func() bool {
		bs := m.ws.Buckets()
		return len(bs) == 1 && bs[0].Count == 1
	}, 30*time.Second)
	m.ws.RemoveFolder(dir)
	waitFor(t, "the folder removed", func() bool { return len(m.ws.Folders()) == 0 }, 10*time.Second)
}

// TestWindowCompare compares two open dumps of different crashes.
func TestWindowCompare(t *testing.T) {
	a, b := writeScenario(t, "amd64-av-write"), writeScenario(t, "linux-sigsegv")
	m := newTestWindow(t, []string{a, b}, nil)
	settle(t, m)
	m.uiMu.Lock()
	n := len(m.compare.sessions)
	m.uiMu.Unlock()
	if n != 2 {
		t.Fatalf("%d dumps offered to compare, want 2", n)
	}
	// Bringing the tab forward compares the two dumps opened last.
	onUIWait(func() { m.tabs.Select(m.wsItems[1]) })
	waitClosed(t, "the comparison", m.compare.done, 20*time.Second)
	v := m.compare.view
	if v.State() != widgets.PaneReady || !strings.HasPrefix(v.Verdict(), "Different crashes") {
		t.Fatalf("state %v, verdict %q", v.State(), v.Verdict())
	}
	var headings []string
	differ := 0
	for _, r := range v.Rows() {
		if r.Heading != "" {
			headings = append(headings, r.Heading)
		} else if !r.Same {
			differ++
		}
	}
	if len(headings) != 4 || headings[0] != "System" || headings[1] != "Crash" || headings[2] != "Crashing stack" {
		t.Errorf("headings %q", headings)
	}
	if differ == 0 {
		t.Error("no differing rows between an amd64 access violation and a Linux SIGSEGV")
	}
}

// TestWindowRegroupBuckets merges two crashes' buckets from the buckets
// view and undoes it: the index and the view follow.
func TestWindowRegroupBuckets(t *testing.T) {
	m, a, b := twoCrashWindow(t)
	keys := []string{m.ws.Buckets()[0].Key, m.ws.Buckets()[1].Key}
	rows := func() []widgets.BucketRow {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		return m.buckets.view.Rows()
	}
	waitFor(t, "the view's two rows", func() bool { return len(rows()) == 2 }, 10*time.Second)

	onUIWait(func() { m.buckets.view.OnMerge(keys[1], keys[0]) })
	waitFor(t, "one bucket after the merge", func() bool {
		r := rows()
		return len(r) == 1 && r[0].Key == keys[0] && r[0].Count == 2 && slices.Equal(r[0].Merged, []string{keys[1]})
	}, 10*time.Second)

	onUIWait(func() { m.buckets.view.OnMerge("NO_SUCH_BUCKET", keys[0]) })
	waitFor(t, "the refusal shown", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		return strings.Contains(m.buckets.view.Notice(), "no such bucket")
	}, 10*time.Second)
	onUIWait(func() { m.buckets.view.OnUnmerge([]string{keys[1]}) })
	waitFor(t, "two buckets again", func() bool { return len(rows()) == 2 }, 10*time.Second)

	// A note on the first dump's bucket shows in its summary's seen line.
	onUIWait(func() { m.buckets.view.OnAddNote(keys[0], "known: fixed in 2.1") })
	waitFor(t, "the note in the view", func() bool {
		for _, r := range rows() {
			if r.Key == keys[0] && len(r.Notes) == 1 && r.Notes[0].Text == "known: fixed in 2.1" {
				return true
			}
		}
		return false
	}, 10*time.Second)
	checked := false
	for i, p := range []string{a, b} {
		if m.dumps.Path(i) != p {
			continue
		}
		if bk, _ := m.ws.SeenIn(m.ctx, p); bk.Key == keys[0] {
			checked = true
			onUIWait(func() { m.list.Select(i) })
			waitFor(t, "the note in the seen line", func() bool {
				m.uiMu.Lock()
				defer m.uiMu.Unlock()
				return strings.HasSuffix(m.summary.Seen(), " — known: fixed in 2.1")
			}, 10*time.Second)
		}
	}
	if !checked {
		t.Error("no open dump is in the noted bucket")
	}
}

// TestWindowAnnotations tags and notes the dump shown from its summary:
// the index keeps them and the summary shows them.
func TestWindowAnnotations(t *testing.T) {
	dir := t.TempDir()
	a := scenarioAt(t, dir, "amd64-av-write", 1_700_000_000)
	m := newTestWindow(t, []string{a}, nil)
	needIndex(t, m)
	settle(t, m)
	onUIWait(func() { m.list.Select(0) })
	annotated := func(cond func(tags []string, notes []widgets.NoteRow) bool) func() bool {
		return func() bool {
			m.uiMu.Lock()
			defer m.uiMu.Unlock()
			a := m.summary.Annotations()
			return m.summary.Annotated() && cond(a.Tags, a.Notes)
		}
	}
	waitFor(t, "the summary's annotations", annotated(func(tags []string, notes []widgets.NoteRow) bool {
		return len(tags) == 0 && len(notes) == 0
	}), 20*time.Second)
	onUIWait(func() {
		m.summary.OnTag("JIRA-1", true)
		m.summary.OnAddNote("customer says it happens on resume")
	})
	waitFor(t, "the tag and the note", annotated(func(tags []string, notes []widgets.NoteRow) bool {
		return slices.Equal(tags, []string{"JIRA-1"}) && len(notes) == 1 && notes[0].Text == "customer says it happens on resume"
	}), 10*time.Second)
	onUIWait(func() { m.summary.OnTag("JIRA-1", false) })
	waitFor(t, "the tag removed", annotated(func(tags []string, notes []widgets.NoteRow) bool {
		return len(tags) == 0 && len(notes) == 1
	}), 10*time.Second)
	if got, ok := m.ws.Annotations(m.ctx, a); !ok || len(got.Tags) != 0 || len(got.Notes) != 1 {
		t.Errorf("index: %+v, indexed %v", got, ok)
	}

	// Moved to a bucket of its own name, then back.
	key := m.ws.Buckets()[0].Key
	onUIWait(func() { m.summary.OnMove("TICKET-3") })
	waitFor(t, "the dump in TICKET-3", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		an := m.summary.Annotations()
		return an.Bucket == "TICKET-3" && an.Moved
	}, 10*time.Second)
	onUIWait(func() { m.summary.OnMove("") })
	waitFor(t, "the dump back in its own bucket", func() bool {
		m.uiMu.Lock()
		defer m.uiMu.Unlock()
		an := m.summary.Annotations()
		return an.Bucket == key && !an.Moved
	}, 10*time.Second)
}

// TestWindowPrune deletes an opened dump's file: Tools › Forget Deleted
// Dumps takes it out of the index and the buckets.
func TestWindowPrune(t *testing.T) {
	m, _, b := twoCrashWindow(t)
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	m.ws.Prune(func(res workspace.PruneResult, err error) {
		if err != nil {
			got <- err.Error()
			return
		}
		got <- PruneText(res)
	})
	select {
	case text := <-got:
		if text != "Forgot 1 deleted file and 1 dump." {
			t.Errorf("prune said %q", text)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Prune did not report")
	}
	waitFor(t, "one bucket left", func() bool { return len(m.ws.Buckets()) == 1 }, 10*time.Second)
	if PruneText(workspace.PruneResult{Kept: 2, MissingFolder: []string{"/mnt/share"}}) != "Forgot 0 deleted files and 0 dumps.\nKept 2 files whose folders are missing too (an unmounted disk or share?): /mnt/share" {
		t.Error("the kept files are not explained")
	}
}

// twoCrashWindow opens two dumps of different crashes, a and b, and waits
// until the index holds their two buckets.
func twoCrashWindow(t *testing.T) (m *mainWindow, a, b string) {
	t.Helper()
	dir := t.TempDir()
	a = scenarioAt(t, dir, "amd64-av-write", 1_700_000_000)
	b = scenarioAt(t, dir, "linux-sigsegv", 1_710_000_000)
	m = newTestWindow(t, []string{a, b}, nil)
	needIndex(t, m)
	settle(t, m)
	waitFor(t, "two buckets", func() bool { return len(m.ws.Buckets()) == 2 }, 20*time.Second)
	return m, a, b
}
