package lime

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/crashbench/crashbench/core/internal/bin"
	"github.com/crashbench/crashbench/core/internal/osfile"
	"github.com/crashbench/crashbench/core/model"
)

var (
	_ model.Target      = (*File)(nil)
	_ model.RangeLister = (*File)(nil)
)

// MaxRanges bounds the headers NewFile walks. Real images hold one range per
// "System RAM" line of /proc/iomem, a few dozen at most; the bound keeps a
// hostile file of tiny ranges from costing memory out of proportion.
const MaxRanges = 1 << 16

// Probe reports whether the file starts with the LiME magic. It reads four
// bytes.
func Probe(r io.ReaderAt, size int64) bool {
	if size < 4 {
		return false
	}
	var b [4]byte
	if n, _ := r.ReadAt(b[:], 0); n < len(b) {
		return false
	}
	return binary.LittleEndian.Uint32(b[:]) == LIME_MAGIC
}

// File is an opened LiME image. It is safe for concurrent use.
type File struct {
	r        io.ReaderAt
	size     int64
	closer   io.Closer
	ranges   []model.Range
	captured uint64 // bytes of memory the ranges hold (as stored)
	version  uint32 // of the first header
	diags    []model.Diagnostic
	info     func() model.Info
}

// Open opens the named file and walks its range headers. Close closes the
// file.
func Open(path string) (*File, error) {
	f, file, err := osfile.Open(path, NewFile)
	if err != nil {
		return nil, err
	}
	f.closer = file
	return f, nil
}

// NewFile reads r, which holds size bytes, as a LiME image: it walks the
// chain of range headers (one 32-byte read per range). It fails only when the
// first header is missing or has the wrong magic; later damage becomes a
// diagnostic and ends the walk.
func NewFile(r io.ReaderAt, size int64) (*File, error) {
	var b [HeaderSize]byte
	if size < 4 {
		return nil, &FormatError{Off: 0, What: "magic", Err: ErrUnrecognized}
	}
	if err := readFull(r, b[:4], 0, "magic"); err != nil {
		return nil, err
	}
	if m := binary.LittleEndian.Uint32(b[:]); m != LIME_MAGIC {
		return nil, &FormatError{Off: 0, What: fmt.Sprintf("magic %#x", m), Err: ErrUnrecognized}
	}
	if size < HeaderSize {
		return nil, &FormatError{Off: size, What: "file ends inside the first range header", Err: io.ErrUnexpectedEOF}
	}
	f := &File{r: r, size: size}
	if err := f.walk(); err != nil {
		return nil, err
	}
	f.info = sync.OnceValue(f.buildInfo)
	return f, nil
}

func readFull(r io.ReaderAt, p []byte, off int64, what string) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return &FormatError{Off: off + int64(n), What: what, Err: err}
}

func (f *File) diag(sev model.Severity, off int64, format string, args ...any) {
	f.diags = append(f.diags, model.Diagnostic{Severity: sev, Off: off, Msg: fmt.Sprintf(format, args...)})
}

// walk follows the headers from offset 0 to the end of the file.
func (f *File) walk() error {
	var buf [HeaderSize]byte
	var prevEnd uint64
	off := int64(0)
	for i := 0; off < f.size; i++ {
		if i == MaxRanges {
			f.diag(model.Error, off, "more than %d ranges; ignoring the rest of the file", MaxRanges)
			return nil
		}
		if f.size-off < HeaderSize {
			f.diag(model.Warning, off, "%d bytes after the last range are too short for a range header", f.size-off)
			return nil
		}
		if err := readFull(f.r, buf[:], off, fmt.Sprintf("range header %d", i)); err != nil {
			return err
		}
		c := bin.New(buf[:], off, binary.LittleEndian)
		magic, version := c.U32(), c.U32()
		start, end := c.U64(), c.U64()
		if magic != LIME_MAGIC {
			f.diag(model.Error, off, "range header %d has magic %#x, not %#x; ignoring the rest of the file", i, magic, LIME_MAGIC)
			return nil
		}
		if i == 0 {
			f.version = version
		}
		if version != LIME_VERSION {
			f.diag(model.Warning, off+hdrVersion, "range header %d has version %d; only version %d is defined", i, version, LIME_VERSION)
		}
		if end < start || end-start == ^uint64(0) {
			f.diag(model.Error, off+hdrEAddr, "range header %d: end %#x does not follow start %#x; ignoring the rest of the file", i, end, start)
			return nil
		}
		n := end - start + 1 // e_addr is inclusive
		if i > 0 && start < prevEnd {
			f.diag(model.Warning, off+hdrSAddr, "range %d (%#x-%#x) overlaps or precedes range %d", i, start, end, i-1)
		}
		prevEnd = start + n
		data := off + HeaderSize
		avail := uint64(f.size - data)
		if n > avail {
			f.diag(model.Error, f.size, "range %d (%#x-%#x) needs %#x bytes but the file holds %#x (truncated image)", i, start, end, n, avail)
			if avail > 0 {
				f.add(i, start, avail, data)
			}
			return nil
		}
		f.add(i, start, n, data)
		off = data + int64(n)
	}
	return nil
}

func (f *File) add(i int, start, n uint64, off int64) {
	f.ranges = append(f.ranges, model.Range{
		Start:    start,
		Size:     n,
		FileOff:  off,
		Physical: true,
		Label:    fmt.Sprintf("range %d", i),
	})
	f.captured += n
}

// Info returns the image summary. It is computed once.
func (f *File) Info() model.Info { return f.info() }

func (f *File) buildInfo() model.Info {
	info := model.Info{
		Format:  model.LiME,
		Variant: "lime",
		OS:      model.OS{Family: model.Linux},
		Threads: -1,
		Modules: -1,
		// LiME is loaded into a running kernel: the image is a live
		// acquisition, never a crash.
		Crash: &model.Crash{Kind: model.NoCrash, Message: "live memory acquisition (LiME)"},
	}
	d := []model.Detail{
		{Key: "Version", Value: fmt.Sprint(f.version)},
		{Key: "Ranges", Value: fmt.Sprint(len(f.ranges))},
		{Key: "Captured", Value: fmt.Sprintf("%#x bytes", f.captured)},
	}
	if n := len(f.ranges); n > 0 {
		first, last := f.ranges[0], f.ranges[n-1]
		d = append(d, model.Detail{Key: "Physical span", Value: fmt.Sprintf("%#x-%#x", first.Start, last.Start+last.Size-1)})
	}
	d = append(d, model.Detail{Key: "Architecture", Value: "not recorded (LiME range headers have no machine field)"})
	info.Details = d
	return info
}

// Diagnostics returns the damage found while walking the headers.
func (f *File) Diagnostics() []model.Diagnostic { return slices.Clone(f.diags) }

// Ranges returns the physical ranges in file order, each with the file
// offset of its first byte. A range cut short by the end of the file is
// listed with the bytes present.
func (f *File) Ranges() ([]model.Range, error) { return slices.Clone(f.ranges), nil }

// Close closes the file if Open opened it.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	return f.closer.Close()
}
