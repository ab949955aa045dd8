package console

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/symbols"
	"github.com/crashbench/crashbench/core/symbols/ctype"
)

// TypeResolver is the symbols capability dt needs: a module's types.
// *symbols.Set implements it.
type TypeResolver interface {
	Types(module string) (ctype.Source, error)
	Loaded(module string) bool
}

func typeCommands() []Command {
	return []Command{
		{Names: []string{"dt"}, Group: GroupSymbols, Usage: "dt [-r[N]] [module!]Type [address]", Summary: "show a structure's layout, or its fields' values at an address",
			Help: "Types come from the module's PDB (TPI records) or DWARF (ELF modules and their debug files). `dt nt!_EPROCESS` lists the fields with their offsets; with an address, their values (`dt crash!_EXCEPTION_RECORD @rcx`). " +
				"-r expands embedded structures (-r2: two levels; -r alone: up to 8). A pattern with * lists matching type names (`dt crash!_EXC*`). " +
				"Without module!, the modules whose symbols are already loaded are searched.",
			Run: runDt},
	}
}

// GlobalResolver is the symbols capability dt module!variable needs: a
// global variable's type and address. *symbols.Set implements it.
type GlobalResolver interface {
	Global(module, name string) (*ctype.Type, uint64, bool)
}

// dtMaxDepth bounds -r without a number.
const dtMaxDepth = 8

func runDt(_ context.Context, env Env, inv *Invocation, out Output) error {
	const usage = "dt [-r[N]] [module!]Type [address]"
	tr, ok := env.Symbols().(TypeResolver)
	if env.Symbols() == nil || !ok {
		return &NotSupportedError{What: "no type information: this dump has no symbols"}
	}
	depth := 0
	var args []string
	for _, t := range inv.Tokens {
		if strings.HasPrefix(t, "-r") {
			depth = dtMaxDepth
			if n, err := strconv.Atoi(t[2:]); err == nil && n >= 0 {
				depth = n
			} else if t != "-r" {
				return usageErr(inv, usage, "bad -r level "+t)
			}
			continue
		}
		if strings.HasPrefix(t, "-") && len(args) == 0 {
			return usageErr(inv, usage, "option "+t+" is not supported")
		}
		args = append(args, t)
	}
	if len(args) == 0 || len(args) > 2 {
		return usageErr(inv, usage, "")
	}
	mod, name, hasMod := strings.Cut(args[0], "!")
	if !hasMod {
		mod, name = "", args[0]
	}
	if name == "" {
		return usageErr(inv, usage, "")
	}
	if strings.ContainsAny(name, "*?") {
		return listTypes(env, tr, mod, name, out)
	}
	d := dtWriter{ptr: ptrOf(env), out: out, describe: func(a uint64) string { return symbolize(env, a) }}
	t, modName, err := findType(env, tr, mod, name)
	var at *uint64
	if err != nil {
		// dt module!variable: a global's type, at its address.
		gt, ok := env.Symbols().(GlobalResolver)
		if !ok || mod == "" || len(args) == 2 {
			return err
		}
		vt, a, found := gt.Global(mod, name)
		if !found {
			return err
		}
		t, modName, at = vt, symbols.ShortName(mod), &a
	}
	if len(args) == 2 || at != nil {
		var a uint64
		if at != nil {
			a = *at
		} else if a, err = Eval(args[1], NewEvalEnv(env)); err != nil {
			return err
		}
		m, err := memory(env)
		if err != nil {
			return err
		}
		d.mem = m
		if _, ok := d.read(a, 1); !ok {
			return fmt.Errorf("Memory read error %s: the dump does not hold it", FormatAddr(a, d.ptr))
		}
		if at != nil {
			out.Text(fmt.Sprintf("%s!%s (%s) at %s\n", modName, name, d.name(t), FormatAddr(a, d.ptr)))
		} else {
			out.Text(fmt.Sprintf("%s!%s at %s\n", modName, name, FormatAddr(a, d.ptr)))
		}
		d.value(t, a, depth, 1)
		return nil
	}
	d.layout(t, depth, 1)
	return nil
}

// findType looks name up in mod, or in every module whose symbols are
// loaded when mod is "".
func findType(env Env, tr TypeResolver, mod, name string) (*ctype.Type, string, error) {
	if mod != "" {
		src, err := tr.Types(mod)
		if err != nil {
			if errors.Is(err, symbols.ErrUnknownModule) {
				return nil, "", fmt.Errorf("Couldn't resolve error at '%s!%s': no module named %s", mod, name, mod)
			}
			return nil, "", &NotSupportedError{What: err.Error()}
		}
		t, ok := src.Type(name)
		if !ok {
			return nil, "", fmt.Errorf("Symbol %s!%s not found", mod, name)
		}
		return t, symbols.ShortName(mod), nil
	}
	mods, _ := modules(env)
	for _, m := range mods {
		if m.Unloaded || !tr.Loaded(m.Name()) {
			continue
		}
		src, err := tr.Types(m.Name())
		if err != nil {
			continue
		}
		if t, ok := src.Type(name); ok {
			return t, symbols.ShortName(m.Name()), nil
		}
	}
	return nil, "", fmt.Errorf("Symbol %s not found in the modules whose symbols are loaded; name the module: dt module!%s", name, name)
}

// listTypes prints the type names matching a wildcard pattern.
func listTypes(env Env, tr TypeResolver, mod, pattern string, out Output) error {
	mods, _ := modules(env)
	var names []string
	found := false
	for _, m := range mods {
		if m.Unloaded {
			continue
		}
		short := symbols.ShortName(m.Name())
		if mod == "" && !tr.Loaded(m.Name()) || mod != "" && !symbols.Match(mod, m.Name()) && !symbols.Match(mod, short) {
			continue
		}
		found = true
		src, err := tr.Types(m.Name())
		if err != nil {
			continue
		}
		for n := range src.TypeNames {
			if symbols.Match(pattern, n) {
				names = append(names, short+"!"+n)
			}
		}
	}
	if mod != "" && !found {
		return fmt.Errorf("Couldn't resolve error at '%s!%s': no module named %s", mod, pattern, mod)
	}
	slices.Sort(names)
	for _, n := range names {
		out.Text("          " + n + "\n")
	}
	if len(names) == 0 {
		out.Text("No types match " + pattern + "\n")
	}
	return nil
}

// dtWriter prints types the way WinDbg's dt does.
type dtWriter struct {
	ptr      int
	mem      mem.Space
	out      Output
	describe func(addr uint64) string // module!symbol+off, "" when unknown
}

// layout prints t's fields (or enumerators), indent levels deep, expanding
// embedded structures depth more levels.
func (d dtWriter) layout(t *ctype.Type, depth, indent int) {
	u := t.Underlying()
	switch {
	case u == nil:
		return
	case u.Kind == ctype.Enum:
		for _, e := range u.Enumerators {
			d.out.Text(fmt.Sprintf("%s%s = 0n%d\n", pad(indent), e.Name, e.Value))
		}
		return
	case u.Kind != ctype.Struct && u.Kind != ctype.Union:
		d.out.Text(fmt.Sprintf("%s%s, %d bytes\n", pad(indent), d.name(u), u.Size))
		return
	case u.Incomplete:
		d.out.Text(pad(indent) + d.name(u) + ": only declared, no definition in the symbols\n")
		return
	}
	for _, f := range u.Fields {
		d.out.Text(fieldHead(f, indent) + d.fieldType(f) + "\n")
		if ft := f.Type.Underlying(); depth > 0 && f.BitSize == 0 && ft != nil && (ft.Kind == ctype.Struct || ft.Kind == ctype.Union) {
			d.layout(ft, depth-1, indent+1)
		}
	}
}

// value prints the fields of t at address a with their values.
func (d dtWriter) value(t *ctype.Type, a uint64, depth, indent int) {
	u := t.Underlying()
	if u == nil || (u.Kind != ctype.Struct && u.Kind != ctype.Union) || u.Incomplete {
		d.out.Text(pad(indent) + d.scalar(t, a) + "\n")
		return
	}
	for _, f := range u.Fields {
		fa := a + f.Offset
		var v string
		ft := f.Type.Underlying()
		switch {
		case f.BitSize > 0:
			v = d.bits(f, fa)
		case ft != nil && (ft.Kind == ctype.Struct || ft.Kind == ctype.Union):
			v = d.name(f.Type)
			if ft.Name == "_LIST_ENTRY" || ft.Name == "LIST_ENTRY" {
				v += " " + d.listEntry(fa)
			} else if ft.Name == "_UNICODE_STRING" || ft.Name == "UNICODE_STRING" {
				v += " " + d.unicodeString(ft, fa)
			}
		default:
			v = d.scalar(f.Type, fa)
		}
		d.out.Text(fieldHead(f, indent) + v + "\n")
		if depth > 0 && f.BitSize == 0 && ft != nil && (ft.Kind == ctype.Struct || ft.Kind == ctype.Union) {
			d.value(ft, fa, depth-1, indent+1)
		}
	}
}

func pad(indent int) string { return strings.Repeat("   ", indent) }

// fieldHead is "   +0x018 Name             : ".
func fieldHead(f ctype.Field, indent int) string {
	return fmt.Sprintf("%s+0x%03x %-16s : ", pad(indent), f.Offset, f.Name)
}

// fieldType is a field's type as dt shows it; bitfields by position.
func (d dtWriter) fieldType(f ctype.Field) string {
	if f.BitSize > 0 {
		s := "s"
		if f.BitSize == 1 {
			s = ""
		}
		return fmt.Sprintf("Pos %d, %d Bit%s", f.BitOffset, f.BitSize, s)
	}
	return d.name(f.Type)
}

// name spells a type as dt does: Uint4B, Ptr64 _LIST_ENTRY, [16] UChar.
func (d dtWriter) name(t *ctype.Type) string { return d.nameDepth(t, 0) }

func (d dtWriter) nameDepth(t *ctype.Type, depth int) string {
	if t == nil || depth > 16 {
		return "?"
	}
	switch t.Kind {
	case ctype.Void:
		return "Void"
	case ctype.Typedef:
		// A typedef of an anonymous structure (C's typedef struct
		// {...} sigset_t) is known by the typedef's name.
		if u := t.Underlying(); t.Name != "" && u != nil && u.Name == "" && (u.Kind == ctype.Struct || u.Kind == ctype.Union || u.Kind == ctype.Enum) {
			return t.Name
		}
		return d.nameDepth(t.Elem, depth+1)
	case ctype.Pointer:
		return fmt.Sprintf("Ptr%d %s", t.Size*8, d.nameDepth(t.Elem, depth+1))
	case ctype.Array:
		return fmt.Sprintf("[%d] %s", t.Count, d.nameDepth(t.Elem, depth+1))
	case ctype.Function:
		return "Function"
	case ctype.Struct, ctype.Union, ctype.Enum:
		if t.Name == "" {
			return "<unnamed-tag>"
		}
		return t.Name
	case ctype.Base:
		switch {
		case t.Name == "bool":
			return "Bool"
		case t.Float:
			return "Float"
		case t.Char && t.Size == 1 && t.Signed:
			return "Char"
		case t.Char && t.Size == 1:
			return "UChar"
		case t.Char && t.Size == 2:
			return "Wchar"
		case t.Signed:
			return fmt.Sprintf("Int%dB", t.Size)
		case t.Size > 0:
			return fmt.Sprintf("Uint%dB", t.Size)
		}
		return t.Name
	}
	return t.Name
}

// read reads n bytes at a; ok is false when any is unreadable.
func (d dtWriter) read(a uint64, n int) ([]byte, bool) {
	if n <= 0 || n > 4096 {
		return nil, false
	}
	b := make([]byte, n)
	got, err := d.mem.ReadMemory(b, a)
	return b, err == nil && got == n
}

// uint reads an n-byte little-endian unsigned value at a.
func (d dtWriter) uint(a uint64, n int) (uint64, bool) {
	b, ok := d.read(a, n)
	if !ok || n > 8 {
		return 0, false
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), true
}

// scalar formats the value of a non-aggregate type at a.
func (d dtWriter) scalar(t *ctype.Type, a uint64) string {
	u := t.Underlying()
	if u == nil {
		return "?"
	}
	switch u.Kind {
	case ctype.Pointer:
		v, ok := d.uint(a, int(u.Size))
		if !ok {
			return "??"
		}
		s := "0x" + FormatAddr(v, int(u.Size))
		if e := u.Elem.Underlying(); e != nil {
			s += " " + d.name(u.Elem)
			if e.Kind == ctype.Function && v != 0 && d.describe != nil {
				if sym := d.describe(v); sym != "" {
					s += " " + sym
				}
			}
			if e.Kind == ctype.Base && e.Char && e.Size <= 2 && v != 0 {
				if str, ok := d.cString(v, int(e.Size)); ok {
					s += " " + strconv.Quote(str)
				}
			}
		}
		return s
	case ctype.Array:
		e := u.Elem.Underlying()
		if e != nil && e.Kind == ctype.Base && e.Char && e.Size <= 2 && u.Count > 0 {
			if str, ok := d.charArray(a, u.Count, int(e.Size)); ok {
				return d.name(u) + " " + strconv.Quote(str)
			}
			return d.name(u) + " ??"
		}
		return d.name(u)
	case ctype.Enum:
		v, ok := d.uint(a, int(max(u.Size, 1)))
		if !ok {
			return "??"
		}
		sv := signExtend(v, int(u.Size))
		for _, e := range u.Enumerators {
			if e.Value == sv {
				return fmt.Sprintf("0n%d ( %s )", sv, e.Name)
			}
		}
		return fmt.Sprintf("0n%d", sv)
	case ctype.Base:
		if u.Size == 0 || u.Size > 8 {
			return d.name(u)
		}
		v, ok := d.uint(a, int(u.Size))
		if !ok {
			return "??"
		}
		switch {
		case u.Float && u.Size == 4:
			return strconv.FormatFloat(float64(math.Float32frombits(uint32(v))), 'g', -1, 32)
		case u.Float && u.Size == 8:
			return strconv.FormatFloat(math.Float64frombits(v), 'g', -1, 64)
		case u.Char:
			r := rune(v)
			if r < 0x20 || r == 0x7f || r > 0x10ffff {
				return fmt.Sprintf("0x%x ''", v)
			}
			return fmt.Sprintf("0x%x '%c'", v, r)
		case u.Signed:
			return fmt.Sprintf("0n%d", signExtend(v, int(u.Size)))
		}
		return fmt.Sprintf("0x%x", v)
	}
	return d.name(u)
}

func signExtend(v uint64, size int) int64 {
	if size <= 0 || size >= 8 {
		return int64(v)
	}
	shift := 64 - 8*size
	return int64(v<<shift) >> shift
}

// bits formats a bitfield's value in binary, as dt does (0y101).
func (d dtWriter) bits(f ctype.Field, a uint64) string {
	size := 4
	if u := f.Type.Underlying(); u != nil && u.Size > 0 && u.Size <= 8 {
		size = int(u.Size)
	}
	v, ok := d.uint(a, size)
	if !ok || f.BitSize > 64 {
		return "??"
	}
	v >>= f.BitOffset
	if f.BitSize < 64 {
		v &= 1<<f.BitSize - 1
	}
	s := strconv.FormatUint(v, 2)
	if n := int(f.BitSize); len(s) < n {
		s = strings.Repeat("0", n-len(s)) + s
	}
	return "0y" + s
}

// listEntry shows a LIST_ENTRY's links: [ 0xflink - 0xblink ].
func (d dtWriter) listEntry(a uint64) string {
	fl, ok1 := d.uint(a, d.ptr)
	bl, ok2 := d.uint(a+uint64(d.ptr), d.ptr)
	if !ok1 || !ok2 {
		return "[ ?? ]"
	}
	return fmt.Sprintf("[ 0x%s - 0x%s ]", FormatAddr(fl, d.ptr), FormatAddr(bl, d.ptr))
}

// unicodeString shows a UNICODE_STRING's text.
func (d dtWriter) unicodeString(t *ctype.Type, a uint64) string {
	var length, buf uint64
	var okLen, okBuf bool
	for _, f := range t.Fields {
		switch f.Name {
		case "Length":
			length, okLen = d.uint(a+f.Offset, 2)
		case "Buffer":
			buf, okBuf = d.uint(a+f.Offset, d.ptr)
		}
	}
	if !okLen || !okBuf {
		return "??"
	}
	if s, ok := d.charArray(buf, min(length/2, 2048), 2); ok {
		return strconv.Quote(s)
	}
	return "??"
}

// charArray reads n characters of size 1 or 2 at a, up to the first NUL.
func (d dtWriter) charArray(a, n uint64, size int) (string, bool) {
	n = min(n, 2048/uint64(size))
	b, ok := d.read(a, int(n)*size)
	if !ok {
		return "", false
	}
	var rs []rune
	for i := 0; i+size <= len(b); i += size {
		c := uint16(b[i])
		if size == 2 {
			c = binary.LittleEndian.Uint16(b[i:])
		}
		if c == 0 {
			break
		}
		rs = append(rs, rune(c))
	}
	return string(rs), true
}

// cString reads a NUL-terminated string at a (up to 256 characters).
func (d dtWriter) cString(a uint64, size int) (string, bool) {
	var rs []rune
	for i := 0; i < 256; i++ {
		c, ok := d.uint(a+uint64(i*size), size)
		if !ok {
			return string(rs), len(rs) > 0
		}
		if c == 0 {
			return string(rs), true
		}
		rs = append(rs, rune(c))
	}
	return string(rs), true
}
