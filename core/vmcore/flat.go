package vmcore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/crashbench/crashbench/core/model"
)

// maxProbeRecords bounds the flattened records NewFile reads: makedumpfile
// writes the kdump header, the sub-header, the notes and VMCOREINFO (or the
// ELF header, program headers and notes) in its first few records, so a
// thousand is plenty. The full index is built on demand (Ranges).
const maxProbeRecords = 1024

// errFlatHole says a read touched bytes no flattened record supplies.
var errFlatHole = errors.New("bytes not supplied by any flattened record")

// isFlat reports whether b starts with a makedumpfile_header: the signature
// NUL-padded to SIZE_SIG_MDF (makedumpfile compares it with strcmp) and type
// TYPE_FLAT_HEADER as a big-endian int64.
func isFlat(b []byte) bool {
	if len(b) < SIZE_SIG_MDF+8 || string(b[:len(MAKEDUMPFILE_SIGNATURE)]) != MAKEDUMPFILE_SIGNATURE {
		return false
	}
	for _, c := range b[len(MAKEDUMPFILE_SIGNATURE):SIZE_SIG_MDF] {
		if c != 0 {
			return false
		}
	}
	return int64(binary.BigEndian.Uint64(b[SIZE_SIG_MDF:])) == TYPE_FLAT_HEADER
}

// extent says that logical bytes [log, log+n) of the rearranged dump are
// stored at file bytes [file, file+n).
type extent struct{ log, file, n int64 }

// flatIndex maps the rearranged (logical) dump onto a flattened file. It is
// an io.ReaderAt over the logical image; reads of bytes that no scanned
// record supplies fail with errFlatHole.
type flatIndex struct {
	r        io.ReaderAt
	exts     []extent // sorted by log, non-overlapping
	end      int64    // highest logical byte supplied, plus one
	records  int
	complete bool // reached the end marker, or damage that ends the stream
	diags    []model.Diagnostic
}

// scanFlat reads the record headers after the MAX_SIZE_MDF_HEADER block,
// at most maxRecords of them (0: all). Each record takes at least 17 bytes
// of the file, so the index is bounded by the file size.
func scanFlat(r io.ReaderAt, size int64, maxRecords int) *flatIndex {
	x := &flatIndex{r: r}
	win := window{r: r, size: size}
	off := int64(MAX_SIZE_MDF_HEADER)
	for maxRecords == 0 || x.records < maxRecords {
		if off == size {
			x.diag(model.Warning, off, "flattened stream ends without the end record (offset = buf_size = -1); the dump may be cut short")
			x.complete = true
			break
		}
		h, ok := win.at(off, sizeofMakedumpfileDataHeader)
		if !ok {
			x.diag(model.Warning, off, fmt.Sprintf("flattened record header at %#x cut off by the end of the file (size %d)", off, size))
			x.complete = true
			break
		}
		lo, n := int64(binary.BigEndian.Uint64(h)), int64(binary.BigEndian.Uint64(h[8:]))
		if lo == END_FLAG_FLAT_HEADER && n == END_FLAG_FLAT_HEADER {
			x.complete = true
			break
		}
		if lo < 0 || n <= 0 {
			// rearrange_dumpdata stops at such a record and fails.
			x.diag(model.Error, off, fmt.Sprintf("flattened record at %#x has offset %d and buf_size %d; reading stops here", off, lo, n))
			x.complete = true
			break
		}
		x.records++
		data := off + sizeofMakedumpfileDataHeader
		have := min(n, size-data)
		if lo > math.MaxInt64-have {
			x.diag(model.Error, off, fmt.Sprintf("flattened record at %#x: offset %#x + buf_size %d overflows", off, lo, n))
			x.complete = true
			break
		}
		if have > 0 {
			x.exts = append(x.exts, extent{log: lo, file: data, n: have})
		}
		if have < n {
			x.diag(model.Warning, off, fmt.Sprintf("flattened record at %#x cut off: %d of %d bytes present", off, max(have, 0), n))
			x.complete = true
			break
		}
		off = data + n
	}
	x.normalize()
	return x
}

func (x *flatIndex) diag(sev model.Severity, off int64, msg string) {
	x.diags = append(x.diags, model.Diagnostic{Severity: sev, Off: off, Msg: msg})
}

// normalize sorts the extents by logical offset and clips overlaps.
// makedumpfile never writes overlapping records; if a file has them, the
// record with the lower logical offset keeps its bytes (and, at equal
// offsets, the one earlier in the file), and a diagnostic says so.
func (x *flatIndex) normalize() {
	sort.SliceStable(x.exts, func(i, j int) bool { return x.exts[i].log < x.exts[j].log })
	out := x.exts[:0]
	var end int64
	overlap := false
	for _, e := range x.exts {
		if len(out) > 0 && e.log < end {
			overlap = true
			d := end - e.log
			if d >= e.n {
				continue
			}
			e.log, e.file, e.n = e.log+d, e.file+d, e.n-d
		}
		out = append(out, e)
		end = e.log + e.n
	}
	x.exts = out
	x.end = end
	if overlap {
		x.diag(model.Warning, -1, "flattened records overlap; the record at the lower offset was kept")
	}
}

// ReadAt reads the rearranged dump.
func (x *flatIndex) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errFlatHole
	}
	n := 0
	for n < len(p) {
		cur := off + int64(n)
		if cur >= x.end {
			return n, io.EOF
		}
		i := sort.Search(len(x.exts), func(i int) bool { return x.exts[i].log+x.exts[i].n > cur })
		if i == len(x.exts) || x.exts[i].log > cur {
			return n, errFlatHole
		}
		e := x.exts[i]
		k := int(min(int64(len(p)-n), e.log+e.n-cur))
		m, err := x.r.ReadAt(p[n:n+k], e.file+(cur-e.log))
		n += m
		if m < k {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	return n, nil
}

// window serves small reads (record headers) from a 64 KiB buffer, so that
// scanning thousands of records costs a few large reads.
type window struct {
	r    io.ReaderAt
	size int64
	base int64
	buf  []byte
}

func (w *window) at(off int64, n int) ([]byte, bool) {
	if off < 0 || off > w.size-int64(n) {
		return nil, false
	}
	if off < w.base || off+int64(n) > w.base+int64(len(w.buf)) {
		if w.buf == nil {
			w.buf = make([]byte, 0, 64<<10)
		}
		k := min(int64(cap(w.buf)), w.size-off)
		w.buf = w.buf[:k]
		m, _ := w.r.ReadAt(w.buf, off)
		w.buf, w.base = w.buf[:m], off
		if m < n {
			return nil, false
		}
	}
	i := off - w.base
	return w.buf[i : i+int64(n)], true
}
