// Windows ARM64 exception-handling unwind data: .pdata entries of two
// words (function start RVA, then either packed unwind data or the RVA of
// an .xdata record) and the .xdata records' unwind codes. The format is
// described at https://learn.microsoft.com/cpp/build/arm64-exception-handling.
//
// Both forms are decoded into one list of operations in unwind order (the
// reverse of the prolog), which is then applied to the callee's registers.
// Epilogs are not detected, as for x64: a frame stopped inside an epilog
// is unwound as if it were in the body.

package unwind

import (
	"debug/pe"
	"encoding/binary"
	"fmt"
	"slices"
)

const (
	machineARM64     = 0xaa64
	sizeRuntimeFuncA = 8
)

// a64op kinds.
const (
	a64Alloc = iota // sp += off
	a64Save         // load registers from sp+off, then sp += wb
	a64SetFP        // sp = fp - off
	a64Nop          // an instruction with no effect on the tracked registers
	a64Next         // save_next: the next pair save covers one more pair
	a64EndC         // end_c: end of this scope's codes; not an instruction
)

// a64op is one decoded unwind operation; every kind but a64EndC stands for
// one prolog instruction.
type a64op struct {
	kind  uint8
	reg   int8  // a64Save: first integer register number, -1 for d registers
	n     uint8 // a64Save: registers stored (1 or 2)
	lr    bool  // a64Save: the second register is lr (save_lrpair)
	off   uint32
	wb    uint32
	instr bool
}

// readARM64Image reads the exception directory of an ARM64 image. An
// entry's end is its start plus the function length of its packed data or
// .xdata header; entries whose .xdata cannot be read are dropped.
func readARM64Image(f *pe.File, dir pe.DataDirectory) (*peImage, error) {
	if dir.VirtualAddress == 0 || dir.Size < sizeRuntimeFuncA {
		return nil, nil
	}
	n := int(dir.Size / sizeRuntimeFuncA)
	if n > maxRuntimeFuncs {
		return nil, fmt.Errorf("%w: %d RUNTIME_FUNCTION entries", ErrBadUnwindInfo, n)
	}
	pdata, err := readRVA(f, dir.VirtualAddress, n*sizeRuntimeFuncA)
	if err != nil {
		return nil, fmt.Errorf("%w: .pdata: %v", ErrBadUnwindInfo, err)
	}
	im := &peImage{arm64: true, funcs: make([]runtimeFunction, 0, n)}
	need := map[int]bool{}
	for i := 0; i < n; i++ {
		b := pdata[i*sizeRuntimeFuncA:]
		rf := runtimeFunction{begin: binary.LittleEndian.Uint32(b), info: binary.LittleEndian.Uint32(b[4:])}
		if rf.info&3 == 0 {
			if rf.info == 0 {
				continue
			}
			if s := sectionOf(f, rf.info); s >= 0 {
				need[s] = true
			}
		}
		im.funcs = append(im.funcs, rf)
	}
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
	funcs := im.funcs[:0]
	for _, rf := range im.funcs {
		var length uint32
		if rf.info&3 != 0 {
			length = (rf.info >> 2 & 0x7ff) * 4
		} else if h, ok := im.bytes(rf.info, 4); ok {
			length = (binary.LittleEndian.Uint32(h) & 0x3ffff) * 4
		}
		if length == 0 || uint64(rf.begin)+uint64(length) > 0xffffffff {
			continue
		}
		rf.end = rf.begin + length
		funcs = append(funcs, rf)
	}
	im.funcs = funcs
	slices.SortFunc(im.funcs, func(a, b runtimeFunction) int {
		switch {
		case a.begin < b.begin:
			return -1
		case a.begin > b.begin:
			return 1
		}
		return 0
	})
	return im, nil
}

// decodeARM64 returns rf's unwind operations in unwind order, how many
// of them (from the first) describe the prolog, and whether the function
// has a prolog at its start at all (packed Flag 2 says it has none).
func (im *peImage) decodeARM64(rf runtimeFunction) (ops []a64op, prolog int, hasProlog bool, err error) {
	switch rf.info & 3 {
	case 1, 2:
		ops, err = packedARM64(rf.info)
		return ops, len(ops), rf.info&3 == 1, err
	case 3:
		return nil, 0, false, fmt.Errorf("%w: .pdata entry at %#x: reserved flag 3", ErrBadUnwindInfo, rf.begin)
	}
	codes, err := im.xdataARM64(rf.info)
	if err != nil {
		return nil, 0, false, err
	}
	ops, err = codesARM64(codes)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%w (.xdata at %#x)", err, rf.info)
	}
	prolog = len(ops)
	for i, op := range ops {
		if op.kind == a64EndC {
			prolog = i
			break
		}
	}
	return ops, prolog, true, nil
}

// xdataARM64 returns the unwind-code bytes of the .xdata record at rva,
// after checking its header and epilog scopes.
func (im *peImage) xdataARM64(rva uint32) ([]byte, error) {
	h, ok := im.bytes(rva, 4)
	if !ok {
		return nil, fmt.Errorf("%w: .xdata at %#x unreadable", ErrBadUnwindInfo, rva)
	}
	w := binary.LittleEndian.Uint32(h)
	if vers := w >> 18 & 3; vers != 0 {
		return nil, fmt.Errorf("%w: .xdata at %#x: version %d", ErrBadUnwindInfo, rva, vers)
	}
	single := w>>21&1 != 0
	epilogs, words := int(w>>22&0x1f), int(w>>27)
	n := 4
	if epilogs == 0 && words == 0 {
		x, ok := im.bytes(rva, 8)
		if !ok {
			return nil, fmt.Errorf("%w: .xdata at %#x: extended header truncated", ErrBadUnwindInfo, rva)
		}
		w2 := binary.LittleEndian.Uint32(x[4:])
		epilogs, words = int(w2&0xffff), int(w2>>16&0xff)
		n = 8
	}
	scopes := 0
	if !single {
		scopes = epilogs
	}
	b, ok := im.bytes(rva, n+4*scopes+4*words)
	if !ok {
		return nil, fmt.Errorf("%w: .xdata at %#x truncated", ErrBadUnwindInfo, rva)
	}
	codes := b[n+4*scopes : n+4*scopes+4*words]
	// Epilog scopes (or, with E set, the single epilog's code index) only
	// matter for epilog detection; check they point into the codes.
	if single {
		if epilogs >= len(codes) && len(codes) > 0 {
			return nil, fmt.Errorf("%w: .xdata at %#x: epilog code index %d past %d codes", ErrBadUnwindInfo, rva, epilogs, len(codes))
		}
	} else {
		for i := 0; i < scopes; i++ {
			s := binary.LittleEndian.Uint32(b[n+4*i:])
			if idx := int(s >> 22); idx >= len(codes) {
				return nil, fmt.Errorf("%w: .xdata at %#x: epilog scope %d code index %d past %d codes", ErrBadUnwindInfo, rva, i, idx, len(codes))
			}
		}
	}
	return codes, nil
}

// codesARM64 decodes unwind codes up to end (or the last byte).
func codesARM64(c []byte) ([]a64op, error) {
	var ops []a64op
	for i := 0; i < len(c); {
		b := c[i]
		size := 1
		switch {
		case b >= 0xc0 && b < 0xe0, b == 0xe2:
			size = 2
		case b == 0xe0:
			size = 4
		}
		if i+size > len(c) {
			return nil, fmt.Errorf("%w: unwind code %#x at byte %d truncated", ErrBadUnwindInfo, b, i)
		}
		var b1 uint32
		if size > 1 {
			b1 = uint32(c[i+1])
		}
		op := a64op{kind: a64Save, instr: true}
		switch {
		case b < 0x20: // alloc_s
			op = a64op{kind: a64Alloc, off: uint32(b&0x1f) * 16, instr: true}
		case b < 0x40: // save_r19r20_x
			op.reg, op.n, op.wb = 19, 2, uint32(b&0x1f)*8
		case b < 0x80: // save_fplr
			op.reg, op.n, op.off = 29, 2, uint32(b&0x3f)*8
		case b < 0xc0: // save_fplr_x
			op.reg, op.n, op.wb = 29, 2, (uint32(b&0x3f)+1)*8
		case b < 0xc8: // alloc_m
			op = a64op{kind: a64Alloc, off: (uint32(b&7)<<8 | b1) * 16, instr: true}
		case b < 0xcc: // save_regp
			op.reg, op.n, op.off = int8(19+((b&3)<<2|uint8(b1>>6))), 2, (b1&0x3f)*8
		case b < 0xd0: // save_regp_x
			op.reg, op.n, op.wb = int8(19+((b&3)<<2|uint8(b1>>6))), 2, (b1&0x3f+1)*8
		case b < 0xd4: // save_reg
			op.reg, op.n, op.off = int8(19+((b&3)<<2|uint8(b1>>6))), 1, (b1&0x3f)*8
		case b < 0xd6: // save_reg_x
			op.reg, op.n, op.wb = int8(19+((b&1)<<3|uint8(b1>>5))), 1, (b1&0x1f+1)*8
		case b < 0xd8: // save_lrpair
			op.reg, op.n, op.lr, op.off = int8(19+2*((b&1)<<2|uint8(b1>>6))), 2, true, (b1&0x3f)*8
		case b < 0xda: // save_fregp
			op.reg, op.n, op.off = -1, 2, (b1&0x3f)*8
		case b < 0xdc: // save_fregp_x
			op.reg, op.n, op.wb = -1, 2, (b1&0x3f+1)*8
		case b < 0xde: // save_freg
			op.reg, op.n, op.off = -1, 1, (b1&0x3f)*8
		case b == 0xde: // save_freg_x
			op.reg, op.n, op.wb = -1, 1, (b1&0x1f+1)*8
		case b == 0xe0: // alloc_l
			op = a64op{kind: a64Alloc, off: (b1<<16 | uint32(c[i+2])<<8 | uint32(c[i+3])) * 16, instr: true}
		case b == 0xe1: // set_fp
			op = a64op{kind: a64SetFP, instr: true}
		case b == 0xe2: // add_fp
			op = a64op{kind: a64SetFP, off: b1 * 8, instr: true}
		case b == 0xe3, b == 0xfc: // nop, pac_sign_lr
			op = a64op{kind: a64Nop, instr: true}
		case b == 0xe4: // end
			return ops, nil
		case b == 0xe5: // end_c
			op = a64op{kind: a64EndC}
		case b == 0xe6: // save_next
			op = a64op{kind: a64Next, instr: true}
		default: // alloc_z, save_any_reg, custom stacks, reserved
			return nil, fmt.Errorf("%w: unsupported ARM64 unwind code %#x at byte %d", ErrBadUnwindInfo, b, i)
		}
		if op.kind == a64Save && (op.reg > 30 || op.lr && op.reg > 28) {
			return nil, fmt.Errorf("%w: unwind code %#x at byte %d saves x%d", ErrBadUnwindInfo, b, i, op.reg)
		}
		ops = append(ops, op)
		i += size
	}
	return ops, nil
}

// packedARM64 rebuilds the canonical prolog that packed unwind data
// describes, in unwind order.
func packedARM64(w uint32) ([]a64op, error) {
	regF, regI := int(w>>13&7), int(w>>16&0xf)
	h, cr := w>>20&1 != 0, w>>21&3
	frame := (w >> 23) * 16
	if regI > 10 {
		return nil, fmt.Errorf("%w: packed unwind data %#x: RegI %d", ErrBadUnwindInfo, w, regI)
	}
	intRegs := make([]int8, 0, 11)
	for r := 0; r < regI; r++ {
		intRegs = append(intRegs, int8(19+r))
	}
	if cr == 1 {
		intRegs = append(intRegs, 30)
	}
	fpRegs := 0
	if regF > 0 {
		fpRegs = regF + 1
	}
	intSize, fpSize := uint32(8*len(intRegs)), uint32(8*fpRegs)
	saveSize := (intSize + fpSize + 64*b2u(h) + 15) &^ 15
	if saveSize > frame {
		return nil, fmt.Errorf("%w: packed unwind data %#x: frame %d smaller than save area %d", ErrBadUnwindInfo, w, frame, saveSize)
	}
	local := frame - saveSize
	var prolog []a64op // in prolog order
	// save appends a store of regs at sp+off, the first store of the save
	// area pre-decrementing sp by its size.
	first := true
	save := func(regs []int8, off uint32) {
		op := a64op{kind: a64Save, reg: regs[0], n: uint8(len(regs)), off: off, instr: true}
		if len(regs) == 2 && regs[1] == 30 && regs[0] != 29 {
			op.lr = true
		}
		if first {
			op.off, op.wb, first = 0, saveSize, false
		}
		prolog = append(prolog, op)
	}
	if cr == 2 {
		prolog = append(prolog, a64op{kind: a64Nop, instr: true}) // pacibsp
	}
	for i := 0; i < len(intRegs); i += 2 {
		save(intRegs[i:min(i+2, len(intRegs))], uint32(8*i))
	}
	for i := 0; i < fpRegs; i += 2 {
		save([]int8{-1, -1}[:min(2, fpRegs-i)], intSize+uint32(8*i))
	}
	if h {
		for i := 0; i < 4; i++ { // stp x0..x7 into the home area: volatile
			if first {
				save([]int8{-1, -1}, 0)
				continue
			}
			prolog = append(prolog, a64op{kind: a64Nop, instr: true})
		}
	}
	alloc := func(n uint32) {
		if n > 4080 {
			prolog = append(prolog, a64op{kind: a64Alloc, off: 4080, instr: true})
			n -= 4080
		}
		prolog = append(prolog, a64op{kind: a64Alloc, off: n, instr: true})
	}
	switch {
	case cr >= 2 && local <= 512:
		prolog = append(prolog, a64op{kind: a64Save, reg: 29, n: 2, wb: local, instr: true})
		prolog = append(prolog, a64op{kind: a64SetFP, instr: true})
	case cr >= 2:
		alloc(local)
		prolog = append(prolog, a64op{kind: a64Save, reg: 29, n: 2, instr: true})
		prolog = append(prolog, a64op{kind: a64SetFP, instr: true})
	case local > 0:
		alloc(local)
	}
	slices.Reverse(prolog)
	return prolog, nil
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// a64RegName names integer register r as the walker does.
func a64RegName(r int) string {
	switch r {
	case 29:
		return "fp"
	case 30:
		return "lr"
	}
	return fmt.Sprintf("x%d", r)
}

// unwindARM64 applies rf's unwind operations to the callee's registers
// (only the prolog instructions already run when rva lies in the prolog)
// and returns the caller's: pc is the recovered lr.
func (im *peImage) unwindARM64(rf runtimeFunction, rva uint32, callee Registers, read func(uint64, int) (uint64, error)) (Registers, bool, error) {
	ops, prolog, hasProlog, err := im.decodeARM64(rf)
	if err != nil {
		return nil, false, err
	}
	if _, ok := callee["sp"]; !ok {
		return nil, false, nil
	}
	regs := Registers{}
	for _, r := range []string{"sp", "fp", "lr", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28"} {
		if v, ok := callee[r]; ok {
			regs[r] = v
		}
	}
	skip := 0
	if k := int((rva - rf.begin) / 4); hasProlog && k < prolog {
		skip = prolog - k
	}
	next := 0
	for i, op := range ops {
		if i < skip {
			continue
		}
		switch op.kind {
		case a64Alloc:
			regs["sp"] += uint64(op.off)
		case a64SetFP:
			fp, ok := regs["fp"]
			if !ok {
				return nil, false, nil // frame pointer unknown: cannot use these rules
			}
			regs["sp"] = fp - uint64(op.off)
		case a64Next:
			next++
			continue
		case a64Save:
			n := int(op.n)
			if next > 0 {
				if n != 2 || op.lr {
					return nil, false, fmt.Errorf("%w: save_next before a single-register save", ErrBadUnwindInfo)
				}
				n += 2 * next
			}
			sp := regs["sp"]
			for j := 0; j < n; j++ {
				r := int(op.reg) + j
				if op.lr && j == 1 {
					r = 30
				}
				if op.reg < 0 {
					continue // d registers are not tracked
				}
				if r > 30 {
					return nil, false, fmt.Errorf("%w: save_next past x30", ErrBadUnwindInfo)
				}
				addr := sp + uint64(op.off) + 8*uint64(j)
				v, err := read(addr, 8)
				if err != nil {
					return nil, false, fmt.Errorf("unwind: reading %#x: %w", addr, err)
				}
				regs[a64RegName(r)] = v
			}
			regs["sp"] = sp + uint64(op.wb)
		}
		if next > 0 && op.kind != a64EndC {
			if op.kind != a64Save {
				return nil, false, fmt.Errorf("%w: save_next not followed by a pair save", ErrBadUnwindInfo)
			}
			next = 0
		}
	}
	lr, ok := regs["lr"]
	if !ok {
		return nil, false, nil
	}
	regs["pc"] = lr
	return regs, true, nil
}
