package lzo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/adler32"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// lzop container, as written by lzop 1.04 (checked by inspecting its
// output; the checksums verified below confirm the layout):
//
//	magic      89 4c 5a 4f 00 0d 0a 1a 0a
//	version    u16 BE; lib version u16; version needed u16 (version >= 0x0940)
//	method u8; level u8 (version >= 0x0940)
//	flags u32; filter u32 if flags&F_H_FILTER
//	mode u32; mtime low u32; mtime high u32 (version >= 0x0940)
//	name length u8, name
//	header checksum u32 (adler32, or crc32 if F_H_CRC32)
//	extra field if F_H_EXTRA_FIELD: length u32, data, checksum u32
//	blocks: uncompressed size u32 (0 ends the file), compressed size u32,
//	  uncompressed-data checksums (adler32 if F_ADLER32_D, crc32 if
//	  F_CRC32_D), compressed-data checksums (F_ADLER32_C, F_CRC32_C) only when
//	  compressed size < uncompressed size, then the data; a block is stored
//	  as is when compressed size == uncompressed size.
const (
	fAdler32D   = 0x0001
	fAdler32C   = 0x0002
	fHExtra     = 0x0040
	fCRC32D     = 0x0100
	fCRC32C     = 0x0200
	fHFilter    = 0x0800
	fHCRC32     = 0x1000
	lzopMagic   = "\x89LZO\x00\r\n\x1a\n"
	lzopVersion = 0x0940
)

type lzopBlock struct {
	ulen       int
	data       []byte // compressed data, or the data itself when stored
	stored     bool
	adler, crc uint32
	hasAdler   bool
	hasCRC     bool
}

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = fmt.Errorf("lzop container truncated at %d (want %d bytes)", r.off, n)
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8() int {
	if p := r.bytes(1); p != nil {
		return int(p[0])
	}
	return 0
}

func (r *reader) u16() int {
	if p := r.bytes(2); p != nil {
		return int(binary.BigEndian.Uint16(p))
	}
	return 0
}

func (r *reader) u32() uint32 {
	if p := r.bytes(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func parseLzop(file []byte) ([]lzopBlock, error) {
	r := &reader{b: file}
	if string(r.bytes(len(lzopMagic))) != lzopMagic {
		return nil, errors.New("bad lzop magic")
	}
	version := r.u16()
	r.u16() // lib version
	if version >= lzopVersion {
		r.u16() // version needed to extract
	}
	r.u8() // method
	if version >= lzopVersion {
		r.u8() // level
	}
	flags := r.u32()
	if flags&fHFilter != 0 {
		r.u32()
	}
	r.u32() // mode
	r.u32() // mtime low
	if version >= lzopVersion {
		r.u32() // mtime high
	}
	r.bytes(r.u8()) // name
	r.u32()         // header checksum
	if flags&fHExtra != 0 {
		r.bytes(int(r.u32()))
		r.u32()
	}
	var blocks []lzopBlock
	for r.err == nil {
		ulen := int(r.u32())
		if ulen == 0 {
			break
		}
		clen := int(r.u32())
		blk := lzopBlock{ulen: ulen, stored: clen == ulen}
		if flags&fAdler32D != 0 {
			blk.adler, blk.hasAdler = r.u32(), true
		}
		if flags&fCRC32D != 0 {
			blk.crc, blk.hasCRC = r.u32(), true
		}
		if clen < ulen {
			if flags&fAdler32C != 0 {
				r.u32()
			}
			if flags&fCRC32C != 0 {
				r.u32()
			}
		}
		if clen > ulen {
			return nil, fmt.Errorf("block at %d: compressed size %d > uncompressed %d", r.off, clen, ulen)
		}
		blk.data = r.bytes(clen)
		blocks = append(blocks, blk)
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(file) {
		return nil, fmt.Errorf("%d bytes after lzop end marker", len(file)-r.off)
	}
	return blocks, nil
}

// fixtureInputs returns the named test inputs, deterministic except for
// the binary read from the system.
func fixtureInputs(t testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	in := map[string][]byte{}
	in["empty"] = nil
	in["one"] = []byte("x")
	in["three"] = []byte("abc")
	in["zeros-4k"] = make([]byte, 4096)
	in["zeros-256k"] = make([]byte, 256<<10)
	var text strings.Builder
	for i := 0; text.Len() < 200<<10; i++ {
		fmt.Fprintf(&text, "line %d: the quick brown fox %d jumps over the lazy dog %x\n", i, i*i%977, i*7919)
	}
	in["text-200k"] = []byte(text.String())
	in["text-1k"] = []byte(text.String()[:1000])
	rnd := make([]byte, 64<<10)
	for i := range rnd {
		rnd[i] = byte(rng.Uint32())
	}
	in["random-64k"] = rnd
	// A 4 KiB kernel-page-like pattern: structs with pointers, counters,
	// zero padding and a little noise.
	page := make([]byte, 4096)
	for off := 0; off+64 <= len(page); off += 64 {
		binary.LittleEndian.PutUint64(page[off:], 0xffff888000000000+uint64(off)*64)
		binary.LittleEndian.PutUint64(page[off+8:], 0xffff888000000000+uint64(off)*64+0x40)
		binary.LittleEndian.PutUint32(page[off+16:], uint32(off/64))
		if off%256 == 0 {
			binary.LittleEndian.PutUint32(page[off+24:], rng.Uint32())
		}
	}
	in["page-4k"] = page
	// Repeated patterns: long matches at short and long distances.
	var rep []byte
	unit := make([]byte, 20000)
	for i := range unit {
		unit[i] = byte(rng.IntN(16))
	}
	for len(rep) < 180<<10 {
		rep = append(rep, unit...)
		rep = append(rep, bytes.Repeat([]byte("ab"), 700)...)
		rep = append(rep, unit[:3000]...)
	}
	in["repeat-180k"] = rep
	// Mixed: random chunks repeated at distances 16..48 KiB (0001HLLL).
	mixed := make([]byte, 0, 250<<10)
	chunk := rnd[:40<<10]
	for len(mixed) < 240<<10 {
		mixed = append(mixed, chunk[:30<<10]...)
		mixed = append(mixed, chunk...)
	}
	in["far-240k"] = mixed
	// A random kilobyte repeated after 20 KiB of zeros: small output, one
	// far (16..48 KiB) copy.
	farSmall := append(append(append([]byte(nil), rnd[:1024]...), make([]byte, 20<<10)...), rnd[:1024]...)
	in["far-small"] = farSmall
	for _, n := range []int{1, 2, 4, 5, 13, 14, 17, 100, 255, 256, 257, 4095, 4097, 65535, 256 << 10} {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh"[rng.IntN(3+i%6)]
		}
		in[fmt.Sprintf("small-alpha-%d", n)] = b
	}
	if bin, err := os.ReadFile("/usr/bin/lzop"); err == nil {
		in["binary-lzop"] = bin
	}
	return in
}

func lzopCompress(t testing.TB, level string, data []byte) []byte {
	cmd := exec.Command("lzop", "-c", level)
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("lzop %s: %v: %s", level, err, stderr.String())
	}
	return out
}

func TestLzopFixtures(t *testing.T) {
	if _, err := exec.LookPath("lzop"); err != nil {
		t.Skip("lzop not installed: skipping generated fixtures (testdata blocks still run in TestTestdataBlocks)")
	}
	compressed := 0
	for name, data := range fixtureInputs(t) {
		for _, level := range []string{"-1", "-9"} {
			t.Run(name+level, func(t *testing.T) {
				blocks, err := parseLzop(lzopCompress(t, level, data))
				if err != nil {
					t.Fatal(err)
				}
				var got []byte
				for i, blk := range blocks {
					var out []byte
					if blk.stored {
						out = blk.data
					} else {
						compressed++
						out = make([]byte, blk.ulen)
						n, err := Decompress(out, blk.data)
						if err != nil || n != blk.ulen {
							t.Fatalf("block %d: Decompress = %d, %v; want %d", i, n, err, blk.ulen)
						}
						checkDamaged(t, blk.data, out)
					}
					if blk.hasAdler && adler32.Checksum(out) != blk.adler {
						t.Fatalf("block %d: adler32 mismatch", i)
					}
					if blk.hasCRC && crc32.ChecksumIEEE(out) != blk.crc {
						t.Fatalf("block %d: crc32 mismatch", i)
					}
					got = append(got, out...)
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("output differs from input (%d vs %d bytes)", len(got), len(data))
				}
			})
		}
	}
	if compressed < 20 {
		t.Errorf("only %d compressed blocks exercised", compressed)
	}
}

// checkDamaged checks, for a valid block, that a too-small dst, truncations
// and bit flips give errors (or at least stay in bounds) without panicking.
func checkDamaged(t *testing.T, src, want []byte) {
	t.Helper()
	if len(want) > 0 {
		dst := make([]byte, len(want)-1)
		if _, err := Decompress(dst, src); !errors.Is(err, ErrShortDst) {
			t.Fatalf("dst one byte short: err = %v, want ErrShortDst", err)
		}
	}
	// With garbage after the end marker.
	if _, err := Decompress(make([]byte, len(want)), append(src[:len(src):len(src)], 0)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing byte: err = %v, want ErrCorrupt", err)
	}
	dst := make([]byte, len(want))
	step := 1
	if len(src) > 8192 {
		step = len(src)/4096 + 1
	}
	for n := 0; n < len(src); n += step {
		if _, err := Decompress(dst, src[:n]); !errors.Is(err, ErrShortSrc) {
			t.Fatalf("truncated to %d of %d bytes: err = %v, want ErrShortSrc", n, len(src), err)
		}
	}
	if len(src) > 4096 {
		return
	}
	buf := make([]byte, len(src))
	big := make([]byte, len(want)+1024)
	for i := range src {
		for bit := 0; bit < 8; bit++ {
			copy(buf, src)
			buf[i] ^= 1 << bit
			for _, d := range [][]byte{dst, big} {
				n, err := Decompress(d, buf)
				if n < 0 || n > len(d) {
					t.Fatalf("flip %d.%d: n = %d out of range", i, bit, n)
				}
				// A flipped literal byte may legally decode without error.
				if err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrShortDst) && !errors.Is(err, ErrShortSrc) {
					t.Fatalf("flip %d.%d: unexpected error %v", i, bit, err)
				}
			}
		}
	}
}
