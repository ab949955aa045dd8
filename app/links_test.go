package app

import (
	"strings"
	"testing"
)

// links returns each link of text as "label=command".
func links(text string) []string {
	var out []string
	for _, s := range linkify(text) {
		if s.Command != "" {
			out = append(out, s.Text+"="+s.Command)
		}
	}
	return out
}

func TestLinkify(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"00 00000000`00140000 00007ff6`00002046 app!CrashFunction+0x18 [c:\\app\\crash.cpp @ 11]",
			[]string{"00000000`00140000=view:addr:00000000`00140000", "00007ff6`00002046=view:addr:00007ff6`00002046",
				"app!CrashFunction+0x18=view:expr:app!CrashFunction+0x18"}},
		{".  0  Id: 1092.1234 Suspend: 0 Teb: 00007ff0`00000000 \"main\"",
			[]string{"0=view:thread:0", "00007ff0`00000000=view:addr:00007ff0`00000000"}},
		{"00007ffd`00000000  00007ffd`000b0000  kernel32  (deferred)",
			[]string{"00007ffd`00000000=view:addr:00007ffd`00000000", "00007ffd`000b0000=view:addr:00007ffd`000b0000", "kernel32=view:module:kernel32"}},
		{"  [ffffcf42c0013ca8] panic+0x177 at ffffffff9a1cd0a8",
			[]string{"ffffcf42c0013ca8=view:addr:ffffcf42c0013ca8", "ffffffff9a1cd0a8=view:addr:ffffffff9a1cd0a8"}},
		{"RIP: 0x0000000000401000 count 0x10 null 00000000`00000000", []string{"0x0000000000401000=view:addr:0x0000000000401000"}},
		{"    RAX: ffffffffffffffda  ORIG_RAX: 0000000000000001", []string{"ffffffffffffffda=view:addr:ffffffffffffffda"}},
		{"std::vector<int>!foo is not a symbol, ntdll!RtlUserThreadStart+0x21 is",
			[]string{"ntdll!RtlUserThreadStart+0x21=view:expr:ntdll!RtlUserThreadStart+0x21"}},
		{"no links here\n", nil},
	} {
		got := links(c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%q:\n got %q\nwant %q", c.text, got, c.want)
		}
		var all strings.Builder
		for _, s := range linkify(c.text) {
			all.WriteString(s.Text)
		}
		if all.String() != c.text {
			t.Errorf("segments of %q join to %q", c.text, all.String())
		}
	}
}

func TestParseView(t *testing.T) {
	if k, a, ok := parseView("view:expr:app!main+0x4"); !ok || k != viewExpr || a != "app!main+0x4" {
		t.Errorf("parseView: %q %q %v", k, a, ok)
	}
	if _, _, ok := parseView("lm"); ok {
		t.Error("a console command parsed as a navigation")
	}
}
