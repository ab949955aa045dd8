package session

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/mem"
	"github.com/crashbench/crashbench/core/mem/memtest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/symbols/elfsym"
	"github.com/crashbench/crashbench/core/unwind"
)

// checkMemImage reads module m's image from memory r and checks that its
// symbols name want (RVA -> name) and that its CFI recovers a caller at
// each of them: the return address on top of the stack (x86) and the
// stack pointer above it.
func checkMemImage(t *testing.T, r mem.Reader, m model.Module, want map[uint64]string, arch model.Arch) *memImage {
	t.Helper()
	im, err := openMemImage(r, m)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := elfsym.Read(im)
	if err != nil {
		t.Fatalf("symbols: %v", err)
	}
	u := unwind.NewDWARFUnwind([]model.Module{m}, func(model.Module) (io.ReaderAt, bool) { return im, true })
	pc, sp, ptr := "rip", "rsp", 8
	if arch == model.X86 {
		pc, sp, ptr = "eip", "esp", 4
	}
	const stack, ret = 0x10000, 0x1234
	read := func(addr uint64, size int) (uint64, error) {
		if addr != stack || size != ptr {
			return 0, errors.New("unexpected read")
		}
		return ret, nil
	}
	for rva, name := range want {
		sym, ok := tab.LookupRVA(rva + 1)
		if !ok || sym.Name != name {
			t.Errorf("RVA %#x: %q %v, want %q", rva+1, sym.Name, ok, name)
		}
		regs, ok, err := u.Caller(m.Base+rva+1, unwind.Registers{pc: m.Base + rva + 1, sp: stack}, read)
		if err != nil || !ok || regs[pc] != ret || regs[sp] != stack+uint64(ptr) {
			t.Errorf("%s: caller %v %v %v", name, regs, ok, err)
		}
	}
	return im
}

// TestMemoryELFImage reads the symbols and CFI of synthetic vDSO images
// held only in memory, with their section headers and without (then from
// PT_DYNAMIC and PT_GNU_EH_FRAME).
func TestMemoryELFImage(t *testing.T) {
	t.Parallel()
	funcs := []elfcoretest.Func{{Name: "__vdso_time", Size: 0x20}, {Name: "__vdso_clock_gettime", Size: 0x40}}
	for _, c := range []struct {
		name string
		im   elfcoretest.Image
		base uint64
		arch model.Arch
	}{
		{"x86-64", elfcoretest.Image{Funcs: funcs}, 0x7fff00000000, model.AMD64},
		{"x86-64 no sections", elfcoretest.Image{Funcs: funcs, NoSections: true}, 0x7fff00000000, model.AMD64},
		{"i386", elfcoretest.Image{Class32: true, Machine: 3, Vaddr: 0xffffe000, Funcs: funcs}, 0xf77f7000, model.X86},
		{"i386 no sections", elfcoretest.Image{Class32: true, Machine: 3, Vaddr: 0xffffe000, Funcs: funcs, NoSections: true}, 0xf77f7000, model.X86},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img, l := c.im.Bytes()
			m := model.Module{Base: c.base, Size: l.Filesz, Path: "linux-vdso.so.1"}
			im := checkMemImage(t, memtest.Map{c.base: img}, m, map[uint64]string{l.Funcs[0]: "__vdso_time", l.Funcs[1]: "__vdso_clock_gettime"}, c.arch)
			if synthesized := im.synth != nil; synthesized != c.im.NoSections {
				t.Errorf("section headers synthesized: %v", synthesized)
			}
		})
	}
}

// TestMemoryELFImageRejects: an image not wholly in the dump, or whose
// header does not fit the module, is not read.
func TestMemoryELFImageRejects(t *testing.T) {
	t.Parallel()
	const base = 0x7fff00000000
	img, l := elfcoretest.Image{Funcs: []elfcoretest.Func{{Name: "big", Size: 0x2800}}}.Bytes()
	m := model.Module{Base: base, Size: l.Filesz}
	if _, err := openMemImage(memtest.Map{base: img}, m); err != nil {
		t.Fatalf("whole image: %v", err)
	}
	for name, c := range map[string]struct {
		r mem.Reader
		m model.Module
	}{
		"first page only":  {memtest.Map{base: img[:0x1000]}, m},
		"a page missing":   {memtest.Map{base: img[:0x1000], base + 0x2000: img[0x2000:]}, m},
		"module too small": {memtest.Map{base: img}, model.Module{Base: base, Size: 0x1000}},
		"not ELF":          {memtest.Map{base: make([]byte, 0x4000)}, m},
		"no memory":        {nil, m},
	} {
		if _, err := openMemImage(c.r, c.m); !errors.Is(err, errNotInMemory) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestVDSOStackSynthetic walks a thread stopped in a synthetic core's
// vDSO: the module comes from AT_SYSINFO_EHDR, its symbols and CFI from
// memory, on x86-64 (section headers synthesized) and i386.
func TestVDSOStackSynthetic(t *testing.T) {
	t.Parallel()
	funcs := []elfcoretest.Func{{Name: "__vdso_time", Size: 0x20}, {Name: "__kernel_vsyscall", Size: 0x40}}
	for _, c := range []struct {
		name          string
		b             *elfcoretest.Builder
		im            elfcoretest.Image
		base          uint64
		nregs, pc, sp int
		ptr           int
	}{
		{"x86-64", elfcoretest.New(), elfcoretest.Image{Funcs: funcs, NoSections: true, SOName: "linux-vdso.so.1"}, 0x7fff00000000, 27, 16, 19, 8},
		{"i386", elfcoretest.New().Class32().Machine(3), elfcoretest.Image{Class32: true, Machine: 3, Vaddr: 0xffffe000, Funcs: funcs, SOName: "linux-gate.so.1"}, 0xf77f7000, 17, 12, 15, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img, l := c.im.Bytes()
			// The thread is in __kernel_vsyscall, called from __vdso_time,
			// whose caller's return address is zero: the stack ends.
			const stackTop = 0x7ffff000
			sp := uint64(stackTop + 0x800)
			stack := make([]byte, 0x1000)
			put := func(at, v uint64) {
				if c.ptr == 8 {
					binary.LittleEndian.PutUint64(stack[at-stackTop:], v)
				} else {
					binary.LittleEndian.PutUint32(stack[at-stackTop:], uint32(v))
				}
			}
			put(sp, c.base+l.Funcs[0]+5)
			regs := make([]uint64, c.nregs)
			regs[c.pc], regs[c.sp] = c.base+l.Funcs[1]+4, sp
			core, err := c.b.Threads(elfcoretest.Thread{TID: 7, Signal: 11, Regs: regs}).Process("app", "./app", 7).
				Auxv(6, 4096, 33, c.base).
				Load(elfcoretest.Segment{Vaddr: c.base, Memsz: l.Size, Flags: 5, Data: img}).
				Load(elfcoretest.Segment{Vaddr: stackTop, Memsz: 0x1000, Flags: 6, Data: stack}).Bytes()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "core")
			if err := os.WriteFile(path, core, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Open(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ths, err := s.Threads()
			if err != nil || len(ths) != 1 {
				t.Fatalf("threads %v %v", ths, err)
			}
			frames, err := s.Stack(context.Background(), ths[0].Context)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range frames {
				sym, _ := s.Symbols().Lookup(f.LookupPC())
				names = append(names, sym.Name)
			}
			if len(frames) != 2 || names[0] != "__kernel_vsyscall" || names[1] != "__vdso_time" || frames[1].Trust != unwind.CFI {
				t.Errorf("frames %+v named %q", frames, names)
			}
			if mod := frames[0].Module; mod == nil || mod.Path != c.im.SOName {
				t.Errorf("frame 0 module %+v", mod)
			}
		})
	}
}

// TestMemoryELFCorpusVDSO reads the x86-64 vDSO of drgn's crashme.core
// from memory: as the core holds it (section headers mapped), and with
// its section headers removed, its symbols then found through DT_HASH,
// else DT_GNU_HASH (readelf --dyn-syms on the image gives the addresses).
func TestMemoryELFCorpusVDSO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(context.Background(), unpacked(t, "drgn/crashme.core.zst", dir, "core"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const base = 0x7f6112cb4000
	var m model.Module
	for _, mod := range s.Modules() {
		if mod.Base == base {
			m = mod
		}
	}
	if m.Path != "linux-vdso.so.1" {
		t.Fatalf("no vDSO at %#x: %+v", uint64(base), s.Modules())
	}
	if sym, ok := s.Symbols().Lookup(base + 0xdc5); !ok || sym.Name != "__vdso_clock_gettime" {
		t.Errorf("%#x: %+v %v", base+0xdc5, sym, ok)
	}
	// Of a weak alias and the global at one address elfsym names the one
	// later in .dynsym, as for files.
	want := map[uint64]string{0xdc0: "__vdso_clock_gettime", 0xaa0: "gettimeofday", 0xd90: "time", 0x1170: "__vdso_clock_getres"}
	checkMemImage(t, s.Memory(), m, want, model.AMD64)

	img := make([]byte, 0x2000)
	if err := mem.ReadFull(s.Memory(), img, base); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	le.PutUint64(img[40:], 0) // e_shoff
	le.PutUint16(img[60:], 0) // e_shnum
	le.PutUint16(img[62:], 0) // e_shstrndx
	im := checkMemImage(t, memtest.Map{base: img}, m, want, model.AMD64)
	if im.synth == nil {
		t.Error("section headers not synthesized")
	}
	// Without DT_HASH (its tag made DT_DEBUG), DT_GNU_HASH counts.
	const dynamic = 0x438
	for off := dynamic; le.Uint64(img[off:]) != 0; off += 16 {
		if le.Uint64(img[off:]) == dtHash {
			le.PutUint64(img[off:], 21)
		}
	}
	im = checkMemImage(t, memtest.Map{base: img}, m, want, model.AMD64)
	if n, ok := im.gnuHashCount(0x170); !ok || n != 15 { // .gnu.hash; .dynsym has 15 entries
		t.Errorf("DT_GNU_HASH counts %d %v, want 15", n, ok)
	}
}

// FuzzMemoryELFImage feeds arbitrary memory to the in-memory ELF reader,
// the symbol reader and the CFI reader over it: they must not panic.
func FuzzMemoryELFImage(f *testing.F) {
	funcs := []elfcoretest.Func{{Name: "f", Size: 0x10}, {Name: "g", Size: 0x20}}
	for _, im := range []elfcoretest.Image{
		{Funcs: funcs, SOName: "linux-vdso.so.1", BuildID: []byte{1, 2}},
		{Funcs: funcs, NoSections: true},
		{Class32: true, Machine: 3, Vaddr: 0xffffe000, Funcs: funcs},
		{Class32: true, Machine: 3, Vaddr: 0xffffe000, Funcs: funcs, NoSections: true},
	} {
		img, _ := im.Bytes()
		f.Add(img)
	}
	f.Fuzz(func(t *testing.T, img []byte) {
		const base = 0x7fff00000000
		m := model.Module{Base: base, Size: uint64(len(img))}
		im, err := openMemImage(memtest.Map{base: img}, m)
		if err != nil {
			return
		}
		_, _ = elfsym.Read(im)
		u := unwind.NewDWARFUnwind([]model.Module{m}, func(model.Module) (io.ReaderAt, bool) { return im, true })
		for pc := uint64(base); pc < base+uint64(len(img)); pc += 0x10 {
			_, _, _ = u.Caller(pc, unwind.Registers{"rip": pc, "rsp": 0x1000, "eip": pc, "esp": 0x1000}, func(uint64, int) (uint64, error) { return 0, nil })
		}
	})
}
