package container

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

const (
	chunkSize  = 64 << 10 // sparse granularity: an all-zero chunk is not written
	copySize   = 1 << 20  // read size of the copy loop; ctx and Progress are served per read
	spaceEvery = 64 << 20 // re-check free space after this many bytes physically written
	tmpPrefix  = ".tmp-"  // temporary files in the cache directory
	tmpMaxAge  = 24 * time.Hour
)

// Unpack unpacks the container at path into the cache and returns the
// unpacked file. Nested containers are peeled until the content is no
// container (at most MaxDepth layers). A file that is no container is
// returned unchanged (Unpacked.Kind "", Unpacked.Path the input) so callers
// can pass every file through Unpack.
//
// A previous result for the same file (absolute path, size, modification
// time, chosen member) is reused without decompressing again. The cache key
// covers the outer member only; inner archives are assumed to be chosen the
// same way each time (true for the default Pick).
//
// Errors are *Error; see the sentinels for errors.Is. Cancelling ctx stops
// the unpack between chunks with an error wrapping ctx.Err(). On any error
// no partial file is left behind.
func Unpack(ctx context.Context, path string, o Options) (res *Unpacked, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &Error{Path: path, Off: -1, What: "resolving the path", Err: err}
	}
	defer func() {
		if e, ok := errors.AsType[*Error](err); ok && e.Path == "" {
			e.Path = abs
		}
	}()
	o, err = o.withDefaults()
	if err != nil {
		return nil, errorf("", -1, err, "finding the cache directory")
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, errorf("", -1, err, "opening the input")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errorf("", -1, err, "opening the input")
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf("", -1, ErrUnsupported, "not a regular file (%v)", fi.Mode().Type())
	}
	kind, ok := Detect(f, fi.Size())
	if !ok {
		return &Unpacked{Path: abs, Size: fi.Size()}, nil
	}
	u := &unpacker{ctx: ctx, o: o, abs: abs}
	defer u.cleanup()
	return u.run(f, fi, kind)
}

// unpacker holds the state of one Unpack call.
type unpacker struct {
	ctx     context.Context
	o       Options
	abs     string
	inSize  int64          // bytes of the file given to Unpack, for MaxRatio
	temps   []string       // temporary files to remove at the end
	closers []func() error // decoders to close at the end
}

// stream is the decompressed output of one layer.
type stream struct {
	r     io.Reader
	kind  Kind  // the layer that produced r
	total int64 // exact size of r, -1 if unknown
	least int64 // lower bound of the size (zstd frame content size), -1 if unknown
}

// syncOutput is turned off by the fuzz test only, where an fsync per
// input would dominate the run time.
var syncOutput = true

// testHook, when set by tests, is called each time a decompressor is
// started for real (not for Pick's peeks), to prove cache hits do no work.
var testHook func(Kind)

func (u *unpacker) hook(k Kind) {
	if testHook != nil {
		testHook(k)
	}
}

func (u *unpacker) cleanup() {
	for i := len(u.closers) - 1; i >= 0; i-- {
		u.closers[i]()
	}
	for _, t := range u.temps {
		os.Remove(t)
	}
}

func (u *unpacker) run(f *os.File, fi os.FileInfo, kind Kind) (*Unpacked, error) {
	if err := u.prepareCache(); err != nil {
		return nil, err
	}
	size := fi.Size()
	u.inSize = size
	head := readHead(io.NewSectionReader(f, 0, size))
	nested := []Kind{kind}
	var members []string

	// The outer archive's member is part of the cache key, so archives
	// are opened before the lookup (that reads only their directory).
	var s stream
	var outer chosen
	var err error
	if kind.archive() {
		if outer, err = u.openArchive(kind, f, size); err != nil {
			return nil, err
		}
		members = append(members, outer.name)
	}
	key := cacheKey(u.abs, size, fi.ModTime(), strings.Join(members, "!"))
	final := filepath.Join(u.o.CacheDir, key+".unpacked")
	if res, err := u.lookup(key, final); res != nil || err != nil {
		return res, err
	}
	if kind.archive() {
		s, err = outer.open()
	} else {
		src := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), copySize)
		s, err = u.openStream(kind, src, head)
	}
	if err != nil {
		return nil, err
	}

	for {
		br := bufio.NewReaderSize(s.r, chunkSize)
		h, err := br.Peek(headLen)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, u.layerErr(s.kind, -1, err)
		}
		hsize := int64(-1)
		if len(h) < headLen {
			hsize = int64(len(h)) // the whole stream
		}
		s.r = br
		k, ok := Detect(bytes.NewReader(h), hsize)
		if !ok {
			break
		}
		if len(nested) == MaxDepth {
			return nil, errorf(k, -1, ErrUnsupported, "more than %d nested containers", MaxDepth)
		}
		nested = append(nested, k)
		if !k.archive() {
			if s, err = u.openStream(k, br, bytes.Clone(h)); err != nil {
				return nil, err
			}
			continue
		}
		// An archive inside a stream needs random access: spool it.
		tf, n, err := u.spool(s)
		if err != nil {
			return nil, err
		}
		inner, err := u.openArchive(k, tf, n)
		if err != nil {
			return nil, err
		}
		if s, err = inner.open(); err != nil {
			return nil, err
		}
		members = append(members, inner.name)
	}

	n, truncated, err := u.write(s, final)
	if err != nil {
		return nil, err
	}
	res := &Unpacked{Path: final, Kind: kind, Member: strings.Join(members, "!"), Size: n, Nested: nested, Truncated: truncated}
	if err := u.saveMeta(key, res); err != nil {
		os.Remove(final)
		return nil, err
	}
	return res, nil
}

func (u *unpacker) openArchive(k Kind, ra io.ReaderAt, size int64) (chosen, error) {
	if k == Zip {
		return u.openZip(ra, size)
	}
	return u.openCab(ra, size)
}

// openStream starts the decoder of a stream format on src. head holds the
// first bytes of src, for the zstd frame content size.
func (u *unpacker) openStream(k Kind, src io.Reader, head []byte) (stream, error) {
	in := &countingReader{r: src}
	s := stream{kind: k, total: -1, least: -1}
	var r io.Reader
	var err error
	u.hook(k)
	switch k {
	case Gzip:
		var z *gzip.Reader
		if z, err = gzip.NewReader(in); err == nil {
			r = z
		}
	case XZ:
		r, err = u.xzReader(in)
	case Zstd:
		var d *zstd.Decoder
		if d, err = zstd.NewReader(in, u.zstdOptions()...); err == nil {
			u.closers = append(u.closers, func() error { d.Close(); return nil })
			r = d
			s.least = zstdContentSize(head)
			if err := u.checkExpected(Zstd, "", s.least); err != nil {
				return s, err
			}
		}
	case Bzip2:
		r = bzip2.NewReader(in)
	}
	if err != nil {
		return s, u.layerErr(k, in.n, err)
	}
	s.r = &tagReader{r: r, kind: k, off: func() int64 { return in.n }, u: u}
	return s, nil
}

// xzReader starts an xz decoder behind the guard that enforces MaxWindow.
func (u *unpacker) xzReader(r io.Reader) (io.Reader, error) {
	return NewXZReader(r, u.o.MaxWindow)
}

// NewXZReader decompresses the xz stream r, refusing (with an *Error
// wrapping ErrCorrupt) a block whose LZMA2 dictionary exceeds maxWindow
// bytes before the decoder allocates it. For xz data inside other files,
// such as an ELF's .gnu_debugdata. DictCap 0 makes the decoder allocate
// the dictionary the header asks for (the guard has checked it) rather
// than at least 8 MiB. The guard gets a bufio.Reader below it because the
// decoder reads a byte at a time.
func NewXZReader(r io.Reader, maxWindow int64) (io.Reader, error) {
	return xz.ReaderConfig{DictCap: 0}.NewReader(newXZGuard(bufio.NewReader(r), maxWindow))
}

// zstdOptions bound the decoder's memory: the window (allocated up front
// from the frame header) by MaxWindow, also for single-segment frames whose
// window is their content size (WithDecoderMaxMemory); one goroutine, since
// decoding is not the bottleneck of a sparse write on two cores.
func (u *unpacker) zstdOptions() []zstd.DOption {
	w := uint64(max(u.o.MaxWindow, 1<<10))
	return []zstd.DOption{
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(w),
		zstd.WithDecoderMaxMemory(w),
	}
}

// zstdContentSize returns the Frame_Content_Size of the zstd frame at the
// start of h, or -1 when absent. With several frames it is a lower bound.
func zstdContentSize(h []byte) int64 {
	if !isZstdFrame(h) || len(h) < 5 {
		return -1
	}
	fhd := h[4]
	single := fhd&0x20 != 0
	pos := 5 + [4]int{0, 1, 2, 4}[fhd&3]
	if !single {
		pos++ // Window_Descriptor
	}
	n := [4]int{0, 2, 4, 8}[fhd>>6]
	if n == 0 && single {
		n = 1
	}
	if n == 0 || len(h) < pos+n {
		return -1
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(h[pos+i])
	}
	if n == 2 {
		v += 256
	}
	if v > 1<<62 {
		return -1
	}
	return int64(v)
}

// checkExpected fails early when a layer declares more output than the
// budget allows.
func (u *unpacker) checkExpected(k Kind, name string, n int64) error {
	if n > u.o.MaxBytes {
		what := "declared size"
		if name != "" {
			what = "member " + quote(name)
		}
		return errorf(k, -1, ErrBudget, "%s of %d bytes exceeds the budget of %d bytes (Options.MaxBytes)", what, n, u.o.MaxBytes)
	}
	return nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// countingReader counts the bytes read through it, for error offsets.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tagReader turns the errors of a layer's decoder into *Error naming the
// layer. Errors that already are *Error (from an outer layer, read
// through this decoder) pass unchanged, so the failing layer is named.
type tagReader struct {
	r    io.Reader
	kind Kind
	off  func() int64
	u    *unpacker
}

func (t *tagReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = t.u.layerErr(t.kind, t.off(), err)
	}
	return n, err
}

// layerErr classifies a decoder error.
func (u *unpacker) layerErr(k Kind, off int64, err error) error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	switch {
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return errorf(k, off, errors.Join(ErrBudget, err), "the zstd window exceeds Options.MaxWindow (%d bytes)", u.o.MaxWindow)
	case isIOError(err):
		return errorf(k, off, err, "reading")
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	return errorf(k, off, corrupt(err), "decompressing")
}

// spool copies an archive found inside a stream to a temporary file.
func (u *unpacker) spool(s stream) (*os.File, int64, error) {
	tf, err := u.createTemp()
	if err != nil {
		return nil, 0, err
	}
	u.closers = append(u.closers, tf.Close)
	n, err := u.copyOut(tf, s, false)
	if err != nil {
		return nil, 0, err
	}
	return tf, n, nil
}

// write copies the final stream to a temporary file and renames it to
// final once complete. When the compressed data breaks off after some
// output (ErrCorrupt: a truncated or damaged stream, not a budget, space,
// cancellation or I/O error), that output is kept as the beginning of the
// dump, and truncated says why it stops.
func (u *unpacker) write(s stream, final string) (n int64, truncated string, err error) {
	tf, err := u.createTemp()
	if err != nil {
		return 0, "", err
	}
	defer tf.Close()
	n, err = u.copyOut(tf, s, true)
	if err != nil {
		if n == 0 || !errors.Is(err, ErrCorrupt) {
			return 0, "", err
		}
		truncated = err.Error()
		if err := tf.Truncate(n); err != nil {
			return 0, "", u.writeErr(s.kind, err)
		}
	}
	// Sync before the rename: after a power cut the cache must hold the
	// whole file or none, not a renamed empty one.
	if syncOutput {
		if err := tf.Sync(); err != nil {
			return 0, "", u.writeErr(s.kind, err)
		}
	}
	if err := tf.Close(); err != nil {
		return 0, "", u.writeErr(s.kind, err)
	}
	if err := u.rename(tf.Name(), final); err != nil {
		return 0, "", u.writeErr(s.kind, err)
	}
	return n, truncated, nil
}

// copyOut copies s to f sparsely: s is read a MiB at a time and each
// 64 KiB chunk that is all zeros is skipped instead of written (a seek
// past it, i.e. a hole where the file system supports them); runs of other
// chunks are written with one WriteAt. The file is truncated to the final
// size, which also materialises trailing holes. Enforces MaxBytes,
// MinFree (before the start, against the expected size when known, and
// every 64 MiB written) and ctx; reports Progress when progress is set.
func (u *unpacker) copyOut(f *os.File, s stream, progress bool) (int64, error) {
	if err := u.checkSpace(s.kind, max(s.total, s.least, 0)); err != nil {
		return 0, err
	}
	buf := make([]byte, copySize)
	var off, sinceCheck int64
	report := func() {
		if progress && u.o.Progress != nil {
			u.o.Progress(off, s.total)
		}
	}
	for {
		if err := u.ctx.Err(); err != nil {
			return off, errorf(s.kind, -1, err, "cancelled after %d bytes", off)
		}
		n, rerr := fill(s.r, buf)
		if int64(n) > u.o.MaxBytes-off {
			return off, errorf(s.kind, -1, ErrBudget, "unpacked data exceeds the budget of %d bytes (Options.MaxBytes)", u.o.MaxBytes)
		}
		if out := off + int64(n); out > ratioFloor && u.inSize > 0 && out/u.inSize > u.o.MaxRatio {
			return off, errorf(s.kind, -1, ErrBudget, "unpacked data is over %d times the size of the %d-byte file (Options.MaxRatio): a decompression bomb?", u.o.MaxRatio, u.inSize)
		}
		data := buf[:n]
		for len(data) > 0 {
			// Skip zero chunks, then write the following run of
			// non-zero chunks in one call.
			for len(data) > 0 && isZero(data[:min(chunkSize, len(data))]) {
				k := min(chunkSize, len(data))
				data, off = data[k:], off+int64(k)
			}
			run := 0
			for run < len(data) && !isZero(data[run:min(run+chunkSize, len(data))]) {
				run = min(run+chunkSize, len(data))
			}
			if run > 0 {
				if _, err := f.WriteAt(data[:run], off); err != nil {
					return off, u.writeErr(s.kind, err)
				}
				data, off, sinceCheck = data[run:], off+int64(run), sinceCheck+int64(run)
			}
		}
		if sinceCheck >= spaceEvery {
			sinceCheck = 0
			if err := u.checkSpace(s.kind, max(s.total-off, 0)); err != nil {
				return off, err
			}
		}
		if n > 0 {
			report()
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return off, rerr
		}
	}
	if err := f.Truncate(off); err != nil {
		return off, u.writeErr(s.kind, err)
	}
	if progress && u.o.Progress != nil {
		u.o.Progress(off, off)
	}
	return off, nil
}

// fill reads until buf is full or r ends; it returns io.EOF only for a
// clean end, so a decoder's own io.ErrUnexpectedEOF stays an error.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

var zeroChunk [chunkSize]byte

// isZero reports whether b (at most one chunk) is all zeros; bytes.Equal
// runs at memory speed.
func isZero(b []byte) bool { return bytes.Equal(b, zeroChunk[:len(b)]) }

func (u *unpacker) writeErr(k Kind, err error) error {
	if isNoSpace(err) {
		return errorf(k, -1, errors.Join(ErrNoSpace, err), "writing to the cache")
	}
	return errorf(k, -1, err, "writing to the cache")
}

// checkSpace fails when writing need more bytes would leave less than
// MinFree on the cache file system.
func (u *unpacker) checkSpace(k Kind, need int64) error {
	if u.o.MinFree <= 0 && need == 0 {
		return nil
	}
	free, ok := freeSpace(u.o.CacheDir)
	if !ok {
		return nil
	}
	if free-need < u.o.MinFree {
		return errorf(k, -1, ErrNoSpace, "%d bytes free in %s, need %d more plus Options.MinFree %d",
			free, u.o.CacheDir, need, u.o.MinFree)
	}
	return nil
}

// prepareCache creates the cache directory, private to the user because
// dumps hold the memory of the crashed process, and removes temporary
// files that a killed process left behind.
func (u *unpacker) prepareCache() error {
	dir := u.o.CacheDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return errorf("", -1, err, "creating the cache directory")
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return errorf("", -1, err, "creating the cache directory")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return errorf("", -1, err, "restricting the cache directory to its owner")
		}
	}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if !strings.HasPrefix(e.Name(), tmpPrefix) {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > tmpMaxAge {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	return nil
}

// createTemp creates a 0600 temporary file in the cache, removed at the
// end of the unpack unless renamed.
func (u *unpacker) createTemp() (*os.File, error) {
	tf, err := os.CreateTemp(u.o.CacheDir, tmpPrefix+"*")
	if err != nil {
		return nil, u.writeErr("", err)
	}
	u.temps = append(u.temps, tf.Name())
	return tf, nil
}

// rename moves a finished temporary file into place and stops tracking it.
func (u *unpacker) rename(tmp, dst string) error {
	if err := os.Rename(tmp, dst); err != nil {
		return err
	}
	for i, t := range u.temps {
		if t == tmp {
			u.temps = append(u.temps[:i], u.temps[i+1:]...)
			break
		}
	}
	return nil
}

// cacheKey hashes the identity of the input: absolute path, size,
// modification time and member. Fields are length-prefixed so that no two
// inputs share a key.
func cacheKey(abs string, size int64, mtime time.Time, member string) string {
	h := sha256.New()
	put := func(s string) {
		binary.Write(h, binary.LittleEndian, uint64(len(s)))
		h.Write([]byte(s))
	}
	put("crashbench/container v1")
	put(abs)
	binary.Write(h, binary.LittleEndian, size)
	binary.Write(h, binary.LittleEndian, mtime.UnixNano())
	put(member)
	return hex.EncodeToString(h.Sum(nil))
}

// cacheMeta is stored beside each cached file. It is written after the
// file is renamed into place, so its presence (with a matching size) marks
// the entry complete.
type cacheMeta struct {
	Source    string
	Kind      Kind
	Member    string
	Size      int64
	Nested    []Kind
	Truncated string `json:",omitempty"`
}

func (u *unpacker) lookup(key, final string) (*Unpacked, error) {
	b, err := os.ReadFile(filepath.Join(u.o.CacheDir, key+".json"))
	if err != nil {
		return nil, nil
	}
	var m cacheMeta
	if json.Unmarshal(b, &m) != nil || m.Source != u.abs {
		return nil, nil
	}
	fi, err := os.Stat(final)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != m.Size {
		return nil, nil
	}
	if m.Size > u.o.MaxBytes {
		// Same answer as unpacking afresh would give.
		return nil, errorf(m.Kind, -1, ErrBudget, "unpacked data (%d bytes) exceeds the budget of %d bytes (Options.MaxBytes)", m.Size, u.o.MaxBytes)
	}
	if u.o.Progress != nil {
		u.o.Progress(m.Size, m.Size)
	}
	return &Unpacked{Path: final, Kind: m.Kind, Member: m.Member, Size: m.Size, Nested: m.Nested, Truncated: m.Truncated}, nil
}

func (u *unpacker) saveMeta(key string, res *Unpacked) error {
	b, _ := json.Marshal(cacheMeta{Source: u.abs, Kind: res.Kind, Member: res.Member, Size: res.Size, Nested: res.Nested, Truncated: res.Truncated})
	tf, err := u.createTemp()
	if err != nil {
		return err
	}
	defer tf.Close()
	if _, err := tf.Write(b); err != nil {
		return u.writeErr(res.Kind, err)
	}
	if err := tf.Close(); err != nil {
		return u.writeErr(res.Kind, err)
	}
	if err := u.rename(tf.Name(), filepath.Join(u.o.CacheDir, key+".json")); err != nil {
		return u.writeErr(res.Kind, err)
	}
	return nil
}
