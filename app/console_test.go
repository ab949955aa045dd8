package app

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/console"
	"github.com/crashbench/crashbench/core/session"
)

// openSample opens testdata/sample/sample.dmp, whose app module has
// CrashFunction, main and app_data.
func openSample(t *testing.T) *session.Session {
	t.Helper()
	s, err := session.Open(context.Background(), filepath.Join("..", "testdata", "sample", "sample.dmp"), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTestConsole(t *testing.T) *ConsoleTab {
	t.Helper()
	test.NewTempApp(t)
	tab := NewConsoleTab(openSample(t))
	t.Cleanup(tab.Close)
	w := test.NewTempWindow(t, tab.Object)
	w.Resize(fyne.NewSize(800, 500))
	return tab
}

// run submits line and waits until it has finished and its output is shown.
func run(tab *ConsoleTab, line string) {
	tab.Submit(line)
	tab.Wait()
	flushUI()
}

func TestConsoleHistory(t *testing.T) {
	tab := newTestConsole(t)
	m := tab.ConsoleModel
	for _, l := range []string{"lm", "k", "k", "  ", "r rip", "k"} {
		m.remember(l)
	}
	if got, want := m.HistoryLines(), []string{"lm", "k", "r rip", "k"}; !slices.Equal(got, want) {
		t.Fatalf("history %q, want %q (consecutive repeats and blanks dropped)", got, want)
	}
	var walk []string
	for _, d := range []int{-1, -1, -1, -1, -1, +1, +1, +1, +1, +1} {
		l, ok := m.History(d)
		walk = append(walk, fmt.Sprintf("%s/%v", l, ok))
	}
	want := []string{"k/true", "r rip/true", "k/true", "lm/true", "/false", "k/true", "r rip/true", "k/true", "/true", "/false"}
	if !slices.Equal(walk, want) {
		t.Errorf("walk %q, want %q", walk, want)
	}

	// A submitted line resets the walk to the newest entry.
	run(tab, "~")
	if l, _ := m.History(-1); l != "~" {
		t.Errorf("Up after running ~ gives %q", l)
	}

	for i := range historyLimit + 10 {
		m.remember(fmt.Sprint("? ", i))
	}
	h := m.HistoryLines()
	if len(h) != historyLimit || h[len(h)-1] != fmt.Sprint("? ", historyLimit+9) {
		t.Errorf("history holds %d lines ending %q, want the newest %d", len(h), h[len(h)-1], historyLimit)
	}
}

func TestConsoleComplete(t *testing.T) {
	tab := newTestConsole(t)
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"!ana", []string{"!analyze"}},
		{"k; !ana", []string{"!analyze"}},
		{".ecx", []string{".ecxr"}},
		{"lm k", nil}, // not the first word: no command names
		{"x app!ma", []string{"app!main"}},
		{"x app!c", []string{"app!CrashFunction"}},
		{"ln app!", []string{"app!app_data", "app!CrashFunction", "app!main"}},
		{"x nosuchmodule!ma", nil},
	} {
		if got := tab.Complete(tc.prefix); !slices.Equal(got, tc.want) {
			t.Errorf("Complete(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	if got := tab.Complete("d"); len(got) < 5 || !slices.Contains(got, "dq") || !slices.Contains(got, "dt") {
		t.Errorf("Complete(d) = %q, want dq, dt and more", got)
	}
}

func TestConsoleRunsCommands(t *testing.T) {
	tab := newTestConsole(t)
	v := tab.View()
	if v.Prompt() != "0:000>" {
		t.Fatalf("prompt %q, want 0:000>", v.Prompt())
	}
	run(tab, "k")
	run(tab, "!analyze -v")
	out := v.Text()
	for _, want := range []string{
		"0:000> k\n",
		"00 00000000`00140000 00007ff6`00002046 app!CrashFunction+0x18 [c:\\app\\crash.cpp @ 11]",
		"0:000> !analyze -v\n",
		"ExceptionCode: c0000005 (EXCEPTION_ACCESS_VIOLATION_WRITE)",
		"FAILURE_BUCKET_ID:  NULL_CLASS_PTR_WRITE_c0000005_app.exe!CrashFunction",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if v.Busy() {
		t.Error("still busy after the commands finished")
	}

	// An error is shown, not lost; the prompt follows the scope.
	run(tab, "nosuchcommand")
	if !strings.Contains(v.Text(), "nosuchcommand") || strings.Count(v.Text(), "nosuchcommand") < 2 {
		t.Errorf("no error shown for an unknown command:\n%s", v.Text())
	}
	run(tab, "~1s")
	if v.Prompt() != "0:001>" {
		t.Errorf("prompt after ~1s = %q, want 0:001>", v.Prompt())
	}

	run(tab, ".cls")
	if v.Text() != "" {
		t.Errorf(".cls left %q", v.Text())
	}
	if h := tab.HistoryLines(); h[len(h)-1] != ".cls" {
		t.Errorf(".cls not in history: %q", h)
	}
}

func TestConsoleLinkRunsItsCommand(t *testing.T) {
	tab := newTestConsole(t)
	var ran []string
	real := tab.exec
	tab.exec = func(ctx context.Context, line string, out console.Output) error {
		ran = append(ran, line)
		if line == "links" {
			out.Text("thread ")
			out.Link("1", console.Location{Command: "~1s"})
			out.Text(" at ")
			out.Link("00007ff6`00001018", console.Location{Addr: 0x7ff600001018}) // no command: plain
			out.Text("\n")
			return nil
		}
		return real(ctx, line, out)
	}
	run(tab, "links")
	v := tab.View()
	if _, ok := v.LinkPosition("00007ff6`00001018"); ok {
		t.Error("a location without a command became a link")
	}
	pos, ok := v.LinkPosition("1")
	if !ok {
		t.Fatalf("no link 1 in:\n%s", v.Text())
	}
	test.TapAt(v.Output(), pos)
	tab.Wait()
	flushUI()
	if !slices.Equal(ran, []string{"links", "~1s"}) {
		t.Fatalf("ran %q, want the link's command after links", ran)
	}
	if !strings.Contains(v.Text(), "0:000> ~1s\n") || v.Prompt() != "0:001>" {
		t.Errorf("link did not run as typed; prompt %q, output:\n%s", v.Prompt(), v.Text())
	}
}

func TestConsoleCancel(t *testing.T) {
	tab := newTestConsole(t)
	started := make(chan struct{})
	// The command writes nothing before it blocks: under the test driver
	// fyne.Do runs on the calling goroutine, so output flushed while the
	// test also appends would race with it.
	tab.exec = func(ctx context.Context, line string, out console.Output) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	v := tab.View()
	tab.Submit("s -a 0 L?ffffffffffffffff needle")
	<-started
	if !tab.Running() || !v.Busy() {
		t.Fatal("not running")
	}
	tab.Submit("k")
	if !strings.Contains(v.Text(), "Still running") {
		t.Errorf("second submit not refused:\n%s", v.Text())
	}
	v.OnCancel() // Escape or Stop
	tab.Wait()
	flushUI()
	if tab.Running() || v.Busy() {
		t.Error("still running after cancel")
	}
	if !strings.HasSuffix(v.Text(), "to cancel it.\nCommand cancelled.") {
		t.Errorf("output:\n%s", v.Text())
	}
}

// TestConsoleLongOutput streams 20,000 lines written one Text call each.
func TestConsoleLongOutput(t *testing.T) {
	tab := newTestConsole(t)
	tab.exec = func(ctx context.Context, line string, out console.Output) error {
		for i := range 20000 {
			out.Text(fmt.Sprintf("%05d  00000000`00140000  app!CrashFunction+0x18\n", i))
		}
		return nil
	}
	run(tab, "dps")
	v := tab.View()
	if v.Lines() != 20001 || !strings.HasSuffix(v.Text(), "19999  00000000`00140000  app!CrashFunction+0x18") {
		t.Fatalf("%d lines", v.Lines())
	}
}
