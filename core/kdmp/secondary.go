package kdmp

import (
	"encoding/binary"
	"fmt"

	"github.com/crashbench/crashbench/core/model"
)

// Secondary dump data: what drivers add to a bug check through
// KeRegisterBugCheckReasonCallback (KbCallbackSecondaryDumpData), which
// Windows stores after a triage dump's TRIAGE_DUMP.SizeOfDump bytes as a
// DUMP_BLOB_FILE_HEADER ("DumpBlob", header size, build number) followed
// by DUMP_BLOB_HEADERs (header size, a GUID tag, data size, pre- and
// post-padding), each with its data, to the end of the file. WinDbg lists
// them with .enumtag.

const (
	blobFileHeaderSize = 16
	blobHeaderSize     = 32
	maxBlobs           = 1 << 16 // a bound on the walk over a damaged chain
)

// SecondaryBlob is one tagged blob of secondary dump data.
type SecondaryBlob struct {
	Tag     string // the GUID, as WinDbg prints it
	Off     int64  // file offset of the data
	Size    uint32 // bytes of data
	Present uint32 // bytes of it the file holds
}

// SecondaryData returns the secondary dump data blobs of a triage dump, in
// file order; none for other dumps.
func (f *File) SecondaryData() []SecondaryBlob {
	t := f.hdr.triage
	if t == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blobs
}

// checkSecondaryData walks the blobs once at open (a few dozen headers) and
// says when the file ends inside one, which is how a truncated triage dump
// usually looks: the triage data comes first and is whole.
func (f *File) checkSecondaryData() {
	t := f.hdr.triage
	if t == nil {
		return
	}
	start := int64(t.SizeOfDump)
	var fh [blobFileHeaderSize]byte
	if start <= 0 || start+blobFileHeaderSize > f.size {
		return
	}
	if _, err := f.r.ReadAt(fh[:], start); err != nil || string(fh[:8]) != "DumpBlob" {
		return
	}
	off := start + int64(binary.LittleEndian.Uint32(fh[8:]))
	if off < start+blobFileHeaderSize {
		f.diag(model.Warning, start+8, "secondary dump data: header size %d is too small", off-start)
		return
	}
	var blobs []SecondaryBlob
	for n := 0; off < f.size; n++ {
		if n == maxBlobs {
			f.diag(model.Warning, off, "secondary dump data: more than %d blobs; the rest are not listed", maxBlobs)
			break
		}
		var bh [blobHeaderSize]byte
		if got, _ := f.r.ReadAt(bh[:], off); got < len(bh) {
			f.diag(model.Error, f.size, "the dump file is truncated: it ends at %#x, inside the header of secondary dump data blob %d at %#x", f.size, n, off)
			break
		}
		hs := int64(binary.LittleEndian.Uint32(bh[0:]))
		size := binary.LittleEndian.Uint32(bh[20:])
		pre, post := int64(binary.LittleEndian.Uint32(bh[24:])), int64(binary.LittleEndian.Uint32(bh[28:]))
		if hs < blobHeaderSize || hs > 1<<16 {
			f.diag(model.Warning, off, "secondary dump data blob %d at %#x: header size %d is implausible; the rest are not listed", n, off, hs)
			break
		}
		b := SecondaryBlob{Tag: guidString(bh[4:20]), Off: off + hs + pre, Size: size}
		end := b.Off + int64(size) + post
		b.Present = uint32(min(max(f.size-b.Off, 0), int64(size)))
		blobs = append(blobs, b)
		if end > f.size {
			f.diag(model.Error, f.size, "the dump file is truncated: it ends at %#x, inside secondary dump data blob %d (tag %s, %d bytes at %#x, %d of them present); the triage data before it is whole",
				f.size, n, b.Tag, size, b.Off, b.Present)
			break
		}
		off = end
	}
	f.mu.Lock()
	f.blobs = blobs
	f.mu.Unlock()
}

// guidString formats a GUID stored in Windows' layout (the first three
// fields little-endian).
func guidString(g []byte) string {
	return fmt.Sprintf("{%08X-%04X-%04X-%X-%X}", binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
		binary.LittleEndian.Uint16(g[6:]), g[8:10], g[10:16])
}

// ReadSecondary returns up to max bytes of a blob's data, as far as the
// file holds them.
func (f *File) ReadSecondary(b SecondaryBlob, max int) ([]byte, error) {
	n := min(int(b.Present), max)
	buf := make([]byte, n)
	if _, err := f.r.ReadAt(buf, b.Off); err != nil {
		return nil, &FormatError{Off: b.Off, What: "reading secondary dump data " + b.Tag, Err: err}
	}
	return buf, nil
}
