package dwarftab

import (
	"debug/elf"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/ctype"
)

// ptypeField is one member line of gdb's ptype /o: byte offset, bit
// position within that byte (-1 for non-bitfields), size, name.
type ptypeField struct {
	byteOff, bit int
	name         string
	bits         int // bitfield width, 0 otherwise
}

// readPtype parses types.ptype.txt (gdb's ptype /o of each type in
// types.c): the top-level members of each struct or union, its total
// size, and the enum's values.
func readPtype(t *testing.T) (fields map[string][]ptypeField, sizes map[string]int, enum string) {
	t.Helper()
	b, err := os.ReadFile("testdata/types.ptype.txt")
	if err != nil {
		t.Fatal(err)
	}
	fields, sizes = map[string][]ptypeField{}, map[string]int{}
	head := regexp.MustCompile(`type = (struct|union) (\w+) \{$`)
	// Union members have no offset column.
	member := regexp.MustCompile(`^/\*\s+(?:(\d+)(?::\s*(\d+))?\s+\|)?\s+\d+ \*/    (?:.*?)(\w+)(?:\[\d+\])*(?: : (\d+))?;$`)
	funcPtr := regexp.MustCompile(`^/\*\s+(\d+)\s+\|\s+\d+ \*/    .*\(\*(\w+)\)\(.*\);$`)
	total := regexp.MustCompile(`^\s+/\* total size \(bytes\):\s+(\d+) \*/$`)
	var cur string
	depth := 0
	for _, l := range strings.Split(string(b), "\n") {
		if m := head.FindStringSubmatch(l); m != nil {
			cur, depth = m[2], 0
			continue
		}
		if strings.HasPrefix(l, "type = enum") {
			enum = l
			continue
		}
		if cur == "" {
			continue
		}
		if strings.HasSuffix(l, "union {") || strings.HasSuffix(l, "struct {") {
			depth++
			if m := regexp.MustCompile(`^/\*\s+(\d+)`).FindStringSubmatch(l); m != nil && depth == 1 {
				off, _ := strconv.Atoi(m[1])
				fields[cur] = append(fields[cur], ptypeField{byteOff: off, bit: -1}) // named at its closing line
			}
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "} ") && depth > 0 {
			depth--
			if depth == 0 {
				f := &fields[cur][len(fields[cur])-1]
				f.name = strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "}")), ";")
			}
			continue
		}
		if m := total.FindStringSubmatch(l); m != nil && depth == 0 {
			sizes[cur], _ = strconv.Atoi(m[1])
			continue
		}
		if depth > 0 {
			continue
		}
		if m := funcPtr.FindStringSubmatch(l); m != nil {
			off, _ := strconv.Atoi(m[1])
			fields[cur] = append(fields[cur], ptypeField{byteOff: off, bit: -1, name: m[2]})
			continue
		}
		if m := member.FindStringSubmatch(l); m != nil {
			f := ptypeField{bit: -1, name: m[3]}
			f.byteOff, _ = strconv.Atoi(m[1])
			if m[2] != "" {
				f.bit, _ = strconv.Atoi(m[2])
				f.bits, _ = strconv.Atoi(m[4])
			}
			fields[cur] = append(fields[cur], f)
		}
	}
	if len(fields) != 3 || enum == "" {
		t.Fatalf("parsed %d types from the oracle, enum %q", len(fields), enum)
	}
	return fields, sizes, enum
}

// TestTypesAgreeWithGDB reads types.o (DWARF 5, DW_AT_data_bit_offset)
// and types-dwarf3.o (DW_AT_bit_offset) and checks every member's offset
// and bit position, each type's size and the enum's values against gdb's
// ptype /o.
func TestTypesAgreeWithGDB(t *testing.T) {
	fields, sizes, enum := readPtype(t)
	for _, obj := range []string{"testdata/types.o", "testdata/types-dwarf3.o"} {
		t.Run(obj, func(t *testing.T) {
			f, err := elf.Open(obj)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			d, err := f.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			ty := NewTypes(d)
			for name, want := range fields {
				got, ok := ty.Type(name)
				if !ok {
					t.Errorf("%s not found", name)
					continue
				}
				if int(got.Size) != sizes[name] {
					t.Errorf("%s: size %d, gdb %d", name, got.Size, sizes[name])
				}
				if len(got.Fields) != len(want) {
					t.Errorf("%s: %d fields, gdb %d", name, len(got.Fields), len(want))
					continue
				}
				for i, w := range want {
					g := got.Fields[i]
					gotBit := int(g.Offset)*8 + int(g.BitOffset)
					wantBit := w.byteOff * 8
					if w.bit >= 0 {
						wantBit += w.bit
					}
					if g.Name != w.name || gotBit != wantBit || int(g.BitSize) != w.bits {
						t.Errorf("%s.%s: bit %d width %d, gdb %s at bit %d width %d", name, g.Name, gotBit, g.BitSize, w.name, wantBit, w.bits)
					}
				}
			}
			node, _ := ty.Type("node_t")
			if node == nil || node.Kind != ctype.Typedef || node.Underlying().Name != "node" {
				t.Fatalf("node_t: %+v", node)
			}
			n := node.Underlying()
			if next := n.Fields[0].Type; next.Kind != ctype.Pointer || next.Elem != n {
				t.Errorf("next does not point back at struct node: %v", next)
			}
			if grid := n.Fields[9].Type; grid.Kind != ctype.Array || grid.Count != 2 || grid.Elem.Count != 3 {
				t.Errorf("grid: %v", grid)
			}
			if hidden := n.Fields[11].Type.Elem; !hidden.Incomplete || hidden.Name != "opaque" {
				t.Errorf("hidden points at %+v", hidden)
			}
			if c := n.Fields[12].Type; !c.Volatile || c.Name != "int" {
				t.Errorf("counter: %+v", c)
			}
			col, _ := ty.Type("enum color")
			var vals []string
			for _, e := range col.Enumerators {
				vals = append(vals, e.Name+"="+strconv.FormatInt(e.Value, 10))
			}
			// gdb: {RED, GREEN = 5, BLUE = -3}
			if got := strings.Join(vals, ","); got != "RED=0,GREEN=5,BLUE=-3" || !strings.Contains(enum, "BLUE = -3") {
				t.Errorf("enum color: %s (gdb %s)", got, enum)
			}
			var names []string
			for n := range ty.TypeNames {
				names = append(names, n)
			}
			for _, want := range []string{"color", "either", "node", "node_t", "opaque", "packed_rec", "uint64_t"} {
				if !slices.Contains(names, want) {
					t.Errorf("names %q lack %s", names, want)
				}
			}
		})
	}
}
