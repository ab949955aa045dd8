package minidump

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/model"
)

// FormatError reports a structural problem at a file offset.
type FormatError struct {
	Off  int64
	What string
	Err  error
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("minidump: offset %#x: %s", e.Off, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *FormatError) Unwrap() error { return e.Err }

// ErrNoStream is returned by accessors for a stream the dump lacks.
var ErrNoStream = errors.New("minidump: stream not present")

// Header is MINIDUMP_HEADER.
type Header struct {
	Signature          uint32
	Version            uint32
	NumberOfStreams    uint32
	StreamDirectoryRva uint32
	CheckSum           uint32
	TimeDateStamp      uint32
	Flags              uint64
}

// Directory is one MINIDUMP_DIRECTORY entry.
type Directory struct {
	StreamType StreamType
	DataSize   uint32
	Rva        uint32
}

// File is an open minidump.
type File struct {
	r      io.ReaderAt
	size   int64
	order  binary.ByteOrder
	closer io.Closer

	header Header
	dir    []Directory

	mu    sync.Mutex
	diags []model.Diagnostic

	info         func() model.Info
	modelThreads func() ([]model.Thread, error)
	modelModules func() ([]model.Module, error)
	memory       func() (mem.Space, error)
}

// Probe reports whether r starts with the minidump signature in either byte
// order.
func Probe(r io.ReaderAt, size int64) bool {
	var b [4]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return false
	}
	return string(b[:]) == "MDMP" || string(b[:]) == "PMDM"
}

// Open opens the named file.
func Open(path string) (*File, error) {
	f, file, err := osfile.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	f.closer = file
	return f, nil
}

// NewFile reads the header and stream directory from r.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	var hb [headerSize]byte
	if n, err := r.ReadAt(hb[:], 0); n < len(hb) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, &FormatError{Off: int64(n), What: fmt.Sprintf("header truncated: %d of %d bytes", n, headerSize), Err: err}
	}
	f := &File{r: r, size: size}
	switch string(hb[:4]) {
	case "MDMP":
		f.order = binary.LittleEndian
	case "PMDM":
		f.order = binary.BigEndian
	default:
		return nil, &FormatError{Off: 0, What: fmt.Sprintf("bad signature % x, want \"MDMP\"", hb[:4])}
	}
	c := bin.New(hb[:], 0, f.order)
	h := &f.header
	h.Signature, h.Version, h.NumberOfStreams, h.StreamDirectoryRva = c.U32(), c.U32(), c.U32(), c.U32()
	h.CheckSum, h.TimeDateStamp, h.Flags = c.U32(), c.U32(), c.U64()
	if h.Version&0xffff != Version {
		f.diag(model.Warning, 4, fmt.Sprintf("version %#x, want low word %#x", h.Version, Version))
	}

	dirOff := int64(h.StreamDirectoryRva)
	if dirOff >= size {
		return nil, &FormatError{Off: 12, What: fmt.Sprintf("stream directory at %#x lies past the end of the file (size %d)", dirOff, size), Err: io.ErrUnexpectedEOF}
	}
	count := uint64(h.NumberOfStreams)
	if avail := uint64(size-dirOff) / directorySize; count > avail {
		f.diag(model.Warning, 8, fmt.Sprintf("header claims %d streams but the file holds at most %d directory entries", count, avail))
		count = avail
	}
	buf := make([]byte, count*directorySize)
	if _, err := r.ReadAt(buf, dirOff); err != nil && err != io.EOF {
		return nil, &FormatError{Off: dirOff, What: "reading stream directory", Err: err}
	}
	dc := bin.New(buf, dirOff, f.order)
	f.dir = make([]Directory, count)
	for i := range f.dir {
		d := &f.dir[i]
		d.StreamType, d.DataSize, d.Rva = StreamType(dc.U32()), dc.U32(), dc.U32()
	}
	f.checkTruncation()
	f.info = sync.OnceValue(f.buildInfo)
	f.modelThreads = sync.OnceValues(f.buildThreads)
	f.modelModules = sync.OnceValues(f.buildModules)
	f.memory = sync.OnceValues(f.buildMemory)
	return f, nil
}

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Header returns the file header.
func (f *File) Header() Header { return f.header }

// ByteOrder returns the dump's byte order (little-endian but for Breakpad
// dumps of big-endian machines).
func (f *File) ByteOrder() binary.ByteOrder { return f.order }

// Directory returns the stream directory.
func (f *File) Directory() []Directory { return f.dir }

// Stream returns a reader over stream i, clipped to the file.
func (f *File) Stream(i int) *io.SectionReader {
	d := f.dir[i]
	off, n := int64(d.Rva), int64(d.DataSize)
	if off > f.size {
		off, n = f.size, 0
	}
	n = min(n, f.size-off)
	return io.NewSectionReader(f.r, off, n)
}

// Diagnostics returns the recoverable problems found so far.
func (f *File) Diagnostics() []model.Diagnostic {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Diagnostic(nil), f.diags...)
}

func (f *File) diag(sev model.Severity, off int64, msg string) {
	f.mu.Lock()
	f.diags = append(f.diags, model.Diagnostic{Severity: sev, Off: off, Msg: msg})
	f.mu.Unlock()
}

// checkTruncation says at open, as WinDbg does, when the file ends before
// what its directory and memory lists describe: one diagnostic with what
// is missing, rather than one per range when the memory is first read.
// The memory past the end then reads as absent; the rest still works.
func (f *File) checkTruncation() {
	size := uint64(f.size)
	var streamsCut []string
	for _, d := range f.dir {
		if d.StreamType != UnusedStream && uint64(d.Rva)+uint64(d.DataSize) > size {
			streamsCut = append(streamsCut, d.StreamType.String())
		}
	}
	var ranges, cut int
	var missing, firstCut uint64
	seen := map[int64]bool{} // a range listed in both lists is counted once
	for _, get := range []func() ([]MemoryRange, error){f.Memory64List, f.MemoryList} {
		rs, err := get()
		if err != nil {
			continue
		}
		for _, r := range rs {
			if seen[r.FileOff] {
				continue
			}
			seen[r.FileOff] = true
			ranges++
			end, ok := addOK(uint64(r.FileOff), r.Size)
			if !ok {
				end = ^uint64(0)
			}
			if end > size {
				if cut == 0 || uint64(r.FileOff) < firstCut {
					firstCut = uint64(r.FileOff)
				}
				cut++
				missing += r.Size - (min(max(uint64(r.FileOff), size), end) - uint64(r.FileOff))
			}
		}
	}
	if len(streamsCut) == 0 && cut == 0 {
		return
	}
	msg := fmt.Sprintf("the dump file is truncated: it ends at %#x, before", f.size)
	var parts []string
	if len(streamsCut) > 0 {
		parts = append(parts, fmt.Sprintf("the end of %d stream(s) (%s)", len(streamsCut), strings.Join(streamsCut, ", ")))
	}
	if cut > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d memory range(s) (%d bytes missing, from file offset %#x), which read as absent", cut, ranges, missing, firstCut))
	}
	f.diag(model.Warning, f.size, msg+" "+strings.Join(parts, " and "))
}

// addOK is a+b and whether it did not overflow.
func addOK(a, b uint64) (uint64, bool) {
	return a + b, a+b >= a
}

// maxStreamRead caps how much of one stream the header-level accessors read;
// the fixed records they decode are far smaller.
const maxStreamRead = 16 << 20

// find returns the index of the first stream of type t, or -1.
func (f *File) find(t StreamType) int {
	for i, d := range f.dir {
		if d.StreamType == t {
			return i
		}
	}
	return -1
}

// streamBytes reads up to limit bytes of the first stream of type t. A
// stream cut short by the end of the file yields what is there.
func (f *File) streamBytes(t StreamType, limit int64) ([]byte, int64, error) {
	i := f.find(t)
	if i < 0 {
		return nil, 0, ErrNoStream
	}
	sr := f.Stream(i)
	n := min(sr.Size(), limit)
	b := make([]byte, n)
	if _, err := sr.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, 0, &FormatError{Off: int64(f.dir[i].Rva), What: "reading " + t.String(), Err: err}
	}
	return b, int64(f.dir[i].Rva), nil
}

// readString reads a MINIDUMP_STRING (byte length + UTF-16) at rva.
func (f *File) readString(rva uint32) (string, error) {
	var lb [4]byte
	if _, err := f.r.ReadAt(lb[:], int64(rva)); err != nil {
		return "", &FormatError{Off: int64(rva), What: "reading string length", Err: err}
	}
	n := int64(f.order.Uint32(lb[:]))
	if n > 64<<10 || int64(rva)+4+n > f.size {
		return "", &FormatError{Off: int64(rva), What: fmt.Sprintf("string of %d bytes runs past the end of the file or is implausibly long", n)}
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, int64(rva)+4); err != nil && err != io.EOF {
		return "", &FormatError{Off: int64(rva) + 4, What: "reading string", Err: err}
	}
	return bin.UTF16(b, f.order), nil
}

// maxRead bounds one structure read through read: no record the package
// decodes in one piece is larger, and it keeps a hostile size from
// allocating more than the file could justify.
const maxRead = 64 << 20

// read returns n bytes at off, failing with a FormatError if they do not lie
// inside the file.
func (f *File) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || n > maxRead || off > f.size || n > f.size-off {
		return nil, &FormatError{Off: off, What: fmt.Sprintf("%d bytes at %#x lie outside the %d-byte file", n, off, f.size), Err: io.ErrUnexpectedEOF}
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, off); err != nil && !(err == io.EOF && n > 0) {
		return nil, &FormatError{Off: off, What: "read failed", Err: err}
	}
	return b, nil
}

// streamData returns the whole of the first stream of type t (bounded by
// maxStreamRead), failing if the stream is cut short by the end of the file.
func (f *File) streamData(t StreamType) ([]byte, int64, error) {
	i := f.find(t)
	if i < 0 {
		return nil, 0, ErrNoStream
	}
	d := f.dir[i]
	n := min(int64(d.DataSize), maxStreamRead)
	b, err := f.read(int64(d.Rva), n)
	if err != nil {
		return nil, int64(d.Rva), &FormatError{Off: int64(d.Rva), What: fmt.Sprintf("%v (%d bytes) runs past the end of the file", t, d.DataSize), Err: io.ErrUnexpectedEOF}
	}
	return b, int64(d.Rva), nil
}

// utf8String reads a Crashpad MinidumpUTF8String (byte length, bytes, NUL).
func (f *File) utf8String(rva uint32) (string, error) {
	lb, err := f.read(int64(rva), 4)
	if err != nil {
		return "", err
	}
	n := int64(f.order.Uint32(lb))
	b, err := f.read(int64(rva)+4, n)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
