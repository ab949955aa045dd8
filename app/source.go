package app

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// sourceContext is how many lines around a frame's line the source
// window shows.
const sourceContext = 15

// splitSource splits a frame table's "file:line" into its parts.
func splitSource(s string) (file string, line int, ok bool) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	if err != nil || n <= 0 {
		return "", 0, false
	}
	return s[:i], n, true
}

// sourceLines reads the lines around line (1-based) of file, returning the
// first line's number; it fails when the file is not on this machine.
func sourceLines(file string, line int) (first int, lines []string, err error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	first = max(1, line-sourceContext)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan() && n <= line+sourceContext; n++ {
		if n >= first {
			lines = append(lines, sc.Text())
		}
	}
	if len(lines) == 0 || first+len(lines) <= line {
		return 0, nil, fmt.Errorf("%s has fewer than %d lines", file, line)
	}
	return first, lines, sc.Err()
}

// showSource shows the lines around a frame's source line, the line
// itself highlighted, when the file exists here.
func showSource(win fyne.Window, file string, line int) {
	first, lines, err := sourceLines(file, line)
	if err != nil {
		return // no source on this machine: the disassembly is shown alone
	}
	grid := widget.NewTextGrid()
	grid.ShowLineNumbers = false
	var b strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&b, "%5d  %s\n", first+i, strings.ReplaceAll(l, "\t", "    "))
	}
	grid.SetText(strings.TrimSuffix(b.String(), "\n"))
	hl := &widget.CustomTextGridStyle{BGColor: theme.Color(theme.ColorNameSelection)}
	grid.SetRowStyle(line-first, hl)
	d := dialog.NewCustom(fmt.Sprintf("%s:%d", file, line), "Close", container.NewScroll(grid), win)
	d.Resize(fyne.NewSize(900, 560))
	d.Show()
}
