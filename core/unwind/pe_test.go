package unwind

import (
	"bytes"
	"context"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashbench/crashbench/core/minidump"
	"github.com/crashbench/crashbench/core/model"
	"github.com/crashbench/crashbench/core/testutil/fixture"
)

const synthBase = 0x140000000

// synthSection is one section of a synthetic image.
type synthSection struct {
	name  string
	rva   uint32
	data  []byte
	flags uint32
}

// buildPE writes a minimal PE32+ (amd64) image holding secs, with the
// exception directory at pdata.
func buildPE(t *testing.T, secs []synthSection, pdataRVA, pdataSize uint32) []byte {
	t.Helper()
	var b bytes.Buffer
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], 0x40)
	b.Write(dos)
	b.WriteString("PE\x00\x00")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(binary.Write(&b, binary.LittleEndian, pe.FileHeader{Machine: pe.IMAGE_FILE_MACHINE_AMD64,
		NumberOfSections: uint16(len(secs)), TimeDateStamp: 0x12345678, SizeOfOptionalHeader: 240, Characteristics: 0x22}))
	oh := pe.OptionalHeader64{Magic: 0x20b, ImageBase: synthBase, SectionAlignment: 0x1000, FileAlignment: 0x200,
		SizeOfImage: 0x5000, SizeOfHeaders: 0x400, NumberOfRvaAndSizes: 16}
	oh.DataDirectory[dirException] = pe.DataDirectory{VirtualAddress: pdataRVA, Size: pdataSize}
	must(binary.Write(&b, binary.LittleEndian, oh))
	off := uint32(0x400)
	for _, s := range secs {
		var h pe.SectionHeader32
		copy(h.Name[:], s.name)
		size := (uint32(len(s.data)) + 0x1ff) &^ 0x1ff
		h.VirtualSize, h.VirtualAddress, h.SizeOfRawData, h.PointerToRawData = uint32(len(s.data)), s.rva, size, off
		h.Characteristics = s.flags
		must(binary.Write(&b, binary.LittleEndian, h))
		off += size
	}
	out := make([]byte, off)
	copy(out, b.Bytes())
	off = 0x400
	for _, s := range secs {
		copy(out[off:], s.data)
		off += (uint32(len(s.data)) + 0x1ff) &^ 0x1ff
	}
	return out
}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// synthImage is the image of TestPEUnwindSynthetic. Function layout (RVAs):
//
//	F1 [0x1100,0x1200) rbp frame, pushes, alloc, save_nonvol   info 0x3000
//	F2 [0x1200,0x1300) v2 info: epilog, xmm, alloc large x2, push r12   info 0x3040
//	F3 [0x1300,0x1380) chained to F2, save_nonvol_far r13   info 0x3080
//	F4 [0x1400,0x1410) push_machframe with error code   info 0x30c0
//	F5 [0x1500,0x1510) version 3 (malformed)   info 0x3100
//	F6 [0x1600,0x1700) indirect: shares F1's info via its RUNTIME_FUNCTION
//	F7 [0x1700,0x1710) truncated alloc_large   info 0x3140
func synthImage(t *testing.T) []byte {
	xdata := make([]byte, 0x200)
	put := func(at int, b []byte) { copy(xdata[at:], b) }
	// F1: push rbp (1); push rbx (2); sub rsp,0x28 (6); lea rbp,[rsp+0x20]
	// (0xb); mov [rsp+0x10],rsi (0x10). Frame register rbp, offset 2*16.
	put(0x00, cat([]byte{0x01, 0x10, 6, 5 | 2<<4},
		[]byte{0x10, uwopSaveNonvol | 6<<4}, le16(2),
		[]byte{0x0b, uwopSetFPReg},
		[]byte{0x06, uwopAllocSmall | 4<<4},
		[]byte{0x02, uwopPushNonvol | 3<<4},
		[]byte{0x01, uwopPushNonvol | 5<<4}))
	// F2: version 2; push r12 (2); sub rsp,0x10 (4, large form 0); sub
	// rsp,0x20 (8, large form 1); movaps [rsp],xmm6 (9).
	put(0x40, cat([]byte{0x02, 0x09, 10, 0},
		[]byte{0x01, uwopEpilog | 1<<4, 0x00, uwopEpilog},
		[]byte{0x09, uwopSaveXMM128 | 6<<4}, le16(1),
		[]byte{0x08, uwopAllocLarge | 1<<4}, le32(0x20),
		[]byte{0x04, uwopAllocLarge}, le16(2),
		[]byte{0x02, uwopPushNonvol | 12<<4}))
	// F3: chained; r13 saved at [rsp+0x18].
	put(0x80, cat([]byte{0x01 | unwFlagChainInfo<<3, 0, 3, 0},
		[]byte{0x00, uwopSaveNonvolFar | 13<<4}, le32(0x18),
		[]byte{0, 0}, // pad to an even count
		le32(0x1200), le32(0x1300), le32(0x3040)))
	// F4: machine frame with error code.
	put(0xc0, []byte{0x01, 0, 1, 0, 0x00, uwopPushMachFrame | 1<<4})
	// F5: version 3.
	put(0x100, []byte{0x03, 0, 0, 0})
	// F7: alloc_large form 1 needs three slots; only two are there.
	put(0x140, cat([]byte{0x01, 0, 2, 0}, []byte{0x00, uwopAllocLarge | 1<<4}, le16(0x20)))
	var pdata []byte
	for _, f := range [][3]uint32{
		{0x1100, 0x1200, 0x3000},
		{0x1200, 0x1300, 0x3040},
		{0x1300, 0x1380, 0x3080},
		{0x1400, 0x1410, 0x30c0},
		{0x1500, 0x1510, 0x3100},
		{0x1600, 0x1700, 0x2000 | 1},
		{0x1700, 0x1710, 0x3140},
	} {
		pdata = cat(pdata, le32(f[0]), le32(f[1]), le32(f[2]))
	}
	return buildPE(t, []synthSection{
		{".text", 0x1000, make([]byte, 0x1000), 0x60000020},
		{".pdata", 0x2000, pdata, 0x40000040},
		{".xdata", 0x3000, xdata, 0x40000040},
	}, 0x2000, uint32(len(pdata)))
}

// wordStack is fake memory of 8-byte words.
type wordStack map[uint64]uint64

func (s wordStack) read(addr uint64, size int) (uint64, error) {
	v, ok := s[addr]
	if !ok || size != 8 {
		return 0, fmt.Errorf("%#x: not in stack", addr)
	}
	return v, nil
}

func synthUnwinder(t *testing.T) *PEUnwind {
	img := synthImage(t)
	mods := []model.Module{{Base: synthBase, Size: 0x5000, Path: `C:\synth.dll`}, {Base: 0x7ff00000, Size: 0x1000, Path: "noimage.dll"}}
	return NewPEUnwind(mods, func(m model.Module) (io.ReaderAt, bool) {
		if m.Name() != "synth.dll" {
			return nil, false
		}
		return bytes.NewReader(img), true
	})
}

func TestPEUnwindSynthetic(t *testing.T) {
	u := synthUnwinder(t)
	const (
		S    = 0x10000 // rsp at F1's entry
		R    = 0x140001234
		S2   = 0x20000 // rsp at F2's entry
		R2   = 0x140005678
		S3   = 0x30000
		rsp1 = S - 0x38 // F1's rsp after its prolog
		rspP = S2 - 0x38
	)
	mem := wordStack{
		S: R, S - 8: 0xb0b0, S - 16: 0xb1b1, rsp1 + 0x10: 0xb2b2,
		S2: R2, S2 - 8: 0xd12, rspP + 0x18: 0xd13,
		S3: 0xe, S3 + 8: 0x7777, S3 + 32: 0x40000,
	}
	body := Registers{"rip": 0, "rsp": rsp1 - 0x100, "rbp": rsp1 + 0x20, "rbx": 1, "rsi": 2, "r12": 0xc12, "rax": 9}
	for _, tc := range []struct {
		name   string
		rva    uint64
		callee Registers
		want   Registers
	}{
		{"F1 body", 0x1180, body,
			Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1, "rsi": 0xb2b2, "r12": 0xc12}},
		{"F1 prolog after push rbp", 0x1101, Registers{"rsp": S - 8, "rbp": 5, "rbx": 1},
			Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 1}},
		{"F1 prolog after set_fpreg", 0x110b, Registers{"rsp": rsp1, "rbp": rsp1 + 0x20, "rbx": 1, "rsi": 2},
			Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1, "rsi": 2}},
		{"F1 prolog at entry", 0x1100, Registers{"rsp": S, "rbp": 5},
			Registers{"rip": R, "rsp": S + 8, "rbp": 5}},
		{"F2 body", 0x1250, Registers{"rsp": rspP, "r12": 1, "r13": 2},
			Registers{"rip": R2, "rsp": S2 + 8, "r12": 0xd12, "r13": 2}},
		{"F2 prolog after alloc form 0", 0x1204, Registers{"rsp": S2 - 0x18, "r12": 1},
			Registers{"rip": R2, "rsp": S2 + 8, "r12": 0xd12}},
		{"F3 chained", 0x1340, Registers{"rsp": rspP, "r12": 1, "r13": 2},
			Registers{"rip": R2, "rsp": S2 + 8, "r12": 0xd12, "r13": 0xd13}},
		{"F4 machine frame", 0x1404, Registers{"rsp": S3, "rbx": 3},
			Registers{"rip": 0x7777, "rsp": 0x40000, "rbx": 3}},
		{"F6 indirect", 0x1680, body,
			Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1, "rsi": 0xb2b2, "r12": 0xc12}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCaller(t, u, synthBase+tc.rva, tc.callee, mem, tc.want) })
	}

	for _, tc := range []struct {
		name string
		pc   uint64
	}{
		{"leaf (no RUNTIME_FUNCTION)", synthBase + 0x1050},
		{"gap between functions", synthBase + 0x1390},
		{"outside every module", 0x1000},
		{"module without image", 0x7ff00010},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := u.Caller(tc.pc, body, mem.read)
			if ok || err != nil {
				t.Errorf("Caller = %v, %v, %v; want not ok", got, ok, err)
			}
		})
	}

	for _, tc := range []struct {
		name string
		rva  uint64
	}{{"version 3", 0x1504}, {"truncated code", 0x1704}} {
		t.Run(tc.name, func(t *testing.T) {
			_, ok, err := u.Caller(synthBase+tc.rva, body, mem.read)
			if ok || !errors.Is(err, ErrBadUnwindInfo) {
				t.Errorf("ok=%v err=%v; want ErrBadUnwindInfo", ok, err)
			}
		})
	}

	// An unreadable stack is an error, not a guess.
	if _, ok, err := u.Caller(synthBase+0x1180, body, wordStack{}.read); ok || err == nil {
		t.Errorf("empty stack: ok=%v err=%v", ok, err)
	}
}

// TestPEUnwindCorrupt feeds damaged images: errors, never panics.
func TestPEUnwindCorrupt(t *testing.T) {
	img := synthImage(t)
	regs := Registers{"rsp": 0x1000, "rbp": 0x1100}
	for _, n := range []int{0, 0x40, 0x100, 0x200, 0x400, 0x600, 0x800, len(img) - 1} {
		b := img[:n]
		u := NewPEUnwind([]model.Module{{Base: synthBase, Size: 0x5000}}, func(model.Module) (io.ReaderAt, bool) {
			return bytes.NewReader(b), true
		})
		for rva := uint64(0x1100); rva < 0x1800; rva += 0x40 {
			u.Caller(synthBase+rva, regs, wordStack{}.read)
		}
	}
	for off := 0; off < len(img); off += 7 {
		b := bytes.Clone(img)
		b[off] ^= 0xff
		u := NewPEUnwind([]model.Module{{Base: synthBase, Size: 0x5000}}, func(model.Module) (io.ReaderAt, bool) {
			return bytes.NewReader(b), true
		})
		for rva := uint64(0x1100); rva < 0x1800; rva += 0x40 {
			u.Caller(synthBase+rva, regs, wordStack{}.read)
		}
	}
}

func FuzzPEUnwind(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 64), uint16(0x180))
	f.Fuzz(func(t *testing.T, xdata []byte, rva uint16) {
		if len(xdata) > 0x1000 {
			return
		}
		pdata := cat(le32(0x1100), le32(0x1200), le32(0x3000))
		img := buildPE(t, []synthSection{
			{".text", 0x1000, make([]byte, 0x200), 0x60000020},
			{".pdata", 0x2000, pdata, 0x40000040},
			{".xdata", 0x3000, append(bytes.Clone(xdata), 0), 0x40000040},
		}, 0x2000, uint32(len(pdata)))
		u := NewPEUnwind([]model.Module{{Base: synthBase, Size: 0x5000}}, func(model.Module) (io.ReaderAt, bool) {
			return bytes.NewReader(img), true
		})
		s := wordStack{}
		for a := uint64(0); a < 0x200; a += 8 {
			s[0x8000+a] = a
		}
		u.Caller(synthBase+uint64(rva), Registers{"rsp": 0x8000, "rbp": 0x8100}, s.read)
	})
}

// TestPEUnwindWcrash walks the Wine dump's faulting thread with wcrash.exe's
// own unwind data: level3 → level2 → level1 → main → __tmainCRTStartup →
// mainCRTStartup, as lldb's bt shows.
func TestPEUnwindWcrash(t *testing.T) {
	exe := fixture.Corpus(t, "generated/windows-minidump/wcrash.exe")
	d, err := minidump.Open(fixture.Corpus(t, "generated/windows-minidump/wine-MiniDumpNormal-exception.dmp"))
	if err != nil {
		t.Fatal(err)
	}
	start, err := d.ExceptionContext()
	if err != nil {
		t.Fatal(err)
	}
	space, err := d.Memory()
	if err != nil {
		t.Fatal(err)
	}
	mods, err := d.Modules()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(exe)
	rules := NewPEUnwind(mods, OpenFiles(func(m model.Module) (string, bool) {
		if !strings.EqualFold(m.Name(), "wcrash.exe") {
			return "", false
		}
		return filepath.Join(dir, "wcrash.exe"), true
	}))
	frames, err := Walk(context.Background(), space, start, mods, Options{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0x140001737, 0x140001758, 0x140001771, 0x1400018b8, 0x1400013ae, 0x1400014e6}
	if len(frames) < len(want) {
		t.Fatalf("%d frames: %+v", len(frames), frames)
	}
	for i, pc := range want {
		f := frames[i]
		wantTrust := CFI
		if i == 0 {
			wantTrust = Context
		}
		if f.PC != pc || f.Trust != wantTrust {
			t.Errorf("frame %d: pc %#x trust %v; want %#x %v", i, f.PC, f.Trust, pc, wantTrust)
		}
	}
	// level2's frame: rbp is restored from level3's push.
	if frames[1].Regs["rbp"] != frames[1].SP+0x20 {
		t.Errorf("level2 rbp %#x, sp %#x: want rbp = sp+0x20", frames[1].Regs["rbp"], frames[1].SP)
	}

}

// putCode stores instruction bytes in the fake memory, in the aligned
// little-endian words the walker's reads return.
func (s wordStack) putCode(addr uint64, code []byte) {
	for i, c := range code {
		a := addr + uint64(i)
		w := a &^ 7
		s[w] = s[w]&^(0xff<<(8*(a-w))) | uint64(c)<<(8*(a-w))
	}
}

// TestPEUnwindEpilog stops in the synthetic functions' epilogs: the rest of
// the epilog is emulated, as RtlVirtualUnwind does, where the unwind codes
// would undo the freed stack and the pops a second time.
func TestPEUnwindEpilog(t *testing.T) {
	u := synthUnwinder(t)
	const (
		S    = 0x10000
		R    = 0x140001234
		S2   = 0x20000
		R2   = 0x140005678
		rsp1 = S - 0x38
		rspP = S2 - 0x38
	)
	mem := wordStack{S: R, S - 8: 0xb0b0, S - 16: 0xb1b1, rsp1 + 0x10: 0xb2b2, S2: R2, S2 - 8: 0xd12}
	// F1's epilog: lea rsp,[rbp+8]; pop rbx; pop rbp; ret.
	mem.putCode(synthBase+0x11f0, []byte{0x48, 0x8d, 0x65, 0x08, 0x5b, 0x5d, 0xc3})
	// F1: add rsp,0x28 then a call: not an epilog.
	mem.putCode(synthBase+0x11c0, []byte{0x48, 0x83, 0xc4, 0x28, 0xe8, 0, 0, 0, 0})
	// F2's epilog ends in a tail call: add rsp,0x30; pop r12; jmp rel32
	// out of the function. At 0x12d0 a short jump inside F2 leads to it.
	mem.putCode(synthBase+0x12e0, []byte{0x48, 0x83, 0xc4, 0x30, 0x41, 0x5c, 0xe9, 0x00, 0x10, 0x00, 0x00})
	mem.putCode(synthBase+0x12d0, []byte{0xeb, 0x0e})
	// F1 with its frame register rbp, but lea based on rbx: not an epilog.
	mem.putCode(synthBase+0x11e0, []byte{0x48, 0x8d, 0x63, 0x08, 0x5b, 0xc3})

	body := Registers{"rsp": rsp1 - 0x100, "rbp": rsp1 + 0x20, "rbx": 1, "rsi": 2, "r12": 0xc12}
	full := Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1, "rsi": 0xb2b2, "r12": 0xc12}
	for _, tc := range []struct {
		name   string
		rva    uint64
		callee Registers
		want   Registers
	}{
		// rsi was restored before the epilog began: the callee's value stands.
		{"F1 at lea", 0x11f0, body, Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1, "rsi": 2, "r12": 0xc12}},
		{"F1 at pop rbp", 0x11f5, Registers{"rsp": S - 8, "rbp": 7, "rbx": 0xb1b1, "rsi": 2},
			Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1, "rsi": 2}},
		{"F1 at ret", 0x11f6, Registers{"rsp": S, "rbp": 0xb0b0, "rbx": 0xb1b1},
			Registers{"rip": R, "rsp": S + 8, "rbp": 0xb0b0, "rbx": 0xb1b1}},
		{"F1 add then call", 0x11c0, Registers{"rsp": rsp1, "rbp": rsp1 + 0x20, "rbx": 1, "rsi": 2, "r12": 0xc12}, full},
		{"F1 lea off another base", 0x11e0, Registers{"rsp": rsp1, "rbp": rsp1 + 0x20, "rbx": 1, "rsi": 2, "r12": 0xc12}, full},
		{"F2 tail call", 0x12e0, Registers{"rsp": rspP, "r12": 1}, Registers{"rip": R2, "rsp": S2 + 8, "r12": 0xd12}},
		{"F2 at pop r12", 0x12e4, Registers{"rsp": S2 - 8, "r12": 1}, Registers{"rip": R2, "rsp": S2 + 8, "r12": 0xd12}},
		{"F2 jump to the epilog", 0x12d0, Registers{"rsp": rspP, "r12": 1}, Registers{"rip": R2, "rsp": S2 + 8, "r12": 0xd12}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCaller(t, u, synthBase+tc.rva, tc.callee, mem, tc.want) })
	}
}

// wantCaller checks that the unwinder recovers want as pc's caller.
func wantCaller(t *testing.T, u *PEUnwind, pc uint64, callee Registers, mem wordStack, want Registers) {
	t.Helper()
	got, ok, err := u.Caller(pc, callee, mem.read)
	if err != nil || !ok {
		t.Fatalf("Caller = %v, %v, %v", got, ok, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %x\nwant %x", got, want)
	}
}
