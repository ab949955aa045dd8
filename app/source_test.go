package app

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourceLines(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	p := filepath.Join(t.TempDir(), "crash.cpp")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	file, line, ok := splitSource(p + ":50")
	if !ok || file != p || line != 50 {
		t.Fatalf("splitSource: %q %d %v", file, line, ok)
	}
	if _, _, ok := splitSource(`c:\app\crash.cpp`); ok {
		t.Error("a path without a line split")
	}
	first, lines, err := sourceLines(p, 50)
	if err != nil || first != 50-sourceContext || len(lines) != 2*sourceContext+1 || lines[50-first] != "line 50" {
		t.Errorf("around 50: first %d, %d lines, %v", first, len(lines), err)
	}
	first, lines, err = sourceLines(p, 2)
	if err != nil || first != 1 || lines[1] != "line 2" {
		t.Errorf("around 2: first %d, %v", first, err)
	}
	if _, _, err := sourceLines(p, 101); err == nil {
		t.Error("a line past the end")
	}
	if _, _, err := sourceLines(`c:\app\crash.cpp`, 11); err == nil {
		t.Error("a file not on this machine")
	}
}
