package container

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
)

// A minimal Microsoft Cabinet reader following [MS-CAB] (see the package
// documentation for why it is hand-written). It reads one cabinet (no
// multi-volume sets) with uncompressed or MSZIP folders and streams one
// member at a time; nothing but a 32 KiB window and a 64 KiB block is held
// in memory.

const (
	cabHeaderLen = 36    // fixed part of CFHEADER
	cabFolderLen = 8     // fixed part of CFFOLDER
	cabFileLen   = 16    // fixed part of CFFILE, before the name
	cabDataLen   = 8     // fixed part of CFDATA
	cabMaxName   = 256   // CB_MAX_FILENAME: longest name, without the NUL
	mszipWindow  = 32768 // MSZIP history and largest uncompressed block
)

// CFHEADER flags and CFFOLDER compression types.
const (
	cabPrevCabinet    = 0x0001
	cabNextCabinet    = 0x0002
	cabReservePresent = 0x0004

	cabCompNone    = 0
	cabCompMSZIP   = 1
	cabCompQuantum = 2
	cabCompLZX     = 3

	cabNameIsUTF = 0x80 // CFFILE attribs: the name is UTF-8, not a code page
)

type cabinet struct {
	ra       io.ReaderAt
	size     int64 // min(file size, cbCabinet)
	dataResv int   // cbCFData: reserved bytes in each CFDATA
	folders  []cabFolder
	files    []cabFile
}

type cabFolder struct {
	dataOff int64  // coffCabStart: first CFDATA
	nData   int    // cCFData
	comp    uint16 // typeCompress & 0x000F
}

type cabFile struct {
	name   string
	size   int64 // cbFile
	off    int64 // uoffFolderStart: offset in the folder's uncompressed data
	folder int   // iFolder, -1 for a file continued from/to another cabinet
}

func cabErr(off int64, cause error, format string, args ...any) *Error {
	return errorf(Cab, off, cause, format, args...)
}

// openCabinet parses CFHEADER, the CFFOLDERs and the CFFILEs. Every count
// is checked against the bytes that would have to hold it before anything
// is allocated, so a corrupt header cannot cause a large allocation.
func openCabinet(ra io.ReaderAt, size int64) (*cabinet, error) {
	var h [cabHeaderLen]byte
	if n, _ := ra.ReadAt(h[:], 0); n < cabHeaderLen {
		return nil, cabErr(0, ErrCorrupt, "truncated header (%d bytes)", n)
	}
	le := binary.LittleEndian
	if !bytes.Equal(h[:4], []byte("MSCF")) || le.Uint32(h[4:]) != 0 {
		return nil, cabErr(0, ErrCorrupt, "bad signature")
	}
	cb := int64(le.Uint32(h[8:]))
	if cb > size {
		return nil, cabErr(8, ErrCorrupt, "cabinet is %d bytes but only %d are present (truncated)", cb, size)
	}
	c := &cabinet{ra: ra, size: cb}
	coffFiles := int64(le.Uint32(h[16:]))
	nFolders := int64(le.Uint16(h[26:]))
	nFiles := int64(le.Uint16(h[28:]))
	flags := le.Uint16(h[30:])

	pos := int64(cabHeaderLen)
	folderResv := int64(0)
	if flags&cabReservePresent != 0 {
		var r [4]byte
		if n, _ := ra.ReadAt(r[:], pos); n < 4 || pos+4 > c.size {
			return nil, cabErr(pos, ErrCorrupt, "truncated reserve sizes")
		}
		folderResv = int64(r[2])
		c.dataResv = int(r[3])
		pos += 4 + int64(le.Uint16(r[:]))
	}
	for _, f := range []uint16{cabPrevCabinet, cabNextCabinet} {
		if flags&f != 0 {
			// szCabinet and szDisk of the neighbouring cabinet.
			for range 2 {
				_, next, err := c.cstring(pos)
				if err != nil {
					return nil, err
				}
				pos = next
			}
		}
	}

	if nFolders*(cabFolderLen+folderResv) > c.size-pos {
		return nil, cabErr(26, ErrCorrupt, "%d folders do not fit in %d bytes", nFolders, c.size)
	}
	c.folders = make([]cabFolder, nFolders)
	for i := range c.folders {
		var b [cabFolderLen]byte
		if n, _ := ra.ReadAt(b[:], pos); n < cabFolderLen {
			return nil, cabErr(pos, ErrCorrupt, "truncated folder entry %d", i)
		}
		f := cabFolder{dataOff: int64(le.Uint32(b[:])), nData: int(le.Uint16(b[4:])), comp: le.Uint16(b[6:]) & 0x000f}
		if f.dataOff > c.size || int64(f.nData)*cabDataLen > c.size-f.dataOff {
			return nil, cabErr(pos, ErrCorrupt, "folder %d: %d data blocks at offset %d do not fit in %d bytes",
				i, f.nData, f.dataOff, c.size)
		}
		c.folders[i] = f
		pos += cabFolderLen + folderResv
	}

	// Each CFFILE is 16 bytes plus a name of at least one byte and its NUL.
	if coffFiles > c.size || nFiles*(cabFileLen+2) > c.size-coffFiles {
		return nil, cabErr(16, ErrCorrupt, "%d files at offset %d do not fit in %d bytes", nFiles, coffFiles, c.size)
	}
	br := bufio.NewReader(io.NewSectionReader(ra, coffFiles, c.size-coffFiles))
	pos = coffFiles
	c.files = make([]cabFile, 0, nFiles)
	for i := range nFiles {
		var b [cabFileLen]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, cabErr(pos, ErrCorrupt, "truncated file entry %d", i)
		}
		name, err := br.ReadSlice(0)
		if err != nil || len(name) > cabMaxName+1 {
			return nil, cabErr(pos+cabFileLen, ErrCorrupt, "file entry %d: name not terminated within %d bytes", i, cabMaxName)
		}
		f := cabFile{
			name:   cabName(name[:len(name)-1], le.Uint16(b[14:])&cabNameIsUTF != 0),
			size:   int64(le.Uint32(b[:])),
			off:    int64(le.Uint32(b[4:])),
			folder: int(le.Uint16(b[8:])),
		}
		switch {
		case f.folder >= 0xfffd: // continued from/to another cabinet
			f.folder = -1
		case f.folder >= len(c.folders):
			return nil, cabErr(pos+8, ErrCorrupt, "file %q is in folder %d of %d", f.name, f.folder, len(c.folders))
		}
		c.files = append(c.files, f)
		pos += cabFileLen + int64(len(name))
	}
	return c, nil
}

// cstring reads a NUL-terminated string of at most cabMaxName bytes at off
// and returns it with the offset after the NUL.
func (c *cabinet) cstring(off int64) (string, int64, error) {
	var b [cabMaxName + 1]byte
	n, _ := c.ra.ReadAt(b[:], off)
	if i := bytes.IndexByte(b[:n], 0); i >= 0 && off+int64(i) < c.size {
		return string(b[:i]), off + int64(i) + 1, nil
	}
	return "", 0, cabErr(off, ErrCorrupt, "string not terminated within %d bytes", cabMaxName)
}

// cabName decodes a member name. Names without the UTF-8 attribute are in
// an unspecified code page; Latin-1 keeps them readable and valid UTF-8.
func cabName(b []byte, isUTF bool) string {
	if isUTF || utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// folderReader streams the uncompressed data of folder i, refusing
// (ErrBudget) to decode more than limit bytes of it: MSZIP inflates up to
// 32 KiB from a few bytes, so without a limit a small file could keep the
// decoder busy out of all proportion to its size.
func (c *cabinet) folderReader(i int, limit int64) (*cabFolderReader, error) {
	f := c.folders[i]
	switch f.comp {
	case cabCompNone, cabCompMSZIP:
	case cabCompQuantum:
		return nil, cabErr(-1, ErrUnsupported, "folder %d uses Quantum compression; only uncompressed and MSZIP folders are supported", i)
	case cabCompLZX:
		return nil, cabErr(-1, ErrUnsupported, "folder %d uses LZX compression; only uncompressed and MSZIP folders are supported", i)
	default:
		return nil, cabErr(-1, ErrUnsupported, "folder %d uses unknown compression type %d", i, f.comp)
	}
	return &cabFolderReader{c: c, folder: i, comp: f.comp, next: f.dataOff, left: f.nData, limit: limit}, nil
}

// cabFolderReader decodes the CFDATA blocks of one folder in order.
type cabFolderReader struct {
	c      *cabinet
	folder int
	comp   uint16
	next   int64 // offset of the next CFDATA
	left   int   // CFDATA blocks not yet read
	pos    int64 // uncompressed bytes returned so far
	done   int64 // uncompressed bytes decoded so far
	limit  int64 // most bytes to decode

	out []byte        // decoded data not yet returned
	blk []byte        // compressed block buffer (cbData ≤ 65535)
	buf []byte        // MSZIP output buffer
	win []byte        // MSZIP dictionary: the last 32 KiB of output
	dec io.ReadCloser // reused inflater
	src bytes.Reader
}

func (r *cabFolderReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.left == 0 {
			return 0, io.EOF
		}
		if err := r.block(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	r.pos += int64(n)
	return n, nil
}

// block reads and decodes the next CFDATA.
func (r *cabFolderReader) block() error {
	at := r.next
	var h [cabDataLen]byte
	if n, _ := r.c.ra.ReadAt(h[:], at); n < cabDataLen || at+cabDataLen > r.c.size {
		return cabErr(at, ErrCorrupt, "folder %d: data block header truncated", r.folder)
	}
	le := binary.LittleEndian
	sum := le.Uint32(h[:])
	cbData := int64(le.Uint16(h[4:]))
	cbUncomp := int(le.Uint16(h[6:]))
	start := at + cabDataLen + int64(r.c.dataResv)
	if start+cbData > r.c.size {
		return cabErr(at, ErrCorrupt, "folder %d: data block of %d bytes runs past the end of the cabinet", r.folder, cbData)
	}
	if r.blk == nil {
		r.blk = make([]byte, 1<<16)
	}
	data := r.blk[:cbData]
	if n, err := r.c.ra.ReadAt(data, start); n < len(data) {
		return cabErr(start, ErrCorrupt, "folder %d: reading data block: %v", r.folder, err)
	}
	// csum 0 means "not computed" ([MS-CAB] 2.5).
	if sum != 0 {
		if got := cabChecksum(h[4:8], cabChecksum(data, 0)); got != sum {
			return cabErr(at, ErrCorrupt, "folder %d: data block checksum %#08x, want %#08x", r.folder, got, sum)
		}
	}
	r.next = start + cbData
	r.left--
	if r.done += int64(cbUncomp); r.done > r.limit {
		return cabErr(at, ErrBudget, "folder %d holds more than the budget of %d bytes (Options.MaxBytes)", r.folder, r.limit)
	}

	switch r.comp {
	case cabCompNone:
		if int(cbData) != cbUncomp {
			return cabErr(at, ErrCorrupt, "folder %d: stored block of %d bytes claims %d uncompressed", r.folder, cbData, cbUncomp)
		}
		r.out = data
	case cabCompMSZIP:
		if cbUncomp > mszipWindow {
			return cabErr(at, ErrCorrupt, "folder %d: MSZIP block claims %d bytes (max %d)", r.folder, cbUncomp, mszipWindow)
		}
		if len(data) < 2 || data[0] != 'C' || data[1] != 'K' {
			return cabErr(start, ErrCorrupt, "folder %d: MSZIP block without \"CK\" signature", r.folder)
		}
		// Each block is a raw DEFLATE stream that may refer back into the
		// previous 32 KiB of the folder's output ([MS-MCI] 2.2).
		r.src.Reset(data[2:])
		dict := r.win[max(0, len(r.win)-mszipWindow):]
		if r.dec == nil {
			r.dec = flate.NewReaderDict(&r.src, dict)
			r.buf = make([]byte, mszipWindow)
			r.win = make([]byte, 0, 2*mszipWindow)
		} else if err := r.dec.(flate.Resetter).Reset(&r.src, dict); err != nil {
			return cabErr(start, corrupt(err), "folder %d: MSZIP block", r.folder)
		}
		out := r.buf[:cbUncomp]
		if _, err := io.ReadFull(r.dec, out); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return cabErr(start, corrupt(err), "folder %d: inflating MSZIP block (want %d bytes)", r.folder, cbUncomp)
		}
		if len(r.win)+len(out) > cap(r.win) {
			keep := max(0, mszipWindow-len(out))
			keep = min(keep, len(r.win))
			r.win = append(r.win[:0], r.win[len(r.win)-keep:]...)
		}
		r.win = append(r.win, out...)
		r.out = out
	}
	return nil
}

// cabChecksum is the CFDATA checksum of [MS-CAB] 2.5 / libmspack: the XOR of
// the little-endian 32-bit words, the 1 to 3 trailing bytes folded in
// big-endian order.
func cabChecksum(b []byte, sum uint32) uint32 {
	for len(b) >= 4 {
		sum ^= binary.LittleEndian.Uint32(b)
		b = b[4:]
	}
	var ul uint32
	for _, c := range b {
		ul = ul<<8 | uint32(c)
	}
	return sum ^ ul
}

// open returns the data of file i. Getting there means decoding the folder
// from its start, which the format requires (MSZIP blocks refer to earlier
// output); ctx is checked while skipping.
func (c *cabinet) open(ctx context.Context, i int, limit int64) (io.Reader, error) {
	f := c.files[i]
	if f.folder < 0 {
		return nil, cabErr(-1, ErrUnsupported, "member %q continues in another cabinet; multi-volume sets are not supported", f.name)
	}
	fr, err := c.folderReader(f.folder, limit)
	if err != nil {
		return nil, err
	}
	if err := skip(ctx, fr, f.off); err != nil {
		if _, ok := errors.AsType[*Error](err); ok || ctx.Err() != nil {
			return nil, err
		}
		return nil, cabErr(-1, ErrCorrupt, "member %q starts at %d but folder %d holds only %d bytes", f.name, f.off, f.folder, fr.pos)
	}
	return &exactReader{r: fr, left: f.size, what: f.name}, nil
}

// skip discards n bytes of r, checking ctx between chunks.
func skip(ctx context.Context, r io.Reader, n int64) error {
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := io.CopyN(io.Discard, r, min(n, 1<<20))
		n -= k
		if err != nil {
			return err
		}
	}
	return nil
}

// exactReader yields exactly left bytes of r and reports a shorter r as
// corruption rather than a clean end.
type exactReader struct {
	r    io.Reader
	left int64
	what string
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF {
		if e.left > 0 {
			return n, cabErr(-1, ErrCorrupt, "member %q: folder ends %d bytes early", e.what, e.left)
		}
		err = nil
	}
	return n, err
}
