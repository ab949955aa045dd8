package lzo

import (
	"errors"
	"fmt"
)

// Sentinel errors; Decompress wraps them with offsets, so test them with
// errors.Is.
var (
	// ErrCorrupt reports a malformed block: an invalid instruction, a copy
	// reaching before the start of the output, an unknown bitstream version
	// or bytes after the end-of-stream marker.
	ErrCorrupt = errors.New("lzo: corrupt input")
	// ErrShortDst reports that the decoded data would not fit in dst.
	ErrShortDst = errors.New("lzo: output buffer too small")
	// ErrShortSrc reports that src ended before the end-of-stream marker.
	ErrShortSrc = errors.New("lzo: input truncated")
)

func fail(err error, ip, op int, why string) error {
	return fmt.Errorf("%w: %s (input offset %d, output offset %d)", err, why, ip, op)
}

// Decompress decodes the LZO1X block src into dst and returns the number of
// bytes written. The block must end with the end-of-stream marker exactly at
// the end of src. The error, if any, wraps ErrCorrupt, ErrShortDst or
// ErrShortSrc; dst[:n] then holds what was decoded before the failure.
func Decompress(dst, src []byte) (int, error) {
	ip, op := 0, 0
	version := 0
	if len(src) >= 5 && src[0] == 17 {
		version = int(src[1])
		if version > 1 {
			return 0, fail(ErrCorrupt, 1, 0, fmt.Sprintf("unknown bitstream version %d", version))
		}
		ip = 2
	}
	if ip >= len(src) {
		return 0, fail(ErrShortSrc, ip, op, "empty block")
	}
	state := 0
	if b := int(src[ip]); b > 17 {
		ip++
		t := b - 17
		if t > len(src)-ip {
			return op, fail(ErrShortSrc, ip, op, "literal run past end of input")
		}
		if t > len(dst)-op {
			return op, fail(ErrShortDst, ip, op, "literal run past end of output")
		}
		op += copy(dst[op:], src[ip:ip+t])
		ip += t
		state = min(t, 4)
	} else if b == 16 {
		return 0, fail(ErrCorrupt, ip, op, "first instruction copies from empty dictionary")
	}

	for {
		if ip >= len(src) {
			return op, fail(ErrShortSrc, ip, op, "missing end-of-stream marker")
		}
		start := ip
		b := int(src[ip])
		ip++
		var length, dist int
		switch {
		case b >= 64:
			// 1LLDDDSS: 5..8 bytes, or 01LDDDSS: 3..4 bytes; within 2 KiB.
			if ip >= len(src) {
				return op, fail(ErrShortSrc, start, op, "truncated instruction")
			}
			if b >= 128 {
				length = 5 + (b>>5)&3
			} else {
				length = 3 + (b>>5)&1
			}
			dist = int(src[ip])<<3 + (b>>2)&7 + 1
			ip++
			state = b & 3
		case b >= 32:
			// 001LLLLL + LE16: within 16 KiB.
			length = b & 31
			if length == 0 {
				var err error
				if length, ip, err = extLen(src, ip, 31, len(dst)); err != nil {
					return op, fail(err, start, op, "length extension")
				}
			}
			length += 2
			if len(src)-ip < 2 {
				return op, fail(ErrShortSrc, start, op, "truncated instruction")
			}
			v := int(src[ip]) | int(src[ip+1])<<8
			ip += 2
			dist = v>>2 + 1
			state = v & 3
		case b >= 16:
			// 0001HLLL + LE16: 16..48 KiB, end of stream, or (v1) zero run.
			h := (b & 8) << 11
			if version == 1 && h != 0 && len(src)-ip >= 2 && src[ip] >= 0xfc && src[ip+1] == 0xff {
				if len(src)-ip < 3 {
					return op, fail(ErrShortSrc, start, op, "truncated zero run")
				}
				state = int(src[ip]) & 3
				run := (int(src[ip+2])<<3 | b&7) + 4
				ip += 3
				if run > len(dst)-op {
					return op, fail(ErrShortDst, start, op, "zero run past end of output")
				}
				clear(dst[op : op+run])
				op += run
				break
			}
			length = b & 7
			if length == 0 {
				var err error
				if length, ip, err = extLen(src, ip, 7, len(dst)); err != nil {
					return op, fail(err, start, op, "length extension")
				}
			}
			length += 2
			if len(src)-ip < 2 {
				return op, fail(ErrShortSrc, start, op, "truncated instruction")
			}
			v := int(src[ip]) | int(src[ip+1])<<8
			ip += 2
			dist = 16384 + h + v>>2
			if dist == 16384 {
				if ip != len(src) {
					return op, fail(ErrCorrupt, ip, op, fmt.Sprintf("%d trailing byte(s) after end-of-stream marker", len(src)-ip))
				}
				return op, nil
			}
			state = v & 3
		default:
			// 0000XXXX: long literal run after state 0, else a short copy.
			if state == 0 {
				t := b
				if t == 0 {
					var err error
					if t, ip, err = extLen(src, ip, 15, len(dst)); err != nil {
						return op, fail(err, start, op, "length extension")
					}
				}
				t += 3
				if t > len(src)-ip {
					return op, fail(ErrShortSrc, start, op, "literal run past end of input")
				}
				if t > len(dst)-op {
					return op, fail(ErrShortDst, start, op, "literal run past end of output")
				}
				op += copy(dst[op:], src[ip:ip+t])
				ip += t
				state = 4
				continue
			}
			if ip >= len(src) {
				return op, fail(ErrShortSrc, start, op, "truncated instruction")
			}
			dist = int(src[ip])<<2 + (b>>2)&3 + 1
			ip++
			if state == 4 {
				length = 3
				dist += 2048
			} else {
				length = 2
			}
			state = b & 3
		}

		if length > 0 {
			if dist > op {
				return op, fail(ErrCorrupt, start, op, fmt.Sprintf("copy distance %d before start of output", dist))
			}
			if length > len(dst)-op {
				return op, fail(ErrShortDst, start, op, "copy past end of output")
			}
			from := op - dist
			if dist >= length {
				copy(dst[op:op+length], dst[from:from+length])
				op += length
			} else {
				// Overlapping copy: repeat the dist-byte pattern, doubling
				// the copied span each round.
				end := op + length
				for op < end {
					op += copy(dst[op:end], dst[from:op])
				}
			}
		}

		if state > 0 {
			if state > len(src)-ip {
				return op, fail(ErrShortSrc, ip, op, "trailing literals past end of input")
			}
			if state > len(dst)-op {
				return op, fail(ErrShortDst, ip, op, "trailing literals past end of output")
			}
			op += copy(dst[op:], src[ip:ip+state])
			ip += state
		}
	}
}

// extLen decodes a length extension starting at src[ip]: each zero byte adds
// 255, and the first non-zero byte adds its value plus base. The sum stops
// growing once past limit, so it cannot overflow: such a length cannot fit
// in the output anyway, and the caller reports that (unless the instruction
// turns out to be the end-of-stream marker, whose length is irrelevant).
func extLen(src []byte, ip, base, limit int) (int, int, error) {
	n := base
	for ip < len(src) {
		b := src[ip]
		ip++
		if b != 0 {
			return n + int(b), ip, nil
		}
		if n <= limit {
			n += 255
		}
	}
	return 0, ip, ErrShortSrc
}
