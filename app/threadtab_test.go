package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/crashbench/crashbench/core/testutil/fixture"
	"github.com/crashbench/crashbench/widgets"
)

func TestThreadsTabSample(t *testing.T) {
	test.NewTempApp(t)
	sess := sampleSession(t)
	tt := newThreadTab(context.Background(), sess)
	waitClosed(t, "the stacks", tt.done, 30*time.Second)
	showTab(t, tt.view, fyne.NewSize(1200, 500))

	v := tt.view
	if v.State() != widgets.PaneReady {
		t.Fatalf("state %v, error %q", v.State(), v.ErrorLine())
	}
	a, err := sess.Analyze(context.Background())
	if err != nil || a.Crashed < 0 {
		t.Fatalf("Analyze: %v, crashed %d", err, a.Crashed)
	}
	ths := v.Threads()
	if len(ths) != len(a.Threads) || len(ths) != 2 {
		t.Fatalf("%d threads shown, analysis has %d", len(ths), len(a.Threads))
	}
	crashed := a.Threads[a.Crashed]
	if v.Selected() != 0 || !ths[0].Crashed || ths[0].ID != fmt.Sprintf("0x%x", crashed.Thread.ID) || ths[0].Name != "main" {
		t.Fatalf("first thread %+v (selected %d), want the crashed 0x%x main", ths[0], v.Selected(), crashed.Thread.ID)
	}
	for _, th := range ths[1:] {
		if th.Crashed {
			t.Errorf("thread %s also marked crashed", th.ID)
		}
	}

	// The selected thread's frames are the analysis' crashing stack.
	frames := v.Frames()
	if len(frames) != len(crashed.Frames) || len(frames) != 4 {
		t.Fatalf("%d frames shown, analysis has %d", len(frames), len(crashed.Frames))
	}
	for i, f := range crashed.Frames {
		got := frames[i]
		an := f.Analysis
		wantFn := an.String()
		if an.Function != "" {
			wantFn = fmt.Sprintf("%s+%#x", an.Function, an.Offset)
		}
		if got.Index != fmt.Sprintf("%02x", f.Index) || got.Module != an.Module || got.Function != wantFn ||
			got.Trust.String() != f.Trust.String() || got.Source != sourceLine(an.File, an.Line) {
			t.Errorf("frame %d = %+v, analysis %s (%s) [%s:%d]", i, got, an, f.Trust, an.File, an.Line)
		}
	}
	// What the analysis golden shows: a symbolised top frame with its
	// line, found from the context; the rest from the frame-pointer chain.
	if frames[0].Function != "CrashFunction+0x18" || frames[0].Source != `c:\app\crash.cpp:11` || frames[0].Trust != widgets.TrustContext {
		t.Errorf("top frame %+v", frames[0])
	}
	if frames[2].Function != "kernel32+0x1744d" || frames[2].Trust != widgets.TrustFramePointer {
		t.Errorf("frame 2 %+v", frames[2])
	}

	// Selecting the worker shows its stack.
	v.Select(1)
	if v.Selected() != 1 || ths[1].Name != "worker" {
		t.Errorf("after Select(1): selected %d, thread %+v", v.Selected(), ths[1])
	}
}

func TestThreadsTabNoSession(t *testing.T) {
	test.NewTempApp(t)
	if v := newThreadTab(context.Background(), nil).view; v.State() != widgets.PaneError {
		t.Errorf("nil session: state %v", v.State())
	}
}

// TestThreadsTabVmcore: a vmcore has no thread list; the tab says where
// the crash's stack is instead.
func TestThreadsTabVmcore(t *testing.T) {
	test.NewTempApp(t)
	sess := openSession(t, fixture.Corpus(t, "generated/linux-vmcore/panic-96M.makedumpfile-zlib.kdump"))
	tt := newThreadTab(context.Background(), sess)
	waitClosed(t, "the stacks", tt.done, 60*time.Second)
	if v := tt.view; v.State() != widgets.PaneError || !strings.Contains(v.ErrorLine(), "kernel log") {
		t.Errorf("vmcore threads tab: state %v, error %q", v.State(), v.ErrorLine())
	}
}
