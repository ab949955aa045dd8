package unwind

import "fmt"

// Epilog detection for Windows x64, as RtlVirtualUnwind does it: a frame
// stopped inside an epilog has already undone part of its prolog (the
// stack is freed, some registers popped), so its unwind codes would undo
// them twice. Microsoft's x64 exception-handling documentation
// (https://learn.microsoft.com/cpp/build/prolog-and-epilog) restricts
// epilogs to a form the unwinder can recognise from the code alone: an
// optional `add rsp, imm` or `lea rsp, [frame register + disp]`, then
// `pop` of nonvolatile registers, then `ret` or a jump out of the
// function (a tail call). When the instructions at pc fit that form, the
// rest of the epilog is emulated instead of applying the codes.

// epilogStep is one instruction of an epilog still to run.
type epilogStep struct {
	op   epilogOp
	reg  uint8 // pop: the register; lea: the base
	imm  int64 // add, lea: the displacement; ret imm16: the bytes freed
	size int   // encoded length
}

type epilogOp uint8

const (
	epAddRSP epilogOp = iota
	epLeaRSP
	epPop
	epReturn // ret, or a jump out of the function
)

// maxEpilogSteps bounds the decoding (an epilog has at most the 8
// nonvolatile pops, an add and a return; jumps within the function are
// followed a few times).
const maxEpilogSteps = 24

// codeBytes reads instruction bytes through the walker's 8-byte reads, a
// word at a time (aligned, so that each word is read once).
type codeBytes struct {
	read  func(addr uint64, size int) (uint64, error)
	words map[uint64]uint64
}

func (c *codeBytes) at(addr uint64) (byte, bool) {
	w := addr &^ 7
	v, ok := c.words[w]
	if !ok {
		var err error
		if v, err = c.read(w, 8); err != nil {
			return 0, false
		}
		if c.words == nil {
			c.words = map[uint64]uint64{}
		}
		c.words[w] = v
	}
	return byte(v >> (8 * (addr - w))), true
}

// epilogAt decodes the instructions at pc and returns the epilog steps
// still to run when pc is inside an epilog of the function [begin, end)
// (absolute addresses) whose frame register is frameReg (0: none).
func epilogAt(code *codeBytes, pc, begin, end uint64, frameReg uint8) ([]epilogStep, bool) {
	b := func(i uint64) (byte, bool) { return code.at(pc + i) }
	var steps []epilogStep
	// The stack adjustment can only come first, with REX.W.
	if p, ok := b(0); ok && p&0xf8 == 0x48 {
		op, ok1 := b(1)
		modrm, ok2 := b(2)
		if ok1 && ok2 {
			switch {
			case p == 0x48 && op == 0x83 && modrm == 0xc4: // add rsp, imm8
				if v, ok := b(3); ok {
					steps = append(steps, epilogStep{op: epAddRSP, imm: int64(int8(v)), size: 4})
				}
			case p == 0x48 && op == 0x81 && modrm == 0xc4: // add rsp, imm32
				if v, ok := imm32(b, 3); ok {
					steps = append(steps, epilogStep{op: epAddRSP, imm: int64(v), size: 7})
				}
			case op == 0x8d && p&0x06 == 0 && modrm>>3&7 == 4 && modrm&7 != 4: // lea rsp, [base+disp]
				base := modrm&7 | (p&1)<<3
				if frameReg == 0 || base != frameReg {
					return nil, false
				}
				switch modrm >> 6 {
				case 1:
					if v, ok := b(3); ok {
						steps = append(steps, epilogStep{op: epLeaRSP, reg: base, imm: int64(int8(v)), size: 4})
					}
				case 2:
					if v, ok := imm32(b, 3); ok {
						steps = append(steps, epilogStep{op: epLeaRSP, reg: base, imm: int64(v), size: 7})
					}
				}
			}
		}
	}
	off := uint64(0)
	if len(steps) > 0 {
		off = uint64(steps[0].size)
	}
	for n := 0; n < maxEpilogSteps; n++ {
		c, ok := b(off)
		if !ok {
			return nil, false
		}
		rex := byte(0)
		if c&0xf0 == 0x40 {
			rex = c
			if c, ok = b(off + 1); !ok {
				return nil, false
			}
		}
		pre := uint64(0)
		if rex != 0 {
			pre = 1
		}
		switch {
		case c >= 0x58 && c <= 0x5f: // pop reg
			steps = append(steps, epilogStep{op: epPop, reg: c - 0x58 | (rex&1)<<3, size: int(pre + 1)})
			off += pre + 1
			continue
		case c == 0xc3 && rex == 0: // ret
			return append(steps, epilogStep{op: epReturn}), true
		case c == 0xc2 && rex == 0: // ret imm16
			lo, ok1 := b(off + 1)
			hi, ok2 := b(off + 2)
			if !ok1 || !ok2 {
				return nil, false
			}
			return append(steps, epilogStep{op: epReturn, imm: int64(lo) | int64(hi)<<8}), true
		case c == 0xf3 && rex == 0: // rep ret
			if r, ok := b(off + 1); ok && r == 0xc3 {
				return append(steps, epilogStep{op: epReturn}), true
			}
			return nil, false
		case (c == 0xe9 || c == 0xeb) && rex == 0: // jmp rel32, jmp rel8
			var rel int64
			size := uint64(2)
			if c == 0xe9 {
				v, ok := imm32(b, off+1)
				if !ok {
					return nil, false
				}
				rel, size = int64(v), 5
			} else {
				v, ok := b(off + 1)
				if !ok {
					return nil, false
				}
				rel = int64(int8(v))
			}
			target := pc + off + size + uint64(rel)
			if target >= begin && target < end {
				// A jump to code shared within the function: follow it.
				off = target - pc
				continue
			}
			return append(steps, epilogStep{op: epReturn}), true // a tail call
		case c == 0xff: // jmp [rip+disp32], jmp reg (tail calls)
			m, ok := b(off + 1)
			if !ok {
				return nil, false
			}
			if (rex == 0 && m == 0x25) || (rex&0x08 != 0 && m>>3&7 == 4 && m>>6 == 3) {
				return append(steps, epilogStep{op: epReturn}), true
			}
			return nil, false
		}
		return nil, false
	}
	return nil, false
}

func imm32(b func(uint64) (byte, bool), at uint64) (int32, bool) {
	var v uint32
	for i := uint64(0); i < 4; i++ {
		c, ok := b(at + i)
		if !ok {
			return 0, false
		}
		v |= uint32(c) << (8 * i)
	}
	return int32(v), true
}

// runEpilog emulates steps on regs (the nonvolatile registers and rsp)
// and pops the return address.
func runEpilog(steps []epilogStep, regs Registers, load func(uint64) (uint64, error)) (bool, error) {
	for _, s := range steps {
		switch s.op {
		case epAddRSP:
			regs["rsp"] += uint64(s.imm)
		case epLeaRSP:
			base, ok := regs[amd64Regs[s.reg]]
			if !ok {
				return false, nil // the frame register is unknown
			}
			regs["rsp"] = base + uint64(s.imm)
		case epPop:
			v, err := load(regs["rsp"])
			if err != nil {
				return false, err
			}
			if name := amd64Regs[s.reg]; name != "rsp" {
				regs[name] = v
			}
			regs["rsp"] += 8
		case epReturn:
			ret, err := load(regs["rsp"])
			if err != nil {
				return false, err
			}
			regs["rip"], regs["rsp"] = ret, regs["rsp"]+8+uint64(s.imm)
			return true, nil
		default:
			return false, fmt.Errorf("unwind: epilog step %d", s.op)
		}
	}
	return false, nil
}
