// DWARF call-frame information (.eh_frame and .debug_frame) of ELF images
// is read by hand here: debug/dwarf has no reader for it, and core may use
// nothing outside the standard library. The formats are those of DWARF 5
// section 6.4 and the Linux Standard Base's .eh_frame description (CIE id
// 0 and a relative CIE pointer, "z" augmentations, DW_EH_PE_* pointer
// encodings).

package unwind

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/crashbench/crashbench/core/model"
)

// ErrBadCFI says a module's .eh_frame or .debug_frame is malformed.
var ErrBadCFI = errors.New("unwind: malformed DWARF call-frame information")

// DW_EH_PE_* pointer encodings.
const (
	pePtr     = 0x00
	peULEB    = 0x01
	peUData2  = 0x02
	peUData4  = 0x03
	peUData8  = 0x04
	peSLEB    = 0x09
	peSData2  = 0x0a
	peSData4  = 0x0b
	peSData8  = 0x0c
	pePCRel   = 0x10
	peTextRel = 0x20
	peDataRel = 0x30
	peFuncRel = 0x40
	peAligned = 0x50
	peIndir   = 0x80
	peOmit    = 0xff
)

// Limits that keep malformed input cheap.
const (
	maxCFISection = 1 << 28
	maxCFIStates  = 64 // remember_state depth
	maxCFIRegNum  = 4096
	maxExprStack  = 64
)

// DWARFUnwind recovers callers with the DWARF call-frame information
// (.eh_frame, and .debug_frame when the image has it) of the modules' ELF
// images: files, or images a dump's memory holds (whatever io.ReaderAt the
// open function gives). It implements Rules for amd64, arm64, i386, arm,
// ppc64 (ELFv1 and ELFv2, either byte order), ppc, s390x, MIPS (o32 and
// n64, either byte order) and riscv64, and is safe for concurrent use.
//
// Each image is read once, on the first pc inside its module, and its FDEs
// indexed by address. A pc in no module, in a module whose image cannot be
// opened or has no call-frame information, in code no FDE covers, or whose
// row needs a DWARF expression too complex for the small evaluator here,
// yields ok=false, so the walker falls back to frame pointers and
// scanning.
type DWARFUnwind struct {
	tables *imageCache[cfiTable]
}

// NewDWARFUnwind returns rules over mods whose ELF images open returns (see
// OpenFiles). Addresses are translated as RVA = pc - module base, plus the
// image's link base (the lowest PT_LOAD address, page aligned; for ET_EXEC
// images the module base itself). When the io.ReaderAt open returns is
// also an io.Closer, DWARFUnwind closes it once it has read the sections
// it needs.
func NewDWARFUnwind(mods []model.Module, open func(m model.Module) (io.ReaderAt, bool)) *DWARFUnwind {
	parse := func(r io.ReaderAt, m model.Module) (*cfiTable, error) {
		t, err := readCFITable(r)
		if err == nil && t != nil && t.execBase { // nil: no CFI sections
			t.linkBase = m.Base // a fixed executable is linked where it loads
		}
		return t, err
	}
	return &DWARFUnwind{tables: newImageCache(mods, open, parse)}
}

// Caller implements Rules: it finds the FDE covering pc, runs its CIE's
// and its own call-frame instructions up to pc, and applies the row.
func (u *DWARFUnwind) Caller(pc uint64, callee Registers, read func(addr uint64, size int) (uint64, error)) (Registers, bool, error) {
	m, tab, err := u.tables.at(pc)
	if tab == nil {
		return nil, false, err
	}
	addr := pc - m.Base + tab.linkBase
	return tab.caller(addr, callee, read)
}

// SignalFrame reports whether pc is in a signal trampoline: the FDE that
// covers pc-1 (the FDE of glibc's __restore_rt starts one byte early so
// that callers' pc-1 lookups find it) has a CIE with the "S" augmentation.
func (u *DWARFUnwind) SignalFrame(pc uint64) bool {
	if pc == 0 {
		return false
	}
	m, tab, _ := u.tables.at(pc - 1)
	if tab == nil {
		return false
	}
	f, ok := tab.lookup(pc - 1 - m.Base + tab.linkBase)
	return ok && f.cie != nil && f.cie.signal
}

// cfiArch describes an architecture's DWARF register numbering.
type cfiArch struct {
	names   map[uint64]string // DWARF register number -> Registers name
	ra      uint64            // return-address column
	pc, sp  string
	saved   []uint64 // callee-saved registers (DWARF numbers)
	raSame  bool     // no rule for the RA column: the callee's RA register holds it (arm64 lr)
	ptrSize int
	// spRule: the caller's SP is the SP column's value (its rule, or the
	// callee's SP when it has none) rather than the CFA. s390x defines
	// the CFA as the caller's r15 plus the 160-byte register save area
	// the caller allocated for its callee (GCC's CIE: def_cfa r15+160),
	// and a function that moves r15 saves the caller's r15 with stmg and
	// says so in its CFI, as gdb's s390 unwinder relies on.
	spRule bool
}

var cfiAMD64 = &cfiArch{
	names: map[uint64]string{0: "rax", 1: "rdx", 2: "rcx", 3: "rbx", 4: "rsi", 5: "rdi", 6: "rbp", 7: "rsp",
		8: "r8", 9: "r9", 10: "r10", 11: "r11", 12: "r12", 13: "r13", 14: "r14", 15: "r15", 16: "rip"},
	ra: 16, pc: "rip", sp: "rsp", saved: []uint64{3, 6, 12, 13, 14, 15}, ptrSize: 8,
}

// cfiX86 is i386's numbering (the SysV i386 psABI, as GCC emits it for
// .eh_frame: esp 4, ebp 5, eip 8).
var cfiX86 = &cfiArch{
	names: map[uint64]string{0: "eax", 1: "ecx", 2: "edx", 3: "ebx", 4: "esp", 5: "ebp", 6: "esi", 7: "edi", 8: "eip"},
	ra:    8, pc: "eip", sp: "esp", saved: []uint64{3, 5, 6, 7}, ptrSize: 4,
}

// cfiARM is 32-bit ARM's (AADWARF32: r0-r15 are 0-15; sp 13, lr 14).
var cfiARM = func() *cfiArch {
	a := &cfiArch{names: map[uint64]string{13: "sp", 14: "lr", 15: "pc"}, ra: 14, pc: "pc", sp: "sp", raSame: true, ptrSize: 4}
	for i := uint64(0); i < 13; i++ {
		a.names[i] = fmt.Sprintf("r%d", i)
	}
	for i := uint64(4); i <= 11; i++ {
		a.saved = append(a.saved, i)
	}
	return a
}()

// numbered names DWARF registers from..to as prefix+n.
func numbered(names map[uint64]string, prefix string, from, to uint64) map[uint64]string {
	for i := from; i <= to; i++ {
		names[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return names
}

func span(from, to uint64) []uint64 {
	var s []uint64
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// cfiPPC is PowerPC's numbering: r0-r31 are 0-31 and the return-address
// column is lr. The 64-bit ELF V2 ABI ("DWARF Definition") numbers lr 65
// and ctr 66, as GCC does in .eh_frame on every PowerPC ABI; the SysV
// PowerPC ABI supplement numbers SPR n 100+n (lr 108, ctr 109), which GCC
// has used in .debug_frame. The CIE's return-address column says which
// (65 or 108). The two never collide in rules GCC emits: 65 and 66 are
// fpscr and msr in the older numbering, which no CFI saves. r14-r31 are
// callee-saved; r2 (the TOC) is restored by the caller itself after a
// call, so it is not carried over.
func cfiPPC(ptr int) *cfiArch {
	names := numbered(map[uint64]string{65: "lr", 108: "lr", 66: "ctr", 109: "ctr"}, "r", 0, 31)
	return &cfiArch{names: names, ra: 65, pc: "pc", sp: "r1", saved: span(14, 31), raSame: true, ptrSize: ptr}
}

var (
	cfiPPC64 = cfiPPC(8)
	cfiPPC32 = cfiPPC(4)
)

// cfiS390X is s390x's (the s390x ELF ABI supplement's DWARF register
// number mapping): r0-r15 are 0-15, pswm 64, pswa 65; the return-address
// column is 14 (r14, which brasl and basr set). r6-r13 and r15 are
// callee-saved.
var cfiS390X = &cfiArch{names: numbered(map[uint64]string{65: "pswa"}, "r", 0, 15), ra: 14, pc: "pswa", sp: "r15",
	saved: append(span(6, 13), 15), raSame: true, spRule: true, ptrSize: 8}

// cfiMIPS is MIPS's (the SysV MIPS psABI and GCC: r0-r31 are 0-31; sp 29,
// s8/fp 30, ra 31, the return-address column). Registers carry gdb's ABI
// names, which for r8-r15 differ between o32 (t0-t7) and n64 (a4-a7,
// t0-t3). s0-s7 (16-23), gp (28, callee-saved in n64) and s8 (30) are
// callee-saved.
func cfiMIPS(ptr int, names []string) *cfiArch {
	a := &cfiArch{names: map[uint64]string{}, ra: 31, pc: "pc", sp: "sp",
		saved: append(span(16, 23), 28, 30), raSame: true, ptrSize: ptr}
	for i, n := range names {
		a.names[uint64(i)] = n
	}
	return a
}

var (
	cfiMIPSO32 = cfiMIPS(4, mipsNames("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"))
	cfiMIPSN64 = cfiMIPS(8, mipsNames("a4", "a5", "a6", "a7", "t0", "t1", "t2", "t3"))
)

func mipsNames(r8to15 ...string) []string {
	n := []string{"zero", "at", "v0", "v1", "a0", "a1", "a2", "a3"}
	n = append(n, r8to15...)
	return append(n, "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "t8", "t9", "k0", "k1", "gp", "sp", "s8", "ra")
}

// cfiRISCV64 is RISC-V's (psABI "DWARF Register Numbers": x0-x31 are
// 0-31, under their ABI names; ra (x1) is the return-address column, sp
// x2, fp/s0 x8). s0-s11 (x8, x9, x18-x27) are callee-saved.
var cfiRISCV64 = func() *cfiArch {
	abi := []string{"zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1",
		"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7",
		"s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"}
	a := &cfiArch{names: map[uint64]string{}, ra: 1, pc: "pc", sp: "sp",
		saved: append([]uint64{8, 9}, span(18, 27)...), raSame: true, ptrSize: 8}
	for i, n := range abi {
		a.names[uint64(i)] = n
	}
	return a
}()

var cfiARM64 = func() *cfiArch {
	a := &cfiArch{names: map[uint64]string{29: "fp", 30: "lr", 31: "sp"}, ra: 30, pc: "pc", sp: "sp", raSame: true, ptrSize: 8}
	for i := uint64(0); i < 29; i++ {
		a.names[i] = fmt.Sprintf("x%d", i)
	}
	for i := uint64(19); i <= 29; i++ {
		a.saved = append(a.saved, i)
	}
	return a
}()

// cfiCIE is a parsed Common Information Entry.
type cfiCIE struct {
	codeAlign uint64
	dataAlign int64
	ra        uint64
	fdeEnc    byte
	hasAug    bool // "z": FDEs carry augmentation data
	signal    bool // "S"
	initial   []byte
	addrSize  int
	order     binary.ByteOrder // the image's; nil means little-endian
}

// cfiFDE is a parsed Frame Description Entry (addresses are link-time).
type cfiFDE struct {
	begin, end uint64
	cie        *cfiCIE
	insns      []byte
}

// cfiTable is the call-frame information of one image.
type cfiTable struct {
	arch     *cfiArch
	order    binary.ByteOrder // nil means little-endian
	fdes     []cfiFDE         // sorted by begin
	linkBase uint64
	execBase bool // ET_EXEC: the link base is the module base
	errs     int  // entries skipped as malformed
}

// EF_MIPS_ABI2 in e_flags marks the MIPS n32 ABI.
const efMIPSABI2 = 0x20

// mipsFlags reads e_flags, which debug/elf does not expose: at 0x24 in an
// ELF32 header, 0x30 in an ELF64 one.
func mipsFlags(r io.ReaderAt, f *elf.File) uint32 {
	var b [4]byte
	off := int64(0x24)
	if f.Class == elf.ELFCLASS64 {
		off = 0x30
	}
	if _, err := r.ReadAt(b[:], off); err != nil {
		return 0
	}
	return f.ByteOrder.Uint32(b[:])
}

// readCFITable reads the .eh_frame and .debug_frame of an ELF image. It
// never panics on malformed input.
func readCFITable(r io.ReaderAt) (t *cfiTable, err error) {
	defer func() {
		if p := recover(); p != nil {
			t, err = nil, fmt.Errorf("%w: %v", ErrBadCFI, p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t = &cfiTable{}
	class := elf.ELFCLASS64
	data := elf.ELFDATA2LSB // elf.ELFDATANONE: either
	switch f.Machine {
	case elf.EM_X86_64:
		t.arch = cfiAMD64
	case elf.EM_AARCH64:
		t.arch = cfiARM64
	case elf.EM_386:
		t.arch, class = cfiX86, elf.ELFCLASS32
	case elf.EM_ARM:
		t.arch, class = cfiARM, elf.ELFCLASS32
	case elf.EM_PPC64:
		t.arch, data = cfiPPC64, elf.ELFDATANONE
	case elf.EM_PPC:
		t.arch, class, data = cfiPPC32, elf.ELFCLASS32, elf.ELFDATANONE
	case elf.EM_S390:
		t.arch, data = cfiS390X, elf.ELFDATA2MSB // 31-bit s390 is not supported
	case elf.EM_MIPS:
		// n32 (ELFCLASS32 with EF_MIPS_ABI2) has 32-bit addresses but
		// saves 64-bit registers: not supported.
		t.arch, class, data = cfiMIPSN64, f.Class, elf.ELFDATANONE
		if f.Class == elf.ELFCLASS32 {
			if mipsFlags(r, f)&efMIPSABI2 != 0 {
				return nil, fmt.Errorf("%w: MIPS n32 images are not supported", ErrBadCFI)
			}
			t.arch = cfiMIPSO32
		}
	case elf.EM_RISCV:
		t.arch = cfiRISCV64 // riscv32 is not supported
	default:
		return nil, fmt.Errorf("%w: unsupported machine %v", ErrBadCFI, f.Machine)
	}
	if f.Class != class || (data != elf.ELFDATANONE && f.Data != data) {
		return nil, fmt.Errorf("%w: %v image of class %v, data %v", ErrBadCFI, f.Machine, f.Class, f.Data)
	}
	t.order = f.ByteOrder
	if f.Type == elf.ET_EXEC {
		t.execBase = true
	} else {
		first := true
		for _, p := range f.Progs {
			if p.Type == elf.PT_LOAD && (first || p.Vaddr < t.linkBase) {
				t.linkBase, first = p.Vaddr, false
			}
		}
		t.linkBase &^= 0xfff
	}
	var got uint64
	if s := f.Section(".got"); s != nil {
		got = s.Addr
	}
	found := false
	for _, name := range []string{".eh_frame", ".debug_frame"} {
		s := f.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS || s.Size == 0 {
			continue
		}
		if s.Size > maxCFISection {
			return nil, fmt.Errorf("%w: %s too large", ErrBadCFI, name)
		}
		data, err := s.Data()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadCFI, name, err)
		}
		fdes, bad := parseCFIOrder(data, s.Addr, got, name == ".eh_frame", t.arch.ptrSize, t.order)
		t.fdes = append(t.fdes, fdes...)
		t.errs += bad
		found = true
	}
	if !found {
		return nil, nil
	}
	sort.SliceStable(t.fdes, func(i, j int) bool { return t.fdes[i].begin < t.fdes[j].begin })
	return t, nil
}

// lookup returns the FDE covering addr.
func (t *cfiTable) lookup(addr uint64) (*cfiFDE, bool) {
	i := sort.Search(len(t.fdes), func(i int) bool { return t.fdes[i].begin > addr })
	// Overlapping entries (.eh_frame and .debug_frame both describing a
	// function) are harmless: scan back over the candidates.
	for j := i - 1; j >= 0 && j >= i-4; j-- {
		if f := &t.fdes[j]; addr >= f.begin && addr < f.end {
			return f, true
		}
	}
	return nil, false
}

// cfiReader decodes the primitive types of a CFI section.
type cfiReader struct {
	b     []byte
	off   int
	err   bool
	order binary.ByteOrder // nil means little-endian
}

func (r *cfiReader) ord() binary.ByteOrder {
	if r.order == nil {
		return binary.LittleEndian
	}
	return r.order
}

func (r *cfiReader) u8() byte {
	if r.off >= len(r.b) {
		r.err = true
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *cfiReader) bytes(n uint64) []byte {
	if n > uint64(len(r.b)-r.off) {
		r.err = true
		r.off = len(r.b)
		return nil
	}
	v := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return v
}

func (r *cfiReader) u16() uint64 {
	b := r.bytes(2)
	if b == nil {
		return 0
	}
	return uint64(r.ord().Uint16(b))
}

func (r *cfiReader) u32() uint64 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return uint64(r.ord().Uint32(b))
}

func (r *cfiReader) u64() uint64 {
	b := r.bytes(8)
	if b == nil {
		return 0
	}
	return r.ord().Uint64(b)
}

func (r *cfiReader) uleb() uint64 {
	var v uint64
	var shift uint
	for {
		c := r.u8()
		if r.err {
			return 0
		}
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v
		}
	}
}

func (r *cfiReader) sleb() int64 {
	var v int64
	var shift uint
	var c byte
	for {
		c = r.u8()
		if r.err {
			return 0
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			break
		}
	}
	if shift < 64 && c&0x40 != 0 {
		v |= -1 << shift
	}
	return v
}

// encoded reads a pointer in encoding enc. secAddr is the address of the
// section's first byte (for pcrel), got the .got address (datarel).
func (r *cfiReader) encoded(enc byte, secAddr, got uint64, ptrSize int) (uint64, bool) {
	if enc == peOmit {
		return 0, true
	}
	pos := secAddr + uint64(r.off)
	var base uint64
	switch enc & 0x70 {
	case 0:
	case pePCRel:
		base = pos
	case peDataRel:
		base = got
	case peAligned:
		if a := uint64(ptrSize); a != 0 {
			for uint64(r.off)%a != 0 && !r.err {
				r.u8()
			}
		}
	default: // textrel and funcrel are not used in ELF .eh_frame
		return 0, false
	}
	var v uint64
	switch enc & 0x0f {
	case pePtr:
		if ptrSize == 4 {
			v = r.u32()
		} else {
			v = r.u64()
		}
	case peULEB:
		v = r.uleb()
	case peUData2:
		v = r.u16()
	case peUData4:
		v = r.u32()
	case peUData8:
		v = r.u64()
	case peSLEB:
		v = uint64(r.sleb())
	case peSData2:
		v = uint64(int64(int16(r.u16())))
	case peSData4:
		v = uint64(int64(int32(r.u32())))
	case peSData8:
		v = r.u64()
	default:
		return 0, false
	}
	if r.err || enc&peIndir != 0 { // indirect pointers need memory; unused in FDE ranges
		return 0, false
	}
	return base + v, true
}

// parseCFI parses every FDE of a little-endian .eh_frame (eh) or
// .debug_frame section at address secAddr. It returns the FDEs it could
// parse and how many entries it skipped as malformed.
func parseCFI(data []byte, secAddr, got uint64, eh bool, ptrSize int) (fdes []cfiFDE, bad int) {
	return parseCFIOrder(data, secAddr, got, eh, ptrSize, binary.LittleEndian)
}

// parseCFIOrder is parseCFI for a section in byte order order: the
// image's, as DWARF encodes every multi-byte field in the target's order.
func parseCFIOrder(data []byte, secAddr, got uint64, eh bool, ptrSize int, order binary.ByteOrder) (fdes []cfiFDE, bad int) {
	cies := map[int]*cfiCIE{}
	badCIE := map[int]bool{}
	off := 0
	for off < len(data) {
		r := &cfiReader{b: data, off: off, order: order}
		length := r.u32()
		is64 := false
		if length == 0xffffffff {
			length, is64 = r.u64(), true
		}
		if r.err {
			return fdes, bad + 1
		}
		if length == 0 {
			if eh {
				break // terminator
			}
			off = r.off
			continue
		}
		start := r.off
		if length > uint64(len(data)-start) {
			return fdes, bad + 1
		}
		end := start + int(length)
		body := &cfiReader{b: data[:end], off: start, order: order}
		var id uint64
		if is64 {
			id = body.u64()
		} else {
			id = body.u32()
		}
		isCIE := id == 0
		if !eh {
			isCIE = (!is64 && id == 0xffffffff) || (is64 && id == ^uint64(0))
		}
		if isCIE {
			if _, ok := parseCIE(body, eh, ptrSize, secAddr, got); !ok {
				bad++
			}
		} else {
			ciePos := int64(id)
			if eh {
				ciePos = int64(start) - int64(id)
			}
			cie := cieAt(data, int(ciePos), ciePos, cies, badCIE, eh, ptrSize, secAddr, got, order)
			if cie == nil {
				bad++
			} else if f, ok := parseFDE(body, cie, secAddr, got); ok {
				if f.end > f.begin {
					fdes = append(fdes, f)
				}
			} else {
				bad++
			}
		}
		off = end
	}
	return fdes, bad
}

// cieAt returns the CIE whose length field lies at pos, parsing it once.
func cieAt(data []byte, pos int, raw int64, cies map[int]*cfiCIE, badCIE map[int]bool, eh bool, ptrSize int, secAddr, got uint64, order binary.ByteOrder) *cfiCIE {
	if raw < 0 || raw >= int64(len(data)) {
		return nil
	}
	if c, ok := cies[pos]; ok {
		return c
	}
	if badCIE[pos] {
		return nil
	}
	r := &cfiReader{b: data, off: pos, order: order}
	length := r.u32()
	is64 := false
	if length == 0xffffffff {
		length, is64 = r.u64(), true
	}
	if r.err || length == 0 || length > uint64(len(data)-r.off) {
		badCIE[pos] = true
		return nil
	}
	body := &cfiReader{b: data[:r.off+int(length)], off: r.off, order: order}
	var id uint64
	if is64 {
		id = body.u64()
	} else {
		id = body.u32()
	}
	want := uint64(0)
	if !eh {
		want = 0xffffffff
		if is64 {
			want = ^uint64(0)
		}
	}
	if id != want {
		badCIE[pos] = true
		return nil
	}
	c, ok := parseCIE(body, eh, ptrSize, secAddr, got)
	if !ok {
		badCIE[pos] = true
		return nil
	}
	cies[pos] = c
	return c
}

// parseCIE parses a CIE body after its id.
func parseCIE(r *cfiReader, eh bool, ptrSize int, secAddr, got uint64) (*cfiCIE, bool) {
	c := &cfiCIE{fdeEnc: pePtr, addrSize: ptrSize, order: r.order}
	version := r.u8()
	switch version {
	case 1, 3, 4:
	default:
		return nil, false
	}
	augStart := r.off
	for r.u8() != 0 && !r.err {
	}
	if r.err {
		return nil, false
	}
	aug := string(r.b[augStart : r.off-1])
	if version == 4 {
		c.addrSize = int(r.u8())
		r.u8() // segment selector size
		if c.addrSize != 4 && c.addrSize != 8 {
			return nil, false
		}
	}
	c.codeAlign = r.uleb()
	c.dataAlign = r.sleb()
	if version == 1 {
		c.ra = uint64(r.u8())
	} else {
		c.ra = r.uleb()
	}
	if r.err {
		return nil, false
	}
	if aug != "" {
		if aug[0] != 'z' {
			return nil, false // "eh" and other pre-"z" augmentations
		}
		c.hasAug = true
		n := r.uleb()
		augData := r.bytes(n)
		if r.err {
			return nil, false
		}
		ar := &cfiReader{b: augData, order: r.order}
		dataOff := uint64(r.off) - n // offset of augData within the section
	loop:
		for _, ch := range aug[1:] {
			switch ch {
			case 'R':
				c.fdeEnc = ar.u8()
			case 'L':
				ar.u8()
			case 'P':
				enc := ar.u8()
				if _, ok := ar.encoded(enc&^peIndir, secAddr+dataOff, got, c.addrSize); !ok || ar.err {
					return nil, false
				}
			case 'S':
				c.signal = true
			case 'B', 'G':
			default:
				break loop // unknown: the "z" length lets us skip the rest
			}
			if ar.err {
				return nil, false
			}
		}
	}
	if c.fdeEnc == peOmit {
		return nil, false
	}
	c.initial = r.b[r.off:]
	return c, true
}

// parseFDE parses an FDE body after its CIE pointer.
func parseFDE(r *cfiReader, c *cfiCIE, secAddr, got uint64) (cfiFDE, bool) {
	begin, ok := r.encoded(c.fdeEnc, secAddr, got, c.addrSize)
	if !ok {
		return cfiFDE{}, false
	}
	size, ok := r.encoded(c.fdeEnc&0x0f, secAddr, got, c.addrSize)
	if !ok {
		return cfiFDE{}, false
	}
	if c.hasAug {
		n := r.uleb()
		r.bytes(n)
	}
	if r.err {
		return cfiFDE{}, false
	}
	end := begin + size
	if end < begin {
		end = ^uint64(0)
	}
	return cfiFDE{begin: begin, end: end, cie: c, insns: r.b[r.off:]}, true
}

// Register rules.
type ruleKind uint8

const (
	ruleSame ruleKind = iota // also "no rule"
	ruleUndefined
	ruleOffset    // saved at CFA+off
	ruleValOffset // value is CFA+off
	ruleRegister  // in register reg
	ruleExpr      // saved at the address expr computes
	ruleValExpr   // value is what expr computes
)

type cfiRule struct {
	kind ruleKind
	off  int64
	reg  uint64
	expr []byte
}

// cfiRow is the unwind row for one address.
type cfiRow struct {
	cfaReg  uint64
	cfaOff  int64
	cfaExpr []byte // non-nil: DW_CFA_def_cfa_expression
	regs    map[uint64]cfiRule
}

func (r cfiRow) clone() cfiRow {
	c := r
	c.regs = make(map[uint64]cfiRule, len(r.regs))
	for k, v := range r.regs {
		c.regs[k] = v
	}
	return c
}

// errCFIUnsupported stops execution at an instruction this reader does
// not handle: the caller falls back.
var errCFIUnsupported = errors.New("unsupported call-frame instruction")

// execute runs the CIE's initial instructions and the FDE's up to addr and
// returns the row for addr.
func (f *cfiFDE) execute(addr uint64) (cfiRow, error) {
	c := f.cie
	row := cfiRow{regs: map[uint64]cfiRule{}}
	loc := f.begin
	if _, err := runCFA(c, c.initial, &row, nil, &loc, ^uint64(0)); err != nil {
		return row, err
	}
	initial := row.clone()
	loc = f.begin
	_, err := runCFA(c, f.insns, &row, &initial, &loc, addr)
	return row, err
}

// runCFA executes call-frame instructions, stopping before an advance past
// addr. initial is the row after the CIE's instructions (nil while running
// them).
func runCFA(c *cfiCIE, insns []byte, row *cfiRow, initial *cfiRow, loc *uint64, addr uint64) (bool, error) {
	r := &cfiReader{b: insns, order: c.order}
	var stack []cfiRow
	advance := func(delta uint64) bool {
		n := *loc + delta*c.codeAlign
		if n > addr || n < *loc {
			return false
		}
		*loc = n
		return true
	}
	restore := func(reg uint64) {
		if initial != nil {
			if rule, ok := initial.regs[reg]; ok {
				row.regs[reg] = rule
				return
			}
		}
		delete(row.regs, reg)
	}
	setReg := func(reg uint64, rule cfiRule) error {
		if reg > maxCFIRegNum {
			return ErrBadCFI
		}
		row.regs[reg] = rule
		return nil
	}
	for r.off < len(r.b) {
		op := r.u8()
		var err error
		switch op >> 6 {
		case 1: // DW_CFA_advance_loc
			if !advance(uint64(op & 0x3f)) {
				return true, nil
			}
			continue
		case 2: // DW_CFA_offset
			err = setReg(uint64(op&0x3f), cfiRule{kind: ruleOffset, off: int64(r.uleb()) * c.dataAlign})
		case 3: // DW_CFA_restore
			restore(uint64(op & 0x3f))
		default:
			switch op {
			case 0x00: // nop
			case 0x01: // set_loc
				v, ok := r.encoded(c.fdeEnc, 0, 0, c.addrSize)
				if !ok || c.fdeEnc&0x70 == pePCRel {
					return false, errCFIUnsupported
				}
				if v > addr {
					return true, nil
				}
				*loc = v
			case 0x02, 0x03, 0x04: // advance_loc1/2/4
				var d uint64
				switch op {
				case 0x02:
					d = uint64(r.u8())
				case 0x03:
					d = r.u16()
				default:
					d = r.u32()
				}
				if r.err {
					return false, ErrBadCFI
				}
				if !advance(d) {
					return true, nil
				}
			case 0x05: // offset_extended
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleOffset, off: int64(r.uleb()) * c.dataAlign})
			case 0x06: // restore_extended
				restore(r.uleb())
			case 0x07: // undefined
				err = setReg(r.uleb(), cfiRule{kind: ruleUndefined})
			case 0x08: // same_value
				err = setReg(r.uleb(), cfiRule{kind: ruleSame})
			case 0x09: // register
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleRegister, reg: r.uleb()})
			case 0x0a: // remember_state
				if len(stack) >= maxCFIStates {
					return false, ErrBadCFI
				}
				stack = append(stack, row.clone())
			case 0x0b: // restore_state
				if len(stack) == 0 {
					return false, ErrBadCFI
				}
				// The whole row comes back, CFA included, as libgcc and
				// LLVM's libunwind do.
				*row = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			case 0x0c: // def_cfa
				row.cfaReg = r.uleb()
				row.cfaOff = int64(r.uleb())
				row.cfaExpr = nil
			case 0x0d: // def_cfa_register
				row.cfaReg = r.uleb()
				row.cfaExpr = nil
			case 0x0e: // def_cfa_offset
				row.cfaOff = int64(r.uleb())
			case 0x0f: // def_cfa_expression
				row.cfaExpr = r.bytes(r.uleb())
				if row.cfaExpr == nil {
					row.cfaExpr = []byte{}
				}
			case 0x10: // expression
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleExpr, expr: r.bytes(r.uleb())})
			case 0x11: // offset_extended_sf
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleOffset, off: r.sleb() * c.dataAlign})
			case 0x12: // def_cfa_sf
				row.cfaReg = r.uleb()
				row.cfaOff = r.sleb() * c.dataAlign
				row.cfaExpr = nil
			case 0x13: // def_cfa_offset_sf
				row.cfaOff = r.sleb() * c.dataAlign
			case 0x14: // val_offset
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleValOffset, off: int64(r.uleb()) * c.dataAlign})
			case 0x15: // val_offset_sf
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleValOffset, off: r.sleb() * c.dataAlign})
			case 0x16: // val_expression
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleValExpr, expr: r.bytes(r.uleb())})
			case 0x2d: // GNU_window_save / AARCH64_negate_ra_state: the walker strips PAC bits
			case 0x2e: // GNU_args_size
				r.uleb()
			case 0x2f: // GNU_negative_offset_extended
				reg := r.uleb()
				err = setReg(reg, cfiRule{kind: ruleOffset, off: -int64(r.uleb()) * c.dataAlign})
			default:
				return false, errCFIUnsupported
			}
		}
		if err != nil {
			return false, err
		}
		if r.err {
			return false, ErrBadCFI
		}
	}
	return false, nil
}

// caller applies the row for addr to callee's registers.
func (t *cfiTable) caller(addr uint64, callee Registers, read func(addr uint64, size int) (uint64, error)) (Registers, bool, error) {
	f, ok := t.lookup(addr)
	if !ok {
		return nil, false, nil
	}
	row, err := f.execute(addr)
	if err != nil {
		return nil, false, nil // malformed or unsupported: fall back
	}
	a := t.arch
	reg := func(n uint64) (uint64, bool) {
		name, ok := a.names[n]
		if !ok {
			return 0, false
		}
		v, ok := callee[name]
		return v, ok
	}
	var cfa uint64
	if row.cfaExpr != nil {
		v, ok := evalExpr(row.cfaExpr, nil, reg, read, a.ptrSize, f.cie.order)
		if !ok {
			return nil, false, nil
		}
		cfa = v
	} else {
		v, ok := reg(row.cfaReg)
		if !ok {
			return nil, false, nil
		}
		cfa = v + uint64(row.cfaOff)
	}
	// 32-bit address arithmetic wraps at 4 GiB.
	mask := ^uint64(0)
	if a.ptrSize == 4 {
		mask = 0xffffffff
	}
	cfa &= mask
	// value recovers register n in the caller: known=false when the rule
	// leaves it unknown.
	value := func(n uint64) (v uint64, known bool, err error) {
		rule, has := row.regs[n]
		if !has {
			rule.kind = ruleSame
		}
		switch rule.kind {
		case ruleSame:
			v, ok := reg(n)
			return v, ok, nil
		case ruleOffset:
			v, err := read((cfa+uint64(rule.off))&mask, a.ptrSize)
			return v, err == nil, nil
		case ruleValOffset:
			return (cfa + uint64(rule.off)) & mask, true, nil
		case ruleRegister:
			v, ok := reg(rule.reg)
			return v, ok, nil
		case ruleExpr, ruleValExpr:
			v, ok := evalExpr(rule.expr, &cfa, reg, read, a.ptrSize, f.cie.order)
			if !ok {
				return 0, false, errCFIUnsupported
			}
			if rule.kind == ruleValExpr {
				return v & mask, true, nil
			}
			w, err := read(v&mask, a.ptrSize)
			return w, err == nil, nil
		}
		return 0, false, nil
	}
	ra := f.cie.ra
	caller := Registers{a.sp: cfa}
	if a.spRule {
		delete(caller, a.sp) // recovered with the callee-saved registers below
	}
	raRule, hasRA := row.regs[ra]
	switch {
	case hasRA && raRule.kind == ruleUndefined:
		caller[a.pc] = 0 // the outermost frame
		return caller, true, nil
	case !hasRA && !a.raSame:
		return nil, false, nil
	}
	pc, known, err := value(ra)
	if err != nil || !known {
		return nil, false, nil
	}
	caller[a.pc] = pc
	for _, n := range a.saved {
		if v, known, err := value(n); err == nil && known {
			caller[a.names[n]] = v
		}
	}
	if f.cie.signal {
		// A signal trampoline's rules restore the interrupted frame's
		// every register from the signal context, volatile ones and the
		// link register included: a leaf interrupted there still has its
		// return address in lr, ra or r14.
		for n := range row.regs {
			if name, ok := a.names[n]; ok && n != ra {
				if v, known, err := value(n); err == nil && known {
					caller[name] = v
				}
			}
		}
	}
	if _, ok := caller[a.sp]; !ok {
		return nil, false, nil
	}
	return caller, true, nil
}

// evalExpr evaluates a DWARF expression with a small stack machine: the
// literal, register-based, arithmetic, comparison and dereference
// operations call-frame expressions use (PLT stubs, signal trampolines).
// cfa, when non-nil, is pushed first (DW_CFA_expression rules). Constants
// are in byte order order (nil: little-endian).
func evalExpr(expr []byte, cfa *uint64, reg func(uint64) (uint64, bool), read func(addr uint64, size int) (uint64, error), ptrSize int, order binary.ByteOrder) (uint64, bool) {
	var st []uint64
	if cfa != nil {
		st = append(st, *cfa)
	}
	r := &cfiReader{b: expr, order: order}
	pop := func() (uint64, bool) {
		if len(st) == 0 {
			return 0, false
		}
		v := st[len(st)-1]
		st = st[:len(st)-1]
		return v, true
	}
	b2 := func() (uint64, uint64, bool) {
		b, ok1 := pop()
		a, ok2 := pop()
		return a, b, ok1 && ok2
	}
	bool64 := func(c bool) uint64 {
		if c {
			return 1
		}
		return 0
	}
	for steps := 0; r.off < len(r.b); steps++ {
		if steps > 256 || len(st) > maxExprStack {
			return 0, false
		}
		op := r.u8()
		switch {
		case op >= 0x30 && op <= 0x4f: // lit0..31
			st = append(st, uint64(op-0x30))
		case op >= 0x50 && op <= 0x6f: // reg0..31 (register location: unsupported)
			return 0, false
		case op >= 0x70 && op <= 0x8f: // breg0..31
			v, ok := reg(uint64(op - 0x70))
			if !ok {
				return 0, false
			}
			st = append(st, v+uint64(r.sleb()))
		case op == 0x92: // bregx
			v, ok := reg(r.uleb())
			if !ok {
				return 0, false
			}
			st = append(st, v+uint64(r.sleb()))
		case op == 0x08:
			st = append(st, uint64(r.u8()))
		case op == 0x09:
			st = append(st, uint64(int64(int8(r.u8()))))
		case op == 0x0a:
			st = append(st, r.u16())
		case op == 0x0b:
			st = append(st, uint64(int64(int16(r.u16()))))
		case op == 0x0c:
			st = append(st, r.u32())
		case op == 0x0d:
			st = append(st, uint64(int64(int32(r.u32()))))
		case op == 0x0e, op == 0x0f:
			st = append(st, r.u64())
		case op == 0x10:
			st = append(st, r.uleb())
		case op == 0x11:
			st = append(st, uint64(r.sleb()))
		case op == 0x12: // dup
			if len(st) == 0 {
				return 0, false
			}
			st = append(st, st[len(st)-1])
		case op == 0x13: // drop
			if _, ok := pop(); !ok {
				return 0, false
			}
		case op == 0x16: // swap
			if len(st) < 2 {
				return 0, false
			}
			st[len(st)-1], st[len(st)-2] = st[len(st)-2], st[len(st)-1]
		case op == 0x06: // deref
			a, ok := pop()
			if !ok {
				return 0, false
			}
			v, err := read(a, ptrSize)
			if err != nil {
				return 0, false
			}
			st = append(st, v)
		case op == 0x23: // plus_uconst
			a, ok := pop()
			if !ok {
				return 0, false
			}
			st = append(st, a+r.uleb())
		case op == 0x1f, op == 0x20: // neg, not
			a, ok := pop()
			if !ok {
				return 0, false
			}
			if op == 0x1f {
				st = append(st, -a)
			} else {
				st = append(st, ^a)
			}
		case op == 0x1a || op == 0x1c || op == 0x1e || op == 0x21 || op == 0x22 || op == 0x24 || op == 0x25 || op == 0x26 || op == 0x27 || (op >= 0x29 && op <= 0x2e):
			a, b, ok := b2()
			if !ok {
				return 0, false
			}
			var v uint64
			switch op {
			case 0x1a:
				v = a & b
			case 0x1c:
				v = a - b
			case 0x1e:
				v = a * b
			case 0x21:
				v = a | b
			case 0x22:
				v = a + b
			case 0x24:
				v = a << (b & 63)
			case 0x25:
				v = a >> (b & 63)
			case 0x26:
				v = uint64(int64(a) >> (b & 63))
			case 0x27:
				v = a ^ b
			case 0x29:
				v = bool64(a == b)
			case 0x2a:
				v = bool64(int64(a) >= int64(b))
			case 0x2b:
				v = bool64(int64(a) > int64(b))
			case 0x2c:
				v = bool64(int64(a) <= int64(b))
			case 0x2d:
				v = bool64(int64(a) < int64(b))
			case 0x2e:
				v = bool64(a != b)
			}
			st = append(st, v)
		case op == 0x96: // nop
		default:
			return 0, false
		}
		if r.err {
			return 0, false
		}
	}
	return pop()
}
