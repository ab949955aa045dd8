package golden

import (
	"strings"
	"testing"
)

func TestDiffNamesChangedLines(t *testing.T) {
	t.Parallel()
	d := Diff("a\nb\nc", "a\nX\nc")
	if !strings.Contains(d, "line 2:") || !strings.Contains(d, "want: b") || !strings.Contains(d, "got:  X") {
		t.Fatalf("Diff = %q", d)
	}
	if Diff("same", "same") != "" {
		t.Fatal("Diff of equal texts is not empty")
	}
}
