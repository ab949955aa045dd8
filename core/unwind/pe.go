// Windows x64 exception-handling unwind data (.pdata RUNTIME_FUNCTION
// entries and the UNWIND_INFO records they point to, usually in .xdata or
// .rdata) is read by hand here: the standard library's debug/pe locates
// sections and data directories but has no reader for these structures,
// and core may use nothing outside the standard library. The format is
// described at https://learn.microsoft.com/cpp/build/exception-handling-x64
// and the unwinding follows RtlVirtualUnwind as Wine implements it.

package unwind

import (
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/crashbench/crashbench/core/model"
)

// UNWIND_CODE operations.
const (
	uwopPushNonvol    = 0
	uwopAllocLarge    = 1
	uwopAllocSmall    = 2
	uwopSetFPReg      = 3
	uwopSaveNonvol    = 4
	uwopSaveNonvolFar = 5
	uwopEpilog        = 6 // version 2; UWOP_SAVE_XMM (2 slots) in old version 1 images
	uwopSpareCode     = 7 // UWOP_SAVE_XMM_FAR in old images (3 slots)
	uwopSaveXMM128    = 8
	uwopSaveXMM128Far = 9
	uwopPushMachFrame = 10
	unwFlagChainInfo  = 0x4
	dirException      = 3 // IMAGE_DIRECTORY_ENTRY_EXCEPTION
	sizeRuntimeFunc   = 12
	maxRuntimeFuncs   = 1 << 22
	maxChain          = 32
	maxUnwindSection  = 1 << 28
	machineAMD64      = 0x8664
)

// amd64Regs names the x64 integer registers by their UNWIND_CODE number.
var amd64Regs = [16]string{"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"}

// nonVolatile are the integer registers the Windows x64 calling convention
// makes a callee preserve (rsp aside).
var nonVolatile = []string{"rbx", "rbp", "rsi", "rdi", "r12", "r13", "r14", "r15"}

// ErrBadUnwindInfo says a module's .pdata or UNWIND_INFO is malformed.
var ErrBadUnwindInfo = errors.New("unwind: malformed x64 unwind info")

// PEUnwind recovers callers with the Windows x64 unwind information
// (.pdata and UNWIND_INFO) of the modules' image files, or their ARM64
// .pdata and .xdata (pe_winarm64.go). It implements Rules for amd64 and arm64
// and is safe for concurrent use.
//
// Each image is read once, on the first pc inside its module, and its
// function table and unwind data kept. A pc in no module, in a module
// whose image cannot be opened or has no exception directory, or in code
// no RUNTIME_FUNCTION covers (a leaf function) yields ok=false, so the
// walker falls back to frame pointers and scanning.
//
// A pc inside an epilog (after the stack was freed or some registers
// popped) is recognised from the code, as RtlVirtualUnwind does, and the
// rest of the epilog emulated (pe_epilog.go); the code is read through
// the walker's memory reads, so it must be in the dump or a matched image.
type PEUnwind struct {
	images *imageCache[peImage]
}

// NewPEUnwind returns rules over mods whose images open returns, laid out
// as files (debug/pe reads them; RVA = pc - module base). When the
// io.ReaderAt open returns is also an io.Closer, PEUnwind closes it once it
// has read the unwind data it needs.
func NewPEUnwind(mods []model.Module, open func(m model.Module) (io.ReaderAt, bool)) *PEUnwind {
	parse := func(r io.ReaderAt, _ model.Module) (*peImage, error) { return readPEImage(r) }
	return &PEUnwind{images: newImageCache(mods, open, parse)}
}

// OpenFiles adapts a path finder (such as image.Finder.Find) to the open
// function NewPEUnwind takes: it opens the file found for a module.
func OpenFiles(find func(m model.Module) (string, bool)) func(m model.Module) (io.ReaderAt, bool) {
	return func(m model.Module) (io.ReaderAt, bool) {
		p, ok := find(m)
		if !ok {
			return nil, false
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, false
		}
		return f, true
	}
}

// Caller implements Rules: it finds the RUNTIME_FUNCTION for pc, undoes
// the prolog's effects recorded in its UNWIND_INFO (only the codes whose
// prolog offset pc has passed, when pc is inside the prolog), following
// chained entries, and pops the return address.
func (u *PEUnwind) Caller(pc uint64, callee Registers, read func(addr uint64, size int) (uint64, error)) (Registers, bool, error) {
	m, im, err := u.images.at(pc)
	if im == nil {
		return nil, false, err
	}
	rva := pc - m.Base
	if rva > 0xffffffff {
		return nil, false, nil
	}
	rf, ok := im.lookup(uint32(rva))
	if !ok {
		return nil, false, nil
	}
	if im.arm64 {
		return im.unwindARM64(rf, uint32(rva), callee, read)
	}
	return im.unwind(rf, m.Base, uint32(rva), callee, read)
}

// runtimeFunction is a .pdata entry (RVAs; end exclusive).
type runtimeFunction struct {
	begin, end, info uint32
}

// peImage is the unwind data of one image.
type peImage struct {
	funcs []runtimeFunction // sorted by begin
	secs  []peSection       // sections holding unwind info
	arm64 bool              // ARM64 .pdata/.xdata (pe_winarm64.go)
}

type peSection struct {
	rva  uint32
	data []byte
}

// readPEImage reads the exception directory of an x64 image and the
// sections its unwind information lies in. It never panics on malformed
// input.
func readPEImage(r io.ReaderAt) (im *peImage, err error) {
	defer func() {
		if p := recover(); p != nil {
			im, err = nil, fmt.Errorf("%w: %v", ErrBadUnwindInfo, p)
		}
	}()
	f, err := pe.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if f.FileHeader.Machine != machineAMD64 && f.FileHeader.Machine != machineARM64 {
		return nil, nil
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || oh.NumberOfRvaAndSizes <= dirException {
		return nil, nil
	}
	dir := oh.DataDirectory[dirException]
	if f.FileHeader.Machine == machineARM64 {
		return readARM64Image(f, dir)
	}
	if dir.VirtualAddress == 0 || dir.Size < sizeRuntimeFunc {
		return nil, nil
	}
	n := int(dir.Size / sizeRuntimeFunc)
	if n > maxRuntimeFuncs {
		return nil, fmt.Errorf("%w: %d RUNTIME_FUNCTION entries", ErrBadUnwindInfo, n)
	}
	pdata, err := readRVA(f, dir.VirtualAddress, n*sizeRuntimeFunc)
	if err != nil {
		return nil, fmt.Errorf("%w: .pdata: %v", ErrBadUnwindInfo, err)
	}
	im = &peImage{funcs: make([]runtimeFunction, 0, n)}
	need := map[int]bool{}
	for i := 0; i < n; i++ {
		b := pdata[i*sizeRuntimeFunc:]
		rf := runtimeFunction{binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])}
		if rf.end <= rf.begin || rf.info == 0 {
			continue
		}
		im.funcs = append(im.funcs, rf)
		if s := sectionOf(f, rf.info&^1); s >= 0 {
			need[s] = true
		}
	}
	slices.SortFunc(im.funcs, func(a, b runtimeFunction) int {
		switch {
		case a.begin < b.begin:
			return -1
		case a.begin > b.begin:
			return 1
		}
		return 0
	})
	for s := range need {
		sec := f.Sections[s]
		size := max(sec.VirtualSize, sec.Size)
		if size > maxUnwindSection {
			return nil, fmt.Errorf("%w: section %s too large", ErrBadUnwindInfo, sec.Name)
		}
		data, err := readRVA(f, sec.VirtualAddress, int(size))
		if err != nil {
			return nil, fmt.Errorf("%w: section %s: %v", ErrBadUnwindInfo, sec.Name, err)
		}
		im.secs = append(im.secs, peSection{rva: sec.VirtualAddress, data: data})
	}
	return im, nil
}

// sectionOf returns the index of the section containing rva, or -1.
func sectionOf(f *pe.File, rva uint32) int {
	for i, s := range f.Sections {
		size := max(s.VirtualSize, s.Size)
		if rva >= s.VirtualAddress && uint64(rva) < uint64(s.VirtualAddress)+uint64(size) {
			return i
		}
	}
	return -1
}

// readRVA reads n bytes of the image at rva, as mapped: bytes past a
// section's raw data read as zero.
func readRVA(f *pe.File, rva uint32, n int) ([]byte, error) {
	i := sectionOf(f, rva)
	if i < 0 {
		return nil, fmt.Errorf("rva %#x in no section", rva)
	}
	s := f.Sections[i]
	off := rva - s.VirtualAddress
	if uint64(off)+uint64(n) > uint64(max(s.VirtualSize, s.Size)) {
		return nil, fmt.Errorf("rva %#x+%#x past section %s", rva, n, s.Name)
	}
	buf := make([]byte, n)
	if off < s.Size {
		avail := min(uint32(n), s.Size-off)
		if _, err := s.ReadAt(buf[:avail], int64(off)); err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}

// bytes returns the unwind data at rva, at least n bytes of it.
func (im *peImage) bytes(rva uint32, n int) ([]byte, bool) {
	for _, s := range im.secs {
		if rva >= s.rva && uint64(rva-s.rva)+uint64(n) <= uint64(len(s.data)) {
			return s.data[rva-s.rva:], true
		}
	}
	return nil, false
}

// lookup returns the RUNTIME_FUNCTION containing rva.
func (im *peImage) lookup(rva uint32) (runtimeFunction, bool) {
	i := sort.Search(len(im.funcs), func(i int) bool { return im.funcs[i].begin > rva }) - 1
	if i < 0 || rva >= im.funcs[i].end {
		return runtimeFunction{}, false
	}
	return im.funcs[i], true
}

// unwindInfo is a decoded UNWIND_INFO header with its raw codes.
type unwindInfo struct {
	version, flags uint8
	prolog         uint8
	frameReg       uint8
	frameOffset    uint8
	codes          []byte // count*2 bytes
	chained        runtimeFunction
}

func (im *peImage) info(rva uint32) (unwindInfo, error) {
	var ui unwindInfo
	h, ok := im.bytes(rva, 4)
	if !ok {
		return ui, fmt.Errorf("%w: UNWIND_INFO at %#x unreadable", ErrBadUnwindInfo, rva)
	}
	ui.version, ui.flags = h[0]&7, h[0]>>3
	ui.prolog = h[1]
	count := int(h[2])
	ui.frameReg, ui.frameOffset = h[3]&0xf, h[3]>>4
	if ui.version != 1 && ui.version != 2 {
		return ui, fmt.Errorf("%w: UNWIND_INFO at %#x: version %d", ErrBadUnwindInfo, rva, ui.version)
	}
	n := 4 + 2*count
	if ui.flags&unwFlagChainInfo != 0 {
		n = 4 + 2*((count+1)&^1) + sizeRuntimeFunc
	}
	b, ok := im.bytes(rva, n)
	if !ok {
		return ui, fmt.Errorf("%w: UNWIND_INFO at %#x truncated", ErrBadUnwindInfo, rva)
	}
	ui.codes = b[4 : 4+2*count]
	if ui.flags&unwFlagChainInfo != 0 {
		c := b[4+2*((count+1)&^1):]
		ui.chained = runtimeFunction{binary.LittleEndian.Uint32(c), binary.LittleEndian.Uint32(c[4:]), binary.LittleEndian.Uint32(c[8:])}
	}
	return ui, nil
}

// slots returns how many UNWIND_CODE slots the operation at codes[i]
// takes.
func slots(op, info uint8) int {
	switch op {
	case uwopAllocLarge:
		if info == 0 {
			return 2
		}
		return 3
	case uwopSaveNonvol, uwopSaveXMM128, uwopEpilog:
		return 2
	case uwopSaveNonvolFar, uwopSaveXMM128Far, uwopSpareCode:
		return 3
	}
	return 1
}

// unwind applies rf's unwind codes (and its chain) to the callee's
// registers, as RtlVirtualUnwind does, and returns the caller's.
func (im *peImage) unwind(rf runtimeFunction, base uint64, rva uint32, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	rsp, ok := callee["rsp"]
	if !ok {
		return nil, false, nil
	}
	regs := Registers{}
	for _, r := range nonVolatile {
		if v, ok := callee[r]; ok {
			regs[r] = v
		}
	}
	regs["rsp"] = rsp
	get := func(n uint8) (uint64, bool) { v, ok := regs[amd64Regs[n&0xf]]; return v, ok }
	set := func(n uint8, v uint64) {
		if name := amd64Regs[n&0xf]; name != "rsp" {
			regs[name] = v
		}
	}
	load := func(addr uint64) (uint64, error) {
		v, err := read(addr, 8)
		if err != nil {
			return 0, fmt.Errorf("unwind: reading %#x: %w", addr, err)
		}
		return v, nil
	}
	machFrame := false
	for depth := 0; ; depth++ {
		if depth >= maxChain {
			return nil, false, fmt.Errorf("%w: chain longer than %d", ErrBadUnwindInfo, maxChain)
		}
		infoRVA := rf.info
		if infoRVA&1 != 0 {
			// The entry shares another function's unwind data: the RVA
			// (low bit set) names that function's RUNTIME_FUNCTION.
			b, ok := im.bytes(infoRVA&^1, sizeRuntimeFunc)
			if !ok {
				return nil, false, fmt.Errorf("%w: indirect entry at %#x", ErrBadUnwindInfo, infoRVA)
			}
			infoRVA = binary.LittleEndian.Uint32(b[8:])
		}
		ui, err := im.info(infoRVA)
		if err != nil {
			return nil, false, err
		}
		// Inside the prolog only the codes for instructions already run
		// are undone.
		inProlog := rva >= rf.begin && rva-rf.begin < uint32(ui.prolog)
		if depth == 0 && !inProlog {
			// Past the prolog, pc may be in an epilog, which has undone
			// part of what the codes describe (pe_epilog.go).
			code := &codeBytes{read: read}
			if steps, ok := epilogAt(code, base+uint64(rva), base+uint64(rf.begin), base+uint64(rf.end), ui.frameReg); ok {
				if done, err := runEpilog(steps, regs, load); err != nil || !done {
					return nil, false, err
				}
				return regs, true, nil
			}
		}
		applies := func(off uint8) bool { return !inProlog || uint32(off) <= rva-rf.begin }
		// The frame base that SAVE_NONVOL offsets count from: the frame
		// register minus its offset once established, else rsp.
		frame := regs["rsp"]
		if ui.frameReg != 0 {
			for i := 0; i+1 < len(ui.codes); {
				off, op, info := ui.codes[i], ui.codes[i+1]&0xf, ui.codes[i+1]>>4
				if op == uwopSetFPReg && applies(off) {
					v, ok := get(ui.frameReg)
					if !ok {
						return nil, false, nil // frame register unknown: cannot use these rules
					}
					frame = v - 16*uint64(ui.frameOffset)
				}
				i += 2 * slots(op, info)
			}
		}
		c := ui.codes
		for i := 0; i+1 < len(c); {
			off, op, info := c[i], c[i+1]&0xf, c[i+1]>>4
			n := slots(op, info)
			if i+2*n > len(c) {
				return nil, false, fmt.Errorf("%w: UNWIND_CODE %d truncated", ErrBadUnwindInfo, i/2)
			}
			arg := c[i+2 : i+2*n]
			i += 2 * n
			if !applies(off) {
				continue
			}
			switch op {
			case uwopPushNonvol:
				v, err := load(regs["rsp"])
				if err != nil {
					return nil, false, err
				}
				set(info, v)
				regs["rsp"] += 8
			case uwopAllocLarge:
				if info == 0 {
					regs["rsp"] += 8 * uint64(binary.LittleEndian.Uint16(arg))
				} else {
					regs["rsp"] += uint64(binary.LittleEndian.Uint32(arg))
				}
			case uwopAllocSmall:
				regs["rsp"] += 8*uint64(info) + 8
			case uwopSetFPReg:
				v, ok := get(ui.frameReg)
				if !ok {
					return nil, false, nil
				}
				regs["rsp"] = v - 16*uint64(ui.frameOffset)
			case uwopSaveNonvol, uwopSaveNonvolFar:
				addr := frame + 8*uint64(binary.LittleEndian.Uint16(arg))
				if op == uwopSaveNonvolFar {
					addr = frame + uint64(binary.LittleEndian.Uint32(arg))
				}
				v, err := load(addr)
				if err != nil {
					return nil, false, err
				}
				set(info, v)
			case uwopSaveXMM128, uwopSaveXMM128Far, uwopEpilog, uwopSpareCode:
				// XMM registers are not tracked; epilog descriptions are
				// only needed for epilog detection.
			case uwopPushMachFrame:
				sp := regs["rsp"]
				if info != 0 {
					sp += 8 // an error code sits below the machine frame
				}
				rip, err := load(sp)
				if err != nil {
					return nil, false, err
				}
				newSP, err := load(sp + 24)
				if err != nil {
					return nil, false, err
				}
				regs["rip"], regs["rsp"] = rip, newSP
				machFrame = true
			default:
				return nil, false, fmt.Errorf("%w: UNWIND_CODE op %d", ErrBadUnwindInfo, op)
			}
		}
		if ui.flags&unwFlagChainInfo == 0 {
			break
		}
		rf = ui.chained
	}
	if !machFrame {
		sp := regs["rsp"]
		ret, err := load(sp)
		if err != nil {
			return nil, false, err
		}
		regs["rip"], regs["rsp"] = ret, sp+8
	}
	return regs, true, nil
}
