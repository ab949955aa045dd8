package container

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// payload is the synthetic dump used throughout: an ELF core header (so the
// default Pick recognises it), compressible text lines, and every third
// 64 KiB chunk zero (so the sparse path is exercised in the middle of real
// data). The testdata fixtures were made from payload(140000) with the
// bzip2 and xz command-line tools (see testdata/README.md).
func payload(n int) []byte {
	b := make([]byte, 0, n+64)
	hdr := make([]byte, 64)
	copy(hdr, "\x7fELF\x02\x01\x01")
	hdr[16] = 4 // ET_CORE
	b = append(b, hdr...)
	for i := 0; len(b) < n; i++ {
		if (len(b)/chunkSize)%3 == 1 {
			b = append(b, make([]byte, chunkSize-len(b)%chunkSize)...)
			continue
		}
		b = fmt.Appendf(b, "%08d thread %d\n", i, i%13)
	}
	return b[:n]
}

func gzBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Name = "core"
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func xzBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 1 << 20}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zstBytes(t testing.TB, data []byte, opts ...zstd.EOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := zstd.NewWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipFile is one member for zipBytes.
type zipFile struct {
	name   string
	data   []byte
	method uint16
}

func zipBytes(t testing.TB, files ...zipFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	w.RegisterCompressor(93, func(out io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(out) })
	// xz.NewWriter writes its stream header at once, before archive/zip
	// has written the local file header, so compress on Close instead.
	w.RegisterCompressor(95, func(out io.Writer) (io.WriteCloser, error) { return &xzOnClose{out: out, t: t}, nil })
	for _, f := range files {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type xzOnClose struct {
	bytes.Buffer
	out io.Writer
	t   testing.TB
}

func (x *xzOnClose) Close() error {
	_, err := x.out.Write(xzBytes(x.t, x.Bytes()))
	return err
}

// A tiny Cabinet writer following [MS-CAB], independent of the reader.

type cabSpecFile struct {
	name string
	data []byte
}

type cabSpecFolder struct {
	comp     uint16 // 0 none, 1 MSZIP, 3 LZX (written as stored data, to test rejection)
	files    []cabSpecFile
	block    int  // uncompressed bytes per CFDATA; default 32768
	noCsum   bool // write csum 0 ("not computed")
	badCsum  bool // corrupt the first block's checksum
	resvData int  // cbCFData reserve bytes (all folders must agree; taken from the first)
}

// specChecksum is the CSUMCompute of [MS-CAB] 2.5, written from the spec's
// C code.
func specChecksum(b []byte, seed uint32) uint32 {
	csum := seed
	for ; len(b) >= 4; b = b[4:] {
		csum ^= uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	}
	var ul uint32
	switch len(b) {
	case 3:
		ul = uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	case 2:
		ul = uint32(b[0])<<8 | uint32(b[1])
	case 1:
		ul = uint32(b[0])
	}
	return csum ^ ul
}

func cabBytes(t testing.TB, folders ...cabSpecFolder) []byte {
	t.Helper()
	le := binary.LittleEndian
	resv := folders[0].resvData

	// CFDATA blocks per folder.
	var datas [][]byte
	var nblocks []int
	for _, f := range folders {
		var stream []byte
		for _, file := range f.files {
			stream = append(stream, file.data...)
		}
		bs := f.block
		if bs == 0 {
			bs = 32768
		}
		var out []byte
		var hist []byte // previous uncompressed data: the MSZIP dictionary
		n := 0
		for i := 0; i < len(stream); i += bs {
			blk := stream[i:min(i+bs, len(stream))]
			var data []byte
			if f.comp == 1 {
				var cb bytes.Buffer
				cb.WriteString("CK")
				dict := hist[max(0, len(hist)-32768):]
				fw, err := flate.NewWriterDict(&cb, flate.BestCompression, dict)
				if err != nil {
					t.Fatal(err)
				}
				fw.Write(blk)
				fw.Close()
				data = cb.Bytes()
			} else {
				data = blk
			}
			hist = append(hist, blk...)
			hdr := make([]byte, 8+resv)
			le.PutUint16(hdr[4:], uint16(len(data)))
			le.PutUint16(hdr[6:], uint16(len(blk)))
			sum := specChecksum(hdr[4:8], specChecksum(data, 0))
			if f.noCsum {
				sum = 0
			}
			if f.badCsum && n == 0 {
				sum ^= 0x5a5a
			}
			le.PutUint32(hdr[0:], sum)
			out = append(out, hdr...)
			out = append(out, data...)
			n++
		}
		datas = append(datas, out)
		nblocks = append(nblocks, n)
	}

	// Header, folders, files, then the data.
	hdrLen := 36
	if resv > 0 {
		hdrLen += 4
	}
	coffFolders := hdrLen
	coffFiles := coffFolders + 8*len(folders)
	var files []byte
	nfiles := 0
	for fi, f := range folders {
		off := 0
		for _, file := range f.files {
			e := make([]byte, 16)
			le.PutUint32(e[0:], uint32(len(file.data)))
			le.PutUint32(e[4:], uint32(off))
			le.PutUint16(e[8:], uint16(fi))
			le.PutUint16(e[10:], 0x5a21) // date
			le.PutUint16(e[12:], 0x6000) // time
			le.PutUint16(e[14:], 0x20)   // _A_ARCH
			files = append(files, e...)
			files = append(files, file.name...)
			files = append(files, 0)
			off += len(file.data)
			nfiles++
		}
	}
	dataStart := coffFiles + len(files)
	total := dataStart
	for _, d := range datas {
		total += len(d)
	}
	out := make([]byte, hdrLen, total)
	copy(out, "MSCF")
	le.PutUint32(out[8:], uint32(total))
	le.PutUint32(out[16:], uint32(coffFiles))
	out[24], out[25] = 3, 1
	le.PutUint16(out[26:], uint16(len(folders)))
	le.PutUint16(out[28:], uint16(nfiles))
	if resv > 0 {
		le.PutUint16(out[30:], 0x0004)
		out[36+3] = byte(resv) // cbCFHeader 0, cbCFFolder 0, cbCFData resv
	}
	off := dataStart
	for i, f := range folders {
		e := make([]byte, 8)
		le.PutUint32(e[0:], uint32(off))
		le.PutUint16(e[4:], uint16(nblocks[i]))
		le.PutUint16(e[6:], f.comp)
		out = append(out, e...)
		off += len(datas[i])
	}
	out = append(out, files...)
	for _, d := range datas {
		out = append(out, d...)
	}
	return out
}

// writeFile writes data to a new file in a temporary directory (with a
// misleading name: detection must not look at it).
func writeFile(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "upload.bin")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cacheFiles lists the cache directory.
func cacheFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readAll(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
