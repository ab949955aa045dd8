package pe

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols"
)

// image builds a PE image with an export directory, written from the PE
// specification's offsets (not from this package's constants).
type image struct {
	plus      bool     // PE32+
	funcs     []uint32 // export address table
	names     []string // names of the first len(names) ordinals... see ords
	ords      []uint16 // name ordinals (indexes into funcs)
	ordBase   uint32
	expSize   uint32 // export directory size; forwarders point inside it
	nDirs     uint32
	countLie  uint32 // if set, NumberOfFunctions claims this
	noExports bool
}

const (
	imgSize = 0x4000
	expRVA  = 0x2000
)

func (im image) bytes() []byte {
	b := make([]byte, imgSize)
	le := binary.LittleEndian
	b[0], b[1] = 'M', 'Z'
	le.PutUint32(b[0x3c:], 0x80)
	copy(b[0x80:], "PE\x00\x00")
	opt := 0x80 + 4 + 20
	dirs := opt + 96
	if im.plus {
		le.PutUint16(b[opt:], 0x20b)
		dirs = opt + 112
	} else {
		le.PutUint16(b[opt:], 0x10b)
	}
	nDirs := im.nDirs
	if nDirs == 0 {
		nDirs = 16
	}
	le.PutUint32(b[dirs-4:], nDirs)
	if im.noExports {
		return b
	}
	expSize := im.expSize
	if expSize == 0 {
		expSize = 0x100
	}
	le.PutUint32(b[dirs:], expRVA)
	le.PutUint32(b[dirs+4:], expSize)
	d := b[expRVA:]
	nFuncs := uint32(len(im.funcs))
	if im.countLie != 0 {
		nFuncs = im.countLie
	}
	le.PutUint32(d[12:], 0x3000) // Name
	copy(b[0x3000:], "test.dll\x00")
	le.PutUint32(d[16:], im.ordBase)
	le.PutUint32(d[20:], nFuncs)
	le.PutUint32(d[24:], uint32(len(im.names)))
	le.PutUint32(d[28:], 0x2100) // AddressOfFunctions
	le.PutUint32(d[32:], 0x2400) // AddressOfNames
	le.PutUint32(d[36:], 0x2600) // AddressOfNameOrdinals
	for i, f := range im.funcs {
		le.PutUint32(b[0x2100+4*i:], f)
	}
	at := 0x3100
	for i, n := range im.names {
		le.PutUint32(b[0x2400+4*i:], uint32(at))
		le.PutUint16(b[0x2600+2*i:], im.ords[i])
		at += copy(b[at:], n+"\x00")
	}
	return b
}

const base = 0x7ff600000000

func TestReadExports(t *testing.T) {
	t.Parallel()
	std := image{funcs: []uint32{0x1100, 0x1000, 0x2010, 0x1200}, names: []string{"Alpha", "Beta", "Fwd"}, ords: []uint16{1, 0, 2}, ordBase: 1}
	tests := map[string]struct {
		im       image
		mem      func([]byte) mem.Reader
		want     []Export
		wantName string
		noSyms   bool
	}{
		"pe32":  {im: std, want: []Export{{"Alpha", 2, 0x1000}, {"Beta", 1, 0x1100}, {"Ordinal4", 4, 0x1200}}, wantName: "test.dll"},
		"pe32+": {im: image{plus: true, funcs: std.funcs, names: std.names, ords: std.ords, ordBase: 1}, want: []Export{{"Alpha", 2, 0x1000}, {"Beta", 1, 0x1100}, {"Ordinal4", 4, 0x1200}}, wantName: "test.dll"},
		"count lie": {im: image{funcs: []uint32{0x1000}, names: []string{"A"}, ords: []uint16{0}, countLie: 0xffffffff},
			noSyms: true},
		"bad name ordinal":   {im: image{funcs: []uint32{0x1000}, names: []string{"A", "B"}, ords: []uint16{0, 7}}, want: []Export{{"A", 0, 0x1000}}},
		"no exports":         {im: image{noExports: true}, noSyms: true},
		"no data dirs":       {im: image{nDirs: 0xffffffff, noExports: true}, noSyms: true},
		"only forwarders":    {im: image{funcs: []uint32{0x2010}}, noSyms: true},
		"header not in dump": {im: std, mem: func(b []byte) mem.Reader { return memtest.Map{base + 0x1000: b[0x1000:]} }, noSyms: true},
		"names not in dump": {im: std, mem: func(b []byte) mem.Reader { return memtest.Map{base: b[:0x3000]} },
			want: []Export{{"Ordinal2", 2, 0x1000}, {"Ordinal1", 1, 0x1100}, {"Ordinal4", 4, 0x1200}}},
		"not MZ": {im: std, mem: func(b []byte) mem.Reader { c := append([]byte(nil), b...); c[0] = 'X'; return memtest.Map{base: c} }, noSyms: true},
		"not PE": {im: std, mem: func(b []byte) mem.Reader { c := append([]byte(nil), b...); c[0x80] = 'X'; return memtest.Map{base: c} }, noSyms: true},
		"lfanew out of image": {im: std, mem: func(b []byte) mem.Reader {
			c := append([]byte(nil), b...)
			binary.LittleEndian.PutUint32(c[0x3c:], 0xfff0)
			return memtest.Map{base: c}
		}, noSyms: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img := tc.im.bytes()
			var r mem.Reader = memtest.Map{base: img}
			if tc.mem != nil {
				r = tc.mem(img)
			}
			tab, err := ReadExports(r, base, imgSize)
			if tc.noSyms {
				if !errors.Is(err, symbols.ErrNoSymbols) {
					t.Fatalf("ReadExports = %+v, %v; want ErrNoSymbols", tab, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(tab.Exports) != len(tc.want) {
				t.Fatalf("Exports = %+v, want %+v", tab.Exports, tc.want)
			}
			for i := range tc.want {
				if tab.Exports[i] != tc.want[i] {
					t.Errorf("Exports[%d] = %+v, want %+v", i, tab.Exports[i], tc.want[i])
				}
			}
			if tc.wantName != "" && tab.DLLName != tc.wantName {
				t.Errorf("DLLName = %q", tab.DLLName)
			}
		})
	}
}

func TestProviderResolves(t *testing.T) {
	t.Parallel()
	img := image{funcs: []uint32{0x1000, 0x1100}, names: []string{"CreateThing", "DeleteThing"}, ords: []uint16{0, 1}}.bytes()
	mods := []model.Module{{Base: base, Size: imgSize, Path: `C:\x\thing.dll`}, {Base: 0x1000, Size: 0x1000, Path: "/lib/elf.so"}}
	set := symbols.NewResolver(mods, NewProvider(memtest.Map{base: img}))
	tests := map[uint64]string{
		base + 0x1000: "thing!CreateThing",
		base + 0x1010: "thing!CreateThing+0x10",
		base + 0x1234: "thing!DeleteThing+0x134",
		base + 0x10:   "thing+0x10",
		0x1010:        "elf.so+0x10",
	}
	for addr, want := range tests {
		if got := set.Describe(addr); got != want {
			t.Errorf("Describe(%#x) = %q, want %q", addr, got, want)
		}
	}
	if src, err := set.Status("thing.dll"); src != "pe exports" || err != nil {
		t.Errorf("Status = %q, %v", src, err)
	}
	if src, err := set.Status("elf.so"); src != "" || err != nil {
		t.Errorf("Status(elf.so) = %q, %v", src, err)
	}
	found, err := set.Find("thing!*Thing")
	if err != nil || len(found) != 2 || found[1].Name != "DeleteThing" || found[1].Addr != base+0x1100 {
		t.Errorf("Find = %+v, %v", found, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewProvider(memtest.Map{base: img}).Load(ctx, mods[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with cancelled context = %v", err)
	}
}

func FuzzExports(f *testing.F) {
	f.Add(image{funcs: []uint32{0x1000, 0x2010}, names: []string{"A"}, ords: []uint16{0}}.bytes())
	f.Add(image{plus: true, funcs: []uint32{0x1000}}.bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		tab, err := ReadExports(memtest.Map{base: b}, base, uint64(len(b)))
		if err != nil {
			return
		}
		if len(tab.Exports) > MaxExports {
			t.Fatalf("%d exports", len(tab.Exports))
		}
		for _, e := range tab.Exports {
			if e.RVA >= uint64(len(b)) {
				t.Fatalf("export %+v outside the image", e)
			}
			tab.LookupRVA(e.RVA)
		}
	})
}
