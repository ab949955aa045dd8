package mem

import (
	"errors"
	"fmt"
	"iter"
)

// MaxDecodeLen bounds Mapping.Len and Mapping.SrcLen for decoded mappings.
// ReadMapped allocates buffers of those sizes for every decoded read, and the
// sizes come from dump headers, so a corrupt header must not be able to make
// it allocate gigabytes. 64 MiB is far above any real compressed block.
const MaxDecodeLen = 1 << 26

// Mapping says where a run of addresses in a Mapper's space comes from: the
// Len bytes at Addr are the bytes at BaseAddr in Base(), or, when Decode is
// set, the result of decoding the SrcLen bytes at BaseAddr.
type Mapping struct {
	Addr     uint64 // first address in this space
	Len      uint64 // length in this space
	BaseAddr uint64 // first address in Base()

	// Decode, if set, fills dst (exactly Len bytes) from src (SrcLen bytes
	// read at BaseAddr), for example by decompressing a page. It must fill
	// all of dst or return an error, must not retain either slice, must be
	// safe for concurrent calls and must not panic on corrupt input.
	// A decoded mapping is always read and decoded whole, so Len should be
	// one compressed block, not a large run.
	Decode func(dst, src []byte) error
	SrcLen uint64 // bytes to read from Base() when Decode != nil
}

// last returns the last address of the mapping in this space.
func (m Mapping) last() uint64 { return m.Addr + m.Len - 1 }

// Mapper is a Space defined over a lower space (Base) by mappings: a physical
// space over a dump file, or a virtual space over physical memory. Separating
// "where do these bytes come from" (Map) from "copy them" (ReadMapped) lets
// each dump format supply only the former.
//
// Map yields, in ascending order, the mappings that together cover
// [addr, addr+n), each containing the first address not yet covered. A
// mapping may extend beyond the requested range on either side; callers
// clip. If some address is not covered, Map yields a zero Mapping and a
// *FaultError for the first uncovered address (NotInDump for a gap in a
// dump's runs, NotPresent with Level and Entry set for a failed page-table
// walk) and stops.
type Mapper interface {
	Space
	Base() Space
	Map(addr, n uint64) iter.Seq2[Mapping, error]
}

// errBadMapping is the cause of a fault when a Mapper yields a mapping that
// does not cover the address it was asked for.
var errBadMapping = errors.New("mapper yielded a mapping that does not cover the address")

// ReadMapped implements ReadMemory for any Mapper. Identity mappings are read
// from Base() directly; for a Decode mapping it reads SrcLen bytes at
// BaseAddr, decodes them into a fresh Len-byte buffer and copies out the part
// wanted. Faults are reported in m's space at the exact first byte not read,
// with the lower layer's fault as the cause.
func ReadMapped(m Mapper, p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if m == nil {
		return 0, &FaultError{Addr: addr, Kind: Unmapped, Err: errNilReader}
	}
	name := m.Name()
	want := span(addr, len(p))
	base := m.Base()
	done := 0
	for mp, err := range m.Map(addr, uint64(want)) {
		if done == want {
			break
		}
		cur := addr + uint64(done)
		if err != nil {
			return done, wrapFault(name, cur, err)
		}
		if mp.Len == 0 || cur < mp.Addr || cur-mp.Addr >= mp.Len {
			return done, &FaultError{Space: name, Addr: cur, Kind: NotInDump, Err: errBadMapping}
		}
		off := cur - mp.Addr
		k := int(min(mp.Len-off, uint64(want-done)))
		dst := p[done : done+k]
		if mp.Decode == nil {
			n, err := readSub(name, base, dst, mp.BaseAddr+off, cur)
			done += n
			if err != nil {
				return done, err
			}
			continue
		}
		if err := readDecoded(name, base, mp, dst, off, cur); err != nil {
			return done, err
		}
		done += k
	}
	if done < want {
		return done, &FaultError{Space: name, Addr: addr + uint64(done), Kind: NotInDump}
	}
	if want < len(p) {
		return done, wrapFaultAt(name)
	}
	return done, nil
}

// readDecoded fills dst with the bytes at offset off of the decoded mapping
// mp. Any failure is a fault at cur, the address of dst[0]: the whole block
// stands or falls together.
func readDecoded(name string, base Reader, mp Mapping, dst []byte, off, cur uint64) error {
	if mp.Len > MaxDecodeLen || mp.SrcLen > MaxDecodeLen {
		return &FaultError{Space: name, Addr: cur, Kind: Corrupt,
			Err: fmt.Errorf("decoded mapping at %#x: length %d or source length %d exceeds %d", mp.Addr, mp.Len, mp.SrcLen, MaxDecodeLen)}
	}
	src := make([]byte, mp.SrcLen)
	if len(src) > 0 {
		if _, err := readLower(base, src, mp.BaseAddr); err != nil {
			return wrapFault(name, cur, err)
		}
	}
	buf := make([]byte, mp.Len)
	if err := mp.Decode(buf, src); err != nil {
		return &FaultError{Space: name, Addr: cur, Kind: Corrupt, Err: err}
	}
	copy(dst, buf[off:])
	return nil
}
