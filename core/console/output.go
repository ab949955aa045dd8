package console

import (
	"fmt"
	"io"
	"strings"

	"github.com/crashbench/crashbench/core/disasm"
)

// Output receives a command's results. It is structured so that the CLI
// can print text (NewTextOutput) while the workbench renders tables as
// grids and links as navigation.
type Output interface {
	// Text writes plain text; commands include their own newlines.
	Text(s string)
	// Table writes a table of typed cells.
	Table(t *Table)
	// Link writes label, which a GUI may make clickable to go to to.
	Link(label string, to Location)
}

// Location is where a link leads: an address, and the command a GUI runs
// when the link is followed (DML's <link cmd="...">).
type Location struct {
	Addr    uint64
	Command string // "u 00007ff6`00001000", "~1s"; "" to only show Addr
}

// ColKind is the type of a table column; it decides how cells render.
type ColKind uint8

const (
	// ColString cells hold text.
	ColString ColKind = iota
	// ColAddr cells hold an address, printed in WinDbg form
	// ("00007ff6`00001000") for the table's pointer size.
	ColAddr
	// ColUint cells hold a number printed in hex, zero-padded to Width.
	ColUint
	// ColSymbol cells hold a symbol name ("app!main+0x10").
	ColSymbol
)

// Column describes one table column.
type Column struct {
	Name  string
	Kind  ColKind
	Width int // minimum digits for ColUint, minimum characters otherwise
}

// Cell is one table value. Absent marks a value that could not be read
// from the dump; it renders as "????????".
type Cell struct {
	Str    string // ColString and ColSymbol
	Uint   uint64 // ColAddr and ColUint
	Absent bool
}

// Str returns a text cell.
func Str(s string) Cell { return Cell{Str: s} }

// Uint returns a numeric (or address) cell.
func Uint(v uint64) Cell { return Cell{Uint: v} }

// Absent returns a cell for a value not in the dump.
func Absent() Cell { return Cell{Absent: true} }

// Table is a typed result grid.
type Table struct {
	Columns  []Column
	Rows     [][]Cell
	PtrSize  int  // 4 or 8, for ColAddr; 8 when zero
	NoHeader bool // print only the rows
}

// Add appends a row.
func (t *Table) Add(cells ...Cell) { t.Rows = append(t.Rows, cells) }

// CellText renders one cell as the text output does.
func (t *Table) CellText(col int, c Cell) string {
	k := ColString
	w := 0
	if col < len(t.Columns) {
		k, w = t.Columns[col].Kind, t.Columns[col].Width
	}
	ptr := t.PtrSize
	if ptr == 0 {
		ptr = 8
	}
	switch {
	case c.Absent && k == ColAddr && ptr == 8:
		return "????????`????????"
	case c.Absent:
		return strings.Repeat("?", max(w, 8))
	case k == ColAddr:
		return disasm.FormatAddr(c.Uint, ptr)
	case k == ColUint:
		return fmt.Sprintf("%0*x", w, c.Uint)
	}
	return c.Str
}

// NewTextOutput returns an Output that prints to w as WinDbg would: text
// verbatim, tables as space-aligned columns, links as their labels.
func NewTextOutput(w io.Writer) Output { return &textOutput{w: w} }

type textOutput struct{ w io.Writer }

func (o *textOutput) Text(s string) { io.WriteString(o.w, s) }

func (o *textOutput) Link(label string, _ Location) { io.WriteString(o.w, label) }

func (o *textOutput) Table(t *Table) {
	n := len(t.Columns)
	for _, r := range t.Rows {
		n = max(n, len(r))
	}
	widths := make([]int, n)
	cells := make([][]string, 0, len(t.Rows)+1)
	if !t.NoHeader {
		h := make([]string, n)
		for i, c := range t.Columns {
			h[i] = c.Name
		}
		cells = append(cells, h)
	}
	for _, r := range t.Rows {
		row := make([]string, n)
		for i, c := range r {
			row[i] = t.CellText(i, c)
		}
		cells = append(cells, row)
	}
	for _, row := range cells {
		for i, s := range row {
			widths[i] = max(widths[i], len(s))
		}
	}
	var b strings.Builder
	for _, row := range cells {
		var line strings.Builder
		for i, s := range row {
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(s)
			if i < n-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-len(s)))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	io.WriteString(o.w, b.String())
}
