package msvc

import "strings"

// stringLiteral reads the rest of ??_C@_<type><length><crc>@<bytes>@
// and renders the literal as llvm-undname does: the text that the name
// still holds, quoted, with "..." when the mangling cut it short.
func (p *parser) stringLiteral() *symbol {
	if !p.eat("@_") {
		p.fail("expected @_ in a string literal")
		return nil
	}
	var wide bool
	switch p.next() {
	case '0':
	case '1':
		wide = true
	default:
		p.fail("bad string literal character type")
		return nil
	}
	size, neg := p.number()
	if p.err != nil {
		return nil
	}
	if neg || wide && size < 2 || size < 1 {
		p.fail("bad string literal length")
		return nil
	}
	i := strings.IndexByte(p.s, '@')
	if i < 0 {
		p.fail("unterminated string literal checksum")
		return nil
	}
	p.s = p.s[i+1:]
	if p.s == "" {
		p.fail("string literal without contents")
		return nil
	}
	var b strings.Builder
	prefix := `"`
	truncated := false
	if wide {
		prefix = `L"`
		truncated = size > 64
		for !p.eatByte('@') {
			if size%2 != 0 || size == 0 || len(p.s) < 2 {
				p.fail("bad wide string literal")
				return nil
			}
			hi := p.charLiteral()
			if p.err == nil && p.s == "" {
				p.fail("truncated wide character")
			}
			lo := p.charLiteral()
			if p.err != nil {
				return nil
			}
			if size != 2 || truncated {
				escapeChar(&b, uint32(hi)<<8|uint32(lo))
			}
			size -= 2
		}
	} else {
		var bytes []byte
		for !p.eatByte('@') {
			if p.s == "" || len(bytes) >= 128 {
				p.fail("bad string literal")
				return nil
			}
			c := p.charLiteral()
			if p.err != nil {
				return nil
			}
			bytes = append(bytes, c)
		}
		truncated = size > uint64(len(bytes))
		width := guessCharWidth(bytes, size)
		switch width {
		case 2:
			prefix = `u"`
		case 4:
			prefix = `U"`
		}
		n := len(bytes) / width
		for i := 0; i < n; i++ {
			var c uint32
			for j := 0; j < width; j++ {
				c |= uint32(bytes[i*width+j]) << (8 * j)
			}
			if i+1 < n || truncated {
				escapeChar(&b, c)
			}
		}
	}
	if p.err != nil {
		return nil
	}
	s := prefix + b.String() + `"`
	if truncated {
		s += "..."
	}
	return &symbol{kind: sString, str: s}
}

// guessCharWidth guesses from the bytes it holds whether a literal is of
// char, char16_t or char32_t, which the mangling does not say.
func guessCharWidth(b []byte, size uint64) int {
	if size%2 == 1 {
		return 1
	}
	if size < 32 {
		trailing := 0
		for i := len(b) - 1; i >= 0 && b[i] == 0; i-- {
			trailing++
		}
		if trailing >= 4 && size%4 == 0 {
			return 4
		}
		if trailing >= 2 {
			return 2
		}
		return 1
	}
	nulls := 0
	for _, c := range b {
		if c == 0 {
			nulls++
		}
	}
	if nulls >= 2*len(b)/3 && size%4 == 0 {
		return 4
	}
	if nulls >= len(b)/3 {
		return 2
	}
	return 1
}

// charLiteral decodes one character of a string literal: itself, ?$XY
// (two rebased hex digits), ?<digit> from a table of punctuation, or
// ?<letter> for the bytes 0xC1-0xDA and 0xE1-0xFA.
func (p *parser) charLiteral() byte {
	if !p.eatByte('?') {
		return p.next()
	}
	if p.s == "" {
		p.fail("bad character literal")
		return 0
	}
	if p.eatByte('$') {
		if len(p.s) < 2 || !isHexLetter(p.s[0]) || !isHexLetter(p.s[1]) {
			p.fail("bad character literal")
			return 0
		}
		c := (p.s[0]-'A')<<4 | (p.s[1] - 'A')
		p.s = p.s[2:]
		return c
	}
	c := p.s[0]
	p.s = p.s[1:]
	switch {
	case isDigit(c):
		return ",/\\:. \n\t'-"[c-'0']
	case c >= 'a' && c <= 'z':
		return 0xE1 + (c - 'a')
	case c >= 'A' && c <= 'Z':
		return 0xC1 + (c - 'A')
	}
	p.fail("bad character literal")
	return 0
}

func isHexLetter(c byte) bool { return c >= 'A' && c <= 'P' }

func escapeChar(b *strings.Builder, c uint32) {
	switch c {
	case 0:
		b.WriteString(`\0`)
	case '\'':
		b.WriteString(`\'`)
	case '"':
		b.WriteString(`\"`)
	case '\\':
		b.WriteString(`\\`)
	case '\a':
		b.WriteString(`\a`)
	case '\b':
		b.WriteString(`\b`)
	case '\f':
		b.WriteString(`\f`)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	case '\v':
		b.WriteString(`\v`)
	default:
		if c > 0x1f && c < 0x7f {
			b.WriteByte(byte(c))
			return
		}
		const hex = "0123456789ABCDEF"
		var digits []byte
		for c != 0 {
			digits = append(digits, hex[c>>4&0xf], hex[c&0xf])
			c >>= 8
		}
		b.WriteString(`\x`)
		for i := len(digits) - 2; i >= 0; i -= 2 {
			b.WriteByte(digits[i])
			b.WriteByte(digits[i+1])
		}
	}
}
