package container

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/bzip2"
	"errors"
	"io"
	"io/fs"
	"math"
	"slices"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
)

// member is one candidate file of an archive, offered to Pick.
type member struct {
	name string
	size int64
	// head returns up to headLen leading bytes, nil when they cannot be
	// read (unsupported method, corrupt data); an error only for
	// cancellation.
	head func() ([]byte, error)
}

// pick chooses the member to unpack; see Options.Pick.
func (u *unpacker) pick(k Kind, ms []member) (int, error) {
	if len(ms) == 0 {
		return 0, errorf(k, -1, ErrNoMember, "archive holds no files")
	}
	if u.o.Pick != nil {
		for i, m := range ms {
			h, err := m.head()
			if err != nil {
				return 0, err
			}
			if u.o.Pick(m.name, h) {
				return i, nil
			}
		}
		return 0, errorf(k, -1, ErrNoMember, "none of %d members accepted by Options.Pick", len(ms))
	}
	bestC, best := -1, 0
	for i, m := range ms {
		h, err := m.head()
		if err != nil {
			return 0, err
		}
		if looksLikeDump(h) {
			return i, nil
		}
		if _, ok := Detect(bytes.NewReader(h), -1); ok && (bestC < 0 || m.size > ms[bestC].size) {
			bestC = i
		}
		if m.size > ms[best].size {
			best = i
		}
	}
	if bestC >= 0 {
		return bestC, nil
	}
	return best, nil
}

// Bounds on the work of reading heads for Pick.
const (
	maxHeadMembers = 1024    // members of a zip offered with a head
	headInputMax   = 4 << 20 // compressed bytes one zip head may consume (a bzip2 block is < 1 MiB)
)

// readHead reads up to headLen bytes from r.
func readHead(r io.Reader) []byte {
	h := make([]byte, headLen)
	n, _ := io.ReadFull(r, h)
	return h[:n]
}

// chosen is the member an archive's Pick chose; open starts decompressing
// it. They are separate so that a cache hit costs no decompression.
type chosen struct {
	name string
	open func() (stream, error)
}

// openZip reads the central directory and picks the member.
func (u *unpacker) openZip(ra io.ReaderAt, size int64) (chosen, error) {
	zr, err := zip.NewReader(ra, size)
	// ErrInsecurePath (only with GODEBUG=zipinsecurepath=0) comes with a
	// usable reader; names are never used as paths here.
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return chosen{}, errorf(Zip, -1, corrupt(err), "reading the central directory")
	}
	decomp := u.zipDecompressors()
	for m, d := range decomp {
		if m != zip.Store {
			zr.RegisterDecompressor(m, d)
		}
	}
	var files []*zip.File
	var ms []member
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		files = append(files, f)
		withHead := len(ms) < maxHeadMembers
		ms = append(ms, member{
			name: f.Name,
			size: clampSize(f.UncompressedSize64),
			head: func() ([]byte, error) {
				if err := u.ctx.Err(); err != nil {
					return nil, errorf(Zip, -1, err, "choosing a member")
				}
				d := decomp[f.Method]
				if !withHead || f.Flags&1 != 0 || d == nil {
					return nil, nil // too many members, encrypted or unknown method
				}
				raw, err := f.OpenRaw()
				if err != nil {
					return nil, nil
				}
				// Members may overlap (every entry pointing at the same
				// data), so the compressed bytes one head may cost are
				// bounded, not just its output.
				rc := d(io.LimitReader(raw, headInputMax))
				defer rc.Close()
				return readHead(rc), nil
			},
		})
	}
	i, err := u.pick(Zip, ms)
	if err != nil {
		return chosen{}, err
	}
	f := files[i]
	return chosen{name: f.Name, open: func() (stream, error) {
		off, _ := f.DataOffset()
		if f.Flags&1 != 0 {
			return stream{}, errorf(Zip, off, ErrUnsupported, "member %q is encrypted", f.Name)
		}
		if err := u.checkExpected(Zip, f.Name, ms[i].size); err != nil {
			return stream{}, err
		}
		u.hook(Zip)
		rc, err := f.Open()
		if err != nil {
			if errors.Is(err, zip.ErrAlgorithm) {
				return stream{}, errorf(Zip, off, ErrUnsupported,
					"member %q uses compression method %d (supported: store, deflate, bzip2, zstd, xz)", f.Name, f.Method)
			}
			return stream{}, errorf(Zip, off, corrupt(err), "opening member %q", f.Name)
		}
		u.closers = append(u.closers, rc.Close)
		return stream{r: &tagReader{r: rc, kind: Zip, off: func() int64 { return off }, u: u}, kind: Zip, total: ms[i].size, least: -1}, nil
	}}, nil
}

// zipDecompressors returns the decoders of the zip methods handled here:
// store, deflate (klauspost's flate, faster than the standard one) and,
// since the libraries are here anyway, the bzip2 (12), zstd (93) and xz (95)
// methods of APPNOTE 4.4.5 that newer zip tools write and archive/zip lacks.
func (u *unpacker) zipDecompressors() map[uint16]zip.Decompressor {
	return map[uint16]zip.Decompressor{
		zip.Store:   io.NopCloser,
		zip.Deflate: flate.NewReader,
		12:          func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) },
		93: func(r io.Reader) io.ReadCloser {
			d, err := zstd.NewReader(r, u.zstdOptions()...)
			if err != nil {
				return errReadCloser{err}
			}
			return d.IOReadCloser()
		},
		95: func(r io.Reader) io.ReadCloser {
			x, err := u.xzReader(r)
			if err != nil {
				return errReadCloser{err}
			}
			return io.NopCloser(x)
		},
	}
}

// errReadCloser reports a decoder that could not even start.
type errReadCloser struct{ err error }

func (e errReadCloser) Read([]byte) (int, error) { return 0, e.err }
func (e errReadCloser) Close() error             { return nil }

func clampSize(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// openCab parses the cabinet and picks the member.
func (u *unpacker) openCab(ra io.ReaderAt, size int64) (chosen, error) {
	c, err := openCabinet(ra, size)
	if err != nil {
		return chosen{}, err
	}
	// Heads are read folder by folder, each in one forward pass and only
	// when Pick first asks for a member of that folder, so choosing among
	// the members of a solid folder costs at most one decode of it.
	heads := map[int]map[int][]byte{} // folder -> file index -> head
	var idx []int
	var ms []member
	for i, f := range c.files {
		if f.folder < 0 {
			continue
		}
		idx = append(idx, i)
		ms = append(ms, member{name: f.name, size: f.size, head: func() ([]byte, error) {
			hs, ok := heads[f.folder]
			if !ok {
				var err error
				if hs, err = u.cabHeads(c, f.folder); err != nil {
					return nil, err
				}
				heads[f.folder] = hs
			}
			return hs[i], nil
		}})
	}
	i, err := u.pick(Cab, ms)
	if err != nil {
		return chosen{}, err
	}
	f := c.files[idx[i]]
	return chosen{name: f.name, open: func() (stream, error) {
		if err := u.checkExpected(Cab, f.name, f.size); err != nil {
			return stream{}, err
		}
		u.hook(Cab)
		r, err := c.open(u.ctx, idx[i], u.o.MaxBytes)
		if err != nil {
			if u.ctx.Err() != nil {
				return stream{}, errorf(Cab, -1, u.ctx.Err(), "seeking to member %q", f.name)
			}
			return stream{}, err
		}
		return stream{r: &tagReader{r: r, kind: Cab, off: func() int64 { return -1 }, u: u}, kind: Cab, total: f.size, least: -1}, nil
	}}, nil
}

// cabHeads reads the first bytes of every member of folder fi in one
// forward pass. Decoding stops at the first problem (unsupported
// compression, corruption, MaxBytes); the members not reached get no head
// and the problem is reported if such a member is chosen. Only
// cancellation is an error here.
func (u *unpacker) cabHeads(c *cabinet, fi int) (map[int][]byte, error) {
	var order []int
	for i, f := range c.files {
		if f.folder == fi {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(c.files[a].off, c.files[b].off) })
	heads := map[int][]byte{}
	fr, err := c.folderReader(fi, u.o.MaxBytes)
	if err != nil {
		return heads, nil
	}
	// buf holds the decoded bytes [bufAt, bufAt+len(buf)).
	var buf []byte
	var bufAt int64
	for _, i := range order {
		f := c.files[i]
		if end := bufAt + int64(len(buf)); f.off > end {
			if err := skip(u.ctx, fr, f.off-end); err != nil {
				break
			}
			buf, bufAt = buf[:0], f.off
		}
		buf = buf[f.off-bufAt:]
		bufAt = f.off
		want := int(min(f.size, headLen))
		if len(buf) < want {
			more := make([]byte, want-len(buf))
			n, _ := io.ReadFull(fr, more)
			buf = append(buf, more[:n]...)
		}
		heads[i] = bytes.Clone(buf[:min(want, len(buf))])
	}
	if err := u.ctx.Err(); err != nil {
		return nil, errorf(Cab, -1, err, "choosing a member")
	}
	return heads, nil
}

// isIOError reports errors of the file system rather than of the data.
func isIOError(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe)
}
