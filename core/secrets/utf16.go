package secrets

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// minUTF16Run is the shortest UTF-16LE text searched: shorter runs of
// (character, 0) pairs are common in binary data and too short to hold
// any of the secrets with their anchors.
const minUTF16Run = 8

// segment maps a run of narrowed text back to its UTF-16LE bytes: the
// character at narrow offset n (from narrowOff on) is at wideOff+2(n-narrowOff).
type segment struct{ narrowOff, wideOff int }

// narrowUTF16 appends to dst each run in b of at least minUTF16Run
// printable ASCII characters stored as UTF-16LE (the byte, then 0),
// followed by a 0 byte so that no match joins two runs, and records
// where each run came from. Runs are looked for at both alignments.
//
// A run of minUTF16Run (8) characters covers 16 bytes and so always
// holds a whole 8-aligned word of four characters: only such words are
// looked at, eight bytes at a time, and a run is traced out from one.
// Binary data and zeroed pages rarely pass the first test (every other
// byte 0, the others not), which keeps this pass cheap.
func narrowUTF16(dst []byte, segs []segment, b []byte) ([]byte, []segment) {
	const odd, even = 0xff00ff00ff00ff00, 0x00ff00ff00ff00ff
	for p := 0; p+8 <= len(b); p += 8 {
		w := binary.LittleEndian.Uint64(b[p:])
		var c int // where the word's characters start
		switch {
		case w&odd == 0 && w&even != 0:
			c = p
		case w&even == 0 && w&odd != 0:
			c = p + 1
		default:
			continue
		}
		if !utf16Char(b, c) || !utf16Char(b, c+2) || !utf16Char(b, c+4) || !utf16Char(b, c+6) {
			continue
		}
		start := c
		for start >= 2 && utf16Char(b, start-2) {
			start -= 2
		}
		end := c + 8
		for utf16Char(b, end) {
			end += 2
		}
		if (end-start)/2 >= minUTF16Run {
			segs = append(segs, segment{len(dst), start})
			for k := start; k < end; k += 2 {
				dst = append(dst, b[k])
			}
			dst = append(dst, 0)
		}
		p = (end - 1) &^ 7 // the loop goes on with the word after the run's last byte
	}
	return dst, segs
}

// utf16Char reports whether b holds a printable ASCII character (or tab,
// CR, LF) in UTF-16LE at i.
func utf16Char(b []byte, i int) bool {
	if i+1 >= len(b) || b[i+1] != 0 {
		return false
	}
	c := b[i]
	return ' ' <= c && c <= '~' || c == '\t' || c == '\r' || c == '\n'
}

// wide returns the offset in the original buffer of the character at
// narrow offset n.
func (w *detectBuffers) wide(n int) int {
	i, found := slices.BinarySearchFunc(w.segs, n, func(s segment, n int) int { return cmp.Compare(s.narrowOff, n) })
	if !found {
		i--
	}
	s := w.segs[i]
	return s.wideOff + 2*(n-s.narrowOff)
}
