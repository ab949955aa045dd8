package container

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

func TestDetect(t *testing.T) {
	skippable := []byte{0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'l', 'z', '4', '!'}
	cab := make([]byte, 36)
	copy(cab, "MSCF")
	cab[8] = 36
	badCab := bytes.Clone(cab)
	badCab[4] = 1
	tests := []struct {
		name string
		data []byte
		want Kind
	}{
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, Gzip},
		{"gzip reserved flag", []byte{0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0}, ""},
		{"gzip not deflate", []byte{0x1f, 0x8b, 7, 0}, ""},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4}, XZ},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x24, 0}, Zstd},
		{"zstd behind skippable", append(bytes.Clone(skippable), 0x28, 0xb5, 0x2f, 0xfd, 0), Zstd},
		{"skippable alone (lz4 metadata)", skippable, ""},
		{"skippable past the end", []byte{0x5f, 0x2a, 0x4d, 0x18, 0xff, 0xff, 0, 0, 1}, ""},
		{"bzip2 block", []byte("BZh9\x31\x41\x59\x26\x53\x59...."), Bzip2},
		{"bzip2 empty", []byte("BZh1\x17\x72\x45\x38\x50\x90\x00\x00\x00\x00"), Bzip2},
		{"bzip2 bad level", []byte("BZh0\x31\x41\x59\x26\x53\x59"), ""},
		{"BZh text", []byte("BZh9 is not bzip2 without a block magic"), ""},
		{"zip", []byte("PK\x03\x04\x14\x00"), Zip},
		{"zip empty", append([]byte("PK\x05\x06"), make([]byte, 18)...), Zip},
		{"zip spanned marker", []byte("PK\x07\x08PK\x03\x04"), Zip},
		{"zip PK00 marker", []byte("PK00PK\x03\x04"), Zip},
		{"PK text", []byte("PKG-INFO"), ""},
		{"cab", cab, Cab},
		{"cab reserved non-zero", badCab, ""},
		{"minidump", []byte("MDMP\x93\xa7\x00\x00"), ""},
		{"elf core", payload(64), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Detect(bytes.NewReader(tt.data), int64(len(tt.data)))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("Detect = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestLooksLikeDump(t *testing.T) {
	elfExec := payload(64)
	elfExec[16] = 2 // ET_EXEC
	elfBE := payload(64)
	elfBE[5], elfBE[16], elfBE[17] = 2, 0, 4
	for _, tt := range []struct {
		head []byte
		want bool
	}{
		{[]byte("MDMP"), true},
		{[]byte("PAGEDU64"), true},
		{[]byte("PAGEDUMP"), true},
		{[]byte("KDUMP   "), true},
		{[]byte("makedumpfile"), true},
		{[]byte("EMiL\x01\x00\x00\x00"), true},
		{[]byte("minidump FreeBSD/amd64"), true},
		{payload(64), true},
		{elfBE, true},
		{elfExec, false},
		{[]byte("hello"), false},
		{nil, false},
	} {
		if got := looksLikeDump(tt.head); got != tt.want {
			t.Errorf("looksLikeDump(%q) = %v", tt.head[:min(len(tt.head), 8)], got)
		}
	}
}

// TestRoundTrip unpacks every kind built from the synthetic payload.
func TestRoundTrip(t *testing.T) {
	data := payload(200_000)
	fixture := payload(140_000)
	readme := []byte("this archive holds a crash dump\n")
	tests := []struct {
		name   string
		file   []byte
		want   []byte
		kind   Kind
		member string
	}{
		{"gz", gzBytes(t, data), data, Gzip, ""},
		{"gz two members", append(gzBytes(t, data[:1000]), gzBytes(t, data[1000:])...), data, Gzip, ""},
		{"xz", xzBytes(t, data), data, XZ, ""},
		{"zst", zstBytes(t, data), data, Zstd, ""},
		{"zst two frames", append(zstBytes(t, data[:5000]), zstBytes(t, data[5000:])...), data, Zstd, ""},
		{"zst behind skippable frame", append([]byte{0x5e, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 'h', 'i'}, zstBytes(t, data)...), data, Zstd, ""},
		{"bz2 (bzip2 CLI)", readAll(t, "testdata/payload-bzip2cli.bz2"), fixture, Bzip2, ""},
		{"bz2 two streams", readAll(t, "testdata/payload-2streams.bz2"), fixture, Bzip2, ""},
		{"xz (xz-utils, 7 blocks, SHA-256)", readAll(t, "testdata/payload-xzutils-7blocks-sha256.xz"), fixture, XZ, ""},
		{"xz two streams and padding", readAll(t, "testdata/payload-2streams-padded.xz"), fixture, XZ, ""},
		{"zip stored", zipBytes(t, zipFile{"README", readme, 0}, zipFile{"core", data, 0}), data, Zip, "core"},
		{"zip deflate", zipBytes(t, zipFile{"README", readme, 8}, zipFile{"dir/core.1234", data, 8}), data, Zip, "dir/core.1234"},
		{"zip zstd method", zipBytes(t, zipFile{"core", data, 93}), data, Zip, "core"},
		{"zip xz method", zipBytes(t, zipFile{"core", data, 95}), data, Zip, "core"},
		{"zip largest when no dump", zipBytes(t, zipFile{"a", readme, 8}, zipFile{"b", []byte(strings.Repeat("x", 5000)), 8}, zipFile{"c", readme, 8}),
			[]byte(strings.Repeat("x", 5000)), Zip, "b"},
		{"cab stored + MSZIP", cabBytes(t,
			cabSpecFolder{comp: 0, files: []cabSpecFile{{"readme.txt", readme}}},
			cabSpecFolder{comp: 1, files: []cabSpecFile{{"crash.dmp", data}, {"tail.txt", readme}}},
		), data, Cab, "crash.dmp"},
		{"cab stored, no checksums, reserve", cabBytes(t,
			cabSpecFolder{comp: 0, noCsum: true, resvData: 3, block: 10000, files: []cabSpecFile{{"x.txt", readme}, {"core", data}}},
		), data, Cab, "core"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := filepath.Join(t.TempDir(), "cache")
			var last, total int64 = -2, -2
			u, err := Unpack(context.Background(), writeFile(t, tt.file), Options{
				CacheDir: cache,
				Progress: func(d, tot int64) { last, total = d, tot },
			})
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, u.Path)
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("unpacked %d bytes differ from the %d expected", len(got), len(tt.want))
			}
			if u.Kind != tt.kind || u.Member != tt.member || u.Size != int64(len(tt.want)) || !slices.Equal(u.Nested, []Kind{tt.kind}) {
				t.Errorf("got %+v", u)
			}
			if last != u.Size || total != u.Size {
				t.Errorf("last Progress(%d, %d), want (%d, %d)", last, total, u.Size, u.Size)
			}
			if filepath.Dir(u.Path) != cache {
				t.Errorf("Path %s not in the cache %s", u.Path, cache)
			}
			checkPerm(t, cache, 0o700)
			checkPerm(t, u.Path, 0o600)
			for _, n := range cacheFiles(t, cache) {
				if strings.HasPrefix(n, tmpPrefix) {
					t.Errorf("temporary file %s left behind", n)
				}
			}
		})
	}
}

func checkPerm(t *testing.T, p string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", p, fi.Mode().Perm(), want)
	}
}

// TestCabDictionaryCarryOver checks that the second MSZIP block really
// refers back into the first (else the test would not prove anything) and
// that members behind others in the folder come out right.
func TestCabDictionaryCarryOver(t *testing.T) {
	block := bytes.Repeat([]byte("0123456789abcdef"), 2048) // 32 KiB
	second := append(bytes.Clone(block[:20000]), "tail"...)
	cab := cabBytes(t, cabSpecFolder{comp: 1, files: []cabSpecFile{{"first", block}, {"second", second}}})
	// The second block repeats the first, so it compresses to almost
	// nothing only because of the dictionary.
	c, err := openCabinet(bytes.NewReader(cab), int64(len(cab)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		want []byte
	}{{"first", block}, {"second", second}} {
		u, err := Unpack(context.Background(), writeFile(t, cab), Options{
			CacheDir: t.TempDir(),
			Pick: func(name string, head []byte) bool {
				want := block[:headLen]
				if name == "second" {
					want = second[:headLen]
				}
				if !bytes.Equal(head, want) {
					t.Errorf("head of %s is wrong", name)
				}
				return name == tt.name
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(readAll(t, u.Path), tt.want) || u.Member != tt.name {
			t.Errorf("member %s: wrong content (%+v)", tt.name, u)
		}
	}
	if len(c.folders) != 1 || c.folders[0].nData != 2 {
		t.Fatalf("want one folder of two blocks, got %+v", c.folders)
	}
}

func TestCabErrors(t *testing.T) {
	data := payload(70_000)
	for _, tt := range []struct {
		name string
		cab  []byte
		want error
		msg  string
	}{
		{"LZX", cabBytes(t, cabSpecFolder{comp: 3, files: []cabSpecFile{{"core", data}}}), ErrUnsupported, "LZX"},
		{"Quantum", cabBytes(t, cabSpecFolder{comp: 2, files: []cabSpecFile{{"core", data}}}), ErrUnsupported, "Quantum"},
		{"bad checksum", cabBytes(t, cabSpecFolder{comp: 1, badCsum: true, files: []cabSpecFile{{"core", data}}}), ErrCorrupt, "checksum"},
		{"no files", cabBytes(t, cabSpecFolder{comp: 0}), ErrNoMember, "no files"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			_, err := Unpack(context.Background(), writeFile(t, tt.cab), Options{CacheDir: cache})
			e, ok := errors.AsType[*Error](err)
			if !ok || !errors.Is(err, tt.want) || e.Kind != Cab || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want *Error wrapping %v mentioning %q", err, tt.want, tt.msg)
			}
			if n := cacheFiles(t, cache); len(n) != 0 {
				t.Errorf("cache holds %v after a failure", n)
			}
		})
	}
}

func TestNested(t *testing.T) {
	data := payload(150_000)
	tests := []struct {
		name   string
		file   []byte
		nested []Kind
		member string
	}{
		{"zip holding gz", zipBytes(t, zipFile{"notes.txt", []byte("hi"), 8}, zipFile{"core.gz", gzBytes(t, data), 0}), []Kind{Zip, Gzip}, "core.gz"},
		{"gz of zst", gzBytes(t, zstBytes(t, data)), []Kind{Gzip, Zstd}, ""},
		{"zst of zip of xz", zstBytes(t, zipBytes(t, zipFile{"vmcore.xz", xzBytes(t, data), 8})), []Kind{Zstd, Zip, XZ}, "vmcore.xz"},
		{"zip of zip", zipBytes(t, zipFile{"inner.zip", zipBytes(t, zipFile{"core", data, 8}), 0}), []Kind{Zip, Zip}, "inner.zip!core"},
		{"cab holding bz2", cabBytes(t, cabSpecFolder{comp: 1, files: []cabSpecFile{{"core.bz2", readAll(t, "testdata/payload-bzip2cli.bz2")}}}), []Kind{Cab, Bzip2}, "core.bz2"},
		{"four levels", gzBytes(t, xzBytes(t, zstBytes(t, gzBytes(t, data)))), []Kind{Gzip, XZ, Zstd, Gzip}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := Unpack(context.Background(), writeFile(t, tt.file), Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			want := data
			if tt.name == "cab holding bz2" {
				want = payload(140_000)
			}
			if !bytes.Equal(readAll(t, u.Path), want) {
				t.Fatal("content differs")
			}
			if !slices.Equal(u.Nested, tt.nested) || u.Kind != tt.nested[0] || u.Member != tt.member {
				t.Errorf("got Kind %q Nested %v Member %q; want %v %q", u.Kind, u.Nested, u.Member, tt.nested, tt.member)
			}
		})
	}

	t.Run("five levels", func(t *testing.T) {
		cache := t.TempDir()
		f := gzBytes(t, gzBytes(t, gzBytes(t, gzBytes(t, gzBytes(t, data)))))
		_, err := Unpack(context.Background(), writeFile(t, f), Options{CacheDir: cache})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "nested") {
			t.Fatalf("err = %v, want ErrUnsupported about nesting", err)
		}
		if n := cacheFiles(t, cache); len(n) != 0 {
			t.Errorf("cache holds %v", n)
		}
	})
}

func TestNotAContainer(t *testing.T) {
	p := writeFile(t, payload(5000))
	cache := t.TempDir()
	u, err := Unpack(context.Background(), p, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if u.Path != p || u.Kind != "" || u.Size != 5000 || len(u.Nested) != 0 {
		t.Errorf("got %+v, want the input itself", u)
	}
	if n := cacheFiles(t, cache); len(n) != 0 {
		t.Errorf("cache holds %v", n)
	}
}

func TestPick(t *testing.T) {
	data := payload(20_000)
	z := zipBytes(t,
		zipFile{"dir/", nil, 0},
		zipFile{"big.txt", bytes.Repeat([]byte("x"), 50_000), 8},
		zipFile{"core", data, 8},
		zipFile{"small", []byte("small"), 8},
	)
	var seen []string
	u, err := Unpack(context.Background(), writeFile(t, z), Options{
		CacheDir: t.TempDir(),
		Pick: func(name string, head []byte) bool {
			seen = append(seen, name)
			if name == "core" && !bytes.Equal(head, data[:headLen]) {
				t.Errorf("head of core is wrong")
			}
			return name == "small"
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Member != "small" || string(readAll(t, u.Path)) != "small" {
		t.Errorf("got %+v", u)
	}
	if !slices.Equal(seen, []string{"big.txt", "core", "small"}) {
		t.Errorf("Pick saw %v (directories must not be offered)", seen)
	}

	// Default: the dump, although another member is larger.
	u, err = Unpack(context.Background(), writeFile(t, z), Options{CacheDir: t.TempDir()})
	if err != nil || u.Member != "core" {
		t.Fatalf("default pick: %+v, %v", u, err)
	}
	// Default: a container beats a larger plain member.
	z2 := zipBytes(t, zipFile{"vmlinux", bytes.Repeat([]byte("k"), 300_000), 0}, zipFile{"vmcore.gz", gzBytes(t, data), 0})
	u, err = Unpack(context.Background(), writeFile(t, z2), Options{CacheDir: t.TempDir()})
	if err != nil || u.Member != "vmcore.gz" || !bytes.Equal(readAll(t, u.Path), data) {
		t.Fatalf("default pick of a container: %+v, %v", u, err)
	}

	for name, f := range map[string][]byte{
		"none accepted": z,
		"empty zip":     zipBytes(t),
		"only a dir":    zipBytes(t, zipFile{"d/", nil, 0}),
	} {
		cache := t.TempDir()
		_, err := Unpack(context.Background(), writeFile(t, f), Options{CacheDir: cache, Pick: func(string, []byte) bool { return false }})
		if !errors.Is(err, ErrNoMember) {
			t.Errorf("%s: err = %v, want ErrNoMember", name, err)
		}
		if n := cacheFiles(t, cache); len(n) != 0 {
			t.Errorf("%s: cache holds %v", name, n)
		}
	}
}

func TestBudget(t *testing.T) {
	data := payload(300_000)
	for _, tt := range []struct {
		name string
		file []byte
	}{
		{"gz streamed", gzBytes(t, data)},
		{"zst with content size", zstBytes(t, data)},
		{"zip declared size", zipBytes(t, zipFile{"core", data, 8})},
		{"cab declared size", cabBytes(t, cabSpecFolder{comp: 1, files: []cabSpecFile{{"core", data}}})},
		{"nested spool", gzBytes(t, zipBytes(t, zipFile{"core", data, 0}))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			_, err := Unpack(context.Background(), writeFile(t, tt.file), Options{CacheDir: cache, MaxBytes: 100_000})
			if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "100000 bytes") {
				t.Fatalf("err = %v, want ErrBudget naming the budget", err)
			}
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Fatalf("err %T is not *Error", err)
			}
			if n := cacheFiles(t, cache); len(n) != 0 {
				t.Errorf("cache holds %v", n)
			}
		})
	}

	// Exactly at the budget is allowed.
	_, err := Unpack(context.Background(), writeFile(t, gzBytes(t, data)), Options{CacheDir: t.TempDir(), MaxBytes: int64(len(data))})
	if err != nil {
		t.Fatalf("at budget: %v", err)
	}
}

// TestMaxWindow: headers that make the decoders allocate are refused
// before the allocation.
func TestMaxWindow(t *testing.T) {
	data := payload(3 << 20)
	big := zstBytes(t, data, zstd.WithWindowSize(8<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
	// A single-segment frame claiming 1 GiB: the window is the content
	// size, which the decoder would allocate.
	hostile := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0x40, 1, 0, 0}
	// An xz block header asking for a 4 GiB dictionary (CRC fixed up).
	xzHostile := xzBytes(t, []byte("hello"))
	hl := (int(xzHostile[12]) + 1) * 4
	hdr := xzHostile[12 : 12+hl]
	if i := bytes.Index(hdr, []byte{0x21, 1}); i < 0 {
		t.Fatal("no LZMA2 filter in the block header")
	} else {
		hdr[i+2] = 40
	}
	crc := crc32.ChecksumIEEE(hdr[:hl-4])
	hdr[hl-4], hdr[hl-3], hdr[hl-2], hdr[hl-1] = byte(crc), byte(crc>>8), byte(crc>>16), byte(crc>>24)

	for _, tt := range []struct {
		name string
		file []byte
		o    Options
	}{
		{"zst 8 MiB window, 1 MiB allowed", big, Options{MaxWindow: 1 << 20}},
		{"zst single segment of 1 GiB", hostile, Options{}},
		{"xz 4 GiB dictionary", xzHostile, Options{}},
		{"xz 1 MiB dictionary, 64 KiB allowed", xzBytes(t, data[:1000]), Options{MaxWindow: 64 << 10}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.CacheDir = t.TempDir()
			_, err := Unpack(context.Background(), writeFile(t, tt.file), tt.o)
			if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "MaxWindow") {
				t.Fatalf("err = %v, want ErrBudget about MaxWindow", err)
			}
		})
	}
	u, err := Unpack(context.Background(), writeFile(t, big), Options{CacheDir: t.TempDir(), MaxWindow: 8 << 20})
	if err != nil || u.Size != int64(len(data)) {
		t.Fatalf("8 MiB window allowed: %v", err)
	}
}

func TestCancel(t *testing.T) {
	data := payload(8 << 20)
	for _, tt := range []struct {
		name string
		file []byte
	}{
		{"gz", gzBytes(t, data)},
		{"zip", zipBytes(t, zipFile{"core", data, 8})},
		{"gz of zip (spooling)", gzBytes(t, zipBytes(t, zipFile{"core", data, 0}))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file)

			// Cancelled before the start.
			cache := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := Unpack(ctx, p, Options{CacheDir: cache})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if n := cacheFiles(t, cache); len(n) != 0 {
				t.Errorf("cache holds %v", n)
			}

			// Cancelled half-way, from Progress.
			cache = t.TempDir()
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			calls := 0
			_, err = Unpack(ctx, p, Options{CacheDir: cache, Progress: func(done, total int64) {
				calls++
				if done >= 2<<20 {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if _, ok := errors.AsType[*Error](err); !ok {
				t.Errorf("err %T is not *Error", err)
			}
			if calls == 0 || calls > 6 {
				t.Errorf("%d Progress calls", calls)
			}
			if n := cacheFiles(t, cache); len(n) != 0 {
				t.Errorf("cache holds %v after cancellation", n)
			}
		})
	}
}

func TestCorrupt(t *testing.T) {
	data := payload(200_000)
	type corruption struct {
		name    string
		file    []byte
		mayPass bool // damage that no check can see (stored data without a checksum)
		cut     bool // truncated: what is salvaged must be a prefix of the data (all of it when only the trailer is cut)
	}
	var cases []corruption
	add := func(kind string, f []byte, flips ...int) {
		for _, n := range []int{len(f) / 2, len(f) - 1, 40} {
			if n < len(f) {
				cases = append(cases, corruption{kind + " truncated to " + itoa(n), f[:n], false, true})
			}
		}
		for _, at := range flips {
			g := bytes.Clone(f)
			g[at] ^= 0x55
			cases = append(cases, corruption{kind + " byte flipped at " + itoa(at), g, strings.Contains(kind, "no checksum"), false})
		}
	}
	gz := gzBytes(t, data)
	add("gz", gz, len(gz)/2, len(gz)-6)
	xzb := xzBytes(t, data)
	add("xz", xzb, len(xzb)/2, 13, len(xzb)-20)
	zs := zstBytes(t, data)
	add("zst", zs, len(zs)/2, len(zs)-2)
	bz := readAll(t, "testdata/payload-bzip2cli.bz2")
	add("bz2", bz, len(bz)/2, len(bz)-3)
	z := zipBytes(t, zipFile{"core", data, 8})
	add("zip", z, len(z)/3, len(z)-10)
	zs2 := zipBytes(t, zipFile{"core", data, 0})
	add("zip stored", zs2, 1000)
	cb := cabBytes(t, cabSpecFolder{comp: 1, files: []cabSpecFile{{"core", data}}})
	// 48: uoffFolderStart, 65: the first CFDATA checksum. (cbFile at 44 is
	// not flipped: a shorter size is undetectable, CAB has no file CRC.)
	add("cab", cb, len(cb)/2, 8, 26, 36, 48, 65)
	cs := cabBytes(t, cabSpecFolder{comp: 0, noCsum: true, files: []cabSpecFile{{"core", data}}})
	add("cab stored, no checksum", cs, 16, 28, 50)

	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			u, err := Unpack(context.Background(), writeFile(t, tt.file), Options{CacheDir: cache})
			if err == nil {
				// Salvaged: what was decoded before the break is kept,
				// and the result says it stops early.
				got := readAll(t, u.Path)
				switch {
				case u.Truncated == "" && (!tt.mayPass || bytes.Equal(got, data)):
					t.Fatalf("damage went unnoticed: %+v", u)
				case u.Truncated != "" && !strings.Contains(u.Truncated, string(u.Kind)):
					t.Errorf("Truncated does not name the layer: %q", u.Truncated)
				case tt.cut && (len(got) == 0 || len(got) > len(data) || !bytes.Equal(got, data[:len(got)])):
					t.Errorf("salvaged %d bytes of %d, not a prefix of the data", len(got), len(data))
				}
				return
			}
			t.Log(err)
			e, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err %T %v is not *Error", err, err)
			}
			if e.Path == "" || e.Kind == "" {
				t.Errorf("error lacks path or kind: %v", err)
			}
			if n := cacheFiles(t, cache); len(n) != 0 {
				t.Errorf("cache holds %v", n)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCacheReuse(t *testing.T) {
	data := payload(100_000)
	for _, tt := range []struct {
		name string
		file []byte
	}{
		{"zst", zstBytes(t, data)},
		{"zip", zipBytes(t, zipFile{"core", data, 8})},
		{"cab of gz", cabBytes(t, cabSpecFolder{comp: 1, files: []cabSpecFile{{"core.gz", gzBytes(t, data)}}})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			p := writeFile(t, tt.file)
			calls := 0
			testHook = func(Kind) { calls++ }
			defer func() { testHook = nil }()

			u1, err := Unpack(context.Background(), p, Options{CacheDir: cache})
			if err != nil {
				t.Fatal(err)
			}
			if calls == 0 {
				t.Fatal("test hook not called")
			}
			fi1, _ := os.Stat(u1.Path)
			calls = 0
			var prog []int64
			u2, err := Unpack(context.Background(), p, Options{CacheDir: cache, Progress: func(d, tot int64) { prog = append(prog, d, tot) }})
			if err != nil {
				t.Fatal(err)
			}
			fi2, _ := os.Stat(u2.Path)
			if calls != 0 {
				t.Errorf("second Unpack decompressed %d times", calls)
			}
			if !os.SameFile(fi1, fi2) || !fi1.ModTime().Equal(fi2.ModTime()) {
				t.Errorf("second Unpack rewrote the file")
			}
			if !slices.Equal(u1.Nested, u2.Nested) || u1.Member != u2.Member || u1.Size != u2.Size || u1.Path != u2.Path {
				t.Errorf("cached result %+v differs from %+v", u2, u1)
			}
			if !slices.Equal(prog, []int64{u1.Size, u1.Size}) {
				t.Errorf("Progress on a hit: %v", prog)
			}

			// A changed input (new mtime) is unpacked again.
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(p, later, later); err != nil {
				t.Fatal(err)
			}
			u3, err := Unpack(context.Background(), p, Options{CacheDir: cache})
			if err != nil {
				t.Fatal(err)
			}
			if calls == 0 || u3.Path == u1.Path {
				t.Errorf("modified input served from the cache")
			}

			// A budget smaller than the cached file is still enforced.
			_, err = Unpack(context.Background(), p, Options{CacheDir: cache, MaxBytes: 10})
			if !errors.Is(err, ErrBudget) {
				t.Errorf("cached hit over budget: %v", err)
			}
		})
	}
}

func TestCacheDirTightened(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "c")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cache, 0o755)
	stale := filepath.Join(cache, tmpPrefix+"stale")
	os.WriteFile(stale, []byte("x"), 0o600)
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := Unpack(context.Background(), writeFile(t, gzBytes(t, []byte("x"))), Options{CacheDir: cache}); err != nil {
		t.Fatal(err)
	}
	checkPerm(t, cache, 0o700)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temporary file not removed")
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{Kind: Gzip, Path: "/d/core.gz", Off: 123, What: "decompressing", Err: ErrCorrupt}
	want := "container: gz /d/core.gz at offset 123: decompressing: corrupt or truncated data"
	if e.Error() != want {
		t.Errorf("got %q\nwant %q", e.Error(), want)
	}
	if !errors.Is(e, ErrCorrupt) {
		t.Error("Unwrap")
	}
	e = &Error{Path: "/x", Off: -1, What: "opening the input", Err: fs.ErrNotExist}
	if got := e.Error(); got != "container: /x: opening the input: file does not exist" {
		t.Errorf("got %q", got)
	}
	_, err := Unpack(context.Background(), filepath.Join(t.TempDir(), "missing"), Options{CacheDir: t.TempDir()})
	if _, ok := errors.AsType[*Error](err); !ok || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestMinFree(t *testing.T) {
	if _, ok := freeSpace(t.TempDir()); !ok {
		t.Skip("free space is not checked on this system")
	}
	cache := t.TempDir()
	_, err := Unpack(context.Background(), writeFile(t, gzBytes(t, payload(1000))), Options{CacheDir: cache, MinFree: 1 << 62})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("err = %v, want ErrNoSpace", err)
	}
	if n := cacheFiles(t, cache); len(n) != 0 {
		t.Errorf("cache holds %v", n)
	}
}

func TestZstdContentSize(t *testing.T) {
	data := payload(70_000)
	if got := zstdContentSize(zstBytes(t, data)); got != int64(len(data)) && got != -1 {
		t.Errorf("content size %d, want %d or unknown", got, len(data))
	}
	if got := zstdContentSize([]byte{0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0x40, 1, 0, 0}); got != 1<<30 {
		t.Errorf("got %d", got)
	}
	if got := zstdContentSize([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58}); got != -1 {
		t.Errorf("no FCS: got %d", got)
	}
}

// TestSalvageTruncated: a big compressed dump cut off in the middle, as a
// half-finished copy leaves it, unpacks to the part before the cut (a
// prefix of the dump, most of what the kept bytes encode) with Truncated
// saying so; the cache gives the same answer the second time.
func TestSalvageTruncated(t *testing.T) {
	data := payload(8 << 20)
	for _, c := range []struct {
		kind Kind
		file []byte
	}{
		{Gzip, gzBytes(t, data)},
		{Zstd, zstBytes(t, data)},
		{XZ, xzBytes(t, data)},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			cut := writeFile(t, c.file[:len(c.file)/2])
			cache := t.TempDir()
			for pass := range 2 {
				u, err := Unpack(context.Background(), cut, Options{CacheDir: cache})
				if err != nil {
					t.Fatalf("pass %d: %v", pass, err)
				}
				got := readAll(t, u.Path)
				if u.Truncated == "" || !strings.Contains(u.Truncated, "corrupt or truncated") {
					t.Errorf("pass %d: Truncated %q", pass, u.Truncated)
				}
				// Half the compressed bytes hold about half the data; a
				// decoder holds back at most a window or a block.
				if len(got) < len(data)/4 || len(got) >= len(data) || !bytes.Equal(got, data[:len(got)]) || u.Size != int64(len(got)) {
					t.Errorf("pass %d: salvaged %d bytes of %d (Size %d), want a prefix of about half", pass, len(got), len(data), u.Size)
				}
			}
		})
	}
}

// TestRatioBudget: output far beyond MaxRatio times the archive's size
// stops with ErrBudget (a bomb of zeros), and leaves nothing in the cache;
// the same data within the ratio unpacks.
func TestRatioBudget(t *testing.T) {
	defer func(f int64) { ratioFloor = f }(ratioFloor)
	ratioFloor = 1 << 20
	zeros := make([]byte, 64<<20)
	for _, c := range []struct {
		kind Kind
		file []byte
	}{{Zstd, zstBytes(t, zeros)}, {XZ, xzBytes(t, zeros)}, {Gzip, gzBytes(t, zeros)}} {
		t.Run(string(c.kind), func(t *testing.T) {
			path := writeFile(t, c.file)
			ratio := int64(len(zeros)) / int64(len(c.file))
			cache := t.TempDir()
			_, err := Unpack(context.Background(), path, Options{CacheDir: cache, MaxRatio: ratio / 4})
			if !errors.Is(err, ErrBudget) || !strings.Contains(err.Error(), "MaxRatio") {
				t.Fatalf("ratio %d:1 with MaxRatio %d: err = %v", ratio, ratio/4, err)
			}
			if n := cacheFiles(t, cache); len(n) != 0 {
				t.Errorf("cache holds %v", n)
			}
			if u, err := Unpack(context.Background(), path, Options{CacheDir: t.TempDir(), MaxRatio: ratio * 2}); err != nil || u.Size != int64(len(zeros)) {
				t.Errorf("within the ratio: %+v, %v", u, err)
			}
		})
	}
}
