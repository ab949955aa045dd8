package pdb

import (
	"encoding/binary"
	"fmt"
	"github.com/crashbench/crashbench/core/mem"
	"io"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
)

// GUID is a Windows GUID as stored: Data1, Data2 and Data3 little-endian,
// Data4 as bytes.
type GUID [16]byte

// String formats the GUID the usual way, {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}.
func (g GUID) String() string {
	le := binary.LittleEndian
	return fmt.Sprintf("{%08X-%04X-%04X-%X-%X}", le.Uint32(g[:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:10], g[10:])
}

// hex returns the 32 upper-case hex digits of the GUID in printed order.
func (g GUID) hex() string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X%04X%04X%X", le.Uint32(g[:]), le.Uint16(g[4:]), le.Uint16(g[6:]), g[8:])
}

// Info is the PDB info stream (stream 1) header. See
// https://llvm.org/docs/PDB/PdbStream.html
type Info struct {
	Version   uint32 // PdbStreamVersion, 20000404 (VC70) for current files
	Signature uint32 // a time stamp the linker wrote
	Age       uint32 // bumped on every write of the PDB; see File.ID
	GUID      GUID
}

// File is an open PDB 7.0 file. Open and NewFile read the MSF directory
// and the info stream; everything else is read on first use and kept.
// A File is safe for concurrent use.
type File struct {
	Info
	msf    *msf
	closer io.Closer
	path   string            // the file Open opened; "" for NewFile
	names  map[string]uint32 // named stream map: "/names", "/LinkInfo", …

	dbi        func() (*DBI, error)
	symRecords func() (symRecords, error) // publics and global data
	modSyms    func() (modSyms, error)    // procedures and module-scope data
	globals    func() ([]Global, error)
	table      func() (*Table, error)
	strtab     func() ([]byte, error) // the /names string buffer
	tpi        func() (*typeStream, error)
	ipi        func() (*typeStream, error)
	types      func() (*Types, error)
}

// Open opens the named PDB file.
func Open(path string) (*File, error) {
	// Mapped, not read through a descriptor: tables read their line data
	// lazily, after the provider that opened the file has returned, and a
	// mapping holds no file descriptor while it waits.
	mf, err := mem.OpenFile(path)
	if err != nil {
		return nil, err
	}
	f, err := NewFile(mf, mf.Size())
	if err != nil {
		mf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closer = mf
	f.path = path
	return f, nil
}

// NewFile reads a PDB of size bytes from r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	m, err := readMSF(r, size)
	if err != nil {
		return nil, err
	}
	f := &File{msf: m}
	b, err := m.stream(streamPDB)
	if err != nil {
		return nil, err
	}
	c := bin.New(b, 0, binary.LittleEndian)
	f.Version = c.U32()
	f.Signature = c.U32()
	f.Age = c.U32()
	copy(f.GUID[:], c.Bytes(16))
	if c.Err() != nil {
		return nil, errAt(streamPDB, c.Off(), "PDB info stream header", c.Err())
	}
	// The named stream map; a broken one only costs the named streams.
	f.names = readNameMap(c)
	f.dbi = sync.OnceValues(f.readDBI)
	f.symRecords = sync.OnceValues(f.readSymRecords)
	f.modSyms = sync.OnceValues(f.readModSyms)
	f.globals = sync.OnceValues(f.readGlobals)
	f.table = sync.OnceValues(f.buildTable)
	f.strtab = sync.OnceValues(f.readNames)
	f.tpi = sync.OnceValues(func() (*typeStream, error) { return f.readTypeStream(streamTPI) })
	f.ipi = sync.OnceValues(func() (*typeStream, error) { return f.readTypeStream(streamIPI) })
	f.types = sync.OnceValues(f.readTypes)
	return f, nil
}

// Close closes the file Open opened; it does nothing for NewFile.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// NumStreams returns the number of MSF streams.
func (f *File) NumStreams() int { return len(f.msf.streams) }

// BlockSize returns the MSF block (page) size.
func (f *File) BlockSize() int { return int(f.msf.blockSize) }

// Stream returns the bytes of stream i, or an error wrapping ErrNoStream.
func (f *File) Stream(i int) ([]byte, error) { return f.msf.stream(i) }

// NamedStream returns the index of a stream of the info stream's named
// stream map ("/names", "/LinkInfo", "/src/headerblock", …).
func (f *File) NamedStream(name string) (int, bool) {
	i, ok := f.names[name]
	return int(i), ok
}

// ID returns the symbol-store key of the PDB: the GUID as 32 upper-case
// hex digits (Data1, Data2, Data3 as numbers, then Data4 bytes) followed
// by the age in upper-case hex without padding. That is the Breakpad debug
// id and the directory name of a symbol server
// (<name>.pdb/<ID>/<name>.pdb).
//
// The age is the DBI stream's, not the info stream's: the linker writes
// the DBI age into the image's RSDS record, while the info-stream age is
// bumped again by later writes (amdppm.pdb has info Age 3, DBI Age 1, key
// age 1). Without a DBI stream the info-stream age is used.
func (f *File) ID() string {
	age := f.Age
	if d, err := f.DBI(); err == nil {
		age = d.Age
	}
	return fmt.Sprintf("%s%X", f.GUID.hex(), age)
}

// readNameMap decodes the named stream map that follows the info stream
// header: a string buffer, then a hash table of (name offset, stream)
// pairs. Only the present entries are stored, so they are read in order.
func readNameMap(c *bin.Cursor) map[string]uint32 {
	strLen := c.U32()
	strs := c.Bytes(int(min(strLen, uint32(c.Len()+1))))
	size := c.U32()
	c.U32()       // capacity
	for range 2 { // present and deleted bit vectors
		words := c.U32()
		c.Skip(int(min(words, uint32(c.Len()))) * 4)
	}
	if c.Err() != nil || uint64(size)*8 > uint64(c.Len()) {
		return nil
	}
	names := make(map[string]uint32, size)
	for range size {
		off, stream := c.U32(), c.U32()
		if int64(off) < int64(len(strs)) {
			names[bin.CString(strs[off:])] = stream
		}
	}
	return names
}
