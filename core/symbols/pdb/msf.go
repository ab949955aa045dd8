package pdb

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// msf is the MSF 7.00 container: a file of fixed-size blocks holding
// numbered streams, each a list of blocks. See
// https://llvm.org/docs/PDB/MsfFile.html
type msf struct {
	r         io.ReaderAt
	size      int64
	blockSize uint32
	numBlocks uint32
	streams   []msfStream
}

type msfStream struct {
	present bool
	size    uint32
	blocks  []uint32
}

// readMSF reads the SuperBlock, the block map and the stream directory.
// Every count is bounded by the file size before anything is allocated.
func readMSF(r io.ReaderAt, size int64) (*msf, error) {
	var sb [56]byte
	if size < int64(len(sb)) {
		// A file that starts as an MSF file but stops before its
		// SuperBlock ends (LLVM's bad-block-size.pdb, 29 bytes) is a
		// damaged PDB, not some other kind of file.
		head := make([]byte, size)
		if n, _ := r.ReadAt(head, 0); n >= 24 && n == len(head) && strings.HasPrefix(msfMagic, string(head[:min(n, len(msfMagic))])) {
			return nil, errAt(-1, size, fmt.Sprintf("MSF superblock is missing: the file ends after %d bytes, the superblock needs %d", size, len(sb)), io.ErrUnexpectedEOF)
		}
		return nil, ErrUnrecognized
	}
	if _, err := r.ReadAt(sb[:], 0); err != nil {
		return nil, errAt(-1, 0, "reading SuperBlock", err)
	}
	if string(sb[:32]) != msfMagic {
		return nil, ErrUnrecognized
	}
	le := binary.LittleEndian
	m := &msf{r: r, size: size,
		blockSize: le.Uint32(sb[32:]),
		numBlocks: le.Uint32(sb[40:]),
	}
	dirBytes := le.Uint32(sb[44:])
	blockMapAddr := le.Uint32(sb[52:])
	switch bs := m.blockSize; {
	case bs < 512 || bs > 65536 || bs&(bs-1) != 0:
		return nil, errAt(-1, 32, "bad block size", nil)
	}
	// Accept a last block cut short, but no block wholly past the end.
	if maxBlocks := uint64(size+int64(m.blockSize)-1) / uint64(m.blockSize); uint64(m.numBlocks) > maxBlocks {
		m.numBlocks = uint32(maxBlocks)
	}
	if int64(dirBytes) > size {
		return nil, errAt(-1, 44, "stream directory larger than the file", nil)
	}
	nDirBlocks := m.blocksFor(dirBytes)
	if uint64(nDirBlocks)*4 > uint64(m.blockSize) {
		return nil, errAt(-1, 44, "stream directory needs more than one block-map block", nil)
	}
	bm, err := m.readBlock(blockMapAddr, int(nDirBlocks)*4)
	if err != nil {
		return nil, err
	}
	dirBlocks := make([]uint32, nDirBlocks)
	for i := range dirBlocks {
		dirBlocks[i] = le.Uint32(bm[4*i:])
	}
	dir, err := m.readBlocks(dirBlocks, dirBytes, -1)
	if err != nil {
		return nil, err
	}
	if len(dir) < 4 {
		return nil, errAt(-1, 0, "stream directory too short", nil)
	}
	n := le.Uint32(dir)
	if uint64(n)*4 > uint64(len(dir)-4) {
		return nil, errAt(-1, 0, "stream count exceeds the directory", nil)
	}
	m.streams = make([]msfStream, n)
	pos := 4 + 4*int(n)
	for i := range m.streams {
		sz := le.Uint32(dir[4+4*i:])
		if sz == nilStreamSize {
			continue
		}
		nb := int(m.blocksFor(sz))
		if nb > (len(dir)-pos)/4 {
			return nil, errAt(-1, 0, "stream block list exceeds the directory", nil)
		}
		s := msfStream{present: true, size: sz, blocks: make([]uint32, nb)}
		for j := range s.blocks {
			s.blocks[j] = le.Uint32(dir[pos:])
			pos += 4
		}
		m.streams[i] = s
	}
	return m, nil
}

func (m *msf) blocksFor(n uint32) uint32 {
	return uint32((uint64(n) + uint64(m.blockSize) - 1) / uint64(m.blockSize))
}

// readBlock reads the first n bytes of block b.
func (m *msf) readBlock(b uint32, n int) ([]byte, error) {
	if b >= m.numBlocks {
		return nil, errAt(-1, 0, "block index past the end of the file", nil)
	}
	off := int64(b) * int64(m.blockSize)
	if off+int64(n) > m.size {
		return nil, errAt(-1, off, "block past the end of the file", io.ErrUnexpectedEOF)
	}
	buf := make([]byte, n)
	if _, err := m.r.ReadAt(buf, off); err != nil {
		return nil, errAt(-1, off, "reading block", err)
	}
	return buf, nil
}

// readBlocks concatenates size bytes from the listed blocks.
func (m *msf) readBlocks(blocks []uint32, size uint32, stream int) ([]byte, error) {
	if int64(size) > m.size || uint64(len(blocks))*uint64(m.blockSize) < uint64(size) {
		return nil, errAt(stream, 0, "stream larger than its blocks", nil)
	}
	buf := make([]byte, size)
	for i, b := range blocks {
		lo := uint64(i) * uint64(m.blockSize)
		if lo >= uint64(size) {
			break
		}
		hi := min(lo+uint64(m.blockSize), uint64(size))
		if b >= m.numBlocks {
			return nil, errAt(stream, int64(lo), "block index past the end of the file", nil)
		}
		off := int64(b) * int64(m.blockSize)
		if off+int64(hi-lo) > m.size {
			return nil, errAt(stream, int64(lo), "block past the end of the file", io.ErrUnexpectedEOF)
		}
		if _, err := m.r.ReadAt(buf[lo:hi], off); err != nil {
			return nil, errAt(stream, int64(lo), "reading block", err)
		}
	}
	return buf, nil
}

// stream reads stream i whole. An absent (nil or out-of-range) stream
// gives ErrNoStream.
func (m *msf) stream(i int) ([]byte, error) {
	if i < 0 || i >= len(m.streams) || i == nilStream || !m.streams[i].present {
		return nil, errAt(i, 0, "no such stream", ErrNoStream)
	}
	s := m.streams[i]
	return m.readBlocks(s.blocks, s.size, i)
}
