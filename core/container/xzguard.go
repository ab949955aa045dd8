package container

import (
	"bytes"
	"io"
)

// xzGuard passes an xz byte stream through unchanged while following its
// framing (stream header, block headers, LZMA2 chunks, index, footer,
// padding) so that it can veto a block whose LZMA2 dictionary is larger than
// the limit before github.com/ulikunitz/xz sees the header: that decoder
// allocates the whole dictionary up front from the one-byte field, so a
// 60-byte file could otherwise ask for 4 GiB. LZMA2 chunks carry their sizes
// in plain bytes, so no decoding is needed to stay in step.
//
// The guard is stricter than nothing and laxer than the decoder: it checks
// only what it needs to find the next header and leaves checksums and
// everything else to github.com/ulikunitz/xz.
type xzGuard struct {
	r     io.Reader
	limit int64
	err   error

	st   xzState
	buf  []byte // header bytes being collected
	need int    // bytes still wanted in the current state
	skip int64  // bytes to pass over unread (chunk payload, check, index padding)

	checkSize int    // size of the block check, from the stream flags
	blockData int64  // compressed bytes of the current block so far
	index     int64  // bytes of the current index so far
	varints   uint64 // index varints still to read (2 per record)
	varVal    uint64 // value of the varint being read
	varLen    int    // bytes of the current varint
	streamPad int64  // zero bytes of stream padding seen
	off       int64  // bytes passed through, for error offsets
}

type xzState int

const (
	xzStreamHeader xzState = iota // collecting the 12-byte stream header
	xzBlockStart                  // next: block header size byte, or 0 = index
	xzBlockHeader                 // collecting a block header
	xzChunk                       // next: LZMA2 control byte
	xzChunkHeader                 // collecting the rest of a chunk header
	xzBlockPad                    // block padding and check (skip)
	xzIndexCount                  // index: number of records varint
	xzIndexRecords                // index: record varints
	xzIndexTail                   // index padding + CRC32 (skip), then footer
	xzFooter                      // collecting the 12-byte footer
	xzAfterStream                 // stream padding or the next stream
)

func newXZGuard(r io.Reader, limit int64) *xzGuard {
	return &xzGuard{r: r, limit: limit, st: xzStreamHeader, need: 12}
}

func (g *xzGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if ferr := g.feed(p[:n]); ferr != nil {
		g.err = ferr
		return 0, ferr
	}
	return n, err
}

func (g *xzGuard) fail(format string, args ...any) error {
	return errorf(XZ, g.off, ErrCorrupt, format, args...)
}

// checkSizes maps the check type (stream flags, low nibble) to its size.
var checkSizes = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

func (g *xzGuard) feed(p []byte) error {
	for len(p) > 0 {
		if g.skip > 0 {
			k := int64(len(p))
			k = min(k, g.skip)
			g.skip -= k
			g.off += k
			if g.st == xzChunk {
				g.blockData += k
			}
			if g.st == xzIndexTail {
				g.index += k
			}
			p = p[k:]
			if g.skip == 0 {
				if err := g.skipped(); err != nil {
					return err
				}
			}
			continue
		}
		c := p[0]
		p = p[1:]
		if err := g.byte(c); err != nil {
			return err
		}
		g.off++
	}
	return nil
}

// skipped is called when a skip ends.
func (g *xzGuard) skipped() error {
	switch g.st {
	case xzBlockPad:
		g.st = xzBlockStart
	case xzIndexTail:
		g.st, g.need, g.buf = xzFooter, 12, g.buf[:0]
	}
	return nil
}

func (g *xzGuard) byte(c byte) error {
	switch g.st {
	case xzStreamHeader, xzBlockHeader, xzChunkHeader, xzFooter:
		g.buf = append(g.buf, c)
		if g.st == xzChunkHeader {
			g.blockData++
		}
		if len(g.buf) < g.need {
			return nil
		}
		return g.collected()

	case xzBlockStart:
		if c == 0 {
			g.st, g.index, g.varLen, g.varVal = xzIndexCount, 1, 0, 0
			return nil
		}
		g.st, g.need = xzBlockHeader, (int(c)+1)*4
		g.buf = append(g.buf[:0], c)
		return nil

	case xzChunk:
		g.blockData++
		switch {
		case c == 0: // end of LZMA2 data
			pad := (4 - g.blockData%4) % 4
			g.st, g.skip = xzBlockPad, pad+int64(g.checkSize)
			if g.skip == 0 {
				g.st = xzBlockStart
			}
		case c == 1 || c == 2: // uncompressed chunk: 2-byte size-1
			g.st, g.need = xzChunkHeader, 3
			g.buf = append(g.buf[:0], c)
		case c >= 0x80: // LZMA chunk: 2-byte unpacked, 2-byte packed size, props
			g.st, g.need = xzChunkHeader, 5
			if (c>>5)&3 >= 2 {
				g.need = 6
			}
			g.buf = append(g.buf[:0], c)
		default:
			return g.fail("invalid LZMA2 chunk control byte %#02x", c)
		}
		return nil

	case xzIndexCount, xzIndexRecords:
		g.index++
		if g.varLen == 9 {
			return g.fail("index number too long")
		}
		g.varVal |= uint64(c&0x7f) << (7 * g.varLen)
		g.varLen++
		if c&0x80 != 0 {
			return nil
		}
		v := g.varVal
		g.varVal, g.varLen = 0, 0
		if g.st == xzIndexCount {
			// Only needed to find the end of the index: the records
			// are counted down without being stored. The decoder
			// compares the count with the blocks it decoded.
			if v > 1<<40 {
				return g.fail("index claims %d records", v)
			}
			g.st, g.varints = xzIndexRecords, 2*v
		} else {
			g.varints--
		}
		if g.varints == 0 {
			g.st = xzIndexTail
			g.skip = (4-g.index%4)%4 + 4
		}
		return nil

	case xzAfterStream:
		if c == 0 {
			g.streamPad++
			return nil
		}
		if g.streamPad%4 != 0 {
			return g.fail("stream padding not a multiple of four")
		}
		g.streamPad = 0
		g.st, g.need = xzStreamHeader, 12
		g.buf = append(g.buf[:0], c)
		return nil
	}
	return g.fail("internal: bad state")
}

// collected handles a header whose bytes are all in g.buf.
func (g *xzGuard) collected() error {
	b := g.buf
	switch g.st {
	case xzStreamHeader:
		if !bytes.HasPrefix(b, []byte{0xfd, '7', 'z', 'X', 'Z', 0}) {
			return g.fail("bad stream header magic")
		}
		if b[6] != 0 || b[7]&0xf0 != 0 {
			return g.fail("unsupported stream flags %#02x%02x", b[6], b[7])
		}
		g.checkSize = checkSizes[b[7]&0x0f]
		g.st = xzBlockStart

	case xzBlockHeader:
		if err := g.blockHeader(b); err != nil {
			return err
		}
		g.st, g.blockData = xzChunk, 0

	case xzChunkHeader:
		if b[0] == 1 || b[0] == 2 {
			g.skip = int64(b[1])<<8 | int64(b[2]) + 1
		} else {
			g.skip = int64(b[3])<<8 | int64(b[4]) + 1
		}
		g.st = xzChunk

	case xzFooter:
		if b[10] != 'Y' || b[11] != 'Z' {
			return g.fail("bad stream footer magic")
		}
		g.st, g.streamPad = xzAfterStream, 0
	}
	return nil
}

// blockHeader finds the LZMA2 filter in a block header and checks its
// dictionary size against the limit.
func (g *xzGuard) blockHeader(b []byte) error {
	pos := 2
	varint := func() (uint64, bool) {
		var v uint64
		for i := 0; i < 9 && pos < len(b); i++ {
			c := b[pos]
			pos++
			v |= uint64(c&0x7f) << (7 * i)
			if c&0x80 == 0 {
				return v, true
			}
		}
		return 0, false
	}
	flags := b[1]
	for _, bit := range []byte{0x40, 0x80} { // compressed, uncompressed size
		if flags&bit != 0 {
			if _, ok := varint(); !ok {
				return g.fail("bad block header")
			}
		}
	}
	for range int(flags&3) + 1 {
		id, ok1 := varint()
		size, ok2 := varint()
		if !ok1 || !ok2 || size > uint64(len(b)-pos) {
			return g.fail("bad block header")
		}
		props := b[pos : pos+int(size)]
		pos += int(size)
		if id != 0x21 {
			continue // the decoder rejects filters it lacks
		}
		if len(props) != 1 || props[0] > 40 {
			return g.fail("bad LZMA2 filter properties")
		}
		if dict := lzma2Dict(props[0]); dict > g.limit {
			return errorf(XZ, g.off, ErrBudget,
				"LZMA2 dictionary of %d bytes exceeds Options.MaxWindow (%d bytes)", dict, g.limit)
		}
	}
	return nil
}

// lzma2Dict decodes the LZMA2 dictionary size byte (0..40).
func lzma2Dict(p byte) int64 {
	if p == 40 {
		return 1<<32 - 1
	}
	return int64(2|p&1) << (p/2 + 11)
}
