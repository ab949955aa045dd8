package disasm

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/arch/arm64/arm64asm"
	"golang.org/x/arch/x86/x86asm"
)

// FormatAddr prints an address as WinDbg does: 64-bit values as two
// backtick-separated halves ("00007ff6`00001000") and 32-bit ones as eight
// digits. ptrSize is 4 or 8.
func FormatAddr(v uint64, ptrSize int) string {
	if ptrSize == 4 {
		return fmt.Sprintf("%08x", uint32(v))
	}
	return fmt.Sprintf("%08x`%08x", v>>32, uint32(v))
}

// Text formats the instruction in the given syntax. symname, which may be
// nil, names an address: it returns the symbol containing addr (for example
// "app!main") and that symbol's start. Branch targets and RIP-relative
// operands are printed as WinDbg prints them, "app!main+0x10
// (00007ff6`00001010)", or as the bare absolute address when symname has no
// name for them.
func (i Inst) Text(s Syntax, symname func(addr uint64) (name string, base uint64)) string {
	switch {
	case i.x86 != nil:
		return i.x86Text(s, symname)
	case i.arm != nil:
		return i.armText(symname)
	}
	return "???"
}

// symText is how an address appears inside an operand.
func symText(addr uint64, ptrSize int, symname func(uint64) (string, uint64)) string {
	abs := FormatAddr(addr, ptrSize)
	if symname == nil {
		return abs
	}
	name, base := symname(addr)
	if name == "" {
		return abs
	}
	if addr != base {
		name += fmt.Sprintf("+%#x", addr-base)
	}
	return name + " (" + abs + ")"
}

func (i Inst) x86Text(s Syntax, symname func(uint64) (string, uint64)) string {
	in := *i.x86
	ptr := 8
	if i.mode != 64 {
		ptr = 4
	}
	// Addresses x86asm may ask the callback about, and that must come out
	// absolute even without a symbol: branch targets and RIP-relative
	// memory operands.
	abs := map[uint64]bool{}
	for _, a := range in.Args {
		switch a := a.(type) {
		case x86asm.Rel:
			abs[i.Addr+uint64(in.Len)+uint64(int64(a))] = true
		case x86asm.Mem:
			if a.Base == x86asm.RIP || a.Base == x86asm.EIP {
				abs[i.Addr+uint64(in.Len)+uint64(a.Disp)] = true
			}
		}
	}
	// Symbol text is passed through x86asm as placeholders so that the
	// number rewriting below does not touch it.
	var subst []string
	cb := func(addr uint64) (string, uint64) {
		if !abs[addr] {
			if symname == nil {
				return "", 0
			}
			if name, _ := symname(addr); name == "" {
				return "", 0
			}
		}
		subst = append(subst, symText(addr, ptr, symname))
		return "\x00" + strconv.Itoa(len(subst)-1) + "\x00", addr
	}
	var t string
	if s == GNU {
		t = x86asm.GNUSyntax(in, i.Addr, cb)
	} else {
		t = winDbgNumbers(x86asm.IntelSyntax(in, i.Addr, cb))
		t = strings.ReplaceAll(t, ", ", ",")
		t = strings.ReplaceAll(t, ",ptr [", ",[")
		t = strings.TrimPrefix(t, "ptr [")
		// x86asm prints an absolute operand at address 0 as "[]".
		t = strings.ReplaceAll(t, "[]", "[0]")
		t = winDbgMnemonic(t)
	}
	t = strings.ReplaceAll(t, "$\x00", "\x00") // x86asm prefixes immediates' symbols with $
	for n, v := range subst {
		t = strings.Replace(t, "\x00"+strconv.Itoa(n)+"\x00", v, 1)
	}
	return t
}

// winDbgNumbers rewrites x86asm's 0x-prefixed constants the way WinDbg
// prints them: 8, 10h, 0FFFFFFF0h (upper case, h suffix, a leading 0 when
// the first digit is a letter).
func winDbgNumbers(t string) string {
	var b strings.Builder
	for k := 0; k < len(t); {
		if k+2 < len(t) && t[k] == '0' && t[k+1] == 'x' && (k == 0 || !isWord(t[k-1])) {
			j := k + 2
			for j < len(t) && isHex(t[j]) {
				j++
			}
			if j > k+2 {
				digits := strings.ToUpper(t[k+2 : j])
				v, err := strconv.ParseUint(digits, 16, 64)
				switch {
				case err == nil && v < 10:
					b.WriteString(digits[len(digits)-1:])
				default:
					if digits[0] > '9' {
						b.WriteByte('0')
					}
					b.WriteString(digits)
					b.WriteByte('h')
				}
				k = j
				continue
			}
		}
		b.WriteByte(t[k])
		k++
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isWord(c byte) bool {
	return isHex(c) || 'g' <= c && c <= 'z' || 'G' <= c && c <= 'Z' || c == '_'
}

func (i Inst) armText(symname func(uint64) (string, uint64)) string {
	in := *i.arm
	t := arm64asm.GNUSyntax(in)
	for _, a := range in.Args {
		rel, ok := a.(arm64asm.PCRel)
		if !ok {
			continue
		}
		target := i.Addr + uint64(int64(rel))
		if in.Op == arm64asm.ADRP {
			target = i.Addr&^0xfff + uint64(int64(rel))
		}
		t = strings.Replace(t, rel.String(), symText(target, 8, symname), 1)
	}
	t = strings.ReplaceAll(t, ", ", ",")
	return strings.ToLower(t[:mnemEnd(t)]) + t[mnemEnd(t):]
}

func mnemEnd(t string) int {
	if k := strings.IndexByte(t, ' '); k >= 0 {
		return k
	}
	return len(t)
}

// winDbgMnemonic renames x86asm's Intel condition codes to the ones WinDbg
// prints (jne rather than jnz, je rather than jz).
func winDbgMnemonic(t string) string {
	for _, r := range [...][2]string{{"jnz ", "jne "}, {"jz ", "je "}, {"cmovnz ", "cmovne "}, {"cmovz ", "cmove "}, {"setnz ", "setne "}, {"setz ", "sete "}} {
		if strings.HasPrefix(t, r[0]) {
			return r[1] + t[len(r[0]):]
		}
	}
	return t
}
