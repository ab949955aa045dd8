package pdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/symbols/ctype"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// openTypes opens a corpus PDB and its types.
func openTypes(t *testing.T, rel string) *Types {
	t.Helper()
	f, err := Open(fixture.Corpus(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ty, err := f.Types()
	if err != nil {
		t.Fatal(err)
	}
	return ty
}

func mustType(t *testing.T, ty *Types, name string) *ctype.Type {
	t.Helper()
	x, ok := ty.Type(name)
	if !ok {
		t.Fatalf("type %q not found", name)
	}
	return x
}

// dataFields leaves out base classes and the vtable pointer.
func dataFields(x *ctype.Type) []ctype.Field {
	var out []ctype.Field
	for _, f := range x.Fields {
		if !f.BaseClass && f.Name != "__VFN_table" {
			out = append(out, f)
		}
	}
	return out
}

// pdbutilTPI is a TPI record as llvm-pdbutil dump -types prints it.
type pdbutilTPI struct {
	ti      uint32
	leaf    string
	name    string
	list    uint32 // field list, 0 for <no type>
	fwd     bool
	members []pdbutilMember
	enums   []ctype.Enumerator
}

type pdbutilMember struct {
	name string
	ti   uint32
	off  uint64
}

var (
	reTPIRec    = regexp.MustCompile("^\\s*0x([0-9A-F]+) \\| (LF_\\w+) \\[size = \\d+, hash = [^\\]]*\\](?: `(.*)`)?$")
	reTPIList   = regexp.MustCompile(`field list: (0x[0-9A-F]+|<no type>)`)
	reTPIMember = regexp.MustCompile("^\\s*- LF_MEMBER \\[name = `(.*)`, Type = 0x([0-9A-F]+)(?: \\(.*\\))?, offset = (\\d+), attrs = \\w+\\]$")
	reTPIEnum   = regexp.MustCompile(`^\s*- LF_ENUMERATE \[(.*) = (-?\d+)\]$`)
)

// readPdbutilTPI reads the "Types (TPI Stream)" section of a lit test's
// check lines (ALL: / ALL-NEXT:).
func readPdbutilTPI(t *testing.T, path string) map[uint32]*pdbutilTPI {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := map[uint32]*pdbutilTPI{}
	var cur *pdbutilTPI
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		_, line, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case strings.Contains(line, "Types (TPI Stream)"):
			in = true
			continue
		case strings.Contains(line, "Type Index Offsets"):
			in = false
		}
		if !in {
			continue
		}
		if m := reTPIRec.FindStringSubmatch(line); m != nil {
			ti, _ := strconv.ParseUint(m[1], 16, 32)
			cur = &pdbutilTPI{ti: uint32(ti), leaf: m[2], name: m[3]}
			recs[cur.ti] = cur
			continue
		}
		if cur == nil {
			continue
		}
		if m := reTPIList.FindStringSubmatch(line); m != nil && m[1] != "<no type>" {
			v, _ := strconv.ParseUint(m[1][2:], 16, 32)
			cur.list = uint32(v)
		}
		if strings.Contains(line, "options:") && strings.Contains(line, "forward ref") {
			cur.fwd = true
		}
		if m := reTPIMember.FindStringSubmatch(line); m != nil {
			ti, _ := strconv.ParseUint(m[2], 16, 32)
			off, _ := strconv.ParseUint(m[3], 10, 64)
			cur.members = append(cur.members, pdbutilMember{m[1], uint32(ti), off})
		}
		if m := reTPIEnum.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseInt(m[2], 10, 64)
			cur.enums = append(cur.enums, ctype.Enumerator{Name: m[1], Value: v})
		}
	}
	return recs
}

// TestTypesPdbutilOracle checks every structure and enum record of
// empty.pdb against LLVM's pdbdump-headers.test: each definition's
// members (name, offset, type index) or enumerators, and that forward
// references resolve to the definition.
func TestTypesPdbutilOracle(t *testing.T) {
	dir := "llvm-pdb/DebugInfo-PDB/"
	recs := readPdbutilTPI(t, fixture.Corpus(t, dir+"pdbdump-headers.test"))
	ty := openTypes(t, dir+"empty.pdb")
	var structs, enums, fwds int
	for _, r := range recs {
		switch r.leaf {
		case "LF_STRUCTURE", "LF_CLASS", "LF_UNION", "LF_ENUM":
		default:
			continue
		}
		got := ty.ByIndex(r.ti)
		if got.Name != r.name {
			t.Errorf("%#x: name %q, want %q", r.ti, got.Name, r.name)
		}
		if r.fwd {
			fwds++
			if def, ok := ty.Type(r.name); !ok || def != got || got.Incomplete {
				t.Errorf("%#x: forward reference to %s does not resolve to its definition", r.ti, r.name)
			}
			continue
		}
		if named, ok := ty.Type(r.name); !ok || named.Kind != got.Kind || named.Incomplete {
			t.Errorf("Type(%q) = %v, %v", r.name, named, ok)
		}
		list := recs[r.list]
		if r.list != 0 && list == nil {
			t.Fatalf("%#x: field list %#x not in the oracle", r.ti, r.list)
		}
		if r.leaf == "LF_ENUM" {
			enums++
			if got.Kind != ctype.Enum || got.Elem == nil || got.Elem.Name != "int" {
				t.Errorf("%s: %v, underlying %v", r.name, got.Kind, got.Elem)
			}
			if !slices.Equal(got.Enumerators, list.enums) {
				t.Errorf("%s: enumerators %v, want %v", r.name, got.Enumerators, list.enums)
			}
			continue
		}
		structs++
		var want []pdbutilMember
		if list != nil {
			want = list.members
		}
		fields := dataFields(got)
		if len(fields) != len(want) {
			t.Errorf("%s: %d fields, want %d", r.name, len(fields), len(want))
			continue
		}
		for i, w := range want {
			f := fields[i]
			if f.Name != w.name || f.Offset != w.off || f.Type != ty.ByIndex(w.ti) {
				t.Errorf("%s: field %d = %s @%d %v, want %s @%d type %#x", r.name, i, f.Name, f.Offset, f.Type, w.name, w.off, w.ti)
			}
		}
	}
	if structs == 0 || enums == 0 || fwds == 0 {
		t.Fatalf("oracle parse found %d structures, %d enums, %d forward references", structs, enums, fwds)
	}
	t.Logf("pdbdump-headers.test: %d structure and %d enum definitions, %d forward references agree", structs, enums, fwds)
}

// TestTypesMinimal checks minimal.pdb against the types rizin reports for
// it (rizin-pdb/ORACLE-NOTES.md, from rizin's cmd_idp test).
func TestTypesMinimal(t *testing.T) {
	ty := openTypes(t, "rizin-pdb/pdb/minimal.pdb")
	type fld struct {
		name   string
		off    uint64
		size   uint64
		signed bool
	}
	check := func(name string, kind ctype.Kind, size uint64, want []fld) *ctype.Type {
		t.Helper()
		x := mustType(t, ty, name)
		if x.Kind != kind || x.Size != size || x.Incomplete {
			t.Errorf("%s: %v size %d incomplete %v, want %v size %d", name, x.Kind, x.Size, x.Incomplete, kind, size)
		}
		if want == nil {
			return x
		}
		if len(x.Fields) != len(want) {
			t.Fatalf("%s: %d fields, want %d", name, len(x.Fields), len(want))
		}
		for i, w := range want {
			f := x.Fields[i]
			if f.Name != w.name || f.Offset != w.off || f.Type.Size != w.size || w.size != 0 && f.Type.Signed != w.signed {
				t.Errorf("%s.%s: @%d %v size %d, want %s @%d size %d", name, f.Name, f.Offset, f.Type, f.Type.Size, w.name, w.off, w.size)
			}
		}
		return x
	}
	// char a @0, int16_t b @1, int32_t c @3: packed.
	check("struct_typedef", ctype.Struct, 7, []fld{{"a", 0, 1, true}, {"b", 1, 2, true}, {"c", 3, 4, true}})
	check("union_typedef", ctype.Union, 4, nil)
	u := check("unnamed_member_types_typedef", ctype.Struct, 8, []fld{{"a", 0, 4, false}, {"b", 4, 4, true}})
	// a is rizin's union type_0x1004: char[4] a, int32_t b.
	if a := u.Fields[0].Type; a.Kind != ctype.Union || a.Name != "" || len(a.Fields) != 2 ||
		a.Fields[0].Type.Kind != ctype.Array || a.Fields[0].Type.Count != 4 || a.Fields[0].Type.Elem.Name != "char" ||
		a.Fields[1].Type.Size != 4 {
		t.Errorf("unnamed_member_types_typedef.a: %v %+v", a, a.Fields)
	}
	// Rizin lists no members; the records hold bitfields of one byte.
	bf := check("bitfield_typedef", ctype.Struct, 1, nil)
	if len(bf.Fields) == 0 {
		t.Fatal("bitfield_typedef: no fields")
	}
	var used uint32
	for _, f := range bf.Fields {
		if f.BitSize == 0 || f.Offset != 0 || f.Type.Size != 1 || f.BitOffset+f.BitSize > 8 {
			t.Errorf("bitfield_typedef.%s: @%d bits %d:%d of %v", f.Name, f.Offset, f.BitOffset, f.BitSize, f.Type)
		}
		mask := uint32(1)<<(f.BitOffset+f.BitSize) - 1<<f.BitOffset
		if used&mask != 0 {
			t.Errorf("bitfield_typedef.%s overlaps an earlier bitfield", f.Name)
		}
		used |= mask
	}
}

// rizinCase is one test of rizin's test database.
type rizinCase struct {
	name, file, cmds, expect string
	broken                   bool
}

// readRizinDB reads a rizin test-DB file: NAME=, FILE=, CMDS= and
// EXPECT= (one line, or <<EOF … EOF), ended by RUN.
func readRizinDB(t *testing.T, path string) []rizinCase {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []rizinCase
	var c rizinCase
	for i := 0; i < len(lines); i++ {
		key, val, ok := strings.Cut(lines[i], "=")
		if lines[i] == "RUN" {
			out = append(out, c)
			c = rizinCase{}
			continue
		}
		if !ok {
			continue
		}
		if val == "<<EOF" {
			var body []string
			for i++; i < len(lines) && lines[i] != "EOF"; i++ {
				body = append(body, lines[i])
			}
			val = strings.Join(body, "\n")
		}
		switch key {
		case "NAME":
			c.name = val
		case "FILE":
			c.file = val
		case "CMDS":
			c.cmds = val
		case "EXPECT":
			c.expect = val
		case "BROKEN":
			c.broken = val == "1"
		}
	}
	return out
}

// rizinSpelling spells a type as rizin's PDB loader prints it in a
// declaration, "" when this test does not know how.
func rizinSpelling(x *ctype.Type, depth int) string {
	if x == nil || depth > 8 {
		return ""
	}
	switch x.Kind {
	case ctype.Void:
		return "void"
	case ctype.Base:
		switch {
		case x.Float && x.Size == 8:
			return "double"
		case x.Float && x.Size == 4:
			return "float"
		case x.Char && x.Size == 1:
			return "char"
		case x.Name == "wchar_t":
			return "wchar_t"
		case x.Name == "bool":
			return "bool"
		case x.Signed:
			return fmt.Sprintf("int%d_t", 8*x.Size)
		default:
			return fmt.Sprintf("uint%d_t", 8*x.Size)
		}
	case ctype.Enum:
		return rizinSpelling(x.Elem, depth+1)
	case ctype.Struct, ctype.Union:
		if x.Name == "" {
			return ""
		}
		return x.Kind.String() + " " + x.Name
	case ctype.Pointer:
		if e := rizinSpelling(x.Elem, depth+1); e != "" {
			return strings.TrimSuffix(e, " ") + " *"
		}
	}
	return ""
}

var (
	reRzGrepAo   = regexp.MustCompile(`^!rz-bin -P \$\{RZ_FILE\} \| grep -ao "?(.*?)"?$`)
	reRzGrepType = regexp.MustCompile(`^!rz-bin -P \$\{RZ_FILE\} \| grep (\w+) \| grep -ao (\w+)$`)
	reRzFuncPtr  = regexp.MustCompile(`^(\w+) \((\*+)(\w+)\)\(\);$`)
)

// findMember finds a data member by name in any named type.
func findMember(ty *Types, name string) (ctype.Field, bool) {
	var f ctype.Field
	var found bool
	ty.TypeNames(func(n string) bool {
		x, _ := ty.Type(n)
		for _, g := range x.Fields {
			if g.Name == name {
				f, found = g, true
				return false
			}
		}
		return true
	})
	return f, found
}

// TestTypesRizinOracle runs the type cases of rizin's formats/pdb test
// DB: names, members, member types and enumerators that `rz-bin -P`
// prints for Project1.pdb and vs2019_cpp_override.pdb, the enumerator
// count of CV_HREG_e (an LF_INDEX chain) and the members of _NT_TIB and
// _TP_CALLBACK_ENVIRON_V3 in exceptions-test.pdb.
func TestTypesRizinOracle(t *testing.T) {
	cases := readRizinDB(t, fixture.Corpus(t, "rizin-pdb/oracle-test-db/formats_pdb"))
	types := map[string]*Types{}
	get := func(file string) *Types {
		if base, ok := strings.CutSuffix(file, ".exe"); ok {
			file = base + ".pdb"
		}
		if types[file] == nil {
			types[file] = openTypes(t, "rizin-pdb/"+strings.TrimPrefix(file, "bins/"))
		}
		return types[file]
	}
	var n int
	for _, c := range cases {
		switch {
		case c.file == "bins/pdb/Project1.pdb" || c.file == "bins/pdb/vs2019_cpp_override.pdb":
			ty := get(c.file)
			if m := reRzGrepType.FindStringSubmatch(c.cmds); m != nil {
				f, ok := findMember(ty, m[1])
				if !ok || rizinSpelling(f.Type, 0) != c.expect {
					t.Errorf("%s: member %s: %v (%q), want %s", c.name, m[1], f.Type, rizinSpelling(f.Type, 0), c.expect)
				}
				n++
			} else if m := reRzGrepAo.FindStringSubmatch(c.cmds); m != nil {
				tok := strings.ReplaceAll(m[1], `\`, "")
				if tok != c.expect {
					t.Fatalf("%s: cannot read the case (%q, %q)", c.name, tok, c.expect)
				}
				if !rizinHas(ty, tok) {
					t.Errorf("%s: %q not found", c.name, tok)
				}
				n++
			}
		case c.name == "LF_INDEX parsing":
			m := regexp.MustCompile(`te (\w+)~\?`).FindStringSubmatch(c.cmds)
			want, err := strconv.Atoi(strings.TrimSpace(c.expect))
			if m == nil || err != nil {
				t.Fatalf("%s: cannot read the case", c.name)
			}
			if x := mustType(t, get(c.file), m[1]); len(x.Enumerators) != want {
				t.Errorf("%s: %d enumerators, want %d", m[1], len(x.Enumerators), want)
			}
			n++
		case c.name == "Type redefinition":
			// The last block of each name is the PDB's (the first
			// _NT_TIB is rizin's built-in one).
			for name, decls := range rizinStructs(c.expect) {
				x := mustType(t, get(c.file), name)
				fields := dataFields(x)
				if len(fields) != len(decls) {
					t.Errorf("%s: %d fields, want %d", name, len(fields), len(decls))
					continue
				}
				for i, d := range decls {
					f := fields[i]
					if !strings.Contains(d, f.Name) || !regexp.MustCompile(`\b`+f.Name+`\b`).MatchString(d) {
						t.Errorf("%s: field %d is %s, want %q", name, i, f.Name, d)
					}
					if sp := rizinSpelling(f.Type, 0); sp != "" && !strings.HasPrefix(d, sp) {
						t.Errorf("%s.%s: %q, want %q", name, f.Name, sp, d)
					}
				}
				n++
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d type cases read from the rizin test DB", n)
	}
	t.Logf("%d rizin type cases agree", n)
}

// rizinStructs reads `struct NAME {` … `};` blocks: member declarations
// by structure name, the last block of a name winning.
func rizinStructs(text string) map[string][]string {
	out := map[string][]string{}
	var name string
	var decls []string
	for _, l := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(l, "struct ") && strings.HasSuffix(l, " {"):
			name, decls = strings.TrimSuffix(strings.TrimPrefix(l, "struct "), " {"), nil
		case l == "};" && name != "":
			out[name] = decls
			name = ""
		case name != "":
			decls = append(decls, strings.TrimSuffix(strings.TrimSpace(l), ";"))
		}
	}
	return out
}

// rizinHas reports whether tok, a word rz-bin -P prints, is in ty: a type
// name ("R2_TEST_STRUCT", "struct CTest2"), a member or enumerator name,
// or a function-pointer member declaration ("void (**_first)();").
func rizinHas(ty *Types, tok string) bool {
	if m := reRzFuncPtr.FindStringSubmatch(tok); m != nil {
		f, ok := findMember(ty, m[3])
		if !ok {
			return false
		}
		x := f.Type
		for range len(m[2]) {
			if x.Kind != ctype.Pointer {
				return false
			}
			x = x.Elem
		}
		return x.Kind == ctype.Function && x.Elem != nil && rizinSpelling(x.Elem, 0) == m[1]
	}
	if kind, name, ok := strings.Cut(tok, " "); ok {
		x, found := ty.Type(name)
		return found && (x.Kind.String() == kind || kind == "class" && x.Kind == ctype.Struct)
	}
	if _, ok := ty.Type(tok); ok {
		return true
	}
	var found bool
	ty.TypeNames(func(n string) bool {
		x, _ := ty.Type(n)
		for _, f := range x.Fields {
			found = found || f.Name == tok
		}
		for _, e := range x.Enumerators {
			found = found || e.Name == tok
		}
		return !found
	})
	return found
}

// TestTypesVS2019 checks the C++ cases of vs2019_cpp_override.pdb:
// LF_STRUCTURE2 records, base classes and enumerators.
func TestTypesVS2019(t *testing.T) {
	ty := openTypes(t, "rizin-pdb/pdb/vs2019_cpp_override.pdb")
	ot := mustType(t, ty, "_onexit_table_t")
	if ot.Kind != ctype.Struct || ot.Size != 12 || len(ot.Fields) != 3 || ot.Fields[0].Name != "_first" {
		t.Fatalf("_onexit_table_t: %v size %d %+v", ot.Kind, ot.Size, ot.Fields)
	}
	if f := ot.Fields[0].Type; f.Kind != ctype.Pointer || f.Size != 4 || f.Elem.Kind != ctype.Pointer || f.Elem.Elem.Kind != ctype.Function ||
		f.Elem.Elem.Elem == nil || f.Elem.Elem.Elem.Kind != ctype.Void {
		t.Errorf("_onexit_table_t._first: %v", f)
	}
	e := mustType(t, ty, "_RTC_ErrorNumber")
	if !slices.ContainsFunc(e.Enumerators, func(e ctype.Enumerator) bool { return e.Name == "_RTC_ILLEGAL" }) {
		t.Errorf("_RTC_ErrorNumber: %v", e.Enumerators)
	}
	c := mustType(t, ty, "CTest2")
	i := slices.IndexFunc(c.Fields, func(f ctype.Field) bool { return f.BaseClass })
	if i < 0 || c.Fields[i].Type.Kind != ctype.Struct || c.Fields[i].Name != c.Fields[i].Type.Name || c.Fields[i].Type.Incomplete {
		t.Errorf("CTest2: no base class in %+v", c.Fields)
	}
}

// TestTypesCorpus reads the types of every PDB of the corpus and walks
// every named type: nothing may fail or panic.
func TestTypesCorpus(t *testing.T) {
	corpus := fixture.CorpusDir(t)
	var n, names int
	odd := map[string]int{}
	filepath.WalkDir(corpus, func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.EqualFold(filepath.Ext(p), ".pdb") {
			return nil
		}
		f, err := Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		n++
		exerciseTypes(f)
		if ty, err := f.Types(); err == nil {
			ty.TypeNames(func(name string) bool {
				names++
				x, _ := ty.Type(name)
				for _, fl := range x.Fields {
					if e := fl.Type; e.Kind == ctype.Base && strings.HasPrefix(e.Name, "<") ||
						e.Kind == ctype.Pointer && e.Elem.Kind == ctype.Base && strings.HasPrefix(e.Elem.Name, "<") {
						odd[e.String()]++
					}
				}
				return true
			})
		}
		return nil
	})
	if n == 0 {
		t.Skip("no PDBs in the corpus")
	}
	t.Logf("%d PDBs, %d type names; members of unmodelled types: %v", n, names, odd)
}

// exerciseTypes reads f's types, looks up names and walks their members
// a few levels deep; the fuzz target calls it.
func exerciseTypes(f *File) {
	ty, err := f.Types()
	if err != nil {
		return
	}
	var walk func(x *ctype.Type, depth int)
	walk = func(x *ctype.Type, depth int) {
		if x == nil || depth > 3 {
			return
		}
		_ = x.String()
		walk(x.Elem, depth+1)
		for _, fl := range x.Fields {
			walk(fl.Type, depth+1)
		}
	}
	var names int
	ty.TypeNames(func(n string) bool {
		x, _ := ty.Type(n)
		walk(x, 0)
		names++
		return names < 2000
	})
	for _, ti := range []uint32{0, 3, 0x74, 0x603, 0xfff, 0x1000, 0x1001, 0x1002, 0x1010, 0x1100, 0xffffffff} {
		walk(ty.ByIndex(ti), 0)
	}
	ty.Type("")
	if tab, err := f.Table(); err == nil {
		tab.Types()
	}
}

// tpiBuilder writes CodeView type records by hand, from the spec.
type tpiBuilder struct{ recs bytes.Buffer }

// rec appends one record: kind, then parts (uint8, uint16, uint32,
// strings NUL-terminated, []byte raw), padded to 4 bytes with LF_PADn.
func (b *tpiBuilder) rec(kind uint16, parts ...any) {
	body := binary.LittleEndian.AppendUint16(nil, kind)
	body = appendParts(body, parts...)
	for len(body)%4 != 2 { // the u16 length is not in the record
		body = append(body, 0xf0+byte(4-(len(body)+2)%4))
	}
	b.recs.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(body))))
	b.recs.Write(body)
}

func appendParts(b []byte, parts ...any) []byte {
	for _, p := range parts {
		switch v := p.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = binary.LittleEndian.AppendUint16(b, v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		case string:
			b = append(append(b, v...), 0)
		case []byte:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("part %T", p))
		}
	}
	return b
}

// stream returns the TPI stream: a TpiStreamHeader (version V80,
// header size 56, TypeIndexBegin 0x1000, TypeIndexEnd, record bytes,
// then hash fields left zero) and the records.
func (b *tpiBuilder) stream(n uint32) []byte {
	h := appendParts(nil, uint32(20040203), uint32(56), uint32(0x1000), uint32(0x1000)+n, uint32(b.recs.Len()))
	h = append(h, make([]byte, 56-len(h))...)
	return append(h, b.recs.Bytes()...)
}

// buildMSF lays streams out in an MSF 7.00 file of 512-byte blocks:
// SuperBlock in block 0, the block map in block 3, the directory in 4,
// the streams from block 5 on.
func buildMSF(streams [][]byte) []byte {
	const bs = 512
	var dir []byte
	dir = binary.LittleEndian.AppendUint32(dir, uint32(len(streams)))
	for _, s := range streams {
		dir = binary.LittleEndian.AppendUint32(dir, uint32(len(s)))
	}
	next := uint32(5)
	var data []byte
	for _, s := range streams {
		for off := 0; off < len(s); off += bs {
			dir = binary.LittleEndian.AppendUint32(dir, next)
			next++
			blk := make([]byte, bs)
			copy(blk, s[off:])
			data = append(data, blk...)
		}
	}
	if len(dir) > bs {
		panic("directory too big")
	}
	file := make([]byte, 5*bs)
	copy(file, msfMagic)
	binary.LittleEndian.PutUint32(file[32:], bs)
	binary.LittleEndian.PutUint32(file[36:], 1) // free block map block
	binary.LittleEndian.PutUint32(file[40:], next)
	binary.LittleEndian.PutUint32(file[44:], uint32(len(dir)))
	binary.LittleEndian.PutUint32(file[52:], 3)
	binary.LittleEndian.PutUint32(file[3*bs:], 4)
	copy(file[4*bs:], dir)
	return append(file, data...)
}

// TestTypesSynthetic reads a hand-written TPI stream: a structure that
// points to itself through a forward reference, a bitfield, a const
// pointer member reached through an LF_INDEX continuation that loops
// back, an array of itself, a modifier of itself and a field list that
// continues into itself. Every lookup must end and the forward
// references must resolve.
func TestTypesSynthetic(t *testing.T) {
	const (
		fwdRef     = uint16(0x80)
		uniqueName = uint16(0x200)
		public     = uint16(3)
	)
	var b tpiBuilder
	// 0x1000 struct node; (forward reference)
	b.rec(0x1505, uint16(0), fwdRef|uniqueName, uint32(0), uint32(0), uint32(0), uint16(0), "node", ".?AUnode@@")
	// 0x1001 node * (64-bit pointer, size 8 in bits 13-18)
	b.rec(0x1002, uint32(0x1000), uint32(0x0c|8<<13))
	// 0x1002 int v : 3 at bit 0
	b.rec(0x1205, uint32(0x74), uint8(3), uint8(0))
	// 0x1003 field list: next, v, continued in 0x1005
	b.rec(0x1203,
		uint16(0x150d), public, uint32(0x1001), uint16(0), "next", []byte{0xf2, 0xf1},
		uint16(0x150d), public, uint32(0x1002), uint16(8), "v", []byte{0xf1},
		uint16(0x1404), uint16(0), uint32(0x1005))
	// 0x1004 struct node { … } size 16
	b.rec(0x1505, uint16(3), uniqueName, uint32(0x1003), uint32(0), uint32(0), uint16(16), "node", ".?AUnode@@")
	// 0x1005 field list: node *const cnext @12; continues back in 0x1003
	b.rec(0x1203,
		uint16(0x150d), public, uint32(0x1006), uint16(12), "cnext", []byte{0xf3, 0xf2, 0xf1},
		uint16(0x1404), uint16(0), uint32(0x1003))
	// 0x1006 const (node *)
	b.rec(0x1001, uint32(0x1001), uint16(1))
	// 0x1007 an array of itself, 16 bytes
	b.rec(0x1503, uint32(0x1007), uint32(0x23), uint16(16), "")
	// 0x1008 const of itself
	b.rec(0x1001, uint32(0x1008), uint16(1))
	// 0x1009 struct loop { arr; mod; } size 16, its list 0x100a
	b.rec(0x1505, uint16(2), uint16(0), uint32(0x100a), uint32(0), uint32(0), uint16(16), "loop")
	// 0x100a field list that continues into itself
	b.rec(0x1203,
		uint16(0x150d), public, uint32(0x1007), uint16(0), "arr", []byte{0xf3, 0xf2, 0xf1},
		uint16(0x150d), public, uint32(0x1008), uint16(0), "mod", []byte{0xf2, 0xf1},
		uint16(0x1404), uint16(0), uint32(0x100a))
	// 0x100b struct ghost; (a forward reference with no definition)
	b.rec(0x1505, uint16(0), fwdRef, uint32(0), uint32(0), uint32(0), uint16(0), "ghost")
	// 0x100c an unknown leaf
	b.rec(0x1777, uint32(0))
	const n = 13

	info := appendParts(nil, uint32(20000404), uint32(1), uint32(1), make([]byte, 16), uint32(0))
	pdb := buildMSF([][]byte{nil, info, b.stream(n)})
	f, err := NewFile(bytes.NewReader(pdb), int64(len(pdb)))
	if err != nil {
		t.Fatal(err)
	}
	ty, err := f.Types()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := f.Types(); again != ty {
		t.Error("Types is not memoised")
	}
	if tab, err := f.Table(); err == nil { // no DBI here: usually an error
		if src, err := tab.Types(); err != nil || src != ctype.Source(ty) {
			t.Errorf("Table.Types = %v, %v", src, err)
		}
	}
	var names []string
	ty.TypeNames(func(n string) bool { names = append(names, n); return true })
	if !slices.Equal(names, []string{"ghost", "loop", "node"}) {
		t.Errorf("TypeNames = %v", names)
	}

	node := mustType(t, ty, "node")
	if node.Kind != ctype.Struct || node.Size != 16 || node.Incomplete {
		t.Fatalf("node: %v size %d incomplete %v", node.Kind, node.Size, node.Incomplete)
	}
	if ty.ByIndex(0x1000) != node || ty.ByIndex(0x1004) != node {
		t.Error("the forward reference does not resolve to the definition")
	}
	var got []string
	for _, f := range node.Fields {
		got = append(got, fmt.Sprintf("%s@%d:%d:%d %s", f.Name, f.Offset, f.BitOffset, f.BitSize, f.Type))
	}
	want := []string{"next@0:0:0 struct node *", "v@8:0:3 int", "cnext@12:0:0 struct node *const"}
	if !slices.Equal(got, want) {
		t.Errorf("node fields\n got %q\nwant %q", got, want)
	}
	if p := node.Fields[0].Type; p.Size != 8 || p.Elem != node {
		t.Errorf("next: size %d elem %p, want 8 and %p", p.Size, p.Elem, node)
	}
	if p := node.Fields[2].Type; !p.Const || p.Kind != ctype.Pointer || p.Elem != node {
		t.Errorf("cnext: %+v", p)
	}

	loop := mustType(t, ty, "loop")
	if len(loop.Fields) != 2 {
		t.Fatalf("loop: %+v", loop.Fields)
	}
	if a := loop.Fields[0].Type; a.Kind != ctype.Array || a.Elem != a {
		t.Errorf("arr: %+v", a)
	}
	_ = loop.String() + loop.Fields[0].Type.String() + loop.Fields[1].Type.String()

	if g := mustType(t, ty, "ghost"); !g.Incomplete || g.Kind != ctype.Struct {
		t.Errorf("ghost: %+v", g)
	}
	if u := ty.ByIndex(0x100c); u.Kind != ctype.Base || !strings.HasPrefix(u.Name, "<LF_") {
		t.Errorf("unknown leaf: %+v", u)
	}
	if x := ty.ByIndex(0x2000); x.Kind != ctype.Base {
		t.Errorf("missing index: %+v", x)
	}
	for _, c := range []struct {
		ti   uint32
		want string
		size uint64
	}{
		{0x0003, "void", 0}, {0x0022, "unsigned long", 4}, {0x0071, "wchar_t", 2}, {0x0013, "__int64", 8},
		{0x0077, "unsigned __int64", 8}, {0x0040, "float", 4}, {0x0041, "double", 8}, {0x0008, "HRESULT", 4},
		{0x0030, "bool", 1}, {0x0070, "char", 1}, {0x0603, "void *", 8}, {0x0474, "int *", 4},
	} {
		if x := ty.ByIndex(c.ti); x.String() != c.want || x.Size != c.size {
			t.Errorf("%#x: %q size %d, want %q size %d", c.ti, x.String(), x.Size, c.want, c.size)
		}
	}
	if x := ty.ByIndex(0x22); x.Signed {
		t.Error("unsigned long is signed")
	}

	// The same file cut short anywhere, and with record bytes flipped,
	// still reads without panicking.
	for cut := len(pdb) - 1; cut > 5*512; cut -= 7 {
		if g, err := NewFile(bytes.NewReader(pdb[:cut]), int64(cut)); err == nil {
			exerciseTypes(g)
		} else if fe := (*FormatError)(nil); !errors.As(err, &fe) && !errors.Is(err, ErrUnrecognized) {
			t.Fatal(err)
		}
	}
}

// TestTypesConcurrent builds types from several goroutines at once (run
// with -race).
func TestTypesConcurrent(t *testing.T) {
	f, err := Open(fixture.Corpus(t, "rizin-pdb/pdb/exceptions-test.pdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	done := make(chan *Types)
	for range 4 {
		go func() {
			ty, err := f.Types()
			if err != nil {
				done <- nil
				return
			}
			ty.TypeNames(func(n string) bool {
				x, _ := ty.Type(n)
				for _, fl := range x.Fields {
					_ = fl.Type.String()
				}
				return true
			})
			done <- ty
		}()
	}
	var first *Types
	for range 4 {
		ty := <-done
		if ty == nil || first != nil && ty != first {
			t.Fatal("Types differ between goroutines")
		}
		first = ty
	}
	first.TypeNames(func(n string) bool { names = append(names, n); return true })
	if len(names) == 0 {
		t.Fatal("no names")
	}
}
