package elfcore

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/elfcore/elfcoretest"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// regsByName returns a context's registers by name and its names in order.
func regsByName(t *testing.T, c model.Context) (map[string]model.Reg, []string) {
	t.Helper()
	if c == nil {
		t.Fatal("no context")
	}
	m := map[string]model.Reg{}
	var names []string
	for _, r := range c.Regs() {
		if _, dup := m[r.Name]; dup {
			t.Errorf("register %s listed twice", r.Name)
		}
		m[r.Name] = r
		names = append(names, r.Name)
	}
	return m, names
}

func wantWide(t *testing.T, regs map[string]model.Reg, name string, want []byte) {
	t.Helper()
	r, ok := regs[name]
	switch {
	case !ok:
		t.Errorf("%s missing", name)
	case !bytes.Equal(r.Wide, want) || r.Size != len(want) || r.Value != 0:
		t.Errorf("%s = % x (size %d, value %#x), want % x", name, r.Wide, r.Size, r.Value, want)
	}
}

func wantValue(t *testing.T, regs map[string]model.Reg, name string, want uint64) {
	t.Helper()
	r, ok := regs[name]
	switch {
	case !ok:
		t.Errorf("%s missing", name)
	case r.Wide != nil || r.Value != want:
		t.Errorf("%s = %#x (wide % x), want %#x", name, r.Value, r.Wide, want)
	}
}

func wantAbsent(t *testing.T, regs map[string]model.Reg, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, ok := regs[n]; ok {
			t.Errorf("%s present", n)
		}
	}
}

func regNames(prefix string, n int) []string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf("%s%d", prefix, i))
	}
	return s
}

func fxNote(x elfcoretest.FXSave) elfcoretest.Note {
	return elfcoretest.Note{Name: "CORE", Type: elfcoretest.NTPRFPReg, Desc: x.Bytes()}
}

func xstateNote(b []byte) elfcoretest.Note {
	return elfcoretest.Note{Name: "LINUX", Type: elfcoretest.NTX86XState, Desc: b}
}

// TestFXSAVE decodes x86-64 NT_FPREGSET images of two threads: each
// thread gets its own note's registers, in gdb's order, with the tag word
// rebuilt from the abridged one and fop, fiseg and foseg cut to their
// widths.
func TestFXSAVE(t *testing.T) {
	t.Parallel()
	mk := func(seed byte) elfcoretest.FXSave {
		x := elfcoretest.FXSave{CWD: 0x27f, SWD: 0x2800 /* TOP 5 */, FTW: 0xe0, FOP: 0xffff,
			RIP: 0x0000_1234_5678_9abc, RDP: 0xffff_0000_7000_1000, MXCSR: 0x1f80 | uint32(seed), MXCSRMask: 0xffff}
		copy(x.ST[0][:], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f}) // 1.0: valid
		// st1 = 0: zero; st2 = +inf: special; st3 is not tagged valid.
		copy(x.ST[2][:], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x7f})
		copy(x.ST[3][:], elfcoretest.Pattern(seed, 10))
		for i := range x.XMM {
			copy(x.XMM[i][:], elfcoretest.Pattern(seed+byte(16*i), 16))
		}
		return x
	}
	b := elfcoretest.New().Threads(
		elfcoretest.Thread{TID: 10, Signal: 11, Notes: []elfcoretest.Note{fxNote(mk(1))}},
		elfcoretest.Thread{TID: 11, Notes: []elfcoretest.Note{fxNote(mk(2))}})
	f := open(t, b)
	ts, err := f.Threads()
	if err != nil || len(ts) != 2 {
		t.Fatalf("threads %v, %v", ts, err)
	}
	for i, th := range ts {
		seed := byte(i + 1)
		regs, order := regsByName(t, th.Context)
		want := slices.Concat(regNames("st", 8), x87CtlNames[:], regNames("xmm", 16), []string{"mxcsr"})
		if got := order[len(order)-len(want):]; !slices.Equal(got, want) {
			t.Errorf("thread %d: order %v, want %v after the general registers", th.ID, got, want)
		}
		wantWide(t, regs, "st0", []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
		wantWide(t, regs, "st3", elfcoretest.Pattern(seed, 10))
		wantWide(t, regs, "xmm15", elfcoretest.Pattern(seed+0xf0, 16))
		// TOP 5: physical registers 5, 6, 7 are st0 (valid 00), st1
		// (zero 01), st2 (special 10); the rest are empty (11).
		wantValue(t, regs, "ftag", 0b10_01_00_11_11_11_11_11)
		wantValue(t, regs, "fctrl", 0x27f)
		wantValue(t, regs, "fstat", 0x2800)
		wantValue(t, regs, "fop", 0x7ff)
		wantValue(t, regs, "fioff", 0x56789abc)
		wantValue(t, regs, "fiseg", 0x1234)
		wantValue(t, regs, "fooff", 0x70001000)
		wantValue(t, regs, "foseg", 0)
		wantValue(t, regs, "mxcsr", 0x1f80|uint64(seed))
		wantAbsent(t, regs, "ymm0", "k0", "zmm0")
		if v, ok := th.Context.Reg("xmm1"); !ok || v != binary.LittleEndian.Uint64(elfcoretest.Pattern(seed+16, 8)) {
			t.Errorf("Reg(xmm1) = %#x, %v: want the low 64 bits", v, ok)
		}
	}
	ec, err := f.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	regs, _ := regsByName(t, ec)
	wantWide(t, regs, "xmm0", elfcoretest.Pattern(1, 16))
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %v", d)
	}
}

// TestXSAVEInitState checks that components whose XSTATE_BV bit is clear
// read as their init state whatever the note's bytes hold, and that
// NT_X86_XSTATE wins over NT_FPREGSET.
func TestXSAVEInitState(t *testing.T) {
	t.Parallel()
	x := elfcoretest.XSave{XCR0: 0x7, Size: 832}
	x.Legacy = elfcoretest.FXSave{CWD: 0x1234, SWD: 0x4321, FTW: 0xff, MXCSR: 0x1fa5}
	for i := range x.Legacy.ST {
		copy(x.Legacy.ST[i][:], elfcoretest.Pattern(byte(i), 10))
	}
	for i := range x.Legacy.XMM {
		copy(x.Legacy.XMM[i][:], elfcoretest.Pattern(byte(0x40+i), 16))
	}
	x.Components = []elfcoretest.XComponent{{Feature: 2, Offset: elfcoretest.XStateOffset(2), Data: bytes.Repeat([]byte{0xaa}, 256)}}
	other := elfcoretest.FXSave{CWD: 0x7f7f, MXCSR: 0x1111}

	for _, tc := range []struct {
		name string
		bv   uint64
		// st, xmm, ymm upper halves in use; mxcsr expected
		x87, sse, avx bool
		mxcsr         uint64
	}{
		{"all in use", 0x7, true, true, true, 0x1fa5},
		{"AVX init", 0x3, true, true, false, 0x1fa5},
		{"x87 init", 0x6, false, true, true, 0x1fa5},
		{"SSE init, AVX in use", 0x5, true, false, true, 0x1fa5},
		{"SSE and AVX init", 0x1, true, false, false, 0x1f80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := x
			x.XStateBV = tc.bv
			f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 7, Signal: 6,
				Notes: []elfcoretest.Note{fxNote(other), xstateNote(x.Bytes())}}))
			ts, _ := f.Threads()
			regs, _ := regsByName(t, ts[0].Context)
			if tc.x87 {
				wantWide(t, regs, "st3", elfcoretest.Pattern(3, 10))
				wantValue(t, regs, "fctrl", 0x1234)
			} else {
				wantWide(t, regs, "st3", make([]byte, 10))
				wantValue(t, regs, "fctrl", 0x37f)
				wantValue(t, regs, "ftag", 0xffff)
				wantValue(t, regs, "fstat", 0)
			}
			xmm, hi := elfcoretest.Pattern(0x45, 16), bytes.Repeat([]byte{0xaa}, 16)
			if !tc.sse {
				xmm = make([]byte, 16)
			}
			if !tc.avx {
				hi = make([]byte, 16)
			}
			wantWide(t, regs, "xmm5", xmm)
			wantWide(t, regs, "ymm5", slices.Concat(xmm, hi))
			wantValue(t, regs, "mxcsr", tc.mxcsr)
			wantAbsent(t, regs, "k0", "zmm0", "pkru", "xmm16")
			if d := f.Diagnostics(); len(d) != 0 {
				t.Errorf("diagnostics: %v", d)
			}
		})
	}
}

// TestXSAVELayout decodes the AVX-512 state of the amd64-xstate scenario,
// whose components sit where NT_X86_XSAVE_LAYOUT says (AMD's offsets),
// and the same state at Intel's standard offsets without the layout note.
func TestXSAVELayout(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, f *File, seeds []byte, diags int) {
		t.Helper()
		ts, _ := f.Threads()
		if len(ts) != len(seeds) {
			t.Fatalf("%d threads", len(ts))
		}
		for i, th := range ts {
			seed := seeds[i]
			regs, order := regsByName(t, th.Context)
			xmm3 := elfcoretest.Pattern(seed+3, 16)
			ymmh3 := elfcoretest.Pattern(seed+0x43, 16)
			wantWide(t, regs, "xmm3", xmm3)
			wantWide(t, regs, "ymm3", slices.Concat(xmm3, ymmh3))
			wantWide(t, regs, "zmm3", slices.Concat(xmm3, ymmh3, elfcoretest.Pattern(seed+0x83, 32)))
			wantWide(t, regs, "zmm17", elfcoretest.Pattern(seed+0xc1, 64))
			wantWide(t, regs, "xmm17", elfcoretest.Pattern(seed+0xc1, 16))
			wantWide(t, regs, "ymm31", elfcoretest.Pattern(seed+0xcf, 32))
			wantValue(t, regs, "k6", binary.LittleEndian.Uint64(elfcoretest.Pattern(seed+0x26, 8)))
			wantValue(t, regs, "pkru", 0x55555554)
			wantValue(t, regs, "mxcsr", 0x1fa0)
			wantValue(t, regs, "ftag", 0x3fff) // TOP 7, physical 7 (st0 = 1.0) valid
			wantValue(t, regs, "fioff", 0x401000)
			wantWide(t, regs, "st0", []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
			// gdb's order: x87, xmm0..15, mxcsr, ymm, k, zmm, then the
			// AVX-512 views and pkru.
			i0 := slices.Index(order, "st0")
			want := slices.Concat(regNames("st", 8), x87CtlNames[:], regNames("xmm", 16), []string{"mxcsr"}, regNames("ymm", 16), regNames("k", 8), regNames("zmm", 32))
			if i0 < 0 || len(order) < i0+len(want) || !slices.Equal(order[i0:i0+len(want)], want) {
				t.Errorf("order %v", order[max(i0, 0):])
			}
			if order[len(order)-1] != "pkru" {
				t.Errorf("last register %s, want pkru", order[len(order)-1])
			}
		}
		if d := f.Diagnostics(); len(d) != diags {
			t.Errorf("diagnostics: %v", d)
		}
	}
	t.Run("layout note", func(t *testing.T) {
		check(t, open(t, elfcoretest.AMD64XState()), []byte{0, 0x10}, 0)
	})
	t.Run("AMD layout without the note", func(t *testing.T) {
		x := elfcoretest.ZenXSave(0x30, elfcoretest.ZenXCR0)
		f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 9, Signal: 11,
			Notes: []elfcoretest.Note{xstateNote(x.Bytes())}}))
		check(t, f, []byte{0x30}, 1)
		if d := f.Diagnostics(); len(d) == 1 && d[0].Severity != model.Note {
			t.Errorf("diagnostic %v is not a note", d[0])
		}
	})
	t.Run("standard offsets", func(t *testing.T) {
		x := elfcoretest.ZenXSave(0x20, elfcoretest.ZenXCR0)
		for i := range x.Components {
			x.Components[i].Offset = elfcoretest.XStateOffset(x.Components[i].Feature)
		}
		x.Size = 0
		check(t, open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 9, Signal: 11,
			Notes: []elfcoretest.Note{xstateNote(x.Bytes())}})), []byte{0x20}, 0)
	})
}

// TestCrashcLayout reads crashc's AVX-512 state (an AMD layout, which gdb
// 13 cannot read) through its NT_X86_XSAVE_LAYOUT note, and again with
// that note's type changed: the layout inferred from the size must give
// the same registers. Its note is complete, so neither raises a warning.
func TestCrashcLayout(t *testing.T) {
	t.Parallel()
	raw := readCorpusCore(t, fixture.Corpus(t, "generated/linux-core/core.crashc.sigsegv"))
	f, err := NewFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := f.Threads()
	mutated := slices.Clone(raw)
	found := false
	for _, n := range f.Notes {
		if n.Type == NT_X86_XSAVE_LAYOUT {
			// n_type precedes the name "LINUX\0" padded to 8 bytes.
			binary.LittleEndian.PutUint32(mutated[n.Off-12:], 0x2ff)
			found = true
		}
	}
	if !found {
		t.Fatal("no NT_X86_XSAVE_LAYOUT note")
	}
	g, err := NewFile(bytes.NewReader(mutated), int64(len(mutated)))
	if err != nil {
		t.Fatal(err)
	}
	us, _ := g.Threads()
	for i, th := range ts {
		regs, _ := regsByName(t, th.Context)
		if _, ok := regs["zmm31"]; !ok || len(regs["k7"].Name) == 0 {
			t.Errorf("thread %d: no AVX-512 registers", th.ID)
		}
		if !slices.EqualFunc(th.Context.Regs(), us[i].Context.Regs(), func(a, b model.Reg) bool {
			return a.Name == b.Name && a.Value == b.Value && bytes.Equal(a.Wide, b.Wide)
		}) {
			t.Errorf("thread %d: registers differ without the layout note", th.ID)
		}
	}
	for _, d := range f.Diagnostics() {
		t.Errorf("with the layout note: %v", d)
	}
	for _, d := range g.Diagnostics() {
		if d.Severity != model.Note {
			t.Errorf("without the layout note: %v", d)
		}
	}
}

// TestShortXSTATE checks that a cut NT_X86_XSTATE yields the registers
// that fit and a diagnostic, and that one without an XSAVE header falls
// back to NT_FPREGSET.
func TestShortXSTATE(t *testing.T) {
	t.Parallel()
	t.Run("inside AVX", func(t *testing.T) {
		t.Parallel()
		x := elfcoretest.ZenXSave(0, 0x7)
		x.XCR0, x.Size = 0x7, 700 // ymm upper halves end at 576+16*7 = 688
		f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 1, Signal: 11,
			Notes: []elfcoretest.Note{xstateNote(x.Bytes())}}))
		for range 2 { // the diagnostic is not repeated
			ts, _ := f.Threads()
			regs, _ := regsByName(t, ts[0].Context)
			wantWide(t, regs, "ymm6", slices.Concat(elfcoretest.Pattern(6, 16), elfcoretest.Pattern(0x46, 16)))
			wantAbsent(t, regs, "ymm7", "ymm15")
			wantWide(t, regs, "xmm15", elfcoretest.Pattern(15, 16))
		}
		if d := f.Diagnostics(); len(d) != 1 || !strings.Contains(d[0].Msg, "component 2") {
			t.Errorf("diagnostics: %v", d)
		}
	})
	t.Run("AVX init needs no bytes", func(t *testing.T) {
		t.Parallel()
		x := elfcoretest.ZenXSave(0, 0x3)
		x.XCR0, x.Size = 0x7, 576
		f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 1, Signal: 11,
			Notes: []elfcoretest.Note{xstateNote(x.Bytes())}}))
		ts, _ := f.Threads()
		regs, _ := regsByName(t, ts[0].Context)
		wantWide(t, regs, "ymm15", slices.Concat(elfcoretest.Pattern(15, 16), make([]byte, 16)))
		if d := f.Diagnostics(); len(d) != 0 {
			t.Errorf("diagnostics: %v", d)
		}
	})
	t.Run("no header", func(t *testing.T) {
		t.Parallel()
		x := elfcoretest.ZenXSave(0, 0x7)
		x.Size = 540
		fx := elfcoretest.FXSave{CWD: 0x37f, MXCSR: 0x1f81}
		copy(fx.XMM[2][:], elfcoretest.Pattern(0x99, 16))
		f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 1, Signal: 11,
			Notes: []elfcoretest.Note{fxNote(fx), xstateNote(x.Bytes())}}))
		ts, _ := f.Threads()
		regs, _ := regsByName(t, ts[0].Context)
		wantWide(t, regs, "xmm2", elfcoretest.Pattern(0x99, 16))
		wantValue(t, regs, "mxcsr", 0x1f81)
		wantAbsent(t, regs, "ymm0")
		if d := f.Diagnostics(); len(d) != 1 || !strings.Contains(d[0].Msg, "no XSAVE header") {
			t.Errorf("diagnostics: %v", d)
		}
	})
	t.Run("cut FXSAVE", func(t *testing.T) {
		t.Parallel()
		fx := elfcoretest.FXSave{MXCSR: 0x1f82}
		copy(fx.XMM[0][:], elfcoretest.Pattern(0x10, 16))
		n := fxNote(fx)
		n.Desc = n.Desc[:fxXMM+20] // xmm0 and part of xmm1
		f := open(t, elfcoretest.New().Threads(elfcoretest.Thread{TID: 1, Signal: 11, Notes: []elfcoretest.Note{n}}))
		ts, _ := f.Threads()
		regs, _ := regsByName(t, ts[0].Context)
		wantWide(t, regs, "xmm0", elfcoretest.Pattern(0x10, 16))
		wantAbsent(t, regs, "xmm1")
		wantValue(t, regs, "mxcsr", 0x1f82)
		if len(f.Diagnostics()) != 1 {
			t.Errorf("diagnostics: %v", f.Diagnostics())
		}
	})
}

// TestI386FPNotes decodes i386's FSAVE NT_PRFPREG alone and NT_PRXFPREG's
// FXSAVE (xmm0..7) when both are present.
func TestI386FPNotes(t *testing.T) {
	t.Parallel()
	fs := elfcoretest.FSave{CWD: 0xffff037f, SWD: 0x3800, TWD: 0x3fff, FIP: 0x8048123, FCS: 0x07ff0073, FOO: 0x804a000, FOS: 0xffff007b}
	copy(fs.ST[0][:], []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
	copy(fs.ST[7][:], elfcoretest.Pattern(0x70, 10))
	fsNote := elfcoretest.Note{Name: "CORE", Type: elfcoretest.NTPRFPReg, Desc: fs.Bytes()}
	i386 := func(notes ...elfcoretest.Note) *File {
		return open(t, elfcoretest.New().Class32().Machine(3).Threads(elfcoretest.Thread{TID: 3, Signal: 11, Notes: notes}))
	}

	f := i386(fsNote)
	ts, _ := f.Threads()
	regs, order := regsByName(t, ts[0].Context)
	wantWide(t, regs, "st0", []byte{0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f})
	wantWide(t, regs, "st7", elfcoretest.Pattern(0x70, 10))
	wantValue(t, regs, "fctrl", 0x37f)
	wantValue(t, regs, "ftag", 0x3fff)
	wantValue(t, regs, "fioff", 0x8048123)
	wantValue(t, regs, "fiseg", 0x73)
	wantValue(t, regs, "fop", 0x7ff)
	wantValue(t, regs, "fooff", 0x804a000)
	wantValue(t, regs, "foseg", 0x7b)
	wantAbsent(t, regs, "xmm0", "mxcsr")
	if order[len(order)-1] != "fop" {
		t.Errorf("order %v", order)
	}

	fx := elfcoretest.FXSave{CWD: 0x37f, MXCSR: 0x1f80}
	for i := range fx.XMM {
		copy(fx.XMM[i][:], elfcoretest.Pattern(byte(i), 16))
	}
	f = i386(fsNote, elfcoretest.Note{Name: "LINUX", Type: elfcoretest.NTPRXFPReg, Desc: fx.Bytes()})
	ts, _ = f.Threads()
	regs, _ = regsByName(t, ts[0].Context)
	wantWide(t, regs, "xmm7", elfcoretest.Pattern(7, 16))
	wantAbsent(t, regs, "xmm8")
	wantValue(t, regs, "mxcsr", 0x1f80)

	f = i386(elfcoretest.Note{Name: "CORE", Type: elfcoretest.NTPRFPReg, Desc: fs.Bytes()[:100]})
	ts, _ = f.Threads()
	regs, _ = regsByName(t, ts[0].Context)
	wantAbsent(t, regs, "st0")
	if len(f.Diagnostics()) != 1 {
		t.Errorf("short FSAVE: diagnostics %v", f.Diagnostics())
	}
}

// TestARM64Notes decodes the arm64-fpsimd scenario: v0..v31, fpsr, fpcr,
// the PAC masks (and PACMask), tpidr and vg, per thread.
func TestARM64Notes(t *testing.T) {
	t.Parallel()
	f := open(t, elfcoretest.ARM64FPSIMD())
	ts, err := f.Threads()
	if err != nil || len(ts) != 2 {
		t.Fatalf("threads %v, %v", ts, err)
	}
	for i, th := range ts {
		regs, order := regsByName(t, th.Context)
		wantWide(t, regs, "v0", elfcoretest.Pattern(byte(0x40*i), 16))
		wantWide(t, regs, "v31", elfcoretest.Pattern(byte(0x40*i+31), 16))
		wantValue(t, regs, "fpsr", 0x8000010)
		wantValue(t, regs, "fpcr", 0x3000000)
		wantValue(t, regs, "tpidr", 0x7f00001000+uint64(i)*0x1000)
		wantValue(t, regs, "pauth_dmask", 0x007f000000000000)
		wantValue(t, regs, "pauth_cmask", 0x007f000000000000)
		wantValue(t, regs, "vg", 4)
		wantAbsent(t, regs, "z0", "p0", "ffr", "tpidr2")
		want := slices.Concat(regNames("v", 32), []string{"vg", "fpsr", "fpcr", "pauth_dmask", "pauth_cmask", "tpidr"})
		if got := order[len(order)-len(want):]; !slices.Equal(got, want) {
			t.Errorf("order %v, want %v", got, want)
		}
		pc, ok := th.Context.(interface{ PACMask() (uint64, bool) })
		if !ok {
			t.Fatal("no PACMask method")
		}
		if m, ok := pc.PACMask(); !ok || m != 0x007f000000000000 {
			t.Errorf("PACMask = %#x, %v", m, ok)
		}
	}
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %v", d)
	}
	// FreeBSD's NT_ARM_ADDR_MASK holds the code mask first.
	fb := open(t, elfcoretest.New().FreeBSD().Machine(183).Threads(elfcoretest.Thread{TID: 5, Signal: 11, Notes: []elfcoretest.Note{
		{Type: elfcoretest.NTARMPACMask, Desc: elfcoretest.PACMask(0xff80000000000000, 0x0080000000000000)}}}))
	fts, _ := fb.Threads()
	fregs, _ := regsByName(t, fts[0].Context)
	wantValue(t, fregs, "pauth_cmask", 0xff80000000000000)
	wantValue(t, fregs, "pauth_dmask", 0x0080000000000000)
	// x86 and arm64 cores without the note have no mask.
	if _, ok := (&Context{}).PACMask(); ok {
		t.Error("PACMask without NT_ARM_PAC_MASK")
	}
}

// TestARM64SVE decodes an NT_ARM_SVE note in SVE mode (vl 32 bytes):
// z0..z31, p0..p15, ffr and vg, and TLS with tpidr2.
func TestARM64SVE(t *testing.T) {
	t.Parallel()
	s := elfcoretest.SVE{VL: 32, MaxVL: 256, Flags: 1, FPSR: 1, FPCR: 2, FFR: []byte{0xff, 0xff, 0xff, 0x0f}}
	for i := range s.Z {
		s.Z[i] = elfcoretest.Pattern(byte(i), 32)
	}
	for i := range s.P {
		s.P[i] = elfcoretest.Pattern(byte(0x80+i), 4)
	}
	var v [32][16]byte
	notes := []elfcoretest.Note{
		{Name: "CORE", Type: elfcoretest.NTPRFPReg, Desc: elfcoretest.FPSIMD(v, 1, 2)},
		{Name: "LINUX", Type: elfcoretest.NTARMSVE, Desc: s.Bytes()},
		{Name: "LINUX", Type: elfcoretest.NTARMTLS, Desc: elfcoretest.ARMTLS(0x1000, 0x2000)},
	}
	f := open(t, elfcoretest.New().Machine(183).Threads(elfcoretest.Thread{TID: 8, Signal: 11, Notes: notes}))
	ts, _ := f.Threads()
	regs, _ := regsByName(t, ts[0].Context)
	wantWide(t, regs, "z31", elfcoretest.Pattern(31, 32))
	wantValue(t, regs, "p15", uint64(binary.LittleEndian.Uint32(elfcoretest.Pattern(0x8f, 4))))
	wantValue(t, regs, "ffr", 0x0fffffff)
	wantValue(t, regs, "vg", 4)
	wantValue(t, regs, "tpidr", 0x1000)
	wantValue(t, regs, "tpidr2", 0x2000)
	if _, ok := ts[0].Context.(*Context).PACMask(); ok {
		t.Error("PACMask without NT_ARM_PAC_MASK")
	}
	if d := f.Diagnostics(); len(d) != 0 {
		t.Errorf("diagnostics: %v", d)
	}

	// Cut inside z1, a short PAC mask and a bad vector length: what fits,
	// with diagnostics.
	cut := s.Bytes()[:16+32+20]
	bad := s.Bytes()
	binary.LittleEndian.PutUint16(bad[8:], 24)
	for _, tc := range []struct {
		name  string
		notes []elfcoretest.Note
		has   []string
		not   []string
	}{
		{"cut z", []elfcoretest.Note{{Name: "LINUX", Type: elfcoretest.NTARMSVE, Desc: cut}}, []string{"z0", "vg"}, []string{"z1", "p0", "ffr"}},
		{"bad vl", []elfcoretest.Note{{Name: "LINUX", Type: elfcoretest.NTARMSVE, Desc: bad}}, nil, []string{"z0", "vg"}},
		{"short pac", []elfcoretest.Note{{Name: "LINUX", Type: elfcoretest.NTARMPACMask, Desc: make([]byte, 12)}}, nil, []string{"pauth_cmask"}},
		{"short fpsimd", []elfcoretest.Note{{Name: "CORE", Type: elfcoretest.NTPRFPReg, Desc: elfcoretest.FPSIMD(v, 1, 2)[:40]}}, []string{"v1"}, []string{"v2", "fpsr"}},
	} {
		f := open(t, elfcoretest.New().Machine(183).Threads(elfcoretest.Thread{TID: 8, Signal: 11, Notes: tc.notes}))
		ts, _ := f.Threads()
		regs, _ := regsByName(t, ts[0].Context)
		for _, n := range tc.has {
			if _, ok := regs[n]; !ok {
				t.Errorf("%s: %s missing", tc.name, n)
			}
		}
		wantAbsent(t, regs, tc.not...)
		if len(f.Diagnostics()) != 1 {
			t.Errorf("%s: diagnostics %v", tc.name, f.Diagnostics())
		}
	}
}

// TestLLDBFPRSSE checks the lldb FP cores against the values lldb's tests
// expect (corpus lldb/ORACLE-NOTES.md): st0..7's bytes, xmm0..7's
// repeated words, fioff, mxcsr.
func TestLLDBFPRSSE(t *testing.T) {
	t.Parallel()
	st := [][]byte{
		{0x99, 0xf7, 0xcf, 0xfb, 0x84, 0x9a, 0x20, 0x9a, 0xfd, 0x3f}, {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f},
		{0xfe, 0x8a, 0x1b, 0xcd, 0x4b, 0x78, 0x9a, 0xd4, 0x00, 0x40}, {0xac, 0x79, 0xcf, 0xd1, 0xf7, 0x17, 0x72, 0xb1, 0xfe, 0x3f},
		{0xbc, 0xf0, 0x17, 0x5c, 0x29, 0x3b, 0xaa, 0xb8, 0xff, 0x3f}, {0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f},
		make([]byte, 10), {0x35, 0xc2, 0x68, 0x21, 0xa2, 0xda, 0x0f, 0xc9, 0x00, 0x40},
	}
	words := []uint32{0x29316446, 0x9ced8664, 0x07c21fd7, 0xa2204825, 0xeb5aa8c4, 0x4941200b, 0xf8f18b4f, 0x13f130cd}
	for _, tc := range []struct {
		core  string
		fioff uint64
	}{
		{"lldb/elf-core/linux-fpr_sse_x86_64.core", 0x0040011e},
		{"lldb/elf-core/linux-fpr_sse_i386.core", 0x080480cc},
	} {
		f := openCorpusCore(t, fixture.Corpus(t, tc.core))
		ec, err := f.ExceptionContext()
		if err != nil {
			t.Fatal(err)
		}
		regs, _ := regsByName(t, ec)
		for i, b := range st {
			wantWide(t, regs, fmt.Sprintf("st%d", i), b)
		}
		for i, w := range words {
			var be [4]byte
			binary.BigEndian.PutUint32(be[:], w) // lldb lists the bytes in memory order
			wantWide(t, regs, fmt.Sprintf("xmm%d", i), bytes.Repeat(be[:], 4))
		}
		wantValue(t, regs, "fctrl", 0x37f)
		wantValue(t, regs, "fioff", tc.fioff)
		wantValue(t, regs, "mxcsr", 0x1f80)
		if d := f.Diagnostics(); len(d) != 0 {
			t.Errorf("%s: diagnostics %v", tc.core, d)
		}
	}
}
