package elfcore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const atSysinfoEHDR = 33 // include/uapi/linux/auxvec.h

// vdsoCore is a core with the executable in NT_FILE (its header dumped)
// and a vDSO image at base.
func vdsoCore(b *elfcoretest.Builder, im elfcoretest.Image, base uint64) (*elfcoretest.Builder, elfcoretest.Layout) {
	img, l := im.Bytes()
	return b.Auxv(6, 4096, atSysinfoEHDR, base, 9, 0x401000).
		Load(elfcoretest.Segment{Vaddr: base, Memsz: l.Size, Flags: 5, Data: img}), l
}

func findModule(mods []model.Module, base uint64) *model.Module {
	for i := range mods {
		if mods[i].Base == base {
			return &mods[i]
		}
	}
	return nil
}

func TestVDSOModule(t *testing.T) {
	t.Parallel()
	id := []byte{0xfd, 0xc3, 0xe4, 0xd4, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	const base = 0x7fff12340000
	b, l := vdsoCore(elfcoretest.New().
		MapFile(elfcoretest.File{Start: 0x400000, End: 0x401000, Offset: 0, Name: "/usr/bin/app"}).
		Load(elfcoretest.Segment{Vaddr: 0x400000, Memsz: 0x1000, Flags: 5, Data: elfcoretest.ELFImage(0x400000, []byte{1, 2, 3, 4})}),
		elfcoretest.Image{BuildID: id, SOName: "linux-vdso.so.1", Funcs: []elfcoretest.Func{{Name: "__vdso_clock_gettime", Size: 0x40}}}, base)
	f := open(t, b)
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 2 || mods[0].Path != "/usr/bin/app" {
		t.Fatalf("modules %+v", mods)
	}
	v := mods[1]
	if v.Base != base || v.Size != l.Filesz || v.Path != "linux-vdso.so.1" || v.DebugFile != "linux-vdso.so.1" ||
		v.CodeID != hex.EncodeToString(id) || hex.EncodeToString(v.BuildID) != v.CodeID {
		t.Errorf("vDSO %#x+%#x %q %q build id %x, want %#x+%#x linux-vdso.so.1 %x", v.Base, v.Size, v.Path, v.CodeID, v.BuildID, uint64(base), l.Filesz, id)
	}
	if got := f.Info().Modules; got != 2 {
		t.Errorf("Info.Modules = %d, want 2", got)
	}
}

// TestVDSOModuleI386 has the old i386 layout: the image linked at
// 0xffffe000 and mapped elsewhere, named linux-gate.so.1.
func TestVDSOModuleI386(t *testing.T) {
	t.Parallel()
	const base = 0xf77f7000
	b, l := vdsoCore(elfcoretest.New().Class32().Machine(3).
		MapFile(elfcoretest.File{Start: 0x8048000, End: 0x8049000, Offset: 0, Name: "/bin/a.out"}),
		elfcoretest.Image{Class32: true, Machine: 3, Vaddr: 0xffffe000, BuildID: []byte{0xed, 0xd4, 0x24, 0x2c}, SOName: "linux-gate.so.1",
			Funcs: []elfcoretest.Func{{Name: "__kernel_vsyscall", Size: 20}}}, base)
	f := open(t, b)
	mods, err := f.Modules()
	if err != nil {
		t.Fatal(err)
	}
	v := findModule(mods, base)
	if v == nil || v.Size != l.Filesz || v.Path != "linux-gate.so.1" || v.CodeID != "edd4242c" {
		t.Fatalf("modules %+v", mods)
	}
}

// TestVDSOModuleAlone: a core without NT_FILE still lists its vDSO, and
// one with neither keeps reporting ErrNotRecorded.
func TestVDSOModuleAlone(t *testing.T) {
	t.Parallel()
	b, _ := vdsoCore(elfcoretest.New(), elfcoretest.Image{}, 0x7fff00000000)
	mods, err := open(t, b).Modules()
	if err != nil || len(mods) != 1 || mods[0].Path != "linux-vdso.so.1" || mods[0].BuildID != nil {
		t.Errorf("modules %+v, %v", mods, err)
	}
	_, err = open(t, elfcoretest.New().Auxv(atSysinfoEHDR, 0x7fff00000000)).Modules()
	if !errors.Is(err, model.ErrNotRecorded) {
		t.Errorf("vDSO not in the dump: err = %v", err)
	}
}

// TestVDSOModuleFreeBSD finds the shared page's vDSO through AT_KPRELOAD
// in NT_PROCSTAT_AUXV.
func TestVDSOModuleFreeBSD(t *testing.T) {
	t.Parallel()
	img, l := elfcoretest.Image{SOName: "elf-vdso.so.1"}.Bytes()
	const base = 0x7ffffffff000 - 0x1000
	f := open(t, elfcoretest.New().FreeBSD().Auxv(atSysinfoEHDR, 0x1234, 34, base).
		Load(elfcoretest.Segment{Vaddr: base, Memsz: l.Size, Flags: 5, Data: img}))
	mods, err := f.Modules()
	if err != nil || len(mods) != 1 || mods[0].Base != base || mods[0].Path != "elf-vdso.so.1" {
		t.Errorf("modules %+v, %v", mods, err)
	}
}

// TestVDSOModuleRejects checks that a header that is not a plausible vDSO
// lists nothing.
func TestVDSOModuleRejects(t *testing.T) {
	t.Parallel()
	const base = 0x7fff00000000
	good, _ := elfcoretest.Image{SOName: "linux-vdso.so.1"}.Bytes()
	patch := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	le := binary.LittleEndian
	for name, img := range map[string][]byte{
		"machine":     patch(func(b []byte) { le.PutUint16(b[18:], 183) }),
		"ET_EXEC":     patch(func(b []byte) { le.PutUint16(b[16:], 2) }),
		"class":       patch(func(b []byte) { b[4] = 1 }),
		"magic":       patch(func(b []byte) { b[1] = 'X' }),
		"huge memsz":  patch(func(b []byte) { le.PutUint64(b[64+40:], 1<<40) }),
		"no PT_LOAD":  patch(func(b []byte) { le.PutUint32(b[64:], 6) }),
		"phnum":       patch(func(b []byte) { le.PutUint16(b[56:], 0xfff0) }),
		"phoff":       patch(func(b []byte) { le.PutUint64(b[32:], 1<<62) }),
		"header only": good[:40],
	} {
		f := open(t, elfcoretest.New().Auxv(atSysinfoEHDR, base).Load(elfcoretest.Segment{Vaddr: base, Memsz: uint64(len(img)), Flags: 5, Data: img}))
		if mods, err := f.Modules(); err == nil {
			t.Errorf("%s: modules %+v", name, mods)
		}
	}
	// A corrupt DT_SONAME leaves the default name.
	img := patch(func(b []byte) {
		for off := 0; off+16 <= len(b); off += 8 {
			if le.Uint64(b[off:]) == 14 && off%8 == 0 { // DT_SONAME
				le.PutUint64(b[off+8:], 1<<40)
			}
		}
	})
	f := open(t, elfcoretest.New().Auxv(atSysinfoEHDR, base).Load(elfcoretest.Segment{Vaddr: base, Memsz: uint64(len(img)), Flags: 5, Data: img}))
	if mods, err := f.Modules(); err != nil || len(mods) != 1 || mods[0].Path != "linux-vdso.so.1" {
		t.Errorf("bad DT_SONAME: modules %+v, %v", mods, err)
	}
}

// TestVDSOCorpus checks the vDSO of real cores: drgn's against the values
// drgn's tests assert (corpus drgn/ORACLE-NOTES.md), elfutils' i386 one
// against readelf on the image the core holds.
func TestVDSOCorpus(t *testing.T) {
	t.Parallel()
	const drgnID = "fdc3e4d463911345fbc6d9cc432e5ebc276e8e03"
	for _, c := range []struct {
		core       string
		start, end uint64
		name, id   string
	}{
		{"drgn/crashme.core.zst", 0x7F6112CB4000, 0x7F6112CB590F, "linux-vdso.so.1", drgnID},
		{"drgn/crashme_pie.core.zst", 0x7FAB2C395000, 0x7FAB2C39690F, "linux-vdso.so.1", drgnID},
		{"drgn/crashme_static.core.zst", 0x7FBC73A66000, 0x7FBC73A6790F, "linux-vdso.so.1", drgnID},
		{"drgn/crashme_static_pie.core.zst", 0x7FD981DC7000, 0x7FD981DC890F, "linux-vdso.so.1", drgnID},
		{"drgn/crashme_pie_no_headers.core.zst", 0x7F299F607000, 0x7F299F60890F, "linux-vdso.so.1", drgnID},
		{"elfutils/backtrace.i386.core.bz2", 0xf77f7000, 0xf77f7434, "linux-gate.so.1", "edd4242c4fb020f8dc3006afb74df6f79f38b855"},
	} {
		t.Run(c.core, func(t *testing.T) {
			t.Parallel()
			f := openCorpusCore(t, fixture.Corpus(t, c.core))
			mods, err := f.Modules()
			if err != nil {
				t.Fatal(err)
			}
			v := findModule(mods, c.start)
			if v == nil {
				t.Fatalf("no module at %#x: %+v", c.start, mods)
			}
			if v.Base+v.Size != c.end || v.Path != c.name || v.CodeID != c.id {
				t.Errorf("vDSO [%#x, %#x) %q %s, want [%#x, %#x) %q %s", v.Base, v.Base+v.Size, v.Path, v.CodeID, c.start, c.end, c.name, c.id)
			}
			if f.Info().Modules != len(mods) {
				t.Errorf("Info.Modules = %d, Modules() has %d", f.Info().Modules, len(mods))
			}
		})
	}
}
