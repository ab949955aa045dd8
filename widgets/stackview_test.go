package widgets

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func newTestStackView(t *testing.T) *StackView {
	t.Helper()
	test.NewTempApp(t)
	v := NewStackView()
	w := test.NewTempWindow(t, v)
	w.Resize(fyne.NewSize(1200, 500))
	return v
}

var sampleThreads = []ThreadRow{
	{ID: "0x1234", Name: "main", Crashed: true, Frames: []FrameRow{
		{Index: "00", Module: "app.exe", Function: "CrashFunction+0x18", Source: `c:\app\crash.cpp:11`, Trust: TrustContext},
		{Module: "app.exe", Function: "helper", Source: `c:\app\crash.cpp:5`, Trust: TrustCFI, Inline: true},
		{Index: "01", Module: "app.exe", Function: "main+0x46", Trust: TrustCFI},
		{Index: "02", Module: "kernel32.dll", Function: "kernel32+0x1744d", Trust: TrustFramePointer},
		{Index: "03", Module: "ntdll.dll", Function: "ntdll+0x5485b", Trust: TrustScan},
	}},
	{ID: "0x1238", Name: "worker", Err: "no register context for this thread"},
}

func TestTrustImportance(t *testing.T) {
	seen := map[widget.Importance]Trust{}
	for _, tr := range []Trust{TrustContext, TrustCFI, TrustFramePointer, TrustScan} {
		if o, dup := seen[tr.Importance()]; dup {
			t.Errorf("%v and %v share importance %v", tr, o, tr.Importance())
		}
		seen[tr.Importance()] = tr
	}
	if TrustScan.Importance() != widget.LowImportance {
		t.Error("scanned frames are not dimmed")
	}
	if TrustFramePointer.String() != "frame-pointer" {
		t.Errorf("String %q", TrustFramePointer)
	}
}

// frameLabels returns the frame table's drawn data cells by text.
func frameLabels(v *StackView) map[string]*widget.Label {
	out := map[string]*widget.Label{}
	walkVisible(v.frames, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text != "" {
			out[l.Text] = l
		}
	})
	return out
}

func TestStackViewSelectsAndColours(t *testing.T) {
	v := newTestStackView(t)
	if v.State() != PaneLoading {
		t.Fatalf("state %v", v.State())
	}
	var picked []int
	v.OnSelected = func(i int) { picked = append(picked, i) }
	v.SetThreads(sampleThreads, 0)
	if v.State() != PaneReady || v.Selected() != 0 || !slices.Equal(picked, []int{0}) {
		t.Fatalf("state %v, selected %d, OnSelected %v", v.State(), v.Selected(), picked)
	}
	if got := v.Frames(); len(got) != 5 || got[0].Function != "CrashFunction+0x18" {
		t.Fatalf("frames %v", got)
	}
	if v.title.Text != "Thread 0x1234 “main” — crashed" {
		t.Errorf("title %q", v.title.Text)
	}
	labels := frameLabels(v)
	for text, want := range map[string]widget.Importance{
		"CrashFunction+0x18": widget.HighImportance,
		"[inline] helper":    widget.SuccessImportance,
		"main+0x46":          widget.SuccessImportance,
		"kernel32+0x1744d":   widget.MediumImportance,
		"ntdll+0x5485b":      widget.LowImportance,
		"scan":               widget.LowImportance,
	} {
		l := labels[text]
		if l == nil {
			t.Errorf("no cell shows %q; cells %v", text, slices.Collect(func(yield func(string) bool) {
				for k := range labels {
					if !yield(k) {
						return
					}
				}
			}))
			continue
		}
		if l.Importance != want {
			t.Errorf("%q importance %v, want %v", text, l.Importance, want)
		}
	}
	if labels["[inline] helper"] != nil && !labels["[inline] helper"].TextStyle.Italic {
		t.Error("inline frame not italic")
	}
	if v.walk.Visible() {
		t.Error("walk error shown for a complete stack")
	}

	// The thread list marks the crashed thread; tapping the other shows
	// its (empty) stack and why.
	test.Tap(tappableWith(t, v.list, "0x1238  worker"))
	if v.Selected() != 1 || len(v.Frames()) != 0 || !v.walk.Visible() {
		t.Fatalf("after tapping worker: selected %d, frames %d, walk shown %v", v.Selected(), len(v.Frames()), v.walk.Visible())
	}
	if _, ok := frameLabels(v)["CrashFunction+0x18"]; ok {
		t.Error("main's frames still drawn for worker")
	}

	v.ShowError("this dump has no thread list")
	if v.State() != PaneError || v.Selected() != -1 || v.Frames() != nil {
		t.Errorf("error: %v %d %v", v.State(), v.Selected(), v.Frames())
	}
}
