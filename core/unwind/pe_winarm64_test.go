package unwind

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path"
	"testing"

	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

// buildARM64PE is buildPE with the machine field set to ARM64.
func buildARM64PE(t *testing.T, secs []synthSection, pdataRVA, pdataSize uint32) []byte {
	img := buildPE(t, secs, pdataRVA, pdataSize)
	binary.LittleEndian.PutUint16(img[0x44:], machineARM64)
	return img
}

// packed encodes an ARM64 packed .pdata word.
func packed(flag, length, regF, regI, h, cr, frame uint32) uint32 {
	return flag | length/4<<2 | regF<<13 | regI<<16 | h<<20 | cr<<21 | frame/16<<23
}

// xdataHeader encodes a one-word .xdata header.
func xdataHeader(length, x, e, epilogs, words uint32) []byte {
	return le32(length/4 | x<<20 | e<<21 | epilogs<<22 | words<<27)
}

// arm64Image is the image of the ARM64 tests. Functions (RVA, length 0x40):
//
//	P1 0x1000 packed: RegI=2, CR=3, FrameSize=96 (stp x19,x20,[sp,#-16]!;
//	          stp x29,lr,[sp,#-80]!; mov x29,sp)
//	P2 0x1040 packed: RegI=1, CR=1, FrameSize=48 (stp x19,lr,[sp,#-16]!;
//	          sub sp,sp,#32)
//	U1 0x1100 .xdata 0x3000: stp x29,lr,[sp,#-48]!; mov x29,sp;
//	          stp x21,x22,[sp,#16]; sub sp,sp,#64 (E=1)
//	U2 0x1200 .xdata 0x3040: extended header, one epilog scope; pacibsp;
//	          stp x19,x20,[sp,#-48]!; stp x21,x22,[sp,#16] (save_next);
//	          stp d8,d9,[sp,#32]; sub sp,sp,#0x200
//	C1 0x1300 .xdata 0x3080: sub sp,sp,#32; end_c; then the parent's
//	          stp x29,lr,[sp,#-16]!
//	E1 0x1400 packed with reserved flag 3
//	E2 0x1500 .xdata 0x30c0: custom-stack code 0xe8 (unsupported)
//	E3 0x1600 .xdata 0x3100: version 1
//	E4 0x1700 .xdata 0x3140: alloc_l truncated
//	E5 0x1800 .xdata 0x3180: epilog scope index past the codes
func arm64Image(t *testing.T) []byte {
	xdata := make([]byte, 0x200)
	put := func(at int, b ...[]byte) { copy(xdata[at:], cat(b...)) }
	put(0x00, xdataHeader(0x40, 0, 1, 0, 2), []byte{0x04, 0xc8, 0x82, 0xe1, 0x85, 0xe4, 0xe4, 0xe4})
	put(0x40, xdataHeader(0x40, 0, 0, 0, 0), le32(1|2<<16), le32(0x30/4|0<<22),
		[]byte{0xc0, 0x20, 0xd8, 0x04, 0xe6, 0x26, 0xfc, 0xe4})
	put(0x80, xdataHeader(0x40, 0, 1, 0, 1), []byte{0x02, 0xe5, 0x81, 0xe4})
	put(0xc0, xdataHeader(0x40, 0, 1, 0, 1), []byte{0x02, 0xe8, 0xe4, 0xe4})
	put(0x100, le32(0x40/4|1<<18|1<<21|1<<27), []byte{0xe4, 0xe4, 0xe4, 0xe4})
	put(0x140, xdataHeader(0x40, 0, 1, 0, 1), []byte{0xe3, 0xe3, 0xe0, 0x00})
	put(0x180, xdataHeader(0x40, 0, 0, 1, 1), le32(0x30/4|9<<22), []byte{0xe4, 0xe4, 0xe4, 0xe4})
	var pdata []byte
	for _, f := range [][2]uint32{
		{0x1000, packed(1, 0x40, 0, 2, 0, 3, 96)},
		{0x1040, packed(1, 0x40, 0, 1, 0, 1, 48)},
		{0x1100, 0x3000},
		{0x1200, 0x3040},
		{0x1300, 0x3080},
		{0x1400, packed(3, 0x40, 0, 0, 0, 0, 0)},
		{0x1500, 0x30c0},
		{0x1600, 0x3100},
		{0x1700, 0x3140},
		{0x1800, 0x3180},
	} {
		pdata = cat(pdata, le32(f[0]), le32(f[1]))
	}
	return buildARM64PE(t, []synthSection{
		{".text", 0x1000, make([]byte, 0x1000), 0x60000020},
		{".pdata", 0x2000, pdata, 0x40000040},
		{".xdata", 0x3000, xdata, 0x40000040},
	}, 0x2000, uint32(len(pdata)))
}

func arm64Unwinder(t *testing.T, img []byte) *PEUnwind {
	return NewPEUnwind([]model.Module{{Base: synthBase, Size: 0x5000, Path: `C:\arm64.dll`}}, func(model.Module) (io.ReaderAt, bool) {
		return bytes.NewReader(img), true
	})
}

func TestPEUnwindARM64(t *testing.T) {
	u := arm64Unwinder(t, arm64Image(t))
	const (
		S   = 0x10000 // callee sp
		F   = 0x10100 // callee fp
		ret = 0x140009990
	)
	callee := func() Registers {
		return Registers{"pc": 0, "sp": S, "fp": F, "lr": 0x1400aaaa0, "x19": 0x19, "x20": 0x20, "x21": 0x21, "x22": 0x22, "x28": 0x28}
	}
	tests := []struct {
		name  string
		rva   uint64
		stack wordStack
		fp    uint64 // callee fp if not F
		want  Registers
	}{
		{
			// Body of P1: sp is restored from fp (the frame may hold a
			// dynamic allocation below it), then the fp/lr record and x19/x20.
			name:  "packed body",
			rva:   0x1020,
			stack: wordStack{F: 0x20000, F + 8: ret, F + 80: 0x1919, F + 88: 0x2020},
			want:  Registers{"pc": ret, "lr": ret, "sp": F + 96, "fp": 0x20000, "x19": 0x1919, "x20": 0x2020, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
		{
			// P1 stopped before mov x29,sp: both stores ran, sp-relative.
			name:  "packed prolog after two stores",
			rva:   0x1008,
			stack: wordStack{S: 0x20000, S + 8: ret, S + 80: 0x1919, S + 88: 0x2020},
			want:  Registers{"pc": ret, "lr": ret, "sp": S + 96, "fp": 0x20000, "x19": 0x1919, "x20": 0x2020, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
		{
			name:  "packed prolog after one store",
			rva:   0x1004,
			stack: wordStack{S: 0x1919, S + 8: 0x2020},
			want:  Registers{"pc": 0x1400aaaa0, "lr": 0x1400aaaa0, "sp": S + 16, "fp": F, "x19": 0x1919, "x20": 0x2020, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
		{
			name: "packed prolog start",
			rva:  0x1000,
			want: Registers{"pc": 0x1400aaaa0, "lr": 0x1400aaaa0, "sp": S, "fp": F, "x19": 0x19, "x20": 0x20, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
		{
			// P2: x19 and lr share one stp (CR=1, odd RegI).
			name:  "packed lr pair",
			rva:   0x1070,
			stack: wordStack{S + 32: 0x1919, S + 40: ret},
			want:  Registers{"pc": ret, "lr": ret, "sp": S + 48, "fp": F, "x19": 0x1919, "x20": 0x20, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
		{
			name:  "xdata body",
			rva:   0x1130,
			fp:    S + 64,
			stack: wordStack{S + 64: 0x20000, S + 72: ret, S + 80: 0x2121, S + 88: 0x2222},
			want:  Registers{"pc": ret, "lr": ret, "sp": S + 64 + 48, "fp": 0x20000, "x19": 0x19, "x20": 0x20, "x21": 0x2121, "x22": 0x2222, "x28": 0x28},
		},
		{
			// U1 stopped after mov x29,sp: only set_fp and save_fplr_x undone.
			name:  "xdata prolog",
			rva:   0x1108,
			fp:    S,
			stack: wordStack{S: 0x20000, S + 8: ret},
			want:  Registers{"pc": ret, "lr": ret, "sp": S + 48, "fp": 0x20000, "x19": 0x19, "x20": 0x20, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
		{
			// U2: save_next widens save_r19r20_x to x19..x22; d8/d9 are
			// skipped; lr was never saved, so the caller resumes at lr.
			name:  "xdata save_next leaf",
			rva:   0x1220,
			stack: wordStack{S + 0x200: 0x1919, S + 0x208: 0x2020, S + 0x210: 0x2121, S + 0x218: 0x2222},
			want:  Registers{"pc": 0x1400aaaa0, "lr": 0x1400aaaa0, "sp": S + 0x200 + 48, "fp": F, "x19": 0x1919, "x20": 0x2020, "x21": 0x2121, "x22": 0x2222, "x28": 0x28},
		},
		{
			// C1: the codes after end_c (the parent scope's) apply too.
			name:  "end_c scope",
			rva:   0x1320,
			stack: wordStack{S + 32: 0x20000, S + 40: ret},
			want:  Registers{"pc": ret, "lr": ret, "sp": S + 48, "fp": 0x20000, "x19": 0x19, "x20": 0x20, "x21": 0x21, "x22": 0x22, "x28": 0x28},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			regs := callee()
			regs["pc"] = synthBase + tc.rva
			if tc.fp != 0 {
				regs["fp"] = tc.fp
			}
			got, ok, err := u.Caller(synthBase+tc.rva, regs, tc.stack.read)
			if err != nil || !ok {
				t.Fatalf("Caller: ok=%v err=%v", ok, err)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %#x, want %#x (all: %#x)", k, got[k], v, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("got %d registers %#x, want %d", len(got), got, len(tc.want))
			}
		})
	}
	for _, rva := range []uint64{0x1410, 0x1510, 0x1610, 0x1710, 0x1810} {
		_, ok, err := u.Caller(synthBase+rva, callee(), wordStack{}.read)
		if ok || !errors.Is(err, ErrBadUnwindInfo) {
			t.Errorf("rva %#x: ok=%v err=%v, want ErrBadUnwindInfo", rva, ok, err)
		}
	}
	// No entry covers 0x1900; a set_fp function without a known fp has no
	// usable rules.
	if _, ok, err := u.Caller(synthBase+0x1900, callee(), wordStack{}.read); ok || err != nil {
		t.Errorf("uncovered pc: ok=%v err=%v", ok, err)
	}
	noFP := callee()
	delete(noFP, "fp")
	if _, ok, err := u.Caller(synthBase+0x1020, noFP, wordStack{}.read); ok || err != nil {
		t.Errorf("no fp: ok=%v err=%v", ok, err)
	}
	// A stack read failing is an error.
	if _, ok, err := u.Caller(synthBase+0x1020, callee(), wordStack{}.read); ok || err == nil {
		t.Errorf("unreadable stack: ok=%v err=%v", ok, err)
	}
}

// TestPackedARM64Prolog checks the canonical prologs packed data stands for.
func TestPackedARM64Prolog(t *testing.T) {
	tests := []struct {
		name          string
		w             uint32
		instrs, total int    // prolog instructions; sp adjustment
		pre           uint32 // the save area's pre-decrement
	}{
		{"chained small", packed(1, 0x40, 0, 2, 0, 3, 96), 3, 96, 16},
		{"chained large locals", packed(1, 0x40, 0, 2, 0, 3, 5008), 5, 5008, 16},
		{"signed, fp regs, homed", packed(1, 0x40, 2, 3, 1, 2, 256), 1 + 2 + 2 + 4 + 2, 256, 112},
		{"fp regs only", packed(1, 0x40, 1, 0, 0, 0, 32), 2, 32, 16},
		{"homed only", packed(1, 0x40, 0, 0, 1, 0, 64), 4, 64, 64},
		{"nothing saved", packed(1, 0x40, 0, 0, 0, 0, 0), 0, 0, 0},
	}
	for _, tc := range tests {
		ops, err := packedARM64(tc.w)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		total, pre := 0, uint32(0)
		for _, op := range ops {
			switch op.kind {
			case a64Alloc:
				total += int(op.off)
			case a64Save:
				total += int(op.wb)
				if op.reg != 29 && op.wb != 0 {
					pre = op.wb
				}
			}
		}
		if len(ops) != tc.instrs || total != tc.total || pre != tc.pre {
			t.Errorf("%s: %d instructions, sp +%d, save area %d; want %d, %d, %d (%+v)", tc.name, len(ops), total, pre, tc.instrs, tc.total, tc.pre, ops)
		}
	}
	if _, err := packedARM64(packed(1, 0x40, 0, 11, 0, 0, 256)); !errors.Is(err, ErrBadUnwindInfo) {
		t.Errorf("RegI 11: %v", err)
	}
	if _, err := packedARM64(packed(1, 0x40, 0, 4, 0, 0, 16)); !errors.Is(err, ErrBadUnwindInfo) {
		t.Errorf("frame smaller than save area: %v", err)
	}
}

// TestPEUnwindARM64Corpus decodes every .pdata entry of MSVC-built ARM64
// images and unwinds each at every prolog offset and in its body.
func TestPEUnwindARM64Corpus(t *testing.T) {
	for _, rel := range []string{
		"rizin-pdb/pe/microsoft_seh_tests/ARM64/xcpt4.exe",
		"rizin-pdb/pe/microsoft_seh_tests/ARM64/xframe_eh_dll.dll",
		"rizin-pdb/pe/microsoft_seh_tests/ARM64/xframe_eh_exe.exe",
		"rizin-pdb/pe/microsoft_seh_tests/ARM64/nested_collided.exe",
		"symbolic-pdb/windows/arm64/test.exe",
	} {
		name := path.Base(rel)
		t.Run(name, func(t *testing.T) {
			p := fixture.Corpus(t, rel)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			f, err := pe.NewFile(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			dir := f.OptionalHeader.(*pe.OptionalHeader64).DataDirectory[dirException]
			im, err := readPEImage(bytes.NewReader(data))
			if err != nil || im == nil || !im.arm64 {
				t.Fatalf("readPEImage: %v, %v", im, err)
			}
			if want := int(dir.Size / 8); len(im.funcs) != want {
				t.Errorf("%d entries read, .pdata holds %d", len(im.funcs), want)
			}
			anyWord := func(addr uint64, size int) (uint64, error) { return addr + 0x1000, nil }
			decoded, packedN := 0, 0
			for _, rf := range im.funcs {
				ops, prolog, _, err := im.decodeARM64(rf)
				if err != nil {
					t.Errorf("entry %#x (info %#x): %v", rf.begin, rf.info, err)
					continue
				}
				decoded++
				if rf.info&3 != 0 {
					packedN++
				}
				if prolog > len(ops) || uint32(4*prolog) > rf.end-rf.begin {
					t.Errorf("entry %#x: prolog %d of %d ops, function %d bytes", rf.begin, prolog, len(ops), rf.end-rf.begin)
				}
				for k := 0; k <= prolog; k++ {
					regs := Registers{"sp": 0x10000, "fp": 0x10100, "lr": 0x1234}
					got, ok, err := im.unwindARM64(rf, rf.begin+uint32(4*k), regs, anyWord)
					if err != nil || !ok || got["pc"] == 0 {
						t.Errorf("entry %#x at instruction %d: %v %v %#x", rf.begin, k, ok, err, got)
					}
				}
			}
			if decoded != int(dir.Size/8) {
				t.Errorf("decoded %d of %d entries", decoded, dir.Size/8)
			}
			t.Logf("%s: %d entries decoded (%d packed)", name, decoded, packedN)
		})
	}
}

// FuzzPEUnwindARM64 feeds random ARM64 .pdata and .xdata: reading and
// unwinding must never panic.
func FuzzPEUnwindARM64(f *testing.F) {
	f.Add(le32(packed(1, 0x40, 0, 2, 0, 3, 96)), []byte{}, uint16(8))
	f.Add(le32(0x3000), cat(xdataHeader(0x40, 0, 1, 0, 2), []byte{0x04, 0xc8, 0x82, 0xe1, 0x85, 0xe4, 0xe4, 0xe4}), uint16(0x30))
	f.Add(le32(0x3000), cat(xdataHeader(0x40, 0, 0, 0, 0), le32(1|2<<16), le32(0x30/4|0<<22),
		[]byte{0xc0, 0x20, 0xd8, 0x04, 0xe6, 0x26, 0xfc, 0xe4}), uint16(4))
	f.Fuzz(func(t *testing.T, words []byte, xd []byte, off uint16) {
		if len(words) > 64 || len(xd) > 0x1000 {
			return
		}
		var pdata []byte
		for i := 0; i+4 <= len(words); i += 4 {
			w := binary.LittleEndian.Uint32(words[i:])
			if w&3 == 0 {
				w = 0x3000 + w&0xffc
			}
			pdata = cat(pdata, le32(0x1000+uint32(i)*0x40), le32(w))
		}
		if len(pdata) == 0 {
			return
		}
		img := buildARM64PE(t, []synthSection{
			{".text", 0x1000, make([]byte, 0x1000), 0x60000020},
			{".pdata", 0x2000, pdata, 0x40000040},
			{".xdata", 0x3000, append(xd, make([]byte, 0x1000)...)[:0x1000], 0x40000040},
		}, 0x2000, uint32(len(pdata)))
		u := arm64Unwinder(t, img)
		read := func(addr uint64, size int) (uint64, error) { return addr ^ 0x5555, nil }
		regs := Registers{"sp": 0x10000, "fp": 0x10100, "lr": 0x1234}
		u.Caller(synthBase+0x1000+uint64(off%0x1000), regs, read)
	})
}
