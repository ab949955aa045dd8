// Package lzo decodes single LZO1X blocks, the page compression that
// makedumpfile's kdump-compressed format uses for pages whose page_desc
// carries DUMP_DH_COMPRESSED_LZO (output of liblzo2's lzo1x_1_compress).
//
// # Why hand-written
//
// The clean-room Go decoders (github.com/go-compressions/lzo) are not served
// by the module proxy available to this project, and the remaining choices
// are GPL ports of liblzo2 (rasky/go-lzo and its forks) or cgo wrappers
// around it. This package was therefore written from scratch, using only the
// prose description of the bitstream in the Linux kernel's
// Documentation/staging/lzo.rst ("LZO stream format as understood by Linux's
// LZO decompressor", Willy Tarreau and Dave Rodgman). No decoder source
// (liblzo2, minilzo, lib/lzo/lzo1x_decompress_safe.c or others) was read or
// ported. The tests check it against blocks produced by the lzop tool
// (lzo1x_1 and lzo1x_999, which share the bitstream).
//
// # Format notes
//
// Where the document is ambiguous, this package reads it as follows:
//
//   - First byte 18..255 copies byte-17 literals (1..238); the next
//     instruction sees state byte-17 when that is 1..3 and state 4
//     otherwise. (The document's table says "18..21: 0..3 literals" and
//     "22..255: 4..238", which contradicts its own byte-17 formula; the
//     formula is what lzo1x compressors emit.)
//   - First byte 0..15 and 17 (when not a version marker) follow the regular
//     instruction encoding with state 0; first byte 16 is rejected, as the
//     document says it always is invalid there.
//   - A block of at least 5 bytes starting with 17 carries a bitstream
//     version in its second byte; versions 0 and 1 (LZO-RLE) are accepted,
//     others are ErrCorrupt. The block then continues with a first byte.
//   - End of stream is the 0001HLLL copy with distance 16384 (normally the
//     three bytes 11 00 00); it must be the last thing in src.
//   - Version 1 only: a 0001HLLL instruction with H=1 whose next two bytes
//     are a distance field of 0x3fff (bytes fc..ff, ff) is a run of
//     ((X<<3)|LLL)+4 zero bytes, X being the fourth byte; the low two bits
//     of the distance field give the trailing literal count as usual. This
//     is checked before any length-extension bytes, which is why the
//     document forbids compressors from emitting the look-alike copies.
//
// Decompress never reads or writes outside src and dst, never panics and
// always terminates: every instruction consumes input, and all lengths are
// bounded by len(dst) before use.
package lzo
