package container

import (
	"bytes"
	"encoding/binary"
	"io"
)

// headLen is how many leading bytes Detect and Pick look at: enough for
// every magic and for the ELF and Mach-O header fields that mark a core.
const headLen = 4096

// Detect reports which container, if any, r holds, judging only by its
// magic bytes. size is the length of r, or negative when unknown (a stream
// whose first bytes were peeked); with a known size a few more sanity
// checks apply.
//
// Recognised: gzip 1f 8b 08 with the reserved flag bits clear; xz
// fd 37 7a 58 5a 00; zstd 28 b5 2f fd, also behind skippable frames
// (5? 2a 4d 18) whose declared lengths are followed; bzip2 "BZh" + '1'..'9'
// + the block magic 31 41 59 26 53 59 or the end-of-stream magic
// 17 72 45 38 50 90 (an empty stream); zip "PK\x03\x04", an empty archive
// "PK\x05\x06", and a single-volume spanned archive whose "PK\x07\x08" or
// "PK00" marker precedes the first local header; cab "MSCF" with its
// reserved word zero and a cabinet size of at least a header.
func Detect(r io.ReaderAt, size int64) (Kind, bool) {
	var buf [64]byte
	n, _ := r.ReadAt(buf[:], 0)
	h := buf[:n]
	switch {
	case len(h) >= 4 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 && h[3]&0xe0 == 0:
		// FLG bits 5..7 are reserved and must be zero (RFC 1952 2.3.1.2).
		return Gzip, true
	case bytes.HasPrefix(h, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return XZ, true
	case isZstdFrame(h):
		return Zstd, true
	case isSkippable(h):
		if zstdBehindSkippable(r, size) {
			return Zstd, true
		}
	case len(h) >= 10 && h[0] == 'B' && h[1] == 'Z' && h[2] == 'h' && h[3] >= '1' && h[3] <= '9' &&
		(bytes.Equal(h[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) ||
			bytes.Equal(h[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90})):
		return Bzip2, true
	case bytes.HasPrefix(h, []byte("PK\x03\x04")),
		bytes.HasPrefix(h, []byte("PK\x05\x06")) && (size < 0 || size >= 22),
		bytes.HasPrefix(h, []byte("PK\x07\x08PK\x03\x04")),
		bytes.HasPrefix(h, []byte("PK00PK\x03\x04")):
		return Zip, true
	case len(h) >= 36 && bytes.HasPrefix(h, []byte("MSCF")) && binary.LittleEndian.Uint32(h[4:]) == 0:
		// cbCabinet must at least cover CFHEADER. It is not compared
		// with size: a truncated cabinet is still a cabinet, and Unpack
		// should say it is truncated rather than pass it on as a dump.
		if binary.LittleEndian.Uint32(h[8:]) >= 36 {
			return Cab, true
		}
	}
	return "", false
}

func isZstdFrame(h []byte) bool {
	return bytes.HasPrefix(h, []byte{0x28, 0xb5, 0x2f, 0xfd})
}

func isSkippable(h []byte) bool {
	return len(h) >= 8 && h[0]&0xf0 == 0x50 && h[1] == 0x2a && h[2] == 0x4d && h[3] == 0x18
}

// zstdBehindSkippable follows a chain of skippable frames (which lz4 and
// zstd both define, so the magic alone does not prove zstd) and reports
// whether a zstd frame comes after them. When the chain leads past what r
// can deliver and the size is unknown (a peeked stream head), it cannot be
// disproved and is accepted: the zstd decoder has the last word.
func zstdBehindSkippable(r io.ReaderAt, size int64) bool {
	var off int64
	var h [8]byte
	for range 16 {
		n, _ := r.ReadAt(h[:], off)
		switch {
		case n >= 4 && isZstdFrame(h[:n]):
			return true
		case n == 8 && isSkippable(h[:]):
			off += 8 + int64(binary.LittleEndian.Uint32(h[4:]))
			if size >= 0 && off > size {
				return false
			}
		case n < 4 && size < 0 && off > 0:
			return true
		default:
			return false
		}
	}
	return false
}

// looksLikeDump reports whether head starts like an (uncompressed) crash
// dump. Used by the default Pick.
func looksLikeDump(head []byte) bool {
	for _, m := range [...]string{
		"MDMP",             // Windows user-mode minidump
		"PAGEDU64",         // Windows 64-bit kernel dump
		"PAGEDUMP",         // Windows 32-bit kernel dump
		"KDUMP",            // makedumpfile compressed kdump ("KDUMP   ")
		"DISKDUMP",         // its predecessor, diskdump
		"makedumpfile",     // makedumpfile flattened format
		"EMiL",             // LiME physical memory capture (magic 0x4C694D45)
		"minidump FreeBSD", // FreeBSD kernel minidump
	} {
		if bytes.HasPrefix(head, []byte(m)) {
			return true
		}
	}
	// ELF: e_type (offset 16) ET_CORE = 4, in the byte order of EI_DATA.
	if len(head) >= 18 && bytes.HasPrefix(head, []byte("\x7fELF")) {
		switch head[5] {
		case 1:
			return binary.LittleEndian.Uint16(head[16:]) == 4
		case 2:
			return binary.BigEndian.Uint16(head[16:]) == 4
		}
	}
	// Mach-O (macOS cores): filetype (offset 12) MH_CORE = 4.
	if len(head) >= 16 {
		switch binary.LittleEndian.Uint32(head) {
		case 0xfeedface, 0xfeedfacf:
			return binary.LittleEndian.Uint32(head[12:]) == 4
		case 0xcefaedfe, 0xcffaedfe:
			return binary.BigEndian.Uint32(head[12:]) == 4
		}
	}
	return false
}
